"""`radsim dashboard`: the administrators' dashboard on localhost."""
from __future__ import annotations

from typing import Annotated

import typer

from .common import AllowCode, bad_input, out


def dashboard(
    port: Annotated[int, typer.Option(metavar="PORT", min=1, max=65535, help="Port on localhost (127.0.0.1).")] = 8501,
    allow_code: AllowCode = None,
) -> None:
    """Start the dashboard for administrators on http://localhost:PORT (Ctrl-C stops it)."""
    import subprocess

    from simulator.extras import require

    with bad_input():
        require("dashboard", "radsim dashboard")
    from dashboard.server import command, environment

    out.print(f"radsim dashboard on http://localhost:{port} (Ctrl-C to stop)")
    raise typer.Exit(subprocess.call(command(port), env=environment()))
