"""Plain loops that run as Python until a process has handed them enough work, then compiled by numba, with
the same bits.

A loop here is a function (or generator) of numbers and arrays only, so numba compiles it unchanged. Importing
numba and loading a compiled loop costs a process about 0.7 s, so a loop runs compiled once the process has
handed it enough work that this pays (each caller says how much: one large input, or many small ones, as
`radsim validate`'s and `staff`'s workers run replication after replication), and then for every input of
that process. Without numba (the `fast` extra not installed) every loop runs as Python: the same bits, slower.

Compiling a loop costs some 20 s and leaves a process holding numba's compiler (some 200 MB, measured on the
city's year), so a large run compiles ahead in a helper process (`simulator/compile_ahead.py`), which writes
numba's cache: a process about to compile waits for the helper to end (`after_helper`), then loads the loops.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

__all__ = ["runner", "after_helper", "as_if_handed", "any_loaded", "can_cache"]

# How long a process waits for the helper compiling ahead before it compiles for itself (a cold compile of
# every loop takes about a minute on a slow machine).
HELPER_PATIENCE = 600.0

_loaded: dict[Callable[..., Any], Callable[..., Any]] = {}  # each loop's compiled form, once its work needed it
_handed: dict[Callable[..., Any], int] = {}  # the jobs each loop was handed in this process
_ahead = 0  # jobs each loop is taken to have been handed already (in the helper that compiles ahead)
_helper: Event | None = None  # set once the helper compiling ahead for this process has ended


def as_if_handed(jobs: int) -> None:
    """In this process, each loop runs compiled from its first input if `jobs` jobs would make it so: the
    helper compiling ahead of a run of that many (`simulator/compile_ahead.py`), on a day of it."""
    global _ahead
    _ahead = jobs


def after_helper(ended: Event | None) -> None:
    """Before this process compiles a loop, it waits until `ended` is set (the helper compiling ahead has
    ended, having written numba's cache), at most `HELPER_PATIENCE` seconds. None: it does not wait."""
    global _helper
    _helper = ended


def can_cache() -> bool:
    """Whether numba can keep this module's compiled loops for other processes (somewhere to write its
    cache): if not, a helper compiling ahead would only make the run's processes wait."""
    try:
        from numba import njit
    except ImportError:
        return False
    try:
        njit(cache=True)(_probe)
    except RuntimeError:
        return False
    return True


def _probe() -> int:
    return 0


def any_loaded() -> bool:
    """Whether this process runs some loop compiled already (compiling ahead would save it nothing)."""
    return bool(_loaded)


def runner(loop: Callable[..., Any], jobs: int, compiled_from: int,
           helpers: tuple[Callable[..., Any], ...] = ()) -> tuple[Callable[..., Any], bool]:
    """The loop to run `jobs` jobs with, and whether it is compiled (it then takes numpy arrays, where the
    Python form is handed lists or `array`s: a numpy scalar costs Python more than a float): compiled once
    this process has handed it `compiled_from` jobs, these included. `helpers`: the functions of its module
    it calls, compiled with it (and plain functions still when called from Python)."""
    compiled = _loaded.get(loop)
    _handed[loop] = _handed.get(loop, 0) + jobs
    if compiled is None and _handed[loop] + _ahead >= compiled_from:
        compiled = _compiled(loop, helpers)
        if compiled is not None:
            _loaded[loop] = compiled
    return (loop, False) if compiled is None else (compiled, True)


def _compiled(loop: Callable[..., Any], helpers: tuple[Callable[..., Any], ...] = ()) -> Callable[..., Any] | None:
    try:
        from numba import njit  # imported by the first large input only: it costs a third of a second
        from numba.extending import register_jitable
    except ImportError:
        return None

    _await_helper()
    for helper in helpers:
        register_jitable(helper)  # the same function, known to numba when a loop calls it

    # IEEE arithmetic as Python's (no fastmath), so compiled and Python loops give the same bits.
    try:
        return njit(cache=True)(loop)
    except RuntimeError:  # nowhere to keep compiled code (a read-only install, no user cache): compile anew
        return njit(loop)


def _await_helper() -> None:
    global _helper
    if _helper is not None:
        _helper.wait(HELPER_PATIENCE)
        _helper = None  # once: the loops it compiled are in the cache now, or this process compiles its own
