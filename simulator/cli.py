"""The `radsim` command line. Exit codes: 0 ok, 1 internal error, 2 bad input, 3 a validation failed."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .errors import ScenarioError
from .experiment import Run, policy_of, run_scenario
from .loading import bundled_scenarios, load_scenario
from .scenario import Scenario
from .triage import PolicyError
from .validation import validate_scenario

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="radsim: simulate a city teleradiology network: triage, routing, shifts, turnaround.")
out_console = Console()
err_console = Console(stderr=True)

BAD_INPUT, INTERNAL, FAILED = 2, 1, 3


class LateProgress:
    """A progress bar that shows itself only once a run has taken more than `after` seconds."""

    def __init__(self, label: str, after: float = 2.0) -> None:
        self.label, self.after, self.started, self.bar, self.task = label, after, time.monotonic(), None, None

    def __call__(self, fraction: float) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < self.after or fraction >= 1.0:
                return
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=1.0)
        self.bar.update(self.task, completed=fraction)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _load(path: str, overrides: list[str], policy: str | None = None) -> Scenario:
    if policy:
        overrides = [*overrides, f"policy.triage={policy}"]
    return load_scenario(path, overrides)


def _fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _cell(row: dict | None, digits: int = 1, scale: float = 1.0, unit: str = "") -> str:
    """'mean±half-width' of a summary row, compact enough for an 80-column terminal."""
    if row is None or row["mean"] is None:
        return "-"
    text = f"{row['mean'] * scale:.{digits}f}{unit}"
    if row["ci_low"] is not None:
        text += f"[dim]±{(row['ci_high'] - row['ci_low']) / 2 * scale:.{digits}f}[/]"
    return text


def summary_tables(run: Run) -> list[Table]:
    """Turnaround and targets per kind of work, triage label and ground truth; utilisation per pool."""
    index = {(r["metric"], tuple(sorted(r["where"].items()))): r for r in run.summary}

    def get(metric: str, where: dict) -> dict | None:
        return index.get((metric, tuple(sorted(where.items()))))

    caption = f"mean ±95% CI half-width over {run.replications} replication(s), seed {run.seed}"
    work = Table(title=f"{run.scenario.name}: turnaround in minutes, policy {run.scenario.policy.triage}",
                 caption=caption, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("work", "items", "mean TAT", "p95 TAT", "mean wait", "in target"):
        work.add_column(header, justify="left" if header == "work" else "right", no_wrap=True)
    splits = [r["where"] for r in run.summary if r["metric"] == "count" and len(r["where"]) == 1]
    for split in ("", "kind", "priority", "diseased"):
        groups = [{}] if not split else [w for w in splits if split in w]
        if split:
            work.add_row(f"[bold]by {split}[/]")
        for where in groups:
            name = "all" if not where else f"  {str(where[split]).lower()}"
            count = get("count", where)
            work.add_row(name, f"{count['mean']:.0f}" if count else "-", _cell(get("mean_tat_minutes", where)),
                         _cell(get("p95_tat_minutes", where)), _cell(get("mean_wait_minutes", where)),
                         _cell(get("sla_met_fraction", where), 1, 100.0, "%"))
    pools = Table(title="readers", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("pool", "utilisation", "overtime h", "backlog at end"):
        pools.add_column(header, justify="left" if header == "pool" else "right", no_wrap=True)
    for pool in run.scenario.pools:
        pools.add_row(pool, _cell(get("utilization", {"pool": pool}), 1, 100.0, "%"),
                      _cell(get("overtime_hours", {"pool": pool})), "")
    backlog = get("backlog_at_horizon", {})
    pools.add_row("all", _cell(get("utilization", {}), 1, 100.0, "%"), _cell(get("overtime_hours", {})),
                  _cell(backlog, 0))
    return [work, pools]


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file, or a bundled scenario's name.")],
    replications: Annotated[int, typer.Option("--replications", "-r", min=1, help="Independent replications.")] = 1,
    seed: Annotated[Optional[int], typer.Option(help="Root seed (default: the scenario's).", min=0)] = None,
    policy: Annotated[Optional[str], typer.Option(help="Triage policy: fifo, ai_priority, hierarchical or module:Class.")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a value: key.path=value (repeatable).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Output directory (default out/<scenario name>/).")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Processes for replications (default: all cores).")] = None,
) -> None:
    """Simulate a scenario; write studies.parquet, readers.parquet, summary.json and scenario.yaml."""
    from .output import write_run

    try:
        resolved = _load(scenario, set_ or [], policy)
        policy_of(resolved)  # a bad policy is bad input: fail before simulating
    except (ScenarioError, PolicyError) as exc:
        _fail(str(exc), BAD_INPUT)
    progress = LateProgress(f"simulating {resolved.name}")
    try:
        result = run_scenario(resolved, replications, seed, workers, progress)
    finally:
        progress.close()
    target = out or Path("out") / resolved.name
    write_run(result, target)
    for table in summary_tables(result):
        out_console.print(table)
    out_console.print(f"wrote {target}/ (studies.parquet: {result.studies.num_rows:,} rows) in {result.wall_seconds:.1f} s")


@app.command()
def validate(
    scenarios: Annotated[Optional[list[str]], typer.Argument(help="Scenarios with expect: blocks (default: scenarios/validation/).")] = None,
    replications: Annotated[int, typer.Option("--replications", "-r", min=2, help="Replications to start with.")] = 10,
    max_replications: Annotated[int, typer.Option(min=2, help="Cap when doubling replications for tight CIs.")] = 80,
    workers: Annotated[Optional[int], typer.Option(min=1)] = None,
) -> None:
    """Run scenarios that carry expectations; one row per expectation with estimate, CI and verdict."""
    paths = scenarios or [str(p) for name, p in bundled_scenarios().items() if name.startswith("validation/")]
    loaded = []
    for path in paths:  # every file is checked before anything runs
        try:
            resolved = load_scenario(path)
        except ScenarioError as exc:
            _fail(str(exc), BAD_INPUT)
        if not resolved.expect:
            _fail(f"{path}: has no expect: block to validate", BAD_INPUT)
        loaded.append(resolved)
    failed = 0
    for resolved in loaded:
        table = Table(title=f"{resolved.name}: expectations", title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False)
        for header in ("expectation", "expected", "estimate", "95% CI", "tol", "R", "verdict"):
            table.add_column(header, no_wrap=True, min_width=20 if header == "expectation" else None)
        for check in validate_scenario(resolved, replications, workers, max(max_replications, replications)):
            failed += not check.passed
            where = ",".join(f"{k}={str(v).lower()}" for k, v in check.where.items())
            colour = "green" if check.passed else "red"
            table.add_row(check.metric + (f"\n  [dim]{where}[/]" if where else ""), f"{check.expected:.4g}", f"{check.estimate:.4g}",
                          f"{check.ci_low:.4g}..{check.ci_high:.4g}", f"±{check.tolerance:.3g}",
                          str(check.replications), f"[{colour}]{check.verdict}[/]")
        out_console.print(table)
    raise typer.Exit(FAILED if failed else 0)


@app.command()
def compare(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file, or a bundled scenario's name.")],
    policy: Annotated[list[str], typer.Option("--policy", help="Two policies: A, then B.")],
    replications: Annotated[int, typer.Option("--replications", "-r", min=2)] = 10,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a value: key.path=value.")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1)] = None,
    all_rows: Annotated[bool, typer.Option("--all", help="Show every subgroup, not only where B differs.")] = False,
) -> None:
    """Policy B against A on the same random numbers: paired differences B - A with 95% CIs."""
    from .comparison import compare_policies

    if len(policy) != 2:
        _fail("give exactly two policies: --policy A --policy B", BAD_INPUT)
    try:
        resolved = _load(scenario, set_ or [])
        for name in policy:
            policy_of(resolved.model_copy(update={"policy": resolved.policy.model_copy(update={"triage": name})}))
    except (ScenarioError, PolicyError) as exc:
        _fail(str(exc), BAD_INPUT)
    differences = compare_policies(resolved, policy[0], policy[1], replications, workers)
    table = Table(title=f"{resolved.name}: B = {policy[1]} against A = {policy[0]}, {replications} paired replications",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  caption="B - A with 95% CI; better/worse only where the CI excludes 0")
    for header in ("metric", "subgroup", "A", "B", "B - A", "95% CI", "B is"):
        table.add_column(header, no_wrap=True)
    colours = {"better": "green", "worse": "red"}
    for d in differences:
        if not all_rows and d.verdict != "better" and d.verdict != "worse" and d.where:
            continue
        where = ",".join(f"{k}={str(v).lower()}" for k, v in d.where.items()) or "all"
        table.add_row(d.metric.removesuffix("_minutes"), where, _fmt(d.a), _fmt(d.b), _fmt(d.diff),
                      "-" if d.ci_low is None else f"{d.ci_low:.3g}..{d.ci_high:.3g}",
                      f"[{colours.get(d.verdict, 'dim')}]{d.verdict}[/]")
    out_console.print(table)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


@app.command("scenarios")
def list_scenarios() -> None:
    """List the scenarios bundled with radsim (usable by name)."""
    for name, path in bundled_scenarios().items():
        out_console.print(f"{name}  [dim]{path}[/]")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted; nothing was written")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # an internal error: say so plainly, without burying the user in a traceback
        err_console.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}")
        err_console.print("please report it with the scenario file; set RADSIM_DEBUG=1 for the traceback")
        import os

        if os.environ.get("RADSIM_DEBUG"):
            raise
        sys.exit(INTERNAL)
