"""Metrics of a run, per replication, and their means over replications with 95% confidence intervals.

Every definition is in docs/metrics.md; in short (every metric leaves out work items that arrived in the
warm-up, except the two that describe the state at the horizon):
- count: work items that arrived (after the warm-up, before the horizon); count_per_year: count x 365 / the
  days observed.
- reported_fraction: share of them reported by the horizon; unfinished: how many were not.
  reported_fraction_before_last_day: the same over the items that arrived at least a day before the horizon.
- mean/p50/p95/max_tat_minutes: turnaround of every item. An item not reported by the horizon is never
  dropped: it enters with its TAT right-censored at the horizon (`horizon - arrived_at`, the least it will
  be), so with unfinished work these are lower bounds.
- mean/p95_wait_minutes: time on the worklist of every item that reached it: `reported_at - ready_at -
  read_minutes` when reported, censored at the horizon (or at the start of its read) otherwise.
- sla_met_fraction: of the items that have a target and whose fate is known at the horizon (reported, or
  past their target), the share reported within target. The target comes from what an item is (kind, order
  priority, AI flag, study type: `triage/targets.py`), never from a policy's label.
- backlog_at_horizon: items not reported at the horizon, warm-up arrivals included (the work left over);
  not_ready_at_horizon: those of them not yet on the worklist (in transfer or waiting out an outage).
- mean/p95_record_minutes: time to the patient's record (`recorded_at - arrived_at`) of the items that
  carry a report to it, censored at the horizon like turnaround.
- read_unscored_fraction: of the opened reads of studies the AI scored, the share opened before the result.
- utilization (per pool, or all pools): minutes reading inside duty after the warm-up over minutes on duty
  after the warm-up of readers present; overtime is left out of both, so it lies in [0, 1].
- overtime_hours: hours spent finishing a study after the duty ended, summed over readers.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import mapped
from .errors import InputError
from .scenario import Scenario
from .triage_config import targets_of


__all__ = ["STUDY_METRICS", "POOL_METRICS", "STATION_METRICS", "METRICS", "SPLITS", "BETTER", "RANGE", "StudyColumns",
           "columns_for", "has_value", "study_metrics",
           "pool_metrics", "per_replication", "replication_values", "subgroups", "confidence_interval",
           "check_metric", "key_of", "Key", "UnknownMetric", "quantiles"]

STUDY_METRICS = ("count", "count_per_year", "reported_fraction", "unfinished", "reported_fraction_before_last_day",
                 "mean_tat_minutes", "p50_tat_minutes", "p95_tat_minutes", "max_tat_minutes", "mean_wait_minutes",
                 "p95_wait_minutes", "sla_met_fraction", "backlog_at_horizon", "not_ready_at_horizon",
                 "mean_record_minutes", "p95_record_minutes", "read_unscored_fraction")
POOL_METRICS = ("utilization", "overtime_hours")
# Of one upstream station (`where: {station: ...}`), from stations.parquet: for `expect:` blocks.
STATION_METRICS = ("station_wait_minutes", "station_service_minutes", "station_utilization")
METRICS = STUDY_METRICS + POOL_METRICS + STATION_METRICS
SPLITS = ("kind", "referral", "priority", "diseased", "condition", "ai_positive", "study_type")
# Splits that exist only where the scenario has them: more than one value (a scenario without conditions
# has every study's condition `none`, which would repeat "all" in every table).
OPTIONAL_SPLITS = ("condition",)
# Which way is better, for the metrics where one is: what comparisons and baselines judge by.
BETTER = {"reported_fraction": "higher", "unfinished": "lower", "reported_fraction_before_last_day": "higher",
          "mean_tat_minutes": "lower", "p50_tat_minutes": "lower", "p95_tat_minutes": "lower",
          "max_tat_minutes": "lower", "mean_wait_minutes": "lower", "p95_wait_minutes": "lower",
          "sla_met_fraction": "higher", "backlog_at_horizon": "lower", "not_ready_at_horizon": "lower",
          "mean_record_minutes": "lower", "p95_record_minutes": "lower", "read_unscored_fraction": "lower"}
# The values a metric can take: confidence intervals are clipped to them.
RANGE = {name: (0.0, 1.0) if name.endswith("fraction") or name == "utilization" else (0.0, math.inf)
         for name in METRICS}
# Columns of studies.parquet one may filter study metrics by: the splits, and a few more for expect: blocks.
_FILTERABLE = (*SPLITS, "site", "modality", "replication", "in_warmup", "reader")


Key = tuple[tuple[str, Any], ...]  # a subgroup: its `where` as sorted items; () is all work


def key_of(where: Mapping[str, Any]) -> Key:
    """A subgroup's key: its `where` as sorted items (every table of values by subgroup is keyed so)."""
    return tuple(sorted(where.items()))


class UnknownMetric(InputError, KeyError):
    """A metric name or a subgroup key that radsim does not know."""

    def __str__(self) -> str:
        return str(self.args[0])


def check_metric(metric: str, where: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
    """UnknownMetric unless `metric` is a metric and every key of `where` a column one can split by."""
    if metric not in METRICS:
        raise UnknownMetric(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    keys = [k for k, _ in (where.items() if isinstance(where, Mapping) else where)]
    allowed = ("pool",) if metric in POOL_METRICS else ("station",) if metric in STATION_METRICS else _FILTERABLE
    if metric in STATION_METRICS and keys != ["station"]:
        raise UnknownMetric(f"{metric}: name the station with where: {{station: ...}} (as in stations.parquet)")
    for key in keys:
        if key not in allowed:
            raise UnknownMetric(f"{metric}: cannot split by {key!r}; by: {', '.join(allowed)}")
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:  # [ai_positive=true,ai_positive=false] is no subgroup: refused, not read as either
        raise UnknownMetric(f"{metric}: {twice[0]!r} is given twice; a subgroup names each column once")


def has_value(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Where a column has a value: not null, nor NaN in a column of floats."""
    valid = pc.is_valid(column)
    return pc.and_(valid, pc.invert(pc.fill_null(pc.is_nan(column), True))) \
        if pa.types.is_floating(column.type) else valid


class StudyColumns:
    """The columns metrics need from a studies table, per-row facts computed once, and masks.

    Categorical columns are kept as integer codes (-1 for null) with a value -> code lookup, so that
    subgroup masks over millions of rows are integer comparisons, not string ones. Columns stay full
    length (no filtered copies).
    """

    def __init__(self, table: pa.Table, scenario: Scenario) -> None:
        # Columns are taken one at a time, as they are needed: a city year's table is a gigabyte, and its
        # widest column (study_id) is never needed here.
        self._source = table
        self.horizon = scenario.horizon_minutes
        self.observed_days = scenario.horizon_days - scenario.warmup_days
        self.num_rows = n = table.num_rows
        self._codes: dict[str, tuple[np.ndarray, dict[Any, int]]] = {}
        self._targets_by = _Targets(self, scenario)
        # Each per-row fact is worked out from the whole table at once, or for a large replication's a row
        # group at a time into mapped arrays (`simulator/mapped.py`): the same values, the process holding
        # a row group's columns, not the table's (five city years' summary: 4.3 GB before).
        facts: dict[str, np.ndarray] = {}
        for lo, part in mapped.parts(table):
            found = self._facts(part, lo)
            if lo == 0 and part.num_rows == n:
                facts = found
                break
            for name, values in found.items():
                if name not in facts:
                    facts[name] = mapped.array(n, values.dtype)
                facts[name][lo:lo + part.num_rows] = values
            del found
            mapped.let_go()
        self.replication, self.in_warmup, self._keep = facts["replication"], facts["in_warmup"], facts["keep"]
        self.is_reported, self.not_ready, self.tat = facts["is_reported"], facts["not_ready"], facts["tat"]
        self.wait, self.before_last_day, self.record = facts["wait"], facts["before_last_day"], facts["record"]
        self.opened_scored, self.read_unscored = facts["opened_scored"], facts["read_unscored"]
        self.target, self.target_known, self.target_met = facts["target"], facts["target_known"], facts["target_met"]
        self.target_values = self._targets_by.values()  # every target a row can have, ascending
        # Rows of each replication: a run's table is its replications one after the other, so each is a slice.
        self._slices = _slices(self.replication)

    def _facts(self, table: Any, lo: int) -> dict[str, np.ndarray]:
        """The per-row facts of a part of the table (its rows from `lo`; the whole table at 0)."""
        horizon = self.horizon

        def floats(name: str) -> np.ndarray:
            return table.column(name).to_numpy().astype(float, copy=False)  # nulls arrive as NaN

        facts: dict[str, np.ndarray] = {"replication": table.column("replication").to_numpy()}
        in_warmup = facts["in_warmup"] = table.column("in_warmup").to_numpy(zero_copy_only=False)
        facts["keep"] = ~in_warmup
        # Each float column is a copy where it has nulls (8 bytes a row): each goes as soon as it is used, so
        # that a city year's summary needs no more than the columns it keeps.
        arrived = floats("arrived_at")
        reported = floats("reported_at")
        is_reported = facts["is_reported"] = ~np.isnan(reported)
        ready = floats("ready_at")
        facts["not_ready"] = np.isnan(ready) & ~is_reported
        censored = horizon - arrived
        # Turnaround as the table defines it (`reported_at - arrived_at`, docs/contract.md), from those two
        # columns: what a replication keeps for its summary need not hold a third (a city year's, 58 MB).
        tat = facts["tat"] = np.where(is_reported, reported - arrived, censored)
        del reported
        start = floats("read_start")
        started = ~np.isnan(start)
        wait_so_far = np.where(started, start, horizon)
        del start
        wait_so_far -= ready
        del ready
        facts["wait"] = np.where(is_reported, floats("wait_minutes"), wait_so_far)  # NaN where not ready
        del wait_so_far
        facts["before_last_day"] = arrived <= horizon - 1440.0
        # Time to the patient's record, of the items that carry a report to it (not second opinions or
        # second reads), censored at the horizon like turnaround; tables of older versions have no column.
        names = table.column_names
        if "recorded_at" in names:
            record = np.where(pc.is_null(table.column("of_study")).to_numpy(zero_copy_only=False), censored, np.nan)
            recorded = floats("recorded_at")
            known = ~np.isnan(recorded)
            record[known] = recorded[known] - arrived[known]
            del recorded, known
        else:
            record = np.full(table.num_rows, np.nan)
        facts["record"] = record
        del censored
        # Of the reads of scored studies opened, those opened before the AI result came.
        if "read_unscored" in names:
            facts["opened_scored"] = started & has_value(table.column("ai_score")).to_numpy(zero_copy_only=False)
            facts["read_unscored"] = table.column("read_unscored").to_numpy(zero_copy_only=False)
        else:
            facts["opened_scored"] = facts["read_unscored"] = np.zeros(table.num_rows, dtype=bool)
        del started
        target = facts["target"] = self._targets_by.of(lo, table.num_rows)  # minutes; NaN where none
        known = facts["target_known"] = ~np.isnan(target) & (is_reported | (arrived + target <= horizon))
        facts["target_met"] = known & is_reported & (tat <= target + 1e-9)
        return facts

    def encoded(self, name: str) -> tuple[np.ndarray, dict[Any, int]]:
        """(codes, value -> code) of a column; numeric columns are their own codes. A large replication's
        a part at a time (`mapped.parts`), its values coded in order of first use as the whole column's
        dictionary orders them, the codes mapped."""
        if name not in self._codes:
            if name not in self._source.column_names:
                raise UnknownMetric(f"no column {name!r} in studies.parquet to filter on")
            found: list = [None, False, None]  # the values' codes so far, whether a dictionary's, the parts' type

            def part_codes(part: Any) -> np.ndarray:
                codes, found[0], found[1] = _encoded(part.column(name), found[0])
                found[2] = codes.dtype
                return codes

            codes = mapped.column_of(self._source, [name], part_codes, np.int64)
            lookup = found[0] or {}
            kind = _small(len(lookup)) if found[1] else found[2]
            if codes.dtype != kind:  # (parts: in the type the whole column's codes have)
                typed = mapped.array(self.num_rows, kind)
                for lo in range(0, self.num_rows, mapped.PART):
                    typed[lo:lo + mapped.PART] = codes[lo:lo + mapped.PART]
                codes = typed
                mapped.let_go()
            self._codes[name] = (mapped.mapped(codes), lookup)
        return self._codes[name]

    def has(self, name: str) -> bool:
        """Whether the table has the column (tables written by older versions lack the newer ones)."""
        return name in self._source.column_names

    def distinct(self, name: str) -> list[Any]:
        """The values present in a categorical column among the measured work and the work left over at the
        horizon (a warm-up arrival still unread), nulls left out."""
        codes, lookup = self.encoded(name)
        present = set(np.unique(codes[self._keep | ~self.is_reported]).tolist())
        return sorted((v for v, c in lookup.items() if c in present), key=str)

    def mask(self, where: Mapping[str, Any], warmup: bool = False, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        """Of the rows `rows` (all by default), those matching every `column: value` of `where`; warm-up
        arrivals left out unless `warmup`."""
        mask = np.ones(self.in_warmup[rows].shape[0], dtype=bool) if warmup else self._keep[rows].copy()
        for key, value in where.items():
            codes, lookup = self.encoded(key)
            if lookup:
                code = lookup.get(value)
                mask &= codes[rows] == (-2 if code is None else code)
            else:
                mask &= codes[rows] == value
        return mask

    def subgroup(self, where: Mapping[str, Any], rows: slice | np.ndarray = slice(None)
                 ) -> tuple[np.ndarray, np.ndarray, slice | np.ndarray]:
        """Of the rows `rows`, the subgroup `where` as `study_metrics` takes it: (its measured work, warm-up
        arrivals left out; all of it, for the state at the horizon; the rows both masks are over).

        A subgroup that is a small part of `rows` comes narrowed to its own rows (their indices, in order),
        so that its metrics read each column at those rows alone rather than mask it whole: a city year's
        summary has some thirty subgroups, most of them a few percent of its seven million rows. The values
        are the same either way: the same items, in the same order."""
        group = self.mask(where, True, rows)
        measured = group & self._keep[rows]
        if _count(group) * NARROW_BELOW > group.shape[0]:
            return measured, group, rows
        mine = np.flatnonzero(group)
        if isinstance(rows, slice):
            at = mine + rows.indices(self.num_rows)[0]
        else:
            at = (np.flatnonzero(rows) if rows.dtype == bool else rows)[mine]
        return measured[mine], group[mine], at

    def rows_of(self, replication: int) -> slice | np.ndarray:
        """The rows of one replication: a slice (tables are in replication order), else a mask."""
        found = self._slices.get(replication)
        if found is not None:
            return found
        return self.replication == replication if self._slices is _UNSORTED else slice(0, 0)


def _encoded(column: pa.ChunkedArray, lookup: dict[Any, int] | None
             ) -> tuple[np.ndarray, dict[Any, int], bool]:
    """A column's codes, its values' (`StudyColumns.encoded`), and whether they are a dictionary's;
    `lookup`: the codes of the values met in the rows before, which the column's new values join, in its
    dictionary's order."""
    if pa.types.is_string(column.type):
        column = column.dictionary_encode()
    if pa.types.is_dictionary(column.type):
        column = column.unify_dictionaries()
        values = column.chunk(0).dictionary.to_pylist() if column.num_chunks else []
        if lookup is None:
            lookup = {v: i for i, v in enumerate(values)}
        remap = np.array([lookup.setdefault(v, len(lookup)) for v in values], dtype=np.int64)
        small = _small(len(lookup))
        codes = [pc.fill_null(chunk.indices, -1).to_numpy().astype(small, copy=False) for chunk in column.chunks]
        if not np.array_equal(remap, np.arange(remap.shape[0])):  # (a part's own dictionary: its values' codes)
            codes = [np.where(c >= 0, remap[np.maximum(c, 0)], -1).astype(small) for c in codes]
        return (np.concatenate(codes) if codes else np.empty(0, dtype=small)), lookup, True
    if pa.types.is_null(column.type):
        codes, lookup = [np.full(column.length(), -1, dtype=np.int64)], {}
    elif pa.types.is_boolean(column.type):
        codes = [pc.fill_null(chunk.cast(pa.int8()), -1).to_numpy() for chunk in column.chunks]
        lookup = {False: 0, True: 1}
    else:
        codes, lookup = [column.to_numpy()], {}
    return (np.concatenate(codes) if codes else np.empty(0, dtype=np.int64)), lookup, False


def _small(values: int) -> Any:
    """The few values' codes in a byte or two, not Arrow's four: a city year's summary holds a column of them
    per split (7 M rows each)."""
    return np.int8 if values < 127 else np.int16 if values < 32767 else np.int32


class _Targets:
    """Each row's target in minutes (NaN: none), from what the item is, by `Targets`' precedence: worked
    out once per combination of kind, referral, AI flag and study type that occurs, then looked up per row
    (`of`, a part of the rows at a time)."""

    FIELDS = ("kind", "referral", "ai_positive", "study_type")

    def __init__(self, cols: StudyColumns, scenario: Scenario) -> None:
        self.cols, self.targets = cols, targets_of(scenario)
        self.table: np.ndarray | None = None  # per combination, its target (NaN: none, or none seen yet)
        self.seen = np.zeros(0, dtype=bool)

    def of(self, lo: int, n: int) -> np.ndarray:
        """The targets of the rows from `lo`, `n` of them."""
        if not self.targets or not n:
            return np.full(n, np.nan)
        encoded = [self.cols.encoded(name) for name in self.FIELDS]
        values = [[None] + [v for v, _ in sorted(lookup.items(), key=lambda kv: kv[1])] for _, lookup in encoded]
        sizes = [len(v) for v in values]
        if self.table is None:
            self.table = np.full(int(np.prod(sizes)), np.nan)
            self.seen = np.zeros(self.table.size, dtype=bool)
        table = self.table
        combined = np.zeros(n, dtype=np.int64)
        for (codes, _), size in zip(encoded, sizes):  # (in place: a city year's temporaries were 58 MB each)
            combined *= size
            combined += codes[lo:lo + n]
            combined += 1  # code -1 (null) becomes 0
        new = (np.bincount(combined, minlength=table.size) > 0) & ~self.seen  # O(n), no sort
        for flat in np.flatnonzero(new).tolist():
            picked, rest = [], flat
            for size, choices in zip(reversed(sizes), reversed(values)):
                picked.append(choices[rest % size])
                rest //= size
            kind, referral, flagged, study_type = reversed(picked)
            minutes = self.targets.of_fields(kind or "", referral, flagged, study_type)
            table[flat] = np.nan if minutes is None else minutes
        self.seen |= new
        return table[combined]

    def values(self) -> np.ndarray:
        """Every target a row has, ascending."""
        return np.empty(0) if self.table is None else np.unique(self.table[self.seen & ~np.isnan(self.table)])


_UNSORTED: dict[int, slice] = {}
# A subgroup of under 1/NARROW_BELOW of the rows is measured at its own rows (`StudyColumns.subgroup`).
NARROW_BELOW = 4


def _slices(replication: np.ndarray) -> dict[int, slice]:
    if replication.size and np.any(np.diff(replication) < 0):
        return _UNSORTED
    # Sorted: each replication starts where the value changes (no sort of the whole column needed).
    starts = np.concatenate([[0], np.flatnonzero(np.diff(replication)) + 1]) if replication.size else np.empty(0, int)
    values = replication[starts]
    ends = [*starts[1:].tolist(), int(replication.size)]
    return {int(v): slice(int(a), int(b)) for v, a, b in zip(values.tolist(), starts.tolist(), ends)}


def _known(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The values `keep` picks that are not NaN, in order: one copy."""
    return values[keep & ~np.isnan(values)]


def study_metrics(cols: StudyColumns, keep: np.ndarray, state: np.ndarray | None = None,
                  rows: slice | np.ndarray = slice(None)) -> dict[str, float]:
    """Every study metric over the rows `rows` (one replication's, typically; all by default) that `keep`
    picks; `state` picks those of the two state-at-horizon metrics (default: `keep`). Both masks are over
    `rows`: a slice, a mask or indices (`cols.subgroup(where, rows)` gives all three)."""
    state = keep if state is None else state
    reported = cols.is_reported[rows]
    count = _count(keep)
    n_reported = _count(keep & reported)
    known = cols.target_known[rows] & keep
    n_known = _count(known)
    settled = keep & cols.before_last_day[rows]
    n_settled = _count(settled)
    unreported = state & ~reported
    nan2 = (math.nan, math.nan)
    # Each column's copy goes before the next is made (a city year's are some 55 MB each). Means and maxima
    # first: the quantiles may reorder their (already copied) input in place.
    tat = cols.tat[rows][keep]
    mean_tat, max_tat = (math.nan, math.nan) if not tat.size else (float(tat.mean()), float(tat.max()))
    p50_tat, p95_tat = nan2 if not tat.size else quantiles(tat, (0.5, 0.95))
    del tat
    mapped.let_go()  # (a large replication's pages read so far: `simulator/mapped.py`)
    wait = _known(cols.wait[rows], keep)
    mean_wait = float(wait.mean()) if wait.size else math.nan
    p95_wait = math.nan if not wait.size else quantiles(wait, (0.95,))[0]
    del wait
    mapped.let_go()
    record = _known(cols.record[rows], keep)
    mean_record = float(record.mean()) if record.size else math.nan
    p95_record = math.nan if not record.size else quantiles(record, (0.95,))[0]
    del record
    mapped.let_go()
    opened = keep & cols.opened_scored[rows]
    n_opened = _count(opened)
    return {
        "count": float(count),
        "count_per_year": count * 365.0 / cols.observed_days,
        "reported_fraction": n_reported / count if count else math.nan,
        "unfinished": float(count - n_reported),
        "reported_fraction_before_last_day": _count(settled & reported) / n_settled if n_settled else math.nan,
        "mean_tat_minutes": mean_tat,
        "p50_tat_minutes": p50_tat,
        "p95_tat_minutes": p95_tat,
        "max_tat_minutes": max_tat,
        "mean_wait_minutes": mean_wait,
        "p95_wait_minutes": p95_wait,
        "sla_met_fraction": _count(known & cols.target_met[rows]) / n_known if n_known else math.nan,
        "backlog_at_horizon": float(_count(unreported)),
        "not_ready_at_horizon": float(_count(unreported & cols.not_ready[rows])),
        "mean_record_minutes": mean_record,
        "p95_record_minutes": p95_record,
        "read_unscored_fraction": _count(opened & cols.read_unscored[rows]) / n_opened if n_opened else math.nan,
    }


def quantiles(values: np.ndarray, levels: tuple[float, ...]) -> list[float]:
    """`np.quantile(values, levels)` (its default, linear method), with numpy's arithmetic to the bit, from one
    partition at one index per level. numpy partitions at several indices at once (the two neighbours of each
    level, the minimum and the maximum), which it does some ten times slower than at one: a city year's
    summary spent a quarter of its time there. Reorders `values` in place; `values` is not empty.
    (tests/test_metrics.py holds it to numpy's own, value by value.)"""
    n = values.shape[0]
    if math.isnan(values.max()):
        return [math.nan] * len(levels)  # as numpy: a NaN anywhere makes every quantile NaN
    found: dict[float, float] = {}
    end = n  # the values before `end` are the smallest `end`: the next (lower) level is among them
    for level in sorted(set(levels), reverse=True):
        virtual = (n - 1) * level
        below = min(math.floor(virtual), n - 1)
        values[:end].partition(below)
        low = float(values[below])
        # Everything after `below` is no smaller; past the last value numpy takes the last twice.
        high = float(values[below + 1:].min()) if below + 1 < n else low
        step, weight = high - low, virtual - below
        found[level] = high - step * (1 - weight) if weight >= 0.5 else low + step * weight
        end = below + 1
    return [found[level] for level in levels]


def _count(mask: np.ndarray) -> int:
    return int(np.count_nonzero(mask))  # several times faster than a boolean array's sum


def pool_metrics(duties: pa.Table, scenario: Scenario, mask: np.ndarray) -> dict[str, float]:
    """Utilisation and overtime over the duty rows in `mask`."""
    start = np.maximum(duties.column("start").to_numpy(), scenario.warmup_minutes)
    end = np.minimum(duties.column("end").to_numpy(), scenario.horizon_minutes)
    present = duties.column("present").to_numpy(zero_copy_only=False) & mask
    available = np.clip(end - start, 0.0, None)[present].sum()
    busy = duties.column("busy_minutes").to_numpy()[present].sum()
    return {
        "utilization": busy / available if available > 0 else math.nan,
        "overtime_hours": duties.column("overtime_minutes").to_numpy()[present].sum() / 60.0,
    }


def per_replication(studies: pa.Table, duties: pa.Table, scenario: Scenario, metric: str,
                    where: Mapping[str, Any], replications: Iterable[int],
                    columns: StudyColumns | None = None, stations: pa.Table | None = None) -> np.ndarray:
    """One value of `metric` restricted to `where`, per replication (NaN where undefined).

    Pass `columns` (built once from `studies`) when asking for several metrics of one table; a station
    metric reads `stations` (stations.parquet's rows).
    """
    check_metric(metric, where)
    reps = list(replications)
    if metric in STATION_METRICS:
        column = metric.replace("station_", "mean_", 1) if metric != "station_utilization" else "utilization"
        rows = {} if stations is None else {(r["replication"], r["station"]): r[column]
                                            for r in stations.select(["replication", "station", column]).to_pylist()}
        return np.array([math.nan if rows.get((r, where["station"])) is None else rows[(r, where["station"])]
                         for r in reps], dtype=float)
    if metric in POOL_METRICS:
        rep = duties.column("replication").to_numpy()
        base = np.ones(duties.num_rows, dtype=bool)
        for key, value in where.items():
            base &= np.asarray(duties.column(key).to_pylist(), dtype=object) == value
        return np.array([pool_metrics(duties, scenario, base & (rep == r))[metric] for r in reps])
    cols = columns if columns is not None else columns_for(studies, scenario)
    values = replication_values(cols, [dict(where)], [metric], reps)
    return values[(metric, key_of(where))]


def confidence_interval(values: np.ndarray, level: float = 0.95,
                        bounds: tuple[float, float] = (-math.inf, math.inf)) -> dict[str, float | int | None]:
    """Mean over replications and a Student-t interval, clipped to `bounds` (the values the metric can
    take); no interval from fewer than two values."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = int(values.size)
    if n == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "replications": 0}
    mean = float(values.mean())
    if n < 2:
        return {"mean": mean, "ci_low": None, "ci_high": None, "replications": n}
    from scipy.special import stdtrit  # Student's t quantile, as scipy.stats.t.ppf computes it

    half = float(stdtrit(n - 1, 0.5 + level / 2.0) * values.std(ddof=1) / np.sqrt(n))
    low, high = bounds
    return {"mean": mean, "ci_low": max(mean - half, low), "ci_high": min(mean + half, high), "replications": n}


def prediction_interval(values: np.ndarray, level: float = 0.95,
                        bounds: tuple[float, float] = (-math.inf, math.inf)) -> tuple[float, float]:
    """Where one more replication's value may fall: mean +- t sd sqrt(1 + 1/n) over the replications (a
    Student-t prediction interval), clipped to `bounds`; NaN from fewer than two values. What one history
    (a log) is checked against, where a confidence interval would hold only the mean of many."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = int(values.size)
    if n < 2:
        return math.nan, math.nan
    from scipy.special import stdtrit

    mean = float(values.mean())
    half = float(stdtrit(n - 1, 0.5 + level / 2.0) * values.std(ddof=1) * math.sqrt(1.0 + 1.0 / n))
    return max(mean - half, bounds[0]), min(mean + half, bounds[1])


class Distinct(Protocol):
    """What subgroups are made from: a run's columns, or its replications' summaries."""

    def distinct(self, split: str) -> list[Any]: ...

    def has(self, split: str) -> bool: ...


def subgroups(cols: Distinct, splits: Iterable[str] = SPLITS, informative: bool = False) -> list[dict[str, Any]]:
    """All items, then one subgroup per value present of each split; `informative` leaves out splits with a
    single value (their one subgroup is all items again)."""
    groups: list[dict[str, Any]] = [{}]
    for split in splits:
        values = cols.distinct(split) if split not in OPTIONAL_SPLITS or cols.has(split) else []
        if (not informative and split not in OPTIONAL_SPLITS) or len(values) > 1:
            groups += [{split: value} for value in values]
    return groups


def replication_values(cols: StudyColumns, groups: Iterable[Mapping[str, Any]], metrics: Iterable[str],
                       replications: Iterable[int]) -> dict[tuple[str, tuple], np.ndarray]:
    """Per (metric, subgroup as sorted items), the metric's value in each replication (NaN where undefined)."""
    reps = list(replications)
    metrics = list(metrics)
    out = {}
    for where in groups:
        per_rep = [study_metrics(cols, *cols.subgroup(where, rows)) for rows in map(cols.rows_of, reps)]
        for metric in metrics:
            out[(metric, key_of(where))] = np.array([p[metric] for p in per_rep], dtype=float)
    return out


def columns_for(table: pa.Table, scenario: Scenario) -> StudyColumns:
    """The StudyColumns of a table (a pass over every row: callers that ask about one table several times
    build it once and pass it on)."""
    return StudyColumns(table, scenario)
