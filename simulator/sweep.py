"""Sweeps: a scenario over a grid of settings x replications, on local processes or a Dask cluster.

Each run (grid point x replication) is a pure function of (scenario with the point's overrides, seed,
replication), so every point sees the same studies (common random numbers) and any executor gives the
same numbers. Each finished run is written at once, atomically, as a small Parquet file of its metrics;
a sweep started again over the same directory computes only the runs that are missing (or whose file
cannot be read), and the final table is the same as an uninterrupted sweep's.

Failures stay where they happen: a run that raises, hangs past `run_timeout` or kills its worker process is
recorded with its point and replication, and every other run finishes. Locally, at most one chunk per
worker is in flight; when a worker dies, the chunks that were in flight are run again one run at a time,
alone, so the run that kills its worker is found and fails alone.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import ScenarioError
from .experiment import run_replication
from .files import MARKER, claim_directory, write_file
from .loading import scenario_hash
from .metrics import STUDY_METRICS, StudyColumns, pool_metrics, replication_values, subgroups
from .prepare import parse_scenario
from .safe_yaml import load_text
from .scenario import Scenario
from .workers import LocalPool, for_runs

__all__ = ["GridPoint", "parse_grid", "read_grid_file", "plan", "run_sweep", "SweepResult", "point_key",
           "SchedulerLost", "SWEEP"]

Progress = Callable[[int, int, int], None]  # (done, failed, total)
SWEEP = "sweep"  # the kind of output folder, in its marker
MAX_POINTS = 1_000  # grid points of a sweep, unless --allow-large
LARGEST_GRID = 100_000  # grid points, even with --allow-large


@dataclass(frozen=True)
class GridPoint:
    """One setting of the grid: dotted-path overrides, and a stable name for files."""

    overrides: tuple[tuple[str, Any], ...]

    @property
    def key(self) -> str:
        return point_key(self.overrides)

    def as_sets(self) -> list[str]:
        return [f"{path}={json.dumps(value)}" for path, value in self.overrides]

    def __str__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.overrides)


def point_key(overrides: Iterable[tuple[str, Any]]) -> str:
    text = json.dumps(sorted((k, v) for k, v in overrides), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _axis(spec: str) -> tuple[str, list[Any]]:
    """'path=a,b,c' (values read as YAML) or 'path=lo:hi' (whole numbers, both ends included)."""
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
    return path, [load_text(v.strip(), f"--grid {spec}", path) for v in values.split(",")]


def parse_grid(specs: Iterable[str]) -> list[GridPoint]:
    """The cartesian product of the axes, in the order given."""
    axes = [_axis(spec) for spec in specs]
    paths = [path for path, _ in axes]
    if len(set(paths)) != len(paths):
        raise ScenarioError("--grid", [("", "each key may be one axis only")])
    size = math.prod(len(v) for _, v in axes)
    if size > LARGEST_GRID:  # refused before the product is built
        raise ScenarioError("--grid", [("", f"{size:,} points: over the most a sweep can hold ({LARGEST_GRID:,})")])
    return [GridPoint(tuple(zip(paths, combo))) for combo in itertools.product(*(v for _, v in axes))]


def read_grid_file(path: Path) -> list[GridPoint]:
    """A grid that is not cartesian: a YAML list of mappings {key.path: value}."""
    from .loading import read_yaml

    data = read_yaml(path)
    if not isinstance(data, list) or not all(isinstance(p, Mapping) and p for p in data):
        raise ScenarioError(str(path), [("", "a grid file is a list of mappings {key.path: value}, one per point")])
    return [GridPoint(tuple((str(k), v) for k, v in point.items())) for point in data]


@dataclass
class Plan:
    """The distinct points of a grid with their checked scenarios, and the points given twice."""

    points: list[GridPoint]
    scenarios: dict[str, Scenario]
    duplicates: list[tuple[GridPoint, GridPoint]] = field(default_factory=list)  # (repeated, same as)


def plan(data: Mapping[str, Any], source: str, points: list[GridPoint], allow_large: bool = False) -> Plan:
    """Every point's scenario, checked before anything runs (a bad value, or a policy that cannot be used,
    is bad input naming the point). Points that come to the same scenario (a value given twice, or on
    --grid and in --grid-file) are computed once: the first stands for them."""
    if len(points) > (LARGEST_GRID if allow_large else MAX_POINTS):
        raise ScenarioError(source, [("", f"a grid of {len(points):,} points: over the limit of "
                                      f"{MAX_POINTS:,} (docs/contract.md, Limits); each point is checked and run "
                                      "(pass --allow-large to run it anyway)")])
    kept: list[GridPoint] = []
    scenarios: dict[str, Scenario] = {}
    seen: dict[str, GridPoint] = {}
    duplicates = []
    for point in points:
        try:
            # Points are compared, not validated: the file's expectations are left out (`prepare`).
            scenario = parse_scenario(data, source, point.as_sets(), allow_large=allow_large, expectations=False)
        except ScenarioError as exc:
            raise ScenarioError(f"{source} at grid point {point}", exc.problems) from None
        fingerprint = scenario_hash(scenario)
        if fingerprint in seen:
            duplicates.append((point, seen[fingerprint]))
            continue
        seen[fingerprint] = point
        kept.append(point)
        scenarios[point.key] = scenario
    return Plan(kept, scenarios, duplicates)


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


# The sweep ---------------------------------------------------------------------------------------------
class SchedulerLost(RuntimeError):
    """The Dask scheduler went away mid-sweep; what finished is kept."""

    def __init__(self, kept: int, missing: int) -> None:
        self.kept, self.missing = kept, missing
        super().__init__(f"the Dask scheduler went away: {kept} run(s) kept, {missing} to do; "
                         "run the same command again (with a working --cluster) to finish")


@dataclass
class SweepResult:
    directory: Path
    computed: int  # runs computed by this call
    reused: int  # runs found done by an earlier call
    failures: list[dict[str, Any]]
    results: pa.Table | None
    duplicates: list[tuple[GridPoint, GridPoint]] = field(default_factory=list)
    unreadable: int = 0  # run files of an earlier call that could not be read: computed again


def _spec(data: Mapping[str, Any], points: list[GridPoint], replications: int, seed: int) -> dict[str, Any]:
    return {"scenario": json.loads(json.dumps(data, default=str)), "replications": replications, "seed": seed,
            "points": [{"key": p.key, "overrides": dict(p.overrides)} for p in points]}


def claim_sweep(out: Path, replace: bool = False) -> None:
    """A sweep folder is new, empty, or a sweep's by its marker (`files.claim_directory`, the rule of every
    output folder); then it is marked as the sweep's before anything is written into it."""
    claim_directory(out, SWEEP, replace)
    if not (Path(out) / MARKER).is_file():
        write_file(Path(out) / MARKER, json.dumps({"written_by": "radsim", "kind": SWEEP}).encode(), lambda p: True)


def _readable(path: Path) -> bool:
    try:
        return pq.read_metadata(path).num_rows > 0
    except Exception:
        return False


def run_sweep(data: Mapping[str, Any], source: str, points: list[GridPoint], replications: int, out: Path,
              seed: int | None = None, executor: Executor | None = None, workers: int | None = None,
              progress: Progress | None = None, run_timeout: float | None = None,
              allow_large: bool = False, planned: Plan | None = None, replace: bool = False) -> SweepResult:
    """Run every (point, replication) not yet in `out`; then write results.parquet and summary.parquet.

    `executor`: any concurrent.futures executor (a Dask client's `get_executor()` for a cluster); by
    default local processes on `workers` processes (all cores). A run that raises, exceeds `run_timeout`
    seconds or kills its worker is recorded in failures.json with its grid point; the others finish.
    """
    out = Path(out)
    planned = planned or plan(data, source, points, allow_large)
    points, scenarios = planned.points, planned.scenarios
    seed = next(iter(scenarios.values())).seed if seed is None else seed
    claim_sweep(out, replace)
    spec = _spec(data, points, replications, seed)
    spec_file = out / "sweep.json"
    if spec_file.exists():
        if json.loads(spec_file.read_text()) != spec:
            raise ScenarioError(str(out), [("", "holds a different sweep (scenario, grid, replications or seed); "
                                            "choose another --out or delete it")])
    else:
        write_file(spec_file, json.dumps(spec, indent=1).encode())
    runs_dir = out / "runs"
    todo, unreadable = [], 0
    for p in points:
        for r in range(replications):
            file = runs_dir / p.key / f"r{r:04d}.parquet"
            if not file.exists():
                todo.append((p, r))
            elif not _readable(file):
                unreadable += 1
                todo.append((p, r))
    total = len(points) * replications
    reused = total - len(todo)
    state = _State(out, progress, total, reused)
    if executor is None:
        _run_locally(state, todo, scenarios, seed, for_runs(workers, scenarios.values(), len(todo)), run_timeout)
    else:
        _run_on(state, executor, todo, scenarios, seed, run_timeout)
    if state.failures:
        write_file(out / "failures.json", json.dumps(state.failures, indent=1).encode(), lambda p: True)
    elif (out / "failures.json").exists():
        (out / "failures.json").unlink()
    results = collect(out, points, replications, state.fresh)
    return SweepResult(out, total - reused - len(state.failures), reused, state.failures, results,
                       planned.duplicates, unreadable)


class _State:
    """What a sweep has done so far: finished runs are written as they arrive."""

    def __init__(self, out: Path, progress: Progress | None, total: int, done: int) -> None:
        self.out, self.progress, self.total, self.done = out, progress, total, done
        self.failures: list[dict[str, Any]] = []
        self.fresh: dict[tuple[str, int], pa.Table] = {}  # runs computed now: no need to read their files back
        self.tell()

    def tell(self) -> None:
        if self.progress:
            self.progress(self.done, len(self.failures), self.total)

    def finished(self, point: GridPoint, results: list[tuple[int, bytes | None, str | None]]) -> None:
        for replication, payload, error in results:
            if payload is None:
                message, _, trace = (error or "").partition("\n")
                self.fail(point, replication, message, trace)
                continue
            write_file(self.out / "runs" / point.key / f"r{replication:04d}.parquet", payload, lambda p: True)
            self.fresh[(point.key, replication)] = pq.read_table(pa.BufferReader(payload))
            self.done += 1
        self.tell()

    def fail(self, point: GridPoint, replication: int, error: str, trace: str = "") -> None:
        self.failures.append({"point": dict(point.overrides), "replication": replication, "error": error,
                              "traceback": trace})
        self.tell()


Task = tuple[GridPoint, list[int]]


def _tasks(todo: list[tuple[GridPoint, int]], size: int) -> list[Task]:
    """Consecutive replications of one point, at most `size` together: one task, one pickled scenario."""
    grouped: list[Task] = []
    for point, replication in todo:
        if grouped and grouped[-1][0] is point and len(grouped[-1][1]) < size:
            grouped[-1][1].append(replication)
        else:
            grouped.append((point, [replication]))
    return grouped


def _run_locally(state: _State, todo: list[tuple[GridPoint, int]], scenarios: dict[str, Scenario], seed: int,
                 workers: int, run_timeout: float | None) -> None:
    """At most one task per worker in flight; a worker's death or a timeout kills the pool, and the tasks
    that were in flight are run again alone, one run at a time, so that only the guilty run fails."""
    size = 1 if run_timeout else max(1, min(8, len(todo) // (4 * workers)))
    queue = _tasks(todo, size)
    suspects: list[tuple[GridPoint, int]] = []
    while queue or suspects:
        if suspects:  # alone, one at a time: whatever dies now is guilty
            point, replication = suspects.pop(0)
            _run_alone(state, point, replication, scenarios, seed, run_timeout)
            continue
        pool = LocalPool(min(workers, len(queue)))
        try:
            in_flight: dict[Future, tuple[Task, float]] = {}
            while queue or in_flight:
                broken = False
                while queue and len(in_flight) < workers:
                    try:
                        future = pool.submit(_chunk, (scenarios[queue[0][0].key], queue[0][1], seed))
                    except BrokenProcessPool:  # a worker died since the last wait: its task is in flight
                        broken = True
                        break
                    in_flight[future] = (queue.pop(0), time.monotonic())
                done = {f for f in in_flight if f.done()} if broken else \
                    wait(in_flight, timeout=1.0 if run_timeout else None, return_when=FIRST_COMPLETED)[0]
                for future in done:
                    (point, reps), _ = in_flight.pop(future)
                    try:
                        state.finished(point, future.result())
                    except BrokenProcessPool:
                        suspects += [(point, r) for r in reps]
                        broken = True
                late = [f for f, (task, began) in in_flight.items()
                        if run_timeout and time.monotonic() - began > run_timeout * len(task[1])]
                if broken or late:
                    for future in late:
                        (point, reps), _ = in_flight.pop(future)
                        suspects += [(point, r) for r in reps]
                    suspects += [(p, r) for (p, reps), _ in in_flight.values() for r in reps]
                    in_flight.clear()
                    pool.kill()
                    break
        except BaseException:
            pool.kill()
            raise
        pool.shutdown(wait=True)


def _run_alone(state: _State, point: GridPoint, replication: int, scenarios: dict[str, Scenario], seed: int,
               run_timeout: float | None) -> None:
    with LocalPool(1) as pool:
        future = pool.submit(_chunk, (scenarios[point.key], [replication], seed))
        try:
            state.finished(point, future.result(timeout=run_timeout))
        except BrokenProcessPool:
            state.fail(point, replication, "its worker process died (killed, or crashed in native code)")
        except TimeoutError:
            state.fail(point, replication, f"timed out after {run_timeout:g} s (--run-timeout)")
            pool.kill()


def _run_on(state: _State, executor: Executor, todo: list[tuple[GridPoint, int]], scenarios: dict[str, Scenario],
            seed: int, run_timeout: float | None) -> None:
    """On a cluster's executor: every task submitted; the cluster itself retries work of a lost worker."""
    futures: dict[Future, tuple[Task, float]] = {}
    for task in _tasks(todo, 1 if run_timeout else 4):
        futures[executor.submit(_chunk, (scenarios[task[0].key], task[1], seed))] = (task, time.monotonic())
    lost = 0
    while futures:
        done, _ = wait(futures, timeout=1.0 if run_timeout else None, return_when=FIRST_COMPLETED)
        for future in done:
            (point, reps), _ = futures.pop(future)
            try:
                state.finished(point, future.result())
            except CancelledError:
                lost += len(reps)
            except Exception as exc:  # the task failed on the cluster (a worker lost too often, say)
                for r in reps:
                    state.fail(point, r, f"{type(exc).__name__}: {exc}")
        if lost:
            for future in futures:
                future.cancel()
            raise SchedulerLost(state.done, lost + sum(len(reps) for (_, reps), _ in futures.values()))
        for future, ((point, reps), began) in list(futures.items()):
            if run_timeout and time.monotonic() - began > run_timeout:
                future.cancel()
                del futures[future]
                for r in reps:
                    state.fail(point, r, f"timed out after {run_timeout:g} s (--run-timeout)")


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
                if not _readable(file):
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
    """Per grid point, metric and subgroup: the replications run (`replications`), how many gave the metric
    a value (`n`: a subgroup may be empty in some), and the mean with a 95% Student-t CI over those."""
    keys = ["point", *paths, "metric", "split", "value_of_split"]
    runs = results.group_by(keys, use_threads=False).aggregate([("replication", "count_distinct")])
    finite = results.filter(pc.is_finite(results.column("value")))
    grouped = finite.group_by(keys, use_threads=False).aggregate(
        [("value", "mean"), ("value", "stddev", pc.VarianceOptions(ddof=1)), ("value", "count")])
    grouped = runs.join(grouped, keys, join_type="left outer").sort_by([(k, "ascending") for k in keys])
    n = grouped.column("value_count").fill_null(0).to_numpy()
    mean = grouped.column("value_mean").to_numpy(zero_copy_only=False).astype(float)
    sd = grouped.column("value_stddev").to_numpy(zero_copy_only=False).astype(float)
    from scipy import stats

    with np.errstate(invalid="ignore"):
        half = np.where(n > 1, stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return pa.table({**{k: grouped.column(k) for k in keys},
                     "mean": pa.array(mean, mask=np.isnan(mean)),
                     "ci_low": pa.array(mean - half, mask=np.isnan(half)),
                     "ci_high": pa.array(mean + half, mask=np.isnan(half)),
                     "replications": grouped.column("replication_count_distinct"), "n": n})


def _write_table(table: pa.Table, target: Path) -> None:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    write_file(target, sink.getvalue().to_pybytes(), lambda p: True)
