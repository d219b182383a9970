"""radsim: a discrete-event testbed of a city teleradiology network.

The public facade; everything else is private to the package. Names are imported on first use, so that
`import simulator.triage` (the real triage logic, for production services) loads no simulation code.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import InputError, OutputError, ScenarioError
    from .experiment import Run, run_replication, run_scenario
    from .loading import bundled_scenarios
    from .prepare import load_scenario, parse_scenario, prepare
    from .scenario import Scenario

_WHERE = {
    "Scenario": ".scenario",
    "ScenarioError": ".errors",
    "InputError": ".errors",
    "OutputError": ".errors",
    "load_scenario": ".prepare",
    "parse_scenario": ".prepare",
    "prepare": ".prepare",
    "bundled_scenarios": ".loading",
    "run_scenario": ".experiment",
    "run_replication": ".experiment",
    "Run": ".experiment",
}

__all__ = ["__version__", *_WHERE]


def _version() -> str:
    # Asked of the installed package's metadata on first use: importing importlib.metadata costs a command
    # that never writes a file (`radsim scenarios`) a tenth of its start-up.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("radsim")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0.0.0+source"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value = globals()[name] = _version()
        return value
    if name not in _WHERE:
        raise AttributeError(f"module 'simulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value
