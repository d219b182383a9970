"""Replications of a scenario: each a pure function of (scenario, seed, replication), run in parallel."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from .cohort import draw_cohort
from .metrics import summary_rows
from .model import simulate_cohort
from .overload import Overload, overloads
from .records import duties_table, studies_table
from .scenario import Scenario
from .triage_config import policy_of
from .workers import LocalPool, cores

__all__ = ["Replication", "Run", "run_replication", "run_scenario", "summarise_run", "policy_of"]


@dataclass
class Replication:
    studies: pa.Table
    duties: pa.Table
    wall_seconds: float
    phases: dict[str, float] = field(default_factory=dict)  # seconds: cohort, model, tables


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
    finished = time.perf_counter()
    return Replication(studies, duties, finished - started,
                       {"cohort": drawn - started, "model": simulated - drawn, "tables": finished - simulated})


def _replication_worker(args: tuple[Scenario, int, int]) -> Replication:
    scenario, replication, seed = args
    return run_replication(scenario, replication, seed)


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


def run_scenario(scenario: Scenario, replications: int = 1, seed: int | None = None, workers: int | None = None,
                 progress: Callable[[float], None] | None = None, first: int = 0, summarise: bool = True) -> Run:
    """Run replications first..first+replications-1 (in parallel on `workers` processes); summarise them.

    `progress` is called with the fraction done: per simulated day for a single replication, per finished
    replication otherwise.
    """
    seed = scenario.seed if seed is None else seed
    started = time.perf_counter()
    workers = min(replications, workers or cores())
    if replications == 1 or workers <= 1:
        results = []
        for r in range(replications):
            inner = None
            if progress is not None:
                inner = (lambda f, r=r: progress((r + f) / replications))
            results.append(run_replication(scenario, first + r, seed, inner))
            if progress is not None:
                progress((r + 1) / replications)
    else:
        with LocalPool(workers) as pool:
            futures = [pool.submit(_replication_worker, (scenario, first + r, seed)) for r in range(replications)]
            results = []
            for done, future in enumerate(futures, start=1):
                results.append(future.result())
                if progress is not None:
                    progress(done / replications)
    studies = pa.concat_tables([r.studies for r in results], promote_options="permissive")
    duties = pa.concat_tables([r.duties for r in results])
    phases = {name: sum(r.phases.get(name, 0.0) for r in results) for name in ("cohort", "model", "tables")}
    run = Run(scenario, seed, replications, studies, duties, time.perf_counter() - started, phases=phases)
    if summarise:
        summarise_run(run, range(first, first + replications))
    return run


def summarise_run(run: Run, replications: range | None = None) -> Run:
    """Fill in a run's summary rows and overload verdicts (a run made with `summarise=False`)."""
    reps = replications if replications is not None else range(run.replications)
    run.summary = summary_rows(run.studies, run.duties, run.scenario, reps)
    run.overloaded = overloads(run.studies, run.duties, run.scenario, reps)
    return run
