"""Scenarios the dashboard may run: bundled ones, or an uploaded file checked like the CLI checks files.

An upload is data, never code: YAML is read safely, and a `package.module:Class` policy in an upload is
refused unless its path is on the allow-list (`RADSIM_ALLOWED_POLICIES`, comma-separated) and it is
installed.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import yaml

from simulator.errors import ScenarioError
from simulator.prepare import parse_scenario
from simulator.scenario import Scenario
from simulator.triage import PolicyError
from simulator.triage_config import policy_of

__all__ = ["load_upload", "allowed_policies"]


def allowed_policies() -> set[str]:
    return {p.strip() for p in os.environ.get("RADSIM_ALLOWED_POLICIES", "").split(",") if p.strip()}


def load_upload(name: str, content: bytes, allowed: Iterable[str] | None = None) -> tuple[dict[str, Any], Scenario]:
    """The data and the validated scenario of an uploaded file; ScenarioError naming the file and field."""
    try:
        data = yaml.safe_load(content.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError(name, [("", f"not a YAML text file: {exc}")]) from None
    if isinstance(data, dict) and isinstance(data.get("arrivals"), dict) and "trace" in data["arrivals"]:
        # The path would be read on the server's disk; traces are replayed from the command line.
        raise ScenarioError(name, [("arrivals.trace", "refused in an upload: replay a trace with "
                                    "`radsim run SCENARIO --trace FILE` (docs/dicom.md)")])
    scenario = parse_scenario(data, name)
    triage = scenario.policy.triage
    if ":" in triage:
        permitted = allowed_policies() if allowed is None else set(allowed)
        if triage not in permitted:
            raise ScenarioError(name, [("policy.triage", f"refused: {triage!r} would run code from the upload; an "
                                        "administrator may allow an installed policy in RADSIM_ALLOWED_POLICIES")])
        try:
            policy_of(scenario)
        except PolicyError as exc:
            raise ScenarioError(name, [("policy.triage", str(exc))]) from None
    return data, scenario
