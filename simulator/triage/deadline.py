"""Earliest deadline first: each study is due its turnaround target after it became ready."""
from __future__ import annotations

import math
from collections.abc import Mapping

from .item import WorkItem
from .policies import STAT, AiPriority
from .policy import PolicyError, Rank, TriagePolicy
from .targets import Targets

__all__ = ["SlaEdf"]


class SlaEdf:
    """STAT first, then everything by deadline: `ready_at` (or `arrived_at`, with `start="arrival"`) plus
    the item's turnaround target.

    The target comes from what the item is, by the precedence of `Targets` (the same targets the metrics
    judge by), else `default`; a study with none is due never and waits behind every study that has a
    deadline, by ready time. The label shown is the one `classify` gives (by default `ai_priority`'s).
    """

    name = "sla_edf"

    def __init__(self, targets: Mapping[str, float] | Targets, default: float | None = None, start: str = "ready",
                 classify: TriagePolicy | None = None) -> None:
        if start not in ("ready", "arrival"):
            raise PolicyError(f"sla_edf: start must be 'ready' or 'arrival', not {start!r}")
        try:
            self.targets = targets if isinstance(targets, Targets) else Targets(targets)
        except ValueError as exc:
            raise PolicyError(f"sla_edf: {exc}") from None
        self.default = default
        self.from_arrival = start == "arrival"
        self.classify = classify or AiPriority()

    def target_of(self, item: WorkItem) -> float | None:
        target = self.targets.of(item)
        return self.default if target is None else target

    def rank(self, item: WorkItem, now: float) -> Rank:
        label = self.classify.rank(item, now).label
        target = self.target_of(item)
        anchor = item.arrived_at if self.from_arrival else item.ready_at
        deadline = math.inf if target is None else anchor + target
        # With no deadline the key must still order: an infinite key would tie every such study, which the
        # worklist breaks by entry order, i.e. by ready time.
        return Rank(0 if item.referral == STAT else 1, deadline, label)
