"""The two queues the upstream stations are made of, run over a whole replication at once.

Upstream of the worklist nothing waits for anything downstream (a scanner does not wait for a reader), so
each station is a pass over its studies in time order: given when each study arrives at the station, when
it leaves. The passes chain (devices -> uplink -> ingest -> AI) and the reading station gets the result.

- `serve`: c servers, non-preemptive, the queue ordered by (priority, arrival, index). Scanners and AI
  workers.
- `share`: processor sharing, every study in the station gets an equal share of its capacity at every
  moment. Network links and the archive's ingest.

Both take a `Capacity`: how many servers (or how much throughput) there is from one moment to the next:
opening hours, outages, a slowdown. A server that goes away finishes what it is doing first (`serve`); a link
at zero throughput holds what it carries until it comes back (`share`).

Each pass is one plain loop (`_serve_loop`, `_share_loop`): run as Python on small passes, compiled by numba
on large ones, with the same bits either way (tests/test_queues.py checks both against naive simulations
and against each other).
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .compiled import runner

__all__ = ["Capacity", "serve", "share", "available"]

INF = math.inf


@dataclass(frozen=True)
class Capacity:
    """A piecewise-constant level: `levels[k]` from `times[k]` until `times[k + 1]` (the last one forever).
    `times[0]` is -inf."""

    times: tuple[float, ...]
    levels: tuple[float, ...]

    @classmethod
    def constant(cls, level: float) -> "Capacity":
        return cls((-INF,), (float(level),))

    @classmethod
    def of(cls, base: float, changes: Iterable[tuple[float, float, float]], scale: bool = False) -> "Capacity":
        """`base`, changed in windows `(start, end, amount)`: the amount is subtracted (servers out), or with
        `scale` multiplied (a slowdown). Overlapping windows combine; the level never goes below zero."""
        edges = sorted({t for a, b, _ in changes for t in (a, b) if b > a})
        times, levels = [-INF], [float(base)]
        for t in edges:
            level = float(base)
            for a, b, amount in changes:
                if a <= t < b:
                    level = level * amount if scale else level - amount
            times.append(t)
            levels.append(max(level, 0.0))
        return cls(tuple(times), tuple(levels))._merged()

    def times_open(self, opening: "Capacity") -> "Capacity":
        """This level where `opening` is above zero, zero where it is zero (opening hours)."""
        edges = sorted(set(self.times) | set(opening.times))
        return Capacity(tuple(edges), tuple(self.at(t) if opening.at(t) > 0 else 0.0 for t in edges))._merged()

    def at(self, t: float) -> float:
        k = int(np.searchsorted(self.times, t, side="right")) - 1
        return self.levels[max(k, 0)]

    def _merged(self) -> "Capacity":
        times, levels = [self.times[0]], [self.levels[0]]
        for t, level in zip(self.times[1:], self.levels[1:]):
            if level != levels[-1]:
                times.append(t)
                levels.append(level)
        return Capacity(tuple(times), tuple(levels))


# A loop runs compiled (numba) once a process has handed it this many jobs: a city's year is millions of jobs
# a station, and the loop compiled is 10-15x faster; loading it costs a process about 0.7 s, which the loop
# gains back over about 200,000 jobs.
COMPILED_FROM = 200_000


def _runner(loop: Callable[..., Any], jobs: int) -> tuple[Callable[..., Any], bool]:
    return runner(loop, jobs, COMPILED_FROM)


def _changes(capacity: Capacity, t: float) -> tuple[float, np.ndarray, np.ndarray]:
    """The level at `t`, and the times and levels of the changes after it, in order."""
    k = int(np.searchsorted(capacity.times, t, side="right")) - 1
    return (float(capacity.levels[k]), np.array(capacity.times[k + 1:], dtype=float),
            np.array(capacity.levels[k + 1:], dtype=float))


def _pass(loop: Callable[..., Any], columns: tuple[np.ndarray, ...], outputs: tuple[np.ndarray, ...],
          *settings: float) -> None:
    """Run one pass of `loop` over the job `columns`, filling `outputs` (float arrays, one value a job).

    Python's loop reads and writes lists (a list item is a Python float; a numpy scalar costs more), numba's
    the arrays themselves (times as float64: the same arithmetic as Python's floats)."""
    loop, compiled = _runner(loop, len(outputs[0]))
    if compiled:
        loop(*(np.ascontiguousarray(c, dtype=np.int64 if c.dtype.kind in "iu" else float) for c in columns),
             *outputs, *settings)
        return
    filled = [out.tolist() for out in outputs]
    loop(*(c.tolist() for c in columns), *filled, *settings)
    for out, values in zip(outputs, filled):
        out[:] = values


def serve(arrive: np.ndarray, priority: np.ndarray, service: np.ndarray, servers: Capacity,
          patience: float = INF) -> tuple[np.ndarray, np.ndarray]:
    """Start and finish of each job at a c-server station whose number of servers follows `servers`
    (rounded down). A job never started (no server ever again) has start and finish +inf.

    At one moment: jobs finish, then the level changes, then the jobs arriving join, then jobs start (so a
    STAT job arriving as a server frees goes before a routine one that waited). A job that has waited
    longer than `patience` leaves unserved (start +inf; it left at arrival + patience): leaving frees no
    server, so it is only skipped when its turn would come."""
    n = arrive.shape[0]
    if n == 0:
        return np.full(n, INF), np.full(n, INF)
    order = np.argsort(arrive, kind="stable")
    level, times, levels = _changes(servers, float(arrive[order[0]]))
    start, finish = np.full(n, INF), np.full(n, INF)
    _pass(_serve_loop, (order, arrive, priority.astype(np.int64, copy=False), service, times, levels),
          (start, finish), int(level), float(patience))
    return start, finish


def _serve_loop(order, arrive, priority, service, change_at, change_to, start, finish, level: int,
                patience: float) -> None:
    """`serve`'s pass, in the Python that numba compiles (lists or arrays, no objects): fills `start` and
    `finish`."""
    n = len(order)
    changes = len(change_at)
    c = 0
    next_change = change_at[0] if changes else INF
    waiting = [(0, 0.0, 0)]  # (priority, arrival, job); made with one item so that numba knows its type
    waiting.pop()
    running = [0.0]  # finish times of jobs in service
    running.pop()
    i = 0
    while True:
        t = arrive[order[i]] if i < n else INF
        # The moments before the next arrival at which waiting jobs may start: a finish, a change of level.
        while len(waiting) > 0:
            moment = running[0] if len(running) > 0 and running[0] < next_change else next_change
            if moment >= t:
                break
            while len(running) > 0 and running[0] <= moment:
                heapq.heappop(running)
            while next_change <= moment:
                level = int(change_to[c])
                c += 1
                next_change = change_at[c] if c < changes else INF
            while len(waiting) > 0 and len(running) < level:
                _, came, j = heapq.heappop(waiting)
                if came + patience < moment:
                    continue  # gone elsewhere
                start[j] = moment
                finish[j] = done = moment + service[j]
                heapq.heappush(running, done)
        if i == n:
            break
        # The arrival's own moment, written out again rather than shared with the loop above: it is most of
        # the work, and a shared helper measured 15% slower (a call per arrival).
        while len(running) > 0 and running[0] <= t:
            heapq.heappop(running)
        while next_change <= t:
            level = int(change_to[c])
            c += 1
            next_change = change_at[c] if c < changes else INF
        j = order[i]
        i += 1
        if len(waiting) == 0 and len(running) < level and (i == n or arrive[order[i]] > t):
            start[j] = t  # the usual case on a station with room: a free server, nobody else arriving
            finish[j] = done = t + service[j]
            heapq.heappush(running, done)
            continue
        heapq.heappush(waiting, (priority[j], t, j))
        while i < n and arrive[order[i]] <= t:
            j = order[i]
            heapq.heappush(waiting, (priority[j], t, j))
            i += 1
        while len(waiting) > 0 and len(running) < level:
            _, came, j = heapq.heappop(waiting)
            if came + patience < t:
                continue  # gone elsewhere
            start[j] = t
            finish[j] = done = t + service[j]
            heapq.heappush(running, done)


def share(arrive: np.ndarray, work: np.ndarray, capacity: Capacity) -> np.ndarray:
    """Finish of each job at a processor-sharing station: while `n` jobs are in it, each is served at
    capacity / n (work units a minute). +inf for a job that never finishes (no capacity ever again).

    Kept in virtual time: V grows at capacity / n, and a job that arrived at V = v with work w leaves when
    V = v + w, so the next to leave is the smallest such target (a heap), whatever the arrivals between.
    """
    n = arrive.shape[0]
    if n == 0:
        return np.full(n, INF)
    order = np.argsort(arrive, kind="stable")
    rate, times, levels = _changes(capacity, float(arrive[order[0]]))
    finish = np.full(n, INF)
    _pass(_share_loop, (order, arrive, work, times, levels), (finish,), rate)
    return finish


def _share_loop(order, arrive, work, change_at, change_to, finish, rate: float) -> None:
    """`share`'s pass, in the Python that numba compiles (lists or arrays, no objects): fills `finish`."""
    n = len(order)
    changes = len(change_at)
    c = 0
    next_change = change_at[0] if changes else INF
    t = arrive[order[0]]
    virtual = 0.0
    inside = [(0.0, 0)]  # (virtual finish, job); made with one item so that numba knows its type
    inside.pop()
    i = 0
    while True:
        a = arrive[order[i]] if i < n else INF
        # From t to the next arrival: departures (each at the moment its target is reached) and changes.
        while len(inside) > 0:
            leave = t + (inside[0][0] - virtual) * len(inside) / rate if rate > 0 else INF
            moment = leave if leave < next_change else next_change
            if moment > a or moment == INF:
                break
            if moment == leave:
                virtual = inside[0][0]  # exactly: no drift of rounding over millions of steps
            else:
                virtual += (moment - t) * rate / len(inside)
            t = moment
            # Every job whose target is reached leaves now (equal work arriving together leaves together);
            # a target missed by rounding alone is reached too, or a job that ends as the capacity drops
            # would wait out the outage.
            reached = virtual + 1e-12 * (1.0 + abs(virtual))
            while len(inside) > 0 and inside[0][0] <= reached:
                finish[heapq.heappop(inside)[1]] = t
            while next_change <= t:
                rate = change_to[c]
                c += 1
                next_change = change_at[c] if c < changes else INF
        if i == n:
            break
        if len(inside) > 0 and rate > 0:
            virtual += (a - t) * rate / len(inside)
        t = a
        while next_change <= t:
            rate = change_to[c]
            c += 1
            next_change = change_at[c] if c < changes else INF
        j = order[i]
        i += 1
        following = arrive[order[i]] if i < n else INF
        if len(inside) == 0 and rate > 0 and following > t:
            done = t + work[j] / rate
            if done <= following and done <= next_change:
                finish[j] = done  # the usual case on a link with room: alone from start to end
                t = done
                continue
        if work[j] <= 0.0:  # the first arrival taken out above, then any arriving with it
            finish[j] = t
        else:
            heapq.heappush(inside, (virtual + work[j], j))
        while i < n and arrive[order[i]] <= t:
            j = order[i]
            if work[j] <= 0.0:
                finish[j] = t
            else:
                heapq.heappush(inside, (virtual + work[j], j))
            i += 1


def available(capacity: Capacity, start: float, end: float) -> float:
    """The integral of the level over [start, end): server-minutes (or work) on offer."""
    total = 0.0
    times = list(capacity.times[1:]) + [math.inf]
    for begin, stop, level in zip(capacity.times, times, capacity.levels):
        lo, hi = max(begin, start), min(stop, end)
        if hi > lo:
            total += (hi - lo) * level
    return total
