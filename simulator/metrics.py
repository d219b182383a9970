"""Metrics of a run, per replication, and their means over replications with 95% confidence intervals.

Definitions (every metric leaves out work items that arrived in the warm-up):
- count: work items that arrived (after the warm-up, before the horizon).
- count_per_year: count x 365 / the days observed (horizon - warm-up): yearly volume at this run's rates.
- reported_fraction: share of them reported by the horizon.
- mean/p50/p95/max_tat_minutes: turnaround `reported_at - arrived_at` of the reported items.
- mean/p95_wait_minutes: time on the worklist, `reported_at - ready_at - read_minutes`, of reported items.
- sla_met_fraction: of the items that have a target and whose fate is known at the horizon (reported, or
  past their deadline), the share reported within target. An item's target is `targets[kind]` for second
  opinions, consultations and audits, else `targets[priority]`, else `targets[referral]`; the targets of
  `rules` classes and of the audit lane count as `targets` entries. A double-read study's primary row is
  reported when both reads are done.
- backlog_at_horizon: items ready but not yet reported at the horizon.
- utilization (per pool, or all pools): minutes reading inside duty after the warm-up over minutes on duty
  after the warm-up of readers present; overtime is left out of both, so it lies in [0, 1].
- overtime_hours: hours spent finishing a study after the duty ended, summed over readers.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from .scenario import Scenario
from .triage import IMAGE_READS
from .triage_config import targets_of

__all__ = ["STUDY_METRICS", "POOL_METRICS", "SPLITS", "BETTER", "StudyColumns", "study_metrics", "pool_metrics",
           "per_replication", "replication_values", "subgroups", "confidence_interval", "summary_rows"]

STUDY_METRICS = ("count", "count_per_year", "reported_fraction", "mean_tat_minutes", "p50_tat_minutes", "p95_tat_minutes",
                 "max_tat_minutes", "mean_wait_minutes", "p95_wait_minutes", "sla_met_fraction",
                 "backlog_at_horizon")
POOL_METRICS = ("utilization", "overtime_hours")
SPLITS = ("kind", "referral", "priority", "diseased", "ai_positive", "study_type")
# Which way is better, for the metrics where one is: what comparisons and baselines judge by.
BETTER = {"reported_fraction": "higher", "mean_tat_minutes": "lower", "p50_tat_minutes": "lower",
          "p95_tat_minutes": "lower", "max_tat_minutes": "lower", "mean_wait_minutes": "lower",
          "p95_wait_minutes": "lower", "sla_met_fraction": "higher", "backlog_at_horizon": "lower"}


class StudyColumns:
    """The columns metrics need from a studies table, and masks over its non-warm-up rows.

    Categorical columns are kept as integer codes (-1 for null) with a value -> code lookup, so that
    subgroup masks over millions of rows are integer comparisons, not string ones. Columns stay full
    length (no filtered copies); every mask starts from the rows outside the warm-up.
    """

    def __init__(self, table: pa.Table, scenario: Scenario) -> None:
        # Columns are taken one at a time, as they are needed: a city year's table is a gigabyte, and its
        # widest column (study_id) is never needed here.
        self._source = table
        self._keep = ~table.column("in_warmup").to_numpy()
        self.horizon = scenario.horizon_minutes
        self.observed_days = scenario.horizon_days - scenario.warmup_days
        self.num_rows = table.num_rows
        self.replication = self._numbers("replication")
        self.tat, self.wait = self._floats("tat_minutes"), self._floats("wait_minutes")
        self._codes: dict[str, tuple[np.ndarray, dict[Any, int]]] = {}
        # Per-row facts every subgroup needs, computed once rather than per subgroup and replication, one
        # source column at a time; the times they come from are not kept.
        self.is_reported = ~np.isnan(self._floats("reported_at"))
        self.in_backlog = ~np.isnan(self._floats("ready_at")) & ~self.is_reported
        target = self._targets(scenario)
        past_deadline = self._floats("arrived_at") + target
        self.target_known = ~np.isnan(target) & (self.is_reported | (past_deadline <= self.horizon))
        del past_deadline
        self.target_met = self.target_known & self.is_reported & (self.tat <= target + 1e-9)

    def _numbers(self, name: str) -> np.ndarray:
        return self._source.column(name).to_numpy()

    def _floats(self, name: str) -> np.ndarray:
        return self._numbers(name).astype(float, copy=False)  # nulls arrive as NaN

    def encoded(self, name: str) -> tuple[np.ndarray, dict[Any, int]]:
        """(codes, value -> code) of a column; numeric columns are their own codes."""
        if name not in self._codes:
            if name not in self._source.column_names:
                raise KeyError(f"no column {name!r} in studies.parquet to filter on")
            column = self._source.column(name)
            if pa.types.is_string(column.type):
                column = column.dictionary_encode()
            if pa.types.is_dictionary(column.type):
                column = column.unify_dictionaries()
                codes = [pc.fill_null(chunk.indices, -1).to_numpy() for chunk in column.chunks]
                values = column.chunk(0).dictionary.to_pylist() if column.num_chunks else []
                lookup = {v: i for i, v in enumerate(values)}
            elif pa.types.is_boolean(column.type):
                codes = [pc.fill_null(chunk.cast(pa.int8()), -1).to_numpy() for chunk in column.chunks]
                lookup = {False: 0, True: 1}
            else:
                codes, lookup = [column.to_numpy()], {}
            joined = np.concatenate(codes) if codes else np.empty(0, dtype=np.int64)
            self._codes[name] = (joined, lookup)
        return self._codes[name]

    def distinct(self, name: str) -> list[Any]:
        """The values present in a categorical column, nulls left out."""
        codes, lookup = self.encoded(name)
        present = set(np.unique(codes[self._keep]).tolist())
        return sorted((v for v, c in lookup.items() if c in present), key=str)

    def _targets(self, scenario: Scenario) -> np.ndarray:
        targets = targets_of(scenario)
        out = np.full(self.num_rows, np.nan)
        for name in ("referral", "priority", "kind"):
            codes, lookup = self.encoded(name)
            by_code = np.full(len(lookup) + 1, np.nan)  # the last slot serves code -1 (null)
            for value, code in lookup.items():
                if value in targets and not (name == "kind" and value in IMAGE_READS):
                    by_code[code] = targets[value]
            found = by_code[codes]
            out = np.where(np.isnan(found), out, found)  # later sources take precedence
        return out

    def mask(self, where: Mapping[str, Any]) -> np.ndarray:
        mask = self._keep.copy()
        for key, value in where.items():
            codes, lookup = self.encoded(key)
            if lookup:
                code = lookup.get(value)
                mask &= codes == (-2 if code is None else code)
            else:
                mask &= codes == value
        return mask


def study_metrics(cols: StudyColumns, mask: np.ndarray) -> dict[str, float]:
    """Every study metric over the rows in `mask` (one replication's, typically)."""
    reported = mask & cols.is_reported
    tat = cols.tat[reported]
    wait = cols.wait[reported]
    count = int(mask.sum())
    n_known = int((mask & cols.target_known).sum())
    empty = tat.size == 0
    nan2 = (np.nan, np.nan)
    # Means and maxima first: the quantiles may reorder their (already copied) input in place.
    mean_tat, max_tat, mean_wait = (np.nan,) * 3 if empty else (float(tat.mean()), float(tat.max()), float(wait.mean()))
    p50_tat, p95_tat = nan2 if empty else np.quantile(tat, [0.5, 0.95], overwrite_input=True).tolist()
    p95_wait = np.nan if empty else float(np.quantile(wait, 0.95, overwrite_input=True))
    return {
        "count": float(count),
        "count_per_year": count * 365.0 / cols.observed_days,
        "reported_fraction": reported.sum() / count if count else np.nan,
        "mean_tat_minutes": mean_tat,
        "p50_tat_minutes": p50_tat,
        "p95_tat_minutes": p95_tat,
        "max_tat_minutes": max_tat,
        "mean_wait_minutes": mean_wait,
        "p95_wait_minutes": p95_wait,
        "sla_met_fraction": (mask & cols.target_met).sum() / n_known if n_known else np.nan,
        "backlog_at_horizon": float((mask & cols.in_backlog).sum()),
    }


def pool_metrics(duties: pa.Table, scenario: Scenario, mask: np.ndarray) -> dict[str, float]:
    """Utilisation and overtime over the duty rows in `mask`."""
    start = np.maximum(duties.column("start").to_numpy(), scenario.warmup_minutes)
    end = np.minimum(duties.column("end").to_numpy(), scenario.horizon_minutes)
    present = duties.column("present").to_numpy(zero_copy_only=False) & mask
    available = np.clip(end - start, 0.0, None)[present].sum()
    busy = duties.column("busy_minutes").to_numpy()[present].sum()
    return {
        "utilization": busy / available if available > 0 else np.nan,
        "overtime_hours": duties.column("overtime_minutes").to_numpy()[present].sum() / 60.0,
    }


def per_replication(studies: pa.Table, duties: pa.Table, scenario: Scenario, metric: str,
                    where: Mapping[str, Any], replications: Iterable[int],
                    columns: StudyColumns | None = None) -> np.ndarray:
    """One value of `metric` restricted to `where`, per replication (NaN where undefined).

    Pass `columns` (built once from `studies`) when asking for several metrics of one table.
    """
    reps = list(replications)
    if metric in POOL_METRICS:
        rep = duties.column("replication").to_numpy()
        base = np.ones(duties.num_rows, dtype=bool)
        for key, value in where.items():
            base &= np.asarray(duties.column(key).to_pylist(), dtype=object) == value
        return np.array([pool_metrics(duties, scenario, base & (rep == r))[metric] for r in reps])
    if metric not in STUDY_METRICS:
        raise KeyError(f"unknown metric {metric!r}; known: {', '.join(STUDY_METRICS + POOL_METRICS)}")
    cols = columns if columns is not None else StudyColumns(studies, scenario)
    base = cols.mask(where)
    return np.array([study_metrics(cols, base & (cols.replication == r))[metric] for r in reps])


def confidence_interval(values: np.ndarray, level: float = 0.95) -> dict[str, float | int | None]:
    """Mean over replications and a Student-t interval; no interval from fewer than two values."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = int(values.size)
    if n == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "replications": 0}
    mean = float(values.mean())
    if n < 2:
        return {"mean": mean, "ci_low": None, "ci_high": None, "replications": n}
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "replications": n}


def subgroups(cols: StudyColumns, splits: Iterable[str] = SPLITS, informative: bool = False) -> list[dict[str, Any]]:
    """All items, then one subgroup per value present of each split; `informative` leaves out splits with a
    single value (their one subgroup is all items again)."""
    groups: list[dict[str, Any]] = [{}]
    for split in splits:
        values = cols.distinct(split)
        if not informative or len(values) > 1:
            groups += [{split: value} for value in values]
    return groups


def replication_values(cols: StudyColumns, groups: Iterable[Mapping[str, Any]], metrics: Iterable[str],
                       replications: Iterable[int]) -> dict[tuple[str, tuple], np.ndarray]:
    """Per (metric, subgroup as sorted items), the metric's value in each replication (NaN where undefined)."""
    reps = list(replications)
    metrics = list(metrics)
    out = {}
    for where in groups:
        base = cols.mask(where)
        per_rep = [study_metrics(cols, base & (cols.replication == r)) for r in reps]
        for metric in metrics:
            out[(metric, tuple(sorted(where.items())))] = np.array([p[metric] for p in per_rep], dtype=float)
    return out


def summary_rows(studies: pa.Table, duties: pa.Table, scenario: Scenario,
                 replications: int | Iterable[int]) -> list[dict[str, Any]]:
    """Every metric for all items and per subgroup (each value of each split), with CIs over replications."""
    reps = list(range(replications)) if isinstance(replications, int) else list(replications)
    cols = StudyColumns(studies, scenario)
    rows = []
    for where in subgroups(cols):
        base = cols.mask(where)
        per_rep = [study_metrics(cols, base & (cols.replication == r)) for r in reps]
        if not base.any():
            continue
        for metric in STUDY_METRICS:
            values = np.array([p[metric] for p in per_rep], dtype=float)
            rows.append({"metric": metric, "where": where, **confidence_interval(values)})
    pools = np.asarray(duties.column("pool").to_pylist(), dtype=object)
    rep = duties.column("replication").to_numpy()
    for where in [{}] + [{"pool": p} for p in scenario.pools]:
        base = np.ones(duties.num_rows, dtype=bool) if not where else pools == where["pool"]
        per_rep = [pool_metrics(duties, scenario, base & (rep == r)) for r in reps]
        for metric in POOL_METRICS:
            values = np.array([p[metric] for p in per_rep], dtype=float)
            rows.append({"metric": metric, "where": where, **confidence_interval(values)})
    return rows
