"""`radsim scenarios`: the bundled scenarios, with what each is for."""
from __future__ import annotations

from .common import out, plain, styled


def scenarios() -> None:
    """List the scenarios bundled with radsim (usable by name) and what each describes."""
    from simulator.loading import bundled_scenarios

    for name, path in bundled_scenarios().items():
        out.print(styled(f"[bold]{plain(name)}[/]  {plain(_description(path))}"))


def _description(path) -> str:
    """The scenario's `description`, read without the rest of the file (fast, and never fails)."""
    from simulator.safe_yaml import top_level_text

    try:
        with open(path, "rb") as stream:
            text = top_level_text(stream.read(), "description")
    except OSError:
        return "(cannot be read)"
    return " ".join((text or "").split())
