"""The reading worklist: one heap per lane, ranked by a triage policy, with time-dependent ranks.

Complexity, for n waiting items and a reader who may read L lanes:
- `push`: one `rank` call and O(log n);
- `pop_for`: O(L + log n) plus the re-ranks that fell due;
- a rank that changes with time (aging, say) costs one `rank` call and O(log n) when its `until` passes,
  and nothing before: the worklist keeps a heap of those times and never re-sorts everything.
Stale heap entries are dropped lazily when they reach a head.
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .item import WorkItem
from .policy import TriagePolicy

__all__ = ["Worklist", "best_head"]

Lane = list  # a heap of entries [cls, key, seq, item]


def best_head(lanes: Sequence[list], order: Callable[[list], Any] | None = None) -> list | None:
    """The lane whose head comes first in the worklist's order (the smallest: class, key, then entry), or
    None when all are empty: how a free reader chooses among their lanes. Heads must be current.
    `order`: what a lane's head is compared by, where its first entry alone does not say it."""
    best = None
    if order is None:
        for heap in lanes:
            if heap and (best is None or heap[0] < best[0]):
                best = heap
        return best
    first = None
    for heap in lanes:
        if heap:
            head = order(heap)
            if best is None or head < first:
                best, first = heap, head
    return best


class Worklist:
    """Waiting work items, ordered by `policy` within each lane; readers take the best of their lanes."""

    def __init__(self, policy: TriagePolicy) -> None:
        self.policy = policy
        self._lanes: dict[str, Lane] = {}
        self._due: list = []  # heap of (until, seq, entry): ranks to ask for again
        self._seq = 0
        self._size = 0

    def lane(self, name: str) -> Lane:
        """The heap of one lane, created empty on first use; readers keep references to theirs."""
        heap = self._lanes.get(name)
        if heap is None:
            heap = self._lanes[name] = []
        return heap

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[WorkItem]:
        """Waiting items, in no particular order."""
        for heap in self._lanes.values():
            for entry in heap:
                if entry[3].entry is entry:
                    yield entry[3]

    def push(self, item: WorkItem, now: float) -> None:
        """Put an item on the worklist. Its first rank's label is kept as the item's triage label.

        A pre-empted item (`item.preempted`) goes to the head of its class, ahead of everything that
        entered after it was first started.
        """
        rank = self.policy.rank(item, now)
        if not item.label:
            item.label = rank.label
        self._size += 1
        self._insert(item, rank.cls, -math.inf if item.preempted else rank.key, rank.until)

    def admit(self, item: WorkItem, now: float) -> None:
        """Rank an item that is taken at once, without queueing it: it gets its label and class."""
        rank = self.policy.rank(item, now)
        if not item.label:
            item.label = rank.label
        item.cls = rank.cls

    def withdraw(self, item: WorkItem) -> None:
        """Take a waiting item off the worklist without reading it (to route it elsewhere). O(1): its heap
        entry goes stale and is dropped when it reaches a head."""
        if item.entry is None:
            raise ValueError(f"item {item.index} is not waiting")
        item.entry = None
        self._size -= 1

    def rerank(self, item: WorkItem, now: float) -> bool:
        """Rank a waiting item again, its fields having changed (an AI result came). If it ranks as it
        stands (same class and key, and no time to ask again), it keeps its place, ahead of its equals that
        entered after it, and takes the new rank's label: True. Otherwise False, and nothing changed: the
        caller enters it again."""
        entry = item.entry
        if entry is None:
            raise ValueError(f"item {item.index} is not waiting")
        rank = self.policy.rank(item, now)
        if rank.cls != entry[0] or rank.key != entry[1] or rank.until != math.inf:
            return False
        item.label = rank.label
        return True

    def waiting_in(self, lane: str) -> list[WorkItem]:
        """The items waiting in one lane, best first."""
        heap = self._lanes.get(lane, [])
        return [entry[3] for entry in sorted(heap) if entry[3].entry is entry]

    def _insert(self, item: WorkItem, cls: int, key: float, until: float) -> None:
        self._seq += 1
        entry = [cls, key, self._seq, item]
        item.cls = cls
        item.entry = entry
        heap = self._lanes.get(item.lane)
        if heap is None:
            heap = self.lane(item.lane)
        heapq.heappush(heap, entry)
        if until != math.inf:
            heapq.heappush(self._due, (until, self._seq, entry))

    def _refresh(self, now: float) -> None:
        due = self._due
        while due and due[0][0] <= now:
            entry = heapq.heappop(due)[2]
            item = entry[3]
            if item.entry is entry:  # still waiting with this rank
                rank = self.policy.rank(item, now)
                # A policy that names a time already past would be asked again forever; ask at the next pick.
                until = rank.until if rank.until > now else math.nextafter(now, math.inf)
                self._insert(item, rank.cls, -math.inf if item.preempted else rank.key, until)

    def pop_for(self, lanes: Sequence[Lane], now: float, reader: int = -1) -> WorkItem | None:
        """Take the best item of `lanes` that `reader` may read, or None."""
        if self._due:
            self._refresh(now)
        for heap in lanes:
            while heap and heap[0][3].entry is not heap[0]:
                heapq.heappop(heap)
        best = best_head(lanes)
        if best is None:
            return None
        if best[0][3].exclude_reader == reader and reader >= 0:
            return self._pop_skipping(lanes, reader)
        entry = heapq.heappop(best)
        return self._taken(entry)

    def _taken(self, entry: list) -> WorkItem:
        item = entry[3]
        item.entry = None
        self._size -= 1
        return item

    def _pop_skipping(self, lanes: Sequence[Lane], reader: int) -> WorkItem | None:
        """The rare path: the head is excluded for this reader, so look past it in every lane."""
        best_entry = None
        for heap in lanes:
            held = []
            while heap:
                entry = heapq.heappop(heap)
                if entry[3].entry is not entry:
                    continue
                held.append(entry)
                if entry[3].exclude_reader != reader:
                    break
            for entry in held:
                heapq.heappush(heap, entry)
            candidate = held[-1] if held and held[-1][3].exclude_reader != reader else None
            if candidate is not None and (best_entry is None or candidate < best_entry):
                best_entry = candidate
        # Taking it makes its heap entry stale; it is dropped when it reaches a head.
        return None if best_entry is None else self._taken(best_entry)

    def best_class(self, lanes: Sequence[Lane]) -> int | None:
        """The class of the best waiting item in `lanes` (for preemption decisions), or None."""
        best = None
        for heap in lanes:
            while heap and heap[0][3].entry is not heap[0]:
                heapq.heappop(heap)
            if heap and (best is None or heap[0][0] < best):
                best = heap[0][0]
        return best
