"""Fuzzing the one way in: a bundled scenario with one value anywhere in it replaced by something hostile
(another type, a huge or negative number, NaN, an empty or giant collection, text that looks like code or
markup) is either refused as bad input naming the file or `--set` and a field, or runs to the end. Never an
internal error, never a traceback, never a run of minutes.

Each example replaces one leaf of a real scenario (the reference centre, a district network with devices
and uplinks, the stroke desk with two AIs), so the fuzzer reaches every section the schema has."""
from __future__ import annotations

import copy
import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from simulator import ScenarioError, run_scenario
from simulator.loading import read_yaml, resolve_path, with_base
from simulator.prepare import parse_scenario

SOURCES = ["moscow_reference_center", "examples/district_network_devices", "examples/stroke_two_ais"]


def _data(name: str) -> dict:
    path = resolve_path(name)
    return with_base(read_yaml(path), path, ())


BASES = {name: _data(name) for name in SOURCES}


def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    """Every place in the document a value sits (mapping keys and list positions)."""
    if isinstance(node, dict):
        return [path] + [leaf for k, v in node.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [path] + [leaf for i, v in enumerate(node) for leaf in _leaves(v, (*path, i))]
    return [path]


LEAVES = {name: [p for p in _leaves(data) if p] for name, data in BASES.items()}

hostile = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12),
    st.sampled_from([0, -1, 1e308, -1e308, math.inf, -math.inf, math.nan, 1e-300, 2**63, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "yes", "on", "1", "true", "08:00", "25:00", "24:00+1", "os:system", "this:X", "[red]x[/]",
                     ":smile:", "2026-02-30T00:00", "2026-02-02T00:00+03:00", "9999-12-31", "../../etc/passwd",
                     "*", "-", "a" * 5000, "ＣＴ", "\x00"]),
    st.text(max_size=20),
    st.just([]), st.just({}), st.lists(st.integers(-5, 5), max_size=30),
    st.dictionaries(st.text(max_size=5), st.integers(-3, 3), max_size=3),
)


def _replace(data: dict, path: tuple, value: Any) -> dict:
    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


@settings(max_examples=int(os.environ.get("RADSIM_FUZZ_EXAMPLES", 300)), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(source=st.sampled_from(SOURCES), pick=st.integers(min_value=0), value=hostile)
def test_one_hostile_value_anywhere_is_refused_or_runs(source: str, pick: int, value: Any) -> None:
    path = LEAVES[source][pick % len(LEAVES[source])]
    data = _replace({**BASES[source], "horizon_days": 1, "warmup_days": 0}, path, value)
    try:
        scenario = parse_scenario(data, "fuzzed.yaml")
    except ScenarioError as exc:
        assert exc.problems and all(isinstance(p, str) and m for p, m in exc.problems), exc
        return
    if scenario.horizon_days > 3 or len(scenario.study_types) > 50:
        return  # accepted; running a long horizon is not what this test is for
    run_scenario(scenario, 1, workers=1)


@pytest.mark.parametrize("source", SOURCES)
def test_the_bases_run(source: str) -> None:
    data = copy.deepcopy(BASES[source])
    data["horizon_days"], data["warmup_days"] = 1, 0
    run_scenario(parse_scenario(data, source), 1, workers=1)
