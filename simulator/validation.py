"""Checking a scenario's `expect:` block: estimates with confidence intervals against expected values.

Replications are added (doubling) until every expectation's 95% CI half-width is within its tolerance,
or a cap is reached; a check whose interval is still wider than its tolerance cannot tell, and fails.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .expectations import expected_value
from .experiment import run_scenario
from .metrics import StudyColumns, confidence_interval, per_replication
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
    replications: int

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2.0

    @property
    def tight(self) -> bool:
        return self.half_width <= self.tolerance

    @property
    def passed(self) -> bool:
        """The expected value lies within tolerance of the estimate, and the CI is tight enough to tell."""
        return abs(self.estimate - self.expected) <= self.tolerance and self.tight

    @property
    def verdict(self) -> str:
        if self.passed:
            return "pass"
        return "too wide" if abs(self.estimate - self.expected) <= self.tolerance else "FAIL"


def _checks(scenario: Scenario, studies: pa.Table, duties: pa.Table, replications: int,
            stations: pa.Table | None = None) -> list[Check]:
    checks = []
    nan = math.nan
    columns = StudyColumns(studies, scenario)
    for expectation in scenario.expect:
        values = per_replication(studies, duties, scenario, expectation.metric, expectation.where,
                                 range(replications), columns, stations)
        ci = confidence_interval(np.asarray(values))
        expected = expected_value(scenario, expectation)
        tolerance = (expectation.abs_tol if expectation.abs_tol is not None
                     else expectation.rel_tol * abs(expected))  # type: ignore[operator]
        checks.append(Check(
            expectation.metric, dict(expectation.where), expected,
            nan if ci["mean"] is None else ci["mean"], nan if ci["ci_low"] is None else ci["ci_low"],
            nan if ci["ci_high"] is None else ci["ci_high"], tolerance, replications))
    return checks


def validate_scenario(scenario: Scenario, replications: int = 10, workers: int | None = None,
                      max_replications: int = 80) -> list[Check]:
    """Checks of every expectation, with replications doubled until the intervals are tight or the cap."""
    studies: list[pa.Table] = []
    duties: list[pa.Table] = []
    stations: list[pa.Table] = []
    done = 0
    target = replications
    while True:
        run = run_scenario(scenario, target - done, workers=workers, first=done, summarise=False)
        studies.append(run.studies)
        duties.append(run.duties)
        if run.stations is not None:
            stations.append(run.stations)
        done = target
        all_studies = pa.concat_tables(studies, promote_options="permissive")
        all_duties = pa.concat_tables(duties)
        checks = _checks(scenario, all_studies, all_duties, done, pa.concat_tables(stations) if stations else None)
        if all(c.tight for c in checks) or done >= max_replications:
            return checks
        target = min(2 * done, max_replications)
