"""A newcomer's path at a real terminal of 80 columns (a pty, as a person types it): the README's commands
print every number whole, no line longer than the terminal and nothing cut to '…'."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Za-z0-9]")


def at_a_terminal(args: list[str], columns: int = 80, timeout: float = 300.0) -> tuple[int, list[str]]:
    """Run `python -m simulator ARGS` on a pty of `columns` columns: its exit code and the lines a person
    sees (escape sequences applied as far as lines go: a carriage return starts the line again)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen([sys.executable, "-m", "simulator", *args], stdin=slave, stdout=slave, stderr=slave,
                               env={**environment, "TERM": "xterm-256color"}, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            process.kill()
            raise TimeoutError(args)
        try:
            data = os.read(master, 65536)
        except OSError:  # the pty closes when the command ends
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = process.wait(timeout=60)
    text = ESCAPES.sub("", b"".join(chunks).decode("utf-8", "replace"))
    return code, [line.split("\r")[-1] for line in text.replace("\r\n", "\n").split("\n")]


@pytest.mark.parametrize("args", [
    ["scenarios"],
    ["run", "examples/mmc_ai_triage", "-r", "3", "--set", "horizon_days=10", "--out", "{tmp}/run"],
    ["compare", "examples/mmc_ai_triage", "--policy", "fifo", "--policy", "ai_priority", "-r", "3",
     "--set", "horizon_days=10"],
    ["staff", "examples/mmc_ai_triage", "--target", "mean_wait_minutes[ai_positive=true] <= 10", "-r", "3",
     "--set", "horizon_days=15", "--out", "{tmp}/staff"],
    ["validate", "validation/ai_triage_5_readers_preemptive", "-r", "4", "--max-replications", "4"],
], ids=["scenarios", "run", "compare", "staff", "validate"])
def test_the_readmes_commands_at_an_80_column_terminal_show_every_number_whole(args: list[str],
                                                                               tmp_path: Path) -> None:
    code, lines = at_a_terminal([a.replace("{tmp}", str(tmp_path)) for a in args])
    assert code in (0, 3), "\n".join(lines)  # validate with 4 replications is "too wide": exit 3
    shown = [line for line in lines if line.strip()]
    assert shown, "nothing printed"
    assert not [line for line in shown if "…" in line], "\n".join(shown)
    assert max(len(line.rstrip()) for line in shown) <= 80, max(shown, key=len)
    whole = {"staff": ["mean_wait_minutes[ai_positive=true] <= 10", "sla_met_fraction[kind=primary] >= 0.95"],
             "validate": ["mean_wait_minutes[ai_positive=false]", "theory: ai_triage (negative)"]}.get(args[0], [])
    for text in whole:  # what is checked is never cut across lines
        assert any(text in line for line in shown), (text, "\n".join(shown))
