"""A pytest helper for rules repositories: fail a test when a change makes turnaround worse.

    from simulator.testing import assert_no_regression

    def test_new_rules_keep_high_risk_turnaround():
        assert_no_regression("scenarios/city.yaml", "tests/radsim-baseline.json",
                             tolerances="tests/radsim-tolerances.yaml", policy="myrules.policy:Rules")
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .baseline import Finding, Tolerances, check_baseline, load_baseline, load_tolerances
from .prepare import load_scenario
from .scenario import Scenario

__all__ = ["assert_no_regression"]


def assert_no_regression(scenario: str | Path | Scenario, baseline: str | Path,
                         tolerances: str | Path | Tolerances | None = None, policy: str | None = None,
                         overrides: Iterable[str] = (), workers: int | None = 1) -> list[Finding]:
    """Run the scenario as the baseline was run (same seed and replications) and raise AssertionError naming
    every metric and subgroup that regressed beyond its tolerance. Returns all findings otherwise.

    `policy` (a built-in name or `"package.module:Class"`) replaces the scenario's triage policy.
    """
    overrides = [*overrides, *([f"policy.triage={policy}"] if policy else [])]
    if isinstance(scenario, Scenario):
        resolved = scenario if not overrides else _reparsed(scenario, overrides)
    else:
        resolved = load_scenario(scenario, overrides)
    if not isinstance(tolerances, Tolerances):
        tolerances = load_tolerances(None if tolerances is None else Path(tolerances))
    findings = check_baseline(resolved, load_baseline(Path(baseline)), tolerances, workers)
    failed = [f for f in findings if f.failed]
    if failed:
        lines = [_describe(f) for f in failed]
        raise AssertionError(f"{len(failed)} regression(s) against {baseline}:\n" + "\n".join(lines))
    return findings


def _reparsed(scenario: Scenario, overrides: Iterable[str]) -> Scenario:
    from .prepare import with_overrides

    return with_overrides(scenario, overrides)


def _describe(f: Finding) -> str:
    if f.verdict == "missing":
        return f"  {f.label}: in the baseline, absent now"
    return (f"  {f.label}: {f.baseline:.4g} -> {f.current:.4g} (change {f.change:+.4g}, "
            f"95% CI {_ci(f)}; allowed {f.allowed:.4g} worse)")


def _ci(f: Finding) -> str:
    return "n/a" if f.ci_low is None else f"{f.ci_low:+.3g}..{f.ci_high:+.3g}"
