"""radsim: a discrete-event testbed of a city teleradiology network.

The public facade; everything else is private to the package.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("radsim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

from .errors import ScenarioError  # noqa: E402
from .experiment import Run, run_replication, run_scenario  # noqa: E402
from .loading import bundled_scenarios, load_scenario, parse_scenario  # noqa: E402
from .scenario import Scenario  # noqa: E402

__all__ = [
    "__version__",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "bundled_scenarios",
    "run_scenario",
    "run_replication",
    "Run",
]
