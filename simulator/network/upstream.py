"""A study's way to the worklist, for a whole replication at once: from what was drawn (`simulator.draws`)
to when each study is on the worklist and what the AI said of it.

Two forms, one record (`Upstream`):
- **drawn delays** (no station has a capacity): the drawn ingest delay (moved past ingest outages), then the
  AI answers of the services that were up when the study came, each waited for (a study whose AI failed or
  was out goes to the worklist unscored, never held back); with several AIs on a type, their answers
  combine by the rules of `findings.py` (`_combine`);
- **stations** (devices, uplinks, the archive's ingest or AI workers with a capacity): devices
  (acquisition) -> uplink and ingest (in the archive) -> AI (scored), each a pass over its studies in time
  order (`queues.py`): nothing upstream waits for the readers. A station draws only from its own streams,
  so adding a GPU worker or a scanner changes no arrival, truth, score or reading time.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..calendar import after_outages, windows
from ..distributions import sample
from ..draws import AiDraws, Draws
from ..scenario import Scenario
from ..streams import by_year, stream, years_of
from ..triage import Kind
from .ai_compute import score_times
from .devices import devices_of, examine, in_sending_order
from .figures import station_figures
from .transfer import to_archive

__all__ = ["Upstream", "to_worklist", "has_stations"]


@dataclass(frozen=True)
class Upstream:
    """When each study (in the draws' order) is ready for the readers, and what the AI said of it.

    `ai_scored` is False where the type has no AI, the service failed or was out (or, with workers, the
    result never came); there `ai_score` is NaN. `scored_at`: when the result came (NaN: never), given with
    stations only; `late_score` marks studies on the worklist before their result (None: none is)."""

    site: np.ndarray  # where the study was acquired: the drawn site, or the site its patient was sent to
    acquired_at: np.ndarray  # the exam's end (the arrival, without devices)
    at_archive: np.ndarray
    ready_at: np.ndarray
    ai_scored: np.ndarray  # bool
    ai_score: np.ndarray  # posterior probability, NaN where not scored
    ai_positive: np.ndarray  # bool, False where not scored
    ai_flags: np.ndarray | None = None  # with several AIs on a type: a bit per AI in the type's order that flagged it
    # Per study, from the stations with capacity (None without them; NaN where a study did not pass one): when
    # its exam started at a device, when a GPU worker started its inference, and its size.
    exam_start: np.ndarray | None = None
    inference_start: np.ndarray | None = None
    size_mb: np.ndarray | None = None
    scored_at: np.ndarray | None = None
    late_score: np.ndarray | None = None
    stations: dict | None = None  # per upstream station, its figures (a row of stations.parquet)
    station_detail: dict | None = None  # per upstream station, what it served job by job (`detail=True`)


def has_stations(scenario: Scenario) -> bool:
    """Whether any study's way to the worklist goes through stations with capacity (devices, links,
    ingest, AI workers) rather than drawn delays alone."""
    return (any(site.devices or site.uplink is not None for site in scenario.sites.values())
            or scenario.ingest.mbyte_per_s is not None
            or any(service.workers is not None for service in scenario.ai_services.values()))


def to_worklist(scenario: Scenario, draws: Draws, seed: int, replication: int, detail: bool = False) -> Upstream:
    """The way of every study to the worklist. `detail` keeps what each station served, job by job (for
    tests: a city year's would be most of a gigabyte)."""
    if has_stations(scenario):
        return _through_stations(scenario, draws, seed, replication, detail)
    return _by_drawn_delays(scenario, draws)


# Drawn delays ---------------------------------------------------------------------------------------------
def _by_drawn_delays(scenario: Scenario, draws: Draws) -> Upstream:
    arrived = draws.arrivals.arrived_at
    delivered = after_outages(arrived + draws.ingest_delay, windows(scenario, scenario.ingest.outages))
    ai = draws.ai
    up = _up_when(scenario, draws.ai, delivered)
    scored = np.where(ai.traced, ai.given, ~ai.failed & up)
    posterior = np.where(scored, ai.posterior, np.nan)
    positive = ai.positive & scored
    flags = waited = None
    if draws.more_ais:  # not with stations or traces (scenario.check_references)
        more = _combine(draws.more_ais, [_up_when(scenario, m, delivered) for m in draws.more_ais], first_bit=1)
        waited = np.maximum(np.where(scored, ai.latency, 0.0), more.latency)
        posterior = np.fmax(posterior, more.posterior)
        flags = positive.astype(np.int64) | more.flags
        scored, positive = scored | more.scored, positive | more.positive
    # A failed or absent AI does not hold the study back: it goes to the worklist unscored.
    ready = np.where(scored, delivered + (ai.latency if waited is None else waited), delivered)
    return Upstream(draws.arrivals.site, arrived, delivered, ready, scored, posterior, positive, flags)


def _up_when(scenario: Scenario, ai: AiDraws, came: np.ndarray) -> np.ndarray:
    """Whether each study's AI service was up when the study came to it (False where it has none)."""
    up = ai.service >= 0
    for code, service in enumerate(scenario.ai_services.values()):
        for a, b in windows(scenario, service.outages):
            up &= ~((ai.service == code) & (came >= a) & (came < b))
    return up


@dataclass(frozen=True)
class _Combined:
    scored: np.ndarray
    posterior: np.ndarray  # NaN where not scored
    positive: np.ndarray
    latency: np.ndarray  # of the slowest AI that answered: the study waits for every result it will get
    flags: np.ndarray  # int: a bit per AI in the type's order


def _combine(answers: tuple[AiDraws, ...], up: list[np.ndarray], first_bit: int) -> _Combined:
    """The answers of several AIs (`findings.py`'s rules): a study is positive when any AI that answered
    flagged it, its score the highest posterior any gave, and each flag kept as a bit."""
    n = up[0].shape[0]
    scored = np.zeros(n, dtype=bool)
    best = np.full(n, -np.inf)
    positive = np.zeros(n, dtype=bool)
    latency = np.zeros(n)
    flags = np.zeros(n, dtype=np.int64)
    for bit, (ai, reached) in enumerate(zip(answers, up), first_bit):
        ok = ~ai.failed & reached
        scored |= ok
        best = np.where(ok, np.maximum(best, ai.posterior), best)
        flag = ai.positive & ok
        positive |= flag
        flags |= flag.astype(np.int64) << bit
        latency = np.where(ok, np.maximum(latency, ai.latency), latency)
    return _Combined(scored, np.where(scored, best, np.nan), positive, latency, flags)


# Stations ----------------------------------------------------------------------------------------------
def _through_stations(scenario: Scenario, draws: Draws, seed: int, replication: int, detail: bool) -> Upstream:
    types = list(scenario.study_types.values())
    imaging = np.array([t.kind == Kind.PRIMARY.value for t in types])[draws.study_type]
    figures: dict[str, dict] = {}
    served_by: dict[str, dict] = {}

    def record(name: str, served: dict) -> None:
        """A station's figures at once, so that its job-by-job arrays go when the pass is done."""
        figures[name] = station_figures(scenario, name, served)
        if detail:
            served_by[name] = served

    site = draws.arrivals.site.copy()
    years = years_of(draws.arrivals.arrived_at)  # each study's draws' year (None: all in the first)
    acquired, exam_start = _acquire(scenario, seed, replication, draws, site, imaging, years, record)
    size, sized = _sizes(scenario, seed, replication, draws.study_type, years)
    at_archive = to_archive(scenario, acquired, site, size, draws.ingest_delay, imaging, record)
    scored, scored_at, ready, late, inference_start = _score(scenario, seed, replication, draws, at_archive, years,
                                                             record)
    return Upstream(site, acquired, at_archive, ready, scored, np.where(scored, draws.ai.posterior, np.nan),
                    draws.ai.positive & scored, None, exam_start, inference_start, np.where(sized, size, np.nan),
                    scored_at, late if late.any() else None, figures, served_by if detail else None)


def _acquire(scenario: Scenario, seed: int, replication: int, draws: Draws, site: np.ndarray, imaging: np.ndarray,
             years: np.ndarray | None, record: Callable[[str, dict], None]) -> tuple[np.ndarray, np.ndarray]:
    """When each study's exam ends and when it started (NaN: no device, or never examined), through the
    device groups in sending order; a patient sent to another site's devices takes that site's code in
    `site`."""
    types = list(scenario.study_types.values())
    modality_names = sorted({t.modality for t in types})
    modality = np.array([modality_names.index(t.modality) for t in types], dtype=np.int32)[draws.study_type]
    arrived, referral = draws.arrivals.arrived_at, draws.arrivals.referral
    acquired, started = arrived.copy(), np.full(arrived.shape[0], np.nan)
    site_code = {name: code for code, name in enumerate(scenario.sites)}
    groups = devices_of(scenario)
    # Each group's own patients, before any are sent elsewhere.
    members = {(s, m): np.flatnonzero(imaging & (site == site_code[s]) & (modality == modality_names.index(m)))
               for s, m in groups}
    sent: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]] = {key: [] for key in groups}
    for key in in_sending_order(groups):
        site_name, code = key
        group = groups[key]
        own = members[key]
        came = sent[key]  # (studies, when they were sent) from other sites' queues
        mine = np.concatenate([own, *[studies for studies, _ in came]]).astype(np.int64)
        at = np.concatenate([arrived[own], *[when for _, when in came]])
        name = f"{site_name}/{code}"
        exams = examine(scenario, name, group, seed, replication, at, referral[mine], mine.shape[0] - own.shape[0],
                        None if years is None else years[mine])
        acquired[mine] = exams["finish"]
        started[mine] = exams["start"]
        record(f"devices:{name}", exams)
        if group.overflow is not None:
            gone = ~np.isfinite(exams["start"]) & np.isfinite(at)
            moved = mine[gone]
            sent[(group.overflow.to, code)].append((moved, at[gone] + group.overflow.after.in_minutes))
            site[moved] = site_code[group.overflow.to]  # acquired there: its uplink, its readers
    return acquired, started


def _sizes(scenario: Scenario, seed: int, replication: int, type_code: np.ndarray,
           years: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Each imaging study's size in megabytes, by its modality (0 for work that is not images, or of a
    modality without a size), and where a size was drawn (from the streams of its `years`)."""
    size, sized = np.zeros(type_code.shape[0]), np.zeros(type_code.shape[0], dtype=bool)
    for t, (type_name, study_type) in enumerate(scenario.study_types.items()):
        dist = scenario.network.sizes_mb.get(study_type.modality)
        if dist is not None and study_type.kind == Kind.PRIMARY.value:
            mine = np.flatnonzero(type_code == t)
            size[mine] = by_year(None if years is None else years[mine], mine.shape[0], lambda year, n: sample(
                dist, stream(seed, replication, "size", type_name, year), n))
            sized[mine] = True
    return size, sized


def _score(scenario: Scenario, seed: int, replication: int, draws: Draws, at_archive: np.ndarray,
           years: np.ndarray | None, record: Callable[[str, dict], None]) -> tuple[np.ndarray, ...]:
    """Which studies the AI scores and when: a service without workers is waited for, as in the simple form;
    one with workers scores in its queue's order while the study is on the worklist, and a trace's result on
    such a service comes after the trace's latency while the study is on the worklist too (a log whose reads
    did not wait for the AI). (scored, scored_at, ready_at, late, inference_start)."""
    types = list(scenario.study_types.values())
    type_code, referral, ai = draws.study_type, draws.arrivals.referral, draws.ai
    n = type_code.shape[0]
    scored, late = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    scored_at, inference_start = np.full(n, np.nan), np.full(n, np.nan)
    ready = at_archive.copy()
    for name, service in scenario.ai_services.items():
        mine = np.flatnonzero(np.isin(type_code, [t for t, study_type in enumerate(types) if study_type.primary_ai == name]))
        reach = at_archive[mine]
        out = np.zeros(mine.shape[0], dtype=bool)
        for a, b in windows(scenario, service.outages):
            out |= (reach >= a) & (reach < b)
        traced = ai.traced[mine]
        eligible = np.where(traced, ai.given[mine], ~ai.failed[mine] & ~out & np.isfinite(reach))
        waited = mine[eligible & (service.workers is None)]
        scored[waited] = True
        scored_at[waited] = ready[waited] = at_archive[waited] + ai.latency[waited]
        if service.workers is not None:
            given = mine[eligible & traced]
            scored[given] = True
            scored_at[given] = at_archive[given] + ai.latency[given]
            late[given] = ai.latency[given] > 0
            computed = mine[eligible & ~traced]
            when, began = score_times(scenario, name, service, seed, replication, at_archive[computed],
                                      referral[computed], ai.latency[computed], record,
                                      None if years is None else years[computed])
            inference_start[computed] = began
            ok = np.isfinite(when)
            scored[computed[ok]] = True
            scored_at[computed[ok]] = when[ok]
            late[computed[ok]] = when[ok] > at_archive[computed[ok]]
    return scored, scored_at, ready, late, inference_start
