"""The compiled loops of a large run made in a helper process, before the run's processes need them.

A loop is compiled by the first process that runs it compiled (`network/compiled.py`): on a machine's first
run some 20 s a loop, in a process that holds the run's arrays, and numba's compiler stays in that process
after (the city year's default command, measured: 2,146 MiB at its peak with an empty cache, 1,945 MiB with
the loops in the cache). So a large run first starts a helper process, which runs one day of the same
scenario with each loop the run would compile compiled at once, writing numba's cache, while the run's
processes draw their studies; a process about to compile waits for the helper to end, then loads the loops
from the cache. With the cache full already the helper only loads them (about a second of one core, while
the run draws its studies). Nothing the run gives depends on it: the compiled loops give the Python loops'
bits, and if the helper fails, each process compiles for itself as before.

`radsim compile` compiles them ahead of any run: a day of the network city runs every loop compiled (the
reading loop's one form serves every run), so that a machine's first large run finds them in the cache (some
30-70 s). `make install` runs it once, so that neither a first large run nor the test suite compiles (the
suite, with two workers that each reached a loop, and a helper, compiled it two or three times over).
"""
from __future__ import annotations

import importlib.util
import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .network.compiled import any_loaded, as_if_handed, can_cache
from .network.numbered_loop import COMPILED_FROM as NUMBERED_FROM
from .network.queues import COMPILED_FROM as STATIONS_FROM
from .prepare import Estimate, with_overrides
from .scenario import Scenario
from .workers import LocalPool

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

__all__ = ["compiled_ahead", "compile_every_loop"]

# A replication this large runs some loop compiled (the smaller of the loops' thresholds).
LARGE = min(NUMBERED_FROM, STATIONS_FROM)


@contextmanager
def compiled_ahead(scenario: Scenario, replicate: Callable[[Scenario, int], object]) -> Iterator[Event | None]:
    """While the block runs, a helper process compiles the loops a replication of `scenario` runs
    (`replicate(scenario, replication)`: `experiment.run_replication`, on a day of it); gives
    the event set once the helper has ended (for `compiled.after_helper`), or None where no helper is
    started: a small run, no numba, or loops this process runs compiled already. A helper still running
    when the block ends is killed (no loop of the run needed it)."""
    items = int(Estimate(scenario).items)
    if items < LARGE or any_loaded() or importlib.util.find_spec("numba") is None:
        yield None
        return
    ended = multiprocessing.get_context().Event()
    pool = LocalPool(1)
    try:
        helper = pool.submit(_compile, scenario, items, replicate)
    except Exception:  # no process may be started from here (a daemonic one): each compiles for itself
        pool.shutdown(wait=False, cancel_futures=True)
        yield None
        return
    helper.add_done_callback(lambda _: ended.set())
    try:
        yield ended
    finally:
        if helper.done():
            pool.shutdown()
        else:
            pool.kill()


def _compile(scenario: Scenario, items: int, replicate: Callable[[Scenario, int], object]) -> None:
    """One day of `scenario` (its first replication, no warm-up), each loop compiled as it comes if a
    replication of `items` work items runs it compiled."""
    if not can_cache():  # what it compiled would stay here: the run's processes compile for themselves
        return
    as_if_handed(items)
    day = with_overrides(scenario, [f"horizon_days={min(1.0, scenario.horizon_days)}", "warmup_days=0"],
                         expectations=False)
    replicate(day, 0)


# Scenarios whose days run every loop there is to compile: the network city runs the upstream stations'
# loops and the reading station's, whose one form serves every run (tests/test_compile_ahead.py).
EVERY_LOOP = ("moscow_city_network",)


def compile_every_loop(replicate: Callable[[Scenario, int], object]) -> bool:
    """Every loop compiled into numba's cache now, as the helper does for a run (`replicate`:
    `experiment.run_replication`), where it can be kept (`radsim compile`): whether
    it was (no numba, or nowhere to write its cache: nothing to do)."""
    if importlib.util.find_spec("numba") is None or not can_cache():
        return False
    from .prepare import load_scenario

    for name in EVERY_LOOP:
        _compile(load_scenario(name), max(NUMBERED_FROM, STATIONS_FROM), replicate)
    return True
