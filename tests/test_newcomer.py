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


def at_a_terminal(args: list[str], columns: int = 80, timeout: float = 300.0,
                  cwd: Path | None = None) -> tuple[int, list[str]]:
    """Run `python -m simulator ARGS` on a pty of `columns` columns: its exit code and the lines a person
    sees (escape sequences applied as far as lines go: a carriage return starts the line again)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen([sys.executable, "-m", "simulator", *args], stdin=slave, stdout=slave, stderr=slave,
                               env={**environment, "TERM": "xterm-256color"}, close_fds=True, cwd=cwd)
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
    shown = fits(lines)
    whole = {"staff": ["mean_wait_minutes[ai_positive=true] <= 10", "sla_met_fraction[kind=primary] >= 0.95"],
             "validate": ["mean_wait_minutes[ai_positive=false]", "theory: ai_triage (negative)"]}.get(args[0], [])
    for text in whole:  # what is checked is never cut across lines
        assert any(text in line for line in shown), (text, "\n".join(shown))


def fits(lines: list[str], columns: int = 80) -> list[str]:
    """The lines shown, checked: something printed, nothing cut to '…', no line wider than the terminal
    (but an error message: printed whole on one line for the terminal to wrap, so that a path or a field
    in it can be copied as it is)."""
    shown = [line for line in lines if line.strip()]
    assert shown, "nothing printed"
    assert not [line for line in shown if "…" in line], "\n".join(shown)
    laid_out = [line for line in shown if not line.startswith("error:")]
    assert not laid_out or max(len(line.rstrip()) for line in laid_out) <= columns, max(laid_out, key=len)
    return shown


def test_the_calibration_pages_commands_at_an_80_column_terminal(tmp_path: Path) -> None:
    """docs/calibration.md's four commands, as written there, on an export written from a run (a month of
    the reference centre under AI priority, as a RIS writes it: CSV)."""
    import pyarrow.csv as pacsv

    from simulator import load_scenario, run_scenario
    from simulator.oplog import log_of_run

    scenario = load_scenario("moscow_reference_center", ["horizon_days=35", "warmup_days=0"])
    pacsv.write_csv(log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies),
                    tmp_path / "ris_export.csv")
    page = (Path(__file__).resolve().parent.parent / "docs" / "calibration.md").read_text(encoding="utf-8")
    commands = [line.split("#")[0].split()[1:] for line in page.split("```")[1].splitlines()
                if line.startswith("radsim ")]
    assert [c[0] for c in commands] == ["log", "fit", "backtest", "replay"]
    for args in commands:
        code, lines = at_a_terminal([*args, "-w", "1"] if args[0] in ("backtest", "replay") else args, cwd=tmp_path)
        assert code in (0, 3), (args, "\n".join(lines))  # a back-test may find a check outside: exit 3
        fits(lines)
    assert (tmp_path / "fitted.yaml").is_file() and (tmp_path / "backtest.html").is_file()
