"""radsim: a discrete-event testbed of a city teleradiology network.

The public facade; everything else is private to the package. Names are imported on first use, so that
`import simulator.triage` (the real triage logic, for production services) loads no simulation code.
"""
from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("radsim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

if TYPE_CHECKING:
    from .errors import ScenarioError
    from .experiment import Run, run_replication, run_scenario
    from .loading import bundled_scenarios
    from .prepare import load_scenario, parse_scenario, prepare
    from .scenario import Scenario

_WHERE = {
    "Scenario": ".scenario",
    "ScenarioError": ".errors",
    "load_scenario": ".prepare",
    "parse_scenario": ".prepare",
    "prepare": ".prepare",
    "bundled_scenarios": ".loading",
    "run_scenario": ".experiment",
    "run_replication": ".experiment",
    "Run": ".experiment",
}

__all__ = ["__version__", *_WHERE]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'simulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value
