"""Replications of a scenario: each a pure function of (scenario, seed, replication), run in parallel.

A replication is summarised where it ran (`simulator.summaries`); its studies table then goes to the
caller's sink in replication order (`radsim run` writes it to studies.parquet as it comes), or is kept in
the Run, or is not even sent (a variant only compared with).
"""
from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import wait
from dataclasses import dataclass, field

import pyarrow as pa

from .network import draw_cohort, simulate_cohort
from .overload import Overload
from .network.figures import stations_table
from .records import duties_table, studies_table
from .scenario import Scenario
from .summaries import ReplicationSummary, Summaries, Summary, read_only, summary_rows
from .summaries import summarise as summarise_table
from .triage_config import policy_of
from .workers import LocalPool, cores

__all__ = ["Replication", "Run", "run_replication", "run_scenario", "run_variants", "summarise_run", "summaries_of",
           "policy_of", "Sink", "discard"]

Sink = Callable[[pa.Table], None]  # takes a variant's studies table, one replication at a time, in order


def discard(studies: pa.Table) -> None:
    """The sink of a variant whose rows nobody reads: its workers do not send them."""


@dataclass
class Replication:
    studies: pa.Table | None  # None once given to a sink, or never sent
    duties: pa.Table
    wall_seconds: float
    phases: dict[str, float] = field(default_factory=dict)  # seconds: cohort, model, tables, summary
    stations: pa.Table | None = None  # what each upstream station did (none without stations)
    summary: ReplicationSummary | None = None  # made where it ran, when asked (`summarise`)


def run_replication(scenario: Scenario, replication: int, seed: int | None = None,
                    progress: Callable[[float], None] | None = None, summarise: bool = False) -> Replication:
    """Simulate one replication (and summarise it). The same (scenario, seed, replication) always gives the
    same tables."""
    seed = scenario.seed if seed is None else seed
    started = time.perf_counter()
    cohort = draw_cohort(scenario, seed, replication)
    drawn = time.perf_counter()
    outcome = simulate_cohort(scenario, cohort, policy_of(scenario), seed, replication, progress)
    simulated = time.perf_counter()
    studies = studies_table(scenario, cohort, outcome, seed, replication)
    duties = duties_table(outcome, replication)
    stations = None if cohort.upstream.stations is None else stations_table(cohort.upstream.stations, replication)
    del cohort, outcome  # what the table does not hold goes before the summary's columns come
    tabled = time.perf_counter()
    summary = None
    if summarise:
        summary = summarise_table(studies, duties, scenario, replication)
    finished = time.perf_counter()
    return Replication(studies, duties, finished - started,
                       {"cohort": drawn - started, "model": simulated - drawn, "tables": tabled - simulated,
                        "summary": finished - tabled}, stations, summary)


_REPORT = None  # in a worker: the queue progress goes to (set by `_listen`)


def _listen(queue) -> None:
    global _REPORT
    _REPORT = queue


def _replication_worker(args: tuple[int, Scenario, int, int, bool, bool]) -> Replication:
    task, scenario, replication, seed, summarise, send = args
    report = None if _REPORT is None else (lambda f: _REPORT.put((task, f)))
    result = run_replication(scenario, replication, seed, report, summarise)
    if not send:
        result.studies = None
    return result


@dataclass
class Run:
    scenario: Scenario
    seed: int
    replications: int
    studies: pa.Table | None  # None when its replications went to a sink
    duties: pa.Table
    wall_seconds: float
    summary: Summary = field(default_factory=Summary)
    overloaded: list[Overload] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds summed over replications
    stations: pa.Table | None = None  # stations.parquet's rows, when the scenario has upstream stations
    summaries: Summaries | None = None  # what each replication's summary needs (`simulator.summaries`)
    rows: int = 0  # of the studies table, kept here or given to a sink


def run_scenario(scenario: Scenario, replications: int = 1, seed: int | None = None, workers: int | None = None,
                 progress: Callable[[float], None] | None = None, first: int = 0, summarise: bool = True) -> Run:
    """Run replications first..first+replications-1 (in parallel on `workers` processes); summarise them."""
    return run_variants([scenario], replications, seed, workers, progress, first, summarise)[0]


def run_variants(scenarios: Sequence[Scenario], replications: int = 1, seed: int | None = None,
                 workers: int | None = None, progress: Callable[[float], None] | None = None, first: int = 0,
                 summarise: bool = True, sinks: Sequence[Sink | None] = ()) -> list[Run]:
    """Several variants of a scenario on the same seed and replications (common random numbers), all their
    replications sharing one pool of workers; with `summarise`, each replication is summarised where it ran.

    `sinks[v]`, where given, takes variant v's studies one replication at a time in replication order, as
    they finish (the Run then holds none), and is closed after the last if it has a `close`; `discard` is
    the sink of a variant whose rows nobody reads (only its summaries are sent). `progress` is called with
    the share of the simulated time done over every variant and replication, several times a second while
    workers run (it may raise, e.g. a user's stop: the workers are killed).
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
    sink_of = [sinks[v] if v < len(sinks) else None for v in range(len(scenarios))]
    given = [0] * len(scenarios)  # per variant: replications handed to its sink so far
    rows = [0] * len(scenarios)

    def arrived(task: int, result: Replication) -> None:
        results[task] = result
        v = tasks[task][0]
        if result.studies is not None:
            rows[v] += result.studies.num_rows
        # Hand over, in replication order, what has come: the tables of later replications wait.
        while sink_of[v] is not None and given[v] < replications:
            waiting = results[v * replications + given[v]]
            if waiting is None:
                break
            if waiting.studies is not None:
                sink_of[v](waiting.studies)  # type: ignore[misc]
                waiting.studies = None
            given[v] += 1
            if given[v] == replications and hasattr(sink_of[v], "close"):
                sink_of[v].close()  # type: ignore[union-attr]  # its last rows go out now, not when its owner ends

    if workers <= 1:
        for i, (v, r) in enumerate(tasks):
            # Rows that leave (to a sink, or nowhere) are summarised after they left, from the columns the
            # summary reads: a city year's table and its summary's columns are never held at once.
            leaving = sink_of[v] is not None
            result = run_replication(scenarios[v], r, seed, lambda f, i=i: tell(i, f), summarise and not leaving)
            kept = read_only(result.studies) if summarise and leaving else None
            if sink_of[v] is discard:
                result.studies = None
            arrived(i, result)
            if kept is not None:
                # Arrow's allocator keeps what the table freed for Arrow's next tables; the summary's columns
                # are numpy's, so give it back first.
                pa.default_memory_pool().release_unused()
                begun = time.perf_counter()
                result.summary = summarise_table(kept, result.duties, scenarios[v], r)
                result.phases["summary"] = time.perf_counter() - begun
                del kept
            tell(i, 1.0)
    else:
        queue = multiprocessing.get_context().Queue() if progress is not None else None
        with LocalPool(workers, _listen, (queue,)) as pool:
            futures = {pool.submit(_replication_worker, (i, scenarios[v], r, seed, summarise,
                                                         sink_of[v] is not discard)): i
                       for i, (v, r) in enumerate(tasks)}
            waiting = set(futures)
            while waiting:
                finished, waiting = wait(waiting, timeout=0.2 if progress is not None else None)
                for future in finished:
                    arrived(futures[future], future.result())
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
        studies = None if sink_of[v] is not None else \
            pa.concat_tables([r.studies for r in mine], promote_options="permissive")
        duties = pa.concat_tables([r.duties for r in mine])
        phases = {name: sum(r.phases.get(name, 0.0) for r in mine) for name in ("cohort", "model", "tables", "summary")}
        stations = [r.stations for r in mine if r.stations is not None]
        run = Run(scenario, seed, replications, studies, duties, time.perf_counter() - started, phases=phases,
                  stations=pa.concat_tables(stations) if stations else None, rows=rows[v])
        if summarise:
            run.summaries = Summaries(r.summary for r in mine)  # type: ignore[misc]
            summarise_run(run, range(first, first + replications))
        runs.append(run)
    return runs


def summaries_of(run: Run, replications: Iterable[int] | None = None) -> Summaries:
    """A run's replication summaries: made where its replications ran, or now from its studies table (of
    `replications`; by default 0..replications-1 and any other the table holds)."""
    if run.summaries is None:
        if run.studies is None:
            raise ValueError("a run whose studies went to a sink unsummarised cannot be summarised")
        reps = _replications(run) if replications is None else replications
        run.summaries = Summaries.of_table(run.studies, run.duties, run.scenario, reps)
    return run.summaries


def _replications(run: Run) -> list[int]:
    import pyarrow.compute as pc

    held = pc.unique(run.studies.column("replication")).to_pylist() if run.studies is not None else []
    return sorted({*range(run.replications), *held})


def summarise_run(run: Run, replications: range | None = None) -> Run:
    """Fill in a run's summary rows and overload verdicts (a run made with `summarise=False`)."""
    reps = list(replications) if replications is not None else list(range(run.replications))
    summaries = summaries_of(run, reps)
    run.summary = summary_rows(summaries, run.duties, run.scenario, reps)
    run.overloaded = summaries.overloads(run.scenario, reps)
    return run
