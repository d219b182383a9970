"""docs/tutorial.md is run as written: its files are written, its commands run in order at a terminal of 80
columns, each with the exit code its comment promises (0 unless it says `exit N`) and every line whole."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

from .test_newcomer import at_a_terminal, fits

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"
BLOCK = re.compile(r"```(\w+)(?: ([^\n]+))?\n(.*?)```", re.S)


def steps() -> list[tuple[str, str, str]]:
    return [(kind, name or "", body) for kind, name, body in BLOCK.findall(TUTORIAL.read_text(encoding="utf-8"))]


def test_the_tutorial_has_files_and_commands() -> None:
    kinds = [kind for kind, _, _ in steps()]
    assert "yaml" in kinds and kinds.count("sh") >= 4


def test_every_command_of_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    ran = 0
    for kind, name, body in steps():
        if kind == "yaml" and name:
            (tmp_path / name).write_text(body, encoding="utf-8")
            continue
        if kind != "sh":
            continue
        for line in body.splitlines():
            command, _, comment = line.partition("#")
            if not command.strip():
                continue
            words = shlex.split(command)
            assert words[0] == "radsim", line
            expected = int(re.search(r"exit (\d+)", comment).group(1)) if "exit" in comment else 0
            # At a terminal of 80 columns, as a newcomer types it: every number whole, no line wider.
            code, lines = at_a_terminal(words[1:], cwd=tmp_path, timeout=600)
            assert code == expected, f"{line}\n" + "\n".join(lines)
            fits(lines)
            if expected == 2:
                assert "no pool 'genral'" in " ".join(" ".join(lines).split())
            ran += 1
    assert ran >= 5
    assert (tmp_path / "out" / "my-roster-run" / "report.html").is_file()
