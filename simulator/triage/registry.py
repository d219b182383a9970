"""Policies by name: the built-ins, and user policies by `"package.module:Class"` (through the resolver)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .aging import Aging
from .deadline import SlaEdf
from .policies import AiPriority, Fifo, Hierarchical, ScoreBands
from .policy import PolicyError, TriagePolicy
from .resolver import resolve
from .rules import Rules

__all__ = ["BUILT_IN", "make_policy", "policy_class"]


def _aging(base: str = "ai_priority", base_options: Mapping[str, Any] | None = None, **options: Any) -> Aging:
    if base == "aging":
        raise PolicyError("aging cannot age itself: give a base such as ai_priority or score")
    return Aging(make_policy(base, base_options), **options)


BUILT_IN: dict[str, Callable[..., TriagePolicy]] = {
    "fifo": Fifo,
    "ai_priority": AiPriority,
    "hierarchical": Hierarchical,
    "score": ScoreBands,
    "aging": _aging,
    "sla_edf": SlaEdf,
    "rules": Rules,
}


def policy_class(name: str) -> Callable[..., TriagePolicy]:
    """The factory of a policy: a built-in by name, or a user's class by `package.module:Class`, checked
    by the resolver (import path, allow-list, a class with `rank`) before anything of it runs."""
    if name in BUILT_IN:
        return BUILT_IN[name]
    if ":" in name:
        return resolve(name, ("rank",), "triage policy")
    known = ", ".join(sorted(BUILT_IN))
    raise PolicyError(f"unknown triage policy {name!r}; built-in: {known}, or 'package.module:Class'")


def make_policy(name: str, options: Mapping[str, Any] | None = None) -> TriagePolicy:
    """A policy by built-in name or by `"package.module:Class"`, constructed with `options`."""
    factory = policy_class(name)
    try:
        policy = factory(**dict(options or {}))
    except TypeError as exc:
        raise PolicyError(f"policy {name!r} does not take these options {sorted(options or {})}: {exc}") from exc
    if not isinstance(policy, TriagePolicy):
        raise PolicyError(f"{name!r} has no rank(item, now) method and name attribute")
    return policy
