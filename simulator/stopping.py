"""SIGTERM stops a command as Ctrl-C does: one KeyboardInterrupt path for both, so that workers are
killed and what is finished is kept (`workers.LocalPool`, `files.write_directory`).

Its own module, so that a command that starts no workers does not import the process pool to get it.
"""
from __future__ import annotations

import signal
import threading

__all__ = ["stop_on_sigterm"]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """SIGTERM stops the command like Ctrl-C: workers are killed and what is finished is kept."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
