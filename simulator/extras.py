"""radsim's optional parts: which installable extra a command needs, and the one clear refusal when it is
not installed (exit 2, saying what to install), instead of an ImportError deep inside a command.

The core (`pip install radsim`) runs the model, `run`, `compare`, `sweep` on this machine, `staff`,
`validate`, `baseline` and the calibration commands on CSV and Parquet logs."""
from __future__ import annotations

import importlib.util

from .errors import InputError

__all__ = ["EXTRAS", "MissingExtra", "require", "installed"]

# Extra -> the modules it installs (pyproject.toml's [project.optional-dependencies]).
EXTRAS: dict[str, tuple[str, ...]] = {
    "fast": ("numba",),  # the upstream stations' passes compiled (without it: the same bits, in Python)
    "report": ("plotly",),  # radsim report; fit and backtest --report
    "dashboard": ("streamlit", "pandas", "plotly"),  # radsim dashboard
    "dicom": ("pydicom", "highdicom", "pynetdicom"),  # radsim dicom
    "cluster": ("distributed",),  # radsim sweep --cluster (Dask)
    "oplog": ("hl7", "fhir.resources"),  # HL7 v2 messages and FHIR resources as a worklist event log
}


class MissingExtra(InputError):
    """A command needs an extra that is not installed."""


def installed(extra: str) -> bool:
    return all(importlib.util.find_spec(module) is not None for module in EXTRAS[extra])


def require(extra: str, what: str) -> None:
    """MissingExtra naming what to install, unless every module of `extra` is there."""
    missing = [module for module in EXTRAS[extra] if importlib.util.find_spec(module) is None]
    if missing:
        raise MissingExtra(f"{what} needs radsim's '{extra}' extra ({', '.join(missing)} not installed): "
                           f"pip install 'radsim[{extra}]' (or 'radsim[all]')")
