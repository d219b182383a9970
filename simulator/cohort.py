"""The studies of one replication, drawn up front in numpy blocks: arrivals, truth, AI, reading times.

Everything here is independent of the triage policy and the staffing, which is what makes comparisons
between policies paired: the model only decides who reads what, and when.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .ai import flag_of_posterior, operating_point, score
from .findings import condition_names, draw_conditions, reading_times, score_by_ais, targeted_share, truth_for
from .calendar import hour_bins, span_windows
from .distributions import sample
from .scenario import AIService, Booking, Scenario, Window
from .streams import stream
from .trace_arrivals import trace_arrivals
from .triage import REFERRALS, Kind

__all__ = ["Cohort", "REFERRALS", "draw_cohort", "arrival_times", "after_outages", "windows", "has_stations"]



@dataclass(frozen=True)
class Cohort:
    """Columnar attributes of every study (and consultation) that arrives, sorted by arrival time.

    `ai_scored` is False where the study type has no AI, the service failed or was out; there `ai_score`
    is NaN. `second_opinion` says whether the primary report, once signed, is sent for a second opinion.
    """

    type_names: tuple[str, ...]
    site_names: tuple[str, ...]
    study_type: np.ndarray  # int index into type_names
    site: np.ndarray  # int index into site_names
    referral: np.ndarray  # int index into REFERRALS
    diseased: np.ndarray  # bool: the study has a condition
    ai_scored: np.ndarray  # bool
    ai_score: np.ndarray  # float, NaN when not scored
    ai_positive: np.ndarray  # bool, meaningful where scored
    arrived_at: np.ndarray
    ready_at: np.ndarray
    read_minutes: np.ndarray
    second_opinion: np.ndarray  # bool
    second_read_minutes: np.ndarray
    patient_age: np.ndarray  # years, NaN where the study type draws no age
    # Only where the scenario asks for them (else None): the second read of a double-read study type, and
    # the audit of a study type in the autonomous-normal lane (NaN for other types).
    double_read_minutes: np.ndarray | None = None
    audit_minutes: np.ndarray | None = None
    # The way to the worklist (simulator/network/upstream.py): the exam's end, the arrival in the archive,
    # the AI result (NaN: never; None without stations, where a result is what makes a study ready).
    # Without devices `acquired_at` is `arrived_at`. `late_score`: with an AI compute service the study is
    # on the worklist before its result (None: no study is).
    acquired_at: np.ndarray | None = None
    at_archive: np.ndarray | None = None
    scored_at: np.ndarray | None = None
    late_score: np.ndarray | None = None
    stations: dict | None = None  # per upstream station, its figures (a row of stations.parquet)
    # Where the scenario has conditions: each study's, an index into `condition_names` (-1: none).
    condition: np.ndarray | None = None
    condition_names: tuple[str, ...] = ()
    # Where a study type has several AIs: which of them flagged it, a bit per AI in the type's order.
    ai_flags: np.ndarray | None = None
    station_detail: dict | None = None  # per upstream station, what it served job by job (`detail=True`)

    def __len__(self) -> int:
        return int(self.arrived_at.shape[0])


def arrival_times(rates: Sequence[Sequence[float]], bins: tuple, rng: np.random.Generator) -> np.ndarray:
    """A non-homogeneous Poisson process with piecewise-constant hourly rates (`rates[weekday][hour]`)."""
    starts, lengths, weekday, hour = bins
    per_hour = np.asarray(rates, dtype=float)[weekday, hour]
    counts = rng.poisson(per_hour * lengths / 60.0)
    times = np.repeat(starts, counts) + rng.random(int(counts.sum())) * np.repeat(lengths, counts)
    times.sort()
    return times


def after_outages(times: np.ndarray, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    """Times moved to the end of any outage window [a, b) they fall in (windows may chain); the input itself
    when there are no windows."""
    if not spans:
        return times
    times = times.copy()
    for a, b in sorted(spans):
        inside = (times >= a) & (times < b)
        times[inside] = b
    return times


def windows(scenario: Scenario, spans: list[Window]) -> list[tuple[float, float]]:
    """Calendar windows as (start, end) minutes since the scenario start."""
    return [(scenario.minutes_at(w.start), scenario.minutes_at(w.start) + w.hours * 60.0) for w in spans]


def draw_cohort(scenario: Scenario, seed: int, replication: int, detail: bool = False) -> Cohort:
    """Every study of one replication. Pure function of (scenario, seed, replication). `detail` keeps what
    each upstream station served, job by job (`Cohort.station_detail`)."""
    bins = hour_bins(scenario)
    site_names = tuple(scenario.sites)
    ingest_outages = windows(scenario, scenario.ingest.outages)
    second = scenario.second_opinions
    autonomous = scenario.routing.autonomous_normal
    any_double = any(t.double_reading is not None for t in scenario.study_types.values())
    traced = trace_arrivals(scenario) if scenario.arrivals is not None else {}
    stations = has_stations(scenario)
    conditions = condition_names(scenario)
    several = any(len(t.ais) > 1 for t in scenario.study_types.values())
    parts: list[dict[str, np.ndarray]] = []
    for t, (name, study_type) in enumerate(scenario.study_types.items()):
        def rng(purpose: str) -> np.random.Generator:
            return stream(seed, replication, purpose, name)

        trace = traced.get(name)
        arrived = arrival_times(study_type.arrivals.hourly_rates(), bins, rng("arrivals")) if trace is None \
            else trace.arrived_at
        n = arrived.shape[0]
        shares = np.array([(study_type.sites or {}).get(s, 0.0) if study_type.sites is not None
                           else scenario.sites[s].weight for s in site_names])
        site = rng("sites").choice(len(site_names), n, p=shares / shares.sum())
        booked_at, booked_site = booked(scenario, study_type.bookings, rng("bookings"))
        if booked_at.shape[0]:  # after the walk-ins: their draws stay as they were
            arrived, site = np.concatenate([arrived, booked_at]), np.concatenate([site, booked_site])
            n = arrived.shape[0]
        u = rng("referral").random(n)
        referral = np.where(u < study_type.referral.stat, 0, np.where(u < study_type.referral.stat + study_type.referral.urgent, 1, 2))
        if booked_at.shape[0]:
            referral[n - booked_at.shape[0]:] = 2  # a booked exam is elective: routine
        u = rng("truth").random(n)
        diseased = u < study_type.prevalence
        found = draw_conditions(study_type, u) if study_type.conditions else np.full(n, -1)
        if trace is not None:
            site = np.where(trace.site >= 0, trace.site, site)
            referral = np.where(trace.referral >= 0, trace.referral, referral)
            # A traced AI score is the posterior probability of disease: the truth is drawn from it.
            diseased = np.where(np.isnan(trace.ai_score), diseased, u < np.nan_to_num(trace.ai_score))
            diseased = np.where(trace.diseased >= 0, trace.diseased == 1, diseased)
        delay = sample(scenario.ingest.delay_minutes, rng("ingest"), n)
        delivered = after_outages(arrived + delay, ingest_outages)
        failed = latency = raw_posterior = raw_positive = np.zeros(0)
        scored = np.zeros(n, dtype=bool)
        posterior = np.full(n, np.nan)
        positive = np.zeros(n, dtype=bool)
        ready = delivered
        flags = np.zeros(n, dtype=np.int64)

        def out_of(service: AIService) -> np.ndarray:
            """The studies that reach the service while it is out."""
            out = np.zeros(n, dtype=bool)
            for a, b in windows(scenario, service.outages):
                out |= (delivered >= a) & (delivered < b)
            return out

        if study_type.ais:
            service = scenario.ai_services[study_type.ais[0]]
            ai_rng = rng("ai")
            failed = ai_rng.random(n) < service.failure_rate
            posterior, positive = score(truth_for(study_type, service, diseased, found), operating_point(service),
                                        targeted_share(study_type, service), ai_rng)
            latency = sample(service.latency_minutes, ai_rng, n)
            scored = ~failed & ~out_of(service)
            given = np.zeros(n, dtype=bool) if trace is None else ~np.isnan(trace.ai_score)
            if given.any():  # the trace holds this type's AI results: a study without one was not scored
                scored = given
                positive = np.where(given, np.where(trace.ai_positive_given, trace.ai_positive, flag_of_posterior(
                    trace.ai_score, operating_point(service), study_type.prevalence)), positive)
                posterior = np.where(given, trace.ai_score, posterior)
            raw_posterior, raw_positive = posterior, positive
            posterior = np.where(scored, posterior, np.nan)
            positive = positive & scored
            flags = positive.astype(np.int64)
            waited = latency
            if len(study_type.ais) > 1:  # not with stations or traces (scenario.check_references)
                more = score_by_ais(scenario, study_type, study_type.ais[1:], 1, diseased, found, out_of,
                                    lambda other: stream(seed, replication, "ai", f"{name}/{other}"))
                waited = np.maximum(np.where(scored, latency, 0.0), more.latency)
                posterior = np.fmax(posterior, more.posterior)
                scored, positive, flags = scored | more.scored, positive | more.positive, flags | more.flags
            # A failed or absent AI does not hold the study back: it goes to the worklist unscored.
            ready = np.where(scored, delivered + waited, delivered)
        read = sample(study_type.read_minutes, rng("reading"), n)
        if study_type.conditions:
            read = reading_times(study_type, read, found,
                                 lambda condition: stream(seed, replication, "reading", f"{name}/{condition}"))
        if trace is not None:
            read = np.where(np.isnan(trace.read_minutes), read, trace.read_minutes)
        so_rng = rng("second_opinion")
        eligible = second is not None and study_type.kind == Kind.PRIMARY and (second.of == "*" or name in second.of)
        so_u = so_rng.random(n)
        so_minutes = sample(second.read_minutes, so_rng, n) if second is not None else np.zeros(n)
        age = np.full(n, np.nan) if study_type.patient_age is None else \
            sample(study_type.patient_age, rng("age"), n)
        if trace is not None:
            age = np.where(np.isnan(trace.patient_age), age, trace.patient_age)
        extra = {}
        if any_double:
            dual = study_type.double_reading
            extra["double_read_minutes"] = np.full(n, np.nan) if dual is None else \
                sample(dual.read_minutes or study_type.read_minutes, rng("double_reading"), n)
        if autonomous is not None:
            extra["audit_minutes"] = np.full(n, np.nan) if name not in autonomous.study_types else \
                sample(autonomous.read_minutes or study_type.read_minutes, rng("audit"), n)
        if conditions:
            codes = np.array([conditions.index(c) for c in study_type.conditions] + [-1], dtype=np.int16)
            extra["condition"] = codes[found]  # -1 indexes the appended "none"
        if several:
            extra["ai_flags"] = flags
        if stations:  # what the upstream stations need to decide scoring and readiness again
            has_ai = bool(study_type.ais)
            extra.update(delay=delay, ai_failed=failed if has_ai else np.zeros(n, dtype=bool),
                         ai_latency=latency if has_ai else np.zeros(n),
                         raw_score=raw_posterior if has_ai else np.full(n, np.nan),
                         raw_positive=raw_positive if has_ai else np.zeros(n, dtype=bool),
                         ai_given=given if has_ai else np.zeros(n, dtype=bool),
                         ai_traced=np.full(n, has_ai and bool(given.any())))
        else:
            extra.update(at_archive=delivered)
        parts.append(dict(
            **extra,
            study_type=np.full(n, t, dtype=np.int32), site=site.astype(np.int32), referral=referral.astype(np.int8),
            diseased=diseased, ai_scored=scored, ai_score=posterior, ai_positive=positive,
            arrived_at=arrived, ready_at=ready, read_minutes=read,
            second_opinion=(so_u < second.fraction) if eligible else np.zeros(n, dtype=bool),
            second_read_minutes=so_minutes, patient_age=age,
        ))
    order = np.argsort(np.concatenate([p["arrived_at"] for p in parts]), kind="stable")
    columns = {}
    for key in list(parts[0]):
        # One column at a time, dropping the per-type pieces as it goes: a city year holds ~7 M studies.
        columns[key] = np.concatenate([p.pop(key) for p in parts])[order]
    if stations:
        from .network.upstream import through_stations

        through_stations(scenario, seed, replication, columns, detail)
    else:
        columns["acquired_at"] = columns["arrived_at"]  # the same array: no devices, nothing between
    return Cohort(type_names=tuple(scenario.study_types), site_names=site_names, condition_names=conditions,
                  **columns)


def booked(scenario: Scenario, bookings: Sequence[Booking], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The booked patients who come: their slot times within the horizon and their sites' codes."""
    times, sites = [], []
    codes = {name: code for code, name in enumerate(scenario.sites)}
    for booking in bookings:
        slots = np.concatenate([np.arange(a, b, booking.every_minutes) for span in booking.slots
                                for a, b in span_windows(scenario, span)] or [np.empty(0)])
        slots = np.unique(slots[(slots >= 0) & (slots < scenario.horizon_minutes)])
        come = slots[rng.random(slots.shape[0]) >= booking.no_show]
        times.append(come)
        sites.append(np.full(come.shape[0], codes[booking.site]))
    if not times:
        return np.empty(0), np.empty(0, dtype=np.int64)
    return np.concatenate(times), np.concatenate(sites)


def has_stations(scenario: Scenario) -> bool:
    """Whether any study's way to the worklist goes through stations with capacity (devices, links,
    ingest, AI workers) rather than drawn delays alone."""
    return (any(site.devices or site.uplink is not None for site in scenario.sites.values())
            or scenario.ingest.mbyte_per_s is not None
            or any(service.workers is not None for service in scenario.ai_services.values()))
