"""The network model: studies become ready, the worklist orders them, readers on shift read them.

One `Tick` per study becoming ready and one per read finished: about two heap events per study. The
random draws were made up front (`cohort`); the model only decides who reads what, and when.
"""
from __future__ import annotations

import gc
import math
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import simpy

from .calendar import Duty, duties
from .cohort import REFERRALS, Cohort
from .kernel import RELEASE, SEIZE, SHIFT_END, SHIFT_START, TICK, Tick
from .scenario import SECOND_OPINION, Scenario
from .streams import stream
from .triage import TriagePolicy, WorkItem, Worklist

__all__ = ["Outcome", "simulate_cohort"]

NaN = math.nan


class Reader:
    """One rostered reader on one duty."""

    __slots__ = ("code", "pool", "lanes", "duty", "off_at", "item", "resumed", "pending", "busy", "reads", "overtime", "gone")

    def __init__(self, code: int, pool: "PoolState", duty: int, off_at: float) -> None:
        self.code = code  # the reader's name index: one per pool x shift x slot
        self.pool = pool
        self.lanes = pool.lanes
        self.duty = duty
        self.off_at = off_at
        self.item: WorkItem | None = None
        self.resumed = 0.0
        self.pending: Tick | None = None
        self.busy = 0.0  # minutes reading inside the duty and after the warm-up
        self.reads = 0
        self.overtime = 0.0
        self.gone = False


class PoolState:
    __slots__ = ("name", "lanes", "idle", "busy")

    def __init__(self, name: str, lanes: tuple) -> None:
        self.name = name
        self.lanes = lanes
        self.idle: dict[Reader, None] = {}  # insertion order: the longest idle is taken first
        self.busy: dict[Reader, None] = {}


@dataclass
class Outcome:
    """What the model adds to a cohort: per work item, and per reader duty."""

    parent: np.ndarray  # for a second opinion, the index of its primary study; -1 otherwise
    ready_at: np.ndarray
    read_start: np.ndarray
    reported_at: np.ndarray
    reader: np.ndarray  # code into reader_names, -1 when unread
    label: np.ndarray  # code into label_names of the triage label per item; -1 if it never reached the worklist
    label_names: list[str]
    exists: np.ndarray  # second opinions exist only once their primary is reported
    reader_names: list[str]
    duties: list[dict]


class NetworkModel:
    def __init__(self, scenario: Scenario, cohort: Cohort, policy: TriagePolicy, seed: int, replication: int,
                 progress: Callable[[float], None] | None = None) -> None:
        self.scenario = scenario
        self.cohort = cohort
        self.env = simpy.Environment()
        self.worklist = Worklist(policy)
        self.preemptive = scenario.policy.preemptive
        self.horizon = scenario.horizon_minutes
        self.warmup = scenario.warmup_minutes
        self.seed, self.replication = seed, replication
        self.progress = progress
        lanes_of = {name: scenario.lanes_of(pool) for name, pool in scenario.pools.items()}
        # Study types read by the same pools share one worklist lane: a reader then looks at a heap or
        # two rather than one per study type, and the order within the lane is the policy's alone.
        readers_of = {lane: tuple(p for p, lanes in lanes_of.items() if lane in lanes)
                      for lane in list(scenario.study_types) + [SECOND_OPINION]}
        self.lane_of = {lane: "+".join(pools) + ":" + ("so" if lane == SECOND_OPINION else "reads")
                        for lane, pools in readers_of.items()}
        self.pools = {name: PoolState(name, tuple(self.worklist.lane(group) for group in
                                                  dict.fromkeys(self.lane_of[lane] for lane in lanes)))
                      for name, lanes in lanes_of.items()}
        # Which pools may take a lane's item, in the scenario's order (the first listed is asked first).
        self.pools_for: dict[str, tuple[PoolState, ...]] = {
            self.lane_of[lane]: tuple(self.pools[p] for p in pools) for lane, pools in readers_of.items()}
        n = len(cohort)
        flagged = np.flatnonzero(cohort.second_opinion)
        so_index = np.full(n, -1, dtype=np.int64)
        so_index[flagged] = n + np.arange(flagged.shape[0])
        total = n + flagged.shape[0]
        self.n_items = total
        self.n_cohort = n
        self._ready_callback, self._done_callback = self._on_ready, self._on_done  # bound once, not per event
        # Per-item results in compact typed arrays: a city year has ~7 M items, and boxed floats in
        # lists would cost gigabytes.
        self.so_index = array("q", so_index.tobytes())
        self.parent = np.full(total, -1, dtype=np.int64)
        self.parent[n:] = flagged
        self.ready_at = array("d", np.concatenate([cohort.ready_at, np.full(flagged.shape[0], NaN)]).tobytes())
        self.read_start = array("d", np.full(total, NaN).tobytes())
        self.reported_at = array("d", np.full(total, NaN).tobytes())
        self.reader_of = array("q", np.full(total, -1, dtype=np.int64).tobytes())
        self.label = array("h", np.full(total, -1, dtype=np.int16).tobytes())
        self.label_codes: dict[str, int] = {}
        self.reader_names: list[str] = []
        self.reader_code: dict[tuple[str, int, int], int] = {}
        self.duty_rows: list[dict] = []
        self.duty_readers: dict[int, list[Reader]] = {}  # by duty number, once the duty has started

    # Studies becoming ready ---------------------------------------------------------------------------
    def _start_arrivals(self) -> None:
        c = self.cohort
        order = np.argsort(c.ready_at, kind="stable")
        if order.shape[0] == 0:
            return
        kinds = {name: (name, t.kind, t.modality, t.ai, self.lane_of[name])
                 for name, t in self.scenario.study_types.items()}
        self.per_type = [kinds[name] for name in c.type_names]
        self.site_names = list(c.site_names)
        self.rows = self._rows(order)
        Tick(self.env, float(c.ready_at[order[0]]), SEIZE, self._on_ready)

    def _rows(self, order: np.ndarray, chunk: int = 1 << 16) -> Iterator[tuple]:
        """One tuple per study in ready order: what a WorkItem needs, and when the next study is ready.

        Built a block at a time, so that a year of a city never sits in memory as Python objects.
        """
        c = self.cohort
        ready = c.ready_at[order]
        following = np.append(ready[1:], math.inf)
        per_type, site_names = self.per_type, self.site_names
        aged = bool((~np.isnan(c.patient_age)).any())
        for lo in range(0, order.shape[0], chunk):
            block = order[lo:lo + chunk]
            scored = c.ai_scored[block].tolist()
            ages = [None if a != a else a for a in c.patient_age[block].tolist()] if aged else repeat(None)
            yield from zip(
                block.tolist(),
                [per_type[t] for t in c.study_type[block].tolist()],
                [REFERRALS[r] for r in c.referral[block].tolist()],
                [site_names[s] for s in c.site[block].tolist()],
                [v if ok else None for v, ok in zip(c.ai_score[block].tolist(), scored)],
                [v if ok else None for v, ok in zip(c.ai_positive[block].tolist(), scored)],
                c.arrived_at[block].tolist(),
                c.read_minutes[block].tolist(),
                ready[lo:lo + chunk].tolist(),
                following[lo:lo + chunk].tolist(),
                ages,
            )

    def _on_ready(self, tick: Tick) -> None:
        env = self.env
        queue = env._queue
        now = env._now  # the hot paths read the clock's slot, not the `now` property
        rows = self.rows
        while True:
            i, (name, kind, modality, ai, lane), referral, site, score, positive, arrived, minutes, ready, next_at, age \
                = next(rows)
            # `ready` is exact; the clock may differ from it by rounding in `now + (next_at - now)`.
            item = WorkItem(i, name, kind, referral, modality, site, ai, score, positive, arrived, ready, age, lane,
                            -1, "", 0, minutes)
            self._enter(item, now)
            if next_at == math.inf:
                return
            if queue and queue[0][0] <= next_at:
                break
            # Nothing is scheduled before the next study is ready: move the clock there without a heap round
            # trip, as step() would (the run's own stop event at the horizon is in the queue, so this never
            # passes it).
            env._now = now = next_at
        tick.callbacks = [self._ready_callback]  # the one Tick of the ready chain is scheduled again
        env.schedule(tick, SEIZE, next_at - now)

    def _enter(self, item: WorkItem, now: float) -> None:
        for pool in self.pools_for[item.lane]:
            idle = pool.idle
            if idle:
                reader = next(iter(idle))
                if reader.code == item.exclude_reader:
                    reader = next((r for r in idle if r.code != item.exclude_reader), None)
                    if reader is None:
                        continue
                del idle[reader]
                # An idle reader has nothing on the worklist they may read, so the new item is theirs:
                # it is ranked (for its label) but skips the heap.
                self.worklist.admit(item, now)
                self._record_label(item)
                self._start(reader, item, now)
                return
        self.worklist.push(item, now)
        self._record_label(item)
        if self.preemptive:
            self._preempt_for(item, now)

    def _record_label(self, item: WorkItem) -> None:
        code = self.label_codes.get(item.label)
        if code is None:
            code = self.label_codes[item.label] = len(self.label_codes)
        self.label[item.index] = code

    # Readers ---------------------------------------------------------------------------------------------
    def _next(self, reader: Reader, now: float) -> None:
        item = self.worklist.pop_for(reader.lanes, now, reader.code)
        if item is None:
            reader.pool.idle[reader] = None
        else:
            self._start(reader, item, now)

    def _start(self, reader: Reader, item: WorkItem, now: float) -> None:
        if not item.preempted:
            self.read_start[item.index] = now if now > item.ready_at else item.ready_at
        reader.item = item
        reader.resumed = now
        if self.preemptive:  # only pre-emption needs to find busy readers
            reader.pool.busy[reader] = None
        tick = reader.pending
        if tick is None:  # the reader's own Tick is reused between reads, unless a pre-emption orphaned it
            tick = reader.pending = Tick(self.env, item.remaining, RELEASE, self._on_done, reader)
        else:
            tick.callbacks = [self._done_callback]
            self.env.schedule(tick, RELEASE, item.remaining)

    def _count_busy(self, reader: Reader, now: float) -> None:
        lo = max(reader.resumed, self.warmup)
        hi = min(now, reader.off_at)
        if hi > lo:
            reader.busy += hi - lo

    def _on_done(self, tick: Tick) -> None:
        reader: Reader = tick.what
        if reader.pending is not tick or reader.item is None:  # orphaned by a pre-emption
            return
        now = self.env._now
        item = reader.item
        i = item.index
        self.reported_at[i] = now
        self.reader_of[i] = reader.code
        if reader.resumed >= self.warmup and now <= reader.off_at:
            reader.busy += now - reader.resumed
        else:
            self._count_busy(reader, now)
        reader.reads += 1
        reader.item = None
        if self.preemptive:
            del reader.pool.busy[reader]
        if i < self.n_cohort and self.so_index[i] >= 0:
            j = self.so_index[i]
            self._second_opinion(i, j, reader.code, now)
        if now >= reader.off_at:
            reader.overtime = now - reader.off_at
            reader.gone = True
        else:
            self._next(reader, now)

    def _second_opinion(self, i: int, j: int, first_reader: int, now: float) -> None:
        self.ready_at[j] = now
        c = self.cohort
        name, _, modality, _, _ = self.per_type[int(c.study_type[i])]
        age = float(c.patient_age[i])
        item = WorkItem(j, name, "second_opinion", "routine", modality, self.site_names[int(c.site[i])], None,
                        None, None, now, now, None if age != age else age, self.lane_of[SECOND_OPINION],
                        first_reader, "", 0,
                        float(c.second_read_minutes[i]))
        self._enter(item, now)

    def _preempt_for(self, item: WorkItem, now: float) -> None:
        """Interrupt the lowest-class read in progress (the one started last) if `item` outranks it."""
        victim = None
        for pool in self.pools_for[item.lane]:
            for reader in pool.busy:
                current = reader.item
                if reader.off_at <= now or current.cls <= item.cls or reader.code == item.exclude_reader:
                    continue
                if victim is None or (current.cls, reader.resumed) > (victim.item.cls, victim.resumed):
                    victim = reader
        if victim is None:
            return
        current = victim.item
        current.remaining -= now - victim.resumed
        current.preempted = True
        self._count_busy(victim, now)
        victim.item = victim.pending = None  # its Tick still fires, and is ignored
        del victim.pool.busy[victim]
        self.worklist.push(current, now)
        self._next(victim, now)

    # Shifts ------------------------------------------------------------------------------------------------
    def _start_shifts(self) -> None:
        for number, duty in enumerate(duties(self.scenario)):
            Tick(self.env, max(duty.start, 0.0), SHIFT_START, self._on_shift_start, (number, duty))
            if duty.end < self.horizon:
                Tick(self.env, duty.end, SHIFT_END, self._on_shift_end, number)

    def _absences(self, duty: Duty) -> np.ndarray:
        rate = self.scenario.pools[duty.pool].absence_rate
        if rate <= 0 or duty.staff == 0:
            return np.zeros(duty.staff, dtype=bool)
        # One stream per pool, shift and duty start, so a slot's draw does not move when staff changes.
        name = f"{duty.pool}/{duty.shift}/{duty.start:.3f}"
        return stream(self.seed, self.replication, "absences", name).random(duty.staff) < rate

    def _on_shift_start(self, tick: Tick) -> None:
        number, duty = tick.what
        now = self.env.now
        pool = self.pools[duty.pool]
        absent = self._absences(duty)
        readers = []
        for slot in range(duty.staff):
            key = (duty.pool, duty.shift, slot)
            code = self.reader_code.get(key)
            if code is None:
                code = self.reader_code[key] = len(self.reader_names)
                self.reader_names.append(f"{duty.pool}/{duty.label}/{slot + 1}")
            row = dict(pool=duty.pool, shift=duty.label, reader=self.reader_names[code],
                       start=duty.start, end=duty.end, present=not absent[slot])
            self.duty_rows.append(row)
            reader = Reader(code, pool, len(self.duty_rows) - 1, duty.end)
            readers.append(reader)
            if absent[slot]:
                reader.gone = True
                continue
            self._next(reader, now)
        self.duty_readers[number] = readers

    def _on_shift_end(self, tick: Tick) -> None:
        for reader in self.duty_readers[tick.what]:
            if not reader.gone and reader.item is None:
                reader.pool.idle.pop(reader, None)
                reader.gone = True

    # Run -----------------------------------------------------------------------------------------------------
    def _on_day(self, tick: Tick) -> None:
        now = self.env.now
        self.progress(now / self.horizon)  # type: ignore[misc]
        if now + 1440.0 < self.horizon:
            Tick(self.env, 1440.0, TICK, self._on_day)

    def run(self) -> Outcome:
        self._start_shifts()
        self._start_arrivals()
        if self.progress is not None:
            Tick(self.env, 1440.0, TICK, self._on_day)
        # The run makes no reference cycles that outlive it, and with millions of short-lived items the
        # cyclic collector's passes would cost more than they find.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.env.run(until=self.horizon)
        finally:
            if collecting:
                gc.enable()
        for readers in self.duty_readers.values():
            for reader in readers:
                if reader.item is not None:
                    self._count_busy(reader, self.horizon)
                    if self.horizon > reader.off_at:
                        reader.overtime = self.horizon - reader.off_at
        for readers in self.duty_readers.values():
            for reader in readers:
                row = self.duty_rows[reader.duty]
                row.update(busy_minutes=reader.busy, reads=reader.reads, overtime_minutes=reader.overtime)
        ready = np.frombuffer(self.ready_at, dtype=float).copy()
        ready[ready > self.horizon] = NaN  # not on the worklist yet at the horizon
        exists = np.ones(self.n_items, dtype=bool)
        exists[len(self.cohort):] = ~np.isnan(ready[len(self.cohort):])
        return Outcome(
            parent=self.parent, ready_at=ready, read_start=np.frombuffer(self.read_start),
            reported_at=np.frombuffer(self.reported_at), reader=np.frombuffer(self.reader_of, dtype=np.int64),
            label=np.frombuffer(self.label, dtype=np.int16), label_names=list(self.label_codes), exists=exists, reader_names=self.reader_names, duties=self.duty_rows,
        )


def simulate_cohort(scenario: Scenario, cohort: Cohort, policy: TriagePolicy, seed: int, replication: int,
                    progress: Callable[[float], None] | None = None) -> Outcome:
    """Run the model over one replication's cohort with one triage policy."""
    outcome = NetworkModel(scenario, cohort, policy, seed, replication, progress).run()
    # The model's callbacks (bound methods held by its Ticks and readers) make reference cycles, so the
    # model and the cohort it holds would wait for a later collection: a city year's worth of arrays.
    gc.collect()
    return outcome
