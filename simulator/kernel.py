"""The model's event kernel: one heap of (time, priority, sequence, tick), its clock, and the loop that
runs it, in the spirit of SimPy's small kernel and of nothing more than the model uses.

Simultaneous events run by priority (a reader's release, then a shift's end, then a shift's start, then a
study seized: the design's deterministic rule), then in the order they were scheduled. Every event is a
`Tick` calling one callback. The state is public on purpose: the reading station's hot paths push onto
`heap` and move `now` themselves (a method call per event costs the M/M/10 model several percent). It was
SimPy's `Environment`, used through its private attributes; these few lines are the same arithmetic and
the same order (the model digests are unchanged), with nothing private of a dependency.
"""
from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from itertools import count
from typing import Any

__all__ = ["Clock", "Tick", "run", "STOP", "RELEASE", "SHIFT_END", "SHIFT_START", "SEIZE", "TICK"]

# Priorities of simultaneous events. The run's stop shares the first: it comes after what was scheduled at
# the horizon before the run began, and before what is scheduled after.
STOP = RELEASE = 0
SHIFT_END, SHIFT_START, SEIZE, TICK = 1, 2, 3, 4


class Clock:
    """The heap of scheduled ticks and the time."""

    __slots__ = ("heap", "now", "sequence")

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, int, Tick]] = []
        self.now = 0.0
        self.sequence = count()  # scheduling order: the tie-break after time and priority

    def schedule(self, tick: "Tick", priority: int, delay: float) -> None:
        heappush(self.heap, (self.now + delay, priority, next(self.sequence), tick))


class Tick:
    """Calls `callback(tick)` after `delay` minutes; `what` carries the subject (a reader, a duty).

    A Tick that has fired may be scheduled again (`clock.schedule(tick, priority, delay)`) and keeps its
    callback, so a reader's one Tick serves all its reads and one Tick the chain of studies becoming ready."""

    __slots__ = ("callback", "what")

    def __init__(self, clock: Clock, delay: float, priority: int, callback: Callable[["Tick"], None],
                 what: Any = None) -> None:
        self.callback = callback
        self.what = what
        clock.schedule(self, priority, delay)


def run(clock: Clock, until: float) -> None:
    """Fire every tick due before `until` (and those at `until` scheduled before the run began), in order."""
    stop = Tick(clock, until - clock.now, STOP, lambda tick: None)
    heap = clock.heap
    while True:
        clock.now, _, _, tick = heappop(heap)
        if tick is stop:
            return
        tick.callback(tick)
