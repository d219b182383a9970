"""Who arrives, when and where: a study type's walk-ins by hour and weekday, its booked patients, each
study's site, clinical order priority and the patient's age (or what a trace says of them)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..calendar import span_windows
from ..distributions import sample
from ..scenario import Booking, Scenario, StudyType
from ..trace_arrivals import TraceArrivals

__all__ = ["Arrivals", "draw_arrivals", "arrival_times", "booked"]

Streams = Callable[[str], np.random.Generator]  # a study type's random stream by purpose


@dataclass(frozen=True)
class Arrivals:
    """A study type's studies in the order drawn: walk-ins by time, then the booked patients who came."""

    arrived_at: np.ndarray
    site: np.ndarray  # int index into the scenario's sites
    referral: np.ndarray  # int index into REFERRALS
    patient_age: np.ndarray  # years, NaN where the type draws no age

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


def booked(scenario: Scenario, bookings: Sequence[Booking], rng: np.random.Generator,
           within: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The booked patients who come: their slot times within the horizon (or from `within`'s first time to
    before its second) and their sites' codes."""
    lo, hi = (0.0, scenario.horizon_minutes) if within is None else within
    times, sites = [], []
    codes = {name: code for code, name in enumerate(scenario.sites)}
    for booking in bookings:
        slots = np.concatenate([np.arange(a, b, booking.every_minutes) for span in booking.slots
                                for a, b in span_windows(scenario, span)] or [np.empty(0)])
        slots = np.unique(slots[(slots >= lo) & (slots < hi)])
        come = slots[rng.random(slots.shape[0]) >= booking.no_show]
        times.append(come)
        sites.append(np.full(come.shape[0], codes[booking.site]))
    if not times:
        return np.empty(0), np.empty(0, dtype=np.int64)
    return np.concatenate(times), np.concatenate(sites)


def draw_arrivals(scenario: Scenario, study_type: StudyType, bins: tuple, rng: Streams,
                  trace: TraceArrivals | None, within: tuple[float, float] | None = None) -> Arrivals:
    """The type's arrivals (drawn in `bins`, or the trace's), sites, order priorities and ages, booked
    patients `within` the times given (None: the horizon); where a trace gives a site, an order priority or
    an age, it stands."""
    arrived = arrival_times(study_type.arrivals.hourly_rates(), bins, rng("arrivals")) if trace is None \
        else trace.arrived_at
    n = arrived.shape[0]
    site_names = tuple(scenario.sites)
    shares = np.array([(study_type.sites or {}).get(s, 0.0) if study_type.sites is not None
                       else scenario.sites[s].weight for s in site_names])
    site = rng("sites").choice(len(site_names), n, p=shares / shares.sum())
    booked_at, booked_site = booked(scenario, study_type.bookings, rng("bookings"), within)
    if booked_at.shape[0]:  # after the walk-ins: their draws stay as they were
        arrived, site = np.concatenate([arrived, booked_at]), np.concatenate([site, booked_site])
        n = arrived.shape[0]
    u = rng("referral").random(n)
    stat, urgent = study_type.referral.stat, study_type.referral.urgent
    referral = np.where(u < stat, 0, np.where(u < stat + urgent, 1, 2))
    if booked_at.shape[0]:
        referral[n - booked_at.shape[0]:] = 2  # a booked exam is elective: routine
    age = np.full(n, np.nan) if study_type.patient_age is None else sample(study_type.patient_age, rng("age"), n)
    if trace is not None:
        site = np.where(trace.site >= 0, trace.site, site)
        referral = np.where(trace.referral >= 0, trace.referral, referral)
        age = np.where(np.isnan(trace.patient_age), age, trace.patient_age)
    return Arrivals(arrived, site.astype(np.int32), referral.astype(np.int8), age)
