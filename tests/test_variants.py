"""Variants radsim makes only to compare with or to look at (the FIFO comparison of `run` and the dashboard,
`compare`'s policies, `sweep`'s points, a day of a run) leave the file's expectations out: `expect:` states what theory gives
the file's own policy, and nothing validates a variant. Before, `radsim run` of four bundled validation
scenarios ended in an internal error: their FIFO comparison was refused for expectations naming priority
classes FIFO has not."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator import ScenarioError
from simulator.cli import app
from simulator.prepare import policy_variant, prepare, with_overrides

runner = CliRunner()
SHORT = ["--set", "horizon_days=10", "--set", "warmup_days=1", "-r", "2"]


def test_run_compares_a_validation_scenario_with_fifo(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "validation/stroke_any_flag", *SHORT, "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "FIFO" in result.output


def test_compare_takes_fifo_against_a_validation_scenario_s_policy(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", "validation/mmc_three_classes", "--policy", "fifo", "--policy",
                                 "ai_priority", *SHORT, "--out", str(tmp_path / "compare")])
    assert result.exit_code == 0, result.output


def test_the_file_keeps_its_expectations_and_they_still_bind_where_its_policy_is_validated() -> None:
    scenario = prepare("validation/stroke_any_flag")
    assert len(scenario.expect) == 4 and policy_variant(scenario, "fifo").expect == []
    assert policy_variant(scenario, "fifo").policy.triage == "fifo"
    with pytest.raises(ScenarioError, match="expect"):  # a change the user makes is still checked whole
        with_overrides(scenario, ["policy.triage=fifo"])


def test_a_sweep_over_policies_of_a_validation_scenario_runs_every_point(tmp_path: Path) -> None:
    from simulator.loading import scenario_data
    from simulator.sweep import parse_grid, plan

    points = parse_grid(["policy.triage=fifo,ai_priority"])
    planned = plan(scenario_data("validation/mmc_three_classes"), "mmc_three_classes.yaml", points)
    assert [s.policy.triage for s in planned.scenarios.values()] == ["fifo", "ai_priority"]
    assert all(s.expect == [] for s in planned.scenarios.values())


def test_run_with_another_policy_leaves_the_file_s_expectations_out(tmp_path: Path) -> None:
    """`--policy` replaces the file's policy, and with it the expectations theory gives for that policy."""
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "validation/ai_triage_1_readers_fifo", "--policy", "sla_edf", *SHORT,
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert prepare("validation/ai_triage_1_readers_fifo", policy="fifo").expect  # its own policy: kept
    assert prepare("validation/ai_triage_1_readers_fifo", policy="sla_edf").expect == []
