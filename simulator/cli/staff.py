"""`radsim staff`: the smallest roster that meets every target (docs/staffing.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import FAILED, AllowLarge, Progress, ScenarioArg, Sets, Workers, bad_input, fail, out, prepared

STAFFING = "staffing"  # the kind of output folder


def staff(
    scenario: ScenarioArg,
    target: Annotated[list[str], typer.Option("--target", help="A target: metric[split=value] <= number (or >=), "
                                              "e.g. \"p95_tat_minutes[ai_positive=true] <= 60\"; repeatable.")],
    replications: Annotated[int, typer.Option("--replications", "-r", min=2, max=1000,
                                              help="Replications per roster tried (targets are met with 95% "
                                                   "confidence over them).")] = 5,
    set_: Sets = None,
    cost: Annotated[str, typer.Option(help="What the roster minimises: reader_hours (a week).")] = "reader_hours",
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Folder for roster.yaml and staffing.json "
                                                    "(default out/<scenario name>-staffing/).")] = None,
    workers: Workers = None,
    allow_large: AllowLarge = False,
) -> None:
    """The smallest roster (staff per pool x shift) that meets every target with 95% confidence."""
    import json

    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from simulator.files import claim_directory, write_directory
    from simulator.loading import dump_scenario
    from simulator.staffing import optimise, parse_target

    if cost != "reader_hours":
        fail("--cost: only reader_hours is known")
    resolved = prepared(scenario, set_, allow_large=allow_large)
    with bad_input():
        targets = [parse_target(t) for t in target]
    target_dir = out_dir or Path("out") / f"{resolved.name}-staffing"
    with bad_input():
        claim_directory(target_dir, STAFFING)
    with Progress("searching") as progress:
        result = optimise(resolved, targets, replications, workers, progress=lambda text: progress(0, 1, text))
    roster = Table(title=f"{resolved.name}: {'smallest roster meeting every target' if result.feasible else 'NO roster found'}"
                   f" ({result.evaluations} rosters simulated, {replications} replications each)",
                   title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("pool", "shift", "days", "start estimate", "staff", "reader-hours/week"):
        roster.add_column(header, justify="left" if header in ("pool", "shift", "days") else "right", no_wrap=True)
    for slot, first, n in zip(result.slots, result.start, result.staff):
        days = resolved.pools[slot.pool].shifts[slot.index].days
        roster.add_row(slot.pool, slot.label, ",".join(days) if len(days) < 7 else "every day", str(first), str(n),
                       f"{n * slot.hours_per_week:.0f}")
    out.print(roster)
    checks = Table(title="targets", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("target", "estimate ±95% CI", "slack", "binds on (one reader less breaks it)"):
        checks.add_column(header)
    rows = []
    for t in targets:
        mean, low, high = result.evaluation.values[t.text]
        slack = None if mean is None else (t.value - high if t.op == "<=" else low - t.value)
        rows.append({"target": t.text, "mean": mean, "ci_low": low, "ci_high": high, "slack": slack,
                     "binds_on": result.binding.get(t.text, [])})
        checks.add_row(escape(t.text), "-" if mean is None else f"{mean:.4g} ({low:.4g}..{high:.4g})",
                       "-" if slack is None else f"{slack:.3g}", escape(", ".join(result.binding.get(t.text, [])) or "-"))
    out.print(checks)
    document = json.dumps({
        "scenario": resolved.name, "replications": replications, "feasible": result.feasible,
        "rosters_simulated": result.evaluations, "targets": rows,
        "roster": [{"pool": s.pool, "shift": s.label, "path": s.path, "start_estimate": a, "staff": n}
                   for s, a, n in zip(result.slots, result.start, result.staff)]}, indent=1)

    def fill(folder: Path) -> None:
        (folder / "roster.yaml").write_text(dump_scenario(result.scenario))
        (folder / "staffing.json").write_text(document)

    with bad_input():
        write_directory(target_dir, STAFFING, fill)
    out.print(f"wrote {target_dir}/roster.yaml (the scenario with this roster) and staffing.json")
    raise typer.Exit(0 if result.feasible else FAILED)
