"""User policies for tests, loaded by 'tests.policies_for_tests:Name' as a rules repository would."""
from __future__ import annotations

from simulator.triage import Rank, WorkItem
from simulator.triage.routing import BOTH, CENTRAL, LOCAL, Route


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


def _in_a_worker() -> bool:
    """True in a pool's worker process (the commands build each policy once up front, in the main one)."""
    import multiprocessing

    return multiprocessing.parent_process() is not None


class DiesOnce:
    """Kills its worker process the first time it runs in one (a marker file remembers), then reads first
    come, first served: a worker that dies mid-sweep."""

    name = "dies-once"

    def __init__(self, marker: str) -> None:
        import os
        from pathlib import Path

        if _in_a_worker() and not Path(marker).exists():
            Path(marker).write_text("died")
            os._exit(1)

    def rank(self, item: WorkItem, now: float) -> Rank:
        return Rank(0 if item.referral == "stat" else 1, item.ready_at, item.referral)


class AlwaysDies:
    """Kills every worker process that runs it: one bad grid point."""

    name = "always-dies"

    def __init__(self) -> None:
        import os

        if _in_a_worker():
            os._exit(3)

    def rank(self, item: WorkItem, now: float) -> Rank:
        return Rank(0, item.ready_at, item.referral)


class Hangs:
    """Never finishes a run in a worker: a grid point that stalls."""

    name = "hangs"

    def __init__(self) -> None:
        import time

        while _in_a_worker():
            time.sleep(1.0)

    def rank(self, item: WorkItem, now: float) -> Rank:
        return Rank(0, item.ready_at, item.referral)


class AlwaysCentral:
    """A router of one's own: every site's study goes to the reference centre (the centre's readers only)."""

    def __init__(self, note: str = "") -> None:
        self.note = note

    def route(self, item: WorkItem, now: float) -> Route:
        return Route(CENTRAL)


class AnswersTuple:
    """A rules change whose rank returns a plain tuple, not a Rank."""

    name = "answers-tuple"

    def rank(self, item: WorkItem, now: float):
        return (0, item.ready_at, "all")


class RoutesNowhere:
    """A router with a bug: it answers a place that does not exist."""

    def route(self, item: WorkItem, now: float):
        return Route("elsewhere")


class FailsToStart:
    """A policy whose constructor fails."""

    name = "fails-to-start"

    def __init__(self) -> None:
        raise KeyError("missing setting")

    def rank(self, item: WorkItem, now: float) -> Rank:
        return Rank(0, item.ready_at, "all")


class Thirds:
    """A router of one's own that uses every answer: a third of the studies to both at once (with a time
    to ask again, which opens nothing), a third to the centre, a third to their site's readers for 15
    minutes."""

    def route(self, item: WorkItem, now: float) -> Route:
        if item.index % 3 == 0:
            return Route(BOTH, now + 10.0)
        return Route(CENTRAL) if item.index % 3 == 1 else Route(LOCAL, now + 15.0)


class WholeMinutes:
    """AI-positive first, then by the whole minute the study became ready: integer keys."""

    name = "whole-minutes"

    def rank(self, item: WorkItem, now: float) -> Rank:
        flagged = bool(item.ai_positive)
        return Rank(0 if flagged else 1, int(item.ready_at), "ai_positive" if flagged else "routine")
