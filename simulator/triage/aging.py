"""Aging: a waiting study climbs one class per `promote_after` minutes, and at `max_wait` goes to the top.

The maximum-waiting-time rule bounds the worst case that a pure priority order leaves open: under
`ai_priority` a false-negative study can sink for as long as flagged work keeps arriving.
"""
from __future__ import annotations

import math

from .columns import BlockRanks, Columns, block_form, ranks_as
from .item import WorkItem
from .policy import PolicyError, Rank, TriagePolicy

__all__ = ["Aging"]

OVERDUE = 1  # the class of studies past max_wait: below STAT (a clinical order), above everything else


class Aging:
    """Wraps a base policy. STAT (the base's class 0) stays first; base classes 1, 2, ... become 2, 3, ...
    and each step of `promote_after` minutes on the worklist lifts a study one class, never above 2; from
    `max_wait` minutes on it is overdue (class 1). Within a class, oldest first (the base's own order
    within a class is not kept). Either rule may be None (off).
    """

    name = "aging"

    def __init__(self, base: TriagePolicy, promote_after: float | None = 60.0, max_wait: float | None = 240.0) -> None:
        if promote_after is not None and not promote_after > 0:
            raise PolicyError(f"aging: promote_after must be positive minutes, not {promote_after!r}")
        if max_wait is not None and not max_wait > 0:
            raise PolicyError(f"aging: max_wait must be positive minutes, not {max_wait!r}")
        self.base = base
        self.promote_after = promote_after
        self.max_wait = max_wait
        self._base_block = block_form(base)
        if self._base_block is None:  # a base asked item by item: so is this
            self.rank_block = None  # type: ignore[assignment]

    def rank(self, item: WorkItem, now: float) -> Rank:
        base = self.base.rank(item, now)
        if base.cls == 0:
            return base
        waited = now - item.ready_at
        overdue_at = math.inf if self.max_wait is None else item.ready_at + self.max_wait
        if now >= overdue_at:
            return Rank(OVERDUE, item.ready_at, base.label)
        cls = base.cls + 1
        until = min(base.until, overdue_at)
        if self.promote_after is not None and cls > OVERDUE + 1:
            steps = math.floor(waited / self.promote_after) if waited > 0 else 0
            # The division may round either way; the next step must lie strictly after `now`.
            while item.ready_at + (steps + 1) * self.promote_after <= now:
                steps += 1
            cls = max(OVERDUE + 1, cls - steps)
            if cls > OVERDUE + 1:
                until = min(until, item.ready_at + (steps + 1) * self.promote_after)
        # Oldest first within every class: a promoted study must be comparable with the class it joins.
        return Rank(cls, item.ready_at, base.label, until)

    @ranks_as(rank)
    def rank_block(self, columns: Columns) -> BlockRanks:
        """`rank` for a block, each item at its own `now`, with the time each rank is to be asked again."""
        import numpy as np  # here, not above: the triage package imports no numpy until a block is ranked

        n = len(columns)
        base = self._base_block(columns)  # type: ignore[misc]
        base_cls, base_key = np.broadcast_to(base.cls, n), np.broadcast_to(base.key, n)
        ready, now = columns.ready_at, columns.now
        stat = base_cls == 0
        overdue_at = np.full(n, math.inf) if self.max_wait is None else ready + self.max_wait
        overdue = now >= overdue_at
        cls, until = base_cls + 1, overdue_at
        if self.promote_after is not None:
            steps = np.floor(np.maximum(now - ready, 0.0) / self.promote_after).astype(np.int64)
            while True:  # as `rank`: the division may round either way; the next step lies strictly after `now`
                behind = ready + (steps + 1) * self.promote_after <= now
                if not behind.any():
                    break
                steps += behind
            promoting = cls > OVERDUE + 1
            cls = np.where(promoting, np.maximum(OVERDUE + 1, cls - steps), cls)
            until = np.where(promoting & (cls > OVERDUE + 1),
                             np.minimum(until, ready + (steps + 1) * self.promote_after), until)
        return BlockRanks(np.where(stat, base_cls, np.where(overdue, OVERDUE, cls)), np.where(stat, base_key, ready),
                          base.label, np.where(stat | overdue, math.inf, until))
