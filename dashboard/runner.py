"""Running scenarios for the dashboard: a cache shared by every session of the server, progress that follows
simulated time, a stop that stops the workers, and a run-time estimate measured on this machine.

Nothing here creates a page element: the caller passes a plain callback for progress, which may raise
(Streamlit interrupts a script that is asked to stop or rerun by raising inside its next page call); the
workers are then killed by the pool's context (`simulator/workers.py`). Results are keyed by the resolved
scenario, so the same setting, from any session, shows its results at once.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import scipy.special  # noqa: F401  (loaded once here, so forked workers do not each import it on first use)

from simulator import draws, network, records  # noqa: F401  (the same: the workers' code, loaded before they fork)
from simulator.experiment import Run, run_variants, summarise_run
from simulator.loading import dump_scenario
from simulator.prepare import estimate, policy_variant
from simulator.scenario import Scenario
from simulator.workers import cores

__all__ = ["Result", "simulate", "cached", "expected_seconds", "busy", "cached_bytes", "BUDGET_BYTES",
           "workspace", "save"]

_CACHE: OrderedDict[tuple, "Result"] = OrderedDict()
_LOCK = threading.Lock()
# The cache holds results up to this many bytes of tables (the oldest go first): memory stays bounded
# however many settings a server's sessions try.
BUDGET_BYTES = 768 * 1024 * 1024
# Runs in flight, by key: a session asking for a setting another is running waits for that run (and
# follows its progress) instead of simulating it again.
_RUNNING: dict[tuple, threading.Event] = {}
_SHARE: dict[tuple, float] = {}
# Work items simulated per second per worker, as measured by the runs this server made (None: not yet).
_SPEED: dict[str, float] = {}
_GUESS = (15_000.0, 60_000.0)  # before the first run: a wide band for machines like this one


@dataclass(frozen=True)
class Result:
    run: Run
    fifo: Run | None  # the same studies under FIFO, when the policy is not FIFO
    seconds: float

    @property
    def nbytes(self) -> int:
        """The bytes of its tables (what the cache's budget counts)."""
        return sum(t.nbytes for r in (self.run, self.fifo) if r is not None
                   for t in (r.studies, r.duties, r.stations) if t is not None)


def _key(scenario: Scenario, replications: int) -> tuple:
    return dump_scenario(scenario), replications


def cached(scenario: Scenario, replications: int) -> Result | None:
    with _LOCK:
        found = _CACHE.get(_key(scenario, replications))
        if found is not None:
            _CACHE.move_to_end(_key(scenario, replications))
        return found


def simulate(scenario: Scenario, replications: int, progress: Callable[[float], None] | None = None,
             workers: int | None = None) -> Result:
    """The scenario and, unless it is FIFO already, FIFO on the same studies, on one pool of workers; a
    setting already run, or running for another session, is not simulated again."""
    key = _key(scenario, replications)
    while True:
        with _LOCK:
            found = _CACHE.get(key)
            if found is not None:
                _CACHE.move_to_end(key)
                return found
            running = _RUNNING.get(key)
            if running is None:
                _RUNNING[key] = threading.Event()
                _SHARE[key] = 0.0
                break
        # Another session runs this very setting: follow it. When it ends, its result is in the cache; if it
        # was stopped, the loop comes round and this session runs it.
        while not running.wait(0.25):
            if progress is not None:
                progress(_SHARE.get(key, 0.0))
    alone = len(_RUNNING) == 1

    def share(done: float) -> None:
        _SHARE[key] = done
        if progress is not None:
            progress(done)

    try:
        variants = [scenario] if scenario.policy.triage == "fifo" else [scenario, policy_variant(scenario, "fifo")]
        started = time.perf_counter()
        runs = run_variants(variants, replications, workers=workers, progress=share, summarise=False)
        summarise_run(runs[0])  # FIFO is only compared with, study by study: it needs no summary of its own
        seconds = time.perf_counter() - started
        items = sum(r.studies.num_rows for r in runs)
        used = min(workers or cores(), len(variants) * replications)
        if seconds > 0.5 and alone and len(_RUNNING) == 1:  # a speed measured beside another run is not this machine's
            _SPEED["items_per_worker_second"] = items / seconds / max(used, 1)
        result = Result(runs[0], runs[1] if len(runs) > 1 else None, seconds)
        with _LOCK:
            _CACHE[key] = result
            total = sum(r.nbytes for r in _CACHE.values())
            while total > BUDGET_BYTES and len(_CACHE) > 1:
                total -= _CACHE.popitem(last=False)[1].nbytes
        return result
    finally:
        with _LOCK:
            _SHARE.pop(key, None)
            _RUNNING.pop(key).set()


# Saved scenarios, per workspace: a token in the page's address (?workspace=...), so that what a person saved
# is there again after a reload, and another person's list is not theirs. Held by the server, as results are.
_WORKSPACES: OrderedDict[str, OrderedDict[str, dict]] = OrderedDict()
SAVED_PER_WORKSPACE = 8  # the oldest saved scenario goes when a ninth is saved (each holds a run's tables)
WORKSPACES = 64


def workspace(token: str) -> OrderedDict[str, dict]:
    """The saved scenarios of a workspace (created empty; the least recently used go beyond WORKSPACES)."""
    with _LOCK:
        found = _WORKSPACES.setdefault(token, OrderedDict())
        _WORKSPACES.move_to_end(token)
        while len(_WORKSPACES) > WORKSPACES:
            _WORKSPACES.popitem(last=False)
        return found


def save(token: str, name: str, entry: dict) -> str | None:
    """Save `entry` under `name` in a workspace; the name of a saved scenario that had to go, if one did.
    Saved results count against BUDGET_BYTES as the cache's do: beyond it, the oldest saved ones keep their
    scenario (to be run again) and let their tables go."""
    saved = workspace(token)
    with _LOCK:
        saved[name] = entry
        saved.move_to_end(name)
        gone = saved.popitem(last=False)[0] if len(saved) > SAVED_PER_WORKSPACE else None
        held = [e for w in _WORKSPACES.values() for e in w.values() if e.get("result") is not None]
        total = sum(e["result"].nbytes for e in held)
        for oldest in held:
            if total <= BUDGET_BYTES or oldest is entry:
                break
            total -= oldest["result"].nbytes
            oldest["result"] = None
        return gone


def busy() -> int:
    """How many runs this server has in flight (every session's)."""
    return len(_RUNNING)


def expected_seconds(scenario: Scenario, replications: int, workers: int | None = None) -> tuple[float, float, bool]:
    """(low, high, measured): the time a run should take; measured on this server once it has run once."""
    variants = 1 if scenario.policy.triage == "fifo" else 2
    used = min(workers or cores(), variants * replications)
    items = estimate(scenario).items * replications * variants
    speed = _SPEED.get("items_per_worker_second")
    if speed is None:
        return items / (_GUESS[1] * used) + 1.0, items / (_GUESS[0] * used) + 2.0, False
    middle = items / (speed * used) + 0.5
    return 0.75 * middle, 1.35 * middle, True


def clear() -> None:
    """Forget every cached run and the measured speed (tests)."""
    with _LOCK:
        _CACHE.clear()
        _SPEED.clear()
        _WORKSPACES.clear()


def cached_bytes() -> int:
    """The bytes of tables the cache holds (at most BUDGET_BYTES, or one result larger than that)."""
    with _LOCK:
        return sum(r.nbytes for r in _CACHE.values())
