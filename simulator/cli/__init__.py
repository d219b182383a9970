"""The `radsim` command line: one small module per command over the one way in (`common.prepared`).

Exit codes: 0 ok, 1 internal error, 2 bad input, 3 a check failed (validation, regression, no roster).
Each command imports what it needs when it runs, so `radsim --help` starts in a fraction of a second.
"""
from __future__ import annotations

import os
import sys

import typer

from . import (
    backtest,
    baseline,
    compare,
    dashboard,
    dicom,
    fit,
    log,
    replay,
    report,
    run,
    scenarios,
    staff,
    sweep,
    validate,
)
from .common import INTERNAL, err, plain, styled

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="radsim: simulate a city teleradiology network: triage, routing, shifts, turnaround. "
                       "Reference: docs/contract.md.")
app.command()(run.run)
app.command()(validate.validate)
app.command()(compare.compare)
app.add_typer(baseline.app, name="baseline")
app.command()(sweep.sweep)
app.command()(staff.staff)
app.command()(dashboard.dashboard)
app.command()(report.report)
app.add_typer(dicom.app, name="dicom")
app.command("scenarios")(scenarios.scenarios)
app.command("log")(log.log)
app.command("fit")(fit.fit)
app.command("backtest")(backtest.backtest)
app.command("replay")(replay.replay)


def main() -> None:
    from simulator.stopping import stop_on_sigterm

    stop_on_sigterm()
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; nothing half-written was left")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # an internal error: say so plainly, without burying the user in a traceback
        err.print(styled(f"[bold red]internal error:[/] {plain(type(exc).__name__)}: {plain(exc)}"))
        err.print("please report it with the scenario file; set RADSIM_DEBUG=1 for the traceback")
        if os.environ.get("RADSIM_DEBUG"):
            raise
        sys.exit(INTERNAL)
