"""The built-in triage policies and how a policy is found by name.

Every built-in keeps STAT referrals first: STAT is a clinical order, not a triage opinion.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from .columns import BlockRanks, Columns, image_reads, ranks_as
from .item import WorkItem
from .policy import PolicyError, Rank
from .vocabulary import AI_POSITIVE, IMAGE_READS, Referral

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Fifo", "AiPriority", "Hierarchical", "ScoreBands", "rest_label", "STAT"]

STAT = Referral.STAT.value  # a plain string: ranks compare it for every study
# `_rank((cls, key, label, until))` is `Rank(cls, key, label, until)` without the Python-level `__new__` of a
# NamedTuple: the built-ins rank every study, and a rank costs a quarter less (0.46 -> 0.35 us; about 2% of the
# M/M/10 model). A policy of your own builds `Rank(...)` as usual.
_rank = partial(tuple.__new__, Rank)
NEVER = math.inf


def rest_label(item: WorkItem) -> str:
    """The label of an item no rule singled out: its kind, or for a primary read its referral."""
    return item.referral if item.kind in IMAGE_READS else item.kind


def rest_labels(columns: Columns) -> np.ndarray:
    """`rest_label` of a block."""
    import numpy as np

    return np.where(image_reads(columns.kind), columns.referral, columns.kind)


class Fifo:
    """First ready, first read; STAT referrals first."""

    name = "fifo"

    def rank(self, item: WorkItem, now: float) -> Rank:
        if item.referral == STAT:
            return _rank((0, item.ready_at, STAT, NEVER))
        return _rank((1, item.ready_at, rest_label(item), NEVER))

    @ranks_as(rank)
    def rank_block(self, columns: Columns) -> BlockRanks:
        import numpy as np  # here, not above: the triage package imports no numpy until a block is ranked

        stat = columns.referral == STAT
        return BlockRanks(np.where(stat, 0, 1), columns.ready_at, np.where(stat, STAT, rest_labels(columns)))


class AiPriority:
    """STAT first, then AI-positive studies, then the rest; ties by ready time."""

    name = "ai_priority"

    def rank(self, item: WorkItem, now: float) -> Rank:
        if item.referral == STAT:
            return _rank((0, item.ready_at, STAT, NEVER))
        if item.ai_positive:
            return _rank((1, item.ready_at, AI_POSITIVE, NEVER))
        return _rank((2, item.ready_at, rest_label(item), NEVER))

    @ranks_as(rank)
    def rank_block(self, columns: Columns) -> BlockRanks:
        import numpy as np

        stat, positive = columns.referral == STAT, columns.ai_positive
        return BlockRanks(np.where(stat, 0, np.where(positive, 1, 2)), columns.ready_at,
                          np.where(stat, STAT, np.where(positive, AI_POSITIVE, rest_labels(columns))))


class Hierarchical:
    """STAT, then AI-positive studies of each AI service in `order` (in that order), then the rest.

    A study flagged by several services goes by its highest-ranked flag; flags of services not in `order`
    count as none. Each service's class has a label of its own, `ai_positive:<service>`, so waits split by
    class. (An item built without `ai_flags` counts as flagged by its `ai_service` when AI-positive.)
    """

    name = "hierarchical"

    def __init__(self, order: Sequence[str]) -> None:
        if not order:
            raise PolicyError("hierarchical needs policy.order: the AI services (or conditions), most urgent first")
        self.order = {service: position for position, service in enumerate(order)}
        self.labels = [f"{AI_POSITIVE}:{service}" for service in order]
        self.rest = len(self.order) + 1

    def rank(self, item: WorkItem, now: float) -> Rank:
        if item.referral == STAT:
            return _rank((0, item.ready_at, STAT, NEVER))
        if item.ai_positive:
            position = self.position(item.ai_flags or (item.ai_service,))
            if position >= 0:
                return _rank((1 + position, item.ready_at, self.labels[position], NEVER))
        return _rank((self.rest, item.ready_at, rest_label(item), NEVER))

    def position(self, flags: Sequence[str | None]) -> int:
        """The place in `order` of the highest-ranked of these flags, or -1 if `order` names none."""
        order = self.order
        return min((order[s] for s in flags if s in order), default=-1)

    @ranks_as(rank)
    def rank_block(self, columns: Columns) -> BlockRanks:
        import numpy as np

        stat = columns.referral == STAT
        position = np.full(len(columns), -1, dtype=np.int64)  # the highest-ranked flag's, or -1
        known: dict[tuple, int] = {}
        for i in np.flatnonzero(columns.ai_positive & ~stat).tolist():
            flags = columns.ai_flags[i] or (columns.ai_service[i],)
            found = known.get(flags)
            if found is None:
                found = known[flags] = self.position(flags)
            position[i] = found
        flagged = position >= 0
        labels = np.array([*self.labels, ""])[position]  # -1: the last, unused
        return BlockRanks(np.where(stat, 0, np.where(flagged, 1 + position, self.rest)), columns.ready_at,
                          np.where(stat, STAT, np.where(flagged, labels, rest_labels(columns))))


DEFAULT_BANDS = {"high": 0.5, "medium": 0.1, "low": 0.0}


class ScoreBands:
    """STAT first, then bands of the AI probability of pathology, highest band first.

    `bands` maps a label to the lowest score of its band, highest first (the last band takes everything
    below). Within a band items go by ready time, or with `within="score"` by score, highest first.
    Unscored studies (AI failed, out, or absent) go to the band `unscored` names: by default the second,
    i.e. below what the AI called likely and above what it called unlikely, which is where a study's prior
    probability usually lies. Work that is not an image read (second opinions, consultations, audits)
    goes to the last band.
    """

    name = "score"

    def __init__(self, bands: Mapping[str, float] | None = None, unscored: str | None = None,
                 within: str = "ready") -> None:
        bands = dict(DEFAULT_BANDS if bands is None else bands)
        if not bands:
            raise PolicyError("score needs at least one band")
        bounds = list(bands.values())
        if any(not 0.0 <= b <= 1.0 for b in bounds) or any(a <= b for a, b in zip(bounds, bounds[1:])):
            raise PolicyError(f"score bands must have lower bounds in [0, 1], strictly decreasing: {bands}")
        if within not in ("ready", "score"):
            raise PolicyError(f"score: within must be 'ready' or 'score', not {within!r}")
        self.labels = list(bands)
        self.bounds = bounds
        if unscored is None:
            unscored = self.labels[min(1, len(self.labels) - 1)]
        if unscored not in bands:
            raise PolicyError(f"score: unscored must name a band ({', '.join(self.labels)}), not {unscored!r}")
        self.unscored = self.labels.index(unscored)
        self.by_score = within == "score"

    def band_of(self, score: float) -> int:
        for position, bound in enumerate(self.bounds):
            if score >= bound:
                return position
        return len(self.bounds) - 1

    def rank(self, item: WorkItem, now: float) -> Rank:
        if item.referral == STAT:
            return _rank((0, item.ready_at, STAT, NEVER))
        if item.kind not in IMAGE_READS:
            return _rank((len(self.labels), item.ready_at, item.kind, NEVER))
        if item.ai_score is None:
            band = self.unscored
            # Below every scored study of the band when ordering by score: nothing says it is likelier.
            key = -self.bounds[band] if self.by_score else item.ready_at
        else:
            band = self.band_of(item.ai_score)
            key = -item.ai_score if self.by_score else item.ready_at
        return _rank((1 + band, key, self.labels[band], NEVER))

    @ranks_as(rank)
    def rank_block(self, columns: Columns) -> BlockRanks:
        import numpy as np

        stat, scored, image = columns.referral == STAT, columns.scored, image_reads(columns.kind)
        last = len(self.bounds) - 1
        # `band_of`: the first band whose bound the score reaches (bounds decrease), else the last.
        band = np.minimum((np.asarray(self.bounds)[None, :] > columns.ai_score[:, None]).sum(axis=1), last)
        band = np.where(scored, band, self.unscored)
        if self.by_score:
            key = np.where(scored, -columns.ai_score, -np.asarray(self.bounds)[band])
        else:
            key = columns.ready_at
        cls = np.where(stat, 0, np.where(image, 1 + band, len(self.labels)))
        label = np.where(stat, STAT, np.where(image, np.array(self.labels)[band], columns.kind))
        return BlockRanks(cls, np.where(stat | ~image, columns.ready_at, key), label)
