"""Overload as a verdict: when demand exceeds a pool's capacity, turnaround figures are not steady-state
and must not be read as such.

Both signs are read from a pool's waiting count (items on the worklist in the lanes it reads, every 15
minutes) and its readers' duties, in every replication (docs/metrics.md):
- **the backlog grows**: the lowest waiting count of the run's last week (of its last quarter, for runs
  shorter than two weeks) exceeds the lowest of its first week (first half) by more than
  max(10 items, 5% of a day's arrivals to the pool). A stable pool's worklist empties, or nearly, at some
  point every day or week; an overloaded one's floor rises day by day. "From day Y" is the day after the
  last day (warm-up included) whose floor was still at the run's lowest.
- **a shift is saturated**: in every instance of a shift from some day to the horizon (three at least;
  instances cut short by the start or the horizon are not judged), its readers were busy at least 95% of
  the time they were present *and* the pool's waiting count rose during the instance by more than
  max(5 items, 2% of the work that arrived for the pool meanwhile): the shift cannot keep up, and the work
  it leaves waits for the next one.
Runs of under two observed days are too short to tell, and get no verdict.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from . import mapped
from .scenario import AUDIT, SECOND_OPINION, Scenario

__all__ = ["Overload", "overloads", "seen_in", "combine", "Seen", "describe", "GROWING", "SATURATED"]

GROWING, SATURATED = "backlog grows", "shift saturated"
_STEP = 15.0  # minutes between samples of the waiting count
_BUSY = 0.95  # utilisation of a saturated shift instance
_RUN = 3  # instances of a shift that must be saturated, up to the horizon


@dataclass(frozen=True)
class Overload:
    pool: str
    reason: str  # GROWING or SATURATED
    from_day: int  # 1 = the scenario's first day
    replications: int  # in how many replications it was seen
    of: int  # of how many
    shift: str | None = None  # the saturated shift

    def as_dict(self) -> dict:
        return asdict(self)


def describe(o: Overload | dict) -> str:
    """One sentence for people."""
    o = o if isinstance(o, Overload) else Overload(**o)
    seen = "" if o.replications == o.of else f" (in {o.replications} of {o.of} replications)"
    if o.reason == GROWING:
        return (f"demand exceeds capacity in pool {o.pool} from day {o.from_day}: its backlog grows to the "
                f"horizon{seen}; turnaround figures are not steady-state")
    return (f"pool {o.pool}, shift {o.shift}: cannot keep up from day {o.from_day} (readers busy all the time "
            f"while work piles up){seen}; the work it leaves waits for the next shift")


class _Waiting:
    """One pool's waiting count in one replication, sampled every `_STEP` minutes from the start."""

    def __init__(self, scenario: Scenario, ready: np.ndarray, start: np.ndarray) -> None:
        """`ready`, `start`: the pool's items' (its own copies, sorted here in place)."""
        self.times = np.arange(0.0, scenario.horizon_minutes + 1e-9, _STEP)
        ready.sort()
        self.ready = ready
        start[np.isnan(start)] = math.inf
        start.sort()
        self.count = np.searchsorted(self.ready, self.times, "right") - np.searchsorted(start, self.times, "right")

    def at(self, minute: float) -> int:
        return int(self.count[min(int(round(minute / _STEP)), self.count.size - 1)])

    def arrivals(self, begin: float, end: float) -> int:
        return int(np.searchsorted(self.ready, end, "right") - np.searchsorted(self.ready, begin, "right"))


Seen = dict[tuple[str, str, "str | None"], int]  # (pool, reason, shift) -> the day it began, in one replication


def overloads(studies: pa.Table, duties: pa.Table, scenario: Scenario, replications: Iterable[int]) -> list[Overload]:
    """Every overload seen in any replication, per pool (and shift), with the earliest day it began."""
    reps = list(replications)
    return combine(scenario, [seen_in(studies, duties, scenario, r) for r in reps], len(reps))


def seen_in(studies: pa.Table, duties: pa.Table, scenario: Scenario, replication: int) -> Seen:
    """The overloads of one replication (of the tables' rows, which may hold others), each with its first day."""
    if scenario.horizon_days - scenario.warmup_days < 2.0:
        return {}
    seen: Seen = {}
    lanes = _lane_codes(studies, scenario)
    ready, start = _floats(studies, "ready_at"), _floats(studies, "read_start")
    names = _lane_names(scenario)
    shifts = _Duties(duties)
    rows = mapped.column_of(studies, ["replication"], lambda part: part.column("replication").to_numpy() == replication)
    rows &= ~np.isnan(ready)
    mapped.let_go()
    for pool_name, pool in scenario.pools.items():
        # Whether each lane is the pool's, looked up by code (a lane of -1, none, takes the last: False).
        reads = np.zeros(len(names) + 1, dtype=bool)
        reads[[names.index(lane) for lane in scenario.lanes_of(pool)]] = True
        mine = rows & reads[lanes]
        waiting = _Waiting(scenario, ready[mine], start[mine])
        day = _growing(scenario, waiting)
        if day is not None:
            seen[(pool_name, GROWING, None)] = day
        for shift, day in _saturated(scenario, shifts, replication, pool_name, waiting):
            seen[(pool_name, SATURATED, shift)] = day
        del waiting
        mapped.let_go()
    return seen


def _floats(studies: pa.Table, name: str) -> np.ndarray:
    """A column of times as floats (NaN where null): for a large replication mapped, a part at a time."""
    return mapped.column_of(studies, [name], lambda part: part.column(name).to_numpy().astype(float, copy=False))


def combine(scenario: Scenario, seen: Iterable[Seen], replications: int) -> list[Overload]:
    """The verdicts of a run from what each of its `replications` replications saw."""
    if scenario.horizon_days - scenario.warmup_days < 2.0:
        return []
    found: dict[tuple[str, str, str | None], list[int]] = {}
    for one in seen:
        for key, day in one.items():
            found.setdefault(key, []).append(day)
    return sorted((Overload(pool, reason, min(days), len(days), replications, shift)
                   for (pool, reason, shift), days in found.items()), key=lambda o: (o.from_day, o.pool))


def _lane_names(scenario: Scenario) -> list[str]:
    return [*scenario.study_types, SECOND_OPINION, AUDIT]


def _lane_codes(studies: pa.Table, scenario: Scenario) -> np.ndarray:
    """Per row, the index of its lane in `_lane_names`: its study type for image reads and consultations,
    else its kind's lane (second opinions, audits); a large replication's a part at a time."""
    return mapped.column_of(studies, ["kind", "study_type"], lambda part: _part_lanes(part, scenario), np.int16)


def _part_lanes(studies: pa.Table, scenario: Scenario) -> np.ndarray:
    index = {name: i for i, name in enumerate(_lane_names(scenario))}
    kinds, kind_names = _dictionary(studies.column("kind"))
    types, type_names = _dictionary(studies.column("study_type"))
    # Small codes: a city year has millions of rows, and the lanes are a few dozen.
    kind_lane = np.array([index.get(k, -1) if k in (SECOND_OPINION, AUDIT) else -1 for k in kind_names] or [-1],
                         dtype=np.int16)
    type_lane = np.array([index.get(t, -1) for t in type_names] or [-1], dtype=np.int16)
    if not kinds.size:
        return kinds
    by_kind = kind_lane[kinds]
    return np.where(by_kind >= 0, by_kind, type_lane[types])


def _dictionary(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    column = column.unify_dictionaries() if pa.types.is_dictionary(column.type) else column.dictionary_encode()
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in column.chunks]) \
        if column.num_chunks else np.empty(0, dtype=np.int64)
    values = column.chunk(0).dictionary.to_pylist() if column.num_chunks else []
    return codes, values


def _growing(scenario: Scenario, waiting: _Waiting) -> int | None:
    """The day a pool's backlog began to grow for good, or None."""
    horizon, warmup = scenario.horizon_minutes, scenario.warmup_minutes
    day = (waiting.times // 1440.0).astype(np.int64)
    observed = np.unique(day[waiting.times >= warmup])
    if observed.size < 2 or not waiting.ready.size:
        return None
    window = 7 if observed.size >= 14 else None
    first = observed[:window] if window else observed[: max(1, observed.size // 2)]
    last = observed[-window:] if window else observed[-max(1, observed.size // 4):]
    floors = np.minimum.reduceat(waiting.count, np.flatnonzero(np.r_[True, np.diff(day) != 0]))
    per_day = waiting.arrivals(warmup, horizon) / max((horizon - warmup) / 1440.0, 1e-9)
    threshold = max(10.0, 0.05 * per_day)
    if floors[last].min() - floors[first].min() <= threshold:
        return None
    # It began after the last day, warm-up included, whose floor was still at the run's lowest.
    low = np.flatnonzero(floors[: last[0]] <= floors.min() + threshold)
    return min((int(low.max()) + 1 if low.size else 0) + 1, int(observed[-1]) + 1)


class _Duties:
    """The readers' duties as arrays, converted once."""

    def __init__(self, duties: pa.Table) -> None:
        self.rows = duties.num_rows
        if not self.rows:
            return
        self.replication = duties.column("replication").to_numpy()
        self.pool = np.asarray(duties.column("pool").to_pylist(), dtype=object)
        self.shift = np.asarray(duties.column("shift").to_pylist(), dtype=object)
        self.begin, self.end = duties.column("start").to_numpy(), duties.column("end").to_numpy()
        self.present = duties.column("present").to_numpy(zero_copy_only=False)
        self.busy = duties.column("busy_minutes").to_numpy()


def _saturated(scenario: Scenario, duties: _Duties, replication: int, pool: str,
               waiting: _Waiting) -> list[tuple[str, int]]:
    """(shift, first day) of each shift of `pool` that cannot keep up, up to the horizon."""
    if not duties.rows:
        return []
    warmup, horizon = scenario.warmup_minutes, scenario.horizon_minutes
    mine = (duties.pool == pool) & (duties.replication == replication)
    shift, begin, end = duties.shift[mine], duties.begin[mine], duties.end[mine]
    present, busy = duties.present[mine], duties.busy[mine]
    found = []
    for label in sorted(set(shift.tolist())):
        rows = shift == label
        verdicts = []
        for b in sorted(set(begin[rows].tolist())):
            these = rows & (begin == b)
            e = float(end[these][0])
            lo, hi = max(b, warmup), min(e, horizon)
            if hi - lo < 0.5 * (e - b):  # cut short by the warm-up or the horizon: not judged
                continue
            available = (hi - lo) * present[these].sum()
            grew = waiting.at(hi) - waiting.at(lo)
            verdicts.append((b, available > 0 and busy[these].sum() >= _BUSY * available and
                             grew > max(5.0, 0.02 * waiting.arrivals(lo, hi))))
        run = 0
        for _, saturated in reversed(verdicts):
            if not saturated:
                break
            run += 1
        if run >= _RUN:
            found.append((label, int(max(verdicts[len(verdicts) - run][0], 0.0) // 1440.0) + 1))
    return found
