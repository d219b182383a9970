"""Paired comparison of two policies on the same random numbers (common random numbers).

Each replication of A and of B sees the same studies, AI scores and reading times, so the per-replication
differences B - A carry far less noise than two independent runs; their mean and Student-t CI say whether
B is better, worse, or not distinguishable from A.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .experiment import Run, run_scenario
from .metrics import SPLITS, StudyColumns, confidence_interval, study_metrics
from .scenario import Scenario

__all__ = ["Difference", "compare_runs", "compare_policies", "COMPARED", "LOWER_IS_BETTER"]

COMPARED = ("mean_tat_minutes", "p95_tat_minutes", "max_tat_minutes", "mean_wait_minutes", "sla_met_fraction")
LOWER_IS_BETTER = {"mean_tat_minutes": True, "p95_tat_minutes": True, "max_tat_minutes": True,
                   "mean_wait_minutes": True, "p95_wait_minutes": True, "sla_met_fraction": False}


@dataclass(frozen=True)
class Difference:
    metric: str
    where: dict[str, Any]
    a: float | None
    b: float | None
    diff: float | None  # mean of B - A over replications
    ci_low: float | None
    ci_high: float | None

    @property
    def verdict(self) -> str:
        """'better' or 'worse' for B when the CI of B - A excludes 0, else 'same'."""
        if self.ci_low is None or self.ci_high is None:
            return "n/a"
        if self.ci_low <= 0.0 <= self.ci_high:
            return "same"
        lower = self.ci_high < 0.0
        return "better" if lower == LOWER_IS_BETTER[self.metric] else "worse"


def compare_runs(scenario: Scenario, a: Run, b: Run, metrics: tuple[str, ...] = COMPARED) -> list[Difference]:
    cols_a, cols_b = StudyColumns(a.studies, scenario), StudyColumns(b.studies, scenario)
    reps = range(a.replications)
    groups = [{}] + [{s: v} for s in SPLITS if s != "priority" for v in cols_a.distinct(s)]
    out = []
    for where in groups:
        base_a, base_b = cols_a.mask(where), cols_b.mask(where)
        per_a = [study_metrics(cols_a, base_a & (cols_a.replication == r)) for r in reps]
        per_b = [study_metrics(cols_b, base_b & (cols_b.replication == r)) for r in reps]
        for metric in metrics:
            va = np.array([p[metric] for p in per_a], dtype=float)
            vb = np.array([p[metric] for p in per_b], dtype=float)
            ci = confidence_interval(vb - va)
            out.append(Difference(metric, where, confidence_interval(va)["mean"], confidence_interval(vb)["mean"],
                                  ci["mean"], ci["ci_low"], ci["ci_high"]))
    return out


def compare_policies(scenario: Scenario, policy_a: str, policy_b: str, replications: int,
                     workers: int | None = None) -> list[Difference]:
    """Run the scenario under two triage policies on the same seeds and pair the replications."""
    runs = []
    for policy in (policy_a, policy_b):
        variant = scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"triage": policy})})
        runs.append(run_scenario(variant, replications, workers=workers, summarise=False))
    return compare_runs(scenario, runs[0], runs[1])
