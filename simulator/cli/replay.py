"""`radsim replay LOG --policy P`: the log's own history under another policy (docs/calibration.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import AllowCode, Workers, bad_input, fail, grant_named, out
from .log import Trace, kept


def replay(
    path: Annotated[Path, typer.Argument(metavar="LOG", help="A worklist event log: CSV, Parquet or HL7 v2 (.hl7).")],
    policy: Annotated[str, typer.Option(metavar="POLICY", callback=grant_named,
                                        help="The policy to replay the history under.")],
    observed_policy: Annotated[str, typer.Option(metavar="POLICY", help="The policy the log ran under.")] = "fifo",
    replications: Annotated[int, typer.Option("--replications", "-r", metavar="R", min=2, max=1000,
                                              help="Replications (only what the log lacks is drawn).")] = 5,
    roster: Annotated[str, typer.Option(metavar="dated|weekly", help="The readers on duty: dated, as the log shows "
                                        "them date by date; weekly, the fitted weekly roster.")] = "dated",
    trace: Trace = None,
    workers: Workers = None,
    allow_code: AllowCode = None,
) -> None:
    """Replay a log's studies (arrivals, priorities, AI results, reading times) with its readers under another
    policy: each group's mean turnaround observed, replayed as run, and replayed under POLICY."""
    import tempfile

    from rich import box
    from rich.table import Table

    from simulator.oplog.replay import replay as run_replay

    found = kept(path, trace)
    with bad_input():
        with tempfile.TemporaryDirectory(prefix="radsim-replay-") as folder:
            try:
                groups = run_replay(found.table, policy, Path(folder), observed_policy, replications, workers,
                                    roster)
            except ValueError as exc:
                fail(f"{path}: {exc}")
    table = Table(title=f"{path}: {found.table.num_rows:,} rows replayed under {policy} against {observed_policy}, "
                        f"{replications} replications, {roster} roster (mean turnaround, minutes)",
                  title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("group", "studies", "observed", f"replay {observed_policy}", "model error",
                   f"replay {policy}", "effect (95% CI)"):
        table.add_column(header, justify="left" if header == "group" else "right")
    for g in groups:
        table.add_row(g.group, f"{g.studies:,}", f"{g.observed:.1f}", f"{g.as_run:.1f}",
                      f"{(g.as_run / g.observed - 1):+.1%}" if g.observed else "-", f"{g.policy:.1f}",
                      f"{(g.effect_low + g.effect_high) / 2:+.1f} ({g.effect_low:+.1f}..{g.effect_high:+.1f})")
    out.print(table)
    out.print("model error: the replay under the observed policy against what was observed; effect: the new policy "
              "against that replay, on the same studies", highlight=False)
