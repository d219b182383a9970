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

import numpy as np
import pytest

from simulator import compile_ahead
from simulator.compile_ahead import compiled_ahead
from simulator.experiment import run_replication
from simulator.network import compiled, draw_cohort
from simulator.network.compiled import after_helper, runner
from simulator.prepare import load_scenario, policy_variant

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


class _Typed(Exception):
    """Raised by `_loop_types`' stand-in loop once it has the types it was handed."""


def _loop_types(monkeypatch: pytest.MonkeyPatch, scenario, block: float | None = None):
    """numba's types of all the reading station hands its compiled loop on a run of `scenario` (nothing
    run; `block`: by blocks of time that long), and the station: one compiled form serves runs whose
    types are alike."""
    import numba

    from simulator.network import blocks, ranked_once
    from simulator.triage_config import policy_of

    def typed(*args):
        raise _Typed(tuple(numba.typeof(a) for a in args))
        yield  # (a generator, as the loop)

    monkeypatch.setattr(ranked_once, "runner", lambda *a: (typed, True))
    monkeypatch.setattr(blocks, "BLOCK_MINUTES", block)
    cohort = draw_cohort(scenario, scenario.seed, 0)
    station = ranked_once.reading_station(scenario, cohort, policy_of(scenario), scenario.seed, 0)
    assert type(station) is ranked_once.RankedOnceStation
    with pytest.raises(_Typed) as handed:
        station._run_numbered()
    assert (station._cuts() is not None) == (block is not None)
    return handed.value.args[0], station


def test_every_run_hands_the_loop_the_types_of_every_other(monkeypatch) -> None:
    """Numba compiles the loop once for each set of argument types it is handed (25-60 s a form): a run
    without late AI results, without ranks kept, without second opinions, without double reads, or by
    blocks of time hands empty arrays typed as a run with them, integer keys as floats and ranks in their
    own types, so that every run compiles one form (which `radsim compile` compiles, `compile_every_loop`).
    (Found by the suite: a generated scenario where nothing arrived, in a process that had run enough
    studies to run the loop compiled, compiled a form of its own for a minute.)"""
    day = ["horizon_days=3", "warmup_days=0"]
    city = load_scenario("moscow_city", day)
    types, network = _loop_types(monkeypatch, load_scenario("moscow_city_network", day))
    found = {
        "the city": _loop_types(monkeypatch, city),
        "its FIFO comparison": _loop_types(monkeypatch, policy_variant(city, "fifo")),
        "by blocks of time": _loop_types(monkeypatch, load_scenario("moscow_city_network", day), 173.0),
        "double reads": _loop_types(monkeypatch, load_scenario("moscow_reference_center", day)),
        "no ranks at all": _loop_types(monkeypatch, load_scenario("examples/cxr_day_night", day)),
        "late results alone": _loop_types(monkeypatch, load_scenario("examples/district_network_devices", day)),
        "integer keys": _loop_types(monkeypatch, load_scenario(
            "examples/district_network_devices", [*day, "policy.triage=tests.policies_for_tests:WholeMinutes"])),
        "nobody barred": _loop_types(monkeypatch, load_scenario("validation/mmc_three_classes", day)),
        "nothing arrives": _loop_types(monkeypatch, load_scenario(
            "validation/mmc_three_classes", [*day, "study_types.study.arrivals.rate_per_hour=0"],
            expectations=False)),
    }
    # (The premises: what each run has or has not.)
    assert network.n_second and network.results is not None and network.partner is None
    assert found["double reads"][1].partner is not None
    assert found["no ranks at all"][1].ranks.cls is None and found["late results alone"][1].results is not None
    assert found["nobody barred"][1].excluded is None and found["nothing arrives"][1].ranks.order.shape[0] == 0
    for kind, (other, _) in found.items():
        assert other == types, (kind, [(str(a), str(b)) for a, b in zip(types, other) if a != b])


def test_radsim_compile_compiles_every_loop_only_where_numba_can_keep_it(monkeypatch) -> None:
    from typer.testing import CliRunner

    from simulator.cli import app

    ran: list[str] = []
    monkeypatch.setattr(compile_ahead, "_compile", lambda scenario, items, replicate: ran.append(scenario.name))
    monkeypatch.setattr(compile_ahead, "can_cache", lambda: False)
    said = CliRunner().invoke(app, ["compile"])
    assert said.exit_code == 0 and "nothing to compile" in said.output and ran == []
    monkeypatch.setattr(compile_ahead, "can_cache", lambda: True)
    said = CliRunner().invoke(app, ["compile"])
    assert said.exit_code == 0 and "compiled" in said.output and len(ran) == len(compile_ahead.EVERY_LOOP)
