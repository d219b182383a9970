"""A user's policy or router behind a guard: what it raises, and an answer of the wrong shape, become a
`UserCodeError` that names its class and method, so a bug in a user's rules is reported as theirs (bad
input, exit 2) and never as radsim's own internal error.

Built-in policies and routers are not guarded: their answers are checked by the tests, and a guard
costs a call per rank.
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

from .item import WorkItem
from .policy import PolicyError, Rank
from .routing import BOTH, CENTRAL, LOCAL, Route

__all__ = ["UserCodeError", "GuardedPolicy", "GuardedRouter"]


class UserCodeError(PolicyError):
    """A user's policy or router raised, or answered with something that is not what its interface says."""


def _raised(path: str, method: str, exc: BaseException) -> UserCodeError:
    return UserCodeError(f"{path}.{method} raised {type(exc).__name__}: {exc}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and not math.isnan(value)


def _later(until: Any, now: float) -> bool:
    """A time to ask again: later than `now` (asking again at `now` would never end), or never (inf)."""
    return _is_number(until) and until > now


class GuardedPolicy:
    """A user's triage policy (`path` names it): its rank answers checked, its errors named."""

    def __init__(self, policy: Any, path: str) -> None:
        self.policy, self.path = policy, path
        name = getattr(policy, "name", None)
        if not isinstance(name, str) or not name:
            raise UserCodeError(f"{path}: its name attribute must be a non-empty text, not {_shown(name)}")
        self.name = name

    def rank(self, item: WorkItem, now: float) -> Rank:
        try:
            answer = self.policy.rank(item, now)
        except Exception as exc:
            raise _raised(self.path, "rank", exc) from None
        if not isinstance(answer, Rank):
            raise UserCodeError(f"{self.path}.rank returned {_shown(answer)} ({type(answer).__name__}), not a "
                                "Rank(cls, key, label, until)")
        cls, key, label, until = answer
        if not isinstance(cls, Integral) or isinstance(cls, bool) or not _is_number(key) \
                or not isinstance(label, str) or not _later(until, now):
            raise UserCodeError(f"{self.path}.rank returned {_shown(answer)}: cls must be a whole number, key a "
                                "number (not NaN), label a text and until a time later than now (or inf)")
        return answer

    def __getattr__(self, name: str) -> Any:  # the policy's own settings, for whoever inspects it
        if name.startswith("__") or name in ("policy", "path"):  # copying or unpickling: not set yet
            raise AttributeError(name)
        return getattr(self.policy, name)

    def __repr__(self) -> str:
        return f"GuardedPolicy({self.path})"


class GuardedRouter:
    """A user's router (`path` names it): its route answers checked, its errors named."""

    def __init__(self, router: Any, path: str) -> None:
        self.router, self.path = router, path

    def route(self, item: WorkItem, now: float) -> Route:
        try:
            answer = self.router.route(item, now)
        except Exception as exc:
            raise _raised(self.path, "route", exc) from None
        if not isinstance(answer, tuple) or len(answer) not in (1, 2) or answer[0] not in (LOCAL, CENTRAL, BOTH) \
                or (len(answer) == 2 and not _later(answer[1], now)):
            raise UserCodeError(f"{self.path}.route returned {_shown(answer)}, not a Route(where, until) with where "
                                f"one of {LOCAL!r}, {CENTRAL!r}, {BOTH!r} and until a time later than now (or inf)")
        return answer if isinstance(answer, Route) else Route(*answer)

    def __repr__(self) -> str:
        return f"GuardedRouter({self.path})"
