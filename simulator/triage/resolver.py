"""The one way from a `package.module:Name` written in a scenario to code: checked before it is imported,
and checked again before anything of it is called.

Every import path a scenario may hold (`policy.triage`, `policy.aging.base`) goes through `resolve`:
1. the text must be an import path (dotted identifiers, a colon, an identifier);
2. where an allow-list is in force, the path must be on it, *before* its module is imported (an upload to a
   shared dashboard cannot make the server import `os`);
3. the named object must be a class that provides the interface asked for (a triage policy has a `rank`
   method and a `name`), *before* it is called (`builtins:exit` is refused, not run).

The allow-list comes from the environment variable `RADSIM_ALLOWED_CODE` (comma-separated paths; the older
`RADSIM_ALLOWED_POLICIES` is read too). Unset, a user's own command line may name any installed class;
set, even to nothing, only the paths it lists. The dashboard sets it for its server and every worker.
"""
from __future__ import annotations

import importlib
import os
import re
from collections.abc import Collection, Sequence

from .policy import PolicyError

__all__ = ["resolve", "permit", "is_import_path", "allowed_code", "ALLOW_ENV"]

ALLOW_ENV = "RADSIM_ALLOWED_CODE"
_LEGACY_ENV = "RADSIM_ALLOWED_POLICIES"
_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$", re.ASCII)


def is_import_path(text: str) -> bool:
    """Whether `text` has the shape `package.module:Name` (the shape is not a permission)."""
    return bool(_PATH.match(text))


def allowed_code() -> frozenset[str] | None:
    """The paths this process may import, or None when no allow-list is in force."""
    values = [os.environ[name] for name in (ALLOW_ENV, _LEGACY_ENV) if name in os.environ]
    if not values:
        return None
    return frozenset(p.strip() for value in values for p in value.split(",") if p.strip())


def permit(path: str, what: str, allowed: Collection[str] | None) -> None:
    """PolicyError unless `path` is an import path and, where an allow-list is given, on it. Imports nothing."""
    if not isinstance(path, str) or not is_import_path(path):
        raise PolicyError(f"{path!r} is not an import path 'package.module:Class'")
    if allowed is not None and path not in allowed:
        raise PolicyError(f"refused: {path!r} would run code not on this installation's allow-list "
                          f"({ALLOW_ENV}); an administrator may add an installed {what} there")


def resolve(path: str, methods: Sequence[str], what: str, allowed: Collection[str] | None = None) -> type:
    """The class `path` names, once it has passed every check; PolicyError saying which check failed.

    `methods` are the callables the class must define (its interface); `allowed` overrides the
    environment's allow-list (None: the environment's).
    """
    permit(path, what, allowed_code() if allowed is None else frozenset(allowed))
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PolicyError(f"cannot import {what} module {module_name!r}: {exc}") from exc
    except Exception as exc:  # the module itself fails when imported: still the user's input, named
        raise PolicyError(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc
    found = getattr(module, attribute, None)
    if found is None:
        raise PolicyError(f"module {module_name!r} has no {attribute!r}")
    if not isinstance(found, type):
        raise PolicyError(f"{path!r} is not a {what} class (it is {type(found).__name__!s}); "
                          f"give a class with {', '.join(m + '()' for m in methods)}")
    missing = [m for m in methods if not callable(getattr(found, m, None))]
    if missing:
        raise PolicyError(f"{path!r} is not a {what}: it has no {', '.join(m + '()' for m in missing)}")
    return found
