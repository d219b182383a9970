"""The `radsim` command line: one small module per command over the one way in (`common.prepared`).

Exit codes: 0 ok, 1 internal error, 2 bad input, 3 a check failed (validation, regression, no roster), 4 the
machine could not do it (disk or quota full, no permission to write, out of memory), 130 interrupted.
Each command imports what it needs when it runs, so `radsim --help` starts in a fraction of a second.
"""
from __future__ import annotations

import logging
import os
import sys

import typer

from . import (
    backtest,
    baseline,
    compare,
    compile,
    dashboard,
    design,
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
from .common import INTERNAL, RESOURCES, err, plain, styled

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
app.command()(design.design)
app.command()(dashboard.dashboard)
app.command()(report.report)
app.add_typer(dicom.app, name="dicom")
app.command("scenarios")(scenarios.scenarios)
app.command("log")(log.log)
app.command("fit")(fit.fit)
app.command("backtest")(backtest.backtest)
app.command("replay")(replay.replay)
app.command("compile")(compile.compile_loops)


def main() -> None:
    killed = _pools_killed()
    try:
        _main()
    except SystemExit as exc:
        if _pools_killed() > killed:  # this command killed a pool's workers
            _exit_now(exc.code)
        raise


def _pools_killed() -> int:
    workers = sys.modules.get("simulator.workers")  # (imported only by commands that start workers)
    return 0 if workers is None else workers.killed()


def _main() -> None:
    from simulator.errors import OutputError
    from simulator.stopping import caused_by, interrupted, stop_on_sigterm

    stop_on_sigterm()
    _notes()
    try:
        app()
    except KeyboardInterrupt:
        err.print(interrupted(), soft_wrap=True)
        sys.exit(130)
    except SystemExit as exc:
        if exc.code == 130 and caused_by(exc, KeyboardInterrupt):  # typer turns Ctrl-C into a silent exit 130
            err.print(interrupted(), soft_wrap=True)
        if caused_by(exc, BrokenPipeError):  # typer turns it into exit 1
            _quiet_exit()
        raise
    except BrokenPipeError:
        _quiet_exit()
    except OutputError as exc:
        err.print(styled(f"[bold red]error:[/] {plain(exc)}"), soft_wrap=True)
        err.print(f"nothing half-written was left; {exc.kept or 'earlier outputs there are unchanged'}. Free space "
                  "(or fix the permission) and run the same command again.", soft_wrap=True)
        sys.exit(RESOURCES)
    except MemoryError:
        err.print(styled("[bold red]error:[/] out of memory: the run needs more than this machine has; nothing "
                         "half-written was left. Shorten the horizon, run fewer workers (-w), or stay within the "
                         "limits of docs/contract.md (without --allow-large)."), soft_wrap=True)
        sys.exit(RESOURCES)
    except Exception as exc:  # an internal error: say so plainly, without burying the user in a traceback
        err.print(styled(f"[bold red]internal error:[/] {plain(type(exc).__name__)}: {plain(exc)}"))
        err.print("please report it with the scenario file; set RADSIM_DEBUG=1 for the traceback")
        if os.environ.get("RADSIM_DEBUG"):
            raise
        sys.exit(INTERNAL)


class _Note(logging.Handler):
    """What radsim's modules log as warnings (a run on fewer workers than asked, to stay within memory),
    printed as notes on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"note: {record.getMessage()}", soft_wrap=True)


def _notes() -> None:
    logger = logging.getLogger("simulator")
    if not any(isinstance(handler, _Note) for handler in logger.handlers):  # (once a process)
        logger.addHandler(_Note(logging.WARNING))


def _exit_now(code: object) -> None:
    """Exit with `code` at once, not through the interpreter's exit, once this process killed a pool's
    workers (an interrupt, an error): what the command wrote is whole or gone already
    (`files.write_directory`), and it has said why it stopped. The interpreter's exit joins the pool's
    threads, and a worker killed while sending a result leaves the pool's reader waiting for the rest for
    ever (seen under a full test run's load: "interrupted" said, the process still there 25 minutes later,
    its pool's thread in a read of a 458 kB result)."""
    if isinstance(code, str):
        print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


def _quiet_exit() -> None:
    """The reader of our output went away (`radsim run ... | head`): stop quietly, as Unix tools do (141,
    SIGPIPE's code), with nothing left to flush into the closed pipe at exit."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(141)
