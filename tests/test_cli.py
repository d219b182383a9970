"""The command line as a user meets it: outputs per docs/contract.md, atomic writes, exit codes."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from simulator import ScenarioError, load_scenario
from simulator.cli import app
from simulator.files import MARKER, write_directory

from .conftest import base_dict

runner = CliRunner()

CONTRACT_COLUMNS = {
    "replication": "int32", "study_id": "string", "study_type": "dictionary", "site": "dictionary",
    "modality": "dictionary", "referral": "dictionary", "diseased": "bool", "ai_score": "double",
    "ai_positive": "bool", "priority": "dictionary", "arrived_at": "double", "ready_at": "double",
    "read_start": "double", "reported_at": "double", "read_minutes": "double", "reader": "dictionary",
    "tat_minutes": "double", "wait_minutes": "double", "in_warmup": "bool", "kind": "dictionary",
}


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    data = base_dict()
    data["horizon_days"] = 4
    path = tmp_path / "desk.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_run_writes_the_contract_outputs(tmp_path: Path, scenario_file: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(scenario_file), "--replications", "2", "--seed", "5", "--out", str(out),
                                 "--set", "pools.readers.shifts.0.staff=3", "--policy", "fifo", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "turnaround" in result.output and "utilisation" in result.output
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "readers.parquet", "scenario.yaml", "studies.parquet",
                                                     "summary.json"]
    table = pq.read_table(out / "studies.parquet")
    for column, kind in CONTRACT_COLUMNS.items():
        assert str(table.schema.field(column).type).startswith(kind), column
    assert set(table.column("replication").to_pylist()) == {0, 1}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 5 and summary["replications"] == 2 and summary["policy"] == "fifo"
    assert {"scenario", "scenario_hash", "software", "wall_seconds", "metrics"} <= set(summary)
    names = {(m["metric"], json.dumps(m["where"], sort_keys=True)) for m in summary["metrics"]}
    for metric in ("mean_tat_minutes", "p95_tat_minutes", "max_tat_minutes", "mean_wait_minutes", "sla_met_fraction"):
        assert (metric, "{}") in names
        assert (metric, '{"ai_positive": true}') in names
        assert (metric, '{"referral": "routine"}') in names
    assert ("utilization", '{"pool": "readers"}') in names
    some = next(m for m in summary["metrics"] if m["metric"] == "mean_tat_minutes" and m["where"] == {})
    assert some["ci_low"] <= some["mean"] <= some["ci_high"]
    resolved = load_scenario(out / "scenario.yaml")
    assert resolved.pools["readers"].shifts[0].staff == 3 and resolved.policy.triage == "fifo"


def test_the_resolved_scenario_reruns_to_the_same_studies(tmp_path: Path, scenario_file: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert runner.invoke(app, ["run", str(scenario_file), "--out", str(first)]).exit_code == 0
    assert runner.invoke(app, ["run", str(first / "scenario.yaml"), "--out", str(second)]).exit_code == 0
    assert pq.read_table(first / "studies.parquet").equals(pq.read_table(second / "studies.parquet"))


def test_a_run_folder_keeps_the_previous_run_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.mkdir()
    (target / "summary.json").write_text("old")  # a run of a radsim from before folders carried a marker

    def fail(folder: Path) -> None:
        (folder / "studies.parquet").write_text("half")
        raise OSError("disk full")

    with pytest.raises(ScenarioError, match="no .radsim.json marker.*--replace"):  # unmarked: the user's to say
        write_directory(target, "run", fail)
    with pytest.raises(OSError):
        write_directory(target, "run", fail, replace=True)
    assert [p.name for p in target.iterdir()] == ["summary.json"]
    assert (target / "summary.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no staging folder left behind
    write_directory(target, "run", lambda folder: (folder / "summary.json").write_text("new"), replace=True)
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "summary.json"]


def expecting(tmp_path: Path, value: float) -> Path:
    data = base_dict()
    data.update(horizon_days=20, warmup_days=2, policy={"triage": "fifo"})
    data["study_types"]["chest_ct"]["ai"] = None
    data["expect"] = [{"metric": "mean_wait_minutes", "value": value, "rel_tol": 0.15}]
    path = tmp_path / f"expect_{value}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_validate_passes_and_fails_with_the_contract_exit_codes(tmp_path: Path) -> None:
    right = runner.invoke(app, ["validate", str(expecting(tmp_path, 17.78)), "-r", "8", "--workers", "1"])
    assert right.exit_code == 0, right.output
    assert "pass" in right.output
    wrong = runner.invoke(app, ["validate", str(expecting(tmp_path, 30.0)), "-r", "8", "--workers", "1"])
    assert wrong.exit_code == 3, wrong.output
    assert "FAIL" in wrong.output
    bad = runner.invoke(app, ["validate", str(tmp_path / "missing.yaml")])
    assert bad.exit_code == 2
    import os
    import subprocess
    import sys

    shown = subprocess.run([sys.executable, "-m", "simulator", "validate", "validation/ai_triage_1_readers_fifo", "-r",
                            "4", "--max-replications", "4", "--workers", "1"], capture_output=True, text=True,
                           env={**os.environ, "COLUMNS": "80"}, timeout=300)
    lines = shown.stdout.splitlines()
    assert "…" not in shown.stdout and max(map(len, lines)) <= 80  # every figure whole at 80 columns
    assert any("mean_wait_minutes[ai_positive=true]" in line for line in lines)
    assert any(line.strip().startswith("expected 40 ± 0.8, estimate ") and "R = 4" in line for line in lines)


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "validate", "scenarios"):
        assert command in result.output




def test_compare_pairs_policies_on_common_random_numbers() -> None:
    from simulator.comparison import compare_policies

    scenario = load_scenario("examples/mmc_ai_triage", ["horizon_days=20"])
    differences = compare_policies(scenario, "fifo", "ai_priority", replications=6, workers=1)
    verdict = {(d.metric, tuple(d.where.items())): d for d in differences}
    # The published direction: AI priority helps diseased patients and costs the others a little.
    assert verdict[("mean_wait_minutes", (("diseased", True),))].verdict == "better"
    assert verdict[("mean_wait_minutes", (("diseased", False),))].verdict == "worse"
    # Same policy twice: identical random numbers, so every difference is exactly zero.
    same = compare_policies(scenario, "fifo", "fifo", replications=3, workers=1)
    assert all(d.diff in (0.0, None) for d in same)


def test_per_study_changes_pair_each_study_with_itself() -> None:
    from simulator.comparison import paired_runs, study_changes

    scenario = load_scenario("examples/mmc_ai_triage", ["horizon_days=20"])
    policy = scenario.policy
    fifo, priority = (scenario.model_copy(update={"policy": policy.model_copy(update={"triage": p})})
                      for p in ("fifo", "ai_priority"))
    groups = [{}, {"ai_positive": True}, {"diseased": True}, {"referral": "stat"}]
    everyone, flagged, diseased, stat = study_changes(scenario, *paired_runs(fifo, priority, 4, workers=1), groups)
    assert flagged.studies > 100 and flagged.mean < -5.0 and flagged.faster > 0.4 and flagged.slower < 0.05
    assert diseased.mean < -5.0 and diseased.low <= diseased.median <= diseased.high
    # Same readers, same reading times, work-conserving orders: what the flagged gain the others pay.
    assert abs(everyone.mean) < 0.5 and everyone.slower > 0.1
    assert stat.studies == 0 and stat.mean is None  # the scenario has no STAT orders
    same = study_changes(scenario, *paired_runs(fifo, fifo, 2, workers=1), [{}])[0]
    assert (same.low, same.high, same.faster, same.slower) == (0.0, 0.0, 0.0, 0.0)


def test_compare_cli_needs_two_policies_and_exits_0(scenario_file: Path) -> None:
    result = runner.invoke(app, ["compare", str(scenario_file), "--policy", "fifo"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["compare", str(scenario_file), "--policy", "fifo", "--policy", "ai_priority",
                                 "-r", "3", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "B - A" in result.output and "per study" in result.output


def test_compare_fits_80_columns_writes_its_document_and_prints_it_for_scripts(tmp_path: Path) -> None:
    """Every number visible at 80 columns (none elided as '…'); --out writes the library's comparison.json,
    which `radsim report` reads; --json prints the same document."""
    import os
    import subprocess
    import sys

    args = ["compare", "examples/mmc_ai_triage", "--policy", "fifo", "--policy", "ai_priority", "-r", "3",
            "--set", "horizon_days=12"]
    shown = subprocess.run([sys.executable, "-m", "simulator", *args, "--all", "--out", str(tmp_path / "c")],
                           capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"}, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert "…" not in shown.stdout and max(map(len, shown.stdout.splitlines())) <= 80
    written = json.loads((tmp_path / "c" / "comparison.json").read_text())
    assert written["a"] == "fifo" and written["b"] == "ai_priority" and written["differences"]
    printed = runner.invoke(app, [*args, "--json"])
    assert printed.exit_code == 0 and json.loads(printed.output)["differences"] == written["differences"]
    assert runner.invoke(app, ["report", str(tmp_path / "c")]).exit_code == 0


@pytest.mark.parametrize("terminal", [False, True])
def test_progress_of_a_search_counts_what_it_did_and_never_claims_a_percentage(monkeypatch, terminal: bool) -> None:
    """`staff` cannot know how many rosters it will try: its progress is the count it gives, not "0%"."""
    import io

    from rich.console import Console

    from simulator.cli import common

    sink = io.StringIO()
    monkeypatch.setattr(common, "err", Console(file=sink, force_terminal=terminal, width=80))
    with common.Progress("searching", total=None, after=0.0, every=0.0) as progress:
        progress.say("screening: 3 rosters tried")
        progress.say("screening: 7 rosters tried")
    shown = sink.getvalue()
    assert "7 rosters tried" in shown and "%" not in shown, shown
    sink.truncate(0)
    sink.seek(0)
    long = "finding what binds: 5 rosters tried, best so far 2 readers, 336 reader-hours a week; 2 s"
    with common.Progress("searching", total=None, after=0.0, every=0.0) as progress:
        progress.say(long)
        if progress.bar is not None:
            progress.bar.refresh()
    seen = re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]", "", sink.getvalue())
    assert "…" not in seen and "searching" in seen  # at 80 columns nothing is cut: the note folds
    assert all(word in seen for word in long.split())
    sink.truncate(0)
    sink.seek(0)
    with common.Progress("simulating mmc-ai-triage (and FIFO on the same studies)", total=4, after=0.0,
                         every=0.0) as progress:
        progress(1)
        if progress.bar is not None:
            progress.bar.refresh()
    seen = re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]", "", sink.getvalue())
    assert "25%" in seen and "…" not in seen, seen  # work of a known size keeps its share, its times whole


def test_per_study_changes_pair_the_same_studies_when_second_opinions_differ_between_runs() -> None:
    """Second opinions exist only once asked for: a policy that signs more primaries by the horizon has more
    of them, between the cohort's studies of each replication. The cohort's studies are still paired with
    themselves (before, the runs' tables of different lengths were an internal error, `compare moscow_city`)."""
    import pyarrow.compute as pc

    from simulator.comparison import paired_runs, study_changes

    scenario = load_scenario("moscow_city", ["horizon_days=2", "warmup_days=0"])
    fifo, priority = (scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"triage": p})})
                      for p in ("fifo", "ai_priority"))
    a, b = paired_runs(fifo, priority, 2, workers=1)
    opinions = [pc.sum(pc.invert(pc.is_null(r.studies.column("of_study")))).as_py() for r in (a, b)]
    assert opinions[0] != opinions[1]  # the premise (fixed seed): the tables differ in length
    own = a.studies.num_rows - opinions[0]
    everyone, flagged = study_changes(scenario, a, b, [{}, {"ai_positive": True}])
    assert everyone.studies == own and flagged.studies > 0
    same = study_changes(scenario, a, a, [{}])[0]
    assert same.studies == own and (same.low, same.high) == (0.0, 0.0)
