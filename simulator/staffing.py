"""The staffing optimiser: the smallest roster (staff per pool x shift entry) that meets every target with
95% confidence, and can never be a roster that collapses the service.

Besides the user's targets, every roster must be **feasible** (docs/staffing.md), unless the user waives a
part by name:
- every kind of work that has a target in the scenario keeps it: at least `share` (95%) of its items within
  target (`sla_met_fraction[kind=K] >= 0.95`; waive with `--waive K`);
- no order priority waits longer for a reader than its target: the 95th percentile of the wait on the
  worklist of STAT (urgent, routine) orders is within their target (`p95_wait_minutes[referral=R] <= T`;
  `--waive R`). Waiting is what a roster controls: a STAT CT whose reading alone takes longer than 15
  minutes does not make every roster infeasible, but no reader at night for STAT X-rays does;
- at least 99% of the work that arrived before the last day is reported (`--waive reported`);
- no pool is overloaded: in no replication does a pool's backlog grow to the horizon, or a shift keep its
  readers busy all the time (`overload.py`; `--waive overload`).
Turnaround metrics count unfinished work at its censored time, so a roster that leaves work unread cannot
meet a turnaround target either.

The search: an analytic start (each shift's offered load, square-root staffing), then on common random
numbers, first **screening** with few replications: add the reader who most reduces the worst shortfall
per reader-hour (trying only the shifts of pools that serve a missed target) until all is met, then take
readers away, most expensive shifts first, while all stays met. The winner is then **confirmed** at the full
number of replications: if it misses there, readers are added at full size until it meets; then one reader
less on each staffed shift is tried at full size (which also says which targets bind where). The answer is
minimal one reader at a time at full size. Candidates run on one pool of worker processes that lives for
the whole search. Interrupted (Ctrl-C), the search returns the best feasible roster found so far, marked
as not proven minimal.
"""
from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ScenarioError
from .metrics import POOL_METRICS, RANGE, STATION_METRICS, StudyColumns, UnknownMetric, check_metric, confidence_interval, \
    pool_metrics, study_metrics
from .scenario import AUDIT, DAYS, SECOND_OPINION, Scenario
from .triage import IMAGE_READS, KINDS, REFERRALS, Kind
from .triage_config import targets_of
from .workers import LocalPool, for_runs

STAFFING = "staffing"  # the kind of output folder `radsim staff` writes
__all__ = ["Target", "parse_target", "ShiftSlot", "slots", "analytic_start", "offered_loads", "on_duty_by_hour",
           "keeping_up", "StaffingResult", "optimise", "STAFFING", "feasibility_targets", "WAIVABLE", "Evaluation"]

_TARGET = re.compile(r"^\s*([a-z_0-9]+)\s*(?:\[([^\]]*)\])?\s*(<=|>=)\s*([-+0-9.eE]+)\s*$")
WAIVABLE = ("reported", "overload", *KINDS, *REFERRALS)  # what `--waive` may name


@dataclass(frozen=True)
class Target:
    metric: str
    where: tuple[tuple[str, Any], ...]
    op: str  # <= or >=
    value: float
    text: str
    implicit: bool = False  # a feasibility condition radsim adds, not one the user gave

    def met(self, ci_low: float | None, ci_high: float | None) -> bool:
        """Met with 95% confidence: the whole CI is on the right side."""
        if ci_low is None or ci_high is None:
            return False
        return ci_high <= self.value if self.op == "<=" else ci_low >= self.value

    def shortfall(self, mean: float | None) -> float:
        """How far the mean is on the wrong side, relative to the target (<= 0 when on the right side)."""
        if mean is None or math.isnan(mean):
            return math.inf
        gap = mean - self.value if self.op == "<=" else self.value - mean
        return gap / max(abs(self.value), 1e-9)


def parse_target(text: str) -> Target:
    """'p95_tat_minutes[ai_positive=true] <= 60'; without brackets the target is over all studies."""
    from .safe_yaml import load_text

    match = _TARGET.match(text)
    if not match:
        raise ScenarioError("--target", [(text, "write a target as metric[split=value] <= number (or >=)")])
    metric, inside, op, value = match.groups()
    where = []
    for part in filter(None, (p.strip() for p in (inside or "").split(","))):
        key, sep, raw = part.partition("=")
        if not sep:
            raise ScenarioError("--target", [(text, f"{part!r} is not split=value")])
        where.append((key.strip(), load_text(raw.strip(), "--target", text)))
    try:
        check_metric(metric, where)
    except UnknownMetric as exc:
        raise ScenarioError("--target", [(text, str(exc))]) from None
    if metric in STATION_METRICS:
        raise ScenarioError("--target", [(text, "a roster moves readers, not upstream stations: give a study or "
                                                "reader metric")])
    try:
        number = float(value)
    except ValueError:
        raise ScenarioError("--target", [(text, f"{value!r} is not a number")]) from None
    low, high = RANGE[metric]
    if not math.isfinite(number) or (op == "<=" and number < low) or (op == ">=" and number > high):
        possible = f"{low:g} to {high:g}" if math.isfinite(high) else f"{low:g} or more"
        raise ScenarioError("--target", [(text, f"no roster can meet it: {metric} is {possible}")])
    return Target(metric, tuple(where), op, number, text.strip())


def feasibility_targets(scenario: Scenario, waive: Sequence[str] = (), share: float = 0.95) -> list[Target]:
    """The conditions every roster must meet besides the user's targets (see the module's docstring)."""
    unknown = [w for w in waive if w not in WAIVABLE]
    if unknown:
        raise ScenarioError("--waive", [(w, f"nothing to waive by that name; one of: {', '.join(WAIVABLE)}")
                                        for w in unknown])
    out = []
    targets = targets_of(scenario)
    for kind in _kinds_present(scenario):
        has_target = kind in targets.minutes or (kind in IMAGE_READS and any(
            r in targets.minutes for r in ("stat", "urgent", "routine", "ai_positive", *scenario.study_types)))
        if has_target and kind not in waive:
            out.append(Target("sla_met_fraction", (("kind", kind),), ">=", share,
                              f"sla_met_fraction[kind={kind}] >= {share:g}", implicit=True))
    shares = {"stat": sum(t.referral.stat for t in scenario.study_types.values()),
              "urgent": sum(t.referral.urgent for t in scenario.study_types.values()),
              "routine": sum(1.0 - t.referral.stat - t.referral.urgent for t in scenario.study_types.values())}
    for referral in REFERRALS:
        if referral in targets.minutes and referral not in waive and shares[referral.value] > 0:
            minutes = targets.minutes[referral]
            out.append(Target("p95_wait_minutes", (("referral", referral.value),), "<=", minutes,
                              f"p95_wait_minutes[referral={referral.value}] <= {minutes:g}", implicit=True))
    if "reported" not in waive:
        out.append(Target("reported_fraction_before_last_day", (), ">=", 0.99,
                          "reported_fraction_before_last_day >= 0.99", implicit=True))
    return out


def _kinds_present(scenario: Scenario) -> list[str]:
    kinds = {t.kind for t in scenario.study_types.values()}
    if scenario.second_opinions is not None and scenario.second_opinions.fraction > 0:
        kinds.add(Kind.SECOND_OPINION.value)
    if scenario.routing.autonomous_normal is not None:
        kinds.add(Kind.AUDIT.value)
    if any(t.double_reading is not None for t in scenario.study_types.values()):
        kinds.add(Kind.DOUBLE_READ.value)
    return [k.value for k in KINDS if k.value in kinds]


@dataclass(frozen=True)
class ShiftSlot:
    """One decision: the staff of one shift entry of one pool."""

    pool: str
    index: int
    label: str
    hours_per_week: float  # reader-hours a week per reader on this entry
    cost_per_week: float | None = None  # what a reader on it costs a week, where not its hours (`design`)

    @property
    def weight(self) -> float:
        """What one reader more on this entry costs a week: its reader-hours, unless costed otherwise."""
        return self.hours_per_week if self.cost_per_week is None else self.cost_per_week

    @property
    def path(self) -> str:
        return f"pools.{self.pool}.shifts.{self.index}.staff"


def slots(scenario: Scenario) -> list[ShiftSlot]:
    from .calendar import shift_labels

    return [ShiftSlot(name, i, label, shift.length_minutes / 60.0 * len(shift.days))
            for name, pool in scenario.pools.items()
            for i, (shift, label) in enumerate(zip(pool.shifts, shift_labels(pool)))]


def offered_loads(scenario: Scenario) -> dict[str, list[list[float]]]:
    """Each pool's mean offered load (erlangs: readers kept busy) by weekday (Monday first) and hour.

    A study type's load is shared equally among the pools that read it; second opinions count at their
    share of the types they follow.
    """
    from .distributions import mean_of

    per_pool: dict[str, list[list[float]]] = {name: [[0.0] * 24 for _ in range(7)] for name in scenario.pools}
    readers = {lane: [p for p, pool in scenario.pools.items() if lane in scenario.lanes_of(pool)]
               for lane in scenario.study_types}
    second = scenario.second_opinions
    so_pools = [p for p, pool in scenario.pools.items() if SECOND_OPINION in scenario.lanes_of(pool)]
    for name, study_type in scenario.study_types.items():
        rates = study_type.arrivals.hourly_rates()
        erlangs = mean_of(study_type.read_minutes) / 60.0
        for day in range(7):
            for hour in range(24):
                for pool in readers[name]:
                    per_pool[pool][day][hour] += rates[day][hour] * erlangs / len(readers[name])
                if second is not None and so_pools and (second.of == "*" or name in second.of):
                    for pool in so_pools:
                        per_pool[pool][day][hour] += (rates[day][hour] * second.fraction * mean_of(second.read_minutes)
                                                      / 60.0 / len(so_pools))
    return per_pool


def on_duty_by_hour(scenario: Scenario) -> dict[str, list[float]]:
    """Each pool's rostered readers by hour of the week (Monday 00:00 first): the reader-minutes on duty in
    the hour over 60, so a shift from 07:30 counts half a reader at 07:00. A shift past midnight runs into
    the next day, Sunday's into Monday. Shifts of given dates are a past roster, not a week's, and are left
    out; absences are not taken off."""
    week = 7 * 1440
    by_pool = {}
    for name, pool in scenario.pools.items():
        minutes = np.zeros(week)
        for shift in pool.shifts:
            if shift.dates is not None or not shift.staff:
                continue
            length = int(round(shift.length_minutes))
            for day in shift.days:
                begin = DAYS.index(day) * 1440 + int(round(shift.start_minute))
                np.add.at(minutes, np.arange(begin, begin + length) % week, shift.staff)
        by_pool[name] = minutes.reshape(168, 60).mean(axis=1).round(6).tolist()
    return by_pool


def analytic_start(scenario: Scenario, beta: float = 1.0) -> list[int]:
    """Square-root staffing per shift entry: ceil(a + beta sqrt(a)) for the entry's mean offered load a
    (`offered_loads`: a shift's load is the mean over the hours and weekdays it covers)."""
    per_pool = offered_loads(scenario)
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    start = []
    for slot in slots(scenario):
        shift = scenario.pools[slot.pool].shifts[slot.index]
        loads = []
        for day in shift.days:
            d = days.index(day)
            minute = shift.start_minute
            while minute < shift.start_minute + shift.length_minutes:
                loads.append(per_pool[slot.pool][(d + int(minute // 1440)) % 7][int(minute % 1440 // 60)])
                minute += 60.0
        load = sum(loads) / len(loads) if loads else 0.0
        start.append(0 if load <= 0 else math.ceil(load + beta * math.sqrt(load)))
    return start


def keeping_up(scenario: Scenario) -> dict[str, list[tuple[str, int, int]]]:
    """Per pool, each shift entry's label, its readers now and square-root staffing of its offered load
    (`analytic_start`, where the search starts): the readers an overloaded pool would need to keep up, as a
    first figure (`optimise` finds the smallest roster that meets the targets)."""
    found: dict[str, list[tuple[str, int, int]]] = {}
    for slot, needed in zip(slots(scenario), analytic_start(scenario)):
        found.setdefault(slot.pool, []).append(
            (slot.label, scenario.pools[slot.pool].shifts[slot.index].staff, needed))
    return found


# Evaluating rosters --------------------------------------------------------------------------------------
def _measure(args: tuple[Scenario, int, int, tuple[tuple[str, tuple], ...]]) -> tuple[dict, list[str]]:
    """One replication of one roster (in a worker): the values of the metrics asked, and the pools that are
    overloaded (a backlog that grows, or a shift busy all the time)."""
    from .experiment import run_replication
    from .overload import overloads

    scenario, replication, seed, wanted = args
    result = run_replication(scenario, replication, seed)
    cols = StudyColumns(result.studies, scenario)
    values: dict[tuple[str, tuple], float] = {}
    groups: dict[tuple, dict] = {}
    for metric, where in wanted:
        if metric in POOL_METRICS:
            pools = np.asarray(result.duties.column("pool").to_pylist(), dtype=object)
            mask = np.ones(result.duties.num_rows, dtype=bool)
            for key, value in where:
                mask &= pools == value
            values[(metric, where)] = pool_metrics(result.duties, scenario, mask)[metric]
            continue
        if where not in groups:
            groups[where] = study_metrics(cols, *cols.subgroup(dict(where)))
        values[(metric, where)] = groups[where][metric]
    overloaded = [o.pool + ("" if o.shift is None else f"/{o.shift}")
                  for o in overloads(result.studies, result.duties, scenario, [replication])]
    return values, overloaded


REFUSED = "refused by the scenario's checks"  # what a roster the scenario's checks refuse is taken to be


@dataclass
class Evaluation:
    staff: tuple[int, ...]
    replications: int
    values: dict[str, tuple[float | None, float | None, float | None]]  # target text -> mean, ci_low, ci_high
    overloaded: list[str] = field(default_factory=list)  # pools (or pool/shift) overloaded in any replication
    check_overload: bool = True

    def met(self, targets: Sequence[Target]) -> bool:
        return all(t.met(*self.values[t.text][1:]) for t in targets) and not (self.check_overload and self.overloaded)

    def missed(self, targets: Sequence[Target]) -> list[Target]:
        return [t for t in targets if not t.met(*self.values[t.text][1:])]

    def worst(self, targets: Sequence[Target]) -> float:
        worst = max(t.shortfall(self.values[t.text][0]) for t in targets)
        return max(worst, 1.0) if self.check_overload and self.overloaded else worst


class _Evaluator:
    """Rosters simulated on one long-lived pool of workers, each once per fidelity (cached)."""

    def __init__(self, scenario: Scenario, targets: Sequence[Target], shift_slots: list[ShiftSlot],
                 workers: int, check_overload: bool) -> None:
        self.scenario, self.targets, self.slots = scenario, list(targets), shift_slots
        self.wanted = tuple(sorted({(t.metric, t.where) for t in targets}))
        self.pool = LocalPool(workers)
        self.cache: dict[tuple[tuple[int, ...], int], Evaluation] = {}
        self.check_overload = check_overload
        self.seconds = 0.0

    def variant(self, staff: Sequence[int], expectations: bool = False) -> Scenario:
        """The scenario with this roster. Searched, it leaves the file's expectations out (`prepare`: a roster
        is the simulation's to judge, and theory may not exist for it: overloaded readers)."""
        from .prepare import with_overrides

        return with_overrides(self.scenario, [f"{slot.path}={int(n)}" for slot, n in zip(self.slots, staff)],
                              expectations=expectations)

    def roster(self, staff: Sequence[int]) -> Scenario:
        """The scenario with this roster as written for the user (roster.yaml): with the file's expectations
        where they hold for it, so that `validate` checks the roster as it checks the file."""
        try:
            return self.variant(staff, expectations=True)
        except ScenarioError:
            return self.variant(staff)

    def many(self, rosters: Sequence[tuple[int, ...]], replications: int) -> list[Evaluation]:
        """Evaluate several rosters at once (their replications share the workers)."""
        started = time.monotonic()
        todo = [s for s in dict.fromkeys(rosters) if (s, replications) not in self.cache]
        futures: dict[tuple[int, ...], list[Future]] = {}
        for staff in todo:
            try:
                variant = self.variant(staff)
            except ScenarioError:  # a roster the scenario's own checks refuse (a double read with one reader)
                self.cache[(staff, replications)] = Evaluation(staff, replications, {
                    t.text: (None, None, None) for t in self.targets}, [REFUSED])
                continue
            futures[staff] = [self.pool.submit(_measure, (variant, r, self.scenario.seed, self.wanted))
                              for r in range(replications)]
        for staff, running in futures.items():
            results = [f.result() for f in running]
            values = {}
            for t in self.targets:
                per_rep = np.array([r[0][(t.metric, t.where)] for r in results], dtype=float)
                ci = confidence_interval(per_rep, bounds=RANGE[t.metric])
                values[t.text] = (ci["mean"], ci["ci_low"], ci["ci_high"])
            grown = sorted({p for r in results for p in r[1]})
            self.cache[(staff, replications)] = Evaluation(staff, replications, values, grown, self.check_overload)
        if todo:
            self.seconds += time.monotonic() - started
        return [self.cache[(s, replications)] for s in rosters]

    def one(self, staff: tuple[int, ...], replications: int) -> Evaluation:
        return self.many([staff], replications)[0]

    @property
    def evaluations(self) -> int:
        return len(self.cache)


@dataclass
class StaffingResult:
    scenario: Scenario
    slots: list[ShiftSlot]
    start: list[int]
    staff: list[int]
    evaluation: Evaluation
    evaluations: int
    targets: list[Target]  # the user's and the feasibility conditions
    binding: dict[str, list[str]] = field(default_factory=dict)  # target -> slots whose -1 breaks it
    feasible: bool = True
    proven_minimal: bool = True  # False when the search was interrupted
    confirmed: bool = True  # evaluated at the full number of replications
    seconds: float = 0.0
    # Other rosters of the same cost that meet every condition as well (one reader moved between shift
    # entries of equal hours): "the smallest" is then one of several. `moves_tried` such moves were tried;
    # `alternatives_checked` is False when there were more than the search tries.
    alternatives: list[list[int]] = field(default_factory=list)
    moves_tried: int = 0
    alternatives_checked: bool = True
    interrupted: bool = False  # Ctrl-C (or SIGTERM) came during the search, or while finding what binds

    def alternative_moves(self) -> list[str]:
        """Each alternative in words: which shift entries differ from the roster found."""
        return ["; ".join(f"{s.pool}/{s.label} {a}" for s, a, b in zip(self.slots, other, self.staff) if a != b)
                for other in self.alternatives]

    def target_rows(self) -> list[dict[str, Any]]:
        """Each target (the user's and the feasibility conditions) with its estimate, CI, slack, whether it is
        met and the shifts it binds on."""
        rows = []
        for t in self.targets:
            mean, low, high = self.evaluation.values[t.text]
            slack = None if mean is None or low is None else (t.value - high if t.op == "<=" else low - t.value)
            rows.append({"target": t.text, "feasibility": t.implicit, "mean": mean, "ci_low": low, "ci_high": high,
                         "slack": slack, "met": t.met(low, high), "binds_on": self.binding.get(t.text, [])})
        return rows

    def document(self, replications: int, waive: Sequence[str] = ()) -> dict[str, Any]:
        """staffing.json: the roster found, how it was found, and every target's estimate."""
        return {"scenario": self.scenario.name, "replications": replications, "feasible": self.feasible,
                "proven_minimal": self.proven_minimal, "confirmed": self.confirmed,
                "rosters_simulated": self.evaluations, "seconds": round(self.seconds, 1), "targets": self.target_rows(),
                "overloaded_pools": self.evaluation.overloaded, "waived": list(waive),
                "same_cost_rosters": [[{"pool": s.pool, "shift": s.label, "staff": n} for s, n in zip(self.slots, other)]
                                      for other in self.alternatives],
                "same_cost_moves_tried": self.moves_tried, "same_cost_rosters_all_checked": self.alternatives_checked,
                "interrupted": self.interrupted,
                "roster": [{"pool": s.pool, "shift": s.label, "path": s.path, "start_estimate": a, "staff": n}
                           for s, a, n in zip(self.slots, self.start, self.staff)]}

    def write(self, folder: Path, replications: int, waive: Sequence[str] = (), replace: bool = False) -> Path:
        """roster.yaml (the scenario with this roster, loadable by `radsim run`) and staffing.json, written
        whole into `folder`, over nothing but an earlier roster."""
        from .files import write_directory
        from .loading import dump_scenario

        roster, document = dump_scenario(self.scenario), json.dumps(self.document(replications, waive), indent=1)

        def fill(staging: Path) -> None:
            (staging / "roster.yaml").write_text(roster)
            (staging / "staffing.json").write_text(document)

        return write_directory(folder, STAFFING, fill, replace)


def _relevant_slots(scenario: Scenario, shift_slots: list[ShiftSlot], missed: Sequence[Target],
                    overloaded: Sequence[str]) -> list[int]:
    """The shift entries of pools that read work a missed target (or an overloaded pool) is about."""
    pools: set[str] = {o.partition("/")[0] for o in overloaded}
    for target in missed:
        where = dict(target.where)
        lanes = set(scenario.study_types) | {SECOND_OPINION, AUDIT}
        kind = where.get("kind")
        if kind == SECOND_OPINION:
            lanes = {SECOND_OPINION}
        elif kind == AUDIT:
            lanes = {AUDIT}
        elif kind is not None:
            lanes = {n for n, t in scenario.study_types.items()
                     if t.kind == kind or (kind == Kind.DOUBLE_READ and t.double_reading is not None)}
        if where.get("referral") is not None:
            lanes -= {SECOND_OPINION, AUDIT}
        if "study_type" in where:
            lanes &= {where["study_type"]}
        if where.get("ai_positive") is True:
            lanes &= {n for n, t in scenario.study_types.items() if t.ai is not None}
        pools |= {p for p, pool in scenario.pools.items() if lanes & set(scenario.lanes_of(pool))}
    return [i for i, s in enumerate(shift_slots) if s.pool in pools] or list(range(len(shift_slots)))


def optimise(scenario: Scenario, targets: Sequence[Target], replications: int = 5, workers: int | None = None,
             max_staff: int = 200, progress: Callable[[str], None] | None = None,
             start: Sequence[int] | None = None, waive: Sequence[str] = (), share: float = 0.95,
             screen: int = 2) -> StaffingResult:
    """The smallest roster meeting every target and the feasibility conditions with 95% confidence."""
    dated = scenario.dated_shifts()
    if dated:
        raise ScenarioError(scenario.name, [(dated[0], "a shift of given dates is a past roster: the optimiser "
                                                       "plans a weekly one (give days)")])
    shift_slots = slots(scenario)
    user = {t.text for t in targets}
    conditions = [*targets, *[t for t in feasibility_targets(scenario, waive, share) if t.text not in user]]
    evaluator = _Evaluator(scenario, conditions, shift_slots, for_runs(workers, [scenario]),
                           "overload" not in waive)
    search = _Search(scenario, evaluator, conditions, shift_slots, max_staff, progress)
    try:
        return search.run(list(start) if start is not None else analytic_start(scenario), replications,
                          max(2, min(screen, replications)))
    finally:
        evaluator.pool.kill()


NO_OVERLOAD = "no pool overloaded"


class _Search:
    """The search of `optimise`, with the cheapest roster met so far kept for an interruption."""

    def __init__(self, scenario: Scenario, evaluator: _Evaluator, conditions: list[Target],
                 shift_slots: list[ShiftSlot], max_staff: int, progress: Callable[[str], None] | None) -> None:
        self.scenario, self.evaluator, self.conditions = scenario, evaluator, conditions
        self.slots, self.max_staff, self.progress = shift_slots, max_staff, progress
        self.best: Evaluation | None = None
        self.began = time.monotonic()

    def cost(self, staff: Sequence[int]) -> float:
        return sum(n * s.weight for n, s in zip(staff, self.slots))

    def addable(self, staff: tuple[int, ...], current: Evaluation) -> list[int]:
        """The entries a reader may be added to: those of pools that read work a missed target is about."""
        return [i for i in _relevant_slots(self.scenario, self.slots, current.missed(self.conditions),
                                           current.overloaded) if staff[i] < self.max_staff]

    def note(self, phase: str, extra: str = "") -> None:
        if self.progress is None:
            return
        best = self.best
        held = "none yet" if best is None else \
            f"{sum(best.staff)} readers, {self.cost(best.staff):,.0f} reader-hours a week"
        self.progress(f"{phase}: {self.evaluator.evaluations} rosters tried, best so far {held}; "
                      f"{time.monotonic() - self.began:.0f} s{extra}")

    def meets(self, evaluation: Evaluation) -> bool:
        """Whether the search takes a roster as meeting every condition (an answer is only ever one that
        meets them with 95% confidence: `keep`)."""
        return evaluation.met(self.conditions)

    def keep(self, evaluation: Evaluation) -> None:
        best = self.best
        if evaluation.met(self.conditions) and (
                best is None or (self.cost(evaluation.staff), -evaluation.replications) <
                (self.cost(best.staff), -best.replications)):
            self.best = evaluation

    def check_targets(self, staff: tuple[int, ...], screen: int) -> Evaluation:
        """The first roster's evaluation; a ScenarioError for a target no work matches."""
        first = self.evaluator.one(staff, screen)
        empty = [t for t in self.conditions if first.values[t.text][0] is None]
        if empty and REFUSED in first.overloaded:  # not "no work matches": the scenario's checks refuse it
            try:
                self.evaluator.variant(staff)
            except ScenarioError as exc:
                raise ScenarioError(f"{exc.source} with the first roster tried ({', '.join(map(str, staff))} "
                                    "readers by shift)", exc.problems) from None
        if empty:
            raise ScenarioError("--target", [(t.text, "no work in this scenario matches it, so it cannot be met or "
                                              "missed (check the subgroup)") for t in empty])
        return first

    def climb(self, staff: tuple[int, ...], reps: int, phase: str) -> tuple[int, ...] | None:
        """Up: add the reader who most reduces the worst shortfall per reader-hour, until all is met."""
        conditions = self.conditions
        current = self.evaluator.one(staff, reps)
        self.keep(current)
        while not self.meets(current):
            self.note(phase)
            candidates = self.addable(staff, current)
            if not candidates:
                return None
            trials = [staff[:i] + (staff[i] + 1,) + staff[i + 1:] for i in candidates]
            scored = []
            for i, trial in zip(candidates, self.evaluator.many(trials, reps)):
                self.keep(trial)
                gain = current.worst(conditions) - trial.worst(conditions)
                if self.meets(trial):
                    gain = math.inf if not math.isfinite(current.worst(conditions)) else gain + 1e6
                score = gain / max(self.slots[i].weight, 1e-9)
                # An unmeasurable gain (a shortfall that stays infinite) ranks below any measured one, and
                # then the cheapest reader goes first: every step adds a reader, so the climb ends.
                scored.append((score if score == score else -math.inf, -self.slots[i].weight, trial))
            current = max(scored, key=lambda entry: entry[:2])[2]
            staff = current.staff
        return staff

    def descend(self, staff: tuple[int, ...], reps: int, phase: str,
                pools: Collection[str] | None = None) -> tuple[int, ...]:
        """Down: take readers away, the most expensive shifts first, while all stays met (`pools`: only
        from the shift entries of these)."""
        entries = [i for i, s in enumerate(self.slots) if pools is None or s.pool in pools]
        changed = True
        while changed:
            changed = False
            for i in sorted(entries, key=lambda j: -self.slots[j].weight):
                while staff[i] > 0:
                    self.note(phase)
                    trial = self.evaluator.one(staff[:i] + (staff[i] - 1,) + staff[i + 1:], reps)
                    if not self.meets(trial):
                        break
                    self.keep(trial)
                    staff, changed = trial.staff, True
        return staff

    def run(self, first: list[int], replications: int, screen: int) -> StaffingResult:
        """Screen, confirm at full size, find what binds; on Ctrl-C, the best feasible roster so far."""
        evaluator, conditions = self.evaluator, self.conditions
        staff: tuple[int, ...] | None = tuple(first)
        self.check_targets(tuple(first), screen)
        try:
            staff = self.climb(tuple(first), screen, "screening")
            if staff is not None:
                staff = self.descend(staff, screen, "screening")
                staff = self.climb(staff, replications, "confirming")  # at full size, readers added if needed
                if staff is not None:
                    staff = self.descend(staff, replications, "confirming")
        except KeyboardInterrupt:
            evaluator.pool.kill()
            return self.result(first, self.best, replications, feasible=self.best is not None, proven=False,
                               interrupted=True)
        if staff is None:  # no roster up to max_staff meets everything
            tried = max(evaluator.cache.values(), key=lambda e: (e.replications, sum(e.staff)))
            return self.result(first, tried, replications, feasible=False)
        chosen = evaluator.one(staff, replications)
        # The roster is found (minimal one reader at a time, at full size): a Ctrl-C from here on keeps it,
        # with what binds and the rosters of the same cost left unknown.
        try:
            self.note("finding what binds", f", {sum(1 for n in staff if n)} rosters to try")
            binding: dict[str, list[str]] = {t.text: [] for t in conditions}
            below = [(i, staff[:i] + (staff[i] - 1,) + staff[i + 1:]) for i in range(len(staff)) if staff[i] > 0]
            for (i, _), trial in zip(below, evaluator.many([t for _, t in below], replications)):
                where = f"{self.slots[i].pool}/{self.slots[i].label}"
                for t in trial.missed(conditions):
                    binding[t.text].append(where)
                if trial.overloaded and evaluator.check_overload:
                    binding.setdefault(NO_OVERLOAD, []).append(where)
            alternatives = self.same_cost(staff, replications, screen)
        except KeyboardInterrupt:
            evaluator.pool.kill()
            return self.result(first, chosen, replications, alternatives=([], 0, False), interrupted=True)
        return self.result(first, chosen, replications, binding=binding, alternatives=alternatives)

    def same_cost(self, staff: tuple[int, ...], replications: int, screen: int,
                  limit: int = 40) -> tuple[list[list[int]], int, bool]:
        """Rosters as cheap as `staff` that meet every condition too: one reader moved from a shift entry to
        another of the same hours a week (at most `limit` moves tried; False when there were more). Screened
        as the search is (`screen` replications, kept when every mean is on the right side), then confirmed."""
        hours = [s.weight for s in self.slots]
        moves = [(i, j) for i in range(len(staff)) if staff[i] > 0 for j in range(len(staff))
                 if j != i and math.isclose(hours[i], hours[j])]
        if not moves:
            return [], 0, True
        self.note("looking for rosters as cheap", f", {min(len(moves), limit)} to try")
        trials = []
        for i, j in moves[:limit]:
            trial = list(staff)
            trial[i], trial[j] = trial[i] - 1, trial[j] + 1
            trials.append(tuple(trial))
        likely = [e.staff for e in self.evaluator.many(trials, screen) if e.worst(self.conditions) <= 0]
        met = [list(e.staff) for e in self.evaluator.many(likely, replications) if e.met(self.conditions)]
        return met, min(len(moves), limit), len(moves) <= limit

    def result(self, first: list[int], chosen: Evaluation | None, replications: int, feasible: bool = True,
               proven: bool = True, binding: dict[str, list[str]] | None = None,
               alternatives: tuple[list[list[int]], int, bool] = ([], 0, True),
               interrupted: bool = False) -> StaffingResult:
        if chosen is None:
            chosen = Evaluation(tuple(first), 0, {t.text: (None, None, None) for t in self.conditions})
        return StaffingResult(self.evaluator.roster(chosen.staff), self.slots, first, list(chosen.staff), chosen,
                              self.evaluator.evaluations, self.conditions, binding or {}, feasible, proven,
                              chosen.replications == replications, time.monotonic() - self.began, *alternatives,
                              interrupted=interrupted)
