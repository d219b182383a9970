"""The numbered station run a block of time at a time (`numbered_loop`'s `BLOCK`).

Each block numbers its own items, those that become ready in it, together with the numbered items still
waiting from the block before: those entered first, so among equal ranks they come first, in the order they
had. The loop then gives what waits in its lanes the new numbering (`numbered_loop._renumber`), so the order
of any two entries is the one a numbering of the whole run gives, and the outcome is the same to the bit
(tests/test_blocks.py). What the loop keeps from block to block is by reader and by item (who reads what,
since when, who may not read what); what is by numbered place is made anew.

A block ends at its cut, before the first event at or after it; the loop is told when the first item after
the block becomes ready, so that its chain of studies goes on as in one block. The same events happen in
the same order: only their sequence numbers move (one more a block), which orders nothing new.

Blocks where every entry's order comes from its rank and entry alone: pull dispatch, nothing pre-empted, no
router holding studies for their site, no rank naming an `until`; anything else runs as one block. A large
replication goes by weeks (`BY_WEEKS_FROM`), any other as one block, unless `BLOCK_MINUTES` says.
This is a step toward a horizon of several years whose items are not all held at once: the loop's arrays by
numbered place and by position in the order of entry hold one block's (and what waits from before), its
arrays by item the items alive at once (`slots.py`), and each block's ranks are asked as the block begins
(`ranked_once.RanksByBlock`); the station still holds its cohort and its outputs for the whole run.
"""
from __future__ import annotations

import inspect
import math
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import mapped
from .numbered_loop import AFTER, CUT, FIRST, RESULTS, SIZE, numbered_loop

__all__ = ["Blocks", "BLOCK_MINUTES", "BY_WEEKS_FROM", "Crowded", "POSITION", "Unblocked", "first_values", "own"]

# The length of a block of time, in minutes, for every run; None: a week for a replication of `BY_WEEKS_FROM`
# studies or more (five city years: the station's peak 5.1 GB as one block, 4.4 by weeks), else one block
# (a city year by weeks: 6% slower, its peak elsewhere).
BLOCK_MINUTES: float | None = None
BY_WEEKS_FROM = 10_000_000
WEEK = 7 * 1440.0

# Each of the loop's arguments' position in its signature, by name; those the blocks read and write.
POSITION = {name: at for at, name in enumerate(inspect.signature(numbered_loop).parameters)}
_ITEM, _PLACE, _LANE, _STUDY_AT, _CLS, _KEY, _ENTRY_AT, _PLACE_OF, _GIVEN_UP, _RELABELLED, _REMAP, _BELOW = (
    POSITION[name] for name in ("item", "place", "lane", "study_at", "ranked_cls", "ranked_key", "entry_at",
                                "place_of", "given_up", "relabelled", "remap", "below"))


def own(columns: list, places: int) -> None:
    """The loop's arguments by numbered place and by position in the order of entry, which the blocks
    write, made arrays of `places`, of the types they were handed (empty): the loop compiled for a run by
    blocks is the one every run compiles."""
    for at in (_ITEM, _PLACE, _LANE, _STUDY_AT, _CLS, _KEY, _ENTRY_AT):
        columns[at] = np.zeros(places, dtype=np.asarray(columns[at]).dtype)


class Unblocked(Exception):
    """A run that cannot go by blocks of time after all (a rank names an `until`, or more items are alive
    at once than there is room for): it is made again as one block."""


class Crowded(Unblocked):
    """More items alive at once than a run by blocks has room for (`slots.py`)."""


class Blocks:
    """The blocks of one run: `start` numbers the first into the loop's arguments; at each `BLOCK` the loop
    yields, `next` numbers the next; `entered` says how many numbered items a count of the loop's is in the
    whole run's numbering; `finish` puts the late results' counts in it too."""

    def __init__(self, args: list, entries: Callable[[int], tuple[np.ndarray, ...]], bounds: np.ndarray,
                 after: np.ndarray, cuts: np.ndarray, slots: Any) -> None:
        """`entries(b)`: block b's entering items in the order they enter, with their classes, keys and
        lanes, asked as the block begins (an item is in the block it becomes ready in); `bounds`: where each
        block's begin by position in the whole run's order of entry (and the last ends); `after`: when the
        first item after each block becomes ready (inf: none); `cuts`: where each block but the last ends,
        ascending; `slots`: where the items are kept (`slots.py`)."""
        self.args = args
        self.slots = slots
        self.entries, self.bounds, self.after, self.cuts = entries, bounds, after, cuts
        self.block = -1
        self.size = 0  # the places of the block being run
        self.offset = 0  # a position of the loop's + this: the whole run's
        self.results = 0  # late results come when the block began

    def start(self, state: Any, clock: Any) -> None:
        self._number(np.zeros(0, dtype=np.int64), state, clock)

    def next(self, state: Any, clock: Any) -> None:
        """At the loop's `BLOCK`: the next block numbered, with the places the loop marked still waiting."""
        self._count(int(state[RESULTS]))
        self.slots.give_back(int(state[RESULTS]))
        mapped.let_go()  # the horizon's pages the last block touched (a large replication's: `mapped.py`)
        given_up = first_values(self.args[_GIVEN_UP], self.size)
        self._number(np.flatnonzero(given_up == 2), state, clock)

    def entered(self, entered: int) -> int:
        return entered + self.offset

    def finish(self) -> None:
        self._count(len(self.args[_RELABELLED]))

    def _count(self, results: int) -> None:
        """The late results that came in the block ended, up to `results`: their counts of numbered items
        entered (`4 * k` plus what they ranked again, `numbered_loop`'s `relabelled`; 0 where they ranked
        nothing) in the whole run's numbering. (A result's two parts come at once, never across blocks: a
        block ends only between events.)"""
        relabelled = self.args[_RELABELLED]
        if results > self.results and self.offset:
            values = np.asarray(relabelled[self.results:results], dtype=np.int64)
            values[values != 0] += 4 * self.offset
            _write(relabelled, values, self.results)
        self.results = results

    def _number(self, waiting: np.ndarray, state: Any, clock: Any) -> None:
        """The next block numbered: `waiting`, the last block's places still waiting (ascending), then the
        items that become ready in it, by rank and then entry; written into the loop's arguments."""
        args, old = self.args, self.size
        self.block += 1
        new, new_cls, new_key, new_lanes = self.entries(self.block)
        items, cls, key, lanes = new[:0], new_cls[:0], new_key[:0], new_lanes[:0]
        if waiting.shape[0]:
            items = first_values(args[_STUDY_AT], old)[waiting]
            cls = first_values(args[_CLS], old)[waiting]
            key = first_values(args[_KEY], old)[waiting]
            lanes = first_values(args[_LANE], old)[first_values(args[_ENTRY_AT], old)[waiting]]
        lo = int(self.bounds[self.block])
        m = waiting.shape[0]
        items = np.concatenate([items, self.slots.take(new).astype(new.dtype)])
        cls = np.concatenate([cls, new_cls])
        key = np.concatenate([key, new_key])
        lanes = np.concatenate([lanes, new_lanes])
        by_place = np.lexsort((key, cls))  # stable: those waiting first among equals, in their order
        place = np.empty_like(by_place)
        place[by_place] = np.arange(by_place.shape[0])
        n = by_place.shape[0]
        if n > len(args[_ITEM]):
            raise Crowded
        if old:  # where each place still waiting goes, and how many of them each entry made as the run goes follows
            remap = np.full(old, -1, dtype=np.int64)
            remap[waiting] = place[:m]
            _write(args[_REMAP], remap)
            _write(args[_BELOW], np.searchsorted(waiting, np.arange(old + 1), side="left"))
        _write(args[_ITEM], items)
        _write(args[_PLACE], place)
        _write(args[_LANE], lanes)
        _write(args[_STUDY_AT], items[by_place])
        _write(args[_CLS], cls[by_place])
        _write(args[_KEY], key[by_place])
        _write(args[_ENTRY_AT], by_place)
        _write(args[_GIVEN_UP], np.zeros(max(old, n), dtype=np.uint8))  # (at first, zeros already)
        if len(args[_PLACE_OF]):
            place_of = args[_PLACE_OF]
            if isinstance(place_of, np.ndarray):
                place_of[items] = place
            else:
                for i, p in zip(items.tolist(), place.tolist()):
                    place_of[i] = p
        self.size, self.offset = n, lo - m
        state[SIZE], state[FIRST] = n, m
        clock[CUT] = float(self.cuts[self.block]) if self.block < self.cuts.shape[0] else math.inf
        clock[AFTER] = float(self.after[self.block])


def first_values(values: Any, n: int) -> np.ndarray:
    """The first n values of one of the loop's arguments (an array, a list, an `array`, a bytearray)."""
    if isinstance(values, np.ndarray):
        return values[:n]
    if isinstance(values, (array, bytearray)):
        return np.frombuffer(values, dtype=values.typecode if isinstance(values, array) else np.uint8)[:n]
    return np.asarray(values[:n])


def _write(values: Any, new: np.ndarray, at: int = 0) -> None:
    """`new` written into one of the loop's arguments from `at` on, in its own type."""
    end = at + new.shape[0]
    if isinstance(values, np.ndarray):
        values[at:end] = new
    elif isinstance(values, bytearray):
        values[at:end] = new.astype(np.uint8).tobytes()
    elif isinstance(values, array):
        values[at:end] = array(values.typecode, new.astype(np.dtype(values.typecode)).tobytes())
    else:
        values[at:end] = new.tolist()
