"""The one way from a `package.module:Name` written in a scenario to code: checked before it is imported,
and checked again before anything of it is called.

Every import path a scenario may hold (`policy.triage`, `policy.aging.base`, `routing.router`) goes
through `resolve`:
1. the text must be an import path (dotted identifiers, a colon, an identifier);
2. the path must be allowed *before* its module is imported (a scenario file, a `--set` or an upload to a
   shared dashboard cannot make radsim import `os`, or run a module's top-level code);
3. the named object must be a class that provides the interface asked for (a triage policy has a `rank`
   method and a `name`), *before* it is called (`builtins:exit` is refused, not run).

What is allowed: radsim's own classes (`simulator.*`), and what the allow-list names. The allow-list is the
environment variable `RADSIM_ALLOWED_CODE` (comma-separated; the older `RADSIM_ALLOWED_POLICIES` is read
too): an entry is an exact path (`mypkg.rules:NewRules`) or a module (`mypkg`: every class in it and in
the modules below it). The command line adds to it for one command (`--allow-code mypkg`, and the path a
`--policy` option names) through `grant`, which also reaches the worker processes that command starts.
"""
from __future__ import annotations

import importlib
import os
import re
from collections.abc import Collection, Iterable, Sequence

from .policy import PolicyError

__all__ = ["resolve", "permit", "is_import_path", "allowed_code", "grant", "ALLOW_ENV", "OWN"]

ALLOW_ENV = "RADSIM_ALLOWED_CODE"
_LEGACY_ENV = "RADSIM_ALLOWED_POLICIES"
OWN = "simulator"  # radsim's own modules: always allowed
_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$", re.ASCII)
_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$", re.ASCII)


def is_import_path(text: str) -> bool:
    """Whether `text` has the shape `package.module:Name` (the shape is not a permission)."""
    return bool(_PATH.match(text))


def allowed_code() -> frozenset[str]:
    """The allow-list in force in this process: exact paths and modules (empty when none is given)."""
    values = [os.environ[name] for name in (ALLOW_ENV, _LEGACY_ENV) if name in os.environ]
    return frozenset(p.strip() for value in values for p in value.split(",") if p.strip())


def grant(entries: Iterable[str]) -> None:
    """Add paths or modules to this process's allow-list, and so to the workers it starts (they inherit
    the environment). PolicyError for an entry that is neither a module nor an import path."""
    entries = [e.strip() for e in entries if e.strip()]
    bad = [e for e in entries if not (_PATH.match(e) or _MODULE.match(e))]
    if bad:
        raise PolicyError(f"{bad[0]!r} is neither a module (mypkg.rules) nor a class path (mypkg.rules:NewRules)")
    if entries:
        os.environ[ALLOW_ENV] = ",".join(sorted(allowed_code() | set(entries)))


def _allowed(path: str, allowed: Collection[str]) -> bool:
    module = path.partition(":")[0]
    return any(entry == path or (":" not in entry and (module == entry or module.startswith(entry + ".")))
               for entry in (OWN, *allowed))


def permit(path: str, what: str, allowed: Collection[str] | None = None) -> None:
    """PolicyError unless `path` is an import path that is allowed (by `allowed`, else the allow-list in
    force). Imports nothing."""
    if not isinstance(path, str) or not is_import_path(path):
        raise PolicyError(f"{path!r} is not an import path 'package.module:Class'")
    if not _allowed(path, allowed_code() if allowed is None else allowed):
        module = path.partition(":")[0]
        raise PolicyError(f"refused: {path!r} is not on the allow-list of code radsim may import ({ALLOW_ENV}); "
                          f"if it is your own installed {what}, allow it with --allow-code {module.partition('.')[0]}")


def resolve(path: str, methods: Sequence[str], what: str, allowed: Collection[str] | None = None) -> type:
    """The class `path` names, once it has passed every check; PolicyError saying which check failed.

    `methods` are the callables the class must define (its interface); `allowed` overrides the allow-list
    in force (None: the environment's and the command line's).
    """
    permit(path, what, allowed)
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
