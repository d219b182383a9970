"""Stopping a command: SIGTERM stops it as Ctrl-C does (one KeyboardInterrupt path for both, so that workers
are killed and what is finished is kept: `workers.LocalPool`, `files.write_directory`), and what an
interrupted command kept is said when it stops (a CI log must not just end at a progress line).

Its own module, so that a command that starts no workers does not import the process pool to get it.
"""
from __future__ import annotations

import signal
import threading

__all__ = ["stop_on_sigterm", "keep", "interrupted", "caused_by"]

_kept: list[str] = []


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """SIGTERM stops the command like Ctrl-C: workers are killed and what is finished is kept."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


def keep(note: str) -> None:
    """Record what this command has kept so far, to be said if it is interrupted (the last note stands)."""
    _kept[:] = [note]


def interrupted() -> str:
    """What to say when a command is interrupted."""
    return "interrupted; " + (_kept[0] if _kept else "nothing was written (outputs appear whole or not at all)")


def caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether an exception is, or comes from, one of `kind` (typer turns a Ctrl-C into a plain exit 130, a
    closed pipe into exit 1)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
