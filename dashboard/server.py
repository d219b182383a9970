"""The dashboard's server on loopback: the command `radsim dashboard` runs, and a running server for a
browser test or a benchmark."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["APP", "CHROMIUM_ARGS", "command", "environment", "free_port", "running"]

APP = Path(__file__).resolve().parent / "app.py"
# Headless chromium against it: nothing but loopback, no background services of its own.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def command(port: int) -> list[str]:
    """Streamlit serving the app on 127.0.0.1:`port`, headless, without usage statistics; the upload box
    takes (and says it takes) no more than radsim reads of a scenario file."""
    from simulator.safe_yaml import MAX_BYTES

    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", "127.0.0.1", "--server.port",
            str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "viewer", "--server.maxUploadSize", str(max(1, MAX_BYTES // (1024 * 1024)))]


def environment(allowed: str | None = None) -> dict[str, str]:
    """Uploads are data, never code: with no allow-list given (here or in the environment), the server and
    its workers may import none."""
    from simulator.triage.resolver import ALLOW_ENV

    return {**os.environ, ALLOW_ENV: os.environ.get(ALLOW_ENV, "") if allowed is None else allowed}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(timeout: float = 60.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """A server on a free loopback port with an empty allow-list, until the block ends: its URL and process."""
    port = free_port()
    process = subprocess.Popen(command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=environment(""))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the dashboard did not start within {timeout:g} s") from None
                time.sleep(0.5)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=20)
