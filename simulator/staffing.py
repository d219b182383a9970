"""The staffing optimiser: the smallest roster (staff per pool x shift entry) that meets every target with
95% confidence.

Start from an analytic estimate (each shift's offered load, square-root staffing), then search by
simulation on common random numbers: add the reader who helps the worst-missed target most per reader-hour
until every target is met, then take readers away, most expensive shifts first, while every target stays
met. The answer is therefore minimal one reader at a time: removing any one reader breaks a target.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import ScenarioError
from .experiment import run_scenario
from .metrics import POOL_METRICS, STUDY_METRICS
from .scenario import Scenario

__all__ = ["Target", "parse_target", "ShiftSlot", "slots", "analytic_start", "StaffingResult", "optimise"]

_TARGET = re.compile(r"^\s*([a-z_0-9]+)\s*(?:\[([^\]]*)\])?\s*(<=|>=)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Target:
    metric: str
    where: tuple[tuple[str, Any], ...]
    op: str  # <= or >=
    value: float
    text: str

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
    match = _TARGET.match(text)
    if not match:
        raise ScenarioError("--target", [(text, "write a target as metric[split=value] <= number (or >=)")])
    metric, inside, op, value = match.groups()
    if metric not in STUDY_METRICS + POOL_METRICS:
        raise ScenarioError("--target", [(text, f"unknown metric {metric!r}")])
    where = []
    for part in filter(None, (p.strip() for p in (inside or "").split(","))):
        key, sep, raw = part.partition("=")
        if not sep:
            raise ScenarioError("--target", [(text, f"{part!r} is not split=value")])
        where.append((key.strip(), yaml.safe_load(raw.strip())))
    return Target(metric, tuple(where), op, float(value), text.strip())


@dataclass(frozen=True)
class ShiftSlot:
    """One decision: the staff of one shift entry of one pool."""

    pool: str
    index: int
    label: str
    hours_per_week: float  # reader-hours a week per reader on this entry

    @property
    def path(self) -> str:
        return f"pools.{self.pool}.shifts.{self.index}.staff"


def slots(scenario: Scenario) -> list[ShiftSlot]:
    from .calendar import shift_labels

    return [ShiftSlot(name, i, label, shift.length_minutes / 60.0 * len(shift.days))
            for name, pool in scenario.pools.items()
            for i, (shift, label) in enumerate(zip(pool.shifts, shift_labels(pool)))]


def analytic_start(scenario: Scenario, beta: float = 1.0) -> list[int]:
    """Square-root staffing per shift entry: ceil(a + beta sqrt(a)) for the entry's mean offered load a.

    A study type's load is shared equally among the pools that read it; a shift's load is the mean over
    the hours and weekdays it covers. Second opinions count at their share of the types they follow.
    """
    from .distributions import mean_of

    per_pool: dict[str, list[list[float]]] = {name: [[0.0] * 24 for _ in range(7)] for name in scenario.pools}
    readers = {lane: [p for p, pool in scenario.pools.items() if lane in scenario.lanes_of(pool)]
               for lane in scenario.study_types}
    second = scenario.second_opinions
    so_pools = [p for p, pool in scenario.pools.items() if "second_opinion" in scenario.lanes_of(pool)]
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


@dataclass
class Evaluation:
    staff: tuple[int, ...]
    values: dict[str, tuple[float | None, float | None, float | None]]  # target text -> mean, ci_low, ci_high

    def met(self, targets: Sequence[Target]) -> bool:
        return all(t.met(*self.values[t.text][1:]) for t in targets)

    def worst(self, targets: Sequence[Target]) -> float:
        return max(t.shortfall(self.values[t.text][0]) for t in targets)


@dataclass
class StaffingResult:
    scenario: Scenario
    slots: list[ShiftSlot]
    start: list[int]
    staff: list[int]
    evaluation: Evaluation
    evaluations: int
    binding: dict[str, list[str]] = field(default_factory=dict)  # target -> slots whose -1 breaks it
    feasible: bool = True


def optimise(scenario: Scenario, targets: Sequence[Target], replications: int = 5, workers: int | None = None,
             max_staff: int = 200, progress: Callable[[str], None] | None = None,
             start: Sequence[int] | None = None) -> StaffingResult:
    """The smallest roster meeting every target with 95% confidence (minimal one reader at a time)."""
    from .prepare import apply_overrides, parse_scenario

    shift_slots = slots(scenario)
    base = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    cache: dict[tuple[int, ...], Evaluation] = {}

    def evaluate(staff: tuple[int, ...]) -> Evaluation:
        if staff not in cache:
            overrides = [f"{s.path}={n}" for s, n in zip(shift_slots, staff)]
            variant = parse_scenario(apply_overrides(base, overrides), scenario.name)
            run = run_scenario(variant, replications, workers=workers)
            index = {(r["metric"], tuple(sorted(r["where"].items()))): r for r in run.summary}
            values = {}
            for t in targets:
                row = index.get((t.metric, tuple(sorted(t.where))))
                values[t.text] = (None, None, None) if row is None else (row["mean"], row["ci_low"], row["ci_high"])
            cache[staff] = Evaluation(staff, values)
            if progress:
                progress(f"{len(cache)} rosters tried; {sum(staff)} readers: "
                         + ("meets every target" if cache[staff].met(targets) else "misses a target"))
        return cache[staff]

    first = list(start) if start is not None else analytic_start(scenario)
    staff = tuple(first)
    current = evaluate(staff)
    # Up: the reader who most reduces the worst shortfall per reader-hour, until every target is met.
    while not current.met(targets):
        best, best_score = None, -math.inf
        for i, slot in enumerate(shift_slots):
            if staff[i] >= max_staff:
                continue
            trial = staff[:i] + (staff[i] + 1,) + staff[i + 1:]
            gain = current.worst(targets) - evaluate(trial).worst(targets)
            if evaluate(trial).met(targets):
                gain = math.inf if not math.isfinite(current.worst(targets)) else gain + 1e6
            score = gain / max(slot.hours_per_week, 1e-9)
            if score > best_score:
                best, best_score = trial, score
        if best is None:
            return StaffingResult(scenario, shift_slots, first, list(staff), current, len(cache), feasible=False)
        staff, current = best, evaluate(best)
    # Down: take readers away, the most expensive shifts first, while every target stays met.
    changed = True
    while changed:
        changed = False
        for i in sorted(range(len(shift_slots)), key=lambda j: -shift_slots[j].hours_per_week):
            while staff[i] > 0:
                trial = staff[:i] + (staff[i] - 1,) + staff[i + 1:]
                if not evaluate(trial).met(targets):
                    break
                staff, current, changed = trial, evaluate(trial), True
    binding: dict[str, list[str]] = {t.text: [] for t in targets}
    for i, slot in enumerate(shift_slots):
        if staff[i] == 0:
            continue
        trial = evaluate(staff[:i] + (staff[i] - 1,) + staff[i + 1:])
        for t in targets:
            if not t.met(*trial.values[t.text][1:]):
                binding[t.text].append(f"{slot.pool}/{slot.label}")
    final = parse_scenario(apply_overrides(base, [f"{s.path}={n}" for s, n in zip(shift_slots, staff)]), scenario.name)
    return StaffingResult(final, shift_slots, first, list(staff), current, len(cache), binding)
