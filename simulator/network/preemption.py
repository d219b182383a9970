"""Pre-emption (`policy.preemptive: true`): an item no idle reader can take may interrupt the read in
progress of the lowest class, the one started last among those, if its own class is strictly higher. The
interrupted item goes back to the head of its class and later resumes with its remaining reading time
(resume, not restart)."""
from __future__ import annotations

from typing import Protocol

from .dispatch import Dispatch
from .readers import Read, Reader

__all__ = ["Preemption"]


class Station(Protocol):
    """What pre-emption may ask of the reading station."""

    dispatch: Dispatch

    def interrupt(self, victim: Reader, now: float) -> None:
        """Stop `victim`'s read now; the item goes back to the head of its class."""


class Preemption:
    def __init__(self, station: Station) -> None:
        self.station = station

    def for_item(self, item: Read, now: float) -> None:
        """Interrupt a read for `item`, just queued, if it outranks one (and the reader may read it)."""
        victim: Reader | None = None
        for reader in self.station.dispatch.may_interrupt(item):
            current = reader.item
            if reader.off_at <= now or current.cls <= item.cls or reader.code == item.exclude_reader:
                continue
            if victim is None or (current.cls, reader.resumed) > (victim.item.cls, victim.resumed):
                victim = reader
        if victim is not None:
            self.station.interrupt(victim, now)
