"""Routing rules: where a study is read (its site's own readers or the reference centre), whether it needs
a human primary read at all, and which reader a pushed study is assigned to.

Pure functions of the item and `now`, like the triage policies. `now` is minutes on the caller's clock;
`day_offset` says what time of day `now = 0` is, so night windows can be told.

A `Router` decides where a study from a site with readers of its own is read: its `route(item, now)` says
`LOCAL`, `CENTRAL` or `BOTH`, and until when that holds (if the study still waits then, the model opens
it to both: it is not asked again). The built-in is `LocalFirst`; a scenario may name its own as `routing.router:
"package.module:Class"` (checked by the resolver like a triage policy; docs/routing.md shows one).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

from .columns import Columns, ranks_as
from .item import WorkItem
from .vocabulary import Kind, Referral

if TYPE_CHECKING:  # numpy is imported where a block is asked: the triage package stays plain Python
    import numpy as np

__all__ = ["Route", "Router", "LocalFirst", "AutonomousNormal", "least_loaded", "LOCAL", "CENTRAL", "BOTH",
           "BUILT_IN_ROUTERS"]

LOCAL, CENTRAL, BOTH = "local", "central", "both"
DAY = 1440.0


class Route(NamedTuple):
    """Which readers may take the study (`LOCAL`, `CENTRAL` or `BOTH`), and until when: a study still
    waiting then is opened to both."""

    where: str
    until: float = math.inf


@runtime_checkable
class Router(Protocol):
    """Where a study is read; pure: a function of the item and `now`, no clock of its own."""

    def route(self, item: WorkItem, now: float) -> Route: ...


class LocalFirst:
    """A study from a site with its own readers is read there first. After `overflow_after` minutes on the
    worklist the reference centre may take it too; during the night window [night_start, night_end) (minutes
    after midnight; the window may cross midnight) new studies go to the centre, and studies still waiting
    locally when the night begins are opened to the centre.
    """

    def __init__(self, overflow_after: float | None = None, night: tuple[float, float] | None = None,
                 day_offset: float = 0.0) -> None:
        self.overflow_after = overflow_after
        self.night = night
        self.day_offset = day_offset

    def is_night(self, now: float) -> bool:
        if self.night is None:
            return False
        start, end = self.night
        minute = (now + self.day_offset) % DAY
        return start <= minute < end if start < end else (minute >= start or minute < end)

    def next_night(self, now: float) -> float:
        """The next time the night window begins, strictly after `now`."""
        if self.night is None:
            return math.inf
        minute = (now + self.day_offset) % DAY
        ahead = (self.night[0] - minute) % DAY
        return now + (ahead if ahead > 0 else DAY)

    def route(self, item: WorkItem, now: float) -> Route:
        if self.is_night(now):
            return Route(CENTRAL)
        overflow = math.inf if self.overflow_after is None else item.ready_at + self.overflow_after
        if now >= overflow:
            return Route(BOTH)
        return Route(LOCAL, min(overflow, self.next_night(now)))

    @ranks_as(route)
    def route_block(self, columns: Columns) -> tuple[np.ndarray, np.ndarray]:
        """`route` for a block of items as columns, each asked at its `now`: where (`LOCAL`, `CENTRAL` or
        `BOTH`) and until, as `route` gives them item by item (tests/test_block_ranks.py)."""
        import numpy as np

        now = columns.now
        until = np.full(now.shape[0], math.inf)
        if self.night is None:
            night = np.zeros(now.shape[0], dtype=bool)
        else:
            start, end = self.night
            minute = (now + self.day_offset) % DAY
            night = (start <= minute) & (minute < end) if start < end else (minute >= start) | (minute < end)
            ahead = (start - minute) % DAY
            until = now + np.where(ahead > 0, ahead, DAY)
        overflow = columns.ready_at + (math.inf if self.overflow_after is None else self.overflow_after)
        where = np.where(night, CENTRAL, np.where(now >= overflow, BOTH, LOCAL))
        return where, np.where(where == LOCAL, np.minimum(overflow, until), math.inf)


class AutonomousNormal:
    """AI-normal studies of chosen types, scored below `below`, skip the primary read: the AI's normal report
    stands, and a reader audits it later. STAT referrals and unscored studies are always read."""

    def __init__(self, study_types: Collection[str], below: float) -> None:
        self.study_types = frozenset(study_types)
        self.below = below

    def applies(self, item: WorkItem) -> bool:
        return (item.kind == Kind.PRIMARY and item.referral != Referral.STAT and item.study_type in self.study_types
                and item.ai_score is not None and item.ai_score < self.below)

    def applies_block(self, columns: Columns) -> np.ndarray:
        """`applies` for a block of items as columns (`simulator/triage/columns.py`): a bool per item, as
        `applies` gives it item by item (tests/test_block_ranks.py)."""
        import numpy as np

        return ((columns.kind == Kind.PRIMARY.value) & (columns.referral != Referral.STAT.value)
                & np.isin(columns.study_type, sorted(self.study_types)) & columns.scored
                & (columns.ai_score < self.below))


def least_loaded(loads: Iterable[float]) -> int | None:
    """Push routing: the position of the reader with the least outstanding work (in workload units: the
    studies assigned and not yet finished); ties go to the first listed. None when there is no candidate."""
    best, best_load = None, math.inf
    for position, load in enumerate(loads):
        if load < best_load:
            best, best_load = position, load
    return best


BUILT_IN_ROUTERS: dict[str, Callable[..., Router]] = {"local_first": LocalFirst}
