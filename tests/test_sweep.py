"""Sweeps: the grid, common random numbers across points, resuming after a kill, a run that fails, and the
same numbers on a Dask cluster (a LocalCluster on loopback) as on local processes."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from simulator import ScenarioError
from simulator.cli import app
from simulator.sweep import parse_grid, read_grid_file, run_sweep

from .conftest import base_dict

runner = CliRunner()


def small() -> dict:
    data = base_dict()
    data.update(horizon_days=4, warmup_days=0.5)
    return data


def test_the_grid_is_the_product_of_its_axes() -> None:
    points = parse_grid(["pools.readers.shifts.0.staff=2:4", "policy.triage=fifo,ai_priority"])
    assert len(points) == 6
    assert points[0].overrides == (("pools.readers.shifts.0.staff", 2), ("policy.triage", "fifo"))
    assert len({p.key for p in points}) == 6
    with pytest.raises(ScenarioError, match="key.path=v1"):
        parse_grid(["staff"])
    with pytest.raises(ScenarioError, match="empty"):
        parse_grid(["a=5:2"])


def test_a_grid_file_lists_points(tmp_path: Path) -> None:
    file = tmp_path / "grid.yaml"
    file.write_text(yaml.safe_dump([{"policy.triage": "fifo"}, {"policy.triage": "aging", "policy.aging.max_wait": None}]))
    points = read_grid_file(file)
    assert [dict(p.overrides) for p in points] == [{"policy.triage": "fifo"},
                                                    {"policy.triage": "aging", "policy.aging.max_wait": None}]
    file.write_text("policy.triage: fifo\n")
    with pytest.raises(ScenarioError, match="list of mappings"):
        read_grid_file(file)


def test_points_share_their_studies_and_a_resumed_sweep_computes_only_what_is_missing(tmp_path: Path) -> None:
    points = parse_grid(["policy.triage=fifo,ai_priority", "pools.readers.shifts.0.staff=2,3"])
    first = run_sweep(small(), "test.yaml", points, 3, tmp_path / "a", workers=2)
    assert first.computed == 12 and first.reused == 0 and not first.failures
    table = first.results.to_pandas()
    counts = table[(table.metric == "count") & (table.split == "")]
    assert counts.groupby("replication")["value"].nunique().max() == 1  # common random numbers
    waits = table[(table.metric == "mean_wait_minutes") & (table.split == "")]
    assert waits[waits["pools.readers.shifts.0.staff"] == "3"]["value"].mean() < \
        waits[waits["pools.readers.shifts.0.staff"] == "2"]["value"].mean()
    for file in list((tmp_path / "a" / "runs").rglob("r0001.parquet"))[:3]:
        file.unlink()
    again = run_sweep(small(), "test.yaml", points, 3, tmp_path / "a", workers=2)
    assert again.computed == 3 and again.reused == 9
    assert pq.read_table(tmp_path / "a" / "results.parquet").equals(first.results)
    with pytest.raises(ScenarioError, match="different sweep"):
        run_sweep(small(), "test.yaml", points, 4, tmp_path / "a", workers=2)


def test_a_run_that_raises_is_reported_with_its_point_and_the_rest_finish(tmp_path: Path) -> None:
    points = parse_grid(["policy.triage=fifo,tests.policies_for_tests:Explodes"])
    result = run_sweep(small(), "test.yaml", points, 2, tmp_path / "s", workers=2)
    assert len(result.failures) == 2 and result.computed == 2
    assert all(f["point"] == {"policy.triage": "tests.policies_for_tests:Explodes"} for f in result.failures)
    assert "bug in the rules" in result.failures[0]["error"]
    assert json.loads((tmp_path / "s" / "failures.json").read_text())[0]["replication"] in (0, 1)


def test_the_cli_names_a_bad_grid_point_and_exits_2(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(small()))
    result = runner.invoke(app, ["sweep", str(scenario), "--grid", "pools.readers.shifts.0.staff=-1,2", "-r", "1",
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "grid point pools.readers.shifts.0.staff=-1" in result.output
    assert not (tmp_path / "o").exists()


def test_a_killed_sweep_started_again_gives_the_uninterrupted_table(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    data = small()
    data["horizon_days"] = 8
    scenario.write_text(yaml.safe_dump(data))
    args = ["sweep", str(scenario), "--grid", "pools.readers.shifts.0.staff=2:9", "-r", "3", "--workers", "1"]
    whole = runner.invoke(app, [*args, "--out", str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.output
    command = [sys.executable, "-m", "simulator", *args, "--out", str(tmp_path / "killed")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    runs = tmp_path / "killed" / "runs"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(runs.rglob("*.parquet"))) < 3:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done = len(list(runs.rglob("*.parquet")))
    assert 3 <= done < 24, "the kill must land mid-sweep"
    resumed = runner.invoke(app, [*args, "--out", str(tmp_path / "killed")])
    assert resumed.exit_code == 0, resumed.output
    assert f"{24 - done} run(s) computed now, {done} found done" in " ".join(resumed.output.split())
    assert pq.read_table(tmp_path / "killed" / "results.parquet").equals(pq.read_table(tmp_path / "whole" / "results.parquet"))


def test_a_dask_cluster_gives_the_same_numbers_bit_for_bit(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    points = parse_grid(["policy.triage=fifo,ai_priority"])
    local = run_sweep(small(), "test.yaml", points, 2, tmp_path / "local", workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        remote = run_sweep(small(), "test.yaml", points, 2, tmp_path / "dask", executor=client.get_executor())
    assert remote.computed == 4 and not remote.failures
    assert pq.read_table(tmp_path / "dask" / "results.parquet").equals(local.results)


def test_a_worker_that_dies_is_retried(tmp_path: Path) -> None:
    data = small()
    data["policy"] = {"triage": "tests.policies_for_tests:DiesOnce", "options": {"marker": str(tmp_path / "marker")}}
    points = parse_grid(["pools.readers.shifts.0.staff=2,3"])
    result = run_sweep(data, "test.yaml", points, 2, tmp_path / "s", workers=2)
    assert (tmp_path / "marker").exists() and not result.failures
    assert result.computed == 4 and result.results.num_rows > 0


def test_report_of_a_sweep_and_of_a_comparison(tmp_path: Path) -> None:
    points = parse_grid(["policy.triage=fifo,ai_priority", "pools.readers.shifts.0.staff=2,3"])
    run_sweep(small(), "test.yaml", points, 2, tmp_path / "s", workers=2)
    result = runner.invoke(app, ["report", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "s" / "report.html").read_text()
    assert page.count("plotly-graph-div") == 8 and "against pools.readers.shifts.0.staff" in page
    scenario = tmp_path / "desk.yaml"
    scenario.write_text(yaml.safe_dump(small()))
    result = runner.invoke(app, ["compare", str(scenario), "--policy", "fifo", "--policy", "ai_priority", "-r", "2",
                                 "--workers", "1", "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["report", str(tmp_path / "c")]).exit_code == 0
    page = (tmp_path / "c" / "report.html").read_text()
    assert page.count("plotly-graph-div") == 6 and "B = ai_priority against A = fifo" in page  # one per compared metric
    for folder in ("s", "c"):  # the size budget (docs/contract.md): plotly.js once, the figures under 1 MB
        page = (tmp_path / folder / "report.html").read_text()
        assert page.count("plotly.js v") == 1, folder
        library = max(re.findall(r"<script[^>]*>.*?</script>", page, re.S), key=len)
        assert len(page) - len(library) < 1_000_000, (folder, len(page) - len(library))
