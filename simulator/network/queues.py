"""The two queues the upstream stations are made of, run over a whole replication at once, or a block of
time at a time (`Servers`, `Link`: what is still in the station at a block's end carried to the next, with
the bits of one pass wherever the blocks are cut).

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

__all__ = ["Capacity", "serve", "share", "available", "Servers", "Link"]

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


def _pass(loop: Callable[..., Any], columns: tuple[np.ndarray, ...], outputs: tuple[np.ndarray, ...],
          *settings: float) -> Any:
    """Run one pass of `loop` over the job `columns`, filling `outputs` (arrays, one value a job, or a
    carried job's entry), and give what it returns.

    Python's loop reads and writes lists (a list item is a Python float; a numpy scalar costs more), numba's
    the arrays themselves (times as float64: the same arithmetic as Python's floats)."""
    loop, compiled = _runner(loop, len(columns[0]))
    if compiled:
        return loop(*(np.ascontiguousarray(c, dtype=np.int64 if c.dtype.kind in "iu" else float) for c in columns),
                    *outputs, *settings)
    filled = [out.tolist() for out in outputs]
    result = loop(*(c.tolist() for c in columns), *filled, *settings)
    for out, values in zip(outputs, filled):
        out[:] = values
    return result


class Station:
    """One station's pass over its jobs, a block of time at a time (`until`): what is still in the station
    at the end of a block (and the jobs that arrive after it) is carried to the next, so that blocks give
    the bits one pass over every job gives, wherever they are cut (tests/test_queues.py). Jobs are the
    caller's ids; at equal arrival times they go in the order of their `tie`s."""

    def __init__(self, capacity: Capacity) -> None:
        self.level = float(capacity.levels[0])  # the level before the first change (from -inf)
        self.change_at = np.array(capacity.times[1:], dtype=float)
        self.change_to = np.array(capacity.levels[1:], dtype=float)
        self.changed = 0  # the changes passed
        # The jobs in the station (in the order of its heap) and those that arrive after the last block: their
        # ids and columns (arrival and tie, then the station's own: priority and service, or work; the jobs
        # inside keep the station's own only).
        self.inside = np.zeros(0, dtype=np.int64)
        self.inside_columns: list[np.ndarray] = []
        self.later = np.zeros(0, dtype=np.int64)
        self.later_columns: list[np.ndarray] = []

    def _block(self, cut: float, ids: np.ndarray, columns: list[np.ndarray]) -> tuple[np.ndarray, list, np.ndarray]:
        """The jobs of the next block: those inside, then those that arrive before `cut` (carried from
        before, then given), in the order of their ties; their ids, columns (an arrival and a tie of 0 for
        each job inside) and the order they arrive in. The others are kept for a later block."""
        if self.later.shape[0]:
            ids = np.concatenate([self.later, ids])
            columns = [np.concatenate([a, b]) for a, b in zip(self.later_columns, columns)]
        now = columns[0] < cut
        if not now.all():
            self.later, self.later_columns = ids[~now], [c[~now] for c in columns]
            ids, columns = ids[now], [c[now] for c in columns]
        else:
            self.later = self.later[:0]
        if (columns[1][1:] < columns[1][:-1]).any():  # (given in the order of their ties, as a whole pass: as is)
            laid = np.argsort(columns[1], kind="stable")
            ids, columns = ids[laid], [c[laid] for c in columns]
        held = self.inside.shape[0]
        order = held + np.argsort(columns[0], kind="stable")
        if held:
            ids = np.concatenate([self.inside, ids])
            columns = [np.concatenate([np.zeros(held, dtype=c.dtype), c]) for c in columns[:2]] + \
                [np.concatenate([a, b]) for a, b in zip(self.inside_columns, columns[2:])]
        return ids, columns, order


class Servers(Station):
    """`serve`'s station a block of time at a time."""

    def __init__(self, servers: Capacity, patience: float = INF) -> None:
        super().__init__(servers)
        self.patience = patience
        # The heap of waiting jobs, in its order: priorities, arrivals and jobs (positions in `inside`).
        self.waiting = (np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64))
        self.running = np.zeros(0)  # finish times of the jobs in service

    def until(self, cut: float, ids: np.ndarray, arrive: np.ndarray, tie: np.ndarray, priority: np.ndarray,
              service: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Take these jobs and run the station to `cut` (every moment before it; INF: to the end): the ids,
        starts, finishes and service times of the jobs settled: started, or gone (+inf: waiting since before
        `cut` less the patience, they cannot start); at the end, every job that arrives (+inf: no server
        ever again)."""
        ids, (arrive, tie, priority, service), order = self._block(cut, ids, [arrive, tie, priority, service])
        n, held = ids.shape[0], self.inside.shape[0]
        start, finish = np.full(n, INF), np.full(n, INF)
        # The heap carried (its priorities, arrivals, jobs: the first `held`), and room for what it holds after.
        w_priority, w_came, w_job = (np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n, dtype=np.int64))
        w_priority[:held], w_came[:held], w_job[:held] = self.waiting
        running = np.zeros(self.running.shape[0] + n)
        running[:self.running.shape[0]] = self.running
        waiting, busy, level, changed = _pass(
            _serve_loop, (order, arrive, priority.astype(np.int64, copy=False), service, self.change_at,
                          self.change_to), (start, finish, w_priority, w_came, w_job, running),
            int(self.level), float(self.patience), float(cut), held, self.running.shape[0], self.changed)
        self.level, self.changed = level, changed
        self.running = running[:busy].copy()
        if cut == INF:
            waiting = 0  # the end: who waits now never starts
        elif waiting and self.patience < INF:  # gone for good: a job waiting since before cut - patience
            stay = [entry for entry in zip(w_priority[:waiting].tolist(), w_came[:waiting].tolist(),
                                           w_job[:waiting].tolist()) if entry[1] + self.patience >= cut]
            heapq.heapify(stay)  # (the heap without them; the order of its pops is the same)
            waiting = len(stay)
            if waiting:
                w_priority[:waiting], w_came[:waiting], w_job[:waiting] = map(np.array, zip(*stay))
        job, at = _kept(w_job[:waiting])
        self.waiting = (w_priority[:waiting].copy(), w_came[:waiting].copy(), at)
        self.inside, self.inside_columns = ids[job], [priority[job], service[job]]
        if not waiting:
            return ids, start, finish, service
        settled = np.ones(n, dtype=bool)
        settled[job] = False
        return ids[settled], start[settled], finish[settled], service[settled]


def serve(arrive: np.ndarray, priority: np.ndarray, service: np.ndarray, servers: Capacity,
          patience: float = INF) -> tuple[np.ndarray, np.ndarray]:
    """Start and finish of each job at a c-server station whose number of servers follows `servers`
    (rounded down). A job never started (no server ever again) has start and finish +inf.

    At one moment: jobs finish, then the level changes, then the jobs arriving join, then jobs start (so a
    STAT job arriving as a server frees goes before a routine one that waited). A job that has waited
    longer than `patience` leaves unserved (start +inf; it left at arrival + patience): leaving frees no
    server, so it is only skipped when its turn would come. Ties: the job given first."""
    n = arrive.shape[0]
    jobs = np.arange(n)
    ids, started, finished, _ = Servers(servers, patience).until(INF, jobs, arrive, jobs, priority, service)
    return _by_job(n, ids, started), _by_job(n, ids, finished)


def _kept(heap_jobs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The jobs a heap holds at a block's end, in the order of their positions in the block (which is the
    order of their ties, on which the heap's equal entries turn), and where each heap entry's job is in it."""
    job = np.sort(heap_jobs)
    return job, np.searchsorted(job, heap_jobs)


def _by_job(n: int, ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values of some of `n` jobs, by their ids, as one value a job (+inf for the others); as they are where
    they are every job's in order (a whole pass where every job was settled)."""
    if ids.shape[0] == n:
        return values  # (settled in the order of their ids, the order a whole pass lays them in)
    out = np.full(n, INF)
    out[ids] = values
    return out


def _serve_loop(order, arrive, priority, service, change_at, change_to, start, finish, w_priority, w_came, w_job,
                carried_running, level: int, patience: float, cut: float, held: int, busy: int, c: int):
    """`serve`'s pass, in the Python that numba compiles (lists or arrays, no objects): fills `start` and
    `finish`, from the heap of waiting jobs carried (the first `held` of `w_*`) and the finish times of
    those in service (`busy` of `carried_running`), up to `cut`; leaves in the two what is still there
    then. Gives (how many wait, how many are in service, the level, the changes passed)."""
    n = len(order)
    changes = len(change_at)
    next_change = change_at[c] if c < changes else INF
    waiting = [(0, 0.0, 0)]  # (priority, arrival, job); made with one item so that numba knows its type
    waiting.pop()
    for k in range(held):  # (a heap's order, kept: it is one still)
        waiting.append((w_priority[k], w_came[k], w_job[k]))
    running = [0.0]  # finish times of jobs in service
    running.pop()
    for k in range(busy):
        running.append(carried_running[k])
    i = 0
    while True:
        t = arrive[order[i]] if i < n else cut
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
    for k in range(len(waiting)):
        w_priority[k], w_came[k], w_job[k] = waiting[k]
    for k in range(len(running)):
        carried_running[k] = running[k]
    return len(waiting), len(running), level, c


class Link(Station):
    """`share`'s station a block of time at a time."""

    def __init__(self, capacity: Capacity) -> None:
        super().__init__(capacity)
        # The heap of the jobs inside, in its order: virtual finishes and jobs (positions in `inside`).
        self.targets, self.at = np.zeros(0), np.zeros(0, dtype=np.int64)
        self.virtual = 0.0
        self.t = -INF  # the last moment passed

    def until(self, cut: float, ids: np.ndarray, arrive: np.ndarray, tie: np.ndarray,
              work: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Take these jobs and run the link to `cut` (INF: to the end): the ids and finishes of the jobs
        that left; at the end, every job that arrives (+inf: no capacity ever again)."""
        ids, (arrive, tie, work), order = self._block(cut, ids, [arrive, tie, work])
        n, held = ids.shape[0], self.inside.shape[0]
        finish = np.full(n, INF)
        targets, jobs = np.zeros(n), np.zeros(n, dtype=np.int64)
        targets[:held], jobs[:held] = self.targets, self.at
        inside, self.virtual, self.t, self.level, self.changed = _pass(
            _share_loop, (order, arrive, work, self.change_at, self.change_to), (finish, targets, jobs),
            float(self.level), float(cut), held, float(self.virtual), float(self.t), self.changed)
        if cut == INF:
            inside = 0  # the end: what is still on the link never leaves it
        job, self.at = _kept(jobs[:inside])
        self.targets = targets[:inside].copy()
        self.inside, self.inside_columns = ids[job], [work[job]]
        if not inside:
            return ids, finish
        left = np.ones(n, dtype=bool)
        left[job] = False
        return ids[left], finish[left]


def share(arrive: np.ndarray, work: np.ndarray, capacity: Capacity) -> np.ndarray:
    """Finish of each job at a processor-sharing station: while `n` jobs are in it, each is served at
    capacity / n (work units a minute). +inf for a job that never finishes (no capacity ever again).

    Kept in virtual time: V grows at capacity / n, and a job that arrived at V = v with work w leaves when
    V = v + w, so the next to leave is the smallest such target (a heap), whatever the arrivals between.
    V starts again at 0 whenever a job comes to an empty station (a job alone leaves exactly w / capacity
    after it came, whatever the station carried before)."""
    n = arrive.shape[0]
    jobs = np.arange(n)
    ids, left = Link(capacity).until(INF, jobs, arrive, jobs, work)
    return _by_job(n, ids, left)


def _share_loop(order, arrive, work, change_at, change_to, finish, targets, jobs, rate: float, cut: float, held: int,
                virtual: float, t: float, c: int):
    """`share`'s pass, in the Python that numba compiles (lists or arrays, no objects): fills `finish`, from
    the jobs carried inside (`held` of `targets` and `jobs`, a heap) at virtual time `virtual` and moment
    `t`, up to `cut`; leaves in the two what is inside then. Gives (how many are inside, the virtual time,
    the moment, the rate, the changes passed)."""
    n = len(order)
    changes = len(change_at)
    next_change = change_at[c] if c < changes else INF
    inside = [(0.0, 0)]  # (virtual finish, job); made with one item so that numba knows its type
    inside.pop()
    for k in range(held):  # (a heap's order, kept: it is one still)
        inside.append((targets[k], jobs[k]))
    i = 0
    while True:
        a = arrive[order[i]] if i < n else cut
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
        if len(inside) == 0:
            virtual = 0.0  # an empty station: its virtual time starts again
        j = order[i]
        i += 1
        following = arrive[order[i]] if i < n else cut
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
    for k in range(len(inside)):
        targets[k], jobs[k] = inside[k]
    return len(inside), virtual, t, rate, c


def available(capacity: Capacity, start: float, end: float) -> float:
    """The integral of the level over [start, end): server-minutes (or work) on offer."""
    total = 0.0
    times = list(capacity.times[1:]) + [math.inf]
    for begin, stop, level in zip(capacity.times, times, capacity.levels):
        lo, hi = max(begin, start), min(stop, end)
        if hi > lo:
            total += (hi - lo) * level
    return total
