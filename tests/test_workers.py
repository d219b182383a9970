"""Sweeps and workers under attack: a point that kills its worker or hangs fails alone, a killed client takes
its workers with it, SIGTERM stops like Ctrl-C, bad code and bad cluster addresses are bad input, and a lost
scheduler is one clear line."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from simulator.cli import app
from simulator.sweep import parse_grid, run_sweep

from .conftest import base_dict
from .interrupts import takes_ctrl_c

runner = CliRunner()


def small() -> dict:
    data = base_dict()
    data.update(horizon_days=3, warmup_days=0.5)
    return data


def test_a_point_that_kills_its_worker_fails_alone(tmp_path: Path) -> None:
    points = parse_grid(["policy.triage=fifo,ai_priority,tests.policies_for_tests:AlwaysDies,sla_edf,score"])
    result = run_sweep(small(), "test.yaml", points, 2, tmp_path / "s", workers=2)
    assert result.computed == 8
    assert {f["point"]["policy.triage"] for f in result.failures} == {"tests.policies_for_tests:AlwaysDies"}
    assert all("worker process died" in f["error"] for f in result.failures) and len(result.failures) == 2
    again = run_sweep(small(), "test.yaml", points, 2, tmp_path / "s", workers=2)
    assert again.reused == 8 and len(again.failures) == 2  # a rerun retries only the failed runs


def test_a_pool_that_breaks_between_two_waits_loses_no_run(tmp_path: Path, monkeypatch) -> None:
    """A worker can die after one wait and before the next submission, which then raises: the runs in flight
    are run again alone and the sweep goes on (this race once failed CI)."""
    from concurrent.futures.process import BrokenProcessPool

    import simulator.sweep as sweep
    from simulator.workers import LocalPool

    class BreaksOnSecondSubmit(LocalPool):
        submitted = 0

        def submit(self, *args, **kwargs):
            BreaksOnSecondSubmit.submitted += 1
            if BreaksOnSecondSubmit.submitted == 2:
                raise BrokenProcessPool("a child process terminated abruptly")
            return super().submit(*args, **kwargs)

    monkeypatch.setattr(sweep, "LocalPool", BreaksOnSecondSubmit)
    points = parse_grid(["policy.triage=fifo,ai_priority"])
    result = run_sweep(small(), "test.yaml", points, 2, tmp_path / "s", workers=2)
    assert result.computed == 4 and not result.failures


def test_a_point_that_hangs_times_out_alone(tmp_path: Path) -> None:
    points = parse_grid(["policy.triage=fifo,tests.policies_for_tests:Hangs,ai_priority"])
    started = time.monotonic()
    result = run_sweep(small(), "test.yaml", points, 1, tmp_path / "s", workers=2, run_timeout=3.0)
    assert time.monotonic() - started < 40
    assert result.computed == 2 and len(result.failures) == 1
    assert "timed out after 3 s" in result.failures[0]["error"]


def test_a_bad_policy_in_a_grid_is_bad_input_before_anything_runs(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(small()))
    result = runner.invoke(app, ["sweep", str(scenario), "--grid", "policy.triage=fifo,tests.policies_for_tests:Nope",
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "has no 'Nope'" in result.output and not (tmp_path / "o").exists()


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stream:  # a zombie is dead, only not yet reaped
        return stream.read().split(") ")[1][0] != "Z"


def _sweep_process(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    scenario = tmp_path / "s.yaml"
    data = small()
    # Long enough (about a minute alone) that the sweep is still running when it is stopped, however long a
    # loaded machine takes to show its workers (at 60 days it finished in 7 s and once beat the signal).
    data["horizon_days"] = 600
    scenario.write_text(yaml.safe_dump(data))
    command = [sys.executable, "-m", "simulator", "sweep", str(scenario), "--grid",
               "pools.readers.shifts.0.staff=2:19", "-r", "4", "--workers", "2", "--out", str(tmp_path / "out")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=takes_ctrl_c)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = [p for p in _children(process.pid) if _children(p) == [] or True]
    time.sleep(1.0)  # the workers are computing now
    return process, [p for p in _children(process.pid)]


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_stopping_a_sweep_stops_its_workers(tmp_path: Path, how: int) -> None:
    process, workers = _sweep_process(tmp_path)
    assert workers
    process.send_signal(how)
    process.wait(timeout=30)
    if how != signal.SIGKILL:
        assert process.returncode == 130  # SIGTERM is handled like Ctrl-C
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers), "workers went on computing after their parent stopped"


def test_an_unreachable_or_malformed_cluster_address_is_bad_input(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(small()))
    for address in ("tcp://127.0.0.1:1", "not an address"):
        result = runner.invoke(app, ["sweep", str(scenario), "--grid", "policy.triage=fifo", "-r", "1",
                                     "--cluster", address, "--out", str(tmp_path / "o")])
        assert result.exit_code == 2, result.output
        assert f"--cluster {address}" in " ".join(result.output.split())


def test_a_lost_scheduler_is_one_clear_line_and_the_finished_runs_are_kept(tmp_path: Path) -> None:
    address_file = tmp_path / "address"
    cluster = subprocess.Popen([sys.executable, "-c", (
        "import time\n"
        "from distributed import LocalCluster\n"
        "cluster = LocalCluster(n_workers=1, threads_per_worker=1, host='127.0.0.1', dashboard_address='127.0.0.1:0')\n"
        f"open({str(address_file)!r}, 'w').write(cluster.scheduler_address)\n"
        "time.sleep(600)\n")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not address_file.exists():
            time.sleep(0.2)
        scenario = tmp_path / "s.yaml"
        data = small()
        data["horizon_days"] = 20
        scenario.write_text(yaml.safe_dump(data))
        # (Many runs, so that the sweep is still going when the scheduler is killed: with 57, a fresh clone's
        # sweep once finished them all first, and exited 0.)
        sweep = subprocess.Popen([sys.executable, "-m", "simulator", "sweep", str(scenario), "--grid",
                                  "pools.readers.shifts.0.staff=2:120", "-r", "3", "--cluster", address_file.read_text(),
                                  "--out", str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        runs = tmp_path / "out" / "runs"
        while time.monotonic() < deadline and len(list(runs.rglob("*.parquet"))) < 2:
            time.sleep(0.2)
        os.killpg(cluster.pid, signal.SIGKILL)
        _, errors = sweep.communicate(timeout=120)
    finally:
        if cluster.poll() is None:
            os.killpg(cluster.pid, signal.SIGKILL)
    assert sweep.returncode == 1, errors
    text = " ".join(errors.split())
    assert "scheduler went away" in text and "run(s) kept" in text
    assert "Traceback" not in errors and errors.count("CancelledError") == 0
    assert len(list(runs.rglob("*.parquet"))) >= 2


def test_an_unreadable_run_file_is_computed_again_and_said_so(tmp_path: Path) -> None:
    points = parse_grid(["policy.triage=fifo,ai_priority"])
    first = run_sweep(small(), "test.yaml", points, 2, tmp_path / "s", workers=1)
    victim = next((tmp_path / "s" / "runs").rglob("r0001.parquet"))
    victim.write_bytes(b"")  # a file cut to nothing by a crash of the disk, say
    again = run_sweep(small(), "test.yaml", points, 2, tmp_path / "s", workers=1)
    assert again.unreadable == 1 and again.computed == 1 and again.reused == 3
    assert again.results.equals(first.results)


# What an interrupted command says -----------------------------------------------------------------------
def _stopped(args: list[str], after: str, cwd: Path, how: int = signal.SIGTERM) -> subprocess.CompletedProcess:
    """A radsim command stopped by `how` once its stderr shows `after` (a progress line): its exit code and
    what it said."""
    process = subprocess.Popen([sys.executable, "-m", "simulator", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=cwd, preexec_fn=takes_ctrl_c)
    said = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        said.append(line)
        if after in line or not line:
            break
    process.send_signal(how)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(args, process.returncode, stdout, "".join(said) + stderr)


def test_a_run_stopped_by_sigterm_says_so(tmp_path: Path) -> None:
    """A CI log must not just stop at a progress line: exit 130 and "interrupted", nothing written."""
    done = _stopped(["run", "moscow_reference_center", "--set", "horizon_days=365", "-r", "4", "--out", "o"],
                    "simulating", tmp_path)
    assert done.returncode == 130 and "interrupted; nothing was written" in done.stderr, done.stderr
    assert not (tmp_path / "o").exists()


def test_a_sweep_stopped_by_sigterm_says_what_it_kept(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    data = small()
    data["horizon_days"] = 200
    scenario.write_text(yaml.safe_dump(data))
    done = _stopped(["sweep", str(scenario), "--grid", "pools.readers.shifts.0.staff=2:40", "-r", "4", "-w", "1",
                     "--out", "o"], "sweeping", tmp_path)
    assert done.returncode == 130, done.stderr
    finished = len(list((tmp_path / "o" / "runs").glob("*/r*.parquet")))
    assert f"interrupted; {finished} finished run(s) are kept in o/; the same command resumes" in \
        " ".join(done.stderr.split())


def test_staff_writes_the_roster_it_found_before_telling_its_story(tmp_path: Path, monkeypatch) -> None:
    """Stopped while it simulates what the roster gives (the story), the roster found is already written."""
    import simulator.cli.staff as staff

    def cut_short(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(staff, "_tell", cut_short)
    out = tmp_path / "roster"
    result = runner.invoke(app, ["staff", "examples/mmc_ai_triage", "--set", "horizon_days=3", "--set", "warmup_days=0",
                                 "--target", "p95_tat_minutes <= 600", "-r", "2", "--out", str(out)])
    assert result.exit_code == 130
    assert (out / "roster.yaml").is_file() and (out / "staffing.json").is_file()


def test_out_of_memory_is_said_plainly(monkeypatch, capsys) -> None:
    import simulator.experiment as experiment
    from simulator.cli import main

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(experiment, "run_variants", exhausted)
    monkeypatch.setattr(sys, "argv", ["radsim", "run", "examples/mmc_ai_triage", "--allow-large", "--out",
                                      str(Path(os.environ.get("TMPDIR", "/tmp")) / "never-written")])
    with pytest.raises(SystemExit) as stopped:
        main()
    said = " ".join(capsys.readouterr().err.split())
    assert stopped.value.code == 4 and "out of memory" in said and "internal error" not in said


class Exited(Exception):
    """`os._exit`, caught: a test must not end its own process."""


@pytest.mark.parametrize("kills", [True, False])
def test_a_command_that_killed_its_pool_exits_without_joining_the_pools_threads(monkeypatch, kills: bool) -> None:
    """Once a command killed a pool's workers, it exits at once with its code (the interpreter's exit would
    join the pool's threads, which a worker killed while sending a result leaves waiting for ever); a
    command that killed none exits as usual (flip: either way for both)."""
    import simulator.cli as cli
    from simulator.workers import LocalPool

    def exit_now(code: int) -> None:
        raise Exited(code)

    def command() -> None:
        pool = LocalPool(1)
        pool.submit(int).result()
        if kills:
            pool.kill()
        else:
            pool.shutdown()
        # Only now: a worker forked while it is replaced would not end either.
        monkeypatch.setattr(os, "_exit", exit_now)
        sys.exit(130)

    monkeypatch.setattr(cli, "_main", command)
    with pytest.raises(Exited if kills else SystemExit) as stopped:
        cli.main()
    assert stopped.value.args[0] == 130 if kills else stopped.value.code == 130


def _logging_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Logging as a command starts with it: `radsim sweep --cluster` silences it for the rest of its process
    (the Dask client's reconnection logs), which in a test worker is every later test's."""
    import logging

    monkeypatch.setattr(logging.root.manager, "disable", logging.NOTSET)


@pytest.mark.parametrize("available, expected, said", [
    (None, 2, None),  # unknown: as asked
    (10e9, 2, None),
    (2.0e9, 1, "1 worker process at once, not 2"),
    (0.5e9, 1, "may run out of memory"),
])
def test_workers_fit_in_the_memory_available(monkeypatch, caplog, available, expected, said) -> None:
    """One replication needs 1 GB (a margin of a quarter on top): two processes where 2.5 GB is free, one
    below, and a note of it; where even one may not fit, it still runs, and says so."""
    import simulator.workers as workers

    _logging_on(monkeypatch)
    monkeypatch.setattr(workers, "available_memory", lambda: available)
    monkeypatch.setattr(workers, "_told", set())
    with caplog.at_level("WARNING", logger="simulator.workers"):
        assert workers.within_memory(2, 1e9) == expected
    notes = [record.getMessage() for record in caplog.records]
    assert (notes == []) if said is None else (len(notes) == 1 and said in notes[0])


def test_a_run_that_two_processes_would_take_out_of_memory_runs_in_one(monkeypatch, capsys, tmp_path: Path) -> None:
    """Its replications one after the other in the command's own process (the same rows as on two), and a
    note on stderr that says why."""
    import simulator.experiment as experiment
    import simulator.workers as workers
    from simulator.cli import main

    def no_pool(*args, **kwargs):
        raise AssertionError("a pool of workers was started")

    _logging_on(monkeypatch)
    monkeypatch.setattr(workers, "available_memory", lambda: 0.5e9)  # a small run needs some 0.36 GB
    monkeypatch.setattr(workers, "_told", set())
    monkeypatch.setattr(experiment, "LocalPool", no_pool)
    monkeypatch.setattr(sys, "argv", ["radsim", "run", "examples/mmc_ai_triage", "--replications", "2",
                                      "--workers", "2", "--set", "horizon_days=3", "--set", "warmup_days=1", "--out", str(tmp_path / "run")])
    with pytest.raises(SystemExit) as ended:
        main()
    said = " ".join(capsys.readouterr().err.split())
    assert ended.value.code in (0, None)
    assert "note: 1 worker process at once, not 2" in said and (tmp_path / "run" / "studies.parquet").exists()


def test_the_memory_available_is_the_machines_within_its_control_groups_limit(tmp_path: Path) -> None:
    from simulator.workers import available_memory

    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemFree:         9000000 kB\nMemAvailable:   12000000 kB\n")
    group = tmp_path / "cgroup"
    assert available_memory(str(meminfo), str(group)) == 12_000_000 * 1024  # no group of its own: the machine's
    group.mkdir()
    (group / "memory.max").write_text("max\n")
    (group / "memory.current").write_text("1000000000\n")
    assert available_memory(str(meminfo), str(group)) == 12_000_000 * 1024  # a group without a limit
    (group / "memory.max").write_text("4000000000\n")
    assert available_memory(str(meminfo), str(group)) == 3_000_000_000  # what the group has left
    meminfo.write_text("MemTotal:       24000000 kB\n")  # an old kernel's, without MemAvailable
    assert available_memory(str(meminfo), str(group)) is None
    assert available_memory(str(tmp_path / "none"), str(group)) is None
