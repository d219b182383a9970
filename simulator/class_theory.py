"""The priority classes a scenario's policy forms, worked out from the scenario alone, with their waits.

Each study falls into one class by what it is: STAT referrals first; then, under `ai_priority`, the
AI-flagged; under `hierarchical`, each service's flagged in the hierarchy's order (a study by its
highest-ranked flag); then the rest. A class's arrivals are a mixture over study types, conditions and
flag patterns, so its reading time is a mixture too: the class's first two moments are what the formulas
need. The class of a study is derived here from the policy's definition, never by calling the policy, so a
policy that ranks wrongly disagrees with this theory.

Waits per class:
- one reader: exact for any reading-time distributions (M/G/1 non-preemptive priority, Kleinrock 3.6;
  preemptive-resume, Kleinrock 3.7);
- several readers, every class read in the same exponential time: exact (Cobham for non-preemptive;
  for preemptive-resume, classes 0..k together are an M/M/c of their own, so class k follows by Little's
  law from the difference of two M/M/c populations);
- several readers, non-preemptive, otherwise: an approximation (`first_departure_waits`) whose error
  against simulation is stated in docs/validation.md; a check on it must give `value_rel_error`. (The
  Bondi-Buzen approximation was measured too and was off by up to 31% on the top class.) Pre-emptive
  at several readers with class-dependent times: refused.

A condition's wait is its classes' waits weighted by how its studies fall into them.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from .ai import operating_point
from .distributions import mean_of, scv_of
from .scenario import Distribution, Exponential, NO_CONDITION, Scenario, StudyType
from .theory import (allen_cunneen_wait, cobham_waits, erlang_c, mg1_preemptive_waits, mg1_priority_waits,
                     mmc_preemptive_waits)
from .triage_config import hierarchy

__all__ = ["PriorityClass", "priority_classes", "class_waits", "first_departure_waits", "condition_wait", "ClassShapeError"]


class ClassShapeError(ValueError):
    """The scenario's policy or studies form classes no formula here knows."""


@dataclass
class PriorityClass:
    rate: float = 0.0  # arrivals per minute
    first: float = 0.0  # rate-weighted sums of E[S] and E[S^2], divided out by `mean` and `second`
    squares: float = 0.0
    exponential_means: set = field(default_factory=set)  # the means of its exponential parts; None: another form
    by_condition: dict = field(default_factory=dict)  # condition -> arrivals per minute in this class

    @property
    def mean(self) -> float:
        return self.first / self.rate if self.rate else math.nan

    @property
    def second(self) -> float:
        return self.squares / self.rate if self.rate else math.nan

    def add(self, rate: float, read: Distribution, factor: float, condition: str) -> None:
        mean = mean_of(read) * factor
        self.rate += rate
        self.first += rate * mean
        self.squares += rate * mean * mean * (1.0 + scv_of(read))
        self.exponential_means.add(mean if isinstance(read, Exponential) else None)
        self.by_condition[condition] = self.by_condition.get(condition, 0.0) + rate


def _class_count(scenario: Scenario) -> tuple[int, list[str]]:
    triage = scenario.policy.triage
    if triage == "fifo":
        return 2, []
    if triage == "ai_priority":
        return 3, []
    if triage == "hierarchical":
        order = hierarchy(scenario)
        return len(order) + 2, order
    raise ClassShapeError("priority classes are known for fifo, ai_priority and hierarchical")


def _class_of(triage: str, order: list[str], stat: bool, flagged: tuple[str, ...]) -> int:
    if stat:
        return 0
    if triage == "ai_priority" and flagged:
        return 1
    if triage == "hierarchical":
        positions = [order.index(s) for s in flagged if s in order]
        if positions:
            return 1 + min(positions)
        return len(order) + 1
    return 1 if triage == "fifo" else 2


def _flag_chances(scenario: Scenario, study_type: StudyType, condition: str) -> list[float]:
    """P(each AI of the type flags a study with `condition`), failures counted as no flag."""
    chances = []
    for name in study_type.ais:
        service = scenario.ai_services[name]
        if service.outages:
            raise ClassShapeError("AI outages make the flagged share time-dependent")
        point = operating_point(service)
        targeted = condition != NO_CONDITION and (service.targets is None or condition in service.targets)
        chance = point.sensitivity if targeted else 1.0 - point.specificity
        chances.append(chance * (1.0 - service.failure_rate))
    return chances


def _conditions(study_type: StudyType) -> list[tuple[str, float, Distribution, float]]:
    """(condition, prevalence, reading time, factor) of a type, `none` included."""
    if not study_type.conditions:  # a type without conditions: "diseased" and not, both read alike
        return [("diseased", study_type.prevalence, study_type.read_minutes, 1.0),
                (NO_CONDITION, 1.0 - study_type.prevalence, study_type.read_minutes, 1.0)]
    rows = [(name, c.prevalence, c.read_minutes or study_type.read_minutes, c.read_factor or 1.0)
            for name, c in study_type.conditions.items()]
    return rows + [(NO_CONDITION, 1.0 - study_type.prevalence, study_type.read_minutes, 1.0)]


def priority_classes(scenario: Scenario) -> list[PriorityClass]:
    """The policy's classes, highest first, with their arrival rates and reading-time moments. Needs
    constant arrival rates (`rate_per_hour`)."""
    count, order = _class_count(scenario)
    triage = scenario.policy.triage
    classes = [PriorityClass() for _ in range(count)]
    for name, study_type in scenario.study_types.items():
        if study_type.arrivals.rate_per_hour is None:
            raise ClassShapeError(f"study type {name}: needs a constant arrival rate (arrivals: {{rate_per_hour: ...}})")
        rate = study_type.arrivals.rate_per_hour / 60.0
        stat = study_type.referral.stat
        for condition, prevalence, read, factor in _conditions(study_type):
            if prevalence <= 0:
                continue
            chances = _flag_chances(scenario, study_type, condition)
            for pattern in itertools.product((False, True), repeat=len(chances)):
                chance = math.prod(p if hit else 1.0 - p for p, hit in zip(chances, pattern))
                flagged = tuple(s for s, hit in zip(study_type.ais, pattern) if hit)
                for is_stat, share in ((True, stat), (False, 1.0 - stat)):
                    if share * chance > 0:
                        cls = classes[_class_of(triage, order, is_stat, flagged)]
                        cls.add(rate * prevalence * chance * share, read, factor, condition)
    return classes


def class_waits(classes: list[PriorityClass], servers: int, preemptive: bool) -> tuple[list[float], bool]:
    """Mean queue wait of each class (NaN for a class without arrivals), and whether the values are
    exact (False: `first_departure_waits`, an approximation)."""
    present = [c for c in classes if c.rate > 0]
    if not present:
        raise ClassShapeError("no study arrives: no class has a wait")
    rates = [c.rate for c in present]
    means = [c.mean for c in present]
    seconds = [c.second for c in present]
    load = sum(r * m for r, m in zip(rates, means))
    if load >= servers:
        raise ClassShapeError(f"the readers are overloaded: offered load {load:.3f} >= {servers} readers")
    exponential = {m for c in present for m in c.exponential_means}
    exact = True
    if servers == 1:
        waits = (mg1_preemptive_waits if preemptive else mg1_priority_waits)(rates, means, seconds)
    elif len(exponential) == 1 and None not in exponential:
        mu = 1.0 / next(iter(exponential))
        waits = mmc_preemptive_waits(servers, mu, rates) if preemptive else cobham_waits(servers, mu, rates)
    elif preemptive:
        raise ClassShapeError("pre-emptive priorities at several readers with class-dependent or non-exponential "
                              "reading times: no approximation here is validated")
    else:
        exact = False
        waits = first_departure_waits(servers, rates, means, seconds)
    it = iter(waits)
    return [next(it) if c.rate > 0 else math.nan for c in classes], exact


def first_departure_waits(servers: int, rates: list[float], means: list[float], seconds: list[float]) -> list[float]:
    """Non-preemptive priorities at c readers with class-dependent reading times, approximately.

    Cobham's structure W_k = W0 / ((1 - s_{k-1})(1 - s_k)), with W0 the Erlang C probability of waiting
    times the mean time to the first departure among c busy readers, each busy with class k in proportion
    to its load (1 / (c sum_k share_k / E[S_k])); the lowest class then from the conservation of the
    load-weighted waits at the Allen-Cunneen FIFO wait. With one exponential reading time for all it is
    Cobham's exact result. Its error against simulation over a grid of cases is in docs/validation.md
    (docs/figures/priority_approximation.py)."""
    loads = [r * m for r, m in zip(rates, means)]
    offered = sum(loads)
    departure = 1.0 / (servers * sum(load / offered / m for load, m in zip(loads, means)))
    w0 = erlang_c(servers, offered) * departure
    waits, sigma = [], 0.0
    for load in loads:
        before = sigma
        sigma += load / servers
        waits.append(w0 / ((1.0 - before) * (1.0 - sigma)))
    total = sum(rates)
    mean = offered / total
    second = sum(r * s for r, s in zip(rates, seconds)) / total
    fifo = allen_cunneen_wait(servers, total, mean, 1.0, second / (mean * mean) - 1.0)
    waits[-1] = (offered * fifo - sum(load * w for load, w in zip(loads[:-1], waits[:-1]))) / loads[-1]
    return waits


def condition_wait(classes: list[PriorityClass], waits: list[float], condition: str) -> float:
    """The mean wait of the studies with `condition` (`none`: without one), over the classes they fall in."""
    weights = [c.by_condition.get(condition, 0.0) for c in classes]
    if not sum(weights):
        raise ClassShapeError(f"no study has the condition {condition!r}")
    return sum(w * x for w, x in zip(weights, waits) if w) / sum(weights)
