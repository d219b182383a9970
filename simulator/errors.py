"""Errors a user can fix: bad input names the file and the dotted path of the bad field; an output that could
not be written names its path and the reason (space, permission)."""
from __future__ import annotations

from .triage.errors import InputError

__all__ = ["InputError", "ScenarioError", "OutputError"]


class ScenarioError(InputError):
    """Bad input. The CLI prints it as one line per problem and exits with code 2."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.source}: {path}: {message}" if path else f"{self.source}: {message}"
                 for path, message in self.problems]
        return "\n".join(lines)


class OutputError(Exception):
    """An output could not be written for a reason the user can mend (the disk or quota is full, no
    permission, a read-only file system). Nothing half-written is left; `kept` says what was kept. The CLI
    prints it and exits with code 4."""

    def __init__(self, path: object, reason: str, kept: str = "") -> None:
        self.path, self.reason, self.kept = str(path), reason, kept
        super().__init__(f"cannot write {self.path}: {reason}")
