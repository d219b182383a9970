"""Overload as a verdict: when demand exceeds a pool's capacity, turnaround figures are not steady-state
and must not be read as such.

Two signs, looked for in every replication (docs/metrics.md):
- **the backlog grows**: the work waiting for a pool (items on the worklist in the lanes it reads) does
  not come back down. The lowest waiting count of the run's last week (of its last quarter, for runs
  shorter than two weeks) exceeds the lowest of its first week (first half) by more than
  max(10 items, 5% of a day's arrivals to the pool). A stable pool's worklist empties, or nearly, at some
  point every day or week; an overloaded one's floor rises day by day. "From day Y" is the day after the
  last day (warm-up included) whose floor was still at the run's lowest.
- **a shift is saturated**: every instance of a shift, from some day to the horizon (three instances at
  least), kept its readers busy all the time they were present (utilisation >= 99.5%): the work such a
  shift leaves waits for the next one.
Runs of under two observed days are too short to tell, and get no verdict.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from .scenario import AUDIT, SECOND_OPINION, Scenario

__all__ = ["Overload", "overloads", "describe", "GROWING", "SATURATED"]

GROWING, SATURATED = "backlog grows", "shift saturated"
_STEP = 15.0  # minutes between samples of the waiting count
_SATURATED = 0.995
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
    return (f"pool {o.pool}, shift {o.shift}: readers busy all the time from day {o.from_day}{seen}; "
            "the work it leaves waits for the next shift")


def overloads(studies: pa.Table, duties: pa.Table, scenario: Scenario, replications: Iterable[int]) -> list[Overload]:
    """Every overload seen in any replication, per pool (and shift), with the earliest day it began."""
    reps = list(replications)
    if scenario.horizon_days - scenario.warmup_days < 2.0:
        return []
    found: dict[tuple[str, str, str | None], list[int]] = {}
    lanes = _lane_codes(studies, scenario)
    replication = studies.column("replication").to_numpy()
    ready = studies.column("ready_at").to_numpy().astype(float, copy=False)
    start = studies.column("read_start").to_numpy().astype(float, copy=False)
    for r in reps:
        rows = replication == r
        for pool, day in _growing(scenario, lanes[rows], ready[rows], start[rows]):
            found.setdefault((pool, GROWING, None), []).append(day)
    for r, pool, shift, day in _saturated(duties, scenario, reps):
        found.setdefault((pool, SATURATED, shift), []).append(day)
    return sorted((Overload(pool, reason, min(days), len(days), len(reps), shift)
                   for (pool, reason, shift), days in found.items()), key=lambda o: (o.from_day, o.pool))


def _lane_codes(studies: pa.Table, scenario: Scenario) -> np.ndarray:
    """Per row, the index of its lane in `_lane_names`: its study type for image reads and consultations,
    else its kind's lane (second opinions, audits)."""
    names = _lane_names(scenario)
    kinds = _dictionary(studies.column("kind"))
    types = _dictionary(studies.column("study_type"))
    index = {name: i for i, name in enumerate(names)}
    kind_lane = np.array([index[SECOND_OPINION] if k == SECOND_OPINION else index[AUDIT] if k == AUDIT else -1
                          for k in kinds[1]] or [-1], dtype=np.int64)
    type_lane = np.array([index.get(t, -1) for t in types[1]] or [-1], dtype=np.int64)
    by_kind = kind_lane[kinds[0]] if kinds[0].size else kinds[0]
    return np.where(by_kind >= 0, by_kind, type_lane[types[0]] if types[0].size else types[0])


def _lane_names(scenario: Scenario) -> list[str]:
    return [*scenario.study_types, SECOND_OPINION, AUDIT]


def _dictionary(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    column = column.unify_dictionaries() if pa.types.is_dictionary(column.type) else column.dictionary_encode()
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in column.chunks]) \
        if column.num_chunks else np.empty(0, dtype=np.int64)
    values = column.chunk(0).dictionary.to_pylist() if column.num_chunks else []
    return codes.astype(np.int64), values


def _growing(scenario: Scenario, lanes: np.ndarray, ready: np.ndarray, start: np.ndarray) -> list[tuple[str, int]]:
    horizon, warmup = scenario.horizon_minutes, scenario.warmup_minutes
    times = np.arange(0.0, horizon + 1e-9, _STEP)
    day = (times // 1440.0).astype(np.int64)
    observed = np.unique(day[times >= warmup])
    if observed.size < 2:
        return []
    window = 7 if observed.size >= 14 else None
    first = observed[:window] if window else observed[: max(1, observed.size // 2)]
    last = observed[-window:] if window else observed[-max(1, observed.size // 4):]
    names = _lane_names(scenario)
    found = []
    for pool_name, pool in scenario.pools.items():
        read = [names.index(lane) for lane in scenario.lanes_of(pool)]
        mine = np.isin(lanes, read) & ~np.isnan(ready)
        if not mine.any():
            continue
        ready_sorted = np.sort(ready[mine])
        start_sorted = np.sort(np.where(np.isnan(start[mine]), math.inf, start[mine]))
        waiting = np.searchsorted(ready_sorted, times, "right") - np.searchsorted(start_sorted, times, "right")
        # The lowest waiting count of each day (of the observed part, for the verdict: the warm-up starts
        # from an empty worklist).
        floors = np.minimum.reduceat(waiting, np.flatnonzero(np.r_[True, np.diff(day) != 0]))
        arrivals = np.count_nonzero((ready_sorted >= warmup) & (ready_sorted <= horizon)) / \
            max((horizon - warmup) / 1440.0, 1e-9)
        threshold = max(10.0, 0.05 * arrivals)
        base = floors[first].min()
        if floors[last].min() - base <= threshold:
            continue
        # It began after the last day, warm-up included, whose floor was still at the run's lowest.
        low = np.flatnonzero(floors[: last[0]] <= floors.min() + threshold)
        from_day = (int(low.max()) + 1 if low.size else 0) + 1
        found.append((pool_name, min(from_day, int(observed[-1]) + 1)))
    return found


def _saturated(duties: pa.Table, scenario: Scenario, reps: list[int]) -> list[tuple[int, str, str, int]]:
    if not duties.num_rows:
        return []
    warmup, horizon = scenario.warmup_minutes, scenario.horizon_minutes
    rep = duties.column("replication").to_numpy()
    pool = np.asarray(duties.column("pool").to_pylist(), dtype=object)
    shift = np.asarray(duties.column("shift").to_pylist(), dtype=object)
    begin = duties.column("start").to_numpy()
    end = duties.column("end").to_numpy()
    present = duties.column("present").to_numpy(zero_copy_only=False)
    busy = duties.column("busy_minutes").to_numpy()
    available = np.clip(np.minimum(end, horizon) - np.maximum(begin, warmup), 0.0, None) * present
    found = []
    for r in reps:
        for pool_name in scenario.pools:
            for label in sorted(set(shift[(rep == r) & (pool == pool_name)].tolist())):
                rows = (rep == r) & (pool == pool_name) & (shift == label)
                instances = sorted(set(begin[rows].tolist()))
                use = []
                for b in instances:
                    these = rows & (begin == b)
                    minutes = available[these].sum()
                    if minutes > 0:
                        use.append((b, busy[these].sum() / minutes))
                run = 0
                for _, u in reversed(use):
                    if u < _SATURATED:
                        break
                    run += 1
                if run >= _RUN:
                    first = use[len(use) - run][0]
                    found.append((r, pool_name, label, int(max(first, 0.0) // 1440.0) + 1))
    return found
