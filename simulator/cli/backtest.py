"""`radsim backtest LOG --holdout DAYS`: fit on the earlier part of a log, simulate its held-out weeks and
compare with what happened (docs/calibration.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import FAILED, AllowCode, Workers, bad_input, fail, out, styled
from .log import DutiesFile, LogFile, Trace, duties_given, kept


def backtest(
    path: LogFile,
    holdout: Annotated[float, typer.Option(metavar="DAYS", min=1.0, max=3650.0, help="The last days of the log, "
                                           "held out of the fit and simulated.")],
    replications: Annotated[int, typer.Option("--replications", "-r", metavar="R", min=3, max=1000,
                                              help="Replications of the held-out weeks.")] = 10,
    roster: Annotated[str, typer.Option(metavar="FROM", help="holdout: the readers the log shows on duty in the "
                                        "held-out days, date by date; fitted: the weekly roster fitted on the "
                                        "earlier part.")] = "holdout",
    observed_policy: Annotated[str, typer.Option(metavar="POLICY", help="The policy the log ran under (a log "
                                                 "does not say): the held-out days are simulated under it.")] = "fifo",
    report: Annotated[Path | None, typer.Option(metavar="FILE", help="Also an HTML page: the checks, turnaround "
                                                "and backlog observed and simulated on one axis.")] = None,
    trace: Trace = None,
    duties: DutiesFile = None,
    workers: Workers = None,
    allow_code: AllowCode = None,
) -> None:
    """Back-test a fitted scenario on held-out weeks: turnaround by order priority, within the model's 99%
    prediction interval or not; exit 3 when a check is outside."""
    from rich import box
    from rich.table import Table

    from simulator.files import claim_file, write_text
    from simulator.oplog.backtest import backtest as run_backtest
    from simulator.report import is_report, page

    if roster not in ("holdout", "fitted"):
        fail(f"--roster must be holdout or fitted, not {roster!r}")
    if report is not None:
        from simulator.extras import require

        with bad_input():
            require("report", "--report")
        with bad_input():
            claim_file(report, is_report)
    found = kept(path, trace)
    given = duties_given(duties)
    with bad_input():  # a policy that cannot be used is bad input, as everywhere
        try:
            result = run_backtest(found.table, holdout, replications, roster, workers,
                                  policy=observed_policy, duties=given)  # type: ignore[arg-type]
        except ValueError as exc:
            fail(f"{path}: {exc}")
    table = Table(title=f"{path}: fitted on {result.train_rows:,} rows, {result.holdout_days:.1f} days held out "
                        f"from {result.holdout_start:%Y-%m-%d} ({result.holdout_rows:,} rows), {replications} "
                        f"replications, roster: {roster}, policy: {observed_policy}", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("turnaround (min)", "observed", "simulated", "99% prediction interval", "verdict"):
        table.add_column(header, justify="left" if header.startswith("turn") else "right")
    for check in result.checks:
        colour = "green" if check.within else "red"
        table.add_row(f"{check.statistic} {check.group}", f"{check.observed:.1f}", f"{check.simulated:.1f}",
                      f"{check.low:.1f}..{check.high:.1f}", styled(f"[{colour}]{'within' if check.within else 'OUTSIDE'}[/]"))
    out.print(table)
    if not result.checks:
        out.print("no group has 30 studies in the hold-out (and 30 a replication in the simulation): nothing to "
                  "check, so no pass; hold out more days", highlight=False)
    out.print(f"Kolmogorov-Smirnov distance, all primary reads: {result.ks:.3f}", highlight=False)
    if report is not None:
        from simulator.extras import require

        with bad_input():
            require("report", "--report")
        from simulator.oplog.pages import backtest_page

        with bad_input():
            write_text(report, page(*backtest_page(result, path.name, roster, observed_policy)), is_report)
        out.print(f"wrote {report}", highlight=False)
    if not result.passed:
        raise typer.Exit(FAILED)


