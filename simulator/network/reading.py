"""The reading station: studies become ready, the worklist orders them, readers on shift read them.

One `Tick` per study becoming ready and one per read finished: about two heap events per study. The
random draws were made up front (`cohort`); the station only decides who reads what, and when. Who meets
whom is the dispatch strategy's (`dispatch.py`: pull or push), interruptions the pre-emption's
(`preemption.py`, when the scenario asks), where a site's study is read the router's
(`simulator/triage/routing.py`).
"""
from __future__ import annotations

import gc
import math
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property, partial
from heapq import heappush
from itertools import chain, repeat

import numpy as np

from .. import mapped
from ..calendar import Duty, duties
from .cohort import Cohort
from ..distributions import mean_of
from ..kernel import RELEASE, SEIZE, SHIFT_END, SHIFT_START, TICK, Clock, Tick, run
from ..scenario import AUDIT, Scenario
from ..streams import stream
from ..triage import REFERRALS, Kind, Referral, TriagePolicy, Worklist
from ..triage.columns import Columns
from ..triage_config import router_of
from ..triage.routing import CENTRAL, LOCAL, AutonomousNormal
from .dispatch import Dispatch, Pull, Push
from .lanes import Lanes
from .outcome import Outcome
from .preemption import Preemption
from .readers import Read, Reader, count_busy, signs_off

__all__ = ["ReadingStation"]

# Plain strings, not the enum members: work items compare them at every rank.
DOUBLE_READ, SECOND_OPINION = Kind.DOUBLE_READ.value, Kind.SECOND_OPINION.value
ROUTINE = Referral.ROUTINE.value
_REFERRALS = tuple(r.value for r in REFERRALS)
NaN = math.nan


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off: a run makes no reference cycles that outlive it, and with millions
    of short-lived items the collector's passes would cost more than they find."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def per_item(n: int, code: str, fill: float) -> array | np.ndarray:
    """An array by item as the station holds it, each value `fill`: a Python `array` (the layered station
    reads and writes it a value at a time, fastest), or for a large replication a mapped numpy array
    (`simulator/mapped.py`); `numbers` views either as numpy."""
    if n >= mapped.MAPPED_FROM:
        return mapped.array(n, np.dtype(code), fill)
    return array(code, np.full(n, fill, dtype=np.dtype(code)).tobytes())


def by_item(values: np.ndarray) -> array | np.ndarray:
    """These values by item as the station holds them (`per_item`)."""
    return mapped.mapped(values) if values.shape[0] >= mapped.MAPPED_FROM else array(values.dtype.char,
                                                                                    values.tobytes())


def numbers(values: array | np.ndarray) -> np.ndarray:
    """An array by item (`per_item`) as numpy, no copy."""
    return np.frombuffer(values, dtype=values.typecode) if isinstance(values, array) else values


class Codes(dict):
    """Numbers for names, given in order of first use."""

    def __missing__(self, name: str) -> int:
        code = self[name] = len(self)
        return code


class ReadingStation:
    def __init__(self, scenario: Scenario, cohort: Cohort, policy: TriagePolicy, seed: int, replication: int,
                 progress: Callable[[float], None] | None = None) -> None:
        self.scenario = scenario
        self.cohort = cohort
        self.env = Clock()
        self.worklist = Worklist(policy)
        self.horizon = scenario.horizon_minutes
        self.warmup = scenario.warmup_minutes
        self.seed, self.replication = seed, replication
        self.progress = progress
        self.lanes = Lanes(scenario, self.worklist)
        routing = scenario.routing
        self.dispatch: Dispatch = Push(self, {name: routing.workload.get(name, mean_of(t.read_minutes))
                                              for name, t in scenario.study_types.items()}) \
            if routing.mode == "push" else Pull(self)
        self.own_lanes = self.dispatch.own_lanes
        self.preemption = Preemption(self) if scenario.policy.preemptive else None
        self.keeps_place = not self.own_lanes and self.preemption is None  # for a re-scored study (`_scored`)
        self.router = router_of(scenario)
        lane = routing.autonomous_normal
        self.autonomous = None if lane is None else AutonomousNormal(lane.study_types, lane.below)
        self._items(cohort)
        kinds = {name: (name, t.kind, t.modality, t.primary_ai) for name, t in scenario.study_types.items()}
        self.per_type = [kinds[name] for name in cohort.draws.type_names]
        # Per type, the names of the AIs that flagged a study, by its flags (a bit per AI in the type's order).
        self.flag_names = [[tuple(s for bit, s in enumerate(t.ais) if mask >> bit & 1) for mask in range(1 << len(t.ais))]
                           for t in (scenario.study_types[name] for name in cohort.draws.type_names)]
        self.site_names = list(cohort.draws.site_names)
        self.aged = bool((~np.isnan(cohort.draws.arrivals.patient_age)).any())
        self.flagging = any(len(names_of) > 1 for names_of in self.flag_names)  # some type has an AI
        self.label_codes = Codes()  # a triage label's number in the outcome's label column
        self.reader_names: list[str] = []
        self.reader_code: dict[tuple[str, int, int], int] = {}
        self.duty_rows: list[dict] = []
        self.duty_readers: dict[int, list[Reader]] = {}  # by duty number, once the duty has started

    def _items(self, cohort: Cohort) -> None:
        """Every work item's slot: the cohort's studies, then the second opinions they may ask for, then the
        second reads of double-read studies. Per-item results in compact typed arrays: a city year has ~7 M
        items, and boxed floats in lists would cost gigabytes."""
        scenario = self.scenario
        n = len(cohort)
        flagged = np.flatnonzero(cohort.draws.reading.second_opinion)
        # Double reading: a second human read of the same study, unless the AI stands in for it.
        dual = np.zeros(n, dtype=bool)
        if cohort.draws.reading.double_read_minutes is not None:
            ai_second = np.array([t.double_reading is not None and t.double_reading.second_reader == "ai"
                                  for t in scenario.study_types.values()])[cohort.draws.study_type]
            dual = ~np.isnan(cohort.draws.reading.double_read_minutes) & ~(ai_second & cohort.upstream.ai_scored)
        doubled = np.flatnonzero(dual)
        first_double = n + flagged.shape[0]
        total = first_double + doubled.shape[0]
        # Item indices in 32 bits where every item's fits (a city year: 7 M items; five years: 4 bytes an
        # item of each index, some 400 MB in all).
        self.index_type = index = np.int32 if total < 2 ** 31 else np.int64
        so_index = np.full(n, -1, dtype=index)
        so_index[flagged] = n + np.arange(flagged.shape[0])
        # (In a byte where no study is double read: a city year's "none" is 21 MB less.)
        self.dual_index = np.full(n, -1, dtype=index if doubled.shape[0] else np.int8)
        self.dual_index[doubled] = first_double + np.arange(doubled.shape[0])
        self.n_items, self.n_cohort, self.n_second = total, n, flagged.shape[0]
        self.audited = np.zeros(n, dtype=bool)
        self.late = None if cohort.upstream.late_score is None else bytes(cohort.upstream.late_score.astype(np.uint8))
        self.late_score = cohort.upstream.late_score
        # Whether any study may need more than the plain path (an audit, a second read, a late AI result).
        self.special = self.autonomous is not None or doubled.shape[0] > 0 or self.late_score is not None
        self.so_index = by_item(so_index)
        # The study each item past the studies is about (item n + k at k): the second opinions', then the
        # second reads' (a study's own would be -1: a city year's 29 MB of them, held for nothing).
        self.parent = np.concatenate([flagged, doubled]).astype(index)
        # When each item past the studies (a second opinion, a second read: item n + k at k) is on the
        # worklist (NaN: not yet); a study's is the cohort's own, not a copy (a city year's, 58 MB).
        self.more_ready = per_item(total - n, "d", NaN)
        self.read_start = per_item(total, "d", NaN)
        self.reported_at = per_item(total, "d", NaN)
        # (A reader's code in 32 bits: a run has a few hundred; five city years' items, 146 MB less.)
        self.reader_of = per_item(total, "i", -1)
        self.label = per_item(total, "h", -1)

    @cached_property
    def dual(self) -> array:
        """`dual_index` as the layered station looks it up once a study on the special path: a Python array,
        not numpy scalars. (Made when first asked: the numbered station never asks, and a city year's is 56 MB.)"""
        return array("q", self.dual_index.astype(np.int64).tobytes())

    # Studies becoming ready ---------------------------------------------------------------------------
    def _start_arrivals(self) -> None:
        order = self.ready_order
        if order.shape[0] == 0:
            return
        self.rows = self._rows(order)
        Tick(self.env, float(self.cohort.upstream.ready_at[order[0]]), SEIZE, self._on_ready)

    @cached_property
    def ready_order(self) -> np.ndarray:
        """The cohort's studies in the order they become ready (ties: in cohort order), in the index type
        (held through a run by blocks: five city years' in 64 bits were 0.3 GB)."""
        return mapped.mapped(np.argsort(self.cohort.upstream.ready_at, kind="stable").astype(self.index_type,
                                                                                            copy=False))

    def _rows(self, order: np.ndarray, chunk: int = 1 << 16) -> Iterator[tuple]:
        """One tuple per study in ready order: its `_columns`, its read time, and when the next study is
        ready.

        Built a block at a time, so that a year of a city never sits in memory as Python objects; chained,
        so that taking the next study is a step of a zip, not of a generator around it.
        """
        ready = self.cohort.upstream.ready_at[order]
        following = np.append(ready[1:], math.inf)
        minutes = self.cohort.draws.reading.read_minutes

        def block_at(lo: int) -> Iterator[tuple]:
            block = order[lo:lo + chunk]
            return zip(*self._columns(block), minutes[block].tolist(), following[lo:lo + chunk].tolist())

        return chain.from_iterable(map(block_at, range(0, order.shape[0], chunk)))

    def _columns(self, block: np.ndarray, result_in: bool = False) -> list[Iterable]:
        """Per study of `block`, what its work item is made of on entry: `Read`'s fields in order, up to
        its lane (a router's three choices, where it has them). `result_in`: with its AI result, late or
        not (as `_scored` makes it when the result comes)."""
        d, u = self.cohort.draws, self.cohort.upstream
        # A study whose AI result comes later is on the worklist unscored until then (`_on_scores`).
        scored = (u.ai_scored[block] if u.late_score is None or result_in
                  else u.ai_scored[block] & ~u.late_score[block]).tolist()
        types, sites = d.study_type[block].tolist(), u.site[block].tolist()
        per_type, site_names, table, names = self.per_type, self.site_names, self.lanes.table, self.flag_names
        name, kind, modality, ai = zip(*[per_type[t] for t in types])
        return [
            block.tolist(), name, kind,
            [_REFERRALS[r] for r in d.arrivals.referral[block].tolist()],
            modality,
            [site_names[s] for s in sites],
            ai,
            [v if ok else None for v, ok in zip(u.ai_score[block].tolist(), scored)],
            [v if ok else None for v, ok in zip(u.ai_positive[block].tolist(), scored)],
            d.arrivals.arrived_at[block].tolist(),
            u.ready_at[block].tolist(),
            [None if a != a else a for a in d.arrivals.patient_age[block].tolist()] if self.aged else repeat(None),
            [names[t][m] if ok else () for t, m, ok in zip(types, self._flags(block), scored)] if self.flagging
            else repeat(()),
            [table[t][s] for t, s in zip(types, sites)],
        ]

    def _column_block(self, block: np.ndarray, kind: str | None = None, result_in: bool = False,
                      audited: np.ndarray | None = None, now: np.ndarray | None = None) -> Columns:
        """The studies of `block` on entry as columns (what `_columns` makes items of), each ranked at its
        ready time: for a policy's `rank_block`. `kind`: as that kind of work instead (their second reads);
        `result_in`: with their late AI results, ranked when each comes; `audited`: those sent to the audit
        as audits (`_audit`); `now`: ranked at these times instead (opened to the centre, `_on_reroute`)."""
        d, u = self.cohort.draws, self.cohort.upstream
        scored = u.ai_scored[block] if u.late_score is None or result_in else u.ai_scored[block] & ~u.late_score[block]
        types, sites = d.study_type[block], u.site[block]
        name, kinds, modality = (np.array(column, dtype=str)[types] for column in self._type_columns)
        if audited is not None:
            kinds = np.where(audited, AUDIT, kinds)
        flags, ai_of = self.flag_names, self._ai_of
        ready = u.ready_at[block]
        return Columns(
            study_type=name, kind=kinds if kind is None else np.full(block.shape[0], kind),
            referral=np.array(_REFERRALS)[d.arrivals.referral[block]], modality=modality,
            site=np.array(self.site_names, dtype=str)[sites], ai_service=[ai_of[t] for t in types.tolist()],
            scored=scored, ai_score=np.where(scored, u.ai_score[block], NaN), ai_positive=u.ai_positive[block] & scored,
            arrived_at=d.arrivals.arrived_at[block], ready_at=ready, patient_age=d.arrivals.patient_age[block],
            ai_flags=[flags[t][m] if ok else () for t, m, ok in zip(types.tolist(), self._flags(block), scored.tolist())]
            if self.flagging else [()] * block.shape[0],
            now=now if now is not None else u.scored_at[block] if result_in else ready)  # type: ignore[index]

    @cached_property
    def _type_columns(self) -> list[list[str]]:
        """Per study type: its names, kinds and modalities (as `per_type`)."""
        return [[row[field] for row in self.per_type] for field in range(3)]

    @cached_property
    def _ai_of(self) -> list[str | None]:
        return [row[3] for row in self.per_type]

    def _flags(self, rows: np.ndarray) -> list[int]:
        """Each study's flags: a bit per AI of its type (one AI: its flag)."""
        u = self.cohort.upstream
        return (u.ai_positive[rows] if u.ai_flags is None else u.ai_flags[rows]).astype(np.int64).tolist()

    def _on_ready(self, tick: Tick) -> None:
        env = self.env
        queue = env.heap
        now = env.now  # the hot paths read the clock's slot, not the `now` property
        rows, special, enter = self.rows, self.special, self.dispatch.enter
        while True:
            i, name, kind, referral, modality, site, ai, score, positive, arrived, ready, age, flags, lane, minutes, \
                next_at = next(rows)
            # The clock is the study's ready time itself: the chain is scheduled at it, not at now + delay.
            # Positional: keywords cost twice as much, and this runs once a study (Read's field order).
            item = Read(i, name, kind, referral, modality, site, ai, score, positive, arrived, ready, age, flags,
                        lane, -1, "", 0, False, None, minutes)
            if lane.__class__ is not str or special:
                self._route(item, lane, now)
            enter(item, now)
            if special:
                if self.dual[i] >= 0 and item.kind != AUDIT:
                    self._double_read(item, lane, now)
                if self.late is not None and self.late[i]:
                    self.awaiting[i] = item  # until its AI result comes (`_on_scores`)
            if next_at == math.inf:
                return
            if queue and queue[0][0] <= next_at:
                break
            # Nothing is scheduled before the next study is ready: move the clock there without a heap round
            # trip, as step() would (the run's own stop event at the horizon is in the queue, so this never
            # passes it).
            env.now = now = next_at
        # The one Tick of the ready chain, again: env.schedule inlined, at the time itself rather than at
        # now + (next_at - now), which may round (so a policy is handed each study's exact ready time).
        heappush(queue, (next_at, SEIZE, next(env.sequence), tick))

    def _route(self, item: Read, lane: str | tuple[str, str, str], now: float) -> None:
        """Routing at entry: the autonomous-normal lane, then the router (its site's readers or the centre)."""
        if self.autonomous is not None and self.autonomous.applies(item):
            self._audit(item)
            return
        if lane.__class__ is str:
            return
        local, central, both = lane  # type: ignore[misc]
        route = self.router.route(item, now)
        item.lane = local if route.where == LOCAL else central if route.where == CENTRAL else both
        if route.until != math.inf:
            Tick(self.env, route.until - now, SEIZE, self._on_reroute, (item, both))

    def _audit(self, item: Read) -> Read:
        """`item`, an AI-normal study, skips its primary read: the AI's report stands, and a reader audits
        it (its lane, kind and read time)."""
        item.kind = AUDIT
        item.lane = self.lanes.audit
        item.remaining = float(self.cohort.draws.reading.audit_minutes[item.index])  # type: ignore[index]
        self.audited[item.index] = True
        return item

    def _audits(self, block: np.ndarray) -> np.ndarray:
        """Which studies of `block` go to the audit as they enter (`_route`), by the rule's block form."""
        if self.autonomous is None:
            return np.zeros(block.shape[0], dtype=bool)
        return self.autonomous.applies_block(self._column_block(block))

    def _on_reroute(self, tick: Tick) -> None:
        """A study still waiting for its site's readers is opened to the centre (overflow, or night)."""
        item, both = tick.what
        if item.entry is None or self.dispatch.shared_lane(item) == both:  # taken meanwhile, or open already
            return
        self.withdraw(item)
        item.lane = both
        self.dispatch.enter(item, self.env.now)

    def _start_scores(self) -> None:
        """Late AI results, in the order they come, as one chain of a single reused Tick (as studies
        becoming ready are): no event of its own per result."""
        self.awaiting: dict[int, Read] = {}
        if self.late_score is None:
            return
        late = self._late_order()
        self.scores = chain.from_iterable(map(partial(self._results, late), range(0, late.shape[0], 1 << 16)))
        self.next_score = next(self.scores, None)
        if self.next_score is not None:
            Tick(self.env, self.next_score[0], SEIZE, self._on_scores)

    def _late_order(self) -> np.ndarray:
        """The studies whose AI results come while they are on the worklist, in the order the results come."""
        late = np.flatnonzero(self.late_score)
        return late[np.argsort(self.cohort.upstream.scored_at[late], kind="stable")]  # type: ignore[index]

    def _results(self, late: np.ndarray, lo: int, chunk: int = 1 << 16) -> Iterator[tuple]:
        """The late results from `lo` on, a block at a time (as `_rows`): when each comes, the study, its
        score, its flag and the AIs that flagged it."""
        d, u, names = self.cohort.draws, self.cohort.upstream, self.flag_names
        block = late[lo:lo + chunk]
        return zip(u.scored_at[block].tolist(), block.tolist(), u.ai_score[block].tolist(),  # type: ignore[index]
                   u.ai_positive[block].tolist(),
                   [names[t][m] for t, m in zip(d.study_type[block].tolist(), self._flags(block))])

    def _on_scores(self, tick: Tick) -> None:
        now = self.env.now
        while self.next_score is not None and self.next_score[0] <= now:
            self._result_comes(self.next_score, now)
            self.next_score = next(self.scores, None)
        if self.next_score is not None:  # the one Tick of the chain, again (as the ready chain's)
            env = self.env
            heappush(env.heap, (self.next_score[0], SEIZE, next(env.sequence), tick))

    def _result_comes(self, result: tuple, now: float) -> None:
        _, i, score, positive, flags = result[:5]
        self._scored(self.awaiting.pop(i), score, positive, flags, now)

    def _scored(self, item: Read, score: float, positive: bool, flags: tuple[str, ...], now: float) -> None:
        """The AI result of a study already on the worklist: it is ranked again, if it still waits (a read
        already opened goes on: the study counts as read unscored). A study whose rank is unchanged keeps
        its place (with pull dispatch and no pre-emption; pushed work is assigned anew, and a new rank may
        pre-empt, so there it enters again)."""
        for read in (item, item.partner):
            if read is None:
                continue
            read.ai_score, read.ai_positive, read.ai_flags = score, positive, flags
            if read.entry is None:
                continue
            # Its triage label is the one it waits under from now on.
            if self.keeps_place and self.worklist.rerank(read, now):
                self.label[read.index] = self.label_codes[read.label]
            else:
                read.label = ""
                self.reroute(read, now)

    def _double_read(self, first: Read, lane: str | tuple[str, str, str], now: float) -> None:
        """The second, independent read of a double-read study: same study, a different reader."""
        i = first.index
        j = int(self.dual_index[i])
        self.more_ready[j - self.n_cohort] = first.ready_at
        second = Read(index=j, study_type=first.study_type, kind=DOUBLE_READ, referral=first.referral,
                      modality=first.modality, site=first.site, ai_service=first.ai_service,
                      ai_score=first.ai_score, ai_positive=first.ai_positive, ai_flags=first.ai_flags,
                      arrived_at=first.arrived_at,
                      ready_at=first.ready_at, patient_age=first.patient_age,
                      lane=lane if lane.__class__ is str else "",
                      exclude_reader=-1 if first.holder is None else first.holder.code,
                      remaining=float(self.cohort.draws.reading.double_read_minutes[i]))  # type: ignore[index]
        second.partner, first.partner = first, second
        if lane.__class__ is not str:
            self._route(second, lane, now)
        self.dispatch.enter(second, now)

    # What dispatch strategies call ---------------------------------------------------------------------
    def withdraw(self, item: Read) -> None:
        """Take a waiting item off the worklist (to be entered again elsewhere)."""
        self.worklist.withdraw(item)
        self.dispatch.withdraw(item)

    def reroute(self, item: Read, now: float) -> None:
        self.withdraw(item)
        self.dispatch.enter(item, now)

    def give(self, reader: Reader, item: Read, now: float) -> None:
        """An idle reader has nothing on the worklist they may read, so the new item is theirs: it is
        ranked (for its label) but skips the heap."""
        self.worklist.admit(item, now)
        self.label[item.index] = self.label_codes[item.label]
        self._start(reader, item, now)

    def queue(self, item: Read, now: float) -> None:
        """The item waits on the worklist (in its lane); with pre-emption it may interrupt a lower read."""
        self.worklist.push(item, now)
        self.label[item.index] = self.label_codes[item.label]
        if self.preemption is not None:
            self.preemption.for_item(item, now)

    def interrupt(self, victim: Reader, now: float) -> None:
        """Pre-empt `victim`'s read: it keeps what is left to read and waits at the head of its class."""
        current = victim.item
        current.remaining -= now - victim.resumed
        current.preempted = True
        count_busy(victim, now, self.warmup)
        victim.item = victim.pending = None  # its Tick still fires, and is ignored
        del victim.pool.busy[victim]
        self.dispatch.interrupted(victim, current)
        self.worklist.push(current, now)
        self._next(victim, now)

    # Readers ---------------------------------------------------------------------------------------------
    def _next(self, reader: Reader, now: float) -> None:
        item = self.worklist.pop_for(reader.lanes, now, reader.code)
        if item is None:
            reader.pool.idle[reader] = None
        else:
            self._start(reader, item, now)

    def _start(self, reader: Reader, item: Read, now: float) -> None:
        if not item.preempted:
            self.read_start[item.index] = now if now > item.ready_at else item.ready_at
        if item.partner is not None:
            item.partner.exclude_reader = reader.code  # the other read of a double-read study: someone else
        if item.holder is not reader:
            if self.own_lanes:  # asked only where it matters: this runs once a read
                self.dispatch.taken(reader, item)
            item.holder = reader
        reader.item = item
        reader.resumed = now
        if self.preemption is not None:  # only pre-emption needs to find busy readers
            reader.pool.busy[reader] = None
        tick = reader.pending
        if tick is None:  # the reader's own Tick is reused between reads, unless a pre-emption orphaned it
            reader.pending = Tick(self.env, item.remaining, RELEASE, self._on_done, reader)
        else:  # env.schedule, inlined: this runs once a read
            env = self.env
            heappush(env.heap, (env.now + item.remaining, RELEASE, next(env.sequence), tick))


    def _on_done(self, tick: Tick) -> None:
        reader: Reader = tick.what
        if reader.pending is not tick or reader.item is None:  # orphaned by a pre-emption
            return
        now = self.env.now
        item = reader.item
        i = item.index
        self.reported_at[i] = now
        self.reader_of[i] = reader.code
        count_busy(reader, now, self.warmup)
        reader.reads += 1
        reader.item = None
        if self.own_lanes:  # push: the work assigned to the reader and not finished
            reader.load -= item.units
        if self.preemption is not None:
            del reader.pool.busy[reader]
        if i < self.n_cohort and self.so_index[i] >= 0:
            self._second_opinion(i, self.so_index[i], reader.code, now)
        if signs_off(reader, now):
            return
        item = self.worklist.pop_for(reader.lanes, now, reader.code)  # as `_next`, inlined: once a read
        if item is None:
            reader.pool.idle[reader] = None
        else:
            self._start(reader, item, now)

    def _second_opinion(self, i: int, j: int, first_reader: int, now: float) -> None:
        self.dispatch.enter(self._opinion_item(i, j, first_reader, now), now)

    def _opinion_item(self, i: int, j: int, first_reader: int, now: float) -> Read:
        """A signed primary report sent for a second opinion: routine, ready now, never to the reader who
        signed it."""
        self.more_ready[j - self.n_cohort] = now
        d, u = self.cohort.draws, self.cohort.upstream
        name, _, modality, _ = self.per_type[int(d.study_type[i])]
        age = float(d.arrivals.patient_age[i])
        return Read(index=j, study_type=name, kind=SECOND_OPINION, referral=ROUTINE, modality=modality,
                    site=self.site_names[int(u.site[i])], arrived_at=now, ready_at=now,
                    patient_age=None if age != age else age, lane=self.lanes.second_opinion,
                    exclude_reader=first_reader,
                    remaining=float(d.reading.second_read_minutes[j - self.n_cohort]))

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
        for reader in self._on_duty(number, duty):
            if not reader.gone:
                self.dispatch.on_duty(reader)
                self._next(reader, now)

    def _on_duty(self, number: int, duty: Duty) -> list[Reader]:
        """The readers of a duty that starts: a row each, in the order duties start, and a code per pool, shift
        and slot, in the order first on duty; those absent are gone from the start."""
        pool = self.lanes.pools[duty.pool]
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
            number_of_row = len(self.duty_rows) - 1
            own = f"reader:{number_of_row}" if self.dispatch.own_lanes else None
            reader = Reader(code, pool, number_of_row, duty.end, own, None if own is None else self.worklist.lane(own))
            reader.gone = bool(absent[slot])
            readers.append(reader)
        self.duty_readers[number] = readers
        return readers

    def _on_shift_end(self, tick: Tick) -> None:
        readers = self.duty_readers[tick.what]
        for reader in readers:
            if not reader.gone and reader.item is None:
                reader.pool.idle.pop(reader, None)
                reader.gone = True
        self.dispatch.off_duty(readers, self.env.now)

    # Run -----------------------------------------------------------------------------------------------------
    def _on_day(self, tick: Tick) -> None:
        now = self.env.now
        self.progress(now / self.horizon)  # type: ignore[misc]
        if now + 1440.0 < self.horizon:
            Tick(self.env, 1440.0, TICK, self._on_day)

    def run(self) -> Outcome:
        self._start_shifts()
        self._start_arrivals()
        self._start_scores()
        if self.progress is not None:
            Tick(self.env, 1440.0, TICK, self._on_day)
        with collector_paused():
            self._run()
        return self._outcome()

    def _run(self) -> None:
        run(self.env, self.horizon)

    def _outcome(self) -> Outcome:
        for readers in self.duty_readers.values():
            for reader in readers:
                if reader.item is not None:
                    count_busy(reader, self.horizon, self.warmup)
                    if self.horizon > reader.off_at:
                        reader.overtime = self.horizon - reader.off_at
        for readers in self.duty_readers.values():
            for reader in readers:
                row = self.duty_rows[reader.duty]
                row.update(busy_minutes=reader.busy, reads=reader.reads, overtime_minutes=reader.overtime)
        more_ready = np.frombuffer(self.more_ready)  # (each entered by the horizon, or never)
        exists = np.ones(self.n_items, dtype=bool)
        exists[len(self.cohort):] = ~np.isnan(more_ready)
        self._sign_double_reads()
        return Outcome(
            extra_study=self.parent, extra_ready_at=more_ready, read_start=np.frombuffer(self.read_start),
            reported_at=np.frombuffer(self.reported_at), reader=np.frombuffer(self.reader_of, dtype=np.int32),
            label=np.frombuffer(self.label, dtype=np.int16), label_names=list(self.label_codes), exists=exists,
            reader_names=self.reader_names, duties=self.duty_rows, n_second=self.n_second, audited=self.audited,
        )

    def study_of(self, items: np.ndarray) -> np.ndarray:
        """The study each item is about: a study itself, a second opinion's or second read's its own."""
        study = items.copy()
        extra = items >= self.n_cohort
        study[extra] = self.parent[items[extra] - self.n_cohort]
        return study

    def _sign_double_reads(self) -> None:
        """A double-read study's report is signed when both reads are done: the later of the two."""
        first = np.flatnonzero(self.dual_index >= 0)
        if first.shape[0] == 0:
            return
        # Only where the second read was made (an audited study, or one not ready by the horizon, has none).
        first = first[~np.isnan(np.frombuffer(self.more_ready)[self.dual_index[first] - self.n_cohort])]
        reported = np.frombuffer(self.reported_at)
        both = reported[first]
        second = reported[self.dual_index[first]]
        reported[first] = np.where(np.isnan(second), np.nan, np.maximum(both, second))
