"""Errors a user can fix: they name the file and the dotted path of the bad field."""
from __future__ import annotations

__all__ = ["ScenarioError"]


class ScenarioError(Exception):
    """Bad input. The CLI prints it as one line per problem and exits with code 2."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.source}: {path}: {message}" if path else f"{self.source}: {message}"
                 for path, message in self.problems]
        return "\n".join(lines)
