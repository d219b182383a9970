"""Where a run by blocks of time (`blocks.py`) keeps its items: in slots, each taken when its item enters
and given back once nothing will read it again, so that what the loop holds by item is sized to the items
alive at once, not to the whole horizon.

The loop indexes its inputs and outputs by item (`numbered_loop`'s `ready`, `minutes`, `partner`,
`opinion_of`, `excluded`, `place_of`, `read_start`, `reported_at`, `reader_of`) and never compares two
items' numbers, so a slot number serves it as well as the item's own: studies take slots below `studies`
(the loop's `len(ready)`), second reads and second opinions the slots past them, as the items past the
cohort's are numbered. A block's new items take their slots as the block is numbered (a study with a second
opinion takes its opinion's too, which enters when its report is signed); at the block's end the slots
whose items are reported, with their other read, and whose late AI result has come, give their outputs to
the station's arrays by item and are free again. What waits, is being read, or waits for its result keeps
its slot. More items alive at once than slots: `Crowded`, and the run is made again as one block.

This is the step toward a horizon of several years that is not held whole: the station's arrays by item
and its cohort are still the whole run's here.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .blocks import POSITION, Crowded, first_values

__all__ = ["Slots", "Crowded", "SPARE", "room"]

# Slots (and numbered places) for as many items as this many blocks' (the largest block's new items, and as
# many second reads and opinions), with `_FLOOR` more.
SPARE = 4
_FLOOR = 4096

_BY_STUDY = ("ready", "minutes", "opinion_of")  # by study slot (`minutes`: by any slot, where it holds every item's)
_BY_EXTRA = ("more_ready", "more_minutes")  # by extra slot, less `studies`
_BY_ITEM = ("partner", "excluded", "place_of", "read_start", "reported_at", "reader_of")  # by any slot (or empty)
_OUTPUTS = ("read_start", "reported_at", "reader_of")


def room(largest: int, most: int) -> int:
    """Room for the items alive at once, in a run whose largest block enters `largest`, of `most` in all:
    what waits from the blocks before takes room too."""
    return min(most, SPARE * largest + _FLOOR)


class Slots:
    """The slots of one run by blocks. `arrays` replaces the loop's arrays by item with arrays by slot
    (before the loop's arguments are made of them), `bind` takes the arguments made, `take` gives a block's
    new items their slots, `give_back` frees those done, `finish` gives every output to the station."""

    def __init__(self, station: Any, largest: int, late: np.ndarray) -> None:
        """`largest`: the most items that enter in one block; `late`: the studies whose late AI results
        come, in the order they come."""
        n = station.n_cohort
        self.n_cohort = n
        self.studies = room(largest, n)
        self.extras = room(largest, station.n_items - n)  # (at most one a study, but for a study both
        # double read and sent for a second opinion)
        self.global_of = np.full(self.studies + self.extras, -1, dtype=np.int64)
        every = self.studies + self.extras
        self.free = [np.arange(self.studies - 1, -1, -1), np.arange(every - 1, self.studies - 1, -1)]
        self.used = [0, 0]  # how many of each kind are taken: the free ones are the first of its stack
        # Each study's late result, by its position in the order results come (-1: none).
        self.result_of = np.full(n, -1, dtype=np.int32)
        self.result_of[late] = np.arange(late.shape[0])
        self.source: dict[str, np.ndarray] = {}  # the whole run's, by item: where inputs come from, outputs go
        self.none: dict[str, float] = {}  # the loop's arrays replaced by arrays by slot: what each holds for none
        self.args: list = []

    def arrays(self, columns: list, outputs: list) -> None:
        """The loop's columns and outputs by item, replaced by arrays by slot of the same types; the
        whole run's kept as where inputs come from and outputs go."""
        whole = columns + outputs
        size = {"studies": self.studies, "extras": self.extras, "items": self.studies + self.extras}
        for name in (*_BY_STUDY, *_BY_EXTRA, *_BY_ITEM, "result_item"):
            at = POSITION[name]
            values = whole[at]
            if name not in ("excluded", "place_of"):  # (those two the loop and the blocks write, from nothing)
                self.source[name] = values
            if name == "result_item":
                fresh = np.array(values)  # rewritten to slots as their studies take them; the station's kept
            elif len(values) == 0:
                continue  # none: none by slot either
            elif name == "minutes" and len(values) > self.n_cohort:
                fresh = np.zeros(size["items"], dtype=values.dtype)  # every item's
            else:
                kind = "studies" if name in _BY_STUDY else "extras" if name in _BY_EXTRA else "items"
                fresh = np.empty(size[kind], dtype=np.asarray(values).dtype)
                fresh.fill(_none(fresh))
            (columns if at < len(columns) else outputs)[at if at < len(columns) else at - len(columns)] = fresh
            self.none[name] = _none(fresh)

    def bind(self, args: list) -> None:
        """The loop's arguments as it is handed them (numpy arrays, or lists as Python runs it)."""
        self.args = args

    def take(self, items: np.ndarray) -> np.ndarray:
        """Slots for a block's new items (studies and second reads, in the order they enter), with their
        inputs written; a study's second opinion takes one too."""
        n, source = self.n_cohort, self.source
        study = items < n
        opinion = np.full(items.shape[0], -1, dtype=np.int64)
        if len(source["opinion_of"]):
            opinion[study] = _pick(source["opinion_of"], items[study])
        with_opinion = opinion >= 0
        slot = np.empty(items.shape[0], dtype=np.int64)
        slot[study] = self._pop(0, int(study.sum()))
        slot[~study] = self._pop(1, int((~study).sum()))
        opinion_slot = self._pop(1, int(with_opinion.sum()))
        every = np.concatenate([slot, opinion_slot])  # each slot taken, and its item
        taken = np.concatenate([items, opinion[with_opinion]])
        self.global_of[every] = taken
        extra = every >= self.studies
        self._put("ready", slot[study], _pick(source["ready"], items[study]))
        if len(source["opinion_of"]):
            of = np.full(items.shape[0], -1, dtype=np.int64)
            of[with_opinion] = opinion_slot
            self._put("opinion_of", slot[study], of[study])
        if len(source["minutes"]) > n:  # every item's reading time by slot
            self._put("minutes", every, _pick(source["minutes"], taken))
        else:
            self._put("minutes", slot[study], _pick(source["minutes"], items[study]))
            if len(source["more_minutes"]):
                self._put("more_minutes", every[extra] - self.studies, _pick(source["more_minutes"], taken[extra] - n))
        self._put("more_ready", every[extra] - self.studies, _pick(source["more_ready"], taken[extra] - n))
        if len(source["partner"]):
            # A second read enters right after its study (both in this block): each the other's partner.
            partner = np.full(every.shape[0], -1, dtype=np.int64)
            first = np.flatnonzero(study & (_pick(source["partner"], np.where(study, items, 0)) >= 0))
            if first.shape[0] and not (items[first + 1] == _pick(source["partner"], items[first])).all():
                raise AssertionError("a second read entered apart from its study")
            partner[first], partner[first + 1] = slot[first + 1], slot[first]
            self._put("partner", every, partner)
        for name in ("excluded", "read_start", "reported_at", "reader_of"):
            if name in self.none:
                self._put(name, every, np.full(every.shape[0], self.none[name]))
        late = self.result_of[items[study]]
        self._put("result_item", late[late >= 0], slot[study][late >= 0])
        return slot

    def give_back(self, results: int) -> None:
        """The slots whose items nothing will read again, free: reported, with their other read, their late
        AI result come (`results` have); their outputs given to the station's arrays by item."""
        used = np.flatnonzero(self.global_of >= 0)
        if used.shape[0] == 0:
            return
        reported = first_values(self.args[POSITION["reported_at"]], len(self.global_of))
        done = ~np.isnan(reported[used])
        if len(self.source["partner"]):
            partner = first_values(self.args[POSITION["partner"]], len(self.global_of))[used]
            has = partner >= 0
            done[has] &= ~np.isnan(reported[partner[has]])
        items = self.global_of[used]
        study = items < self.n_cohort
        result = np.full(used.shape[0], -1, dtype=np.int64)
        result[study] = self.result_of[items[study]]
        done &= result < results
        self._free(used[done])

    def finish(self) -> None:
        """Every output to the station's arrays by item (what was alive at the horizon included)."""
        self._free(np.flatnonzero(self.global_of >= 0))

    def item(self, slot: int) -> int:
        """The item in a slot."""
        return int(self.global_of[slot])

    def _free(self, slots: np.ndarray) -> None:
        items = self.global_of[slots]
        for name in _OUTPUTS:
            self.source[name][items] = first_values(self.args[POSITION[name]], len(self.global_of))[slots]
        self.global_of[slots] = -1
        for kind, mine in ((0, slots[slots < self.studies]), (1, slots[slots >= self.studies])):
            stack = self.free[kind]
            self.used[kind] -= mine.shape[0]
            top = stack.shape[0] - self.used[kind]
            stack[top - mine.shape[0]:top] = mine[::-1]

    def _pop(self, kind: int, count: int) -> np.ndarray:
        stack = self.free[kind]
        top = stack.shape[0] - self.used[kind]
        if count > top:
            raise Crowded
        self.used[kind] += count
        return stack[top - count:top][::-1].copy()

    def _put(self, name: str, at: np.ndarray, values: np.ndarray) -> None:
        """`values` into the loop's argument `name` at these places (slots; results for `result_item`)."""
        if at.shape[0] == 0:
            return
        target = self.args[POSITION[name]]
        if isinstance(target, list):  # (as Python runs the loop: lists of Python numbers)
            for a, v in zip(at.tolist(), values.tolist()):
                target[a] = v
        else:
            first_values(target, len(target))[at] = values


def _pick(values: Any, at: np.ndarray) -> np.ndarray:
    """`values` (an array, an `array`, a bytearray) at these indices."""
    return first_values(values, len(values))[at] if at.shape[0] else np.zeros(0)


def _none(values: np.ndarray) -> float:
    """What an array by item holds for "nothing yet": NaN for times, -1 for indices and codes."""
    return np.nan if values.dtype.kind == "f" else -1
