"""How a ready item meets a reader: the reading station's dispatch strategies.

- `Pull`: the item goes to the longest-idle eligible reader of the first pool (in scenario order) that has
  one; otherwise it waits on the worklist, and a reader who becomes free takes the best item of their lanes.
- `Push`: the item is assigned on arrival to the eligible reader on shift with the least outstanding work
  (`least_loaded`), and waits in that reader's own lane if they are busy; with nobody eligible on shift it
  waits in the shared lane. Work pushed to a reader who leaves and not started goes to those still on shift.

A strategy is handed the station (`Station`: what of `ReadingStation` it uses) and answers its few
questions; the station owns the clock, the worklist and the readers.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from ..triage import Worklist
from ..triage.routing import least_loaded
from .lanes import Lanes
from .readers import Read, Reader, take_idle

__all__ = ["Dispatch", "Pull", "Push", "Station"]


class Station(Protocol):
    """What a dispatch strategy may ask of the reading station."""

    lanes: Lanes
    worklist: Worklist

    def give(self, reader: Reader, item: Read, now: float) -> None:
        """`reader` starts `item` now."""

    def queue(self, item: Read, now: float) -> None:
        """`item` waits on the worklist (its lane)."""

    def reroute(self, item: Read, now: float) -> None:
        """`item`, pushed to a reader who left, enters again."""


class Dispatch(Protocol):
    own_lanes: bool  # each reader has a lane of their own

    def enter(self, item: Read, now: float) -> None:
        """A ready item: to a reader now, or onto the worklist."""

    def taken(self, reader: Reader, item: Read) -> None:
        """`reader` starts `item`, which they did not hold (asked only where readers have own lanes)."""

    def withdraw(self, item: Read) -> None:
        """`item` leaves the worklist to be entered again: undo what entering did."""

    def shared_lane(self, item: Read) -> str:
        """The lane of readers `item` waits for (not a reader's own lane it was pushed to)."""

    def on_duty(self, reader: Reader) -> None:
        """`reader`'s duty starts (they are present)."""

    def off_duty(self, readers: list[Reader], now: float) -> None:
        """These readers' duty ends."""

    def may_interrupt(self, item: Read) -> Iterable[Reader]:
        """Readers in a read whom `item` may pre-empt."""

    def interrupted(self, reader: Reader, item: Read) -> None:
        """`reader`'s read of `item` was pre-empted: where it waits now."""


class Pull:
    own_lanes = False

    def __init__(self, station: Station) -> None:
        self.station = station
        self.pools_for = station.lanes.pools_for

    def enter(self, item: Read, now: float) -> None:
        reader = take_idle(self.pools_for[item.lane], now, item.exclude_reader)
        if reader is None:
            self.station.queue(item, now)
        else:
            self.station.give(reader, item, now)

    def taken(self, reader: Reader, item: Read) -> None:
        pass

    def withdraw(self, item: Read) -> None:
        pass

    def shared_lane(self, item: Read) -> str:
        return item.lane

    def on_duty(self, reader: Reader) -> None:
        pass

    def off_duty(self, readers: list[Reader], now: float) -> None:
        pass

    def may_interrupt(self, item: Read) -> Iterable[Reader]:
        return [reader for pool in self.pools_for[item.lane] for reader in pool.busy]

    def interrupted(self, reader: Reader, item: Read) -> None:
        pass


class Push:
    own_lanes = True

    def __init__(self, station: Station, units: dict[str, float]) -> None:
        self.station = station
        self.pools_for = station.lanes.pools_for
        self.units = units  # workload units per study type
        self.home: dict[int, str] = {}  # the shared lane of an item waiting in a reader's own lane

    def enter(self, item: Read, now: float) -> None:
        candidates = [reader for pool in self.pools_for[item.lane] for reader in pool.present
                      if reader.code != item.exclude_reader and reader.off_at > now]
        chosen = least_loaded(reader.load for reader in candidates)
        if chosen is None:  # nobody eligible on shift: whoever comes takes it from the shared lane
            self.station.queue(item, now)
            return
        reader = candidates[chosen]
        item.units = self.units[item.study_type]
        reader.load += item.units
        item.holder = reader
        if reader in reader.pool.idle:
            del reader.pool.idle[reader]
            self.station.give(reader, item, now)
            return
        self.home[item.index] = item.lane
        item.lane = reader.own  # type: ignore[assignment]
        self.station.queue(item, now)

    def taken(self, reader: Reader, item: Read) -> None:
        # Taken from a shared lane: it is this reader's work now.
        self.home.pop(item.index, None)
        item.units = self.units[item.study_type]
        reader.load += item.units

    def withdraw(self, item: Read) -> None:
        if item.index in self.home:
            item.holder.load -= item.units  # type: ignore[union-attr]
            item.holder = None
            item.lane = self.home.pop(item.index)

    def shared_lane(self, item: Read) -> str:
        return self.home.get(item.index, item.lane)

    def on_duty(self, reader: Reader) -> None:
        reader.pool.present[reader] = None

    def off_duty(self, readers: list[Reader], now: float) -> None:
        for reader in readers:
            reader.pool.present.pop(reader, None)
        for reader in readers:
            if reader.own is not None:
                for item in self.station.worklist.waiting_in(reader.own):
                    self.station.reroute(item, now)

    def may_interrupt(self, item: Read) -> Iterable[Reader]:
        # Pushed work waits for its own reader: only that reader may be interrupted for it.
        holder = item.holder
        if holder is not None:
            return [holder] if holder in holder.pool.busy else []
        return [reader for pool in self.pools_for[item.lane] for reader in pool.busy]

    def interrupted(self, reader: Reader, item: Read) -> None:
        # It stays the reader's work, first in their own lane.
        self.home.setdefault(item.index, item.lane)
        item.lane = reader.own  # type: ignore[assignment]
