"""`radsim replay LOG --policy P`: the log's own history under another policy (docs/calibration.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import AllowCode, Workers, bad_input, fail, grant_named, out
from .log import DutiesFile, LogFile, Trace, duties_given, kept


def replay(
    path: LogFile,
    policy: Annotated[str, typer.Option(metavar="POLICY", callback=grant_named,
                                        help="The policy to replay the history under.")],
    observed_policy: Annotated[str, typer.Option(metavar="POLICY", help="The policy the log ran under.")] = "fifo",
    replications: Annotated[int, typer.Option("--replications", "-r", metavar="R", min=2, max=1000,
                                              help="Replications (only what the log lacks is drawn).")] = 5,
    roster: Annotated[str, typer.Option(metavar="dated|weekly", help="The readers on duty: dated, as the log shows "
                                        "them date by date; weekly, the fitted weekly roster.")] = "dated",
    trace: Trace = None,
    duties: DutiesFile = None,
    workers: Workers = None,
    allow_code: AllowCode = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print each group's figures as JSON instead of the table "
                                          "(for scripts).")] = False,
) -> None:
    """Replay a log's studies (arrivals, priorities, AI results, reading times) with its readers under another
    policy: each group's mean turnaround observed, replayed as run, and replayed under POLICY."""
    import tempfile

    from rich import box
    from rich.table import Table

    from simulator.oplog.replay import replay as run_replay

    found = kept(path, trace)
    given = duties_given(duties)
    with bad_input():
        with tempfile.TemporaryDirectory(prefix="radsim-replay-") as folder:
            try:
                groups = run_replay(found.table, policy, Path(folder), observed_policy, replications, workers,
                                    roster, given)
            except ValueError as exc:
                fail(f"{path}: {exc}")
    if as_json:
        import dataclasses
        import json

        out.print_json(json.dumps({"log": str(path), "rows": found.table.num_rows, "policy": policy,
                                   "observed_policy": observed_policy, "replications": replications,
                                   "roster": roster, "groups": [dataclasses.asdict(g) for g in groups]}))
        return
    # Fits 80 columns: the policies' names (which may be long code paths) are said once, above the table.
    out.print(f"{path}: {found.table.num_rows:,} rows replayed with the {roster} roster, {replications} replications",
              highlight=False)
    out.print(f"A = {observed_policy} (as the log ran), B = {policy}; mean turnaround in minutes", highlight=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("group", "studies", "observed", "A\nreplay", "model\nerror", "B\nreplay", "B - A\n(95%)"):
        table.add_column(header, justify="left" if header == "group" else "right", no_wrap=header != "group")
    for g in groups:
        table.add_row(g.group, f"{g.studies:,}", _minutes(g.observed), _minutes(g.as_run),
                      f"{(g.as_run / g.observed - 1):+.1%}" if g.observed else "-", _minutes(g.policy),
                      f"{_minutes(g.policy - g.as_run, '+')}\n"
                      f"({_minutes(g.effect_low, '+')}..{_minutes(g.effect_high, '+')})")
    out.print(table)
    out.print("model error: the replay of A against what was observed; B - A: the new policy against that replay, "
              "on the same studies, with a 95% interval of the effect on weeks like the log's (its days resampled, "
              "each resample in a replication of its own)", highlight=False)


def _minutes(value: float, sign: str = "") -> str:
    """Minutes as a table shows them: whole above 100 (a CI of days needs no tenths), else one decimal."""
    return f"{value:{sign},.0f}" if abs(value) >= 100 else f"{value:{sign}.1f}"
