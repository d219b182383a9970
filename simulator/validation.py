"""Checking a scenario's `expect:` block: estimates with confidence intervals against expected values.

A check passes when the expected value lies inside the estimate's 99% confidence interval (from
independent replications) **and** that interval's half-width is within the check's tolerance: the
tolerance is the precision the check needs to see a bias of that size, not a distance allowed between
estimate and theory. So a model biased by more than the tolerance fails once the runs are long enough,
and a run too short to tell says so ("too wide") instead of passing.

Where the expected value is itself known only to within an error (an approximation such as the pointwise
stationary one, a published figure's rounding), the expectation says so (`value_rel_error`): the check
passes when the interval meets the band theory ± that error.

Replications are added (doubling) until every interval is tight enough, or a cap is reached; a miss on
the first tight look is looked at once more with twice the replications (`validate_scenario`).
"""
from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from .expectations import expected_value
from .experiment import run_replication
from .metrics import StudyColumns, confidence_interval, per_replication
from .scenario import Scenario
from .workers import LocalPool, for_runs

__all__ = ["Check", "validate_scenario"]


LEVEL = 0.99  # the confidence level of every check


@dataclass(frozen=True)
class Check:
    metric: str
    where: dict[str, Any]
    expected: float
    estimate: float
    ci_low: float  # of the 99% interval
    ci_high: float
    tolerance: float  # the widest half-width that can tell
    replications: int
    value_error: float = 0.0  # how far the expected value itself may be off (absolute)

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2.0

    @property
    def tight(self) -> bool:
        return self.half_width <= self.tolerance

    @property
    def consistent(self) -> bool:
        """The interval meets the expected value (or its band, where the value has an error of its own)."""
        return self.ci_low - self.value_error <= self.expected <= self.ci_high + self.value_error

    @property
    def passed(self) -> bool:
        """The expected value lies in the 99% CI, and the CI is tight enough to tell."""
        return self.consistent and self.tight

    @property
    def verdict(self) -> str:
        if self.passed:
            return "pass"
        return "too wide" if self.consistent else "FAIL"


def _measured(task: tuple[Scenario, int]) -> list[float]:
    """One replication's value of each expectation's metric, measured where it ran: only the numbers
    travel back, not its rows."""
    scenario, replication = task
    result = run_replication(scenario, replication)
    columns = StudyColumns(result.studies, scenario)
    return [float(per_replication(result.studies, result.duties, scenario, expectation.metric, expectation.where,
                                  [replication], columns, result.stations)[0]) for expectation in scenario.expect]


def _values(scenario: Scenario, first: int, count: int, pool: LocalPool | None) -> list[np.ndarray]:
    """Each expectation's metric, one value per replication, for replications first .. first+count-1."""
    tasks = [(scenario, r) for r in range(first, first + count)]
    rows = list(map(_measured, tasks) if pool is None else pool.map(_measured, tasks))
    return [np.array(values, dtype=float) for values in zip(*rows)]


def _checks(scenario: Scenario, values: list[np.ndarray], replications: int) -> list[Check]:
    checks = []
    nan = math.nan
    for expectation, measured in zip(scenario.expect, values):
        ci = confidence_interval(measured, LEVEL)
        expected = expected_value(scenario, expectation)
        tolerance = (expectation.abs_tol if expectation.abs_tol is not None
                     else expectation.rel_tol * abs(expected))  # type: ignore[operator]
        checks.append(Check(
            expectation.metric, dict(expectation.where), expected,
            nan if ci["mean"] is None else ci["mean"], nan if ci["ci_low"] is None else ci["ci_low"],
            nan if ci["ci_high"] is None else ci["ci_high"], tolerance, replications,
            expectation.value_rel_error * abs(expected)))
    return checks


def validate_scenario(scenario: Scenario, replications: int = 10, workers: int | None = None,
                      max_replications: int = 640) -> list[Check]:
    """Checks of every expectation, with replications doubled until the intervals are tight or the cap.

    A check whose tight interval misses the expected value gets one more doubling before it is called
    FAIL: a 99% interval misses one time in a hundred, so a set of sixty checks would fail by chance about
    half the time on a single look; a real bias stays outside as the interval narrows.

    Each replication is measured in the worker that ran it and only its values come back, so memory does
    not grow with the replications a check needs, and the measuring runs on every worker.
    """
    workers = for_runs(workers, [scenario])
    with nullcontext() if workers <= 1 else LocalPool(workers) as pool:
        return _doubled(scenario, replications, max_replications, pool)


def _doubled(scenario: Scenario, replications: int, max_replications: int, pool: LocalPool | None) -> list[Check]:
    """`validate_scenario`'s rounds, on `pool` (None: in this process)."""
    values: list[np.ndarray] = [np.empty(0) for _ in scenario.expect]
    done = 0
    target = replications
    confirming = False
    while True:
        more = _values(scenario, done, target - done, pool)
        values = [np.concatenate([kept, new]) for kept, new in zip(values, more)]
        done = target
        checks = _checks(scenario, values, done)
        if done >= max_replications:
            return checks
        if all(c.tight for c in checks):
            if all(c.passed for c in checks) or confirming:
                return checks
            confirming = True  # a miss on the first tight look: look once more with twice the replications
        target = min(2 * done, max_replications)
