"""Readers on duty and the pools they belong to: the reading station's servers, and the rules of who takes
a ready item and when a reader leaves, written once for the layered station (docs/model.md);
`numbered_loop.py` writes the same rules out over arrays, for numba (each rule's flip there is caught too:
docs/testing.md)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..triage import WorkItem

if TYPE_CHECKING:
    from ..kernel import Tick

__all__ = ["Reader", "Pool", "Read", "take_idle", "signs_off", "count_busy"]


@dataclass(slots=True, eq=False)
class Read(WorkItem):
    """A work item as the reading station handles it: what is left to read, who holds it, and the other
    read of a double-read study. (The triage logic sees only the WorkItem.)"""

    remaining: float = 0.0
    holder: "Reader | None" = field(default=None, repr=False)  # the reader it is assigned to (push) or read by
    partner: "Read | None" = field(default=None, repr=False)
    units: float = 0.0  # workload units counted against the holder (push)


class Reader:
    """One rostered reader on one duty."""

    __slots__ = ("code", "pool", "lanes", "duty", "off_at", "item", "resumed", "pending", "busy", "reads", "overtime",
                 "gone", "own", "load")

    def __init__(self, code: int, pool: "Pool", duty: int, off_at: float, own: str | None = None,
                 own_heap: list | None = None) -> None:
        self.code = code  # the reader's name index: one per pool x shift x slot
        self.pool = pool
        # Push dispatch gives each reader a lane of their own, looked at before the pool's shared lanes.
        self.own = own
        self.lanes = pool.lanes if own_heap is None else (own_heap, *pool.lanes)
        self.load = 0.0  # push: workload units assigned and not finished
        self.duty = duty
        self.off_at = off_at
        self.item: Read | None = None
        self.resumed = 0.0
        self.pending: Tick | None = None
        self.busy = 0.0  # minutes reading inside the duty and after the warm-up
        self.reads = 0
        self.overtime = 0.0
        self.gone = False


class Pool:
    __slots__ = ("name", "lanes", "idle", "busy", "present")

    def __init__(self, name: str, lanes: tuple) -> None:
        self.name = name
        self.lanes = lanes
        self.idle: dict[Reader, None] = {}  # insertion order: the longest idle is taken first
        self.busy: dict[Reader, None] = {}  # with pre-emption: readers in a read
        self.present: dict[Reader, None] = {}  # push: readers on shift, candidates for assignment


def take_idle(pools: tuple["Pool", ...] | list["Pool"], now: float, exclude: int = -1) -> Reader | None:
    """Who takes a ready item: the longest-idle reader of the first pool (in scenario order) that has one
    who may read it (not `exclude`, and not at the very minute their duty ends: a reader whose shift ends
    now is still idle until the shift-end event, as releases come first, but starts nothing more); taken
    out of the pool's idle readers. None: nobody is idle, and the item waits."""
    for pool in pools:
        idle = pool.idle
        if idle:
            reader = next(iter(idle))
            if reader.code == exclude or reader.off_at <= now:
                reader = next((r for r in idle if r.code != exclude and r.off_at > now), None)
                if reader is None:
                    continue
            del idle[reader]
            return reader
    return None


def signs_off(reader: Reader, now: float) -> bool:
    """A reader whose read is done at or after the end of their duty leaves (the time past it is
    overtime) and starts nothing more (docs/model.md, shift handover)."""
    if now >= reader.off_at:
        reader.overtime = now - reader.off_at
        reader.gone = True
        return True
    return False


def count_busy(reader: Reader, now: float, warmup: float) -> None:
    """The reading time from the read's (re)start to `now` that falls in the duty and after the warm-up."""
    if reader.resumed >= warmup and now <= reader.off_at:
        reader.busy += now - reader.resumed
        return
    lo = max(reader.resumed, warmup)
    hi = min(now, reader.off_at)
    if hi > lo:
        reader.busy += hi - lo
