"""`radsim run`: simulate a scenario, write its outputs, print what it means."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (
    AllowCode,
    AllowLarge,
    Policy,
    Progress,
    Replace,
    Replications,
    ScenarioArg,
    Seed,
    Sets,
    Workers,
    bad_input,
    err,
    out,
    prepared,
)


def run(
    scenario: ScenarioArg,
    replications: Replications = 1,
    seed: Seed = None,
    policy: Policy = None,
    set_: Sets = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="Output folder (default "
                                                   "out/<scenario name>/). Only an earlier run's folder is "
                                                   "replaced; any other content is refused.")] = None,
    workers: Workers = None,
    trace: Annotated[Optional[Path], typer.Option(metavar="TRACE", help="Replay the primary studies of a trace "
                                                  "(`radsim dicom trace`) instead of drawing arrivals: the same as "
                                                  "arrivals.trace in the scenario.")] = None,
    against_fifo: Annotated[bool, typer.Option("--against-fifo/--no-against-fifo", help="Also run FIFO on the "
                                               "same studies (when the policy is not FIFO) and say what the "
                                               "policy changed for high-risk patients.")] = True,
    profile: Annotated[bool, typer.Option("--profile", help="Print the time and peak memory of each phase "
                                          "(start-up, scenario, cohort, model, tables, summary, story, writing).")] = False,
    allow_large: AllowLarge = False,
    allow_code: AllowCode = None,
    replace: Replace = False,
) -> None:
    """Simulate a scenario; write studies.parquet, readers.parquet, summary.json and scenario.yaml."""
    from simulator.profiling import Phases, process_age

    phases = Phases()
    age = process_age()
    if age is not None:
        phases.add("start-up (interpreter and imports)", age)
    with phases.phase("scenario (read, check, estimate)"):
        # The seed and the trace go into the scenario, so that the scenario.yaml written holds what ran.
        sets = [*(set_ or []), *([f"arrivals.trace={trace.resolve()}"] if trace is not None else []),
                *([f"seed={seed}"] if seed is not None else [])]
        resolved = prepared(scenario, sets, policy, allow_large=allow_large)
        target = out_dir or Path("out") / resolved.name
        with bad_input():
            replacing = claim_run(target, replace)
    if resolved.arrivals is not None:
        from simulator.trace_arrivals import replay_counts

        counts = replay_counts(resolved)
        err.print(f"replaying {counts['replayed']:,} of the {counts['rows']:,} studies of {resolved.arrivals.trace} "
                  f"({counts['outside']:,} outside the horizon, {counts['unmatched']:,} of no study type and "
                  f"{counts['undated']:,} without an arrival time left out)",
                  highlight=False)
    from simulator.experiment import discard, run_variants
    from simulator.story import tell

    # FIFO on the same studies, when asked, runs beside the scenario's policy on the same workers; only its
    # replications' summaries come back (the story compares summaries).
    variants = [resolved]
    if against_fifo and resolved.policy.triage != "fifo":
        from simulator.prepare import policy_variant

        variants.append(policy_variant(resolved, "fifo"))
    existed = replacing.exists()
    told: dict = {}  # what `simulate` found, for after the folder is written

    def simulate(studies):
        """Simulate and summarise, studies.parquet written as replications finish; the rest afterwards."""
        with Progress(f"simulating {resolved.name}" + (" (and FIFO on the same studies)" if len(variants) > 1
                                                       else "")) as progress:
            started = _now()
            runs = run_variants(variants, replications, None, workers, progress.fraction, sinks=[studies, discard])
            told["simulating"] = _now() - started
        result, fifo = runs[0], (runs[1] if len(runs) > 1 else None)
        for name in ("cohort", "model", "tables", "summary"):
            phases.add(f"{name} (summed over replications{' and FIFO' if fifo else ''})",
                       sum(r.phases[name] for r in runs))
        with phases.phase("story (against FIFO)" if len(runs) > 1 else "story"):
            story = tell(result, fifo)
        told.update(result=result, story=story, done_at=_now())
        return result, story

    with bad_input():
        written = stream_run(target, simulate, replace)
    phases.add("writing (the rest of the folder)", _now() - told["done_at"])
    result, story, simulating = told["result"], told["story"], told["simulating"]
    from .summary import print_summary

    print_summary(result, story)
    out.print(f"{'replaced the earlier run in' if existed else 'wrote'} {written}/ (studies.parquet: "
              f"{result.rows:,} rows) in {result.wall_seconds:.1f} s", highlight=False)
    if profile:
        _print_profile(phases, simulating)


def claim_run(target: Path, replace: bool) -> Path:
    from simulator.output import claim_run as claim

    return claim(target, replace)


def stream_run(target: Path, simulate, replace: bool) -> Path:
    from simulator.output import stream_run as stream

    return stream(target, simulate, replace)


def _now() -> float:
    import time

    return time.perf_counter()


def _print_profile(phases, simulating: float) -> None:
    from rich import box
    from rich.table import Table

    from simulator.profiling import peak_megabytes

    table = Table(title="where the time and memory went", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  caption=f"the simulation took {simulating:.2f} s of wall time (studies.parquet written meanwhile); "
                          + (f"peak memory of a worker process {worker:.0f} MB" if (worker := peak_megabytes(children=True))
                             else "no worker processes (one replication at a time in this one)"))
    for header in ("phase", "seconds", "peak MB"):
        table.add_column(header, justify="left" if header == "phase" else "right")
    for row in phases.table():
        table.add_row(row["phase"], f"{row['seconds']:.3f}", f"{row['peak_mb']:.0f}")
    err.print(table)
