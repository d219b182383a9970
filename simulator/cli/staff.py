"""`radsim staff`: the smallest roster that meets every target (docs/staffing.md)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .common import (
    FAILED,
    AllowCode,
    AllowLarge,
    Progress,
    Replace,
    RosterReplications,
    ScenarioArg,
    Sets,
    Targets,
    Waive,
    Workers,
    bad_input,
    fail,
    out,
    plain,
    prepared,
    styled,
)

if TYPE_CHECKING:
    from simulator.scenario import Scenario
    from simulator.staffing import StaffingResult


def staff(
    scenario: ScenarioArg,
    target: Targets,
    replications: RosterReplications = 5,
    set_: Sets = None,
    waive: Waive = None,
    cost: Annotated[str, typer.Option(metavar="COST", help="What the roster minimises: reader_hours (a week).")] = "reader_hours",
    out_dir: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="Folder for roster.yaml and staffing.json "
                                                    "(default out/<scenario name>-staffing/).")] = None,
    workers: Workers = None,
    allow_large: AllowLarge = False,
    allow_code: AllowCode = None,
    replace: Replace = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print staffing.json's document instead of the tables and "
                                          "the story (for scripts); roster.yaml is written all the same.")] = False,
) -> None:
    """The smallest roster (staff per pool x shift) that meets every target with 95% confidence, and never one
    that leaves work unread: each kind of work keeps its own target, 99% of work is reported, no pool is
    overloaded (docs/staffing.md)."""

    from simulator.files import claim_directory
    from simulator.staffing import STAFFING, feasibility_targets, optimise, parse_target

    if cost != "reader_hours":
        fail("--cost: only reader_hours is known")
    resolved = prepared(scenario, set_, allow_large=allow_large)
    with bad_input():
        targets = [parse_target(t) for t in target]
        feasibility_targets(resolved, waive or [])
    target_dir = out_dir or Path("out") / f"{resolved.name}-staffing"
    with bad_input():
        claim_directory(target_dir, STAFFING, replace)
    with Progress("searching", total=None, every=5.0) as progress, bad_input():
        result = optimise(resolved, targets, replications, workers, waive=waive or [], progress=progress.say)
    with bad_input():  # what the search found is kept before anything else runs
        result.write(target_dir, replications, waive or [], replace)
    if as_json:
        import json

        out.print_json(json.dumps(result.document(replications, waive or [])))
    else:
        _roster(resolved, result, replications)
        _targets(result)
        out.print(f"\nwrote {target_dir}/roster.yaml (the scenario with this roster) and staffing.json",
                  highlight=False)
        if result.feasible and not result.interrupted:  # stopped: the story of a roster is not what was asked for
            from simulator.stopping import keep

            keep(f"the roster found is kept in {target_dir}/ (roster.yaml, staffing.json); only the story of what "
                 "it gives high-risk patients was cut short")
            _tell(result.scenario, result.evaluation.replications, workers)
    if result.interrupted:
        from simulator.stopping import keep

        keep(f"the roster found is kept in {target_dir}/ (roster.yaml, staffing.json)")
        raise typer.Exit(130)
    raise typer.Exit(0 if result.feasible else FAILED)


def _roster(resolved: "Scenario", result: "StaffingResult", replications: int) -> None:
    """The roster found: each pool and shift entry, where the search started and the staff it found."""
    from rich import box
    from rich.table import Table

    from simulator.calendar import day_span

    if result.feasible and result.proven_minimal:
        title = "the smallest roster meeting every target"
    elif result.feasible:
        title = "INTERRUPTED: the best roster found so far (meets every target; NOT proven minimal" + \
            ("" if result.confirmed else f"; screened with 2 replications, not confirmed with {replications}") + ")"
    else:
        title = "NO roster found that meets every target" + ("" if result.proven_minimal else " (interrupted)")
    roster = Table(title=f"{resolved.name}: {title}", caption=f"{result.evaluations} rosters simulated in "
                   f"{result.seconds:.0f} s; estimate: square-root staffing, where the search started",
                   title_justify="left", caption_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("pool", "shift", "days", "estimate", "staff", "hours/week"):
        roster.add_column(header, justify="left" if header in ("pool", "shift", "days") else "right", overflow="fold")
    for slot, first, n in zip(result.slots, result.start, result.staff):
        days = resolved.pools[slot.pool].shifts[slot.index].days
        roster.add_row(slot.pool, slot.label, day_span(days), str(first), str(n),
                       f"{n * slot.hours_per_week:.0f}")
    roster.add_row("all", "", "", str(sum(result.start)), str(sum(result.staff)),
                   f"{sum(n * s.hours_per_week for n, s in zip(result.staff, result.slots)):.0f}")
    out.print(roster)


def _targets(result: "StaffingResult") -> None:
    """Each target on a line of its own (a target is long: it is never cut), its figures on the next."""
    from rich.padding import Padding

    from simulator.staffing import NO_OVERLOAD

    out.print(f"\ntargets (estimates over {result.evaluation.replications} replications; binds on: one reader less "
              "there breaks it; feasibility: a condition every roster must meet, --waive drops one)",
              highlight=False)
    overloaded = result.evaluation.overloaded
    rows = [*result.target_rows(),
            {"target": NO_OVERLOAD, "feasibility": True, "shown": ", ".join(overloaded) or "none",
             "binds_on": result.binding.get(NO_OVERLOAD, [])}]
    for row in rows:
        mean, low, high, slack = (row.get(k) for k in ("mean", "ci_low", "ci_high", "slack"))
        shown = row.get("shown") or ("-" if mean is None else
                                     f"{mean:.4g}" + ("" if low is None else f" (95% CI {low:.4g}..{high:.4g})"))
        figures = [shown] + ([] if slack is None else [f"slack {slack:.3g}"])
        out.print(styled(f"  [bold]{plain(row['target'])}[/]" + ("  [dim](feasibility)[/]" if row["feasibility"] else "")))
        binds = ", ".join(row["binds_on"]) or ("not found (interrupted)" if result.interrupted else "nothing")
        out.print(Padding(f"{', '.join(figures)}; binds on {binds}", (0, 0, 0, 6)), highlight=False)
    if result.interrupted:
        pass  # whether another roster of the same cost meets every target was not looked at
    elif result.alternatives:
        out.print(styled(f"\n[bold]not the only one[/]: {len(result.alternatives)} other roster(s) of the same cost meet "
                         "every target too; each differs from the one above in:"))
        for moved in result.alternative_moves():
            out.print(f"  {moved}", highlight=False)
    elif result.alternatives_checked and result.moves_tried:
        out.print("\nthe only roster of this cost found: no reader can move to another shift of equal hours and "
                  "keep every target", highlight=False)
    elif not result.alternatives_checked:
        out.print("\nother rosters of the same cost (a reader moved between shifts of equal hours) were not all "
                  "checked: another may meet every target too", highlight=False)


def _tell(roster: "Scenario", replications: int, workers: int | None) -> None:
    """What the roster gives the high-risk patients, in the words of `radsim run`."""
    from simulator.experiment import run_scenario
    from simulator.story import tell

    run = run_scenario(roster, replications, workers=workers)
    out.print(styled("[bold]with this roster[/]:"))
    for line in tell(run).lines():
        out.print(f"  {line}", highlight=False)

