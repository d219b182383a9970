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
from simulator.network import draw_cohort
from simulator.experiment import policy_of
from simulator.network import ReadingStation

from .conftest import base_dict, make
from .strategies import POLICIES, scenarios

def simple_routing(scenario) -> bool:
    """Pull, every pool central, no double reading: where the STAT rule holds reader by reader."""
    return (scenario.routing.mode == "pull" and all(p.site is None for p in scenario.pools.values())
            and all(t.double_reading is None for t in scenario.study_types.values()))


def run_model(data: dict[str, Any]):
    scenario = make(data)
    cohort = draw_cohort(scenario, scenario.seed, 0, detail=True)
    model = ReadingStation(scenario, cohort, policy_of(scenario), scenario.seed, 0)
    outcome = model.run()
    from simulator.network.delivery import record_times
    from simulator.records import duties_table, studies_table
    from simulator.streams import years_of

    outcome.recorded_at = record_times(scenario, outcome.reported_at[:len(cohort)], scenario.seed, 0,
                                       years_of(cohort.draws.arrivals.arrived_at))  # as simulate_cohort does

    return scenario, model, studies_table(scenario, cohort, outcome, scenario.seed, 0).to_pylist(), \
        duties_table(outcome, 0).to_pylist()


PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@PROPERTY
@given(scenarios())
def test_the_model_keeps_its_rules_on_random_scenarios(data: dict[str, Any]) -> None:
    """One simulation per example, every rule checked on it (each would fail if its rule broke)."""
    scenario, model, rows, duties = run_model(data)
    conservation_through_the_chain(scenario, model, rows)
    nobody_starts_a_read_outside_their_shift(rows, duties)
    if simple_routing(scenario):
        stat_never_waits_while_an_eligible_reader_starts_a_lower_class(scenario, rows, duties)
    utilisation_lies_in_zero_one(scenario, duties)
    if not scenario.policy.preemptive:
        no_reader_reads_two_studies_at_once(scenario, rows)
    stations_never_serve_beyond_capacity(model.cohort)


def conservation_through_the_chain(scenario, model, rows) -> None:
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
        # The way to the worklist, in order: exam, archive, worklist (a second opinion has none of it).
        stages = [r[c] for c in ("arrived_at", "acquired_at", "at_archive", "ready_at")]
        known = [t for t in stages if t is not None]
        assert known == sorted(known) and all(t <= horizon for t in known[1:]), r
        if r["recorded_at"] is not None:
            assert r["recorded_at"] >= r["reported_at"]
        if r["kind"] == "primary" and r["reported_at"] is not None:
            assert r["recorded_at"] is not None
    # Every study the cohort drew is a row, once.
    assert sum(1 for r in rows if r["kind"] not in ("second_opinion", "double_read")) == len(model.cohort)
    assert len({r["study_id"] for r in rows}) == len(rows)


def nobody_starts_a_read_outside_their_shift(rows, duties) -> None:
    on_duty: dict[str, list[tuple[float, float]]] = {}
    for d in duties:
        if d["present"]:
            on_duty.setdefault(d["reader"], []).append((d["start"], d["end"]))
    for r in rows:
        if r["reported_at"] is not None and r["read_start"] == r["reported_at"] - r["read_minutes"]:
            # An uninterrupted read: its start is the reader's start.
            assert any(a <= r["read_start"] < b for a, b in on_duty[r["reader"]]), r


def stat_never_waits_while_an_eligible_reader_starts_a_lower_class(scenario, rows, duties) -> None:
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


def utilisation_lies_in_zero_one(scenario, duties) -> None:
    from simulator.metrics import pool_metrics

    table = pa.Table.from_pylist(duties) if duties else None
    if table is None:
        return
    pools = np.asarray(table.column("pool").to_pylist(), dtype=object)
    for pool in scenario.pools:
        value = pool_metrics(table, scenario, pools == pool)["utilization"]
        assert np.isnan(value) or 0.0 <= value <= 1.0 + 1e-12


def no_reader_reads_two_studies_at_once(scenario, rows) -> None:
    """Without pre-emption a reader's reads never overlap (a double-read study's row is signed when both
    reads are done, so only reads whose span is their reading time are compared)."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        if r["reported_at"] is not None and r["reported_at"] - r["read_start"] == pytest.approx(r["read_minutes"]):
            spans.setdefault(r["reader"], []).append((r["read_start"], r["reported_at"]))
    for reads in spans.values():
        reads.sort()
        for (_, end), (begin, _) in zip(reads, reads[1:]):
            assert begin >= end - 1e-9, reads


def stations_never_serve_beyond_capacity(cohort) -> None:
    """At every start of an exam or an inference, the jobs under way fit the servers there are then."""
    for name, station in (cohort.upstream.station_detail or {}).items():
        if "start" not in station:
            continue
        start, finish = station["start"], station["finish"]
        ok = np.isfinite(start)
        s, f = np.sort(start[ok]), np.sort(finish[ok])
        under_way = np.searchsorted(s, start[ok], side="right") - np.searchsorted(f, start[ok], side="right")
        levels = np.array([station["capacity"].at(t) for t in start[ok]])
        assert (under_way <= levels).all(), name


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


def test_a_preempted_read_resumes_with_what_is_left_not_from_the_start() -> None:
    """By hand: one reader; a routine study (60 min) ready at 0, a STAT one (5 min) ready at 10. The STAT read
    interrupts at 10 and ends at 15; the routine read resumes with 50 min left and ends at 65 (a restart
    would end at 75, and count 70 minutes of reading)."""
    from simulator.draws import AiDraws, Arrivals, Draws, Reading, Truth
    from simulator.network import Cohort
    from simulator.network.upstream import Upstream
    from simulator.records import studies_table

    data = one_desk({"start": "00:00", "end": "24:00", "staff": 1}, {"dist": "fixed", "value": 1},
                    horizon_days=1, warmup_days=0, policy={"triage": "fifo", "preemptive": True})
    scenario = make(data)

    def column(*values, dtype=float):
        return np.array(values, dtype=dtype)

    no, times, nan = column(False, False, dtype=bool), column(0.0, 10.0), column(np.nan, np.nan)
    site = column(0, 0, dtype=np.int32)
    draws = Draws(type_names=("chest_ct",), site_names=("main",), condition_names=(),
                  study_type=column(0, 0, dtype=np.int32),
                  arrivals=Arrivals(times, site, column(2, 0, dtype=np.int8), nan),
                  truth=Truth(no, column(-1, -1, dtype=np.int16)),
                  ai=AiDraws(column(-1, -1, dtype=np.int32), no, nan, no, column(0.0, 0.0), no, no), more_ais=(),
                  reading=Reading(column(60.0, 5.0), no, column(), None, None), ingest_delay=column(0.0, 0.0))
    cohort = Cohort(draws, Upstream(site, times, times, times, no, nan, no, scored_at=nan))
    outcome = ReadingStation(scenario, cohort, policy_of(scenario), 0, 0).run()
    routine, stat = studies_table(scenario, cohort, outcome, 0, 0).to_pylist()
    assert (stat["read_start"], stat["reported_at"]) == (10.0, 15.0)
    assert (routine["read_start"], routine["reported_at"], routine["read_minutes"]) == (0.0, 65.0, 60.0)
    assert outcome.duties[0]["busy_minutes"] == pytest.approx(65.0)


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


def test_a_policy_is_handed_each_studys_exact_ready_time_when_it_enters() -> None:
    """A study enters the worklist when it becomes ready, and the policy ranking it is handed that time to
    the bit (the ready chain is scheduled at each ready time, not at `now + delay`, which may round: these
    two seeds each met one such study when it was)."""
    from simulator import load_scenario
    from simulator.network import simulate_cohort
    from simulator.triage.policies import Fifo

    class Recording(Fifo):
        def __init__(self) -> None:
            self.entries: list[tuple[float, float]] = []

        def rank(self, item, now):
            if item.kind == "primary" and not item.label:  # its first rank: when it enters
                self.entries.append((now, item.ready_at))
            return super().rank(item, now)

    scenario = load_scenario("examples/mmc_ai_triage", ["horizon_days=3", "warmup_days=0"])
    for seed in (10, 18):
        policy = Recording()
        simulate_cohort(scenario, draw_cohort(scenario, seed, 0), policy, seed, 0)
        assert len(policy.entries) > 100
        assert [(now, ready) for now, ready in policy.entries if now != ready] == []


def test_a_study_types_own_ingest_delay_stands_for_its_studies_and_the_scenarios_for_the_rest() -> None:
    """`study_types.X.ingest_minutes`: X's studies reach the archive after X's delay; a type without one
    after `ingest.delay_minutes`. Without the key, a scenario's draws are the same bits as before (the same
    stream)."""
    data = base_dict()
    data["study_types"]["head_mr"] = {**data["study_types"]["chest_ct"], "modality": "MR",
                                      "ingest_minutes": {"dist": "fixed", "value": 7.0}}
    data["pools"]["readers"]["reads"] = ["chest_ct", "head_mr"]
    data["ingest"] = {"delay_minutes": {"dist": "fixed", "value": 2.0}}
    import pyarrow.compute as pc

    from simulator import run_scenario

    run = run_scenario(make(data, horizon_days=3), 1, workers=1, summarise=False)
    primary = run.studies.filter(pc.equal(run.studies.column("kind"), "primary"))
    delay = {t: (pc.subtract(s.column("at_archive"), s.column("arrived_at")).to_numpy(zero_copy_only=False))
             for t in ("chest_ct", "head_mr")
             for s in [primary.filter(pc.equal(primary.column("study_type"), t))]}
    delay = {t: d[~np.isnan(d)] for t, d in delay.items()}  # the last few are not at the archive by the horizon
    assert delay["head_mr"].size > 100 and np.allclose(delay["head_mr"], 7.0)
    assert delay["chest_ct"].size > 100 and np.allclose(delay["chest_ct"], 2.0)


def test_a_run_freezes_again_what_the_process_imported_since_its_last_freeze() -> None:
    """What a process holds for good is out of the collector's sight, modules imported after the first run
    too (pyarrow, scipy, numba): else each replication's collection walks them all again."""
    import gc
    import sys
    import types

    from simulator.network import simulate_cohort

    scenario = make(base_dict())
    cohort = draw_cohort(scenario, scenario.seed, 0)
    simulate_cohort(scenario, cohort, policy_of(scenario), scenario.seed, 0)
    frozen = gc.get_freeze_count()
    simulate_cohort(scenario, cohort, policy_of(scenario), scenario.seed, 0)
    assert gc.get_freeze_count() == frozen  # nothing imported since: nothing more to freeze
    module = types.ModuleType("radsim_test_imported_later")
    module.held = [{"a": 1} for _ in range(100)]
    sys.modules[module.__name__] = module
    try:
        simulate_cohort(scenario, cohort, policy_of(scenario), scenario.seed, 0)
        assert gc.get_freeze_count() > frozen
    finally:
        del sys.modules[module.__name__]
