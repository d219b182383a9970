"""`radsim fit LOG --out scenario.yaml`: a scenario fitted to a worklist event log, each value commented
with what it was fitted from and its interval (docs/calibration.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import bad_input, err, fail, out, plain, styled
from .log import DutiesFile, LogFile, Trace, duties_given, kept

FIRST_LINE = "# Fitted by radsim fit"


def _is_fitted(path: Path) -> bool:
    with path.open(encoding="utf-8") as handle:
        return handle.readline().startswith(FIRST_LINE)


def fit(
    path: LogFile,
    out_file: Annotated[Path, typer.Option("--out", metavar="FILE", help="The fitted scenario (YAML). Only a file "
                                           "radsim fit wrote is replaced.")],
    name: Annotated[str, typer.Option(metavar="NAME", help="The fitted scenario's name.")] = "fitted",
    report: Annotated[Path | None, typer.Option(metavar="FILE", help="Also an HTML page: observed and fitted "
                                                "arrivals, reading times, the roster by pool.")] = None,
    observed_policy: Annotated[str, typer.Option(metavar="POLICY", help="The policy the log ran under (a log does "
                                                 "not say), written as the scenario's.")] = "fifo",
    trace: Trace = None,
    duties: DutiesFile = None,
) -> None:
    """Fit a scenario to a worklist event log: arrivals, priorities, reading times, AI, ingest, a roster."""
    from simulator.files import claim_file, write_text
    from simulator.oplog.fitting import fit as fit_values
    from simulator.prepare import parse_scenario
    from simulator.report import is_report, page
    from simulator.safe_yaml import load_text

    with bad_input():
        claim_file(out_file, _is_fitted)
        if report is not None:
            from simulator.extras import require

            require("report", "--report")
            claim_file(report, is_report)
    found = kept(path, trace)
    roster = duties_given(duties)
    try:
        fitted = fit_values(found.table, roster)
        text = fitted.yaml(name, observed_policy)
    except ValueError as exc:
        fail(f"{path}: {exc}")
    with bad_input():
        # What is written must load; what stops it is in the log, so the log is named, not the file not written.
        source = f"{path} (the scenario fitted from it)"
        parse_scenario(load_text(text.encode(), source), source)
        write_text(out_file, text, _is_fitted)
    dropped = found.rows - found.table.num_rows
    out.print(f"wrote {out_file} from {found.table.num_rows:,} of {found.rows:,} rows ({dropped:,} dropped by the "
              "messy-row rules: `radsim log --rows FILE` names them)", highlight=False)
    guessed = fitted.guesses()
    if guessed:  # never silent: a placeholder that passed for a fitted value would mislead every figure after it
        err.print(styled(f"[bold]{len(guessed)} value(s) the log does not give[/] (not fitted: edit them in "
                         f"{plain(out_file)} where you know them):"))
        for line in guessed:
            err.print(f"  {line}", highlight=False)
    for line in fitted.cautions():  # where the model will not do what the log shows
        err.print(styled(f"[bold]check:[/] {plain(line)}"), soft_wrap=True)
    if report is not None:
        from simulator.oplog.pages import fit_page

        with bad_input():
            write_text(report, page(*fit_page(fitted, path.name)), is_report)
        out.print(f"wrote {report} (the fit beside the log's data)", highlight=False)
