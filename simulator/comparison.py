"""Paired comparison of two variants of a scenario on the same random numbers (common random numbers).

Each replication of A and of B sees the same studies, AI scores and reading times, so the per-replication
differences B - A carry far less noise than two independent runs; their mean and Student-t CI say whether
B is better, worse, or not distinguishable from A.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


from .experiment import Run, run_scenario
from .metrics import BETTER, SPLITS, StudyColumns, confidence_interval, replication_values, subgroups
from .scenario import Scenario

__all__ = ["Difference", "compare_runs", "compare_scenarios", "compare_policies", "summary_counts", "COMPARED",
           "COMPARED_SPLITS", "verdict"]

COMPARED = ("mean_tat_minutes", "p95_tat_minutes", "max_tat_minutes", "mean_wait_minutes", "sla_met_fraction")
# Triage labels differ between policies, so `priority` groups are not paired; the rest are the same studies.
COMPARED_SPLITS = tuple(s for s in SPLITS if s != "priority")


def verdict(metric: str, ci_low: float | None, ci_high: float | None) -> str:
    """'better' or 'worse' for a change whose CI excludes 0, 'same' when it does not, 'n/a' without a CI."""
    if ci_low is None or ci_high is None:
        return "n/a"
    if ci_low <= 0.0 <= ci_high or metric not in BETTER:
        return "same"
    up = ci_low > 0.0
    return "better" if up == (BETTER[metric] == "higher") else "worse"


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
        """For B: 'better' or 'worse' when the CI of B - A excludes 0, else 'same'."""
        return verdict(self.metric, self.ci_low, self.ci_high)


def compare_runs(scenario: Scenario, a: Run, b: Run, metrics: tuple[str, ...] = COMPARED) -> list[Difference]:
    """Paired differences B - A per metric, for all items and each subgroup of COMPARED_SPLITS."""
    cols_a, cols_b = StudyColumns(a.studies, scenario), StudyColumns(b.studies, scenario)
    groups = subgroups(cols_a, COMPARED_SPLITS, informative=True)
    reps = range(a.replications)
    values_a = replication_values(cols_a, groups, metrics, reps)
    values_b = replication_values(cols_b, groups, metrics, reps)
    out = []
    for where in groups:
        for metric in metrics:
            key = (metric, tuple(sorted(where.items())))
            va, vb = values_a[key], values_b[key]
            ci = confidence_interval(vb - va)
            out.append(Difference(metric, where, confidence_interval(va)["mean"], confidence_interval(vb)["mean"],
                                  ci["mean"], ci["ci_low"], ci["ci_high"]))
    return out


def compare_scenarios(a: Scenario, b: Scenario, replications: int, workers: int | None = None,
                      seed: int | None = None) -> list[Difference]:
    """Run two variants of a scenario on the same seed and replications, and pair them.

    The variants must draw the same studies: they may differ in policy, routing and staffing, not in
    arrivals or horizon (else the pairs would not be pairs).
    """
    seed = a.seed if seed is None else seed
    runs = [run_scenario(variant, replications, seed, workers=workers, summarise=False) for variant in (a, b)]
    return compare_runs(a, runs[0], runs[1])


def compare_policies(scenario: Scenario, policy_a: str, policy_b: str, replications: int,
                     workers: int | None = None) -> list[Difference]:
    """The scenario under two triage policies (by name or `module:Class`), paired."""
    a, b = (scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"triage": p})})
            for p in (policy_a, policy_b))
    return compare_scenarios(a, b, replications, workers)


def summary_counts(differences: list[Difference]) -> dict[str, int]:
    counts = {"better": 0, "worse": 0, "same": 0, "n/a": 0}
    for d in differences:
        counts[d.verdict] += 1
    return counts


