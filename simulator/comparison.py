"""Paired comparison of two variants of a scenario on the same random numbers (common random numbers).

Each replication of A and of B sees the same studies, AI scores and reading times, so the per-replication
differences B - A carry far less noise than two independent runs. A difference is called better or worse
only when its 95% CI excludes zero **and** its mean passes a practical threshold (`threshold`): a change
of 0.0005 in a share within target is no change anyone could act on, however sure it is.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pathlib import Path

from .experiment import Run, run_scenario
from .groups import GROUPS
from .metrics import (BETTER, SPLITS, StudyColumns, columns_for, confidence_interval, key_of, replication_values,
                      subgroups)
from .scenario import Scenario

__all__ = ["Difference", "StudyChange", "Comparison", "compare", "study_changes", "paired_runs", "columns_of",
           "compare_runs", "paired", "compare_scenarios", "compare_policies", "summary_counts", "COMPARED",
           "COMPARED_SPLITS", "verdict", "threshold", "VERDICTS", "BETTER_", "WORSE", "NO_CLEAR_CHANGE", "COMPARISON"]

COMPARISON = "comparison"  # the kind of output folder `compare --out` writes
COMPARED = ("mean_tat_minutes", "p95_tat_minutes", "max_tat_minutes", "mean_wait_minutes", "sla_met_fraction",
            "unfinished")
# Triage labels differ between policies, so `priority` groups are not paired; the rest are the same studies.
COMPARED_SPLITS = tuple(s for s in SPLITS if s != "priority")
BETTER_, WORSE, NO_CLEAR_CHANGE, NOT_AVAILABLE = "better", "worse", "no clear change", "n/a"
VERDICTS = (BETTER_, WORSE, NO_CLEAR_CHANGE, NOT_AVAILABLE)


def threshold(metric: str, a: float | None) -> float:
    """The smallest change worth calling better or worse (docs/metrics.md): for times the larger of 1
    minute and 1% of A; for shares 0.5 percentage points; for counts the larger of 1 item and 1% of A."""
    size = abs(a) if a is not None and math.isfinite(a) else 0.0
    if metric.endswith("_minutes"):
        return max(1.0, 0.01 * size)
    if metric.endswith("fraction"):
        return 0.005
    return max(1.0, 0.01 * size)


def verdict(metric: str, diff: float | None, ci_low: float | None, ci_high: float | None,
            a: float | None = None) -> str:
    """B's verdict: better or worse when the CI of B - A excludes 0 and the change passes the metric's
    threshold; no clear change otherwise; n/a without a CI (fewer than two replications)."""
    if diff is None or ci_low is None or ci_high is None:
        return NOT_AVAILABLE
    if metric not in BETTER or ci_low <= 0.0 <= ci_high or abs(diff) < threshold(metric, a):
        return NO_CLEAR_CHANGE
    return BETTER_ if (diff > 0) == (BETTER[metric] == "higher") else WORSE


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
        return verdict(self.metric, self.diff, self.ci_low, self.ci_high, self.a)

    @property
    def threshold(self) -> float:
        return threshold(self.metric, self.a)


def columns_of(scenario: Scenario, a: Run, b: Run) -> tuple[StudyColumns, StudyColumns]:
    """The metric columns of both runs, built once for `compare_runs` and `study_changes` together."""
    return columns_for(a.studies, scenario), columns_for(b.studies, scenario)


def compare_runs(scenario: Scenario, a: Run, b: Run, metrics: Iterable[str] = COMPARED,
                 groups: Iterable[Mapping[str, Any]] | None = None,
                 columns: tuple[StudyColumns, StudyColumns] | None = None) -> list[Difference]:
    """Paired differences B - A per metric, for all items and each subgroup of COMPARED_SPLITS (or the
    `groups` given)."""
    metrics = tuple(metrics)
    cols_a, cols_b = columns or columns_of(scenario, a, b)
    chosen = [dict(g) for g in groups] if groups is not None else subgroups(cols_a, COMPARED_SPLITS, informative=True)
    reps = range(a.replications)
    return paired(chosen, metrics, replication_values(cols_a, chosen, metrics, reps),
                  replication_values(cols_b, chosen, metrics, reps))


def paired(groups: Iterable[Mapping[str, Any]], metrics: Iterable[str], values_a: Mapping[tuple, Any],
           values_b: Mapping[tuple, Any]) -> list[Difference]:
    """The Differences B - A per group and metric from both variants' values per replication, keyed as
    `metrics.replication_values` keys them."""
    out, metrics = [], tuple(metrics)
    for where in groups:
        for metric in metrics:
            key = (metric, key_of(where))
            va, vb = values_a[key], values_b[key]
            ci = confidence_interval(vb - va)
            out.append(Difference(metric, where, confidence_interval(va)["mean"], confidence_interval(vb)["mean"],
                                  ci["mean"], ci["ci_low"], ci["ci_high"]))
    return out


@dataclass(frozen=True)
class StudyChange:
    """The distribution of one group's per-study change in turnaround, B - A: the same study under both
    variants (common random numbers: same arrival, same reading time), pooled over replications."""

    where: dict[str, Any]
    studies: int
    mean: float | None
    median: float | None
    low: float | None  # 2.5th percentile: 95% of the studies changed by between `low` and `high`
    high: float | None
    faster: float | None  # share of studies at least a minute faster under B
    slower: float | None  # share at least a minute slower


def study_changes(scenario: Scenario, a: Run, b: Run, groups: Iterable[Mapping[str, Any]],
                  columns: tuple[StudyColumns, StudyColumns] | None = None) -> list[StudyChange]:
    """Per group, each study's change in turnaround B - A (censored at the horizon like the metrics: a
    study unreported in a run counts at its censored time). The studies drawn by the cohort come in the same
    order in both runs' tables, replication after replication; the second opinions and second reads between
    them, which exist only when requested (so many more in one run than in the other), are left out, and
    warm-up arrivals as everywhere."""
    import numpy as np
    import pyarrow.compute as pc

    own_a, own_b = (np.flatnonzero(pc.is_null(run.studies.column("of_study")).to_numpy(zero_copy_only=False))
                    for run in (a, b))
    if own_a.shape != own_b.shape or not pc.all(pc.equal(a.studies.column("study_id").take(own_a),
                                                         b.studies.column("study_id").take(own_b))).as_py():
        raise ValueError("the runs do not hold the same studies: compare variants that draw the same studies")
    cols_a, cols_b = columns or columns_of(scenario, a, b)
    tat_a, tat_b = cols_a.tat[own_a], cols_b.tat[own_b]  # gathered once, not once a group
    out = []
    for where in groups:
        mask_a, mask_b = cols_a.mask(dict(where))[own_a], cols_b.mask(dict(where))[own_b]
        # Groups of what a study is (its finding, flag, order priority) hold the same studies in both runs.
        change = tat_b[mask_b] - tat_a[mask_a] if np.array_equal(mask_a, mask_b) else np.empty(0)
        if change.size == 0:
            out.append(StudyChange(dict(where), 0, None, None, None, None, None, None))
            continue
        low, median, high = np.quantile(change, [0.025, 0.5, 0.975]).tolist()
        out.append(StudyChange(dict(where), int(change.size), float(change.mean()), median, low, high,
                               float((change <= -1.0).mean()), float((change >= 1.0).mean())))
    return out


@dataclass(frozen=True)
class Comparison:
    """B against A on the same random numbers: paired differences per metric and subgroup, and each high-risk
    group's per-study changes. `document()` is comparison.json; `write` puts it in a folder of its own."""

    scenario: str
    a: str  # what A and B are: a policy name, a class path, or a fragment file's name
    b: str
    replications: int
    differences: list[Difference]
    per_study: list[StudyChange]

    def document(self) -> dict[str, Any]:
        import dataclasses

        return {"scenario": self.scenario, "a": self.a, "b": self.b, "replications": self.replications,
                "differences": [dataclasses.asdict(d) for d in self.differences],
                "per_study": [dataclasses.asdict(c) for c in self.per_study]}

    def write(self, folder: Path, replace: bool = False) -> Path:
        """comparison.json in `folder`, written whole, over nothing but an earlier comparison."""
        import json

        from .files import write_directory

        text = json.dumps(self.document(), indent=1, default=str)
        return write_directory(folder, COMPARISON, lambda staging: (staging / "comparison.json").write_text(text),
                               replace)


def compare(a: Scenario, b: Scenario, names: tuple[str, str], replications: int, workers: int | None = None,
            seed: int | None = None, progress: Any = None) -> Comparison:
    """A and B (two variants of one scenario that draw the same studies) on the same seed and replications."""
    run_a, run_b = paired_runs(a, b, replications, workers, seed, progress)
    columns = columns_of(a, run_a, run_b)
    return Comparison(a.name, names[0], names[1], replications, compare_runs(a, run_a, run_b, columns=columns),
                      study_changes(a, run_a, run_b, [{}] + [g.where for g in GROUPS], columns))


def compare_scenarios(a: Scenario, b: Scenario, replications: int, workers: int | None = None,
                      seed: int | None = None, progress: Any = None) -> list[Difference]:
    """Run two variants of a scenario on the same seed and replications, and pair them.

    The variants must draw the same studies: they may differ in policy, routing and staffing, not in
    arrivals or horizon (else the pairs would not be pairs).
    """
    return compare_runs(a, *paired_runs(a, b, replications, workers, seed, progress))


def paired_runs(a: Scenario, b: Scenario, replications: int, workers: int | None = None, seed: int | None = None,
                progress: Any = None) -> tuple[Run, Run]:
    """A and B run on the same seed and replications (the pairs `compare_runs` and `study_changes` take)."""
    seed = a.seed if seed is None else seed
    runs = []
    for i, variant in enumerate((a, b)):
        step = None if progress is None else (lambda f, i=i: progress((i + f) / 2))
        runs.append(run_scenario(variant, replications, seed, workers=workers, summarise=False, progress=step))
    return runs[0], runs[1]


def compare_policies(scenario: Scenario, policy_a: str, policy_b: str, replications: int,
                     workers: int | None = None) -> list[Difference]:
    """The scenario under two triage policies (by name or `module:Class`), paired. A policy that cannot be
    used is bad input before anything runs."""
    from .prepare import policy_variant

    a, b = (policy_variant(scenario, p) for p in (policy_a, policy_b))
    return compare_scenarios(a, b, replications, workers)


def summary_counts(differences: list[Difference]) -> dict[str, int]:
    counts = {v: 0 for v in VERDICTS}
    for d in differences:
        counts[d.verdict] += 1
    return counts
