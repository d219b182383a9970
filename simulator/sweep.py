"""Sweeps: a scenario over a grid of settings x replications, on local processes or a Dask cluster.

Each run (grid point x replication) is a pure function of (scenario with the point's overrides, seed,
replication), so every point sees the same studies (common random numbers) and any executor gives the
same numbers. Each finished run is written at once, atomically, as a small Parquet file of its metrics;
a sweep started again over the same directory computes only the runs that are missing, and the final
table is the same as an uninterrupted sweep's.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml
from scipy import stats

from .errors import ScenarioError
from .experiment import run_replication
from .prepare import parse_scenario
from .metrics import STUDY_METRICS, StudyColumns, pool_metrics, replication_values, subgroups
from .output import atomic_bytes, atomic_file
from .scenario import Scenario

__all__ = ["GridPoint", "parse_grid", "read_grid_file", "plan", "run_sweep", "SweepResult", "point_key"]

Progress = Callable[[int, int, int], None]  # (done, failed, total)


@dataclass(frozen=True)
class GridPoint:
    """One setting of the grid: dotted-path overrides, and a stable name for files."""

    overrides: tuple[tuple[str, Any], ...]

    @property
    def key(self) -> str:
        return point_key(self.overrides)

    def as_sets(self) -> list[str]:
        return [f"{path}={json.dumps(value)}" for path, value in self.overrides]


def point_key(overrides: Iterable[tuple[str, Any]]) -> str:
    text = json.dumps(sorted((k, v) for k, v in overrides), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _axis(spec: str) -> tuple[str, list[Any]]:
    """'path=a,b,c' (values parsed as YAML) or 'path=lo:hi' (whole numbers, both ends included)."""
    path, sep, values = spec.partition("=")
    if not sep or not path.strip() or not values.strip():
        raise ScenarioError("--grid", [(spec, "write a grid axis as key.path=v1,v2,... or key.path=lo:hi")])
    path = path.strip()
    lo, colon, hi = values.partition(":")
    if colon and lo.strip().lstrip("-").isdigit() and hi.strip().lstrip("-").isdigit():
        first, last = int(lo), int(hi)
        if last < first:
            raise ScenarioError("--grid", [(path, f"range {values} is empty")])
        return path, list(range(first, last + 1))
    return path, [yaml.safe_load(v.strip()) for v in values.split(",")]


def parse_grid(specs: Iterable[str]) -> list[GridPoint]:
    """The cartesian product of the axes, in the order given."""
    axes = [_axis(spec) for spec in specs]
    paths = [path for path, _ in axes]
    if len(set(paths)) != len(paths):
        raise ScenarioError("--grid", [("", "each key may be one axis only")])
    return [GridPoint(tuple(zip(paths, combo))) for combo in itertools.product(*(v for _, v in axes))]


def read_grid_file(path: Path) -> list[GridPoint]:
    """A grid that is not cartesian: a YAML list of mappings {key.path: value}."""
    from .loading import read_yaml

    data = read_yaml(path)
    if not isinstance(data, list) or not all(isinstance(p, Mapping) and p for p in data):
        raise ScenarioError(str(path), [("", "a grid file is a list of mappings {key.path: value}, one per point")])
    return [GridPoint(tuple((str(k), v) for k, v in point.items())) for point in data]


def plan(data: Mapping[str, Any], source: str, points: list[GridPoint]) -> dict[str, Scenario]:
    """Every point's scenario, validated before anything runs (a bad value is bad input, named)."""
    scenarios = {}
    for point in points:
        try:
            scenarios[point.key] = parse_scenario(data, source, [f"{k}={json.dumps(v)}" for k, v in point.overrides])
        except ScenarioError as exc:
            where = ", ".join(f"{k}={v}" for k, v in point.overrides)
            raise ScenarioError(f"{source} at grid point {where}", exc.problems) from None
    return scenarios


# One run -----------------------------------------------------------------------------------------------
def run_metrics(scenario: Scenario, replication: int, seed: int) -> pa.Table:
    """Every metric of one replication, for all items and each subgroup (long format)."""
    result = run_replication(scenario, replication, seed)
    cols = StudyColumns(result.studies, scenario)
    rows: dict[str, list] = {"metric": [], "split": [], "value_of_split": [], "value": []}
    for (metric, where), values in replication_values(cols, subgroups(cols), STUDY_METRICS, [replication]).items():
        split, value = where[0] if where else ("", "")
        rows["metric"].append(metric)
        rows["split"].append(split)
        rows["value_of_split"].append(str(value).lower() if isinstance(value, bool) else str(value))
        rows["value"].append(float(values[0]))
    pools = np.asarray(result.duties.column("pool").to_pylist(), dtype=object)
    for pool in [None, *scenario.pools]:
        mask = np.ones(result.duties.num_rows, dtype=bool) if pool is None else pools == pool
        for metric, value in pool_metrics(result.duties, scenario, mask).items():
            rows["metric"].append(metric)
            rows["split"].append("" if pool is None else "pool")
            rows["value_of_split"].append("" if pool is None else pool)
            rows["value"].append(float(value))
    return pa.table(rows)


def _chunk(args: tuple[Scenario, list[int], int]) -> list[tuple[int, bytes | None, str | None]]:
    """What an executor runs: some replications of one point, each caught on its own, so a run that raises
    loses nothing else. Returns (replication, Parquet bytes of its metrics, or None and the error)."""
    scenario, replications, seed = args
    out: list[tuple[int, bytes | None, str | None]] = []
    for replication in replications:
        try:
            sink = pa.BufferOutputStream()
            pq.write_table(run_metrics(scenario, replication, seed), sink)
            out.append((replication, sink.getvalue().to_pybytes(), None))
        except Exception as exc:
            out.append((replication, None, f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exception(exc))[-2000:]))
    return out


def _chunks(todo: list[tuple[GridPoint, int]], size: int) -> list[tuple[GridPoint, list[int]]]:
    """Consecutive replications of one point, at most `size` together: one task, one pickled scenario."""
    grouped: list[tuple[GridPoint, list[int]]] = []
    for point, replication in todo:
        if grouped and grouped[-1][0] is point and len(grouped[-1][1]) < size:
            grouped[-1][1].append(replication)
        else:
            grouped.append((point, [replication]))
    return grouped


# The sweep ---------------------------------------------------------------------------------------------
@dataclass
class SweepResult:
    directory: Path
    computed: int  # runs computed by this call
    reused: int  # runs found done by an earlier call
    failures: list[dict[str, Any]]
    results: pa.Table | None


def _spec(data: Mapping[str, Any], points: list[GridPoint], replications: int, seed: int) -> dict[str, Any]:
    return {"scenario": json.loads(json.dumps(data, default=str)), "replications": replications, "seed": seed,
            "points": [{"key": p.key, "overrides": dict(p.overrides)} for p in points]}


def run_sweep(data: Mapping[str, Any], source: str, points: list[GridPoint], replications: int, out: Path,
              seed: int | None = None, executor: Executor | None = None, workers: int | None = None,
              progress: Progress | None = None, retries: int = 2) -> SweepResult:
    """Run every (point, replication) not yet in `out`; then write results.parquet and summary.parquet.

    `executor`: any concurrent.futures executor (a Dask client's `get_executor()` for a cluster); by
    default a local process pool on `workers` processes (all cores). A run that raises is recorded in
    failures.json with its grid point and does not stop the others; a local pool whose worker died is
    started again and the missing runs retried (`retries` times).
    """
    out = Path(out)
    scenarios = plan(data, source, points)
    seed = next(iter(scenarios.values())).seed if seed is None else seed
    spec = _spec(data, points, replications, seed)
    spec_file = out / "sweep.json"
    if spec_file.exists():
        if json.loads(spec_file.read_text()) != spec:
            raise ScenarioError(str(out), [("", "holds a different sweep (scenario, grid, replications or seed); "
                                            "choose another --out or delete it")])
    else:
        atomic_file(spec_file, json.dumps(spec, indent=1))
    runs_dir = out / "runs"
    todo = [(p, r) for p in points for r in range(replications) if not (runs_dir / p.key / f"r{r:04d}.parquet").exists()]
    total = len(points) * replications
    reused = total - len(todo)
    failures: list[dict[str, Any]] = []
    fresh: dict[tuple[str, int], pa.Table] = {}  # runs computed now: no need to read their files back
    done = reused
    if progress:
        progress(done, 0, total)
    attempt = 0
    while todo:
        own = executor is None
        pool = executor or ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1)
        size = 4 if not own else max(1, min(8, len(todo) // (4 * (workers or os.cpu_count() or 1))))
        futures: dict[Future, tuple[GridPoint, list[int]]] = {
            pool.submit(_chunk, (scenarios[p.key], reps, seed)): (p, reps) for p, reps in _chunks(todo, size)}
        retry: list[tuple[GridPoint, int]] = []
        try:
            for future in as_completed(futures):
                point, replications_of_chunk = futures[future]
                try:
                    finished = future.result()
                except BrokenProcessPool:  # a worker died: the chunk is run again
                    retry += [(point, r) for r in replications_of_chunk]
                    continue
                except Exception as exc:  # the task itself failed on the executor
                    finished = [(r, None, f"{type(exc).__name__}: {exc}") for r in replications_of_chunk]
                for replication, payload, error in finished:
                    if payload is None:
                        message, _, trace = (error or "").partition("\n")
                        failures.append({"point": dict(point.overrides), "replication": replication,
                                         "error": message, "traceback": trace})
                        continue
                    atomic_bytes(runs_dir / point.key / f"r{replication:04d}.parquet", payload)
                    fresh[(point.key, replication)] = pq.read_table(pa.BufferReader(payload))
                    done += 1
                if progress:
                    progress(done, len(failures), total)
        finally:
            if own:
                pool.shutdown(cancel_futures=True)
        attempt += 1
        if retry and attempt > retries:
            failures += [{"point": dict(p.overrides), "replication": r, "error": "worker died; retries exhausted"}
                         for p, r in retry]
            retry = []
        todo = retry
    if failures:
        atomic_file(out / "failures.json", json.dumps(failures, indent=1))
    elif (out / "failures.json").exists():
        (out / "failures.json").unlink()
    results = collect(out, points, replications, fresh)
    return SweepResult(out, total - reused - len(failures), reused, failures, results)


def collect(out: Path, points: list[GridPoint], replications: int,
            known: Mapping[tuple[str, int], pa.Table] | None = None) -> pa.Table | None:
    """results.parquet (point x replication x metric x subgroup) and summary.parquet (means and 95% CIs)."""
    paths = sorted({path for p in points for path, _ in p.overrides})
    parts = []
    for point in points:
        values = dict(point.overrides)
        for r in range(replications):
            file = out / "runs" / point.key / f"r{r:04d}.parquet"
            table = (known or {}).get((point.key, r))
            if table is None:
                if not file.exists():
                    continue
                table = pq.read_table(file)
            columns = {"point": pa.array([point.key] * table.num_rows)}
            for path in paths:
                columns[path] = pa.array([_shown(values.get(path))] * table.num_rows)
            columns["replication"] = pa.array(np.full(table.num_rows, r, dtype=np.int32))
            parts.append(pa.table({**columns, **{c: table.column(c) for c in table.column_names}}))
    if not parts:
        return None
    results = pa.concat_tables(parts)
    _write_table(results, out / "results.parquet")
    _write_table(summarise(results, paths), out / "summary.parquet")
    return results


def _shown(value: Any) -> str:
    """A grid value as a column cell: strings as they are, anything else as JSON (2, true, [1, 2])."""
    return value if isinstance(value, str) else json.dumps(value)


def summarise(results: pa.Table, paths: list[str]) -> pa.Table:
    """Mean and 95% Student-t CI over replications per grid point, metric and subgroup."""
    keys = ["point", *paths, "metric", "split", "value_of_split"]
    finite = results.filter(pc.is_finite(results.column("value")))
    grouped = finite.group_by(keys, use_threads=False).aggregate(
        [("value", "mean"), ("value", "stddev", pc.VarianceOptions(ddof=1)), ("value", "count")])
    n = grouped.column("value_count").to_numpy()
    mean = grouped.column("value_mean").to_numpy()
    sd = grouped.column("value_stddev").to_numpy(zero_copy_only=False).astype(float)
    with np.errstate(invalid="ignore"):
        half = np.where(n > 1, stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n), np.nan)
    return pa.table({**{k: grouped.column(k) for k in keys}, "mean": mean,
                     "ci_low": pa.array(mean - half, mask=np.isnan(half)),
                     "ci_high": pa.array(mean + half, mask=np.isnan(half)), "replications": n})


def _write_table(table: pa.Table, target: Path) -> None:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    atomic_bytes(target, sink.getvalue().to_pybytes())

