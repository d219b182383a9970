"""Replications of a scenario: each a pure function of (scenario, seed, replication), run in parallel."""
from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import wait
from dataclasses import dataclass, field

import pyarrow as pa

from .cohort import draw_cohort
from .metrics import summary_rows
from .network import simulate_cohort
from .overload import Overload, overloads
from .network.figures import stations_table
from .records import duties_table, studies_table
from .scenario import Scenario
from .triage_config import policy_of
from .workers import LocalPool, cores

__all__ = ["Replication", "Run", "run_replication", "run_scenario", "run_variants", "summarise_run", "policy_of"]


@dataclass
class Replication:
    studies: pa.Table
    duties: pa.Table
    wall_seconds: float
    phases: dict[str, float] = field(default_factory=dict)  # seconds: cohort, model, tables
    stations: pa.Table | None = None  # what each upstream station did (none without stations)


def run_replication(scenario: Scenario, replication: int, seed: int | None = None,
                    progress: Callable[[float], None] | None = None) -> Replication:
    """Simulate one replication. The same (scenario, seed, replication) always gives the same tables."""
    seed = scenario.seed if seed is None else seed
    started = time.perf_counter()
    cohort = draw_cohort(scenario, seed, replication)
    drawn = time.perf_counter()
    outcome = simulate_cohort(scenario, cohort, policy_of(scenario), seed, replication, progress)
    simulated = time.perf_counter()
    studies = studies_table(scenario, cohort, outcome, seed, replication)
    duties = duties_table(outcome, replication)
    stations = None if cohort.stations is None else stations_table(cohort.stations, replication)
    finished = time.perf_counter()
    return Replication(studies, duties, finished - started,
                       {"cohort": drawn - started, "model": simulated - drawn, "tables": finished - simulated},
                       stations)


_REPORT = None  # in a worker: the queue progress goes to (set by `_listen`)


def _listen(queue) -> None:
    global _REPORT
    _REPORT = queue


def _replication_worker(args: tuple[int, Scenario, int, int, tuple[str, ...]]) -> Replication:
    task, scenario, replication, seed, drop = args
    report = None if _REPORT is None else (lambda f: _REPORT.put((task, f)))
    return _lean(run_replication(scenario, replication, seed, report), drop)


def _lean(result: Replication, drop: tuple[str, ...]) -> Replication:
    """The replication without the study columns its caller never reads (dropped in the worker, they never
    cross to the parent)."""
    if drop:
        result.studies = result.studies.drop_columns([c for c in drop if c in result.studies.column_names])
    return result


@dataclass
class Run:
    scenario: Scenario
    seed: int
    replications: int
    studies: pa.Table
    duties: pa.Table
    wall_seconds: float
    summary: list[dict] = field(default_factory=list)
    overloaded: list[Overload] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds summed over replications
    stations: pa.Table | None = None  # stations.parquet's rows, when the scenario has upstream stations


def run_scenario(scenario: Scenario, replications: int = 1, seed: int | None = None, workers: int | None = None,
                 progress: Callable[[float], None] | None = None, first: int = 0, summarise: bool = True) -> Run:
    """Run replications first..first+replications-1 (in parallel on `workers` processes); summarise them."""
    return run_variants([scenario], replications, seed, workers, progress, first, summarise)[0]


def run_variants(scenarios: Sequence[Scenario], replications: int = 1, seed: int | None = None,
                 workers: int | None = None, progress: Callable[[float], None] | None = None, first: int = 0,
                 summarise: bool = True, drop: Sequence[tuple[str, ...]] = ()) -> list[Run]:
    """Several variants of a scenario on the same seed and replications (common random numbers), all their
    replications sharing one pool of workers. `drop[v]`: studies columns variant v's caller never reads (a
    FIFO variant kept only for the story needs no study ids), left out before they reach this process.

    `progress` is called with the share of the simulated time done over every variant and replication,
    several times a second while workers run (it may raise, e.g. a user's stop: the workers are killed).
    """
    seed = scenarios[0].seed if seed is None else seed
    started = time.perf_counter()
    tasks = [(v, first + r) for v in range(len(scenarios)) for r in range(replications)]
    workers = min(len(tasks), workers or cores())
    done: dict[int, float] = {}

    def tell(task: int, fraction: float) -> None:
        if progress is not None:
            done[task] = fraction
            progress(sum(done.values()) / len(tasks))

    results: list[Replication | None] = [None] * len(tasks)

    def dropped(variant: int) -> tuple[str, ...]:
        return tuple(drop[variant]) if variant < len(drop) else ()

    if workers <= 1:
        for i, (v, r) in enumerate(tasks):
            results[i] = _lean(run_replication(scenarios[v], r, seed, lambda f, i=i: tell(i, f)), dropped(v))
            tell(i, 1.0)
    else:
        queue = multiprocessing.get_context().Queue() if progress is not None else None
        with LocalPool(workers, _listen, (queue,)) as pool:
            futures = {pool.submit(_replication_worker, (i, scenarios[v], r, seed, dropped(v))): i
                       for i, (v, r) in enumerate(tasks)}
            waiting = set(futures)
            while waiting:
                finished, waiting = wait(waiting, timeout=0.2 if progress is not None else None)
                for future in finished:
                    results[futures[future]] = future.result()
                    tell(futures[future], 1.0)
                while queue is not None and not queue.empty():
                    task, fraction = queue.get_nowait()
                    if done.get(task, 0.0) < 1.0:
                        tell(task, fraction)
                if progress is not None:
                    progress(sum(done.values()) / len(tasks))
    runs = []
    for v, scenario in enumerate(scenarios):
        mine = [results[i] for i, (w, _) in enumerate(tasks) if w == v]
        studies = pa.concat_tables([r.studies for r in mine], promote_options="permissive")
        duties = pa.concat_tables([r.duties for r in mine])
        phases = {name: sum(r.phases.get(name, 0.0) for r in mine) for name in ("cohort", "model", "tables")}
        stations = [r.stations for r in mine if r.stations is not None]
        run = Run(scenario, seed, replications, studies, duties, time.perf_counter() - started, phases=phases,
                  stations=pa.concat_tables(stations) if stations else None)
        if summarise:
            summarise_run(run, range(first, first + replications))
        runs.append(run)
    return runs


def summarise_run(run: Run, replications: range | None = None) -> Run:
    """Fill in a run's summary rows and overload verdicts (a run made with `summarise=False`)."""
    reps = replications if replications is not None else range(run.replications)
    run.summary = summary_rows(run.studies, run.duties, run.scenario, reps)
    run.overloaded = overloads(run.studies, run.duties, run.scenario, reps)
    return run
