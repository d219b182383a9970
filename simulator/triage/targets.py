"""Turnaround targets by what a work item is, never by the label a policy gave it.

Two policies compared on the same studies are judged against the same targets: an AI-flagged study has
the `ai_positive` target under `fifo` as under `ai_priority`.

Precedence, for one work item:
1. Work that does not read images (a second opinion, a consultation, an audit) has its kind's target
   when `targets` names that kind: a second opinion's 72 hours, not the 24 hours of its routine order.
2. Otherwise the strictest of the targets that apply: its order priority's (`stat`, `urgent`,
   `routine`), `ai_positive`'s when the AI flagged it, its study type's.
An item none of these name has no target.
"""
from __future__ import annotations

from collections.abc import Mapping

from .item import WorkItem
from .vocabulary import AI_POSITIVE, IMAGE_READS

__all__ = ["Targets"]


class Targets:
    """Targets in minutes, keyed by an order priority, `ai_positive`, a kind of work or a study type."""

    def __init__(self, minutes: Mapping[str, float]) -> None:
        bad = {k: v for k, v in minutes.items() if not v >= 0}
        if bad:
            raise ValueError(f"targets must be minutes >= 0: {bad}")
        self.minutes = dict(minutes)

    def of(self, item: WorkItem) -> float | None:
        """The target of a work item, in minutes, or None."""
        return self.of_fields(item.kind, item.referral, item.ai_positive, item.study_type)

    def of_fields(self, kind: str, referral: str | None, ai_positive: bool | None,
                  study_type: str | None) -> float | None:
        """The same, from the fields themselves (for tables of work items)."""
        minutes = self.minutes
        if kind not in IMAGE_READS and kind in minutes:
            return minutes[kind]
        applying = [minutes[key] for key in (referral, AI_POSITIVE if ai_positive else None, study_type)
                    if key is not None and key in minutes]
        return min(applying) if applying else None

    def __bool__(self) -> bool:
        return bool(self.minutes)

    def __repr__(self) -> str:
        return f"Targets({self.minutes!r})"
