"""The built-in triage policies and how a policy is found by name.

Every built-in keeps STAT referrals first: STAT is a clinical order, not a triage opinion.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .item import WorkItem
from .policy import Rank, TriagePolicy

__all__ = ["Fifo", "AiPriority", "Hierarchical", "BUILT_IN", "make_policy", "PolicyError"]


class PolicyError(ValueError):
    """A policy name, path or option that cannot be used."""


def rest_label(item: WorkItem) -> str:
    """The label of an item no rule singled out: its kind, or for a primary read its referral."""
    return item.referral if item.kind == "primary" else item.kind


class Fifo:
    """First ready, first read; STAT referrals first."""

    name = "fifo"

    def rank(self, item: WorkItem, now: float) -> Rank:
        if item.referral == "stat":
            return Rank(0, item.ready_at, "stat")
        return Rank(1, item.ready_at, rest_label(item))


class AiPriority:
    """STAT first, then AI-positive studies, then the rest; ties by ready time."""

    name = "ai_priority"

    def rank(self, item: WorkItem, now: float) -> Rank:
        if item.referral == "stat":
            return Rank(0, item.ready_at, "stat")
        if item.ai_positive:
            return Rank(1, item.ready_at, "ai_positive")
        return Rank(2, item.ready_at, rest_label(item))


class Hierarchical:
    """STAT, then AI-positive studies of each AI service in `order` (in that order), then the rest.

    AI-positive studies of a service not in `order` count as the rest.
    """

    name = "hierarchical"

    def __init__(self, order: Sequence[str]) -> None:
        if not order:
            raise PolicyError("hierarchical needs policy.order: the AI services, most urgent first")
        self.order = {service: position for position, service in enumerate(order)}
        self.rest = len(self.order) + 1

    def rank(self, item: WorkItem, now: float) -> Rank:
        if item.referral == "stat":
            return Rank(0, item.ready_at, "stat")
        if item.ai_positive:
            position = self.order.get(item.ai_service)  # type: ignore[arg-type]
            if position is not None:
                return Rank(1 + position, item.ready_at, "ai_positive")
        return Rank(self.rest, item.ready_at, rest_label(item))


BUILT_IN: dict[str, Callable[..., TriagePolicy]] = {
    "fifo": Fifo,
    "ai_priority": AiPriority,
    "hierarchical": Hierarchical,
}


def make_policy(name: str, options: Mapping[str, Any] | None = None) -> TriagePolicy:
    """A policy by built-in name or by `"package.module:Class"`, constructed with `options`."""
    options = dict(options or {})
    if ":" in name:
        factory = _load(name)
    elif name in BUILT_IN:
        factory = BUILT_IN[name]
    else:
        known = ", ".join(sorted(BUILT_IN))
        raise PolicyError(f"unknown triage policy {name!r}; built-in: {known}, or 'package.module:Class'")
    try:
        policy = factory(**options)
    except TypeError as exc:
        raise PolicyError(f"policy {name!r} does not take these options {sorted(options)}: {exc}") from exc
    if not isinstance(policy, TriagePolicy):
        raise PolicyError(f"{name!r} has no rank(item, now) method and name attribute")
    return policy


def _load(path: str) -> Callable[..., TriagePolicy]:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PolicyError(f"cannot import policy module {module_name!r}: {exc}") from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise PolicyError(f"module {module_name!r} has no {attribute!r}") from None
