"""What the model schedules on SimPy's heap, and the loop that runs it.

SimPy's `Timeout` always has NORMAL priority and its process machinery costs several events per step;
the model needs neither. It keeps SimPy's `Environment` (the clock, the heap and `schedule`, which
orders simultaneous events by priority, then by scheduling order: the deterministic rule of the design,
release, then capacity, then seize) and puts `Tick`s on it, run by a loop of its own.
"""
from __future__ import annotations

from collections.abc import Callable
from heapq import heappop
from typing import Any

import simpy
from simpy.core import URGENT

__all__ = ["Tick", "run", "RELEASE", "SHIFT_END", "SHIFT_START", "SEIZE", "TICK"]

RELEASE, SHIFT_END, SHIFT_START, SEIZE, TICK = 0, 1, 2, 3, 4


class Tick:
    """Calls `callback(tick)` after `delay` minutes; `what` carries the subject (a reader, a duty).

    A Tick that has fired may be scheduled again (`env.schedule(tick, priority, delay)`) and keeps its
    callback, so a reader's one Tick serves all its reads and one Tick the chain of studies becoming ready."""

    __slots__ = ("callback", "what")

    def __init__(self, env: simpy.Environment, delay: float, priority: int,
                 callback: Callable[["Tick"], None], what: Any = None) -> None:
        self.callback = callback
        self.what = what
        env.schedule(self, priority, delay)  # type: ignore[arg-type]


def run(env: simpy.Environment, until: float) -> None:
    """`env.run(until)` for a model whose events are all Ticks.

    The same order and clock as SimPy's loop: the stop is scheduled as SimPy schedules it (URGENT, so
    it comes before the events at `until` scheduled after it). What `step()` does besides, per event, is
    for events that can fail, carry several callbacks or stop the run; without it the M/M/10 yardstick's
    model runs about 7% faster.
    """
    stop = Tick(env, until - env.now, URGENT, lambda tick: None)
    queue = env._queue
    while True:
        env._now, _, _, tick = heappop(queue)
        if tick is stop:
            return
        tick.callback(tick)
