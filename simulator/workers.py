"""Local worker processes that never outlive the command that started them.

`LocalPool` is a `ProcessPoolExecutor` whose workers
- die with their parent: on Linux the kernel sends them SIGKILL when it dies (prctl PR_SET_PDEATHSIG), and
  a watcher thread in each worker exits it if its parent changes (any platform), so a `kill -9` of radsim
  leaves nothing computing;
- are killed at once, not waited for, when the `with` block ends by an exception (Ctrl-C, SIGTERM, an error).
(`simulator.stopping` makes SIGTERM stop a command as Ctrl-C does.)

How many: the cores this process may use (`cores`), and no more replications at once than the memory
available holds (`within_memory`): a run's replications give the same rows on one process or several, so a
run that two processes would take out of memory runs them one after the other, and says so.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .scenario import Scenario

__all__ = ["LocalPool", "cores", "killed", "for_runs", "within_memory", "available_memory"]

_log = logging.getLogger(__name__)

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


# How far a replication's estimate of its memory may fall short (`prepare.Estimate`: the network city's
# year measured 19% over it).
MARGIN = 1.25


def available_memory(meminfo: str = "/proc/meminfo", group: str = "/sys/fs/cgroup") -> int | None:
    """Bytes this machine can give new processes without swapping (Linux's MemAvailable, and no more than
    this process's control group has left, where it has a limit); None where it cannot be read."""
    try:
        with open(meminfo) as stream:
            found = next((int(line.split()[1]) * 1024 for line in stream if line.startswith("MemAvailable:")), None)
    except (OSError, ValueError, IndexError):
        return None
    try:
        with open(f"{group}/memory.max") as limit, open(f"{group}/memory.current") as current:
            bound = limit.read().strip()
            if found is not None and bound != "max":
                found = min(found, int(bound) - int(current.read()))
    except (OSError, ValueError):
        pass  # no limit of its own (or cgroup v1): the machine's
    return found


def for_runs(workers: int | None, scenarios: Iterable[Scenario], runs: int | None = None) -> int:
    """Processes for replications of `scenarios` (any of them at once): `workers` (default every core), no
    more than the `runs` if known, within the memory available (`within_memory`, at `prepare.Estimate`'s
    figure)."""
    from .prepare import Estimate  # (the scenario's layer, not this module's)

    need = max((Estimate(scenario).gigabytes for scenario in scenarios), default=0.0) * 1e9
    wanted = workers or cores()
    return within_memory(max(1, wanted if runs is None else min(runs, wanted)), need)


def within_memory(workers: int, need: float) -> int:
    """Of `workers` processes, as many as the memory available holds at `need` bytes each (and a margin), at
    least one. Says so (a warning of this module's logger, which the CLI prints as a note) when fewer, or
    when even one may not fit."""
    available = available_memory()
    if available is None or need <= 0:
        return workers
    fit = int(available // (need * MARGIN))
    each = f"a replication needs about {need / 1e9:.1f} GB and {available / 1e9:.1f} GB of memory is available"
    if fit < 1:
        _tell(("short", need), f"{each}: it may run out of memory (exit 4); a shorter horizon needs less")
        return 1
    if fit < workers:
        _tell((fit, workers, need), f"{fit} worker process{'es' if fit > 1 else ''} at once, not {workers}: {each}")
        return fit
    return workers


_told: set[tuple] = set()  # the notes said in this process: `staff` and `validate` run many runs alike


def _tell(what: tuple, note: str) -> None:
    if what not in _told:
        _told.add(what)
        _log.warning(note)


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
