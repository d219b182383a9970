"""Answers an administrator can act on: each observation of a confident wrong answer, kept as a test.

1. `staff` recommended a roster that leaves second opinions unread (its target was met "over the reported").
2. `staff` ran on silently and a Ctrl-C kept nothing.
3. `compare` called AI priority worse for AI-flagged studies (targets followed the policy's labels) and called
   differences of 0.0005 "worse".
4. A sweep with a repeated grid point counted its replications twice.
5. A tolerances file silently ignored names it did not know.
6. Backlog left out work not yet on the worklist; no arrivals gave no count; intervals went outside the
   possible range; one replication still promised a CI.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from simulator import run_scenario
from simulator.cli import app
from simulator.comparison import compare_policies, threshold
from simulator.staffing import optimise, parse_target
from simulator.sweep import parse_grid, read_grid_file, run_sweep

from .conftest import base_dict, make
from .interrupts import takes_ctrl_c

runner = CliRunner()


def with_experts() -> dict:
    """A chest-CT desk whose reports go for a second opinion (30%) to a separate pool of experts."""
    data = base_dict()
    data.update(horizon_days=10, warmup_days=1)
    data["second_opinions"] = {"fraction": 0.3, "read_minutes": {"dist": "exponential", "mean": 15}}
    data["pools"]["experts"] = {"reads": ["second_opinion"], "shifts": [{"start": "00:00", "end": "24:00", "staff": 2}]}
    data["targets"]["second_opinion"] = {"hours": 72}
    return data


def test_1_a_roster_never_leaves_work_unread() -> None:
    scenario = make(with_experts())
    result = optimise(scenario, [parse_target("p95_tat_minutes[ai_positive=true] <= 60")], replications=3, workers=2)
    assert result.feasible
    experts = [n for slot, n in zip(result.slots, result.staff) if slot.pool == "experts"]
    assert experts and experts[0] >= 1, "a roster without experts leaves every second opinion unread"
    run = run_scenario(result.scenario, 3, workers=2)
    reported = next(r for r in run.summary if r["metric"] == "reported_fraction" and r["where"] == {})
    assert reported["mean"] >= 0.99 and run.overloaded == []
    conditions = {t.text for t in result.targets if t.implicit}
    assert "sla_met_fraction[kind=second_opinion] >= 0.95" in conditions
    assert "reported_fraction_before_last_day >= 0.99" in conditions


def test_1_waiving_a_kind_by_name_drops_its_condition_but_not_the_rest() -> None:
    scenario = make(with_experts())
    result = optimise(scenario, [parse_target("p95_tat_minutes[ai_positive=true] <= 60")], replications=3, workers=2,
                      waive=["second_opinion"])
    conditions = {t.text for t in result.targets if t.implicit}
    assert "sla_met_fraction[kind=second_opinion] >= 0.95" not in conditions
    experts = [n for slot, n in zip(result.slots, result.staff) if slot.pool == "experts"]
    assert experts[0] >= 1  # still: 99% of the work must be reported and no pool may be overloaded


def test_2_staff_reports_progress_when_redirected_and_a_ctrl_c_keeps_the_best_roster(tmp_path: Path) -> None:
    out = tmp_path / "staff"
    # (Four weeks, six replications: a search of some 10 s, so that progress is said, every 5 s, before it
    # ends; two weeks of three had come to run in 7 s, with no progress said after the first 5.)
    command = [sys.executable, "-m", "simulator", "staff", "moscow_reference_center", "--set", "horizon_days=28",
               "-r", "6", "--target", "p95_tat_minutes[ai_positive=true] <= 60", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=takes_ctrl_c)
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if "readers," in line:  # a feasible roster is held: interrupt now
            break
    assert any("rosters tried" in line for line in lines), lines  # progress although stderr is a pipe
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=60)
    assert time.monotonic() - interrupted < 20
    assert process.returncode == 130, stdout
    assert "NOT proven minimal" in " ".join(stdout.split())
    document = json.loads((out / "staffing.json").read_text())
    assert document["feasible"] and not document["proven_minimal"]
    children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout
    assert not children.strip()


def test_3_ai_priority_is_better_for_flagged_and_diseased_studies_and_small_differences_are_no_change() -> None:
    from simulator import load_scenario

    scenario = load_scenario("examples/mmc_ai_triage")
    differences = compare_policies(scenario, "fifo", "ai_priority", replications=10, workers=2)
    verdict = {(d.metric, tuple(d.where.items())): d for d in differences}
    for group in ((("ai_positive", True),), (("diseased", True),)):
        assert verdict[("p95_tat_minutes", group)].verdict == "better"
        assert verdict[("mean_tat_minutes", group)].verdict == "better"
        assert verdict[("sla_met_fraction", group)].verdict in ("better", "no clear change")
    for d in differences:
        if d.verdict in ("better", "worse"):
            assert abs(d.diff) >= threshold(d.metric, d.a) and not d.ci_low <= 0 <= d.ci_high


def test_3_the_cli_counts_no_clear_change_separately() -> None:
    result = runner.invoke(app, ["compare", "examples/mmc_ai_triage", "--policy", "fifo", "--policy", "ai_priority",
                                 "-r", "10", "--workers", "2"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "with no clear change" in text and "better in" in text


def small_sweep() -> dict:
    data = base_dict()
    data.update(horizon_days=3, warmup_days=0.5)
    return data


def test_4_a_repeated_grid_point_is_computed_and_counted_once(tmp_path: Path) -> None:
    points = parse_grid(["policy.triage=fifo,ai_priority,fifo"])
    grid_file = tmp_path / "grid.yaml"
    grid_file.write_text(yaml.safe_dump([{"policy.triage": "ai_priority"}]))
    points += read_grid_file(grid_file)
    result = run_sweep(small_sweep(), "test.yaml", points, 3, tmp_path / "s", workers=2)
    assert len(result.duplicates) == 2 and result.computed == 6
    summary = pq.read_table(tmp_path / "s" / "summary.parquet").to_pandas()
    assert summary["point"].nunique() == 2
    assert (summary["replications"] == 3).all()


def test_4_the_cli_says_which_points_were_merged(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(small_sweep()))
    result = runner.invoke(app, ["sweep", str(scenario), "--grid", "policy.triage=fifo,ai_priority,fifo", "-r", "2",
                                 "--workers", "1", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "is the same scenario as" in " ".join(result.output.split())


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.sampled_from(["fifo", "ai_priority", "sla_edf"]), min_size=1, max_size=5),
       replications=st.integers(1, 3))
def test_4_every_summary_row_is_a_unique_point_with_all_its_replications(tmp_path_factory, values, replications) -> None:
    out = tmp_path_factory.mktemp("sweep")
    data = small_sweep()
    data["horizon_days"] = 2
    result = run_sweep(data, "test.yaml", parse_grid([f"policy.triage={','.join(values)}"]), replications, out,
                       workers=1)
    summary = pq.read_table(out / "summary.parquet").to_pandas()
    assert summary["point"].nunique() == len(set(values)) == len(result.results.to_pandas()["point"].unique())
    assert (summary["replications"] == replications).all()
    keys = ["point", "metric", "split", "value_of_split"]
    assert not summary.duplicated(keys).any()


@pytest.mark.parametrize("content, entry", [
    ("metrics: {p95_tat: {rel_tol: 0.1}}", "metrics.p95_tat"),
    ("subgroups: {'p95_tat_minutes[ai_postive=true]': {rel_tol: 0.1}}", "ai_postive"),
    ("subgroups: {'p95_tat_minutes[diseased=yes]': {rel_tol: 0.1}}", "diseased=yes"),
    ("subgroups: {'mean_tat[diseased=true]': {rel_tol: 0.1}}", "mean_tat"),
])
def test_5_a_tolerance_file_with_unknown_names_is_refused(tmp_path: Path, content: str, entry: str) -> None:
    tolerances = tmp_path / "tolerances.yaml"
    tolerances.write_text(content)
    baseline = tmp_path / "baseline.json"
    saved = runner.invoke(app, ["baseline", "save", "examples/mmc_ai_triage", "--set", "horizon_days=8", "-r", "2",
                                "--workers", "1", "--to", str(baseline)])
    assert saved.exit_code == 0, saved.output
    result = runner.invoke(app, ["baseline", "check", "examples/mmc_ai_triage", "--set", "horizon_days=8",
                                 "--baseline", str(baseline), "--tolerances", str(tolerances)])
    assert result.exit_code == 2, result.output
    assert str(tolerances) in result.output.replace("\n", "") and entry in result.output


def test_5_a_tolerance_file_is_laid_over_the_defaults() -> None:
    from simulator.baseline import DEFAULT_METRICS, Tolerances, load_tolerances

    assert load_tolerances(None).metrics == DEFAULT_METRICS


def test_6_backlog_counts_work_held_up_before_the_worklist(tmp_path: Path) -> None:
    data = base_dict()
    data.update(horizon_days=3, warmup_days=0)
    data["ingest"] = {"outages": [{"start": "2026-02-01T00:00", "hours": 24 * 10}]}  # the whole horizon
    run = run_scenario(make(data), 1, workers=1)
    rows = {r["metric"]: r["mean"] for r in run.summary if r["where"] == {}}
    assert rows["count"] > 500
    assert rows["backlog_at_horizon"] == rows["count"] == rows["not_ready_at_horizon"]
    assert rows["reported_fraction"] == 0.0


def test_6_no_arrivals_still_gives_a_count_and_one_replication_promises_no_interval(tmp_path: Path) -> None:
    data = base_dict()
    data.update(horizon_days=3, warmup_days=0)
    data["study_types"]["chest_ct"]["arrivals"] = {"rate_per_hour": 0}
    scenario = tmp_path / "empty.yaml"
    scenario.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["run", str(scenario), "--out", str(tmp_path / "o"), "--no-against-fifo"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    count = [m for m in summary["metrics"] if m["metric"] == "count" and m["where"] == {}]
    assert count and count[0]["mean"] == 0
    assert "one replication: no confidence intervals" in " ".join(result.output.split())
    assert "±" not in result.output


def test_6_intervals_printed_stay_inside_the_possible_range(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "examples/mmc_ai_triage", "-r", "4", "--set", "horizon_days=10",
                                 "--out", str(tmp_path / "o"), "--workers", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    for row in summary["metrics"]:
        if row["ci_low"] is None:
            continue
        assert row["ci_low"] >= 0.0
        if row["metric"].endswith("fraction") or row["metric"] == "utilization":
            assert row["ci_high"] <= 1.0
