"""Scenarios the dashboard may run: bundled ones, or an uploaded file checked like the CLI checks files.

An upload is data, never code: it is read by the CLI's safe YAML reader (bounded, no YAML 1.1 surprises),
checked by the one way in (`prepare`, size limits included), and every field that may name code is held
against the allow-list *before* anything is imported: with no `RADSIM_ALLOWED_CODE` given, nothing.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.errors import ScenarioError
from simulator.prepare import parse_scenario
from simulator.safe_yaml import load_text
from simulator.scenario import CODE_PATHS, Scenario
from simulator.triage import PolicyError
from simulator.triage.resolver import allowed_code, permit

__all__ = ["load_upload", "allowed_policies"]


def allowed_policies() -> frozenset[str]:
    """What an upload may name as code: the environment's allow-list, or nothing."""
    return allowed_code() or frozenset()


def _value(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def load_upload(name: str, content: bytes, allowed: Iterable[str] | None = None) -> tuple[dict[str, Any], Scenario]:
    """The data and the validated scenario of an uploaded file; ScenarioError naming the file and field."""
    data = load_text(content, name)
    if isinstance(data, dict) and isinstance(data.get("arrivals"), dict) and "trace" in data["arrivals"]:
        # The path would be read on the server's disk; traces are replayed from the command line.
        raise ScenarioError(name, [("arrivals.trace", "refused in an upload: replay a trace with "
                                    "`radsim run SCENARIO --trace FILE` (docs/dicom.md)")])
    services = data.get("ai_services") if isinstance(data, dict) else None
    for service, fields in (services.items() if isinstance(services, dict) else []):
        if isinstance(fields, dict) and isinstance(fields.get("roc"), dict) and "file" in fields["roc"]:
            # Read on the server's disk as well: an upload gives its curve's points inline.
            raise ScenarioError(name, [(f"ai_services.{service}.roc.file", "refused in an upload: give the "
                                        "curve's points (and thresholds) inline")])
    permitted = allowed_policies() if allowed is None else frozenset(allowed)
    for path in CODE_PATHS:
        value = _value(data, path)
        if isinstance(value, str) and ":" in value:
            try:
                permit(value, "triage policy", permitted)
            except PolicyError as exc:
                raise ScenarioError(name, [(path, str(exc))]) from None
    scenario = parse_scenario(data, name)
    dated = scenario.dated_shifts()
    if dated:  # the roster editor is a week of weekdays
        raise ScenarioError(name, [(dated[0], "a roster of given dates (a past roster) cannot be edited here: run it "
                                              "with `radsim run`")])
    return data, scenario
