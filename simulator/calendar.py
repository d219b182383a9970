"""Calendar arithmetic: hourly arrival bins and shift instances in minutes since the scenario start."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from .scenario import DAYS, Scenario, Span, Window

__all__ = ["hour_bins", "Duty", "duties", "day_span", "shift_labels", "span_windows", "windows", "after_outages"]


def hour_bins(scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hour-long bins from the start to the horizon: (start minute, length, weekday 0=Mon, hour of day).

    The weekday and hour are those of the calendar time at the bin's start.
    """
    horizon = scenario.horizon_minutes
    n = math.ceil(horizon / 60.0)
    starts = np.arange(n, dtype=float) * 60.0
    lengths = np.minimum(60.0, horizon - starts)
    first = scenario.start
    offset_hours = first.weekday() * 24 + first.hour  # hours since Monday 00:00 of the start's week
    hours_since_monday = (offset_hours + np.arange(n)) % (7 * 24)
    return starts, lengths, hours_since_monday // 24, hours_since_monday % 24


@dataclass(frozen=True, slots=True)
class Duty:
    """One instance of a shift: `staff` readers of `pool` on duty from `start` to `end` (minutes)."""

    pool: str
    shift: int  # index in the pool's shifts
    label: str
    start: float
    end: float
    staff: int


def day_span(days: list[str] | tuple[str, ...]) -> str:
    """Weekdays in words, as rosters say them: 'every day', 'mon-fri', 'sat-sun', else 'mon,wed'."""
    ordered = sorted(days, key=DAYS.index)
    if ordered == list(DAYS):
        return "every day"
    if ordered == list(DAYS[:5]):
        return "mon-fri"
    if ordered == list(DAYS[5:]):
        return "sat-sun"
    return ",".join(ordered)


def shift_labels(pool) -> list[str]:
    """Each shift entry's label, made unique within its pool ('13:00-+6h', '13:00-+6h#3'): reader names
    are built from them and must not collide (and Parquet dictionaries with repeated values are written
    differently from run to run)."""
    labels = [shift.label for shift in pool.shifts]
    return [label if labels.count(label) == 1 else f"{label}#{i + 1}" for i, label in enumerate(labels)]


def duties(scenario: Scenario, horizon_days: float | None = None) -> list[Duty]:
    """Every shift instance that overlaps the horizon (the scenario's, or `horizon_days`), sorted by start.

    Instances of one shift that follow each other without a gap (00:00-24:00 every day) are one duty: the
    same readers carry on, as a 24/7 desk does, rather than handing over at midnight.
    """
    found: list[Duty] = []
    for pool_name, pool in scenario.pools.items():
        labels = shift_labels(pool)
        for index, shift in enumerate(pool.shifts):
            found += [Duty(pool_name, index, labels[index], begin, end, shift.staff)
                      for begin, end in span_windows(scenario, shift, horizon_days)]
    found.sort(key=lambda d: (d.start, d.pool, d.shift))
    return found


def span_windows(scenario: Scenario, span: Span, horizon_days: float | None = None) -> list[tuple[float, float]]:
    """The windows (minutes) of a daily span (a shift, opening hours) that overlap the horizon (the
    scenario's, or `horizon_days`), instances that follow each other without a gap joined into one."""
    horizon_days = scenario.horizon_days if horizon_days is None else horizon_days
    horizon = horizon_days * 1440.0
    day0 = dt.datetime.combine(scenario.start.date(), dt.time())
    base = scenario.minutes_at(day0)  # <= 0: minutes from the start to midnight of its day
    days = {DAYS.index(d) for d in span.days}
    dates = set(span.dates or ())
    length = span.length_minutes
    found: list[tuple[float, float]] = []
    current: list[float] | None = None
    for day in range(-3, math.ceil(horizon_days) + 2):
        if dates:
            if (day0 + dt.timedelta(days=day)).date() not in dates:
                continue
        elif (scenario.start.weekday() + day) % 7 not in days:
            continue
        begin = base + day * 1440.0 + span.start_minute
        end = begin + length
        if end <= 0 or begin >= horizon:
            continue
        if current is not None and current[1] == begin:
            current[1] = end
            continue
        if current is not None:
            found.append((current[0], current[1]))
        current = [begin, end]
    if current is not None:
        found.append((current[0], current[1]))
    return found


def windows(scenario: Scenario, spans: list[Window]) -> list[tuple[float, float]]:
    """Calendar windows (outages, slowdowns) as (start, end) minutes since the scenario start."""
    return [(scenario.minutes_at(w.start), scenario.minutes_at(w.start) + w.hours * 60.0) for w in spans]


def after_outages(times: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """Times moved to the end of any outage window [a, b) they fall in (windows may chain); the input itself
    when there are no windows."""
    if not spans:
        return times
    times = times.copy()
    for a, b in sorted(spans):
        inside = (times >= a) & (times < b)
        times[inside] = b
    return times
