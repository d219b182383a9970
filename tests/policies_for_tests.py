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


class Explodes:
    """A policy with a bug that shows only at run time."""

    name = "explodes"

    def rank(self, item: WorkItem, now: float) -> Rank:
        raise RuntimeError("bug in the rules")


class DiesOnce:
    """Kills its worker process the first time it runs (a marker file remembers), then reads first come,
    first served: a worker that dies mid-sweep."""

    name = "dies-once"

    def __init__(self, marker: str) -> None:
        import os
        from pathlib import Path

        if not Path(marker).exists():
            Path(marker).write_text("died")
            os._exit(1)

    def rank(self, item: WorkItem, now: float) -> Rank:
        return Rank(0 if item.referral == "stat" else 1, item.ready_at, item.referral)
