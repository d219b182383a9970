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
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

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


def _from(capacity: Capacity, t: float) -> tuple[float, list[tuple[float, float]]]:
    """The level at `t`, and the changes after it, latest first (taken off the end as time passes)."""
    k = int(np.searchsorted(capacity.times, t, side="right")) - 1
    return capacity.levels[k], list(zip(capacity.times[k + 1:], capacity.levels[k + 1:]))[::-1]


def serve(arrive: np.ndarray, priority: np.ndarray, service: np.ndarray, servers: Capacity,
          patience: float = INF) -> tuple[np.ndarray, np.ndarray]:
    """Start and finish of each job at a c-server station whose number of servers follows `servers`
    (rounded down). A job never started (no server ever again) has start and finish +inf.

    At one moment: jobs finish, then the level changes, then the jobs arriving join, then jobs start (so a
    STAT job arriving as a server frees goes before a routine one that waited). A job that has waited
    longer than `patience` leaves unserved (start +inf; it left at arrival + patience): leaving frees no
    server, so it is only skipped when its turn would come."""
    n = arrive.shape[0]
    start = np.full(n, INF)
    finish = np.full(n, INF)
    if n == 0:
        return start, finish
    order = np.lexsort((np.arange(n), arrive)).tolist()
    arrive_l, prio_l, service_l = arrive.tolist(), priority.tolist(), service.tolist()
    level_f, upcoming = _from(servers, arrive_l[order[0]])
    level = int(level_f)
    next_change = upcoming[-1][0] if upcoming else INF
    waiting: list[tuple[int, float, int]] = []
    running: list[float] = []  # finish times of jobs in service
    start_l, finish_l = [INF] * n, [INF] * n
    push, pop = heapq.heappush, heapq.heappop
    i = 0
    while True:
        t = arrive_l[order[i]] if i < n else INF
        # The moments before the next arrival at which waiting jobs may start: a finish, a change of level.
        while waiting:
            moment = running[0] if running and running[0] < next_change else next_change
            if moment >= t:
                break
            while running and running[0] <= moment:
                pop(running)
            while next_change <= moment:
                level = int(upcoming.pop()[1])
                next_change = upcoming[-1][0] if upcoming else INF
            while waiting and len(running) < level:
                _, came, j = pop(waiting)
                if came + patience < moment:
                    continue  # gone elsewhere
                start_l[j] = moment
                finish_l[j] = done = moment + service_l[j]
                push(running, done)
        if i == n:
            break
        # The arrival's own moment, written out again rather than shared with the loop above: it is most of
        # the work, and a shared helper measured 15% slower (a call per arrival).
        while running and running[0] <= t:
            pop(running)
        while next_change <= t:
            level = int(upcoming.pop()[1])
            next_change = upcoming[-1][0] if upcoming else INF
        j = order[i]
        i += 1
        if not waiting and len(running) < level and (i == n or arrive_l[order[i]] > t):
            start_l[j] = t  # the usual case on a station with room: a free server, nobody else arriving
            finish_l[j] = done = t + service_l[j]
            push(running, done)
            continue
        push(waiting, (prio_l[j], t, j))
        while i < n and arrive_l[order[i]] <= t:
            j = order[i]
            push(waiting, (prio_l[j], t, j))
            i += 1
        while waiting and len(running) < level:
            _, came, j = pop(waiting)
            if came + patience < t:
                continue  # gone elsewhere
            start_l[j] = t
            finish_l[j] = done = t + service_l[j]
            push(running, done)
    start[:] = start_l
    finish[:] = finish_l
    return start, finish


def share(arrive: np.ndarray, work: np.ndarray, capacity: Capacity) -> np.ndarray:
    """Finish of each job at a processor-sharing station: while `n` jobs are in it, each is served at
    capacity / n (work units a minute). +inf for a job that never finishes (no capacity ever again).

    Kept in virtual time: V grows at capacity / n, and a job that arrived at V = v with work w leaves when
    V = v + w, so the next to leave is the smallest such target (a heap), whatever the arrivals between.
    """
    n = arrive.shape[0]
    finish = np.full(n, INF)
    if n == 0:
        return finish
    order = np.lexsort((np.arange(n), arrive)).tolist()
    arrive_l, work_l = arrive.tolist(), work.tolist()
    t = arrive_l[order[0]]
    rate, upcoming = _from(capacity, t)
    next_change = upcoming[-1][0] if upcoming else INF
    virtual = 0.0
    inside: list[tuple[float, int]] = []  # (virtual finish, job)
    finish_l = [INF] * n
    push, pop = heapq.heappush, heapq.heappop
    i = 0
    while True:
        a = arrive_l[order[i]] if i < n else INF
        # From t to the next arrival: departures (each at the moment its target is reached) and changes.
        while inside:
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
            while inside and inside[0][0] <= reached:
                finish_l[pop(inside)[1]] = t
            while next_change <= t:
                rate = upcoming.pop()[1]
                next_change = upcoming[-1][0] if upcoming else INF
        if i == n:
            break
        if inside and rate > 0:
            virtual += (a - t) * rate / len(inside)
        t = a
        while next_change <= t:
            rate = upcoming.pop()[1]
            next_change = upcoming[-1][0] if upcoming else INF
        j = order[i]
        i += 1
        following = arrive_l[order[i]] if i < n else INF
        if not inside and rate > 0 and following > t:
            done = t + work_l[j] / rate
            if done <= following and done <= next_change:
                finish_l[j] = t = done  # the usual case on a link with room: alone from start to end
                continue
        if work_l[j] <= 0.0:  # the first arrival taken out above, then any arriving with it
            finish_l[j] = t
        else:
            push(inside, (virtual + work_l[j], j))
        while i < n and arrive_l[order[i]] <= t:
            j = order[i]
            if work_l[j] <= 0.0:
                finish_l[j] = t
            else:
                push(inside, (virtual + work_l[j], j))
            i += 1
    finish[:] = finish_l
    return finish


def available(capacity: Capacity, start: float, end: float) -> float:
    """The integral of the level over [start, end): server-minutes (or work) on offer."""
    total = 0.0
    times = list(capacity.times[1:]) + [math.inf]
    for begin, stop, level in zip(capacity.times, times, capacity.levels):
        lo, hi = max(begin, start), min(stop, end)
        if hi > lo:
            total += (hi - lo) * level
    return total
