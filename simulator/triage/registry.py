"""Policies and routers by name: the built-ins, and a user's classes by `"package.module:Class"` (through the
resolver, and behind a guard that names them when they fail)."""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from .aging import Aging
from .deadline import SlaEdf
from .policies import AiPriority, Fifo, Hierarchical, ScoreBands
from .policy import PolicyError, TriagePolicy
from .guarded import GuardedPolicy, GuardedRouter, UserCodeError
from .resolver import is_import_path, resolve
from .routing import BUILT_IN_ROUTERS, Router
from .rules import Rules

__all__ = ["BUILT_IN", "make_policy", "policy_class", "make_router"]


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


def _built(factory: Callable[..., Any], name: str, what: str, options: Mapping[str, Any] | None) -> Any:
    """`factory(**options)`; a user's constructor that fails is named as the user's."""
    try:
        return factory(**dict(options or {}))
    except TypeError as exc:
        raise PolicyError(f"{what} {name!r} does not take these options {sorted(options or {})}: {exc}") from exc
    except PolicyError:
        raise
    except Exception as exc:
        if is_import_path(name):
            raise UserCodeError(f"{name}() raised {type(exc).__name__}: {exc}") from None
        raise


def make_policy(name: str, options: Mapping[str, Any] | None = None) -> TriagePolicy:
    """A policy by built-in name or by `"package.module:Class"`, constructed with `options`."""
    policy = _built(policy_class(name), name, "policy", options)
    if not isinstance(policy, TriagePolicy):
        raise PolicyError(f"{name!r} has no rank(item, now) method and name attribute")
    return GuardedPolicy(policy, name) if name not in BUILT_IN else policy


def make_router(name: str, options: Mapping[str, Any] | None = None, day_offset: float = 0.0) -> Router:
    """A router by built-in name or by `package.module:Class` (through the resolver), built with `options`;
    `day_offset` (the time of day at minute 0) is passed to a constructor that takes it."""
    factory = BUILT_IN_ROUTERS.get(name) or (resolve(name, ("route",), "router") if ":" in name else None)
    if factory is None:
        raise PolicyError(f"unknown router {name!r}; built-in: {', '.join(sorted(BUILT_IN_ROUTERS))}, or "
                          "'package.module:Class'")
    kwargs = dict(options or {})
    try:
        if "day_offset" in inspect.signature(factory).parameters:
            kwargs.setdefault("day_offset", day_offset)
    except (TypeError, ValueError):  # no signature to read: options only
        pass
    router = _built(factory, name, "router", kwargs)
    if not isinstance(router, Router):
        raise PolicyError(f"{name!r} has no route(item, now) method")
    return GuardedRouter(router, name) if name not in BUILT_IN_ROUTERS else router
