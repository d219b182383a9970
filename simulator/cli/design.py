"""`radsim design`: the cheapest pattern of shifts that meets every target (docs/staffing.md)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .common import FAILED, AllowCode, AllowLarge, Progress, Replace, RosterReplications, ScenarioArg, Sets, Targets, \
    Waive, Workers, bad_input, out, plain, prepared, styled

if TYPE_CHECKING:
    from simulator.design import DesignResult


def design(
    scenario: ScenarioArg,
    target: Targets,
    shift_lengths: Annotated[str, typer.Option("--shift-lengths", metavar="HOURS",
                                               help="Allowed shift lengths in whole hours, e.g. 6,8,10,12.")] = "6,8,10,12",
    starts: Annotated[str, typer.Option("--starts", metavar="TIMES", help="Allowed start times: 06:00-22:00/1h (every "
                                        "hour from 06:00 to 22:00), or 07:00,15:00,23:00. Default: every hour.")] = "00:00-23:00/1h",
    days: Annotated[str, typer.Option("--days", metavar="GROUPS", help="Groups of weekdays a shift runs on together: "
                                      "mon-fri,sat-sun (default), mon-sun, or each (every day on its own).")] = "mon-fri,sat-sun",
    night_premium: Annotated[float, typer.Option(metavar="SHARE", min=0.0, max=10.0, help="Share added to the cost of an "
                                                 "hour on duty between 22:00 and 06:00 (0.25: a quarter more).")] = 0.0,
    weekend_premium: Annotated[float, typer.Option(metavar="SHARE", min=0.0, max=10.0, help="Share added to the cost of "
                                                   "an hour on duty on Saturday and Sunday.")] = 0.0,
    gaps: Annotated[bool, typer.Option("--gaps", help="Allow hours with work and nobody on duty (their work waits "
                                       "for the next shift); by default every such hour keeps a reader.")] = False,
    replications: RosterReplications = 5,
    set_: Sets = None,
    waive: Waive = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="Folder for roster.yaml and design.json "
                                                    "(default out/<scenario name>-design/).")] = None,
    workers: Workers = None,
    allow_large: AllowLarge = False,
    allow_code: AllowCode = None,
    replace: Replace = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print design.json's document instead of the tables (for "
                                          "scripts); roster.yaml is written all the same.")] = False,
) -> None:
    """The cheapest pattern of shifts (starts, lengths, days, staff) that meets every target with 95%
    confidence: first from theory (SIPP: Erlang C hour by hour, then the cheapest cover of those hours by
    allowed shifts), then improved and proven by simulation on common random numbers. SIPP's roster is
    shown beside it (docs/staffing.md)."""
    from simulator.design import DESIGN, Allowed, design as run_design, parse_days, parse_hours, parse_starts
    from simulator.files import claim_directory
    from simulator.staffing import feasibility_targets, parse_target

    resolved = prepared(scenario, set_, allow_large=allow_large)
    with bad_input():
        targets = [parse_target(t) for t in target]
        feasibility_targets(resolved, waive or [])
        allowed = Allowed(parse_hours(shift_lengths), parse_starts(starts), night_premium, weekend_premium,
                          day_groups=parse_days(days), gaps=gaps)
    target_dir = out_dir or Path("out") / f"{resolved.name}-design"
    with bad_input():
        claim_directory(target_dir, DESIGN, replace)
    with Progress("designing", total=None, every=5.0) as progress, bad_input():
        result = run_design(resolved, targets, allowed, replications, workers, progress=progress.say,
                            waive=waive or [])
    with bad_input():  # what the search found is kept before anything else is printed
        result.write(target_dir, replications, replace)
    if as_json:
        import json

        out.print_json(json.dumps(result.document(replications)))
    else:
        _compared(result)
        _shifts(result)
        out.print(f"\nwrote {target_dir}/roster.yaml (the scenario with this roster) and design.json", highlight=False)
    if result.interrupted:
        from simulator.stopping import keep

        keep(f"the best roster found is kept in {target_dir}/ (roster.yaml, design.json)")
        raise typer.Exit(130)
    raise typer.Exit(0 if result.feasible else FAILED)


def _compared(result: "DesignResult") -> None:
    """SIPP's roster and the designed one side by side: reader-hours, cost, then each target on a line of
    its own (a target is long: it is never cut) with both rosters' figures on the next."""
    from rich import box
    from rich.padding import Padding
    from rich.table import Table

    title = "the cheapest roster found that meets every target" if result.feasible else \
        "NO roster found that meets every target"
    if result.interrupted:
        title = "INTERRUPTED: " + title + " so far" + ("" if result.confirmed else " (screened, not confirmed)")
    sipp, chosen = result.sipp, result.evaluation
    table = Table(title=f"{result.scenario.name}: {title}", title_justify="left", caption_justify="left",
                  caption=f"{result.evaluations} rosters simulated in {result.seconds:.0f} s, on common random numbers",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("", "SIPP (theory)", "designed"):
        table.add_column(header, justify="left" if not header else "right")
    for row in result.compared():
        table.add_row(*row)
    out.print(table)
    out.print(f"\ntargets (SIPP over {sipp.replications} replications, designed over {chosen.replications}; "
              "95% intervals)", highlight=False)
    for a, b in zip(result.target_rows(sipp), result.target_rows(chosen)):
        out.print(styled(f"  [bold]{plain(a['target'])}[/]" + ("  [dim](feasibility)[/]" if a["feasibility"] else "")))
        out.print(Padding(f"SIPP {_figure(a)}; designed {_figure(b)}", (0, 0, 0, 6)), highlight=False)


def _figure(row: dict) -> str:
    if row["mean"] is None:
        return "-"
    return f"{row['mean']:.4g} ({row['ci_low']:.4g}..{row['ci_high']:.4g})" + ("" if row["met"] else " MISSED")


def _shifts(result: "DesignResult") -> None:
    """The designed shifts in the scenario's form, pool by pool."""
    from rich import box
    from rich.table import Table

    from simulator.calendar import day_span
    from simulator.design import roster_shifts

    table = Table(title="\nthe designed shifts", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("pool", "start", "hours", "days", "staff", "hours/week"):
        table.add_column(header, justify="left" if header in ("pool", "start", "days") else "right")
    for pool, entries in roster_shifts(result.scenario, result.shifts, result.staff).items():
        for e in entries:
            if e["staff"]:
                table.add_row(pool, e["start"], str(e["hours"]), day_span(e["days"]), str(e["staff"]),
                              f"{e['staff'] * e['hours'] * len(e['days']):.0f}")
    out.print(table)

