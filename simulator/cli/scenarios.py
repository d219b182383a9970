"""`radsim scenarios`: the bundled scenarios, with what each is for."""
from __future__ import annotations

from .common import out


def scenarios() -> None:
    """List the scenarios bundled with radsim (usable by name) and what each describes."""
    from rich.markup import escape

    from simulator.loading import bundled_scenarios

    for name, path in bundled_scenarios().items():
        out.print(f"[bold]{escape(name)}[/]  {escape(_description(path))}", highlight=False)


def _description(path) -> str:
    """The scenario's `description`, read without validating the file (fast, and never fails)."""
    from simulator.errors import ScenarioError
    from simulator.loading import read_yaml

    try:
        data = read_yaml(path)
    except ScenarioError:
        return "(cannot be read)"
    text = data.get("description", "") if isinstance(data, dict) else ""
    return " ".join(str(text).split())
