"""The reading station where every study is ranked once, when it becomes ready: the worklist's order known
before the run.

Where `ReadingStation.ranked_once` holds (pull dispatch, no pre-emption, no router's choice, no audit or
late AI result), a study is ranked when it becomes ready and again only at an `until` its rank names.
`rank` is a pure function of the item and `now` (the policy contract), so the ranks may be asked for
before the run, each study handed its ready time as it would be on entering (a block at a time where the
policy has a block form: `simulator/triage/columns.py`), and a double-read study's second read with it,
entering right after it. If no rank names an `until`, the worklist's order is then one total order,
`(cls, key, entry)`, numbered ahead: a lane is a heap of plain ints and a read is a few list operations,
not a dozen calls through the worklist, the dispatch and the item. Who may not read an item (the other
read's reader, the report's for a second opinion) is kept per item, and looked past as the layered
worklist does.

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
from .reading import DOUBLE_READ, Codes, ReadingStation, collector_paused

__all__ = ["EntryRanks", "Opinions", "entry_ranks", "reading_station"]

LARGE = 1_000_000  # work items from which a collection before the run pays (`reading_station`)
READY = 10  # the ready time's column in `ReadingStation._columns`
# Above this, a float and an int key may have compared differently in Python than as float64.
_EXACT = float(2 ** 53)


class EntryRanks(NamedTuple):
    """The ranks of the work items that enter before the horizon, by position in the order they enter:
    each study as it becomes ready, its second read (of a double-read study) right after it."""

    order: np.ndarray  # the entering items (indices of the station's items), in the order they enter
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
    # Its arrays go before the numbered station makes its own (a city year's are 0.4 GB): its one reference
    # cycle (its dispatch holds it) broken, so that they go now. A collection as well where the run is
    # large: measured on a city year, it lowers the peak by a further 0.2 GB; it would cost a small
    # replication 4%.
    station.dispatch = None  # type: ignore[assignment]
    large = station.n_items >= LARGE
    del station
    if large:
        gc.collect()
    return RankedOnceStation(scenario, cohort, policy, seed, replication, progress, ranks)


def _entering(station: ReadingStation) -> int:
    """How many studies, in ready order, enter the worklist before the run stops: those ready before the
    horizon (the run's stop comes first at the horizon itself)."""
    return int(np.searchsorted(station.cohort.upstream.ready_at[station.ready_order], station.horizon, side="left"))


def entry_ranks(station: ReadingStation, keep_order: bool = False, chunk: int = 1 << 16) -> EntryRanks | None:
    """Every entering item's rank, asked with the `now` it would be handed on entry; None if some rank
    names an `until`, is not a `Rank`, or cannot be numbered exactly (a class or key that is not a number,
    NaN, or a number beyond float64's exact integers). `keep_order`: keep the classes and keys in the
    worklist's order too (to place the second opinions among them)."""
    studies = station.ready_order[:_entering(station)]
    by_block = block_form(station.worklist.policy)

    def ranks_of(block: np.ndarray, second: bool = False) -> BlockRanks | None:
        if by_block is None:
            return _item_ranks(station, block, second)
        return _block_ranks(by_block, station._column_block(block, DOUBLE_READ if second else None))

    codes: dict[str, int] = {}
    orders, classes, keys, labels = [], [], [], []
    for lo in range(0, studies.shape[0], chunk):
        block = studies[lo:lo + chunk]
        ranked = ranks_of(block)
        if ranked is None:
            return None
        items = block
        doubled = station.dual_index[block] >= 0
        if doubled.any():  # each second read enters right after its study
            seconds = ranks_of(block[doubled], second=True)
            if seconds is None:
                return None
            at = np.arange(block.shape[0]) + np.cumsum(doubled) - doubled  # each study's position
            entering = np.empty(block.shape[0] + int(doubled.sum()), dtype=np.int64)
            entering[at] = np.arange(block.shape[0])
            entering[at[doubled] + 1] = block.shape[0] + np.arange(int(doubled.sum()))
            items = np.concatenate([block, station.dual_index[block[doubled]]])[entering]
            ranked = BlockRanks(*(np.concatenate([a, b])[entering] for a, b in zip(ranked, seconds)))
        cls, key, label = ranked
        if not _exact(cls) or not _exact(key):
            return None
        names, first, inverse = np.unique(label, return_index=True, return_inverse=True)
        for name in names[np.argsort(first, kind="stable")].tolist():  # in order of first entry
            codes.setdefault(name, len(codes))
        orders.append(items)
        classes.append(cls)
        keys.append(key)
        labels.append(np.array([codes[name] for name in names.tolist()], dtype=np.int16)[inverse.reshape(-1)])
    if not classes:
        none = np.zeros(0, dtype=np.int64)
        return EntryRanks(none, none, none, np.zeros(0, dtype=np.int16), [])
    order = orders[0] if len(orders) == 1 else np.concatenate(orders)
    cls, key = np.concatenate(classes), np.concatenate(keys)
    by_place = np.lexsort((np.arange(cls.shape[0]), key, cls))  # ties: the item that entered first
    place = np.empty_like(by_place)
    place[by_place] = np.arange(by_place.shape[0])
    ranks = EntryRanks(order, place, by_place, np.concatenate(labels), list(codes))
    if keep_order:
        ranks = ranks._replace(cls=_plain(cls[by_place]), key=_plain(key[by_place]))
    return ranks


def _item_ranks(station: ReadingStation, block: np.ndarray, second: bool = False) -> BlockRanks | None:
    """The ranks of a block of studies (or with `second`, of their second reads) asked item by item, each
    item exactly as `ReadingStation._on_ready` (`_double_read`) builds it on entry, ranked at its ready
    time; None if one names an `until` or is not a `Rank` (something else that answers like one: the
    layered station asks it as it goes)."""
    columns = station._columns(block)
    if second:
        columns[0], columns[2] = station.dual_index[block].tolist(), repeat(DOUBLE_READ)
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
    never equal to a study's); `heap` holds the same entries whole, `(place, cls, key, entry, index)`, in
    the layered worklist's order for them (a place is monotone in `(cls, key, entry)`). The two pop
    together: their smallest places are the same.
    """

    def __init__(self, station: "RankedOnceStation", ranks: EntryRanks) -> None:
        self.rank = station.worklist.policy.rank
        self.lane = station.worklist.lane(station.lanes.second_opinion)
        self.pools = station.lanes.pools_for[station.lanes.second_opinion]
        self.heap: list[tuple] = []
        self.entries = 0
        none = np.zeros(0, dtype=np.int64)
        cls, key = (none, none) if ranks.cls is None else (ranks.cls, ranks.key)
        # Views, not copies: `bisect` on a memoryview compares Python numbers, as the layered worklist does.
        self.cls, self.key = memoryview(cls), memoryview(key)
        self.entry = memoryview(ranks.by_place.astype(np.int64, copy=False))  # each place's position in entry order
        self.codes = Codes()  # their triage labels, numbered in order of first use here
        self.first_use: dict[str, int] = {}  # each label's first use: how many items had entered then

    def enter(self, item: Read, now: float, entered: int) -> tuple[float, tuple, int]:
        """Rank a second opinion that enters after `entered` items: its place, its rank's `(cls, key)` and
        its label's code here; `Unplaced` if the rank cannot be placed."""
        rank = self.rank(item, now)
        cls, key = _number(rank)
        if rank.label not in self.codes:
            self.first_use[rank.label] = entered
        lo = bisect_left(self.cls, cls)
        hi = bisect_right(self.cls, cls, lo)
        lo = bisect_left(self.key, key, lo, hi)
        hi = bisect_right(self.key, key, lo, hi)
        # Among items of equal rank, those that entered before it come first.
        return bisect_left(self.entry, entered, lo, hi) - 0.5, (cls, key), self.codes[rank.label]

    def wait(self, place: float, rank: tuple, index: int) -> None:
        self.entries += 1
        heappush(self.heap, (place, *rank, self.entries, index))
        heappush(self.lane, place)

    def head(self) -> int:
        return self.heap[0][4]

    def pop(self, skipped: list[tuple] = []) -> int:  # noqa: B006 (never changed)
        """Take the best waiting second opinion, `skipped` (popped before it, to be put back) aside: the
        lane's smallest places are theirs and its own."""
        heappop(self.lane)
        if skipped:
            for _ in skipped:
                heappop(self.lane)
            for entry in skipped:
                heappush(self.lane, entry[0])
        return heappop(self.heap)[4]

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
    waiting item's place, and a reader holds the index of the item they read. Its loop (`_run`) handles
    a study's two events itself; shifts and progress are the layered station's."""

    def __init__(self, scenario: Scenario, cohort: Cohort, policy: TriagePolicy, seed: int, replication: int,
                 progress: Callable[[float], None] | None, ranks: EntryRanks) -> None:
        super().__init__(scenario, cohort, policy, seed, replication, progress)
        self.ranks = ranks
        self.study_at = array("q", ranks.order[ranks.by_place].tobytes())  # the item at each place
        reading = cohort.draws.reading
        # Each item's read time, in `_items`' order: the studies', their second opinions', their second reads'.
        self.minutes = array("d", reading.read_minutes.tobytes())
        if self.n_second:
            self.minutes.extend(reading.second_read_minutes[self.parent[self.n_cohort:self.n_cohort + self.n_second]])
        doubled = self.dual_index >= 0
        if doubled.any():
            self.minutes.extend(reading.double_read_minutes[self.parent[self.n_cohort + self.n_second:]])
        self.opinions = None if self.n_second == 0 else Opinions(self, ranks)
        self.opinion_lane = None if self.opinions is None else self.opinions.lane
        # Who may not read an item (the reader of its study's report, or of its other read): only where
        # some item has someone; and each read's other read, where studies are double read.
        self.excluded = None
        if self.opinions is not None or doubled.any():
            self.excluded = array("q", np.full(self.n_items, -1, dtype=np.int64).tobytes())
        self.partner = None
        if doubled.any():
            partner = np.full(self.n_items, -1, dtype=np.int64)
            firsts = np.flatnonzero(doubled)
            partner[firsts], partner[self.dual_index[firsts]] = self.dual_index[firsts], firsts
            self.partner = array("q", partner.tobytes())
        self.arrivals: Tick | None = None  # the one Tick of the chain of studies becoming ready
        self.rows: Iterator[tuple] = iter(())

    def _start_arrivals(self) -> None:
        order = self.ranks.order
        if order.shape[0]:
            self.rows = self._entries(order)
            self.arrivals = Tick(self.env, float(self.cohort.upstream.ready_at[order[0]]), SEIZE, _in_the_loop)

    def _entries(self, order: np.ndarray, chunk: int = 1 << 16) -> Iterator[tuple]:
        """Per entering study in ready order: its index, the pools to ask and its lane's heap, its place and
        read time, when the next study is ready (infinite after the last that enters), and its second
        read's index, place and read time (None if it has none)."""
        d, u = self.cohort.draws, self.cohort.upstream
        studies, places, place_after = order, self.ranks.place, None
        if self.partner is not None:  # second reads among them: each study's position in the order of entry
            at = np.flatnonzero(order < self.n_cohort)
            studies, places = order[at], places[at]
            place_after = self.ranks.place[np.minimum(at + 1, order.shape[0] - 1)]  # a second read's, if it has one
        following = u.ready_at[studies[1:]]  # when the next study is ready
        worklist, pools_for, minutes = self.worklist, self.lanes.pools_for, self.minutes
        lane_of = [[(pools_for[lane], worklist.lane(lane)) for lane in row] for row in self.lanes.table]

        def block_at(lo: int) -> Iterator[tuple]:
            block = studies[lo:lo + chunk]
            next_at = following[lo:lo + chunk].tolist()
            if len(next_at) < block.shape[0]:
                next_at.append(math.inf)  # after the last that enters
            return zip(block.tolist(),
                       [lane_of[t][s] for t, s in zip(d.study_type[block].tolist(), u.site[block].tolist())],
                       places[lo:lo + chunk].tolist(), d.reading.read_minutes[block].tolist(), next_at,
                       repeat(None) if place_after is None else
                       [None if j < 0 else (j, p, minutes[j])
                        for j, p in zip(self.dual_index[block].tolist(), place_after[lo:lo + chunk].tolist())])

        return chain.from_iterable(map(block_at, range(0, studies.shape[0], chunk)))

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
        excluded, partner = self.excluded, self.partner
        asked, n = (self.so_index, self.n_cohort) if self.opinions is not None else (None, 0)
        entered = 0  # items that have entered the worklist (to place a second opinion among them)
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
                if excluded is None:
                    i = study_at[heappop(best)]
                else:
                    i = self._take(reader, best)
                    if i is None:
                        reader.item = None
                        reader.pool.idle[reader] = None
                        continue
                    if partner is not None and partner[i] >= 0:
                        excluded[partner[i]] = reader.code  # the other read of its study: someone else
                read_start[i] = now
                reader.item = i
                reader.resumed = now
                heappush(queue, (now + minutes_of[i], RELEASE, next(eid), tick))
            elif tick is arrivals:  # studies become ready, one after another until something else is due
                while True:
                    i, (pools, heap), place, minutes, next_at, second = next(rows)
                    entered += 1
                    reader = take_idle(pools, now)  # the one rule of who takes a ready item
                    if reader is None:
                        heappush(heap, place)
                    else:
                        self._start_read(reader, i, minutes, now)
                    if second is not None:
                        entered += 1
                        self._second_read(second, pools, heap, now)
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
        if self.partner is not None and self.partner[i] >= 0:
            self.excluded[self.partner[i]] = reader.code  # type: ignore[index]
        reader.item = i  # type: ignore[assignment]
        reader.resumed = now
        tick = reader.pending
        if tick is None:  # the reader's first read: their Tick, reused for every read after
            reader.pending = Tick(self.env, minutes, RELEASE, _in_the_loop, reader)
        else:
            heappush(self.env.heap, (now + minutes, RELEASE, next(self.env.sequence), tick))

    def _second_read(self, second: tuple[int, int, float], pools: tuple, heap: list, now: float) -> None:
        """The second read of a double-read study enters right after it (as `_double_read`): never to the
        reader who took the first."""
        j, place, minutes = second
        self.ready_at[j] = now
        reader = take_idle(pools, now, self.excluded[j])  # type: ignore[index]
        if reader is None:
            heappush(heap, place)
        else:
            self._start_read(reader, j, minutes, now)

    def _take(self, reader: Reader, best: list) -> int | None:
        """What `reader` reads next of `best`, the lane whose head is best, where some item has a reader
        it may not go to: its head, unless that is this reader's; then, as `Worklist._pop_skipping`, the
        best item of all their lanes they may read, or None."""
        opinions = self.opinions
        if best is self.opinion_lane:
            i = opinions.head()  # type: ignore[union-attr]
            if self.excluded[i] != reader.code:  # type: ignore[index]
                return opinions.pop()  # type: ignore[union-attr]
        else:
            i = self.study_at[best[0]]
            if self.excluded[i] != reader.code:  # type: ignore[index]
                heappop(best)
                return i
        return self._skipping(reader)

    def _skipping(self, reader: Reader) -> int | None:
        """The rare path: in each lane, the first item this reader may read; the best of those."""
        code, excluded, study_at, opinions = reader.code, self.excluded, self.study_at, self.opinions
        skipped: list[tuple[list, list]] = []
        best, chosen = None, None
        for lane in reader.lanes:
            held: list = []
            if lane is self.opinion_lane:
                heap = opinions.heap  # type: ignore[union-attr]
                while heap and excluded[heap[0][4]] == code:  # type: ignore[index]
                    held.append(heappop(heap))
                head = heap[0][0] if heap else None
                skipped.append((heap, held))
            else:
                while lane and excluded[study_at[lane[0]]] == code:  # type: ignore[index]
                    held.append(heappop(lane))
                head = lane[0] if lane else None
                skipped.append((lane, held))
            if head is not None and (best is None or head < best):
                best, chosen = head, (lane, held)
        taken = None
        if chosen is not None:
            lane, held = chosen
            taken = opinions.pop(held) if lane is self.opinion_lane else study_at[heappop(lane)]  # type: ignore[union-attr]
        for heap, held in skipped:
            for entry in held:
                heappush(heap, entry)
        return taken

    def _next(self, reader: Reader, now: float) -> None:
        """A reader whose shift starts takes the best head of their lanes, or waits idle."""
        best = best_head(reader.lanes)
        i = None if best is None else self.study_at[heappop(best)] if self.excluded is None else self._take(reader, best)
        if i is None:
            reader.pool.idle[reader] = None
        else:
            self._start_read(reader, i, self.minutes[i], now)

    def _second_opinion(self, i: int, j: int, first_reader: int, now: float, entered: int = 0) -> None:  # type: ignore[override]
        """As the layered station's, its rank placed among the numbered items (`Opinions`)."""
        opinions = self.opinions
        place, rank, code = opinions.enter(self._opinion_item(i, j, first_reader, now), now, entered)  # type: ignore[union-attr]
        self.label[j] = code  # numbered among all labels in `_outcome`
        self.excluded[j] = first_reader  # type: ignore[index]
        reader = take_idle(opinions.pools, now, first_reader)  # type: ignore[union-attr]
        if reader is None:
            opinions.wait(place, rank, j)  # type: ignore[union-attr]
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
