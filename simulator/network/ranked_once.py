"""The reading station where every rank is known before the run: the worklist's order numbered ahead.

A study is ranked when it becomes ready (as an audit, if the autonomous-normal rule sends it to one: known on
entry, asked of the rule's block form), again when a late AI result comes, again when its router opens it to
the centre, with push again when the reader it was pushed to leaves before reading it, again when its read
is interrupted, and again at a pick once the `until` its rank names has come. `rank` is a pure function of
the item and `now` (the policy contract), and so is a router's `route`, so those ranks and routes may be asked for before the run: each study with the ready time it
would be handed on entering, a double-read study's second read with it (entering right after it), each late
result's at the time it comes, and where a router holds a study for its site's readers until a time, its rank
at that time, with its late AI result and without (`Routes`; a block at a time where the policy has a block
form: `simulator/triage/columns.py`). The worklist's order is one total order, `(cls, key, entry)`, numbered
ahead: a lane is a heap of plain ints and a read is a few list operations, not a dozen calls through the
worklist, the dispatch and the item. Where some rank names an `until` (aging; a policy of one's own), the
loop keeps those times, and a rank whose time has come is asked again at a pick, in Python, as the layered
worklist asks it (`Worklist._refresh`). Who may not read an item (the other read's
reader, the report's for a second opinion) is kept per item, and looked past as the layered worklist does.

Some entries are made as the run goes: second opinions, ranked when the primary's report is signed, items a
leaving reader held (push), ranked then, and studies a late result ranks otherwise, or their router opens to
the centre, while they wait (they give up their numbered place). They are placed between the numbered items,
where their `(cls, key, entry)` falls in the numbered order, so a reader compares heads as the layered
worklist compares the entries themselves; their labels are numbered in order of first use with the others'
(`Live`). A rank asked as the run goes that cannot be placed (not a number, or an `until` where no rank
asked ahead named one) starts the replication again on the layered station.

The run is `numbered_loop`'s, one loop over arrays (compiled by numba where it pays) that hands each second
opinion (and leaving reader's item) back here to be ranked (a lane there holds codes, `2 * place + 1` for a
study or a second read numbered `place`, `2 * place` for an entry made as the run goes that falls just before
it).

The events, their order and every output are the layered station's, to the bit (tests/test_ranked_once.py and
tests/test_numbered_loop.py run them on generated scenarios); anything else runs the layered one.
"""
from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterator
from functools import partial
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np

from ..calendar import duties
from .cohort import Cohort
from .compiled import runner
from ..scenario import Scenario
from ..triage import Rank, TriagePolicy
from ..triage.routing import CENTRAL, LOCAL
from ..triage.columns import BlockRanks, Columns, block_form
from . import blocks
from .blocks import POSITION, Unblocked
from .slots import Slots, room
from .numbered_loop import (AFTER, ASKED, BLOCK, CLS, COMPILED_FROM as NUMBERED_FROM, CUT, DUE, DUE_LATE, ENTERED,
                            HELPERS, KEY, NOW, OPINION, OPINION_RANK, RANK_LATE, RESULTS, SIZE, UNTIL, numbered_loop)
from .outcome import Outcome
from .readers import Read, Reader
from .. import mapped
from .reading import DOUBLE_READ, Codes, ReadingStation, by_item, collector_paused, numbers, per_item

__all__ = ["EntryRanks", "Live", "entry_ranks", "late_ranks", "reading_station"]

READY = 10  # the ready time's column in `ReadingStation._columns`
_EXCLUDED = POSITION["excluded"]  # who may not read each item: the loop's argument, which `_run_numbered` writes
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
    audited: np.ndarray | None = None  # the studies that enter as audits (`ReadingStation._audit`), if any
    until: np.ndarray | None = None  # float64, by place: when each rank is to be asked again (None: never, any)

    cuts = None  # a run with the whole run's ranks is one block (`RanksByBlock`: by blocks)

    @property
    def entries(self) -> int:
        return int(self.order.shape[0])

    def write_labels(self, label: np.ndarray, code: np.ndarray) -> None:
        """Each entered item's label into `label` (by item), as `code` numbers the codes into `names`."""
        label[self.order] = code[self.label]

    def first_entries(self) -> np.ndarray:
        """Where each label was first used, by position in the order of entry."""
        return _first_entries(self.label, len(self.names))



def reading_station(scenario: Scenario, cohort: Cohort, policy: TriagePolicy, seed: int, replication: int,
                    progress: Callable[[float], None] | None = None, by_blocks: bool = True) -> ReadingStation:
    """The station for one replication: ranked ahead where every rank is known on entry, else layered;
    by blocks of time where `blocks.py` says (`by_blocks` False: as one block)."""
    station = ReadingStation(scenario, cohort, policy, seed, replication, progress)
    late = station.late_score is not None
    routed = any(lane.__class__ is not str for row in station.lanes.table for lane in row)
    cuts = _cuts(station) if by_blocks and not routed else None
    with collector_paused():
        ranks = RanksByBlock(station, cuts) if cuts is not None else \
            entry_ranks(station, keep_order=station.n_second > 0 or late or station.preemption is not None
                        or routed or station.own_lanes)
        results = late_ranks(station) if late and ranks is not None else None
        routes = entry_routes(station, ranks) if routed and ranks is not None else None
    if ranks is None or (late and results is None) or (routed and routes is None):
        return station
    # Its arrays go before the numbered station makes its own (a city year's are 0.4 GB): its one reference
    # cycle (its dispatch holds it) broken, they go now, without a collection (a small replication's 4%;
    # on a city year, measured, a collection here lowered the peak by nothing).
    station.dispatch = None  # type: ignore[assignment]
    del station
    return RankedOnceStation(scenario, cohort, policy, seed, replication, progress, ranks, results, routes)


def _cuts(station: ReadingStation) -> np.ndarray | None:
    """Where the blocks of time a run is made by end (`blocks.py`: weeks for a large replication), or None:
    one block. Blocks where every
    entry's order comes from its rank and entry alone: pull dispatch, nothing pre-empted, no router holding
    studies for their site (the caller's to say), no rank naming an `until` (found as the blocks are
    ranked: `blocks.Unblocked`)."""
    minutes = blocks.BLOCK_MINUTES if blocks.BLOCK_MINUTES is not None else \
        blocks.WEEK if station.n_cohort >= blocks.BY_WEEKS_FROM else None
    if minutes is None or station.preemption is not None or station.own_lanes:
        return None
    cuts = np.arange(minutes, station.horizon, minutes)
    return cuts if cuts.shape[0] else None


def _entering(station: ReadingStation) -> int:
    """How many studies, in ready order, enter the worklist before the run stops: those ready before the
    horizon (the run's stop comes first at the horizon itself)."""
    return int(np.count_nonzero(station.cohort.upstream.ready_at < station.horizon))  # (no copy in ready order)


def entry_ranks(station: ReadingStation, keep_order: bool = False, chunk: int = 1 << 16) -> EntryRanks | None:
    """Every entering item's rank, asked with the `now` it would be handed on entry; None if some rank is
    not a `Rank` or cannot be numbered exactly (a class or key that is not a number, NaN, or a number beyond
    float64's exact integers; an `until` that is not a time). `keep_order`: keep the classes and keys in the
    worklist's order too (to place the second opinions among them), as where some rank names an `until`."""
    studies = station.ready_order[:_entering(station)]
    by_block = block_form(station.worklist.policy)
    codes: dict[str, int] = {}
    orders, classes, keys, labels, audits, untils = [], [], [], [], [], []
    for lo in range(0, studies.shape[0], chunk):
        entries = _entries(station, by_block, studies[lo:lo + chunk], codes)
        if entries is None:
            return None
        items, (cls, key, label, until), audited = entries
        audits.append(audited)
        untils.append(until if (until != math.inf).any() else None)
        orders.append(items)
        classes.append(cls)
        keys.append(key)
        labels.append(label)
    if not classes:  # (typed as any run's: numba compiles one form of the loop)
        none = np.zeros(0, dtype=station.index_type)
        return EntryRanks(none, none, none, np.zeros(0, dtype=np.int16), [])
    # Positions and item indices in 32 bits where they fit (a city year: 7 M of each, 28 MB instead of 56).
    # Each whole column is made, and its chunks let go of, before the next, a class in the fewest bits that
    # hold it: where five city years' 37 M entries are sorted was the station's peak.
    index = station.index_type
    sizes = [c.shape[0] for c in classes]
    order = np.concatenate(orders)
    del orders
    label = np.concatenate(labels)
    del labels
    cls = _plain(np.concatenate(classes))
    del classes
    key = np.concatenate(keys)
    del keys
    by_place = np.lexsort((key, cls)).astype(index)  # a stable sort: ties go to the item that entered first
    place = np.empty_like(by_place)
    place[by_place] = np.arange(by_place.shape[0], dtype=index)
    ranks = EntryRanks(order, place, by_place, label, list(codes))
    audited = np.concatenate(audits)
    if audited.shape[0]:
        ranks = ranks._replace(audited=audited)
    if any(until is not None for until in untils):
        ranks = ranks._replace(until=np.concatenate([np.full(size, math.inf) if until is None else until
                                                     for size, until in zip(sizes, untils)])[by_place])
        keep_order = True
    if keep_order:
        ranks = ranks._replace(cls=_plain(cls[by_place]), key=_key(key[by_place]))
    return ranks


def _entries(station: ReadingStation, by_block: Callable[[Columns], BlockRanks] | None, block: np.ndarray,
             codes: dict[str, int], audit: np.ndarray | None = None
             ) -> tuple[np.ndarray, BlockRanks, np.ndarray] | None:
    """A chunk of entering studies (in the order they become ready) as the items they enter as, each study
    and right after it its second read (of a double-read study that is not an audit), with their ranks
    (labels as codes into `codes`, which takes the chunk's new names) and the studies that enter as audits
    (`audit`: which, where known; else asked of the rule); None if a rank cannot be numbered exactly."""
    audit = station._audits(block) if audit is None else audit
    ranked = _ranks_of(station, by_block, block, audit=audit)
    if ranked is None:
        return None
    items = block
    doubled = (station.dual_index[block] >= 0) & ~audit  # an audit has no second read
    if doubled.any():  # each second read enters right after its study
        seconds = _ranks_of(station, by_block, block[doubled], second=True)
        if seconds is None:
            return None
        at = np.arange(block.shape[0]) + np.cumsum(doubled) - doubled  # each study's position
        entering = np.empty(block.shape[0] + int(doubled.sum()), dtype=np.int64)
        entering[at] = np.arange(block.shape[0])
        entering[at[doubled] + 1] = block.shape[0] + np.arange(int(doubled.sum()))
        items = np.concatenate([block, station.dual_index[block[doubled]]])[entering]
        ranked = BlockRanks(*(np.concatenate([a, b])[entering] for a, b in zip(ranked, seconds)))
    cls, key, label, until = ranked
    if not _exact(cls) or not _exact(key):
        return None
    return (items.astype(station.index_type, copy=False), BlockRanks(cls, key, _coded(label, codes), until),
            block[audit])


class RanksByBlock:
    """The entering items' ranks for a run by blocks of time (`blocks.py`), asked a block at a time as
    each block begins, each chunk as `entry_ranks` asks it: the whole run's are never held (five city
    years' were 0.9 GB at the station's peak, with their sort's). What is held for the whole run: which
    studies enter as audits, asked before the run (an audit's read time, and its having no second read,
    are the station's from the start); each entered item's label (a code into `names`, by item) and
    where each label was first used. The whole run's numbering a run by blocks has no use for is empty
    here, typed as the loop is handed it (`order`, `place`, `by_place`, `cls`, `key`).

    A block whose ranks cannot be numbered raises `Unplaced` (the run goes layered, as `entry_ranks`'
    None sends it); one whose ranks name an `until`, or whose classes or keys the first block's types do
    not hold, `blocks.Unblocked` (the run is made again as one block)."""

    until = None

    def __init__(self, station: ReadingStation, cuts: np.ndarray, chunk: int = 1 << 16) -> None:
        self.cuts, self.chunk = cuts, chunk
        self.studies = station.ready_order[:_entering(station)]
        self.by_block = block_form(station.worklist.policy)
        ready = station.cohort.upstream.ready_at
        # Which studies enter as audits; how many studies, and second reads, enter in each block.
        audits, studies, seconds = [], np.zeros(cuts.shape[0] + 1, dtype=np.int64), \
            np.zeros(cuts.shape[0] + 1, dtype=np.int64)
        for lo in range(0, self.studies.shape[0], chunk):
            block = self.studies[lo:lo + chunk]
            audit = station._audits(block)
            audits.append(block[audit])
            of = np.searchsorted(cuts, ready[block], side="right")  # each study's block
            studies += np.bincount(of, minlength=studies.shape[0])
            seconds += np.bincount(of[(station.dual_index[block] >= 0) & ~audit], minlength=studies.shape[0])
        audited = np.concatenate(audits) if audits else np.zeros(0, dtype=np.int64)
        self.audited = audited if audited.shape[0] else None
        self.study_bounds = np.concatenate([[0], np.cumsum(studies)])
        self.bounds = np.concatenate([[0], np.cumsum(studies + seconds)])  # by position in the order of entry
        self.entries = int(self.bounds[-1])
        self.largest = int((studies + seconds).max())
        # When the first item after each block becomes ready (inf: none): a study (its second read enters with it).
        following = self.study_bounds[1:]
        self.after = np.full(following.shape[0], math.inf)
        later = following < self.studies.shape[0]
        self.after[later] = ready[self.studies[following[later]]]
        self.codes: dict[str, int] = {}
        self.label = mapped.array(station.n_items, np.int16, -1)
        self.first: list[int] = []  # where each label was first used, by position in the order of entry
        # The types of the classes and keys: the first block's that has any (the loop's arrays are typed once).
        none = np.zeros(0, dtype=station.index_type)
        self.order = self.place = self.by_place = none
        self.cls, self.key = np.zeros(0, dtype=np.int16), np.zeros(0)
        b = int(np.argmax(studies > 0))
        if studies[b]:
            entries = _entries(station, self.by_block, self.studies[:min(chunk, int(studies[b]))], {},
                               station._audits(self.studies[:min(chunk, int(studies[b]))]))
            if entries is not None:
                self.cls, self.key = _plain(entries[1].cls)[:0], _key(entries[1].key)[:0]

    @property
    def names(self) -> list[str]:
        return list(self.codes)

    def block(self, station: ReadingStation, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Block b's entering items, in the order they enter, with their classes and keys."""
        lo, hi = int(self.study_bounds[b]), int(self.study_bounds[b + 1])
        parts = []
        for start in range(lo, hi, self.chunk):
            studies = self.studies[start:min(hi, start + self.chunk)]
            entries = _entries(station, self.by_block, studies, self.codes, station.audited[studies])
            if entries is None:
                raise Unplaced
            parts.append(entries)
        if not parts:
            return self.order, self.cls, self.key
        items = np.concatenate([items for items, _, _ in parts])
        cls, key, label, until = (np.concatenate(column) for column in zip(*(ranks for _, ranks, _ in parts)))
        if (until != math.inf).any():
            raise blocks.Unblocked  # the loop keeps the times ranks name only where they are numbered whole
        key = _key(key)
        with np.errstate(invalid="ignore"):
            typed = cls.astype(self.cls.dtype)
            if key.dtype != self.key.dtype or not np.array_equal(typed.astype(cls.dtype), cls):
                raise blocks.Unblocked
        self.label[items] = label
        for code in range(len(self.first), len(self.codes)):  # the labels first used in this block
            self.first.append(int(self.bounds[b]) + int(np.argmax(label == code)))
        return items, typed, key

    def write_labels(self, label: np.ndarray, code: np.ndarray, chunk: int = 1 << 20) -> None:
        """As `EntryRanks.write_labels`, a chunk of items at a time (five city years' entered items and
        their codes, whole, were 0.4 GB at the station's peak)."""
        for lo in range(0, label.shape[0], chunk):
            mine = self.label[lo:lo + chunk]
            entered = mine >= 0
            label[lo:lo + chunk][entered] = code[mine[entered]]

    def first_entries(self) -> np.ndarray:
        return np.array(self.first, dtype=np.int64)


class Routes(NamedTuple):
    """Where the router sends each entering item (by position in `EntryRanks.order`, as `ReadingStation._route`
    asks it on entry), and of those its site's readers hold until a time, in the order they enter: when
    each is opened to both and the rank it enters with then if it still waits (`_on_reroute`)."""

    where: np.ndarray  # int8, by entry: 0 its site's readers, 1 the centre's, 2 both (an item with one lane: 0)
    entry: np.ndarray  # the positions of those held until a time
    at: np.ndarray  # when each is opened to both, as the layered station's clock makes it
    cls: np.ndarray  # float64: its rank then, without a late AI result still to come ...
    key: np.ndarray
    late_cls: np.ndarray  # ... and with it (0 where its study has none)
    late_key: np.ndarray
    until: np.ndarray  # when each of the two is to be asked again (inf: never)
    late_until: np.ndarray


def entry_routes(station: ReadingStation, ranks: EntryRanks, chunk: int = 1 << 16) -> Routes | None:
    """The router's choice for every entering item whose study type and site have one (not an audit's),
    asked with the item and `now` it is asked with on entry (a `Router` is a pure function of the two), and
    the ranks of those it opens to both later, asked at that time, with the late AI result and without
    (the loop takes the one that holds when the time comes); None if a time is not one the clock may be set
    to, or a rank cannot be numbered (as `entry_ranks`): the layered station runs."""
    d, u = station.cohort.draws, station.cohort.upstream
    order, n = ranks.order, ranks.order.shape[0]
    second = order >= station.n_cohort
    study = station.study_of(order)
    choice = np.array([[lane.__class__ is not str for lane in row] for row in station.lanes.table], dtype=bool)
    asked = choice[d.study_type[study], u.site[study]]
    if ranks.audited is not None:
        asked[np.isin(order, ranks.audited) & ~second] = False  # an audit is not routed (and has no second read)
    where, again_at = np.zeros(n, dtype=np.int8), np.full(n, math.inf)
    by_block = block_form(station.router, "route")
    for is_second in (False, True):
        at = np.flatnonzero(asked & (second == is_second))
        for lo in range(0, at.shape[0], chunk):
            positions = at[lo:lo + chunk]
            routed = _routes_of(station, by_block, study[positions], is_second)
            if routed is None:
                return None
            chosen, until, ready = routed
            where[positions] = np.where(chosen == LOCAL, 0, np.where(chosen == CENTRAL, 1, 2))
            when = ready + (until - ready)  # as `Tick` makes it: now + delay
            if not (when >= ready).all():
                return None
            opens = (until != math.inf) & (where[positions] != 2)  # (opening to both what is there: nothing)
            again_at[positions[opens]] = when[opens]
    held = np.flatnonzero(again_at < math.inf)
    by_block = block_form(station.worklist.policy)
    rank = [np.zeros(held.shape[0]) for _ in range(4)]  # cls, key, late_cls, late_key
    untils = [np.full(held.shape[0], math.inf) for _ in range(2)]
    for is_second in (False, True):
        at = np.flatnonzero(second[held] == is_second)
        for lo in range(0, at.shape[0], chunk):
            some_held = at[lo:lo + chunk]
            block, when = study[held[some_held]], again_at[held[some_held]]
            late = np.zeros(block.shape[0], dtype=bool) if u.late_score is None else u.late_score[block]
            for result_in, some in ((False, slice(None)), (True, late)):
                if result_in and not late.any():
                    continue
                ranked = _ranks_of(station, by_block, block[some], is_second, result_in, now=when[some])
                if ranked is None or not _float_exact(ranked.cls) or not _float_exact(ranked.key):
                    return None
                rank[2 * result_in][some_held[some]], rank[2 * result_in + 1][some_held[some]] = ranked.cls, ranked.key
                untils[result_in][some_held[some]] = ranked.until
    return Routes(where, held, again_at[held], *rank, *untils)


def _routes_of(station: ReadingStation, by_block: Callable[[Columns], tuple] | None, block: np.ndarray,
               second: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The router's answers for a block of studies (or with `second`, their second reads) on entry: where,
    until, and the ready time each is asked at; from the router's block form where it has one, else item
    by item; None if an `until` is not a number."""
    if by_block is not None:
        columns = station._column_block(block, DOUBLE_READ if second else None)
        where, until = by_block(columns)
        return np.asarray(where), np.asarray(until, dtype=float), columns.now
    items, ready = _entering_items(station, block, second)
    routes = list(map(station.router.route, items, ready))
    try:
        until = np.array([route.until for route in routes], dtype=float)
    except (TypeError, ValueError):
        return None
    return np.array([route.where for route in routes], dtype=object), until, np.asarray(ready, dtype=float)


def _ranks_of(station: ReadingStation, by_block: Callable[[Columns], BlockRanks] | None, block: np.ndarray,
              second: bool = False, result_in: bool = False, audit: np.ndarray | None = None,
              now: np.ndarray | None = None) -> BlockRanks | None:
    """The ranks of a block of studies (`second`: of their second reads; `result_in`: with their late AI
    results, when each comes; `audit`: those that enter as audits, as audits; `now`: ranked at these times
    instead): from the policy's block form where it has one, else item by item; `until` always an array
    here (inf: never)."""
    if by_block is None:
        return _item_ranks(station, block, second, result_in, audit, now)
    return _block_ranks(by_block, station._column_block(block, DOUBLE_READ if second else None, result_in, audit,
                                                        now))


def _coded(label: np.ndarray, codes: dict[str, int]) -> np.ndarray:
    """Labels as int16 codes into `codes`, which takes the block's new names in order of first entry."""
    names, first, inverse = np.unique(label, return_index=True, return_inverse=True)
    for name in names[np.argsort(first, kind="stable")].tolist():
        codes.setdefault(name, len(codes))
    return np.array([codes[name] for name in names.tolist()], dtype=np.int16)[inverse.reshape(-1)]


def _item_ranks(station: ReadingStation, block: np.ndarray, second: bool = False, result_in: bool = False,
                audit: np.ndarray | None = None, now: np.ndarray | None = None) -> BlockRanks | None:
    """The ranks of a block of studies (or with `second`, of their second reads) asked item by item, each
    item exactly as `ReadingStation._on_ready` (`_route`, `_double_read`) builds it on entry, ranked at its
    ready time (those of `audit` made audits), or with `result_in` as `_scored` makes it when its late AI
    result comes, ranked then, or at `now`; None if one is not a `Rank` (something else that answers like
    one: the layered station asks it as it goes) or names an `until` that is not a time float64 holds."""
    items, ready = _entering_items(station, block, second, result_in)
    if audit is not None and audit.any():
        items = (station._audit(item) if audited else item for item, audited in zip(items, audit.tolist()))
    at = now.tolist() if now is not None else \
        station.cohort.upstream.scored_at[block].tolist() if result_in else ready  # type: ignore[index]
    ranks = list(map(station.worklist.policy.rank, items, at))
    if set(map(type, ranks)) != {Rank}:
        return None
    cls, key, label, until = zip(*ranks)
    times = _times(until)
    if times is None or set(map(type, label)) != {str}:
        return None
    return BlockRanks(np.asarray(cls), np.asarray(key), np.asarray(label, dtype=object), times)


_TIMES = {float, int, np.float64}  # what a rank's `until` may be (`_times`, `_number`)


def _times(values: tuple) -> np.ndarray | None:
    """Times as float64, or None if one is not a number float64 holds exactly (or is NaN)."""
    if not set(map(type, values)) <= _TIMES:
        return None
    times = np.asarray(values, dtype=float)
    if np.isnan(times).any() or (int in set(map(type, values))
                                 and not all(t == v for t, v in zip(times.tolist(), values))):
        return None
    return times


def _entering_items(station: ReadingStation, block: np.ndarray, second: bool = False,
                    result_in: bool = False) -> tuple[Iterator[Read], list[float]]:
    """The work items of a block of studies (or with `second`, of their second reads) as
    `ReadingStation._on_ready` (`_double_read`) builds them on entry (with `result_in`, as `_scored` makes
    them when their late AI results come), and their ready times."""
    columns = station._columns(block, result_in)
    if second:
        columns[0], columns[2] = station.dual_index[block].tolist(), repeat(DOUBLE_READ)
    return map(Read, *columns, repeat(-1), repeat(""), repeat(0), repeat(False), repeat(None),
               station.cohort.draws.reading.read_minutes[block].tolist()), columns[READY]  # type: ignore[return-value]


def late_ranks(station: ReadingStation, chunk: int = 1 << 16) -> tuple[LateRanks, LateRanks] | None:
    """The ranks that the late AI results give, in the order the results come (`_start_scores`'): each
    study's, and its second read's (as its study's for a study without one); None if one cannot be
    numbered, as `entry_ranks`. Asked a block at a time, labels kept as codes into one list of names."""
    late = station._late_order()
    by_block = block_form(station.worklist.policy)
    codes: dict[str, int] = {}

    def coded(ranks: BlockRanks) -> BlockRanks:
        return ranks._replace(label=_coded(ranks.label, codes))

    studies, seconds = [], []
    for lo in range(0, late.shape[0], chunk):
        block = late[lo:lo + chunk]
        study = _ranks_of(station, by_block, block, result_in=True)
        doubled = station.dual_index[block] >= 0
        second = study if study is None or not doubled.any() else \
            _ranks_of(station, by_block, block[doubled], second=True, result_in=True)
        if study is None or second is None:
            return None
        if doubled.any():
            second = BlockRanks(*(np.concatenate([a, b])[_second_at(doubled)] for a, b in zip(study, second)))
        for ranks in (study, second):
            if not _float_exact(ranks.cls) or not _float_exact(ranks.key):
                return None
        studies.append(coded(study))
        seconds.append(studies[-1] if second is study else coded(second))
    names = list(codes)
    if not studies:
        empty = LateRanks(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int16), np.zeros(0), names)
        return empty, empty
    return tuple(LateRanks(*(np.concatenate(column) if column else np.zeros(0) for column in zip(*parts)), names)
                 for parts in (studies, seconds))  # type: ignore[return-value]


class LateRanks(NamedTuple):
    """The ranks late AI results give, in the order they come: labels as codes into `names`."""

    cls: np.ndarray
    key: np.ndarray
    label: np.ndarray  # int16
    until: np.ndarray  # when the rank is to be asked again (inf: never)
    names: list[str]


def _second_at(doubled: np.ndarray) -> np.ndarray:
    """Indices into `[studies' values, second reads' values]` giving each study its second read's value
    where it has one, its own otherwise."""
    at = np.arange(doubled.shape[0])
    at[doubled] = doubled.shape[0] + np.arange(int(doubled.sum()))
    return at


def _block_ranks(rank_block: Callable[[Columns], BlockRanks], columns: Columns) -> BlockRanks:
    """The ranks of a block from the policy's `rank_block`, as arrays."""
    cls, key, label, until = rank_block(columns)
    n = len(columns)
    return BlockRanks(np.broadcast_to(cls, n), np.broadcast_to(key, n), np.broadcast_to(label, n),
                  np.broadcast_to(math.inf if until is None else np.asarray(until, dtype=float), n))


def _key(values: np.ndarray) -> np.ndarray:
    """Keys as float64 wherever each is one exactly, integers too: the order is the same, and a policy whose
    keys are integers runs the loop compiled for float keys, not a form of its own (some 25 s to compile,
    and a second form for every other difference); else as `_plain` gives them."""
    if values.dtype.kind in "biu" and values.shape[0] and max(-int(values.min()), int(values.max())) >= _EXACT:
        return _plain(values)
    return values.astype(np.float64, copy=False)


def _plain(values: np.ndarray) -> np.ndarray:
    """Numbers that Python compares as the policy's own: integers in the fewest bits that hold them (a
    class is a small number), float64 otherwise (exact, by `_exact`)."""
    if values.dtype.kind not in "biu":
        return values.astype(np.float64)
    if values.shape[0] == 0:
        return values.astype(np.int64)
    low, high = int(values.min()), int(values.max())
    return values.astype(next(t for t in (np.int16, np.int32, np.int64)
                              if np.iinfo(t).min <= low and high <= np.iinfo(t).max))


def _float_exact(values: np.ndarray) -> bool:
    """`_exact`, and every value one that a float64 holds exactly (the loop holds these as floats)."""
    return _exact(values) and (values.dtype.kind == "f" or values.shape[0] == 0
                               or max(-int(values.min()), int(values.max())) < _EXACT)


def _exact(values: np.ndarray) -> bool:
    """Whether numpy orders these values as Python orders the policy's numbers."""
    if values.dtype.kind in "biu":
        return values.dtype.kind != "u" or values.shape[0] == 0 or int(values.max()) < 2 ** 63
    if values.dtype.kind != "f":
        return False  # objects, strings, tuples: Python's order, not one numpy keeps
    finite = values[np.isfinite(values)]
    return not np.isnan(values).any() and (finite.shape[0] == 0 or float(np.abs(finite).max()) < _EXACT)


_KEPT = 1 << 16  # items kept to be ranked again (`RankedOnceStation._rank_again`)


class Unplaced(Exception):
    """A second opinion's rank that cannot be placed among the numbered studies."""


class Live:
    """The labels of entries ranked as the run goes (second opinions; studies a late AI result ranks again),
    numbered in order of first use, as the layered station numbers its labels (`label_order`)."""

    def __init__(self, label: np.ndarray) -> None:
        self.codes = Codes()  # their labels, numbered in the order first seen here
        # Each label's first use: how many numbered items had entered by then, then the order of uses (a
        # late result's place in the order results come; a second opinion's ahead of the results after it).
        self.first_use: dict[str, tuple] = {}
        # An item's label, a code here (-1: none): written into the station's labels, which hold nothing else
        # until its outcome (`RankedOnceStation._outcome`), not an array of its own (a city year's, 15 MB).
        self.label = label
        self.opinions = 0

    def labelled(self, index: int | np.ndarray, label: str, when: tuple) -> None:
        self.label[index] = self.codes[label]
        if when < self.first_use.get(label, (math.inf,)):
            self.first_use[label] = when

    def opinion(self, index: int, label: str, entered: int, results: int) -> None:
        """A second opinion's label, `entered` numbered items and `results` late results having come."""
        self.labelled(index, label, (entered, results, -1, self.opinions))
        self.opinions += 1

    def results(self, relabelled: np.ndarray, late: np.ndarray, partner: array | None,
                ranks: tuple[LateRanks, LateRanks]) -> None:
        """The labels late results gave (the loop's `relabelled`, for the studies `late`) to each study and
        second read that still waited, used first in the order the results came (a study's, then its
        second read's)."""
        came = np.flatnonzero(relabelled)
        for kind, given in enumerate(ranks):
            x = came[relabelled[came] & (1 << kind) != 0]  # the results that ranked such a read again
            if x.shape[0] == 0:
                continue
            items = late[x] if kind == 0 else \
                numbers(partner)[late[x]]  # type: ignore[arg-type]
            label = given.label[x]
            codes, first = np.unique(label, return_index=True)
            for code, at in zip(codes.tolist(), x[first].tolist()):  # each label, from its first use here
                self.labelled(items[label == code], given.names[code], (int(relabelled[at]) >> 2, at, kind, 0))

    def label_order(self, names: list[str], first_entry: np.ndarray) -> list[str]:
        """Every label, the numbered items' (`names`, first used by the item entering at `first_entry`)
        and the live entries', in order of first use: one used after k numbered entries precedes the k-th."""
        first = {name: (2 * int(at) + 1,) for name, at in zip(names, first_entry)}
        for name, (entered, *then) in self.first_use.items():
            first[name] = min(first.get(name, (math.inf,)), (2 * entered, *then))
        return sorted(first, key=first.__getitem__)


def _number(rank: Rank, timed: bool) -> tuple[float, float, float]:
    """A rank's class, key and `until` as numbers the numbered order may hold, or `Unplaced` (an `until`
    where the run was numbered without them: `timed` False)."""
    if type(rank) is not Rank:
        raise Unplaced
    until = rank.until
    if until != math.inf and not (timed and type(until) in _TIMES and float(until) == until):
        raise Unplaced  # (float(NaN) is not NaN: refused too)
    for value in (rank.cls, rank.key):
        if not isinstance(value, (int, float, np.integer, np.floating)) or value != value:
            raise Unplaced
    return rank.cls, rank.key, float(rank.until)


class RankedOnceStation(ReadingStation):
    """`ReadingStation` with the worklist's order numbered ahead (`EntryRanks`), the whole run
    `numbered_loop`'s (over arrays, compiled where it pays): second opinions, and with push the work a
    leaving reader held, ranked as it asks for them, the ranks late AI results give asked ahead
    (`LateRanks`)."""

    def __init__(self, scenario: Scenario, cohort: Cohort, policy: TriagePolicy, seed: int, replication: int,
                 progress: Callable[[float], None] | None, ranks: EntryRanks | RanksByBlock,
                 results: tuple[LateRanks, LateRanks] | None = None, routes: Routes | None = None) -> None:
        super().__init__(scenario, cohort, policy, seed, replication, progress)
        self.ranks, self.results, self.routes = ranks, results, routes
        # Some rank asked ahead names a time to be asked again: the loop keeps those times, asks again at a pick.
        untils = [ranks.until, *(() if results is None else (results[0].until, results[1].until)),
                  *(() if routes is None else (routes.until, routes.late_until))]
        self.timed = any(until is not None and bool((until < math.inf).any()) for until in untils)
        reading = cohort.draws.reading
        # Each item's read time, in `_items`' order: the studies', their second opinions', their second reads':
        # the studies' the draws' own (a city year's, 58 MB), the rest the station's; all the station's where
        # some study's differs (an audit's) or the loop writes them (what is left of a pre-empted read).
        doubled = self.dual_index >= 0
        more = [reading.second_read_minutes,  # (one per second opinion, in their order)
                reading.double_read_minutes[self.parent[self.n_second:]] if doubled.any() else []]
        self.minutes, self.more_minutes = reading.read_minutes, np.concatenate(more)
        if ranks.audited is not None or self.preemption is not None:
            self.minutes, self.more_minutes = np.concatenate([self.minutes, self.more_minutes]), np.zeros(0)
        if ranks.audited is not None:  # an audit is read for its own minutes, and has no second read
            self.audited[ranks.audited] = True
            self.minutes[ranks.audited] = reading.audit_minutes[ranks.audited]  # type: ignore[index]
            doubled &= ~self.audited
        self.live = Live(np.frombuffer(self.label, dtype=np.int16)) if self.n_second or results is not None \
            else None
        # Who may not read an item (the reader of its study's report, or of its other read): only where
        # some item has someone; and each read's other read, where studies are double read.
        self.excluded = None
        if self.n_second or doubled.any():
            # (A run by blocks keeps them by slot, in an array of `slots.py`'s, told by one value here that
            # some item may have someone: the whole run's is never made.)
            self.excluded = per_item(1 if ranks.cuts is not None else self.n_items, "i", -1)  # reader codes
        self.partner = None
        if doubled.any():
            partner = np.full(self.n_items, -1, dtype=np.int32 if self.n_items < 2 ** 31 else np.int64)
            firsts = np.flatnonzero(doubled)
            partner[firsts], partner[self.dual_index[firsts]] = self.dual_index[firsts], firsts
            self.partner = by_item(partner)
        self.gone = bytearray(ranks.entries)  # 1: a numbered place given up by a study ranked again
        self._asked: dict[tuple[int, bool], Read] = {}  # the items `_rank_again` built, by (item, result in)
        self.blocks_run, self.slots_held = 0, None  # (once run) how many blocks; by blocks, the slots it had

    def _opinion_rank(self, i: int, j: int, first_reader: int, now: float, entered: int,
                      results: int) -> tuple[float, float, float]:
        """Study i's second opinion j, asked as its report is signed: its rank's class, key and `until`
        (`Unplaced` if the numbered order cannot hold them), its label; never for the reader who signed the
        report."""
        rank = self.worklist.policy.rank(self._opinion_item(i, j, first_reader, now), now)
        ranked = _number(rank, self.timed)
        self.live.opinion(j, rank.label, entered, results)  # type: ignore[union-attr]
        return ranked

    def _rank_again(self, i: int, result_in: bool, now: float) -> tuple[float, float, float]:
        """The rank of item i asked again now (with push, the reader it waited for having left:
        `Push.off_duty`; its read interrupted, or its `until` come: `Worklist.push`, `_refresh`): the item as
        the layered station holds it then (`result_in`: its late AI result came); `Unplaced` as
        `_opinion_rank`. The items asked for are kept, the last `_KEPT` of them: a rank that names a time
        soon is asked again and again while its item waits (building one costs some 10 us)."""
        item = self._asked.get((i, result_in))
        if item is None:
            item = self._item_again(i, result_in)
            if len(self._asked) >= _KEPT:
                del self._asked[next(iter(self._asked))]  # the first kept
            self._asked[(i, result_in)] = item
        return _number(self.worklist.policy.rank(item, now), self.timed)

    def _item_again(self, i: int, result_in: bool) -> Read:
        """Item i as the layered station holds it once entered (`result_in`: with its late AI result)."""
        if self.n_cohort <= i < self.n_cohort + self.n_second:  # a second opinion, as it was made
            first_reader = int(self.excluded[i])  # type: ignore[index]
            k = i - self.n_cohort
            return self._opinion_item(int(self.parent[k]), i, first_reader, self.more_ready[k])
        second = i >= self.n_cohort
        study = int(self.parent[i - self.n_cohort]) if second else i
        item = next(_entering_items(self, np.array([study]), second, result_in)[0])
        return self._audit(item) if not second and self.audited[study] else item

    def run(self) -> Outcome:
        try:
            with collector_paused():
                self._run_numbered()
            return self._outcome()
        except Unblocked:  # too many items alive at once for the slots, or a rank's `until`: as one block
            again = reading_station(self.scenario, self.cohort, self.worklist.policy, self.seed, self.replication,
                                    self.progress, by_blocks=False)
            outcome = again.run()
            self.blocks_run = getattr(again, "blocks_run", 0)
            return outcome
        except Unplaced:  # a second opinion's rank the numbered order cannot hold: all of it layered
            return ReadingStation(self.scenario, self.cohort, self.worklist.policy, self.seed, self.replication,
                                  self.progress).run()

    def _run_numbered(self) -> None:
        """The whole run in `numbered_loop`, which hands each second opinion back to be ranked
        (`_opinion_rank`). Progress is reported there, a day at a time (a run without second opinions is
        short, and reports none)."""
        ranks = self.ranks
        n = ranks.entries
        loop, compiled = runner(numbered_loop, n, NUMBERED_FROM, HELPERS)
        cuts = self._cuts()
        if cuts is not None and self.timed:
            raise Unblocked  # a late result's rank names an `until`: the loop keeps those numbered whole
        columns, readers, late = self._loop_columns()
        places = n  # the numbered places the loop holds at once
        if cuts is not None:
            places = room(ranks.largest, n)
            blocks.own(columns, places)
        rows = len(readers)
        relabelled = np.zeros(late.shape[0], dtype=np.int64)
        renumbered = np.zeros(0 if cuts is None else places + 1, dtype=np.int64)  # `remap` and `below`
        outputs = [np.frombuffer(self.read_start), np.frombuffer(self.reported_at),
                   np.frombuffer(self.reader_of, dtype=np.int32), np.zeros(rows), np.zeros(rows, dtype=np.int64),
                   np.zeros(rows), np.full(rows, -1, dtype=np.int64), np.zeros(rows),
                   np.frombuffer(self.gone, dtype=np.uint8), relabelled, renumbered, renumbered.copy()]
        state, clock = np.full(6, -1, dtype=np.int64), np.zeros(6)
        state[SIZE], clock[CUT], clock[AFTER] = n, math.inf, math.inf  # one block, unless `blocks` number them
        slots = None
        if cuts is not None:  # the loop's arrays by item sized to the items alive at once (`slots.py`)
            slots = Slots(self, ranks.largest, late)
            slots.arrays(columns, outputs)
            self.excluded = None  # (the loop's, by slot: the whole run's goes)
        if compiled:  # (numpy views of the station's `array`s, which share their memory)
            args = [np.frombuffer(c, dtype=c.typecode) if isinstance(c, array) else
                    np.ascontiguousarray(c) if isinstance(c, np.ndarray) else c for c in columns]
        else:
            args = list(map(partial(_for_python, many=n >= NUMBERED_FROM), columns))
            by_item = [self.read_start, self.reported_at, self.reader_of] if slots is None else \
                [_for_python(o, many=n >= NUMBERED_FROM) for o in outputs[:3]]
            outputs = [*by_item, *(o.tolist() for o in outputs[3:8]), self.gone, *(o.tolist() for o in outputs[9:])]
            state, clock = state.tolist(), clock.tolist()  # type: ignore[assignment]
        runs = None
        if cuts is not None:
            slots.bind(args + outputs)  # type: ignore[union-attr]
            runs = blocks.Blocks(args + outputs, self._block_entries, ranks.bounds, ranks.after, cuts, slots)
            runs.start(state, clock)
        parent, n, day = self.parent, self.n_cohort, 1440.0
        for asked in loop(*args, *outputs, state, clock):  # a rank asked for: given, then on
            if asked == BLOCK:
                runs.next(state, clock)  # type: ignore[union-attr]
                continue
            at, now = int(state[OPINION]), float(clock[NOW])
            j = at if slots is None else slots.item(at)  # the item, where the loop has its slot
            if asked == OPINION_RANK:
                entered = int(state[ENTERED]) if runs is None else runs.entered(int(state[ENTERED]))
                first_reader = int(readers[int(state[ASKED])].code)
                cls, key, until = self._opinion_rank(int(parent[j - n]), j, first_reader, now, entered,
                                                     int(state[RESULTS]))
                args[_EXCLUDED][at] = first_reader  # never to the reader who signed the report
            else:
                cls, key, until = self._rank_again(j, asked == RANK_LATE or asked == DUE_LATE, now)
            if float(cls) != cls or float(key) != key:
                raise Unplaced  # not a number the loop's float64 holds exactly
            if asked >= DUE and not until > now:  # a time already past would be asked again at once, forever
                until = math.nextafter(now, math.inf)  # (`Worklist._refresh`)
            clock[CLS], clock[KEY], clock[UNTIL] = cls, key, until
            if self.progress is not None and now >= day:
                self.progress(now / self.horizon)
                day = now + 1440.0
        self.blocks_run = 1 if runs is None else runs.block + 1
        self.slots_held = None if slots is None else (slots.studies, slots.extras)
        if runs is not None:
            runs.finish()
            slots.finish()  # type: ignore[union-attr]
        busy, reads, overtime, holding, resumed = outputs[3:8]
        for r, reader in enumerate(readers):
            reader.busy, reader.reads, reader.overtime = float(busy[r]), int(reads[r]), float(overtime[r])
            reader.item = None if holding[r] < 0 else \
                int(holding[r]) if slots is None else slots.item(int(holding[r]))  # type: ignore[assignment]
            reader.resumed = float(resumed[r])
        if self.results is not None:
            self.live.results(np.asarray(outputs[9], dtype=np.int64), late, self.partner,  # type: ignore[union-attr]
                              self.results)

    def _cuts(self) -> np.ndarray | None:
        """Where the blocks of time the loop is run by end (`blocks.py`), or None: one block."""
        return self.ranks.cuts

    def _block_entries(self, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Block b's entering items in the order they enter (`blocks.Blocks`), with their classes, keys and
        lanes; a second read is ready with its study."""
        items, cls, key = self.ranks.block(self, b)  # type: ignore[union-attr]
        study = self.study_of(items)
        second = items >= self.n_cohort
        ready = self.cohort.upstream.ready_at
        np.frombuffer(self.more_ready)[items[second] - self.n_cohort] = ready[study[second]]
        lanes = _lanes_in(self.lane_of, self.cohort.draws.study_type, self.cohort.upstream.site, study, None)
        if self.ranks.audited is not None:
            lanes[self.audited[study]] = self.audit_lane
        return items, cls, key, lanes

    def _loop_columns(self) -> tuple[list, list[Reader], np.ndarray]:
        """`numbered_loop`'s inputs (`item` to `second_key`), the readers of its rows, in the order duties
        start (their rows and codes made as the layered station makes them, `_on_duty`), and the studies
        whose late results come, in the order they come."""
        ranks, lanes = self.ranks, self.lanes
        d, u = self.cohort.draws, self.cohort.upstream
        order = ranks.order  # what enters, in order: each study, and right after it its second read
        study = order  # the study of each
        if self.partner is not None:
            doubled = order >= self.n_cohort
            study = self.study_of(order)
            # (A second read is ready with its study.)
            np.frombuffer(self.more_ready)[order[doubled] - self.n_cohort] = u.ready_at[study[doubled]]
        names = list(lanes.pools_for)  # the lanes, numbered
        lane_id = {id(self.worklist.lane(name)): number for number, name in enumerate(names)}
        pools = list(lanes.pools.values())
        pool_id = {id(pool): number for number, pool in enumerate(pools)}
        # Per study type and site, its lane as the router chooses it (its site's readers, the centre's,
        # both), or its one lane three times.
        lane_of = np.array([[[names.index(name) for name in (lane if lane.__class__ is not str else (lane,) * 3)]
                             for lane in row] for row in lanes.table], dtype=np.int64)
        opinion_lane, audit_lane = names.index(lanes.second_opinion), names.index(lanes.audit)
        self.lane_of, self.audit_lane = lane_of, audit_lane  # (a run by blocks makes each block's lanes)
        lane_pools = [[pool_id[id(pool)] for pool in lanes.pools_for[name]] for name in names]
        used = set(lane_of.ravel().tolist()) | ({opinion_lane} if self.n_second else set()) \
            | ({audit_lane} if ranks.audited is not None else set())
        pool_lanes = [[lane_id[id(heap)] for heap in pool.lanes if lane_id[id(heap)] in used] for pool in pools]
        every = duties(self.scenario)
        start = [max(duty.start, 0.0) for duty in every]
        first_row, readers = [-1] * len(every), []
        # Rows in the order duties start: by time, then as scheduled (the order of `duties`).
        for number in sorted(range(len(every)), key=start.__getitem__):
            if start[number] < self.horizon:
                first_row[number] = len(readers)
                readers += self._on_duty(number, every[number])
        # Who may not read an item: the station's own array, which `_opinion_rank` writes as the loop runs.
        # (Where none is barred or double read, empty arrays of the type of full ones: a city year has 7 M
        # items, and every run compiles the same form of the loop.)
        excluded = np.zeros(0, dtype=np.int32) if self.excluded is None else self.excluded
        row_pool = np.array([pool_id[id(r.pool)] for r in readers], dtype=np.int64)
        # The lanes each reader reads, by row: their pool's; with push, their own first (`len(names) + row`).
        own = self.own_lanes
        reads = [([len(names) + row] if own else []) + pool_lanes[p] for row, p in enumerate(row_pool.tolist())]
        units = self._units() if own else np.zeros(0)
        partner = np.zeros(0, dtype=np.int32) if self.partner is None else \
            numbers(self.partner)
        routes = self.routes
        lane_in = _lanes_in(lane_of, d.study_type, u.site, study, None if routes is None else routes.where)
        if ranks.audited is not None:
            lane_in[self.audited[study]] = audit_lane
        columns = [order, u.ready_at, np.frombuffer(self.more_ready), ranks.place,
                   lane_in,
                   ranks.order[ranks.by_place], self.minutes, self.more_minutes,  # (the item at each place)
                   partner, numbers(self.so_index), opinion_lane, excluded,
                   *_csr(lane_pools), *_csr(reads), np.array(start, dtype=float),
                   np.array([duty.end for duty in every], dtype=float), np.array(first_row, dtype=np.int64),
                   np.array([duty.staff for duty in every], dtype=np.int64),
                   # (typed, so that no duty and no reader makes the same loop as any other: numba's types)
                   row_pool, np.array([r.off_at for r in readers], dtype=float),
                   np.array([not r.gone for r in readers], dtype=bool),
                   np.array([r.code for r in readers], dtype=np.int64), units, float(self.horizon),
                   float(self.warmup),
                   self.preemption is not None]
        none = np.zeros(0, dtype=np.int64)
        # (No ranks kept, where nothing is ranked again, typed as kept ones are, a small class and a float key:
        # a run without late results and one with them compile one loop, not two.)
        columns += [np.zeros(0, dtype=np.int16), np.zeros(0)] if ranks.cls is None else [ranks.cls, ranks.key]
        # The times ranks name to be asked again, where some rank names one (float64 always, empty or not, so
        # that no run types the loop anew: numba's types).
        timed, never = self.timed, np.zeros(0)
        columns.append(never if not timed else np.full(order.shape[0], math.inf) if ranks.until is None
                       else ranks.until)
        columns.append(ranks.by_place)
        late = none
        if self.results is None:  # (typed as the results' own: the city and the network city, one loop)
            columns += [np.zeros(0, dtype=ranks.place.dtype), np.zeros(0), none, none, np.zeros(0), none, np.zeros(0)]
        else:
            # (By blocks, by slot: one value here says some item has a place, as `excluded`.)
            place_of = np.full(self.n_items if ranks.cuts is None else 1, -1, dtype=ranks.place.dtype)
            place_of[order] = ranks.place
            # (The order sorted again rather than kept from `late_ranks`: kept, it lifted the network city
            # year's peak by 47 MB, measured, to save one sort.)
            late = self._late_order()
            to_study, to_second = self.results
            columns += [place_of, u.scored_at[late], late, to_study.cls, _key(to_study.key), to_second.cls,
                        _key(to_second.key)]
        columns += [to_study.until, to_second.until] if timed and self.results is not None else [never, never]
        if routes is None:
            columns += [none, np.zeros(0), np.zeros(0, dtype=np.int16), *[np.zeros(0)] * 4]
        else:
            held = study[routes.entry]
            both = lane_of[d.study_type[held], u.site[held], 2].astype(np.int16)
            columns += [routes.entry, routes.at, both, routes.cls, _key(routes.key), routes.late_cls,
                        _key(routes.late_key)]
        columns += [routes.until, routes.late_until] if timed and routes is not None else [never, never]
        return columns, readers, late

    def _units(self) -> np.ndarray:
        """With push, each item's workload units (`Push.units`, by its study's type)."""
        study = self.study_of(np.arange(self.n_items))
        per_type = self.dispatch.units  # type: ignore[attr-defined]
        return np.array([per_type[name] for name in self.cohort.draws.type_names], dtype=float)[
            self.cohort.draws.study_type[study]]

    def _outcome(self) -> Outcome:
        ranks, live = self.ranks, self.live
        label = np.frombuffer(self.label, dtype=np.int16)
        names = ranks.names
        if live is None:
            ranks.write_labels(label, np.arange(len(names), dtype=np.int16))
        else:  # one numbering, in order of first use, as the layered station gives it
            given = np.flatnonzero(label >= 0)  # the labels given as the run went (`Live`), in its codes
            live_codes = label[given]
            names = live.label_order(ranks.names, ranks.first_entries())
            code = {name: number for number, name in enumerate(names)}
            ranks.write_labels(label, np.array([code[name] for name in ranks.names] or [0], dtype=np.int16))
            label[given] = np.array([code[name] for name in live.codes] or [0], dtype=np.int16)[live_codes]
        self.label_codes = Codes(zip(names, range(len(names))))
        return super()._outcome()


def _lanes_in(lane_of: np.ndarray, study_type: np.ndarray, site: np.ndarray, study: np.ndarray,
              where: np.ndarray | None, chunk: int = 1 << 20) -> np.ndarray:
    """Each entry's lane (int16) from its study's type and site (`where`: the router's choice, by entry;
    None: the one lane), a chunk at a time: a city year's types and sites of its entries, with their lanes
    as 64-bit indices, were some 110 MB at the station's peak."""
    lanes = np.empty(study.shape[0], dtype=np.int16)
    for lo in range(0, study.shape[0], chunk):
        some = study[lo:lo + chunk]
        lanes[lo:lo + chunk] = lane_of[study_type[some], site[some], 0 if where is None else where[lo:lo + chunk]]
    return lanes


def _first_entries(label: np.ndarray, codes: int, chunk: int = 1 << 20) -> np.ndarray:
    """Where each of the `codes` labels is first used (by position in the order of entry), a chunk at a time:
    labels are coded in order of first use, so most are found in the first chunk (`np.unique` over a city
    year's entries sorted a copy of them, some 80 MB at the station's peak)."""
    first = np.full(codes, -1, dtype=np.int64)
    for lo in range(0, label.shape[0], chunk):
        values, at = np.unique(label[lo:lo + chunk], return_index=True)
        new = first[values] < 0
        first[values[new]] = lo + at[new]
        if (first >= 0).all():
            break
    return first


def _for_python(column: Any, many: bool) -> Any:
    """A numpy column as the loop run as Python reads it fastest: a list, or for many studies (numba not
    installed) an `array`, compact; anything else (a number, the station's own `array`s) as it is."""
    if not isinstance(column, np.ndarray):
        return column
    if not many:
        return column.tolist()
    whole = column.dtype.kind in "iub"
    return array("q" if whole else "d", column.astype(np.int64 if whole else float).tobytes())


def _csr(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Lists of ints as one array and where each starts (the last entry: where the last ends)."""
    at = np.zeros(len(lists) + 1, dtype=np.int64)
    at[1:] = np.cumsum([len(values) for values in lists])
    return at, np.array([v for values in lists for v in values], dtype=np.int64)
