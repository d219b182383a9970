"""`radsim report`: one self-contained HTML file of a run, a comparison or a sweep."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import bad_input, out


def report(
    run_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A folder written by `radsim run`, `radsim compare --out` or "
                                            "`radsim sweep`.")],
    out_file: Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="The HTML file to write (default "
                                                     "RUN_DIR/report.html).")] = None,
) -> None:
    """One self-contained HTML file: the high-risk story, turnaround, worklist over the week, waits, utilisation."""
    from simulator.report import write_report

    with bad_input():
        target = write_report(run_dir, out_file)
    out.print(f"wrote {target}", highlight=False)
