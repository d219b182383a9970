"""Checking a scenario's `expect:` block: estimates with confidence intervals against expected values."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .experiment import run_scenario
from .metrics import confidence_interval, per_replication
from .scenario import Scenario

__all__ = ["Check", "validate_scenario"]


@dataclass(frozen=True)
class Check:
    metric: str
    where: dict[str, Any]
    expected: float
    estimate: float
    ci_low: float
    ci_high: float
    tolerance: float

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2.0

    @property
    def passed(self) -> bool:
        """The expected value lies within tolerance of the estimate, and the CI is tight enough to tell."""
        return abs(self.estimate - self.expected) <= self.tolerance and self.half_width <= self.tolerance

    @property
    def verdict(self) -> str:
        if self.passed:
            return "pass"
        return "too wide" if abs(self.estimate - self.expected) <= self.tolerance else "FAIL"


def validate_scenario(scenario: Scenario, replications: int = 10, workers: int | None = None) -> list[Check]:
    run = run_scenario(scenario, replications, workers=workers)
    checks = []
    for expectation in scenario.expect:
        values = per_replication(run.studies, run.duties, scenario, expectation.metric, expectation.where,
                                 range(replications))
        ci = confidence_interval(values)
        tolerance = expectation.abs_tol if expectation.abs_tol is not None else expectation.rel_tol * abs(expectation.value)
        nan = float("nan")
        checks.append(Check(expectation.metric, dict(expectation.where), expectation.value,
                            nan if ci["mean"] is None else ci["mean"],
                            nan if ci["ci_low"] is None else ci["ci_low"],
                            nan if ci["ci_high"] is None else ci["ci_high"], tolerance))
    return checks
