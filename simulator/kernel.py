"""The one kind of event the model schedules on SimPy's heap: a callback at a time, with a priority.

SimPy's `Timeout` always has NORMAL priority and its process machinery costs several events per step;
the model needs neither. `Environment.schedule` orders simultaneous events by priority, then by
scheduling order, which gives the deterministic rule of the design: release, then capacity, then seize.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy
from simpy.events import Event

__all__ = ["Tick", "RELEASE", "SHIFT_END", "SHIFT_START", "SEIZE", "TICK"]

RELEASE, SHIFT_END, SHIFT_START, SEIZE, TICK = 0, 1, 2, 3, 4


class Tick(Event):
    """Calls `callback(tick)` after `delay` minutes; `what` carries the subject (a reader, a duty)."""

    def __init__(self, env: simpy.Environment, delay: float, priority: int,
                 callback: Callable[["Tick"], None], what: Any = None) -> None:
        # Event.__init__ would mark the event pending; a Tick is born triggered, like simpy's Timeout.
        self.env = env
        self.callbacks = [callback]
        self._ok = True
        self._value = None
        self.what = what
        env.schedule(self, priority, delay)
