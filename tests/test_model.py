"""Model rules: conservation, shifts and handover, priority, pre-emption, second opinions, reproducibility.

Property tests run the real model over small random scenarios; each property would fail if its rule broke.
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simulator import run_replication
from simulator.cohort import draw_cohort
from simulator.experiment import policy_of
from simulator.network import ReadingStation

from .conftest import base_dict, make

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
POLICIES = ["fifo", "ai_priority", "hierarchical", "score", "aging", "sla_edf"]


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    n_types = draw(st.integers(1, 3))
    types = {}
    for t in range(n_types):
        types[f"type{t}"] = {
            "modality": draw(st.sampled_from(["CT", "DX", "MG"])),
            "arrivals": {"rate_per_hour": draw(st.floats(0.5, 8.0))},
            "prevalence": draw(st.floats(0.0, 0.5)),
            "referral": {"stat": draw(st.floats(0.0, 0.3)), "urgent": draw(st.floats(0.0, 0.3))},
            "read_minutes": draw(st.sampled_from([
                {"dist": "exponential", "mean": 8}, {"dist": "lognormal", "mean": 12, "cv": 0.6},
                {"dist": "gamma", "mean": 5, "cv": 1.2}, {"dist": "fixed", "value": 6},
                {"dist": "empirical", "values": [2, 5, 30]}])),
            "ai": draw(st.sampled_from([None, "ai"])),
        }
    names = list(types)
    pools = {}
    for p in range(draw(st.integers(1, 2))):
        reads = draw(st.lists(st.sampled_from(names + ["second_opinion"]), min_size=1, unique=True))
        shifts = []
        for _ in range(draw(st.integers(1, 3))):
            start = draw(st.integers(0, 23))
            shifts.append({"start": f"{start:02d}:00", "hours": draw(st.sampled_from([6, 8, 12, 24])),
                           "staff": draw(st.integers(0, 3)),
                           "days": draw(st.lists(st.sampled_from(DAYS), min_size=1, unique=True))})
        pools[f"pool{p}"] = {"reads": reads, "shifts": shifts, "absence_rate": draw(st.sampled_from([0.0, 0.2]))}
    # Every type and the second opinions must be readable: a catch-all pool, sometimes unstaffed at night.
    pools["catch_all"] = {"reads": ["*"], "shifts": [{"start": "08:00", "end": "18:00", "staff": draw(st.integers(1, 2))}]}
    data = {
        "name": "prop", "start": "2026-02-04T06:30", "horizon_days": draw(st.sampled_from([1.5, 2, 3])),
        "warmup_days": 0.25, "seed": draw(st.integers(0, 2**32)), "study_types": types,
        "ai_services": {"ai": {"sensitivity": 0.8, "specificity": 0.85, "failure_rate": 0.1,
                               "latency_minutes": {"dist": "exponential", "mean": 3}}},
        "pools": pools,
        "policy": {"triage": draw(st.sampled_from(POLICIES)), "order": ["ai"],
                   "preemptive": draw(st.booleans())},
        "targets": {"stat": {"minutes": 15}, "routine": {"hours": 4}},
    }
    if draw(st.booleans()):
        data["second_opinions"] = {"fraction": 0.3, "read_minutes": {"dist": "exponential", "mean": 10}}
    if draw(st.booleans()):
        data.update(routing_options(draw, data))
    return data


def routing_options(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """Sites with their own readers, push or pull, double reading and the autonomous-normal lane."""
    names = list(data["study_types"])
    routing: dict[str, Any] = {"mode": draw(st.sampled_from(["pull", "push"]))}
    extra: dict[str, Any] = {"sites": {"north": {"weight": 1.0}, "south": {"weight": 2.0}}, "routing": routing}
    if draw(st.booleans()):
        data["pools"]["north_local"] = {
            "site": "north", "reads": draw(st.lists(st.sampled_from(names), min_size=1, unique=True)),
            "shifts": [{"start": "07:00", "hours": 12, "staff": draw(st.integers(0, 2))}]}
        routing["overflow_after"] = draw(st.sampled_from([None, {"minutes": 20}, {"hours": 2}]))
        if draw(st.booleans()):
            routing["night_to_centre"] = {"start": "17:00", "end": "09:00"}
    if draw(st.booleans()):
        dual = draw(st.sampled_from(names))
        data["study_types"][dual]["double_reading"] = {"second_reader": draw(st.sampled_from(["human", "ai"]))}
        data["pools"]["catch_all"]["shifts"][0]["staff"] = 2  # two different readers per study
    scored = [n for n in names if data["study_types"][n]["ai"]]
    if scored and draw(st.booleans()):
        routing["autonomous_normal"] = {"study_types": scored, "below": draw(st.sampled_from([0.05, 0.3])),
                                        "target": {"hours": 48}}
    return extra


def simple_routing(scenario) -> bool:
    """Pull, every pool central, no double reading: where the STAT rule holds reader by reader."""
    return (scenario.routing.mode == "pull" and all(p.site is None for p in scenario.pools.values())
            and all(t.double_reading is None for t in scenario.study_types.values()))


def run_model(data: dict[str, Any]):
    scenario = make(data)
    cohort = draw_cohort(scenario, scenario.seed, 0)
    model = ReadingStation(scenario, cohort, policy_of(scenario), scenario.seed, 0)
    outcome = model.run()
    from simulator.records import duties_table, studies_table

    return scenario, model, studies_table(scenario, cohort, outcome, scenario.seed, 0).to_pylist(), \
        duties_table(outcome, 0).to_pylist()


PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@PROPERTY
@given(scenarios())
def test_conservation_every_arrival_is_reported_waiting_in_reading_or_in_transit(data: dict[str, Any]) -> None:
    scenario, model, rows, _ = run_model(data)
    horizon = scenario.horizon_minutes
    reported = [r for r in rows if r["reported_at"] is not None]
    reading = [r for r in rows if r["read_start"] is not None and r["reported_at"] is None]
    waiting = [r for r in rows if r["ready_at"] is not None and r["read_start"] is None]
    transit = [r for r in rows if r["ready_at"] is None]
    assert len(reported) + len(reading) + len(waiting) + len(transit) == len(rows)
    # The partition agrees with the model's own state at the horizon.
    preempted_waiting = sum(1 for item in model.worklist if item.preempted)
    assert len(waiting) + preempted_waiting == len(model.worklist)
    in_hand = {reader.item.index for duty in model.duty_readers.values() for reader in duty if reader.item is not None}
    preempted = {item.index for item in model.worklist if item.preempted}
    # A double-read study's report waits for both reads: its first read may be done, the second not.
    second_open = {r["of_study"] for r in rows if r["kind"] == "double_read" and r["reported_at"] is None}
    for r in reading:
        index = int(r["study_id"][-12:])
        assert index in in_hand or index in preempted or r["study_id"] in second_open, r
    assert len(in_hand) + len(preempted) <= len(reading)
    for r in rows:
        assert r["arrived_at"] < horizon
        if r["reported_at"] is not None:
            assert r["arrived_at"] <= r["ready_at"] <= r["read_start"] < r["reported_at"] <= horizon
            assert r["wait_minutes"] >= -1e-9 and r["tat_minutes"] == pytest.approx(r["reported_at"] - r["arrived_at"])
    # Every study the cohort drew is a row, once.
    assert sum(1 for r in rows if r["kind"] not in ("second_opinion", "double_read")) == len(model.cohort)
    assert len({r["study_id"] for r in rows}) == len(rows)


@PROPERTY
@given(scenarios())
def test_nobody_starts_a_read_outside_their_shift(data: dict[str, Any]) -> None:
    _, _, rows, duties = run_model(data)
    on_duty: dict[str, list[tuple[float, float]]] = {}
    for d in duties:
        if d["present"]:
            on_duty.setdefault(d["reader"], []).append((d["start"], d["end"]))
    for r in rows:
        if r["reported_at"] is not None and r["read_start"] == r["reported_at"] - r["read_minutes"]:
            # An uninterrupted read: its start is the reader's start.
            assert any(a <= r["read_start"] < b for a, b in on_duty[r["reader"]]), r


@PROPERTY
@given(scenarios())
def test_stat_never_waits_while_an_eligible_reader_starts_a_lower_class(data: dict[str, Any]) -> None:
    scenario, _, rows, duties = run_model(data)
    assume(simple_routing(scenario))
    pool_of = {d["reader"]: d["pool"] for d in duties}
    lanes = {name: set(scenario.lanes_of(pool)) for name, pool in scenario.pools.items()}
    stat = [r for r in rows if r["priority"] == "stat" and r["ready_at"] is not None]
    for r in rows:
        if r["priority"] in (None, "stat") or r["reader"] is None or r["read_start"] != r["reported_at"] - r["read_minutes"]:
            continue
        readable = lanes[pool_of[r["reader"]]]
        t = r["read_start"]
        for s in stat:
            waiting = s["ready_at"] < t and (s["read_start"] is None or s["read_start"] > t)
            assert not (waiting and s["study_type"] in readable), (s, r)


@PROPERTY
@given(scenarios())
def test_utilisation_lies_in_zero_one(data: dict[str, Any]) -> None:
    scenario = make(data)
    result = run_replication(scenario, 0)
    from simulator.metrics import pool_metrics

    pools = np.asarray(result.duties.column("pool").to_pylist(), dtype=object)
    for pool in scenario.pools:
        value = pool_metrics(result.duties, scenario, pools == pool)["utilization"]
        assert np.isnan(value) or 0.0 <= value <= 1.0 + 1e-12


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@settings(max_examples=10, deadline=None)
@given(scenarios())
def test_same_seed_same_parquet_bytes(data: dict[str, Any]) -> None:
    scenario = make(data)
    assert parquet_bytes(run_replication(scenario, 3).studies) == parquet_bytes(run_replication(scenario, 3).studies)


@settings(max_examples=15, deadline=None)
@given(scenarios(), st.sampled_from(POLICIES), st.integers(1, 4))
def test_common_random_numbers_across_policies_and_staffing(data: dict[str, Any], other: str, staff: int) -> None:
    """Same seed: same studies, truth, AI scores and reading times, whatever the policy or roster."""
    first = run_replication(make(data), 0).studies
    data = {**data, "policy": {**data["policy"], "triage": other}}
    doubled = any("double_reading" in t for t in data["study_types"].values())
    data["pools"]["catch_all"]["shifts"][0]["staff"] = max(staff, 2) if doubled else staff
    second = run_replication(make(data), 0).studies
    keep = pa.compute.not_equal(first.column("kind"), "second_opinion")
    a, b = first.filter(keep), second.filter(pa.compute.not_equal(second.column("kind"), "second_opinion"))
    for column in ("study_id", "study_type", "site", "referral", "diseased", "ai_score", "ai_positive", "arrived_at"):
        assert a.column(column).equals(b.column(column)), column
    both = [(x, y) for x, y in zip(a.column("read_minutes").to_pylist(), b.column("read_minutes").to_pylist())
            if x is not None and y is not None]
    assert all(x == y for x, y in both)


def one_desk(shift: dict, read: dict, rate: float = 2.0, **extra: Any) -> dict:
    data = base_dict()
    data["study_types"]["chest_ct"].update(read_minutes=read, arrivals={"rate_per_hour": rate})
    data["pools"]["readers"]["shifts"] = [shift]
    data.update(extra)
    return data


def test_handover_the_reader_finishes_the_study_in_hand_then_leaves() -> None:
    data = one_desk({"start": "08:00", "end": "16:00", "staff": 1}, {"dist": "fixed", "value": 45}, warmup_days=0,
                    horizon_days=3)
    _, _, rows, duties = run_model(data)
    for r in rows:
        if r["read_start"] is not None:
            minute = r["read_start"] % 1440
            assert 480 <= minute < 960  # reads start only 08:00-16:00
    ends = [d for d in duties if d["overtime_minutes"] > 0]
    assert ends, "a 45-minute read started before 16:00 must run over"
    assert all(d["overtime_minutes"] < 45 for d in ends)
    late = [r for r in rows if r["reported_at"] is not None and r["reported_at"] % 1440 > 960]
    assert late and all(r["read_start"] % 1440 < 960 for r in late)


def test_shift_crossing_midnight_covers_the_night() -> None:
    data = one_desk({"start": "20:00", "end": "08:00+1", "staff": 1}, {"dist": "fixed", "value": 5}, warmup_days=0,
                    horizon_days=3)
    _, _, rows, _ = run_model(data)
    minutes = [r["read_start"] % 1440 for r in rows if r["read_start"] is not None]
    assert any(m < 480 for m in minutes) and any(m >= 1200 for m in minutes)
    assert all(m < 480 or m >= 1200 for m in minutes)


def test_absent_readers_read_nothing() -> None:
    data = one_desk({"start": "00:00", "hours": 12, "staff": 4}, {"dist": "fixed", "value": 5}, horizon_days=20)
    data["pools"]["readers"]["absence_rate"] = 0.5
    _, _, rows, duties = run_model(data)
    present = [d["present"] for d in duties]
    assert 0.35 < np.mean(present) < 0.65  # 80 draws of p = 0.5
    absent = {(d["reader"], d["start"]) for d in duties if not d["present"]}
    assert all(d["busy_minutes"] == 0 and d["reads"] == 0 for d in duties if not d["present"])
    assert absent


def test_preemption_resumes_with_the_remaining_time() -> None:
    data = one_desk({"start": "00:00", "end": "24:00", "staff": 1}, {"dist": "exponential", "mean": 20}, rate=2.0,
                    horizon_days=5, warmup_days=0, policy={"triage": "fifo", "preemptive": True})
    data["study_types"]["chest_ct"]["referral"] = {"stat": 0.2}
    _, _, rows, _ = run_model(data)
    interrupted = [r for r in rows if r["reported_at"] is not None
                   and r["reported_at"] - r["read_start"] > r["read_minutes"] + 1e-9]
    assert interrupted, "with 20% STAT on a busy desk some routine reads must be interrupted"
    assert all(r["priority"] != "stat" for r in interrupted)
    # A STAT study is never interrupted and never waits for a routine read to finish.
    for r in rows:
        if r["priority"] == "stat" and r["reported_at"] is not None:
            assert r["reported_at"] - r["read_start"] == pytest.approx(r["read_minutes"])


def test_no_preemption_unless_asked() -> None:
    data = one_desk({"start": "00:00", "end": "24:00", "staff": 1}, {"dist": "exponential", "mean": 20}, rate=2.0,
                    horizon_days=5, warmup_days=0, policy={"triage": "fifo", "preemptive": False})
    data["study_types"]["chest_ct"]["referral"] = {"stat": 0.2}
    _, _, rows, _ = run_model(data)
    for r in rows:
        if r["reported_at"] is not None:
            assert r["reported_at"] - r["read_start"] == pytest.approx(r["read_minutes"])


def test_second_opinion_never_goes_to_the_primary_reader() -> None:
    data = base_dict()
    data["pools"]["readers"].update(reads=["chest_ct", "second_opinion"])
    data["pools"]["readers"]["shifts"][0]["staff"] = 3
    data["second_opinions"] = {"fraction": 0.4, "read_minutes": {"dist": "exponential", "mean": 5}}
    data["study_types"]["chest_ct"]["arrivals"] = {"rate_per_hour": 6}
    _, _, rows, _ = run_model(data)
    by_id = {r["study_id"]: r for r in rows}
    second = [r for r in rows if r["kind"] == "second_opinion"]
    assert len(second) > 100
    for r in second:
        primary = by_id[r["of_study"]]
        assert r["arrived_at"] == primary["reported_at"]
        if r["reader"] is not None:
            assert r["reader"] != primary["reader"]
    primaries = sum(1 for r in rows if r["kind"] == "primary" and r["reported_at"] is not None)
    assert 0.33 < len(second) / primaries < 0.47


def test_warmup_flag_marks_early_arrivals() -> None:
    scenario = make(warmup_days=2)
    table = run_replication(scenario, 0).studies
    arrived = table.column("arrived_at").to_numpy()
    assert (table.column("in_warmup").to_numpy() == (arrived < 2 * 1440)).all()


def test_continuous_shift_means_no_handover_at_midnight() -> None:
    _, _, _, duties = run_model(base_dict())
    assert len(duties) == 2  # two readers, one duty each over the whole horizon


def test_a_reader_whose_shift_ends_this_minute_starts_nothing() -> None:
    """Found by the shift property (this is its example, kept as a regression lock): a second opinion
    requested at the very minute another pool's shift ends (the release comes first) must not go to that
    pool's still-idle reader."""
    data = {
        "name": "prop", "start": "2026-02-04T06:30", "horizon_days": 1.5, "warmup_days": 0.25, "seed": 2,
        "study_types": {"type0": {"modality": "CT", "arrivals": {"rate_per_hour": 5.0},
                                  "read_minutes": {"dist": "fixed", "value": 6}}},
        "pools": {
            "pool0": {"reads": ["second_opinion"], "shifts": [{"start": "02:00", "hours": 8, "staff": 1,
                                                              "days": ["mon", "tue", "wed", "thu"]}]},
            "catch_all": {"reads": ["*"], "shifts": [{"start": "08:00", "end": "18:00", "staff": 1}]},
        },
        "policy": {"triage": "fifo"},
        "second_opinions": {"fraction": 0.3, "read_minutes": {"dist": "exponential", "mean": 10}},
    }
    _, _, rows, duties = run_model(data)
    ends = {d["end"] for d in duties if d["pool"] == "pool0"}
    assert any(r["kind"] == "second_opinion" and r["ready_at"] in ends for r in rows), "the edge must occur"
    on_duty: dict[str, list[tuple[float, float]]] = {}
    for d in duties:
        on_duty.setdefault(d["reader"], []).append((d["start"], d["end"]))
    for r in rows:
        if r["reader"] is not None and r["read_start"] == r["reported_at"] - r["read_minutes"]:
            assert any(a <= r["read_start"] < b for a, b in on_duty[r["reader"]]), r


def test_reader_names_are_unique_when_shift_entries_share_their_times() -> None:
    """Two entries with the same times (e.g. written twice for different days) must not give two readers
    one name: the output could not tell them apart, and Parquet writes repeated dictionary values
    differently from run to run (found by the same-bytes property)."""
    data = base_dict()
    data["pools"]["readers"]["shifts"] = [{"start": "13:00", "hours": 6, "staff": 1, "days": ["mon", "tue"]},
                                          {"start": "13:00", "hours": 6, "staff": 1, "days": ["mon", "wed"]}]
    data["pools"]["helpers"] = {"reads": ["*"], "shifts": [{"start": "00:00", "end": "24:00", "staff": 1}]}
    scenario = make(data, horizon_days=3, warmup_days=0)
    result = run_replication(scenario, 0)
    names = result.studies.column("reader").chunk(0).dictionary.to_pylist()
    assert len(names) == len(set(names)) and any(name.endswith("#2/1") for name in names)
    assert parquet_bytes(result.studies) == parquet_bytes(run_replication(scenario, 0).studies)
