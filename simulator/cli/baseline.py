"""`radsim baseline save | check`: keep a run's metrics; check later code against them (exit 3 on a regression)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (
    FAILED,
    AllowCode,
    AllowLarge,
    Policy,
    Progress,
    ScenarioArg,
    Seed,
    Sets,
    Workers,
    bad_input,
    err,
    out,
    plain,
    prepared,
    styled,
)

app = typer.Typer(no_args_is_help=True, help="Save a run's metrics as a baseline; check later code against it "
                                             "(docs/regression.md).")


@app.command("save")
def save(
    scenario: ScenarioArg,
    to: Annotated[Path, typer.Option("--to", metavar="FILE", help="The baseline file to write (replaces only an earlier baseline).")]
        = Path("radsim-baseline.json"),
    replications: Annotated[int, typer.Option("--replications", "-r", metavar="R", min=2, max=10_000,
                                              help="Replications kept (checks rerun the same ones).")] = 10,
    seed: Seed = None,
    policy: Policy = None,
    set_: Sets = None,
    workers: Workers = None,
    allow_large: AllowLarge = False,
    allow_code: AllowCode = None,
) -> None:
    """Run the scenario and keep its metrics per subgroup and replication in a small JSON file."""
    from simulator.baseline import claim_baseline, save_baseline
    from simulator.experiment import run_scenario

    resolved = prepared(scenario, set_, policy, allow_large=allow_large)
    with bad_input():
        claim_baseline(to)
    with Progress(f"simulating {resolved.name}") as progress:
        result = run_scenario(resolved, replications, seed, workers, progress.fraction, summarise=False)
    with bad_input():
        save_baseline(result, to)
    out.print(f"wrote {to}: {resolved.name}, policy {resolved.policy.triage}, seed {result.seed}, "
              f"{replications} replications", highlight=False)


@app.command("check")
def check(
    scenario: ScenarioArg,
    baseline: Annotated[Path, typer.Option("--baseline", metavar="FILE", help="The baseline file from `baseline save`.")]
        = Path("radsim-baseline.json"),
    tolerances: Annotated[Optional[Path], typer.Option(metavar="FILE", help="YAML of how much worse each metric may get, laid over "
                                                       "the defaults (5%; docs/regression.md).")] = None,
    policy: Policy = None,
    set_: Sets = None,
    workers: Workers = None,
    all_rows: Annotated[bool, typer.Option("--all", help="Show every metric and subgroup, not only changes.")] = False,
    allow_code: AllowCode = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every finding as JSON instead of the table (for "
                                          "scripts); the exit code is the same.")] = False,
) -> None:
    """Rerun with the baseline's seed and replications; exit 3 naming each metric and subgroup that regressed."""
    from rich import box
    from rich.table import Table

    from simulator.baseline import check_baseline, load_baseline, load_tolerances, world_hash

    resolved = prepared(scenario, set_, policy)
    with bad_input():
        saved = load_baseline(baseline)
        allowed = load_tolerances(tolerances)
    if saved.get("world_hash") != world_hash(resolved):
        err.print(f"note: beyond its policy, the scenario differs from the one {baseline} was saved with "
                  f"({saved.get('scenario')}); checking against it all the same", highlight=False)
    with Progress(f"simulating {resolved.name}"):
        findings = check_baseline(resolved, saved, allowed, workers)
    failed = [f for f in findings if f.failed]
    if as_json:
        import dataclasses
        import json

        out.print_json(json.dumps({"scenario": resolved.name, "baseline": str(baseline),
                                   "replications": saved["replications"], "regressions": len(failed),
                                   "findings": [dataclasses.asdict(f) for f in findings]}, default=str))
        raise typer.Exit(FAILED if failed else 0)
    # Made to fit 80 columns as `compare`'s is: what is checked on its own lines, each change above its CI.
    table = Table(title=f"{resolved.name} against {baseline} ({saved['replications']} paired replications)",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  caption="change = now - baseline (paired) with its 95% CI below; under the verdict, how much "
                          "worse it may get")
    table.add_column("metric, subgroup", overflow="fold", ratio=1, min_width=20)
    for header in ("baseline", "now", "change"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    colours = {"regression": "red", "missing": "red", "improved": "green"}

    def fmt(value: float | None, sign: str = "") -> str:
        return "-" if value is None else f"{value:{sign}.3g}"

    for f in findings:
        if not all_rows and f.verdict in ("ok", "ignored"):
            continue
        where = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in f.where.items()) or "all"
        ci = "" if f.ci_low is None else f"\n({f.ci_low:+.3g}..{f.ci_high:+.3g})"
        allowed = "" if f.allowed is None else f"\n[dim]allowed {f.allowed:.3g}[/]"
        table.add_row(plain(f"{f.metric.removesuffix('_minutes')}\n  {where}"), fmt(f.baseline), fmt(f.current),
                      fmt(f.change, "+") + ci, styled(f"[{colours.get(f.verdict, 'dim')}]{f.verdict}[/]{allowed}"))
    if table.row_count:
        out.print(table)
    for f in failed:
        err.print(styled(f"[bold red]regression:[/] {plain(f.label)}"))
    out.print(f"{len(failed)} regression(s), {sum(f.verdict == 'improved' for f in findings)} improvement(s) "
              f"in {len(findings)} metric x subgroup checks")
    raise typer.Exit(FAILED if failed else 0)
