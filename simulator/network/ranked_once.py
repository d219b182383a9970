"""The reading station where every study is ranked once, when it becomes ready: the worklist's order known
before the run.

Where `ReadingStation.ranked_once` holds (pull dispatch, no pre-emption, no router's choice, no audit,
second read or late AI result), a study is ranked when it becomes ready and again only at an `until` its
rank names. `rank` is a pure function of the item and `now` (the policy contract), so the ranks may be
asked for before the run, each study handed its ready time as it would be on entering. If no rank names an
`until`, the worklist's order is then one total order, `(cls, key, entry)`, numbered ahead: a lane is a
heap of plain ints and a read is a few list operations, not a dozen calls through the worklist, the
dispatch and the item.

Second opinions are made as the run goes (from the primary's report time), so they are ranked as they
enter (`Opinions`) and placed between the numbered studies: their lane holds `place - 0.5`, where `place`
is where `(cls, key, entry)` falls among the studies' order, so a reader compares its head with the other
lanes' as the layered worklist compares the entries themselves. A second opinion whose rank cannot be
placed so (an `until`, not a number) starts the replication again on the layered station.

The events, their order and every output are the layered station's, to the bit (tests/test_ranked_once.py
runs both on generated scenarios); anything else runs the layered one.
"""
from __future__ import annotations

import gc
import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from itertools import chain, repeat
from typing import NamedTuple

import numpy as np

from .cohort import Cohort
from ..kernel import RELEASE, SEIZE, STOP, Tick
from ..scenario import Scenario
from ..triage import Rank, TriagePolicy
from ..triage.columns import BlockRanks, Columns, block_form
from ..triage.worklist import best_head
from .outcome import Outcome
from .readers import Read, Reader, count_busy, signs_off, take_idle
from .reading import Codes, ReadingStation, collector_paused

__all__ = ["EntryRanks", "Opinions", "entry_ranks", "reading_station"]

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
    cls: np.ndarray | None = None  # with `keep_order`: the classes in the worklist's order
    key: np.ndarray | None = None  # ... and the keys


def reading_station(scenario: Scenario, cohort: Cohort, policy: TriagePolicy, seed: int, replication: int,
                    progress: Callable[[float], None] | None = None) -> ReadingStation:
    """The station for one replication: ranked ahead where every rank is final on entry, else layered."""
    station = ReadingStation(scenario, cohort, policy, seed, replication, progress)
    if not station.ranked_once:
        return station
    with collector_paused():
        ranks = entry_ranks(station, keep_order=station.n_second > 0)
    if ranks is None:
        return station
    # Its arrays go before the numbered station makes its own (a city year's are 0.4 GB); the station
    # is in reference cycles (its dispatch holds it), so only a collection frees it.
    del station
    gc.collect()
    return RankedOnceStation(scenario, cohort, policy, seed, replication, progress, ranks)


def _entering(station: ReadingStation) -> int:
    """How many studies, in ready order, enter the worklist before the run stops: those ready before the
    horizon (the run's stop comes first at the horizon itself)."""
    return int(np.searchsorted(station.cohort.upstream.ready_at[station.ready_order], station.horizon, side="left"))


def entry_ranks(station: ReadingStation, keep_order: bool = False, chunk: int = 1 << 16) -> EntryRanks | None:
    """Every entering study's rank, asked with the `now` it would be handed on entry; None if some rank
    names an `until`, is not a `Rank`, or cannot be numbered exactly (a class or key that is not a number,
    NaN, or a number beyond float64's exact integers). `keep_order`: keep the classes and keys in the
    worklist's order too (to place the second opinions among them)."""
    order = station.ready_order[:_entering(station)]
    codes: dict[str, int] = {}
    classes, keys, labels = [], [], []
    by_block = block_form(station.worklist.policy)
    for lo in range(0, order.shape[0], chunk):
        block = order[lo:lo + chunk]
        ranked = _item_ranks(station, block) if by_block is None else _block_ranks(by_block, station._column_block(block))
        if ranked is None:
            return None
        cls, key, label = ranked
        if not _exact(cls) or not _exact(key):
            return None
        names, first, inverse = np.unique(label, return_index=True, return_inverse=True)
        for name in names[np.argsort(first, kind="stable")].tolist():  # in order of first entry
            codes.setdefault(name, len(codes))
        classes.append(cls)
        keys.append(key)
        labels.append(np.array([codes[name] for name in names.tolist()], dtype=np.int16)[inverse.reshape(-1)])
    if not classes:
        none = np.zeros(0, dtype=np.int64)
        return EntryRanks(order, none, none, np.zeros(0, dtype=np.int16), [])
    cls, key = np.concatenate(classes), np.concatenate(keys)
    by_place = np.lexsort((np.arange(cls.shape[0]), key, cls))  # ties: the study that entered first
    place = np.empty_like(by_place)
    place[by_place] = np.arange(by_place.shape[0])
    ranks = EntryRanks(order, place, by_place, np.concatenate(labels), list(codes))
    if keep_order:
        ranks = ranks._replace(cls=_plain(cls[by_place]), key=_plain(key[by_place]))
    return ranks


def _item_ranks(station: ReadingStation, block: np.ndarray) -> BlockRanks | None:
    """The ranks of a block of studies asked item by item, each item exactly as `ReadingStation._on_ready`
    builds it on entry, ranked at its ready time; None if one names an `until` or is not a `Rank` (something
    else that answers like one: the layered station asks it as it goes)."""
    columns = station._columns(block)
    items = map(Read, *columns, repeat(-1), repeat(""), repeat(0), repeat(False), repeat(None),
                station.cohort.draws.reading.read_minutes[block].tolist())
    ranks = list(map(station.worklist.policy.rank, items, columns[READY]))
    if set(map(type, ranks)) != {Rank}:
        return None
    cls, key, label, until = zip(*ranks)
    if not (np.asarray(until) == math.inf).all() or set(map(type, label)) != {str}:
        return None
    return BlockRanks(np.asarray(cls), np.asarray(key), np.asarray(label, dtype=object))


def _block_ranks(rank_block: Callable[[Columns], BlockRanks], columns: Columns) -> BlockRanks:
    """The ranks of a block from the policy's `rank_block`, as arrays."""
    cls, key, label = rank_block(columns)
    n = len(columns)
    return BlockRanks(np.broadcast_to(cls, n), np.broadcast_to(key, n), np.broadcast_to(label, n))


def _plain(values: np.ndarray) -> np.ndarray:
    """Numbers that Python compares as the policy's own: int64 for integers, float64 otherwise (exact, by
    `_exact`)."""
    return values.astype(np.int64) if values.dtype.kind in "biu" else values.astype(np.float64)


def _exact(values: np.ndarray) -> bool:
    """Whether numpy orders these values as Python orders the policy's numbers."""
    if values.dtype.kind in "biu":
        return values.dtype.kind != "u" or values.shape[0] == 0 or int(values.max()) < 2 ** 63
    if values.dtype.kind != "f":
        return False  # objects, strings, tuples: Python's order, not one numpy keeps
    finite = values[np.isfinite(values)]
    return not np.isnan(values).any() and (finite.shape[0] == 0 or float(np.abs(finite).max()) < _EXACT)


class Unplaced(Exception):
    """A second opinion's rank that cannot be placed among the numbered studies."""


class Opinions:
    """The second opinions of a ranked-once station: each ranked as it enters, placed among the studies'
    numbered places, waiting in one lane that the readers' `best_head` compares with the others.

    `lane` is the worklist's second-opinion lane as readers see it: a heap of places (`place - 0.5`, so
    never equal to a study's); `heap` holds the same entries whole, `(place, cls, key, entry, index,
    first reader)`, in the layered worklist's order for them (a place is monotone in `(cls, key, entry)`).
    The two pop together: their smallest places are the same.
    """

    def __init__(self, station: "RankedOnceStation", ranks: EntryRanks) -> None:
        self.rank = station.worklist.policy.rank
        self.lane = station.worklist.lane(station.lanes.second_opinion)
        self.pools = station.lanes.pools_for[station.lanes.second_opinion]
        self.study_at = station.study_at
        self.heap: list[tuple] = []
        self.entries = 0
        none = np.zeros(0, dtype=np.int64)
        cls, key = (none, none) if ranks.cls is None else (ranks.cls, ranks.key)
        # Views, not copies: `bisect` on a memoryview compares Python numbers, as the layered worklist does.
        self.cls, self.key = memoryview(cls), memoryview(key)
        self.entry = memoryview(ranks.by_place.astype(np.int64, copy=False))  # each place's position in ready order
        self.codes = Codes()  # their triage labels, numbered in order of first use here
        self.first_use: dict[str, int] = {}  # each label's first use: how many studies had entered then

    def enter(self, item: Read, now: float, entered: int) -> tuple[float, tuple, int]:
        """Rank a second opinion that enters after `entered` studies: its place, its rank's `(cls, key)`
        and its label's code here; `Unplaced` if the rank cannot be placed."""
        rank = self.rank(item, now)
        cls, key = _number(rank)
        if rank.label not in self.codes:
            self.first_use[rank.label] = entered
        lo = bisect_left(self.cls, cls)
        hi = bisect_right(self.cls, cls, lo)
        lo = bisect_left(self.key, key, lo, hi)
        hi = bisect_right(self.key, key, lo, hi)
        # Among studies of equal rank, those that entered before it come first.
        return bisect_left(self.entry, entered, lo, hi) - 0.5, (cls, key), self.codes[rank.label]

    def wait(self, place: float, rank: tuple, index: int, first_reader: int) -> None:
        self.entries += 1
        heappush(self.heap, (place, *rank, self.entries, index, first_reader))
        heappush(self.lane, place)

    def take(self, reader: Reader) -> int | None:
        """What `reader` reads next, the second opinions' lane being the best head of their lanes: its
        head, unless that is their own report's; then, as `Worklist._pop_skipping`, the best item of all
        their lanes that they may read, or None."""
        heap, lane = self.heap, self.lane
        if heap[0][5] != reader.code:
            heappop(lane)
            return heappop(heap)[4]
        held = []
        while heap and heap[0][5] == reader.code:
            held.append(heappop(heap))
        study = best_head([other for other in reader.lanes if other is not lane])
        taken = None
        if heap and (study is None or heap[0][0] < study[0]):
            taken = heappop(heap)[4]
            for _ in range(len(held) + 1):  # the lane's smallest places: the held entries' and this one's
                heappop(lane)
            for entry in held:
                heappush(lane, entry[0])
        for entry in held:
            heappush(heap, entry)
        if taken is None and study is not None:
            taken = self.study_at[heappop(study)]
        return taken

    def label_order(self, names: list[str], first_entry: np.ndarray) -> list[str]:
        """Every label, the studies' (`names`, first used by the study entering at `first_entry`) and
        the second opinions', in order of first use: one entering after k studies precedes the k-th."""
        first = {name: 2 * int(at) + 1 for name, at in zip(names, first_entry)}
        for name, entered in self.first_use.items():
            first[name] = min(first.get(name, math.inf), 2 * entered)
        return sorted(first, key=first.__getitem__)


def _number(rank: Rank) -> tuple[float, float]:
    """A rank's class and key as numbers the numbered order may hold, or `Unplaced`."""
    if type(rank) is not Rank or rank.until != math.inf:
        raise Unplaced
    for value in (rank.cls, rank.key):
        if not isinstance(value, (int, float, np.integer, np.floating)) or value != value:
            raise Unplaced
    return rank.cls, rank.key


class RankedOnceStation(ReadingStation):
    """`ReadingStation` with the worklist's order numbered ahead (`EntryRanks`): a lane's heap holds each
    waiting study's place, and a reader holds the index of the study they read. Its loop (`_run`) handles
    a study's two events itself; shifts and progress are the layered station's."""

    def __init__(self, scenario: Scenario, cohort: Cohort, policy: TriagePolicy, seed: int, replication: int,
                 progress: Callable[[float], None] | None, ranks: EntryRanks) -> None:
        super().__init__(scenario, cohort, policy, seed, replication, progress)
        self.ranks = ranks
        self.study_at = array("q", ranks.order[ranks.by_place].tobytes())  # the study at each place
        reading = cohort.draws.reading
        # Each item's read time: the studies', then their second opinions' (`_items`' order).
        self.minutes = array("d", reading.read_minutes.tobytes())
        self.opinions = None if self.n_second == 0 else Opinions(self, ranks)
        if self.opinions is not None:
            self.minutes.extend(reading.second_read_minutes[self.parent[self.n_cohort:]])
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
        opinions = self.opinions
        asked, n, opinion_lane = (self.so_index, self.n_cohort, opinions.lane) if opinions else (None, 0, None)
        entered = 0  # studies that have entered the worklist (to place a second opinion among them)
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
                if asked is not None and i < n and asked[i] >= 0:
                    self._second_opinion(i, asked[i], reader.code, now, entered)
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
                if best is opinion_lane:
                    i = opinions.take(reader)
                    if i is None:
                        reader.item = None
                        reader.pool.idle[reader] = None
                        continue
                else:
                    i = study_at[heappop(best)]
                read_start[i] = now
                reader.item = i
                reader.resumed = now
                heappush(queue, (now + minutes_of[i], RELEASE, next(eid), tick))
            elif tick is arrivals:  # studies become ready, one after another until something else is due
                while True:
                    i, (pools, heap), place, minutes, next_at = next(rows)
                    entered += 1
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
        i = None if best is None else self.opinions.take(reader) if best is self.opinions_lane \
            else self.study_at[heappop(best)]
        if i is None:
            reader.pool.idle[reader] = None
        else:
            self._start_read(reader, i, self.minutes[i], now)

    @property
    def opinions_lane(self) -> list | None:
        return None if self.opinions is None else self.opinions.lane

    def _second_opinion(self, i: int, j: int, first_reader: int, now: float, entered: int = 0) -> None:  # type: ignore[override]
        """As the layered station's, its rank placed among the numbered studies (`Opinions`)."""
        opinions = self.opinions
        place, rank, code = opinions.enter(self._opinion_item(i, j, first_reader, now), now, entered)
        self.label[j] = code  # numbered among all labels in `_outcome`
        reader = take_idle(opinions.pools, now, first_reader)  # the one rule of who takes a ready item
        if reader is None:
            opinions.wait(place, rank, j, first_reader)
        else:
            self._start_read(reader, j, self.minutes[j], now)

    def run(self) -> Outcome:
        try:
            return super().run()
        except Unplaced:  # a second opinion's rank the numbered order cannot hold: all of it layered
            return ReadingStation(self.scenario, self.cohort, self.worklist.policy, self.seed, self.replication,
                                  self.progress).run()

    def _outcome(self) -> Outcome:
        ranks = self.ranks
        label = np.frombuffer(self.label, dtype=np.int16)
        names = ranks.names
        if self.opinions is None:
            label[ranks.order] = ranks.label
        else:  # one numbering, in order of first use, as the layered station gives it
            first_entry = np.unique(ranks.label, return_index=True)[1]
            names = self.opinions.label_order(ranks.names, first_entry)
            code = {name: number for number, name in enumerate(names)}
            label[ranks.order] = np.array([code[name] for name in ranks.names], dtype=np.int16)[ranks.label]
            opinions = label[self.n_cohort:self.n_cohort + self.n_second]
            made = opinions >= 0
            opinions[made] = np.array([code[name] for name in self.opinions.codes] or [0], dtype=np.int16)[opinions[made]]
        self.label_codes = Codes(zip(names, range(len(names))))
        return super()._outcome()


def _in_the_loop(tick: Tick) -> None:
    raise AssertionError("handled by RankedOnceStation._run")  # never called: the loop handles these Ticks
