"""The loops of a large run compiled ahead in a helper process (`simulator/compile_ahead.py`): a helper only
for a large run, a process about to compile waits for it to end, and a helper still running when the run
ends is killed. (That the compiled loops give the Python loops' bits is tests/test_numbered_loop.py's and
tests/test_queues.py's.)"""
from __future__ import annotations

import os
import threading
import time
from functools import partial
from pathlib import Path

import pytest

from simulator import compile_ahead
from simulator.compile_ahead import compiled_ahead
from simulator.experiment import run_replication
from simulator.network import compiled
from simulator.network.compiled import after_helper, runner
from simulator.prepare import load_scenario

pytest.importorskip("numba")


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch):
    """A scenario large enough for a helper (4 weeks of the city: some 520 k studies), in a process that
    has compiled no loop yet."""
    monkeypatch.setattr(compiled, "_loaded", {})
    return load_scenario("moscow_city", ["horizon_days=28"])


def _compiles_slowly(done: Path, scenario, items, replicate) -> None:
    time.sleep(0.5)
    done.touch()


def _never_ends(pid: Path, scenario, items, replicate) -> None:
    pid.write_text(str(os.getpid()))
    time.sleep(600)


def test_a_small_run_starts_no_helper(scenario) -> None:
    with compiled_ahead(scenario, run_replication) as ended:
        assert ended is None


def test_a_process_about_to_compile_waits_for_the_helper_to_end(large, monkeypatch, tmp_path: Path) -> None:
    done = tmp_path / "compiled"
    monkeypatch.setattr(compile_ahead, "_compile", partial(_compiles_slowly, done))  # the forked helper runs it
    with compiled_ahead(large, run_replication) as ended:
        assert ended is not None
        after_helper(ended)
        try:
            compiled._await_helper()
        finally:
            after_helper(None)
        assert done.exists()  # the helper had ended: its loops were in the cache before this process went on


def test_a_helper_still_running_when_the_run_ends_is_killed(large, monkeypatch, tmp_path: Path) -> None:
    pid = tmp_path / "pid"
    monkeypatch.setattr(compile_ahead, "_compile", partial(_never_ends, pid))
    with compiled_ahead(large, run_replication) as ended:
        while not pid.exists() or not pid.read_text():
            time.sleep(0.05)
    helper = int(pid.read_text())
    assert not Path(f"/proc/{helper}").exists() or "\nState:\tZ" in Path(f"/proc/{helper}/status").read_text()
    assert ended is not None


def _plus_one(x: float) -> float:
    return x + 1.0


def test_a_loop_compiles_only_once_the_helper_has_ended(monkeypatch) -> None:
    monkeypatch.setattr(compiled, "_loaded", {})
    monkeypatch.setattr(compiled, "_handed", {})
    ended = threading.Event()
    touched: list[float] = []

    def helper_ends() -> None:
        time.sleep(0.3)
        touched.append(time.monotonic())
        ended.set()

    thread = threading.Thread(target=helper_ends)
    after_helper(ended)
    try:
        thread.start()
        loop, is_compiled = runner(_plus_one, 10, 1)
        asked = time.monotonic()
    finally:
        after_helper(None)
        thread.join()
    assert is_compiled and loop(1.0) == 2.0
    assert touched and touched[0] <= asked


def test_the_helper_compiles_the_loops_the_run_would_compile(monkeypatch) -> None:
    monkeypatch.setattr(compiled, "_loaded", {})
    monkeypatch.setattr(compiled, "_handed", {})
    monkeypatch.setattr(compiled, "_ahead", 0)
    assert runner(_plus_one, 1, 1000)[1] is False
    compiled.as_if_handed(500)  # a run of 500 jobs runs this loop as Python
    assert runner(_plus_one, 1, 1000)[1] is False
    compiled.as_if_handed(1000)
    assert runner(_plus_one, 1, 1000)[1] is True


def test_the_run_s_processes_wait_for_the_helper() -> None:
    """A worker is told of the helper by its set-up, and a run in this process by its pool of one."""
    from simulator.experiment import _Here, _listen

    ended = threading.Event()
    try:
        _listen(None, ended)
        assert compiled._helper == ended
    finally:
        after_helper(None)
    with _Here(ended):
        assert compiled._helper == ended
    assert compiled._helper is None


def test_a_helper_that_cannot_cache_ends_at_once(large, monkeypatch) -> None:
    """Where numba has nowhere to keep compiled loops, the helper runs nothing (the run's processes would
    only wait for loops they must compile again)."""
    ran: list[int] = []
    monkeypatch.setattr(compile_ahead, "can_cache", lambda: False)
    compile_ahead._compile(large, 10 ** 6, lambda scenario, replication: ran.append(replication))
    assert ran == []
    monkeypatch.setattr(compile_ahead, "can_cache", lambda: True)
    monkeypatch.setattr(compiled, "_ahead", 0)
    compile_ahead._compile(large, 10 ** 6, lambda scenario, replication: ran.append(replication))
    assert ran == [0] and compiled._ahead == 10 ** 6


def test_where_no_helper_can_be_started_the_run_goes_on_without(large, monkeypatch) -> None:
    """A run inside a daemonic process (a worker of some other pool) may start no process of its own: each
    of its processes then compiles for itself, as without a helper."""
    def refused(*args, **kwargs):
        raise AssertionError("daemonic processes are not allowed to have children")

    monkeypatch.setattr(compile_ahead.LocalPool, "submit", refused)
    with compiled_ahead(large, run_replication) as ended:
        assert ended is None
