"""The `radsim` command line. Exit codes: 0 ok, 1 internal error, 2 bad input, 3 a validation failed."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .errors import ScenarioError
from .experiment import Run, run_scenario
from .triage_config import policy_of
from .loading import bundled_scenarios
from .prepare import load_scenario
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
    policy: Annotated[Optional[str], typer.Option(help="Triage policy: fifo, ai_priority, hierarchical, score, aging, sla_edf, rules or module:Class.")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a value: key.path=value (repeatable).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Output directory (default out/<scenario name>/).")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Processes for replications (default: all cores).")] = None,
    trace: Annotated[Optional[Path], typer.Option(help="Replay the primary studies of a trace (radsim dicom trace) instead of drawing arrivals: the same as arrivals.trace in the scenario.")] = None,
) -> None:
    """Simulate a scenario; write studies.parquet, readers.parquet, summary.json and scenario.yaml."""
    from .output import write_run

    overrides = [*(set_ or []), *([f"arrivals.trace={trace.resolve()}"] if trace is not None else [])]
    try:
        resolved = _load(scenario, overrides, policy)
        policy_of(resolved)  # a bad policy is bad input: fail before simulating
    except (ScenarioError, PolicyError) as exc:
        _fail(str(exc), BAD_INPUT)
    if resolved.arrivals is not None:
        from .trace_arrivals import replay_counts

        counts = replay_counts(resolved)
        err_console.print(f"replaying {counts['replayed']:,} of the {counts['rows']:,} studies of "
                          f"{resolved.arrivals.trace} ({counts['outside']:,} outside the horizon, "
                          f"{counts['unmatched']:,} of no study type left out)", highlight=False)
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
    failed = total = 0
    for resolved in loaded:
        table = Table(title=f"{resolved.name}: expectations", title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False)
        for header in ("expectation", "expected", "estimate ±95% CI", "tol", "R", "verdict"):
            table.add_column(header, no_wrap=True, justify="left" if header == "expectation" else "right",
                             min_width=24 if header == "expectation" else None)
        for check, expectation in zip(validate_scenario(resolved, replications, workers,
                                                        max(max_replications, replications)), resolved.expect):
            total += 1
            failed += not check.passed
            where = ",".join(f"{k}={str(v).lower()}" for k, v in check.where.items())
            source = getattr(expectation.value, "theory", None)
            what = escape(check.metric) + (f"\n  [dim]{escape(where)}[/]" if where else "") + \
                (f"\n  [dim]theory: {source}{'' if expectation.value.of is None else f'({expectation.value.of})'}[/]"
                 if source else "")
            colour = "green" if check.passed else "red"
            table.add_row(what, _number(check.expected), f"{_number(check.estimate)}[dim]±{_number(check.half_width, 3)}[/]",
                          f"±{_number(check.tolerance, 3)}", str(check.replications), f"[{colour}]{check.verdict}[/]")
        out_console.print(table)
    out_console.print(f"{total - failed} of {total} expectations pass" + (f", [red]{failed} fail[/]" if failed else ""))
    raise typer.Exit(FAILED if failed else 0)


def _variant(scenario: str, policy: str, overrides: list[str]) -> tuple[str, Scenario]:
    """A compared variant: a policy name or `module:Class`, or a scenario fragment file laid over the scenario."""
    if policy.endswith((".yaml", ".yml")):
        return Path(policy).stem, load_scenario(scenario, overrides, fragments=[policy])
    resolved = _load(scenario, overrides, policy)
    policy_of(resolved)  # a user policy is imported now: a bad path is bad input
    return policy, resolved


@app.command()
def compare(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file, or a bundled scenario's name.")],
    policy: Annotated[list[str], typer.Option("--policy", help="Two variants, A then B: a policy name, "
                                              "'package.module:Class', or a scenario fragment file (.yaml).")],
    replications: Annotated[int, typer.Option("--replications", "-r", min=2)] = 10,
    seed: Annotated[Optional[int], typer.Option(help="Root seed (default: the scenario's).", min=0)] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a value in both: key.path=value.")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1)] = None,
    all_rows: Annotated[bool, typer.Option("--all", help="Show every subgroup, not only where B differs.")] = False,
    out: Annotated[Optional[Path], typer.Option(help="Also write DIR/comparison.json (for `radsim report DIR`).")] = None,
) -> None:
    """B against A on the same random numbers: paired differences B - A with 95% CIs, per subgroup."""
    from .comparison import compare_scenarios, summary_counts

    if len(policy) != 2:
        _fail("give exactly two variants: --policy A --policy B", BAD_INPUT)
    try:
        (name_a, a), (name_b, b) = (_variant(scenario, p, set_ or []) for p in policy)
    except (ScenarioError, PolicyError) as exc:
        _fail(str(exc), BAD_INPUT)
    progress = LateProgress("comparing")
    try:
        differences = compare_scenarios(a, b, replications, workers, seed)
    finally:
        progress.close()
    table = Table(title=f"{a.name}: B = {name_b} against A = {name_a}, {replications} paired replications",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  caption="B - A with 95% CI; better/worse only where the CI excludes 0")
    for header in ("metric", "subgroup", "A", "B", "B - A", "95% CI", "B is"):
        table.add_column(header, no_wrap=True)
    colours = {"better": "green", "worse": "red"}
    for d in differences:
        if not all_rows and d.verdict != "better" and d.verdict != "worse" and d.where:
            continue
        table.add_row(d.metric.removesuffix("_minutes"), _where(d.where), _fmt(d.a), _fmt(d.b), _fmt(d.diff),
                      "-" if d.ci_low is None else f"{d.ci_low:.3g}..{d.ci_high:.3g}",
                      f"[{colours.get(d.verdict, 'dim')}]{d.verdict}[/]")
    out_console.print(table)
    if out is not None:
        import dataclasses
        import json

        from .output import atomic_file

        atomic_file(Path(out) / "comparison.json", json.dumps({
            "scenario": a.name, "a": name_a, "b": name_b, "replications": replications,
            "differences": [dataclasses.asdict(d) for d in differences]}, indent=1, default=str))
    counts = summary_counts(differences)
    out_console.print(f"B is [green]better[/] in {counts['better']}, [red]worse[/] in {counts['worse']}, "
                      f"not distinguishable in {counts['same']} of {len(differences)} metric x subgroup pairs"
                      + ("" if all_rows else " (--all shows every row)"))


def _number(value: float, digits: int = 4) -> str:
    """`digits` significant digits, or a whole number with thousands separators for large counts."""
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.{digits}g}"


def _where(where: dict) -> str:
    return escape(",".join(f"{k}={str(v).lower()}" for k, v in where.items()) or "all")


def _fmt(value: float | None, sign: str = "") -> str:
    return "-" if value is None else f"{value:{sign}.3g}"


baseline_app = typer.Typer(no_args_is_help=True, help="Save a run's metrics as a baseline; check later code against it.")
app.add_typer(baseline_app, name="baseline")


@baseline_app.command("save")
def baseline_save(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file, or a bundled scenario's name.")],
    to: Annotated[Path, typer.Option("--to", help="Baseline file to write.")] = Path("radsim-baseline.json"),
    replications: Annotated[int, typer.Option("--replications", "-r", min=2)] = 10,
    seed: Annotated[Optional[int], typer.Option(help="Root seed (default: the scenario's).", min=0)] = None,
    policy: Annotated[Optional[str], typer.Option(help="Triage policy to run instead of the scenario's.")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a value: key.path=value.")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1)] = None,
) -> None:
    """Run the scenario and keep its metrics per subgroup and replication in a small JSON file."""
    from .baseline import save_baseline

    try:
        resolved = _load(scenario, set_ or [], policy)
        policy_of(resolved)
    except (ScenarioError, PolicyError) as exc:
        _fail(str(exc), BAD_INPUT)
    progress = LateProgress(f"simulating {resolved.name}")
    try:
        result = run_scenario(resolved, replications, seed, workers, progress, summarise=False)
    finally:
        progress.close()
    save_baseline(result, to)
    out_console.print(f"wrote {to}: {resolved.name}, policy {resolved.policy.triage}, seed {result.seed}, "
                      f"{replications} replications")


@baseline_app.command("check")
def baseline_check(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file, or a bundled scenario's name.")],
    baseline: Annotated[Path, typer.Option("--baseline", help="Baseline file from `baseline save`.")] = Path("radsim-baseline.json"),
    tolerances: Annotated[Optional[Path], typer.Option(help="YAML of allowed changes per metric (default: 5%).")] = None,
    policy: Annotated[Optional[str], typer.Option(help="Triage policy to run instead of the scenario's.")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a value: key.path=value.")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1)] = None,
    all_rows: Annotated[bool, typer.Option("--all", help="Show every metric and subgroup, not only changes.")] = False,
) -> None:
    """Rerun with the baseline's seed and replications; exit 3 naming each metric and subgroup that regressed."""
    from .baseline import check_baseline, load_baseline, load_tolerances, world_hash

    try:
        resolved = _load(scenario, set_ or [], policy)
        policy_of(resolved)
        saved = load_baseline(baseline)
        allowed = load_tolerances(tolerances)
    except (ScenarioError, PolicyError) as exc:
        _fail(str(exc), BAD_INPUT)
    if saved.get("world_hash") != world_hash(resolved):
        err_console.print(f"note: beyond its policy, the scenario differs from the one {baseline} was saved with "
                          f"({saved.get('scenario')}); checking against it all the same")
    progress = LateProgress(f"simulating {resolved.name}")
    try:
        findings = check_baseline(resolved, saved, allowed, workers)
    finally:
        progress.close()
    table = Table(title=f"{resolved.name} against {baseline} ({saved['replications']} paired replications)",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  caption="change = now - baseline (paired, ±95% CI); allowed = how much worse it may get")
    for header in ("metric[subgroup]", "baseline", "now", "change", "allowed", "verdict"):
        table.add_column(header, no_wrap=True, justify="left" if header[0] == "m" else "right",
                         min_width=30 if header[0] == "m" else None)
    colours = {"regression": "red", "missing": "red", "improved": "green"}
    for f in findings:
        if not all_rows and f.verdict in ("ok", "ignored"):
            continue
        change = _fmt(f.change, "+") + ("" if f.ci_low is None else f"[dim]±{(f.ci_high - f.ci_low) / 2:.2g}[/]")
        table.add_row(escape(f.label.replace("_minutes", "")), _fmt(f.baseline), _fmt(f.current), change,
                      "-" if f.allowed is None else f"{f.allowed:.3g}", f"[{colours.get(f.verdict, 'dim')}]{f.verdict}[/]")
    if table.row_count:
        out_console.print(table)
    failed = [f for f in findings if f.failed]
    for f in failed:
        err_console.print(f"[bold red]regression:[/] {escape(f.label)}", highlight=False)
    out_console.print(f"{len(failed)} regression(s), {sum(f.verdict == 'improved' for f in findings)} improvement(s) "
                      f"in {len(findings)} metric x subgroup checks")
    raise typer.Exit(FAILED if failed else 0)


@app.command()
def sweep(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file, or a bundled scenario's name.")],
    grid: Annotated[Optional[list[str]], typer.Option("--grid", help="An axis: key.path=v1,v2,... or key.path=lo:hi (repeatable; the product is swept).")] = None,
    grid_file: Annotated[Optional[Path], typer.Option(help="A YAML list of points {key.path: value}, for grids that are not cartesian.")] = None,
    replications: Annotated[int, typer.Option("--replications", "-r", min=1)] = 10,
    seed: Annotated[Optional[int], typer.Option(help="Root seed (default: the scenario's).", min=0)] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a value at every point: key.path=value.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Sweep directory (default out/<scenario name>-sweep/).")] = None,
    cluster: Annotated[Optional[str], typer.Option(help="A Dask scheduler address (tcp://host:port) to run on.")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Local processes (default: all cores).")] = None,
) -> None:
    """Run a scenario over a grid x replications; resumable; one Parquet table of metrics per point and replication."""
    from .loading import read_yaml, resolve_path, with_base
    from .prepare import apply_overrides
    from .sweep import parse_grid, read_grid_file, run_sweep

    try:
        path = resolve_path(scenario)
        data = apply_overrides(with_base(read_yaml(path), path, ()), set_ or [], str(path))
        points = parse_grid(grid or []) if grid else []
        if grid_file is not None:
            points += read_grid_file(grid_file)
        if not points:
            _fail("give at least one --grid axis or a --grid-file", BAD_INPUT)
        name = load_scenario(path, set_ or []).name
    except ScenarioError as exc:
        _fail(str(exc), BAD_INPUT)
    target = out or Path("out") / f"{name}-sweep"
    executor = client = None
    if cluster:
        from distributed import Client

        client = Client(cluster, timeout="20s")
        executor = client.get_executor()
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f}"),
                   TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(), TimeRemainingColumn(),
                   console=err_console, transient=True)
    task = bar.add_task(f"sweeping {name}", total=len(points) * replications, failed=0)

    def progress(done: int, failed: int, total: int) -> None:
        bar.update(task, completed=done, failed=failed)

    try:
        with bar:
            result = run_sweep(data, str(path), points, replications, target, seed, executor, workers, progress)
    except ScenarioError as exc:
        _fail(str(exc), BAD_INPUT)
    finally:
        if client is not None:
            client.close()
    out_console.print(f"wrote {target}/ (results.parquet, summary.parquet): {len(points)} points x {replications} "
                      f"replications; {result.computed} computed now, {result.reused} found done")
    if result.failures:
        for failure in result.failures[:10]:
            err_console.print(f"[bold red]failed:[/] {escape(str(failure['point']))} replication "
                              f"{failure['replication']}: {escape(failure['error'])}", highlight=False)
        err_console.print(f"{len(result.failures)} run(s) failed: see {target}/failures.json; run again to retry them")
        raise typer.Exit(INTERNAL)


@app.command()
def staff(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file, or a bundled scenario's name.")],
    target: Annotated[list[str], typer.Option("--target", help="metric[split=value] <= number (or >=); repeatable.")],
    replications: Annotated[int, typer.Option("--replications", "-r", min=2)] = 5,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a value: key.path=value.")] = None,
    cost: Annotated[str, typer.Option(help="What the roster minimises: reader_hours (a week).")] = "reader_hours",
    out: Annotated[Optional[Path], typer.Option(help="Directory for roster.yaml and staffing.json.")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1)] = None,
) -> None:
    """The smallest roster (staff per pool x shift) that meets every target with 95% confidence."""
    import json

    from .loading import dump_scenario
    from .output import atomic_file
    from .staffing import optimise, parse_target

    if cost != "reader_hours":
        _fail("--cost: only reader_hours is known", BAD_INPUT)
    try:
        resolved = _load(scenario, set_ or [])
        policy_of(resolved)
        targets = [parse_target(t) for t in target]
    except (ScenarioError, PolicyError) as exc:
        _fail(str(exc), BAD_INPUT)
    with err_console.status("searching") as status:
        result = optimise(resolved, targets, replications, workers, progress=lambda text: status.update(text))
    roster = Table(title=f"{resolved.name}: {'smallest roster meeting every target' if result.feasible else 'NO roster found'}"
                   f" ({result.evaluations} rosters simulated, {replications} replications each)",
                   title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("pool", "shift", "days", "start estimate", "staff", "reader-hours/week"):
        roster.add_column(header, justify="left" if header in ("pool", "shift", "days") else "right", no_wrap=True)
    for slot, first, n in zip(result.slots, result.start, result.staff):
        days = resolved.pools[slot.pool].shifts[slot.index].days
        roster.add_row(slot.pool, slot.label, ",".join(days) if len(days) < 7 else "every day", str(first), str(n),
                       f"{n * slot.hours_per_week:.0f}")
    out_console.print(roster)
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
    out_console.print(checks)
    target_dir = out or Path("out") / f"{resolved.name}-staffing"
    atomic_file(target_dir / "roster.yaml", dump_scenario(result.scenario))
    atomic_file(target_dir / "staffing.json", json.dumps({
        "scenario": resolved.name, "replications": replications, "feasible": result.feasible,
        "rosters_simulated": result.evaluations, "targets": rows,
        "roster": [{"pool": s.pool, "shift": s.label, "path": s.path, "start_estimate": a, "staff": n}
                   for s, a, n in zip(result.slots, result.start, result.staff)]}, indent=1))
    out_console.print(f"wrote {target_dir}/roster.yaml (the scenario with this roster) and staffing.json")
    raise typer.Exit(0 if result.feasible else FAILED)


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on localhost.")] = 8501,
) -> None:
    """Start the dashboard for administrators on http://localhost:PORT (Ctrl-C stops it)."""
    import subprocess
    from importlib import resources

    app_path = resources.files("dashboard") / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app_path), "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"]
    out_console.print(f"radsim dashboard on http://localhost:{port} (Ctrl-C to stop)")
    raise typer.Exit(subprocess.call(command))


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A directory written by `radsim run`.")],
    out: Annotated[Optional[Path], typer.Option(help="HTML file to write (default RUN_DIR/report.html).")] = None,
) -> None:
    """One self-contained HTML file of a run: turnaround, worklist over the week, waits, utilisation."""
    from .report import write_report

    try:
        target = write_report(run_dir, out)
    except ScenarioError as exc:
        _fail(str(exc), BAD_INPUT)
    out_console.print(f"wrote {target}")


dicom_app = typer.Typer(no_args_is_help=True, help="Synthetic DICOM studies from a run or a scenario; DICOM folders to study traces (to replay with run --trace); sending to an archive, and the archive. See docs/dicom.md.")
app.add_typer(dicom_app, name="dicom")


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, transient=True)


def _records_from_scenario(source: str, studies: int, seed: int | None) -> list:
    """The first `studies` image studies of a scenario's run, run just long enough to have them."""
    from synthetic_dicom.generate import records_from_run

    try:
        scenario = load_scenario(source)
    except ScenarioError as exc:
        _fail(str(exc), BAD_INPUT)
    daily = sum(sum(map(sum, t.arrivals.hourly_rates())) / 7.0
                for t in scenario.study_types.values() if t.kind == "primary")
    if daily <= 0:
        _fail(f"{source}: study_types: no primary study type has arrivals, so there are no studies to write", BAD_INPUT)
    days = min(3660.0, studies / daily * 1.2 + 1.0)
    resolved = scenario.model_copy(update={"horizon_days": days, "warmup_days": 0.0, "expect": []})
    run = run_scenario(resolved, 1, seed, workers=1)
    records = list(records_from_run(run.studies, resolved, studies))
    if len(records) < studies:
        err_console.print(f"{source}: only {len(records)} studies in {days:g} days; writing those")
    return records


@dicom_app.command("generate")
def dicom_generate(
    source: Annotated[str, typer.Argument(help="A run directory (`radsim run --out`), its studies.parquet, or, with --studies, a scenario (YAML file or bundled name).")],
    out: Annotated[Path, typer.Option(help="Folder for the studies (one sub-folder per StudyInstanceUID); replaced whole.")],
    studies: Annotated[Optional[int], typer.Option(min=1, help="From a scenario: this many studies, the first of its run.")] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="From a run: at most this many studies, in arrival order.")] = None,
    seed: Annotated[Optional[int], typer.Option(min=0, help="From a scenario: root seed (default: the scenario's).")] = None,
    size: Annotated[int, typer.Option(min=16, max=1024, help="Image rows and columns.")] = 64,
) -> None:
    """One DICOM Part-10 study per image study (StudyInstanceUID = study_id), with the AI result as a
    structured report where the AI scored it."""
    import pyarrow.parquet as pq

    from synthetic_dicom.generate import StudyWriter, records_from_run

    from .output import atomic_directory

    path = Path(source)
    if studies is not None:
        records = _records_from_scenario(source, studies, seed)
    else:
        table = path / "studies.parquet" if path.is_dir() else path
        scenario_file = table.parent / "scenario.yaml"
        if table.suffix != ".parquet" or not table.is_file() or not scenario_file.is_file():
            _fail(f"{source}: not a run (needs studies.parquet with scenario.yaml beside it; see `radsim run`), "
                  "and no --studies N to generate from a scenario", BAD_INPUT)
        try:
            resolved = load_scenario(scenario_file)
            records = list(records_from_run(pq.read_table(table), resolved, limit))
        except ScenarioError as exc:
            _fail(str(exc), BAD_INPUT)
        except (KeyError, ValueError, OSError) as exc:
            _fail(f"{table}: not a studies table of radsim: {exc}", BAD_INPUT)
    writer, files = StudyWriter(size), 0

    def fill(folder: Path) -> None:
        nonlocal files
        with _bar() as bar:
            task = bar.add_task("writing studies", total=len(records))
            for record in records:
                files += len(writer.write(record, folder))
                bar.advance(task)

    started = time.perf_counter()
    atomic_directory(out, fill)
    seconds = time.perf_counter() - started
    out_console.print(f"wrote {len(records)} studies ({files} files) under {out}/ in {seconds:.1f} s")


@dicom_app.command("trace")
def dicom_trace(
    folder: Annotated[Path, typer.Argument(help="A folder of DICOM files (searched recursively).")],
    out: Annotated[Path, typer.Option(help="The trace to write (Parquet); its quarantine goes beside it as .json.")],
) -> None:
    """Read headers only; one row per study (arrival, modality, body part, site, referral, AI score and flag); bad files quarantined."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthetic_dicom.trace import trace_folder

    from .output import atomic_bytes, atomic_file

    if not folder.is_dir():
        _fail(f"{folder}: no such folder", BAD_INPUT)
    from synthetic_dicom.trace import folder_files

    paths = folder_files(folder)
    with _bar() as bar:
        task = bar.add_task("reading headers", total=len(paths))
        result = trace_folder(folder, paths, progress=lambda done: bar.update(task, completed=done))
    sink = pa.BufferOutputStream()
    pq.write_table(result.studies, sink)
    atomic_bytes(out, sink.getvalue().to_pybytes())
    atomic_file(out.with_suffix(".quarantine.json"), json.dumps(result.quarantine, indent=1))
    out_console.print(f"wrote {out}: {result.studies.num_rows} studies; {len(result.quarantine)} file(s) quarantined"
                      + (f" (see {out.with_suffix('.quarantine.json')})" if result.quarantine else ""))
    if result.studies.num_rows:  # enough to check the trace before replaying it
        out_console.print(result.summary(), highlight=False)


@dicom_app.command("send")
def dicom_send(
    folder: Annotated[Path, typer.Argument(help="A folder of DICOM files (searched recursively).")],
    to: Annotated[str, typer.Option("--to", help="The archive, HOST:PORT.")],
    called: Annotated[str, typer.Option(help="The archive's AE title.")] = "RADSIM_ARCHIVE",
    associations: Annotated[int, typer.Option(min=1, max=16, help="Parallel associations (a modality uses one; each study goes over one).")] = 1,
) -> None:
    """Send every file by C-STORE, as a modality would; exit 1 if any could not be stored."""
    from synthetic_dicom.network import send_folder

    host, _, port = to.rpartition(":")
    if not host or not port.isdigit():
        _fail(f"--to {to!r}: give HOST:PORT", BAD_INPUT)
    if not folder.is_dir():
        _fail(f"{folder}: no such folder", BAD_INPUT)
    from synthetic_dicom.trace import folder_files

    paths = folder_files(folder)
    started = time.perf_counter()
    with _bar() as bar:
        task = bar.add_task("sending", total=len(paths))
        try:
            result = send_folder(paths, host, int(port), called=called, associations=associations,
                                 progress=lambda done: bar.update(task, completed=done))
        except ConnectionError as exc:
            _fail(str(exc), INTERNAL)
    seconds = time.perf_counter() - started
    studies = len({Path(p).parent for p in paths})
    out_console.print(f"sent {result.sent} file(s) of {studies} folder(s) to {to} in {seconds:.1f} s "
                      f"({result.sent / max(seconds, 1e-9):.0f} files/s)")
    for path, reason in result.failed[:10]:
        err_console.print(f"[bold red]not stored:[/] {escape(path)}: {escape(reason)}", highlight=False)
    raise typer.Exit(INTERNAL if result.failed else 0)


@dicom_app.command("archive")
def dicom_archive(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 11112,
    dir_: Annotated[Path, typer.Option("--dir", help="Where received studies are filed.")] = Path("out/archive"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """A small receiving archive (C-STORE SCP): files each object under DIR/<StudyInstanceUID>/ (Ctrl-C stops it)."""
    from synthetic_dicom.network import Archive

    out_console.print(f"archive RADSIM_ARCHIVE on {host}:{port}, filing into {dir_}/ (Ctrl-C to stop)")
    archive = Archive(dir_, port, host)
    try:
        archive.start(block=True)
    except OSError as exc:  # the port is taken, or not ours to listen on
        _fail(f"cannot listen on {host}:{port}: {exc}", INTERNAL)
    out_console.print(f"archive stopped: {archive.received} object(s) filed under {dir_}/")


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
