"""User policies for tests, loaded by 'tests.policies_for_tests:Name' as a rules repository would."""
from __future__ import annotations

from simulator.triage import Rank, WorkItem


class ForgetsStat:
    """A rules change gone wrong: AI-positive first, but STAT referrals treated as routine."""

    name = "forgets-stat"

    def rank(self, item: WorkItem, now: float) -> Rank:
        if item.ai_positive:
            return Rank(0, item.ready_at, "ai_positive")
        return Rank(1, item.ready_at, item.referral if item.kind == "primary" else item.kind)
