"""The triage strategy interface: a policy ranks one work item at a time, handed `now`.

A policy never sees a clock, a simulation or other items: it maps an item and the current time to a
`Rank`. That is all a production worklist service needs to call it, and all a test double must implement.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Protocol, runtime_checkable

from .errors import InputError
from .item import WorkItem

__all__ = ["Rank", "TriagePolicy", "PolicyError"]


class PolicyError(InputError):
    """A policy name, path or option that cannot be used."""


class Rank(NamedTuple):
    """Where an item stands on the worklist at one moment.

    Items are read in order of `(cls, key)`, smallest first; ties go to the item that entered first.
    `cls` is the priority class (0 the highest): preemption compares classes only. `label` names the class
    for people and for turnaround targets. `until` is the time at which the rank may change (an aging
    promotion, say); the worklist asks again then. `math.inf` means never.
    """

    cls: int
    key: float
    label: str
    until: float = math.inf


@runtime_checkable
class TriagePolicy(Protocol):
    """Strategy interface for worklist prioritisation.

    `rank` must be a pure function of the item's fields and `now` (the worklist may call it again at the
    `until` it returned, and nowhere else), so a policy is trivially testable on hand-built items.
    """

    name: str

    def rank(self, item: WorkItem, now: float) -> Rank: ...
