"""The numbered station's loop over arrays (`simulator/network/numbered_loop.py`): run as Python and
compiled, it gives the layered station's outcome to the bit, second opinions, double reads and late AI
results and all."""
from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from simulator import load_scenario
from simulator.network import compiled, draw_cohort
from simulator.network.numbered_loop import numbered_loop
from simulator.network.ranked_once import RankedOnceStation, reading_station
from simulator.triage_config import policy_of

from .conftest import base_dict, make
from .hand import numbered_loop_compiled, outcomes
from .strategies import scenarios
from .test_model import PROPERTY
from .test_ranked_once import ODD, assert_same


@settings(PROPERTY, max_examples=80)
@given(scenarios(), st.sampled_from(["fifo", "ai_priority", "hierarchical", "score", "sla_edf", *ODD]))
def test_the_loop_as_python_and_compiled_gives_the_layered_outcome_to_the_bit(data: dict[str, Any],
                                                                              policy: str) -> None:
    scenario = make(data)
    policy_ = ODD[policy]() if policy in ODD else policy_of(make({**data, "policy": {**data["policy"],
                                                                                     "triage": policy}}))
    cohort = draw_cohort(scenario, scenario.seed, 0)
    chosen = reading_station(scenario, cohort, policy_, scenario.seed, 0)
    event("numbered loop" if type(chosen) is RankedOnceStation else type(chosen).__name__)
    event(f"late AI results: {cohort.upstream.late_score is not None}")
    event(f"pre-emptive: {scenario.policy.preemptive}")
    event(f"dispatch: {scenario.routing.mode}")
    routes = getattr(chosen, "routes", None)
    event(f"studies opened to the centre later: {routes is not None and routes.entry.shape[0] > 0}")
    found = outcomes(scenario, cohort, policy_)
    event(f"audits: {bool(found[0].audited.any())}, {len(found)} forms")
    for other in found[1:]:
        assert_same(found[0], other)


@pytest.mark.parametrize("name", ["benchmarks/mmc10.yaml", "scenarios/validation/shifts_day_night_psa.yaml",
                                  "scenarios/validation/device_breakdowns.yaml",
                                  "scenarios/validation/mmc_three_classes.yaml",
                                  "scenarios/examples/district_network.yaml"])
def test_bundled_scenarios_run_the_loop_compiled_with_the_same_bits(name: str) -> None:
    # A shorter horizon where the scenario is long: the point is every kind of event, not the volume.
    scenario = load_scenario(name, overrides=["horizon_days=20"] if "mmc10" in name else [])
    cohort = draw_cohort(scenario, scenario.seed, 1)
    assert type(reading_station(scenario, cohort, policy_of(scenario), scenario.seed, 1)) is RankedOnceStation
    with numbered_loop_compiled():
        compiled._loaded.pop(numbered_loop, None)
        found = outcomes(scenario, cohort, policy_of(scenario))
        assert numbered_loop in compiled._loaded  # it did run compiled
    python, layered, numba = found
    assert_same(python, layered)
    assert_same(numba, layered)


@pytest.mark.parametrize("late", [False, True])
def test_a_run_with_no_reader_on_duty_runs_compiled_too(late: bool) -> None:
    # Found by tests/test_inputs.py: with no reader on duty, the readers' columns were empty arrays of
    # numpy's default type, and numba refused the loop (as Python it ran).
    data = base_dict()
    data.update(horizon_days=1, warmup_days=0)
    data["pools"]["readers"]["shifts"][0]["staff"] = 0
    if late:  # AI results that come while the studies wait
        data["ai_services"]["ct_ai"].update(workers=1, inference_minutes={"dist": "exponential", "mean": 5})
    scenario = make(data)
    cohort = draw_cohort(scenario, scenario.seed, 0)
    assert (cohort.upstream.late_score is not None) == late
    found = outcomes(scenario, cohort, policy_of(scenario))
    assert len(found) == 3  # the loop as Python, the layered station, the loop compiled
    for other in found[1:]:
        assert_same(found[0], other)


def test_without_numba_a_large_run_runs_as_python_over_compact_arrays(monkeypatch) -> None:
    # The `fast` extra not installed: a run past the threshold is still the same run, in `array`s.
    import sys

    from simulator.network import ranked_once

    scenario = load_scenario("moscow_reference_center", overrides=["horizon_days=3", "warmup_days=0"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    policy = policy_of(scenario)
    want = outcomes(scenario, cohort, policy)[1]  # the layered station's
    monkeypatch.setitem(sys.modules, "numba", None)  # importing it fails
    monkeypatch.setattr(compiled, "_loaded", {})
    monkeypatch.setattr(ranked_once, "NUMBERED_FROM", 1)
    station = reading_station(scenario, cohort, policy, scenario.seed, 0)
    assert type(station) is RankedOnceStation
    assert_same(station.run(), want)
    assert compiled._loaded == {}  # nothing compiled: it ran as Python

