"""Policies by name: the built-ins, and user policies by `"package.module:Class"`."""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from .aging import Aging
from .deadline import SlaEdf
from .policies import AiPriority, Fifo, Hierarchical, ScoreBands
from .policy import PolicyError, TriagePolicy
from .rules import Rules

__all__ = ["BUILT_IN", "make_policy"]


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
