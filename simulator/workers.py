"""Local worker processes that never outlive the command that started them.

`LocalPool` is a `ProcessPoolExecutor` whose workers
- die with their parent: on Linux the kernel sends them SIGKILL when it dies (prctl PR_SET_PDEATHSIG), and
  a watcher thread in each worker exits it if its parent changes (any platform), so a `kill -9` of radsim
  leaves nothing computing;
- are killed at once, not waited for, when the `with` block ends by an exception (Ctrl-C, SIGTERM, an error).
(`simulator.stopping` makes SIGTERM stop a command as Ctrl-C does.)
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType

__all__ = ["LocalPool", "cores", "killed"]

_PR_SET_PDEATHSIG = 1
_killed = 0  # pools whose workers were killed in this process (`killed`)


def killed() -> int:
    """How many pools' workers this process killed. Once it has, its exit must not join the pools' threads
    (as the interpreter's exit does): a worker killed while sending a result leaves its pool's reader
    waiting for the rest for ever, the pipe's other end being this process's own."""
    return _killed


def cores() -> int:
    """The cores this process may use (its CPU affinity where the platform says)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _die_with_parent(parent: int, setup: Callable[..., None] | None = None, args: tuple = ()) -> None:
    """Runs first in every worker (then `setup(*args)`, the caller's own initialisation)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above ran
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it kills us

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="radsim-parent-watch", daemon=True).start()
    if setup is not None:
        setup(*args)


class LocalPool(ProcessPoolExecutor):
    """A process pool of `workers` processes that die with this one and are killed, not awaited, when a
    `with` block is left by an exception."""

    def __init__(self, workers: int, setup: Callable[..., None] | None = None, args: tuple = ()) -> None:
        super().__init__(max_workers=max(1, workers), initializer=_die_with_parent,
                         initargs=(os.getpid(), setup, args))

    def kill(self) -> None:
        """Stop every worker now; work in flight is lost (the caller knows what it had not received). The
        process must then not wait for the pool's threads as it exits (`killed`)."""
        global _killed
        _killed += 1
        processes = list((getattr(self, "_processes", None) or {}).values())
        self.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.kill()
        for process in processes:
            process.join(timeout=5.0)

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> bool:
        if kind is None:
            self.shutdown(wait=True)
        else:
            self.kill()
        return False
