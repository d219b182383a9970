"""What a run's summary needs of each replication, computed where the replication ran.

Every figure of summary.json, of the high-risk story and of the printed summary is a function of one
replication's rows at a time (a metric's value in a subgroup, the targets of a group's items, the
overloads seen), then combined over replications: means and CIs, the subgroups shown (the values present
in any replication), the most common target. So a worker sends its replication's `ReplicationSummary`
(a few kilobytes) and need not send its rows, and the parent's memory grows with workers, not with
replications. A run whose tables are at hand is summarised the same way (`Summaries.of_table`), so there
is one code path.
"""
from __future__ import annotations

import tempfile
from contextlib import suppress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import mapped
from .metrics import (OPTIONAL_SPLITS, POOL_METRICS, RANGE, SPLITS, STUDY_METRICS, Key, StudyColumns, columns_for,
                      confidence_interval, key_of, has_value, pool_metrics, study_metrics, subgroups)
from .overload import Overload, Seen, combine, seen_in
from .scenario import Scenario

__all__ = ["Summary", "ReplicationSummary", "Summaries", "summarise", "summarise_replication", "read_only", "READ",
           "KeptColumns", "SPILL", "Key", "summary_rows", "key_of"]



class Summary:
    """A run's summary: every metric of docs/metrics.md for all work and for each subgroup, as the mean over
    replications with its 95% CI (`summary.json`'s `metrics`), looked up by metric and subgroup. The one
    form every view reads: the printed summary, the story, report.html, the dashboard, compare."""

    def __init__(self, rows: Iterable[Mapping[str, Any]] = ()) -> None:
        self._rows = [dict(row) for row in rows]
        self._index = {(row["metric"], key_of(row["where"])): row for row in self._rows}

    def get(self, metric: str, where: Mapping[str, Any] | None = None, /, **split: Any) -> dict[str, Any] | None:
        """The row of `metric` in the subgroup `where` (or given as keywords: `get("count", kind="primary")`):
        mean, ci_low, ci_high, replications; None where the run has no such subgroup."""
        return self._index.get((metric, key_of({**(where or {}), **split})))

    def mean(self, metric: str, where: Mapping[str, Any] | None = None, /, **split: Any) -> float | None:
        row = self.get(metric, where, **split)
        return None if row is None else row["mean"]

    def subgroups(self, split: str, metric: str = "count") -> list[Any]:
        """The values of `split` the summary has a subgroup for, in its order."""
        return [row["where"][split] for row in self._rows if row["metric"] == metric and list(row["where"]) == [split]]

    def __iter__(self):
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Summary) and self._rows == other._rows

    def to_json(self) -> list[dict[str, Any]]:
        return [dict(row, where=dict(row["where"])) for row in self._rows]

    @classmethod
    def from_json(cls, rows: Iterable[Mapping[str, Any]]) -> "Summary":
        return cls(rows)


@dataclass
class ReplicationSummary:
    replication: int
    metrics: dict[Key, dict[str, float]]  # every study metric of all work and of each split value shown here
    empty: dict[str, float]  # the study metrics of a subgroup with no row here
    distinct: dict[str, list]  # per split the table has: its values among measured work and work left over
    targets: dict[Key, dict[float, int]]  # per subgroup: its measured items' targets and how many, by first item
    overloads: Seen


# The studies columns a replication's summary reads: what a run keeps of a table it has handed to a sink.
READ = ("replication", "in_warmup", "arrived_at", "ready_at", "read_start", "reported_at", "wait_minutes",
        "recorded_at", "of_study", "ai_score", "read_unscored", *SPLITS)


def summarise(studies: Any, duties: pa.Table, scenario: Scenario, replication: int) -> ReplicationSummary:
    """The summary of a replication's own tables (its studies as a table, or the columns kept of it:
    `KeptColumns.columns`). Its overloads are found first, before the metrics' columns are made: the two passes'
    copies of a city year's columns are not held at once."""
    seen = seen_in(studies, duties, scenario, replication)
    return summarise_replication(StudyColumns(studies, scenario), replication, studies, duties, scenario, seen)


def read_only(studies: pa.Table) -> pa.Table:
    """The columns of a studies table its summary reads, in the forms it reads them: the rest can go once
    written."""
    kept = studies.select([name for name in studies.column_names if name in READ])
    for at, name in enumerate(kept.column_names):
        kept = kept.set_column(at, name, _compact(name, kept.column(name)))
    return kept


def _compact(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column the summary reads in the form it reads it. `of_study` and `ai_score` are read only for
    whether they hold a value (a study's own row, a scored study), so each is kept as that (a city year's
    study ids are 45 MB, its scores 58); categories in a byte where their values are few (Arrow gives the
    kinds and study types four)."""
    if name in ("of_study", "ai_score"):
        return pc.if_else(has_value(column), pa.scalar(True), pa.scalar(None, pa.bool_()))
    if pa.types.is_dictionary(column.type) and column.type.index_type.bit_width > 8 \
            and all(len(chunk.dictionary) < 128 for chunk in column.chunks):
        return column.cast(pa.dictionary(pa.int8(), column.type.value_type))
    return column


# Studies from which a replication keeps its summary's columns in a file, not in memory: five city years'
# (35 M studies, 2.1 GB of them) go to the file; a city year's (7 M, 0.4 GB) stay, as reading them back would
# cost it 2-3 s of some 30 (measured).
SPILL = 10_000_000


class KeptColumns:
    """The studies columns a replication's summary reads, kept as its rows go by (each block in
    `read_only`'s forms): in memory, or with `spill` in an unnamed temporary file, gone when closed or when
    the process ends however it ends, read back one column at a time as the summary asks for it
    (`columns`): what the summary then holds is the arrays it makes, not the rows' columns too (59 bytes a
    row)."""

    def __init__(self, spill: bool = False) -> None:
        self.spill = spill
        self._kept: list[pa.Table] = []
        self._file: Any = None
        self._writer: pq.ParquetWriter | None = None

    def __call__(self, block: pa.Table) -> None:
        kept = read_only(block)
        if not self.spill:
            self._kept.append(kept)
            return
        with mapped.room():  # (a full temporary directory named as such)
            if self._writer is None:
                self._file = tempfile.TemporaryFile()
                # Written and read once, here: no compression, no statistics, dictionaries only where they are.
                dictionaries = [field.name for field in kept.schema if pa.types.is_dictionary(field.type)]
                self._writer = pq.ParquetWriter(self._file, kept.schema, compression="none",
                                                use_dictionary=dictionaries, write_statistics=False)
            self._writer.write_table(kept)

    def columns(self) -> Any:
        """What was kept, as a table (in memory) or to be read a column at a time (the file written to the
        end)."""
        if not self.spill:
            return pa.concat_tables(self._kept)
        if self._writer is not None:
            with mapped.room():
                self._writer.close()
            self._writer = None
        return _ReadBack(pq.ParquetFile(self._file))

    def __enter__(self) -> "KeptColumns":
        return self

    def __exit__(self, *exc: object) -> None:
        self._kept = []
        if self._writer is not None:  # (a write that failed: the writer closed here, its errors no more news)
            with suppress(OSError):
                self._writer.close()
            self._writer = None
        if self._file is not None:
            self._file.close()


class _ReadBack:
    """The kept columns as the summary reads a table: `column`, `column_names`, `num_rows`."""

    def __init__(self, file: pq.ParquetFile) -> None:
        self._file = file
        self.num_rows = file.metadata.num_rows
        self.column_names = file.schema_arrow.names

    def column(self, name: str) -> pa.ChunkedArray:
        if name not in self.column_names:
            raise KeyError(name)
        return self._file.read(columns=[name]).column(0)

    def row_groups(self, columns: list[str] | None = None) -> Iterator[pa.Table]:
        """The columns (None: all) a row group at a time (`mapped.parts`)."""
        for group in range(self._file.num_row_groups):
            yield self._file.read_row_group(group, columns=columns)


def summarise_replication(cols: StudyColumns, replication: int, studies: pa.Table, duties: pa.Table,
                          scenario: Scenario, seen: Seen | None = None) -> ReplicationSummary:
    """One replication's summary from the StudyColumns of a table that holds it (and maybe others); `seen`:
    its overloads, if found already (`overload.seen_in`)."""
    rows = cols.rows_of(replication)
    wanted: list[dict[str, Any]] = [{}]
    distinct: dict[str, list] = {}
    counted = cols.mask({}, rows=rows) | ~cols.is_reported[rows]  # measured work, and work left over at the horizon
    for split in SPLITS:
        if split in OPTIONAL_SPLITS and not cols.has(split):
            continue
        codes, lookup = cols.encoded(split)
        if not lookup:  # a numeric column: no values to split by
            distinct[split] = []
            continue
        # Codes run from -1 (null) to the lookup's size: counted, not sorted.
        shown = np.bincount(np.add(codes[rows][counted], 1, dtype=np.int32), minlength=len(lookup) + 1)
        distinct[split] = sorted((v for v, c in lookup.items() if shown[c + 1]), key=str)
        # Any other value's figures here are the empty ones: its only rows, if any, arrived in the warm-up and
        # were reported, which no metric counts.
        wanted += [{split: v} for v in distinct[split]]
    metrics, targets = {}, {}
    for where in wanted:
        measured, group, at = cols.subgroup(where, rows)
        metrics[key_of(where)] = study_metrics(cols, measured, group, at)
        targets[key_of(where)] = _tally(cols.target[at][measured], cols.target_values)
        mapped.let_go()
    nothing = np.zeros(0, dtype=bool)  # a subgroup with no row: its figures over no rows at all
    empty = study_metrics(cols, nothing, nothing, slice(0, 0))
    if seen is None:
        studies = studies.slice(rows.start, rows.stop - rows.start) if isinstance(rows, slice) else studies.filter(rows)
        seen = seen_in(studies, duties, scenario, replication)
    return ReplicationSummary(replication, metrics, empty, distinct, targets, seen)


def _tally(targets: np.ndarray, possible: np.ndarray) -> dict[float, int]:
    """How many items have each target, in the order of each target's first item (as a Counter counts).
    `possible`: the few targets any row can have, so each is counted by a comparison, not a sort."""
    found = []
    for value in possible.tolist():
        hits = targets == value
        count = int(np.count_nonzero(hits))
        if count:
            found.append((int(np.argmax(hits)), value, count))
    return {value: count for _, value, count in sorted(found)}


class Summaries:
    """A run's replication summaries, combined as the metrics of docs/metrics.md combine them."""

    def __init__(self, parts: Iterable[ReplicationSummary]) -> None:
        self.parts = {p.replication: p for p in parts}

    @classmethod
    def of_table(cls, studies: pa.Table, duties: pa.Table, scenario: Scenario,
                 replications: Iterable[int]) -> "Summaries":
        cols = columns_for(studies, scenario)
        return cls(summarise_replication(cols, r, studies, duties, scenario) for r in replications)

    def has(self, split: str) -> bool:
        return any(split in p.distinct for p in self.parts.values())

    def distinct(self, split: str) -> list[Any]:
        """The values of a split present in any replication (as `StudyColumns.distinct` over all rows)."""
        return sorted({v for p in self.parts.values() for v in p.distinct.get(split, [])}, key=str)

    def values(self, groups: Iterable[Mapping[str, Any]], metrics: Iterable[str],
               replications: Iterable[int]) -> dict[tuple[str, Key], np.ndarray]:
        """Per (metric, subgroup), its value in each replication, as `metrics.replication_values` gives it.
        Subgroups are all work or one value of one split."""
        reps, metrics = list(replications), list(metrics)
        out = {}
        for where in groups:
            key = key_of(where)
            if len(key) > 1:
                raise ValueError(f"a replication summary holds subgroups of one split, not {dict(where)}")
            per_rep = [self._metrics(r, key) for r in reps]
            for metric in metrics:
                out[(metric, key)] = np.array([p[metric] for p in per_rep], dtype=float)
        return out

    def _metrics(self, replication: int, key: Key) -> dict[str, float]:
        part = self.parts[replication]
        return part.metrics.get(key, part.empty)

    def targets(self, where: Mapping[str, Any]) -> dict[float, int]:
        """The targets of a subgroup's measured items over every replication, and how many have each."""
        total: dict[float, int] = {}
        for replication in sorted(self.parts):
            for target, count in self.parts[replication].targets.get(key_of(where), {}).items():
                total[target] = total.get(target, 0) + count
        return total

    def typical_target(self, where: Mapping[str, Any]) -> float | None:
        """The target most of a group's items have (the strictest of those, on a tie), or None."""
        counts = self.targets(where)
        return max(counts.items(), key=lambda tc: (tc[1], -tc[0]))[0] if counts else None

    def overloads(self, scenario: Scenario, replications: Iterable[int]) -> list[Overload]:
        reps = list(replications)
        return combine(scenario, [self.parts[r].overloads for r in reps], len(reps))


def summary_rows(studies: "pa.Table | Summaries", duties: pa.Table, scenario: Scenario,
                 replications: int | Iterable[int]) -> Summary:
    """Every metric for all items and per subgroup (each value of each split), with CIs over replications,
    from a studies table or from the replications' summaries (`simulator.summaries`).

    The all-items rows are there even when nothing arrived (a count of 0 says so)."""
    reps = list(range(replications)) if isinstance(replications, int) else list(replications)
    summaries = studies if isinstance(studies, Summaries) else Summaries.of_table(studies, duties, scenario, reps)
    rows = []
    # Every subgroup shown has a row in some replication among the measured work or the work left over,
    # so none is empty throughout.
    groups = subgroups(summaries)
    values = summaries.values(groups, STUDY_METRICS, reps)
    for where in groups:
        for metric in STUDY_METRICS:
            rows.append({"metric": metric, "where": where,
                         **confidence_interval(values[(metric, key_of(where))], bounds=RANGE[metric])})
    pools = np.asarray(duties.column("pool").to_pylist(), dtype=object)
    rep = duties.column("replication").to_numpy()
    for where in [{}] + [{"pool": p} for p in scenario.pools]:
        base = np.ones(duties.num_rows, dtype=bool) if not where else pools == where["pool"]
        per_rep = [pool_metrics(duties, scenario, base & (rep == r)) for r in reps]
        for metric in POOL_METRICS:
            pool_values = np.array([p[metric] for p in per_rep], dtype=float)
            rows.append({"metric": metric, "where": where, **confidence_interval(pool_values, bounds=RANGE[metric])})
    return Summary(rows)
