"""`radsim dashboard`: the administrators' dashboard on localhost."""
from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from .common import out


def dashboard(
    port: Annotated[int, typer.Option(metavar="PORT", min=1, max=65535, help="Port on localhost (127.0.0.1).")] = 8501,
) -> None:
    """Start the dashboard for administrators on http://localhost:PORT (Ctrl-C stops it)."""
    import subprocess
    from importlib import resources

    from simulator.triage.resolver import ALLOW_ENV

    app_path = resources.files("dashboard") / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app_path), "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--client.toolbarMode", "viewer"]
    # Uploads are data, never code: with no allow-list given, the server and its workers may import none.
    environment = {**os.environ, ALLOW_ENV: os.environ.get(ALLOW_ENV, "")}
    out.print(f"radsim dashboard on http://localhost:{port} (Ctrl-C to stop)")
    raise typer.Exit(subprocess.call(command, env=environment))
