"""`radsim run`: simulate a scenario, write its outputs, print what it means."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import AllowLarge, Policy, Progress, Replications, ScenarioArg, Seed, Sets, Workers, bad_input, err, \
    out, prepared


def run(
    scenario: ScenarioArg,
    replications: Replications = 1,
    seed: Seed = None,
    policy: Policy = None,
    set_: Sets = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="Output folder (default out/<scenario name>/). "
                                                   "Only an earlier run's folder is replaced; any other content is "
                                                   "refused.")] = None,
    workers: Workers = None,
    trace: Annotated[Optional[Path], typer.Option(metavar="TRACE", help="Replay the primary studies of a trace (`radsim dicom trace`) "
                                                  "instead of drawing arrivals: the same as arrivals.trace in the "
                                                  "scenario.")] = None,
    against_fifo: Annotated[bool, typer.Option("--against-fifo/--no-against-fifo", help="Also run FIFO on the "
                                               "same studies (when the policy is not FIFO) and say what the "
                                               "policy changed for high-risk patients.")] = True,
    allow_large: AllowLarge = False,
) -> None:
    """Simulate a scenario; write studies.parquet, readers.parquet, summary.json and scenario.yaml."""
    from simulator.experiment import run_scenario, summarise_run
    from simulator.output import claim_run, write_run
    from simulator.story import tell

    sets = [*(set_ or []), *([f"arrivals.trace={trace.resolve()}"] if trace is not None else [])]
    resolved = prepared(scenario, sets, policy, allow_large=allow_large)
    target = out_dir or Path("out") / resolved.name
    with bad_input():
        replacing = claim_run(target)
    if resolved.arrivals is not None:
        from simulator.trace_arrivals import replay_counts

        counts = replay_counts(resolved)
        err.print(f"replaying {counts['replayed']:,} of the {counts['rows']:,} studies of {resolved.arrivals.trace} "
                  f"({counts['outside']:,} outside the horizon, {counts['unmatched']:,} of no study type left out)",
                  highlight=False)
    compare = against_fifo and resolved.policy.triage != "fifo"
    with Progress(f"simulating {resolved.name}") as progress:
        result = run_scenario(resolved, replications, seed, workers,
                              progress if not compare else (lambda f: progress(f / 2)), summarise=False)
        fifo = None
        if compare:
            fifo_scenario = resolved.model_copy(update={"policy": resolved.policy.model_copy(
                update={"triage": "fifo", "preemptive": resolved.policy.preemptive})})
            fifo = run_scenario(fifo_scenario, replications, result.seed, workers, lambda f: progress(0.5 + f / 2),
                                summarise=False)
    summarise_run(result)
    story = tell(result, fifo)
    existed = replacing.exists()
    with bad_input():
        written = write_run(result, target, story)
    from .summary import print_summary

    print_summary(result, story)
    out.print(f"{'replaced the earlier run in' if existed else 'wrote'} {written}/ (studies.parquet: "
              f"{result.studies.num_rows:,} rows) in {result.wall_seconds:.1f} s", highlight=False)
