"""A block of work items as columns, and the ranks of a block: how a policy ranks many studies at once.

A policy's `rank(item, now)` is the interface; the built-ins also have `rank_block(columns)`, the same
ranks for a block of items given as numpy columns, each item ranked at its own `now`. The reading station
asks for it where every study's rank is known ahead (`simulator/network/ranked_once.py`), so a built-in
ranks a city year in numpy passes rather than seven million calls; `block_form` says when it answers for
the policy's `rank` (a user's policy, behind its guard, is always asked item by item). `rank_block` must
give what `rank` gives, item for item (tests/test_block_ranks.py checks every built-in on generated
items), the time each rank names to be asked again included (`until`: aging's).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from .item import WorkItem
from .vocabulary import IMAGE_READS

if TYPE_CHECKING:  # numpy is imported where a block is ranked: the triage package stays plain Python
    import numpy as np

__all__ = ["Columns", "BlockRanks", "block_form", "ranks_as", "image_reads"]


@dataclass(frozen=True, slots=True)
class Columns:
    """`WorkItem`'s fields for a block of items, one array per field: strings as numpy str arrays,
    `ai_score` NaN where `scored` is False, `ai_positive` as `bool(item.ai_positive)`, `patient_age` NaN
    where unknown."""

    study_type: np.ndarray
    kind: np.ndarray
    referral: np.ndarray
    modality: np.ndarray
    site: np.ndarray
    ai_service: list  # per item: its type's primary AI service, or None
    scored: np.ndarray
    ai_score: np.ndarray
    ai_positive: np.ndarray
    arrived_at: np.ndarray
    ready_at: np.ndarray
    patient_age: np.ndarray
    ai_flags: list  # per item: the services that flagged it (a tuple, empty if none)
    now: np.ndarray  # the time each item is ranked at

    def __len__(self) -> int:
        return self.ready_at.shape[0]

    @classmethod
    def of(cls, items: Sequence[WorkItem], now: Sequence[float]) -> "Columns":
        """The columns of some work items, each to be ranked at its `now`: a block as `rank` sees it item
        by item (for a test of a policy's `rank_block`, say)."""
        import numpy as np

        def column(field: str, dtype: Any = None) -> np.ndarray:
            return np.array([getattr(item, field) for item in items], dtype=dtype)

        scored = np.array([item.ai_score is not None for item in items], dtype=bool)
        return cls(
            study_type=column("study_type", str), kind=column("kind", str), referral=column("referral", str),
            modality=column("modality", str), site=column("site", str),
            ai_service=[item.ai_service for item in items], scored=scored,
            ai_score=np.array([math.nan if item.ai_score is None else item.ai_score for item in items], dtype=float),
            ai_positive=np.array([bool(item.ai_positive) for item in items], dtype=bool),
            arrived_at=column("arrived_at", float), ready_at=column("ready_at", float),
            patient_age=np.array([math.nan if item.patient_age is None else item.patient_age for item in items],
                                 dtype=float),
            ai_flags=[tuple(item.ai_flags) for item in items], now=np.asarray(now, dtype=float))


class BlockRanks(NamedTuple):
    """A block's ranks: `cls`, `key` and `label` per item, and `until`, when each is to be asked again
    (None: never, for every item)."""

    cls: np.ndarray
    key: np.ndarray
    label: np.ndarray  # str
    until: np.ndarray | None = None


def ranks_as(rank: Callable) -> Callable[[Callable], Callable]:
    """Marks a `rank_block` as the block form of `rank` (the function defined beside it; or a router's
    `route_block` of its `route`): if the class's `rank` is then replaced (a subclass's own, a patch), the
    block form is not used."""
    def mark(rank_block: Callable) -> Callable:
        rank_block.block_of = rank  # type: ignore[attr-defined]
        return rank_block
    return mark


def block_form(policy: Any, method: str = "rank") -> Callable[[Columns], Any] | None:
    """The policy's `rank_block`, if it answers for the `rank` the policy uses: marked `ranks_as` that very
    function, or (unmarked) defined by the same class as it; else None, and the policy is asked item by
    item (a subclass that overrides `rank` alone must not inherit a block form that ranks otherwise).
    `method="route"`: a router's `route_block`, by the same rule. A policy whose own `rank_block` is None
    has none (one that wraps a policy asked item by item)."""
    kind, name = type(policy), method + "_block"
    block = getattr(kind, name, None)
    own = getattr(policy, "__dict__", {})
    if block is None or method in own or (name in own and own[name] is None):
        return None
    marked = getattr(block, "block_of", None)
    if marked is not None:
        return getattr(policy, name) if marked is getattr(kind, method, None) else None
    owner = {n: next((c for c in kind.__mro__ if n in c.__dict__), None) for n in (method, name)}
    return getattr(policy, name) if owner[method] is owner[name] else None


def image_reads(kind: np.ndarray) -> np.ndarray:
    """Which items read a study's images (ranked by referral and AI result, as `rest_label` says)."""
    import numpy as np

    return np.isin(kind, [str(k) for k in IMAGE_READS])
