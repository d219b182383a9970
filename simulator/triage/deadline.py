"""Earliest deadline first: each study is due its class's turnaround target after it became ready."""
from __future__ import annotations

import math
from collections.abc import Mapping

from .item import IMAGE_READS, WorkItem
from .policies import AiPriority
from .policy import PolicyError, Rank, TriagePolicy

__all__ = ["SlaEdf"]


class SlaEdf:
    """STAT first, then everything by deadline: `ready_at` (or `arrived_at`, with `start="arrival"`) plus
    the target of the study's class.

    The class is the label `classify` gives (by default `ai_priority`'s: stat, ai_positive, the referral,
    or the kind of work). Its target is looked up as `targets[label]`, then `targets[kind]` for work that
    is not a primary read, then `targets[referral]`, then `default`; a study with none is due never and
    waits behind every study that has a deadline, by ready time.
    """

    name = "sla_edf"

    def __init__(self, targets: Mapping[str, float], default: float | None = None, start: str = "ready",
                 classify: TriagePolicy | None = None) -> None:
        if start not in ("ready", "arrival"):
            raise PolicyError(f"sla_edf: start must be 'ready' or 'arrival', not {start!r}")
        bad = {k: v for k, v in targets.items() if not v >= 0}
        if bad:
            raise PolicyError(f"sla_edf: targets must be minutes >= 0: {bad}")
        self.targets = dict(targets)
        self.default = default
        self.from_arrival = start == "arrival"
        self.classify = classify or AiPriority()

    def target_of(self, item: WorkItem, label: str) -> float | None:
        for key in (label, None if item.kind in IMAGE_READS else item.kind, item.referral):
            if key is not None and key in self.targets:
                return self.targets[key]
        return self.default

    def rank(self, item: WorkItem, now: float) -> Rank:
        label = self.classify.rank(item, now).label
        target = self.target_of(item, label)
        anchor = item.arrived_at if self.from_arrival else item.ready_at
        deadline = math.inf if target is None else anchor + target
        # With no deadline the key must still order: an infinite key would tie every such study, which the
        # worklist breaks by entry order, i.e. by ready time.
        return Rank(0 if item.referral == "stat" else 1, deadline, label)
