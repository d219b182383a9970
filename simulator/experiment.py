"""Replications of a scenario: each a pure function of (scenario, seed, replication), run in parallel.

A replication is summarised where it ran (`simulator.summaries`); its studies table then goes to the
caller's sink in replication order (`radsim run` writes it to studies.parquet as it comes), or is kept in
the Run, or is not even sent (a variant only compared with).
"""
from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from .compile_ahead import compiled_ahead
from .network import draw_cohort, simulate_cohort
from .network.compiled import after_helper
from .memory import give_back
from .overload import Overload
from .network.figures import stations_table
from .records import ROW_GROUP, duties_table, studies_blocks
from .scenario import Scenario
from . import summaries
from .summaries import KeptColumns, ReplicationSummary, Summaries, Summary, summary_rows
from .summaries import summarise as summarise_table
from .triage_config import policy_of
from .workers import LocalPool, for_runs

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

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
    rows: int = 0  # of its studies table, wherever the rows went
    delivered: bool = False  # its rows were handed to the caller's sink where it ran
    part: Path | None = None  # its rows are in this Parquet file, written where it ran, for the caller's sink


def run_replication(scenario: Scenario, replication: int, seed: int | None = None,
                    progress: Callable[[float], None] | None = None, summarise: bool = False,
                    sink: Sink | None = None) -> Replication:
    """Simulate one replication (and summarise it). The same (scenario, seed, replication) always gives the
    same tables.

    With a `sink`, the studies rows go to it a row group at a time as they are made (the Replication then
    holds none): the replication's whole table is never held, only the columns its summary reads, and for a
    large replication not even those: they go to a file of their own and are read back one at a time
    (`summaries.KeptColumns`).
    """
    seed = scenario.seed if seed is None else seed
    started = time.perf_counter()
    cohort = draw_cohort(scenario, seed, replication)
    drawn, n = time.perf_counter(), len(cohort)
    outcome = simulate_cohort(scenario, cohort, policy_of(scenario), seed, replication, progress)
    simulated = time.perf_counter()
    duties = duties_table(outcome, replication)
    stations = None if cohort.upstream.stations is None else stations_table(cohort.upstream.stations, replication)
    blocks = studies_blocks(scenario, cohort, outcome, seed, replication)
    with KeptColumns(spill=n >= summaries.SPILL) as kept:
        if sink is None:
            studies = pa.concat_tables(blocks)
            rows = studies.num_rows
        else:
            studies, rows = None, _send(blocks, sink, kept if summarise else None)
        del cohort, outcome, blocks  # what the table does not hold goes before the summary's columns come
        tabled = time.perf_counter()
        summary = None
        if summarise:
            # Arrow's allocator keeps what the rows written freed for Arrow's next tables; the summary's
            # columns are numpy's, so give it back first.
            pa.default_memory_pool().release_unused()
            give_back(n)
            summary = summarise_table(kept.columns() if studies is None else studies, duties, scenario, replication)
    finished = time.perf_counter()
    return Replication(studies, duties, finished - started,
                       {"cohort": drawn - started, "model": simulated - drawn, "tables": tabled - simulated,
                        "summary": finished - tabled}, stations, summary, rows=rows)


def _send(blocks: Iterable[pa.Table], sink: Sink, kept: KeptColumns | None) -> int:
    """Each block to the sink, and the columns the summary reads to `kept` (if it is to be made); the rows
    sent."""
    rows = 0
    for block in blocks:
        rows += block.num_rows
        if kept is not None:
            kept(block)
        sink(block)
    return rows


_REPORT: Callable[[tuple[int, float]], None] | None = None  # where a task's progress goes (set by `_listen`)


def _listen(queue, compiled_ahead: Event | None = None) -> None:
    """A worker's set-up: where its progress goes, and the helper it waits for before it compiles a loop."""
    global _REPORT
    _REPORT = None if queue is None else queue.put
    after_helper(compiled_ahead)


# Where a replication's rows go when it has run: back to the caller, nowhere (a variant only compared
# with), or into a Parquet part file of the caller's sink, written by the worker itself.
SEND, DROP = "send", "drop"


def _replication_worker(args: tuple[int, Scenario, int, int, bool, Any],
                        deliver: Callable[[pa.Table], None] | None = None) -> Replication:
    """One replication where it runs (a worker process, or this one: the same steps). Its rows leave as
    they are made (handed to `deliver`, written to a part file, dropped), or are kept to be sent back; its
    summary is made after, from the columns it reads."""
    task, scenario, replication, seed, summarise, route = args
    report = None if _REPORT is None else (lambda f: _REPORT((task, f)))  # type: ignore[misc]
    if isinstance(route, Path) and deliver is None:
        with _PartWriter(route) as part:
            result = run_replication(scenario, replication, seed, report, summarise, part)
        result.part = route
        return result
    result = run_replication(scenario, replication, seed, report, summarise,
                             deliver or (discard if route == DROP else None))
    result.delivered = deliver is not None
    return result


class _PartWriter:
    """A replication's rows written to its part file by row groups, as `pq.write_table` would write them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None

    def __call__(self, block: pa.Table) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, block.schema, compression="zstd")
        self._writer.write_table(block, row_group_size=ROW_GROUP)

    def __enter__(self) -> "_PartWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()


class _Here:
    """A pool of one, in this process: each task runs when submitted (the task a worker would run), after
    the helper compiling ahead, where there is one, if it is to compile a loop (as a worker would)."""

    def __init__(self, compiled_ahead: Event | None = None) -> None:
        self.compiled_ahead = compiled_ahead

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        future.set_result(fn(*args))  # an exception (a user's stop included) goes straight to the caller
        return future

    def __enter__(self) -> "_Here":
        after_helper(self.compiled_ahead)
        return self

    def __exit__(self, *exc: object) -> bool:
        after_helper(None)
        return False


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
                 summarise: bool = True, sinks: Sequence[Sink | None] = (), offsets: Sequence[int] = ()) -> list[Run]:
    """Several variants of a scenario on the same seed and replications (common random numbers), all their
    replications sharing one pool of workers; with `summarise`, each replication is summarised where it ran.

    `sinks[v]`, where given, takes variant v's studies one replication at a time in replication order, as
    they finish (the Run then holds none), and is closed after the last if it has a `close`; `discard` is
    the sink of a variant whose rows nobody reads (only its summaries are sent). `progress` is called with
    the share of the simulated time done over every variant and replication, several times a second while
    workers run (it may raise, e.g. a user's stop: the workers are killed). `offsets[v]`, where given, moves
    variant v's replications on by that many: variants that must not share random numbers (a bootstrap's
    draws of a fitted scenario, one replication each) run on replications of their own.
    """
    seed = scenarios[0].seed if seed is None else seed
    started = time.perf_counter()
    shift = [offsets[v] if v < len(offsets) else 0 for v in range(len(scenarios))]
    tasks = [(v, first + shift[v] + r) for v in range(len(scenarios)) for r in range(replications)]
    workers = for_runs(workers, scenarios, len(tasks))
    done: dict[int, float] = {}

    def tell(task: int, fraction: float) -> None:
        if progress is not None and done.get(task, 0.0) < 1.0:
            done[task] = fraction
            progress(sum(done.values()) / len(tasks))

    results: list[Replication | None] = [None] * len(tasks)
    sink_of = [sinks[v] if v < len(sinks) else None for v in range(len(scenarios))]
    given = [0] * len(scenarios)  # per variant: replications handed to its sink so far
    rows = [0] * len(scenarios)

    def arrived(task: int, result: Replication) -> None:
        results[task] = result
        v = tasks[task][0]
        rows[v] += result.rows
        # Hand over, in replication order, what has come: the rows of later replications wait.
        while sink_of[v] is not None and given[v] < replications:
            waiting = results[v * replications + given[v]]
            if waiting is None:
                break
            if waiting.part is not None:
                sink_of[v].take_part(waiting.part, whole=replications == 1)  # type: ignore[union-attr]
                waiting.part = None
            elif waiting.studies is not None:
                sink_of[v](waiting.studies)  # type: ignore[misc]
                waiting.studies = None
            given[v] += 1
            if given[v] == replications and hasattr(sink_of[v], "close"):
                sink_of[v].close()  # type: ignore[union-attr]  # its last rows go out now, not when its owner ends

    def route(i: int, v: int, r: int) -> Any:
        """Where task i's rows go: a part file of its sink, written by the worker, where the sink takes
        parts and workers run elsewhere; nowhere for `discard`; else back."""
        sink = sink_of[v]
        if sink is discard:
            return DROP
        if sink is not None and workers > 1 and getattr(sink, "parts", None) is not None:
            return sink.parts / f"v{v}-r{r:05d}.parquet"
        return SEND

    here = workers <= 1
    queue = multiprocessing.get_context().Queue() if progress is not None and not here else None
    global _REPORT
    previous, _REPORT = _REPORT, ((lambda item: tell(*item)) if here and progress is not None else _REPORT)
    try:
        with compiled_ahead(scenarios[0], run_replication) as ended, \
                (_Here(ended) if here else LocalPool(workers, _listen, (queue, ended))) as pool:
            futures = {}
            for i, (v, r) in enumerate(tasks):
                # In this process a sink takes the rows as they come (serially, so in order) and the summary is
                # made after they left.
                deliver = sink_of[v] if here and sink_of[v] is not None and sink_of[v] is not discard else None
                job = partial(_replication_worker, deliver=deliver) if deliver is not None else _replication_worker
                future = pool.submit(job, (i, scenarios[v], r, seed, summarise, route(i, v, r)))
                futures[future] = i
                if here:
                    result = future.result()
                    if result.delivered:
                        given[v] += 1
                        if given[v] == replications and hasattr(sink_of[v], "close"):
                            sink_of[v].close()  # type: ignore[union-attr]
                    arrived(i, result)
                    tell(i, 1.0)
            waiting = set() if here else set(futures)
            while waiting:
                finished, waiting = wait(waiting, timeout=0.2 if progress is not None else None)
                for future in finished:
                    arrived(futures[future], future.result())
                    tell(futures[future], 1.0)
                while queue is not None and not queue.empty():
                    tell(*queue.get_nowait())
    finally:
        _REPORT = previous
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
            summarise_run(run, range(first + shift[v], first + shift[v] + replications))
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
