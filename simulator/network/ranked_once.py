"""The reading station where every study is ranked once, when it becomes ready: the worklist's order known
before the run.

Where `ReadingStation.ranked_once` holds (pull dispatch, no pre-emption, no router's choice, no audit,
second read, late AI result or second opinion), a study is ranked when it becomes ready and again only at
an `until` its rank names. `rank` is a pure function of the item and `now` (the policy contract), so the
ranks may be asked for before the run, each study handed its ready time as it would be on entering. If no
rank names an `until`, the worklist's order is then one total order, `(cls, key, entry)`, numbered ahead:
a lane is a heap of plain ints and a read is a few list operations, not a dozen calls through the
worklist, the dispatch and the item. The events, their order and every output are the layered station's,
to the bit (tests/test_ranked_once.py runs both on generated scenarios); anything else runs the layered one.
"""
from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from itertools import chain, repeat
from typing import NamedTuple

import numpy as np

from .cohort import Cohort
from ..kernel import RELEASE, SEIZE, STOP, Tick
from ..scenario import Scenario
from ..triage import Rank, TriagePolicy
from ..triage.worklist import best_head
from .outcome import Outcome
from .readers import Read, Reader, count_busy, signs_off, take_idle
from .reading import Codes, ReadingStation, collector_paused

__all__ = ["EntryRanks", "entry_ranks", "reading_station"]

READY = 10  # the ready time's column in `ReadingStation._columns`
# Above this, a float and an int key may have compared differently in Python than as float64.
_EXACT = float(2 ** 53)


class EntryRanks(NamedTuple):
    """The ranks of the studies that enter before the horizon, by position in ready order."""

    order: np.ndarray  # the entering studies (cohort indices), in the order they become ready
    place: np.ndarray  # each one's place in the worklist's order: (cls, key), then entry
    by_place: np.ndarray  # the positions in that order
    label: np.ndarray  # int16: its triage label, a code into `names`
    names: list[str]  # the labels in order of first entry (as the station's label codes)


def reading_station(scenario: Scenario, cohort: Cohort, policy: TriagePolicy, seed: int, replication: int,
                    progress: Callable[[float], None] | None = None) -> ReadingStation:
    """The station for one replication: ranked ahead where every rank is final on entry, else layered."""
    station = ReadingStation(scenario, cohort, policy, seed, replication, progress)
    if not station.ranked_once:
        return station
    with collector_paused():
        ranks = entry_ranks(station)
    if ranks is None:
        return station
    return RankedOnceStation(scenario, cohort, policy, seed, replication, progress, ranks)


def _entering(station: ReadingStation) -> int:
    """How many studies, in ready order, enter the worklist before the run stops: those ready before the
    horizon (the run's stop comes first at the horizon itself)."""
    return int(np.searchsorted(station.cohort.upstream.ready_at[station.ready_order], station.horizon, side="left"))


def entry_ranks(station: ReadingStation, chunk: int = 1 << 16) -> EntryRanks | None:
    """Every entering study's rank, asked with the `now` it would be handed on entry; None if some rank
    names an `until`, is not a `Rank`, or cannot be numbered exactly (a class or key that is not a number,
    NaN, or a number beyond float64's exact integers)."""
    rank = station.worklist.policy.rank
    order = station.ready_order[:_entering(station)]
    minutes = station.cohort.draws.reading.read_minutes
    codes: dict[str, int] = {}
    classes, keys, labels = [], [], []
    for lo in range(0, order.shape[0], chunk):
        block = order[lo:lo + chunk]
        columns = station._columns(block)
        # Each item exactly as `ReadingStation._on_ready` builds it on entry, ranked at its ready time.
        items = map(Read, *columns, repeat(-1), repeat(""), repeat(0), repeat(False), repeat(None),
                    minutes[block].tolist())
        ranks = list(map(rank, items, columns[READY]))
        if set(map(type, ranks)) != {Rank}:
            return None  # something else that answers like a Rank: the layered station asks it as it goes
        cls, key, label, until = zip(*ranks)
        cls, key = np.asarray(cls), np.asarray(key)
        if not (np.asarray(until) == math.inf).all() or not _exact(cls) or not _exact(key):
            return None
        for name in dict.fromkeys(label):  # in order of first entry
            codes.setdefault(name, len(codes))
        classes.append(cls)
        keys.append(key)
        labels.append(np.fromiter(map(codes.__getitem__, label), dtype=np.int16, count=len(label)))
    if not classes:
        none = np.zeros(0, dtype=np.int64)
        return EntryRanks(order, none, none, np.zeros(0, dtype=np.int16), [])
    cls, key = np.concatenate(classes), np.concatenate(keys)
    by_place = np.lexsort((np.arange(cls.shape[0]), key, cls))  # ties: the study that entered first
    place = np.empty_like(by_place)
    place[by_place] = np.arange(by_place.shape[0])
    return EntryRanks(order, place, by_place, np.concatenate(labels), list(codes))


def _exact(values: np.ndarray) -> bool:
    """Whether numpy orders these values as Python orders the policy's numbers."""
    if values.dtype.kind in "biu":
        return True
    if values.dtype.kind != "f":
        return False  # objects, strings, tuples: Python's order, not one numpy keeps
    finite = values[np.isfinite(values)]
    return not np.isnan(values).any() and (finite.shape[0] == 0 or float(np.abs(finite).max()) < _EXACT)


class RankedOnceStation(ReadingStation):
    """`ReadingStation` with the worklist's order numbered ahead (`EntryRanks`): a lane's heap holds each
    waiting study's place, and a reader holds the index of the study they read. Its loop (`_run`) handles
    a study's two events itself; shifts and progress are the layered station's."""

    def __init__(self, scenario: Scenario, cohort: Cohort, policy: TriagePolicy, seed: int, replication: int,
                 progress: Callable[[float], None] | None, ranks: EntryRanks) -> None:
        super().__init__(scenario, cohort, policy, seed, replication, progress)
        self.ranks = ranks
        self.study_at = array("q", ranks.order[ranks.by_place].tobytes())  # the study at each place
        self.minutes = array("d", cohort.draws.reading.read_minutes.tobytes())
        self.arrivals: Tick | None = None  # the one Tick of the chain of studies becoming ready
        self.rows: Iterator[tuple] = iter(())

    def _start_arrivals(self) -> None:
        order = self.ranks.order
        if order.shape[0]:
            self.rows = self._entries(order)
            self.arrivals = Tick(self.env, float(self.cohort.upstream.ready_at[order[0]]), SEIZE, _in_the_loop)

    def _entries(self, order: np.ndarray, chunk: int = 1 << 16) -> Iterator[tuple]:
        """Per entering study in ready order: its index, the pools to ask and its lane's heap, its place and
        read time, and when the next study is ready (infinite after the last that enters)."""
        d, u = self.cohort.draws, self.cohort.upstream
        ready = u.ready_at[order]
        following = np.append(ready[1:], math.inf)
        worklist, pools_for = self.worklist, self.lanes.pools_for
        lane_of = [[(pools_for[lane], worklist.lane(lane)) for lane in row] for row in self.lanes.table]

        def block_at(lo: int) -> Iterator[tuple]:
            block = order[lo:lo + chunk]
            return zip(block.tolist(),
                       [lane_of[t][s] for t, s in zip(d.study_type[block].tolist(), u.site[block].tolist())],
                       self.ranks.place[lo:lo + chunk].tolist(), d.reading.read_minutes[block].tolist(),
                       following[lo:lo + chunk].tolist())

        return chain.from_iterable(map(block_at, range(0, order.shape[0], chunk)))

    def _run(self) -> None:
        """`kernel.run`, with a study becoming ready and a read being done handled here rather than by
        callbacks: the same heap, the same events in the same order, the same arithmetic as the layered
        station's `_on_ready`, `Pull.enter`, `_start`, `_on_done` and `Worklist.pop_for`."""
        env = self.env
        queue, eid = env.heap, env.sequence
        stop = Tick(env, self.horizon - env.now, STOP, _in_the_loop)
        arrivals, rows = self.arrivals, self.rows
        read_start, reported_at, reader_of = self.read_start, self.reported_at, self.reader_of
        study_at, minutes_of, warmup, inf = self.study_at, self.minutes, self.warmup, math.inf
        while True:
            now, _, _, tick = heappop(queue)
            env.now = now
            reader = tick.what
            if reader.__class__ is Reader:  # a read is done
                i = reader.item
                reported_at[i] = now
                reader_of[i] = reader.code
                count_busy(reader, now, warmup)
                reader.reads += 1
                if signs_off(reader, now):
                    reader.item = None
                    continue
                # `_next` and `_start_read`, written out: they run once a read, and the two calls measured
                # some 4% of the loop.
                best = best_head(reader.lanes)
                if best is None:
                    reader.item = None
                    reader.pool.idle[reader] = None
                    continue
                i = study_at[heappop(best)]
                read_start[i] = now
                reader.item = i
                reader.resumed = now
                heappush(queue, (now + minutes_of[i], RELEASE, next(eid), tick))
            elif tick is arrivals:  # studies become ready, one after another until something else is due
                while True:
                    i, (pools, heap), place, minutes, next_at = next(rows)
                    reader = take_idle(pools, now)  # the one rule of who takes a ready item
                    if reader is None:
                        heappush(heap, place)
                    else:
                        self._start_read(reader, i, minutes, now)
                    if next_at == inf or queue[0][0] <= next_at:  # the run's stop is always in the queue
                        break
                    env.now = now = next_at
                if next_at != inf:
                    heappush(queue, (next_at, SEIZE, next(eid), tick))
            elif tick is stop:
                return
            else:  # a shift starts or ends, or a day has passed
                tick.callback(tick)

    def _start_read(self, reader: Reader, i: int, minutes: float, now: float) -> None:
        self.read_start[i] = now  # never before it is ready: it enters at its ready time
        reader.item = i  # type: ignore[assignment]
        reader.resumed = now
        tick = reader.pending
        if tick is None:  # the reader's first read: their Tick, reused for every read after
            reader.pending = Tick(self.env, minutes, RELEASE, _in_the_loop, reader)
        else:
            heappush(self.env.heap, (now + minutes, RELEASE, next(self.env.sequence), tick))

    def _next(self, reader: Reader, now: float) -> None:
        """A reader whose shift starts takes the best head of their lanes, or waits idle."""
        best = best_head(reader.lanes)
        if best is None:
            reader.pool.idle[reader] = None
        else:
            i = self.study_at[heappop(best)]
            self._start_read(reader, i, self.minutes[i], now)

    def _outcome(self) -> Outcome:
        label = np.frombuffer(self.label, dtype=np.int16)
        label[self.ranks.order] = self.ranks.label
        self.label_codes = Codes(zip(self.ranks.names, range(len(self.ranks.names))))
        return super()._outcome()


def _in_the_loop(tick: Tick) -> None:
    raise AssertionError("handled by RankedOnceStation._run")  # never called: the loop handles these Ticks
