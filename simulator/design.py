"""Shift design: the cheapest pattern of shifts that meets every target, not only the staff of given shifts.

First from theory, as SIPP does (stationary independent period by period): each pool's offered load by hour
of the week (`staffing.offered_loads`), the readers each hour needs for an M/M/c queue to keep the chance
of waiting at most `delay` (Erlang C), then the cheapest set of allowed shifts that covers those needs (a
covering integer program, scipy's `milp`, HiGHS). SIPP ignores that work left at one hour is read in the
next and that priorities reorder the worklist, so its roster may miss a target (Green, Kolesar and Soares
2001); it is then improved and proven by simulation on common random numbers, with `radsim staff`'s rules
(`staffing._Search`): the pools whose targets are missed get a stricter `delay` and a new cover, until the
screening replications meet every condition; readers are added where that is not enough, then taken away
while all stays met, and shifts are shortened by one allowed length at a time (the same start or the same
end) while all stays met; the answer is confirmed at the full number of replications (the cheapest of the
screened rosters that meets them, by bisection, then readers taken away and shifts shortened at full
size), and held once more at eight times as many, readers added where it misses there and then taken
away from those pools while it holds (work carries over hours). Interrupted, the best roster met so far
is kept.

A candidate shift is one start for one length on each day of a group of weekdays (by default Monday to
Friday, and the weekend: rosters as a centre writes them; `each` gives every day its own); the answer
groups the days of equal start, length and staff into one entry of the scenario's own shift form.
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .calendar import day_span
from .errors import ScenarioError
from .scenario import DAYS, Scenario
from .staffing import Evaluation, ShiftSlot, Target, _Evaluator, _relevant_slots, _Search, feasibility_targets, \
    offered_loads, on_duty_by_hour
from .theory import erlang_c
from .workers import cores

__all__ = ["Allowed", "Candidate", "DesignResult", "DESIGN", "candidates", "hourly_needs", "cover", "design",
           "parse_days", "parse_hours", "parse_starts", "check_on_seed"]

DESIGN = "design"  # the kind of output folder `radsim design` writes
WEEK = 168
PROOF = 8  # the answer is held to every condition again at this many times the replications
STRICTEST = 0.01  # the strictest SIPP service level tried: a 1% chance of waiting
NIGHT = frozenset({22, 23, 0, 1, 2, 3, 4, 5})  # hours of the day a night premium is paid for


@dataclass(frozen=True)
class Allowed:
    """The shifts a design may use, and what an hour on duty costs."""

    lengths: tuple[int, ...] = (6, 8, 10, 12)  # hours
    starts: tuple[int, ...] = tuple(range(24))  # hours of the day
    night_premium: float = 0.0  # share added to an hour's cost between 22:00 and 06:00
    weekend_premium: float = 0.0  # share added to an hour's cost on Saturday and Sunday
    delay: float = 0.5  # SIPP's service level: the chance of waiting for a reader, per hour
    day_groups: tuple[tuple[int, ...], ...] = ((0, 1, 2, 3, 4), (5, 6))  # a shift runs on every day of its group
    max_staff: int = 100  # readers on one candidate shift
    gaps: bool = False  # whether an hour with work may be left with nobody on duty (its work waits)

    def hour_cost(self, scenario: Scenario, pool: str, hour_of_week: int) -> float:
        """One reader on duty in this pool in this hour of the week: the pool's cost per hour (1 without one,
        so that the cost is reader-hours) with the premiums."""
        base = scenario.pools[pool].cost_per_hour
        day, hour = divmod(hour_of_week % WEEK, 24)
        return (1.0 if base is None else base) * (1.0 + (self.night_premium if hour in NIGHT else 0.0)) * \
            (1.0 + (self.weekend_premium if day >= 5 else 0.0))


@dataclass(frozen=True)
class Candidate:
    """One allowed shift of one pool: a start on each day of a group of weekdays, for some hours."""

    pool: str
    days: tuple[int, ...]  # 0 = Monday
    start: int  # hour of the day
    hours: int

    @property
    def covers(self) -> list[int]:
        """The hours of the week it is on duty, an hour once for each of its days (a shift from Sunday
        evening runs into Monday)."""
        return [(day * 24 + self.start + k) % WEEK for day in self.days for k in range(self.hours)]

    def slot(self, index: int, allowed: Allowed, scenario: Scenario) -> ShiftSlot:
        return ShiftSlot(self.pool, index, f"{self.start:02d}:00+{self.hours}h {day_span([DAYS[d] for d in self.days])}",
                         float(self.hours * len(self.days)),
                         sum(allowed.hour_cost(scenario, self.pool, h) for h in self.covers))

    def later(self, hours: int) -> "Candidate":
        """The shift of `hours` that ends when this one does."""
        start = self.start + self.hours - hours
        return Candidate(self.pool, tuple(sorted((d + start // 24) % 7 for d in self.days)), start % 24, hours)


def parse_hours(text: str, what: str = "--shift-lengths") -> tuple[int, ...]:
    """'6,8,10,12' as whole hours (1 to 24)."""
    try:
        values = tuple(sorted({int(v) for v in text.split(",") if v.strip()}))
    except ValueError:
        raise ScenarioError(what, [(text, "give whole hours separated by commas, e.g. 6,8,10,12")]) from None
    if not values or not all(1 <= v <= 24 for v in values):
        raise ScenarioError(what, [(text, "each length is a whole number of hours from 1 to 24")])
    return values


def parse_starts(text: str) -> tuple[int, ...]:
    """'06:00-22:00/1h' (every hour from 06:00 to 22:00), or '07:00,15:00,23:00', as hours of the day."""
    def hour(value: str) -> int:
        h, _, m = value.strip().partition(":")
        if not h.isdigit() or (m and m != "00") or not 0 <= int(h) <= 23:
            raise ValueError
        return int(h)

    try:
        if "-" in text:
            span, _, step = text.partition("/")
            first, last = (hour(v) for v in span.split("-", 1))
            every = int(step.strip().removesuffix("h") or 1) if step else 1
            if every < 1 or last < first:
                raise ValueError
            values = tuple(range(first, last + 1, every))
        else:
            values = tuple(sorted({hour(v) for v in text.split(",") if v.strip()}))
    except ValueError:
        raise ScenarioError("--starts", [(text, "give whole hours, e.g. 06:00-22:00/1h (every hour from 06:00 to "
                                                "22:00) or 07:00,15:00,23:00")]) from None
    if not values:
        raise ScenarioError("--starts", [(text, "no start time")])
    return values


def parse_days(text: str) -> tuple[tuple[int, ...], ...]:
    """'mon-fri,sat-sun' (a shift runs on every day of its group), 'mon-sun', or 'each' (every weekday on its
    own) as groups of weekdays."""
    if text.strip() == "each":
        return tuple((d,) for d in range(7))
    groups = []
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            a, b = DAYS.index(first.strip()), DAYS.index((last or first).strip())
            if b < a:
                raise ValueError
            groups.append(tuple(range(a, b + 1)))
    except ValueError:
        raise ScenarioError("--days", [(text, "give groups of weekdays, e.g. mon-fri,sat-sun or mon-sun, or 'each'")]) from None
    taken = [d for g in groups for d in g]
    if len(taken) != len(set(taken)):
        raise ScenarioError("--days", [(text, "a day is in two groups")])
    return tuple(groups)


def candidates(scenario: Scenario, allowed: Allowed) -> list[Candidate]:
    """Every allowed shift of every pool, on every group of weekdays."""
    return [Candidate(pool, days, start, hours) for pool in scenario.pools for days in allowed.day_groups
            for start in allowed.starts for hours in allowed.lengths]


def hourly_needs(load: float, delay: float) -> int:
    """The readers an hour of this offered load needs (SIPP): the fewest that keep an M/M/c queue stable and
    the chance of waiting at most `delay` (Erlang C); none without load."""
    if load <= 0:
        return 0
    servers = math.floor(load) + 1
    while erlang_c(servers, load) > delay:
        servers += 1
    return servers


def cover(scenario: Scenario, shifts: Sequence[Candidate], allowed: Allowed, needs: dict[str, list[int]],
          slots: Sequence[ShiftSlot]) -> tuple[int, ...]:
    """The cheapest staff of the candidate shifts that puts at least `needs[pool][hour of week]` readers on
    duty in every hour (a covering integer program, solved to optimality by HiGHS)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    staff = [0] * len(shifts)
    for pool, need in needs.items():
        mine = [j for j, c in enumerate(shifts) if c.pool == pool]
        if not any(need):
            continue
        matrix = np.zeros((WEEK, len(mine)))
        for k, j in enumerate(mine):
            matrix[shifts[j].covers, k] = 1.0
        bare = [h for h in range(WEEK) if need[h] and not matrix[h].any()]
        if bare:
            day, hour = divmod(bare[0], 24)
            raise ScenarioError("--starts", [(pool, f"no allowed shift is on duty on {DAYS[day]} at {hour:02d}:00, "
                                                   "where this pool has work: allow other starts or lengths")])
        found = milp(np.array([slots[j].weight for j in mine]), integrality=np.ones(len(mine)),
                     bounds=Bounds(0, allowed.max_staff), constraints=LinearConstraint(matrix, lb=np.array(need, float)))
        if found.x is None:
            raise ScenarioError("--target", [(pool, f"no cover of the hours' needs within {allowed.max_staff} "
                                                    f"readers a shift ({found.message})")])
        for k, j in enumerate(mine):
            staff[j] = int(round(found.x[k]))
    return tuple(staff)


def sipp_needs(scenario: Scenario, delay: dict[str, float]) -> dict[str, list[int]]:
    """Each pool's needs by hour of the week at its own `delay`; where a double-read type has work, two
    readers between the pools that read it (its second read is never by the first's reader)."""
    needs = {pool: [hourly_needs(load, delay[pool]) for day in loads for load in day]
             for pool, loads in offered_loads(scenario).items()}
    for name, study_type in scenario.study_types.items():
        if study_type.double_reading is None:
            continue
        pools = [p for p, pool in scenario.pools.items() if name in scenario.lanes_of(pool)]
        busy = [h for h, rate in enumerate(r for day in study_type.arrivals.hourly_rates() for r in day) if rate > 0]
        for pool in pools:
            for h in busy:
                needs[pool][h] = max(needs[pool][h], math.ceil(2 / len(pools)))
    return needs


class _DesignEvaluator(_Evaluator):
    """A roster here is the staff of every candidate shift; its scenario holds the shifts staffed."""

    def __init__(self, scenario: Scenario, targets: Sequence[Target], shift_slots: list[ShiftSlot], workers: int,
                 check_overload: bool, shifts: Sequence[Candidate]) -> None:
        super().__init__(scenario, targets, shift_slots, workers, check_overload)
        self.shifts = list(shifts)

    def variant(self, staff: Sequence[int], expectations: bool = False) -> Scenario:
        from .prepare import with_overrides

        return with_overrides(self.scenario, [f"pools.{pool}.shifts={json.dumps(entries)}"
                                              for pool, entries in roster_shifts(self.scenario, self.shifts, staff).items()],
                              expectations=expectations)


def roster_shifts(scenario: Scenario, shifts: Sequence[Candidate], staff: Sequence[int]) -> dict[str, list[dict]]:
    """Each pool's shift entries in the scenario's form: the days of equal start, length and staff as one
    entry. A pool with nobody on duty keeps one entry of no staff (a pool has at least one shift)."""
    grouped: dict[str, dict[tuple[int, int, int], list[int]]] = {pool: {} for pool in scenario.pools}
    for shift, n in zip(shifts, staff):
        if n:
            grouped[shift.pool].setdefault((shift.start, shift.hours, n), []).extend(shift.days)
    roster = {}
    for pool, entries in grouped.items():
        rows = [{"name": f"{start:02d}:00+{hours}h {day_span(names)}" + ("" if n == 1 else f" x{n}"),
                 "start": f"{start:02d}:00", "hours": hours, "days": names, "staff": n}
                for (start, hours, n), days in sorted(grouped[pool].items())
                for names in [[DAYS[d] for d in sorted(days)]]]
        roster[pool] = rows or [{"name": "nobody", "start": "00:00", "hours": 1, "staff": 0}]
    return roster


@dataclass
class DesignResult:
    scenario: Scenario  # the scenario with the designed roster
    shifts: list[Candidate]
    slots: list[ShiftSlot]
    staff: list[int]
    evaluation: Evaluation
    sipp_staff: list[int]  # SIPP's answer, as theory gives it
    sipp: Evaluation  # ... simulated at the full number of replications, on the same random numbers
    targets: list[Target]
    evaluations: int = 0
    seconds: float = 0.0
    feasible: bool = True
    interrupted: bool = False
    confirmed: bool = True
    # The search's theory steps and its answer: phase, cost, replications, and whether it meets every
    # condition (screened: every mean on the right side; confirmed: with 95% confidence).
    history: list[dict[str, Any]] = field(default_factory=list)

    def cost(self, staff: Sequence[int]) -> float:
        return float(sum(n * s.weight for n, s in zip(staff, self.slots)))

    def reader_hours(self, staff: Sequence[int]) -> float:
        return float(sum(n * s.hours_per_week for n, s in zip(staff, self.slots)))

    def coverage(self) -> dict[str, list[int]]:
        """Readers on duty per pool by hour of the week (Monday 00:00 first): the designed roster read as any
        weekly roster is (`staffing.on_duty_by_hour`); its shifts are whole hours, so its readers are whole."""
        return {pool: [round(n) for n in hours] for pool, hours in on_duty_by_hour(self.scenario).items()}

    def compared(self) -> list[tuple[str, str, str]]:
        """SIPP's roster beside the designed one, as the CLI and the dashboard show them: (what, SIPP, designed)."""
        def yes(flag: bool) -> str:
            return "yes" if flag else "NO"

        sipp, chosen = self.sipp, self.evaluation
        return [("reader-hours a week", f"{self.reader_hours(self.sipp_staff):,.0f}",
                 f"{self.reader_hours(self.staff):,.0f}"),
                ("cost a week", f"{self.cost(self.sipp_staff):,.0f}", f"{self.cost(self.staff):,.0f}"),
                ("no pool overloaded", yes(not sipp.overloaded), yes(not chosen.overloaded)),
                ("meets every target", yes(sipp.met(self.targets)), yes(chosen.met(self.targets)))]

    def target_rows(self, evaluation: Evaluation) -> list[dict[str, Any]]:
        rows = []
        for t in self.targets:
            mean, low, high = evaluation.values[t.text]
            rows.append({"target": t.text, "feasibility": t.implicit, "mean": mean, "ci_low": low, "ci_high": high,
                         "met": t.met(low, high)})
        return rows

    def document(self, replications: int) -> dict[str, Any]:
        """design.json: the roster designed, SIPP's beside it, and every target's estimate for both."""
        def roster(staff: Sequence[int], evaluation: Evaluation) -> dict[str, Any]:
            return {"cost_per_week": round(self.cost(staff), 3), "reader_hours_per_week": self.reader_hours(staff),
                    "meets_every_target": evaluation.met(self.targets), "replications": evaluation.replications,
                    "overloaded_pools": evaluation.overloaded, "targets": self.target_rows(evaluation),
                    "shifts": roster_shifts(self.scenario, self.shifts, staff)}

        return {"scenario": self.scenario.name, "replications": replications, "feasible": self.feasible,
                "confirmed": self.confirmed, "interrupted": self.interrupted, "rosters_simulated": self.evaluations,
                "seconds": round(self.seconds, 1),
                "designed": roster(self.staff, self.evaluation), "sipp": roster(self.sipp_staff, self.sipp),
                "coverage": self.coverage(), "search": self.history}

    def write(self, folder: Path, replications: int, replace: bool = False) -> Path:
        """roster.yaml (the scenario with the designed roster, loadable by `radsim run`) and design.json."""
        from .files import write_directory
        from .loading import dump_scenario

        roster, document = dump_scenario(self.scenario), json.dumps(self.document(replications), indent=1)

        def fill(staging: Path) -> None:
            (staging / "roster.yaml").write_text(roster)
            (staging / "design.json").write_text(document)

        return write_directory(folder, DESIGN, fill, replace)


def _manned(scenario: Scenario, shifts: Sequence[Candidate]) -> np.ndarray:
    """For each pool's hour of the week with work, which candidate shifts put a reader there."""
    rows = []
    for pool, loads in offered_loads(scenario).items():
        for h, load in enumerate(load for day in loads for load in day):
            if load > 0:
                rows.append([1 if c.pool == pool and h in c.covers else 0 for c in shifts])
    return np.array(rows, dtype=np.int64).reshape(len(rows), len(shifts))


class _DesignSearch(_Search):
    """`radsim staff`'s search over candidate shifts: a reader is added only to a shift already staffed in a
    pool a missed target is about (the cover put a shift on every hour with work)."""

    ceiling = math.inf  # no roster dearer than this is tried: a target no staffing meets ends the climb
    full = 0  # the replications an answer is confirmed with
    chain: list[tuple[int, ...]]  # the rosters screening took as meeting, in the order it took them
    manned: np.ndarray | None = None  # (hour with work, candidate) incidence: every such hour needs a reader
    shifts: Sequence[Candidate] = ()  # the candidate shifts, as the slots are numbered
    lengths: Sequence[int] = ()  # the allowed lengths, shortest first
    index: dict[Candidate, int] = {}  # ... and each one's number

    def meets(self, evaluation: Evaluation) -> bool:
        """Screened (fewer replications than the answer's): every mean on the right side, no pool overloaded;
        two replications' 95% intervals are too wide to tell rosters apart. Confirmed: with 95% confidence.
        Unless gaps are allowed, a roster that leaves an hour with work to nobody does not meet them."""
        if self.manned is not None and not (self.manned @ np.asarray(evaluation.staff) > 0).all():
            return False
        if evaluation.replications >= self.full:
            return evaluation.met(self.conditions)
        if evaluation.worst(self.conditions) > 0:
            return False
        self.chain.append(evaluation.staff)
        return True

    def confirm(self, chain: list[tuple[int, ...]], reps: int) -> tuple[int, ...] | None:
        """The cheapest roster of a screened chain (each one taken from the one before by a reader less or a
        shift shorter, so each covers less) that meets every condition at full size: found by bisection,
        as a roster that covers more meets whatever one that covers less meets. From the chain's first with
        readers added if even that one misses."""
        self.note("confirming", f", bisecting {len(chain)} screened rosters")
        if not self.meets(self.evaluator.one(chain[0], reps)):
            return self.climb(chain[0], reps, "confirming: adding readers")
        lo, hi = 0, len(chain) - 1  # chain[lo] meets; the answer is at lo or after
        while lo < hi:
            mid = (lo + hi + 1) // 2
            self.note("confirming", f", bisecting {hi - lo + 1} screened rosters")
            evaluation = self.evaluator.one(chain[mid], reps)
            if self.meets(evaluation):
                self.keep(evaluation)
                lo = mid
            else:
                hi = mid - 1
        return chain[lo]

    def addable(self, staff: tuple[int, ...], current: Evaluation) -> list[int]:
        if self.cost(staff) > self.ceiling:
            return []
        found = [i for i in super().addable(staff, current) if staff[i] > 0]
        if current.missed(self.conditions):
            return found
        # Only a shift saturated: a reader more where it is on duty, not anywhere in its pool.
        saturated = self.saturated_hours(staff, current.overloaded)
        return [i for i in found if saturated & {(self.shifts[i].pool, h) for h in self.shifts[i].covers}] or found

    def saturated_hours(self, staff: Sequence[int], overloaded: Sequence[str]) -> set[tuple[str, int]]:
        """The (pool, hour of the week) of the shift entries named saturated (`pool/entry name`)."""
        named = {f"{pool}/{entry['name']}": (pool, entry) for pool, entries in
                 roster_shifts(self.scenario, self.shifts, staff).items() for entry in entries}
        hours = set()
        for where in overloaded:
            if where in named:
                pool, entry = named[where]
                days = tuple(DAYS.index(d) for d in entry["days"])
                hours |= {(pool, h) for h in Candidate(pool, days, int(entry["start"][:2]), entry["hours"]).covers}
        return hours

    def shorten(self, staff: tuple[int, ...], reps: int) -> tuple[int, ...]:
        """One reader of a staffed shift moved to the next shorter allowed length, the same start or the same
        end, while every condition stays met; the dearest first, until no move keeps them."""
        changed = True
        while changed:
            changed = False
            for i in sorted((i for i in range(len(staff)) if staff[i]), key=lambda j: -self.slots[j].weight):
                shift = self.shifts[i]
                shorter = [n for n in self.lengths if n < shift.hours]
                if not shorter or not staff[i]:
                    continue
                hours = shorter[-1]
                moves = {Candidate(shift.pool, shift.days, shift.start, hours), shift.later(hours)}
                for move in sorted(moves, key=lambda c: (c.days, c.start)):
                    j = self.index.get(move)
                    if j is None:
                        continue
                    self.note("shortening shifts")
                    trial = list(staff)
                    trial[i], trial[j] = trial[i] - 1, trial[j] + 1
                    evaluation = self.evaluator.one(tuple(trial), reps)
                    if self.meets(evaluation):
                        self.keep(evaluation)
                        staff, changed = evaluation.staff, True
                        break
        return staff


def design(scenario: Scenario, targets: Sequence[Target], allowed: Allowed = Allowed(), replications: int = 5,
           workers: int | None = None, progress: Callable[[str], None] | None = None, waive: Sequence[str] = (),
           share: float = 0.95, screen: int = 2) -> DesignResult:
    """The cheapest roster of allowed shifts found that meets every target and the feasibility conditions
    with 95% confidence, SIPP's roster beside it."""
    dated = scenario.dated_shifts()
    if dated:
        raise ScenarioError(scenario.name, [(dated[0], "a shift of given dates is a past roster: a design is a "
                                                       "weekly one (give days)")])
    shifts = candidates(scenario, allowed)
    shift_slots = [c.slot(i, allowed, scenario) for i, c in enumerate(shifts)]
    index = {c: i for i, c in enumerate(shifts)}
    user = {t.text for t in targets}
    conditions = [*targets, *[t for t in feasibility_targets(scenario, waive, share) if t.text not in user]]
    evaluator = _DesignEvaluator(scenario, conditions, shift_slots, workers or cores(), "overload" not in waive, shifts)
    search = _DesignSearch(scenario, evaluator, conditions, shift_slots, allowed.max_staff, progress)
    search.full, search.chain, search.shifts, search.index = replications, [], shifts, index
    search.lengths = sorted(allowed.lengths)
    if not allowed.gaps:
        search.manned = _manned(scenario, shifts)
    screen = max(2, min(screen, replications))
    history: list[dict[str, Any]] = []

    def step(phase: str, staff: tuple[int, ...], reps: int) -> Evaluation:
        evaluation = evaluator.one(staff, reps)
        search.keep(evaluation)
        history.append({"phase": phase, "cost": round(search.cost(staff), 3), "replications": reps,
                        "meets": search.meets(evaluation)})
        return evaluation

    delay = {pool: allowed.delay for pool in scenario.pools}
    sipp_staff = cover(scenario, shifts, allowed, sipp_needs(scenario, delay), shift_slots)
    search.check_targets(sipp_staff, screen)
    sipp = step("SIPP", sipp_staff, replications)
    # Past the cover of the strictest service level and as much again, more readers are not what is missing.
    search.ceiling = 2 * search.cost(cover(scenario, shifts, allowed, sipp_needs(scenario, dict.fromkeys(delay, STRICTEST)),
                                           shift_slots))
    staff: tuple[int, ...] | None = sipp_staff
    interrupted = False
    try:
        current = step("SIPP, screened", sipp_staff, screen)
        # A stricter service level where targets are missed, and a new cover, while theory can still help.
        while not search.meets(current):
            search.note("SIPP with stricter hours")
            pools = {shift_slots[i].pool for i in _relevant_slots(scenario, shift_slots, current.missed(conditions),
                                                                  current.overloaded)}
            if all(delay[p] <= STRICTEST for p in pools):
                break
            for pool in pools:
                delay[pool] = max(delay[pool] / 2, STRICTEST)
            staff = cover(scenario, shifts, allowed, sipp_needs(scenario, delay), shift_slots)
            current = step(f"SIPP at delay {min(delay[p] for p in pools):.3g}", staff, screen)
        staff = search.climb(staff, screen, "screening: adding readers")
        if staff is not None:
            search.chain = [staff]  # from here each roster taken covers less than the one before
            staff = search.descend(staff, screen, "screening: taking readers away")
            staff = search.shorten(staff, screen)
            staff = search.confirm(list(dict.fromkeys(search.chain)), replications)
            if staff is not None:
                staff = search.descend(staff, replications, "confirming: taking readers away")
                staff = search.shorten(staff, replications)
                # Held again at PROOF times the replications: a roster cut this close may miss, or saturate
                # a shift, in a replication the confirmation did not see; readers are added where it does.
                search.full = proof = PROOF * replications
                search.note("proving", f" over {proof} replications")
                proven = search.climb(staff, proof, "proving: adding readers")
                if proven is not None and proven != staff:
                    # Work carries over hours: readers added where the proof missed may leave others of
                    # their pools unneeded.
                    added = {shifts[i].pool for i, (a, b) in enumerate(zip(staff, proven)) if a != b}
                    proven = search.descend(proven, proof, "proving: taking readers away", added)
                staff = proven
    except KeyboardInterrupt:
        interrupted = True
    finally:
        evaluator.pool.kill()
    if interrupted or staff is None:
        chosen = search.best if search.best is not None else sipp
    else:
        chosen = evaluator.cache[(staff, PROOF * replications)]
    # Not found (no roster under the ceiling met every condition) is not feasible, whatever was kept.
    feasible = chosen.met(conditions) and (interrupted or staff is not None)
    history.append({"phase": "answer", "cost": round(search.cost(chosen.staff), 3),
                    "replications": chosen.replications, "meets": feasible})
    return DesignResult(evaluator.roster(chosen.staff), shifts, shift_slots, list(chosen.staff), chosen,
                        list(sipp_staff), sipp, conditions, evaluator.evaluations, time.monotonic() - search.began,
                        feasible, interrupted, chosen.replications >= replications, history)


def check_on_seed(roster: Scenario, conditions: Sequence[Target], seed: int, replications: int,
                  workers: int | None = None, check_overload: bool = True) -> Evaluation:
    """A roster's figures for every condition on other random numbers (`seed`): what a design that says
    it meets them is held to afterwards (the benchmark, the tests)."""
    from .prepare import with_overrides

    evaluator = _Evaluator(with_overrides(roster, [f"seed={seed}"]), conditions, [], workers or cores(), check_overload)
    try:
        return evaluator.one((), replications)
    finally:
        evaluator.pool.kill()
