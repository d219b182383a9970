"""Routing: local readers first, overflow and night to the centre, push assignment, double reading, and the
autonomous-normal lane. The rules on hand-built items; the model's behaviour on small scenarios."""
from __future__ import annotations

import math
from typing import Any

import pytest

from simulator import ScenarioError, run_replication, run_scenario
from simulator.network import draw_cohort
from simulator.network import ReadingStation
from simulator.records import studies_table
from simulator.triage import WorkItem
from simulator.triage.routing import BOTH, CENTRAL, LOCAL, AutonomousNormal, LocalFirst, least_loaded
from simulator.triage_config import policy_of, targets_of

from .conftest import assert_refused, base_dict, make


def item(ready: float = 0.0, referral: str = "routine", score: float | None = 0.01, kind: str = "primary",
         study_type: str = "chest_xr") -> WorkItem:
    return WorkItem(index=0, study_type=study_type, kind=kind, referral=referral, ai_score=score,
                    ai_positive=None if score is None else score > 0.5, ready_at=ready)


# The rules ---------------------------------------------------------------------------------------------------
def test_local_first_overflows_after_the_wait_and_sends_nights_to_the_centre() -> None:
    router = LocalFirst(overflow_after=30.0, night=(20 * 60.0, 8 * 60.0), day_offset=0.0)
    assert router.route(item(600.0), 600.0) == (LOCAL, 630.0)
    assert router.route(item(600.0), 630.0).where == BOTH
    assert router.route(item(1190.0), 1190.0) == (LOCAL, 1200.0)  # night begins before the overflow
    assert router.route(item(1300.0), 1300.0).where == CENTRAL  # 21:40
    assert router.route(item(1440.0 + 300.0), 1440.0 + 300.0).where == CENTRAL  # 05:00 next day
    assert router.route(item(1440.0 + 480.0), 1440.0 + 480.0).where == LOCAL  # 08:00: day again
    late_start = LocalFirst(night=(20 * 60.0, 8 * 60.0), day_offset=19 * 60.0)  # the clock's 0 is 19:00
    assert late_start.route(item(0.0), 0.0) == (LOCAL, 60.0)
    assert late_start.is_night(61.0) and not late_start.is_night(13 * 60.0 + 1)
    assert LocalFirst().route(item(0.0), 1e9) == (LOCAL, math.inf)


def test_autonomous_normal_skips_only_scored_low_non_stat_primaries_of_chosen_types() -> None:
    lane = AutonomousNormal({"chest_xr"}, below=0.05)
    assert lane.applies(item(score=0.01))
    assert not lane.applies(item(score=0.06))
    assert not lane.applies(item(score=None))  # unscored: a human reads it
    assert not lane.applies(item(score=0.01, referral="stat"))
    assert not lane.applies(item(score=0.01, study_type="chest_ct"))
    assert not lane.applies(item(score=0.01, kind="second_opinion"))


def test_least_loaded_takes_the_first_of_the_least_busy() -> None:
    assert least_loaded([3.0, 1.0, 1.0, 2.0]) == 1
    assert least_loaded([]) is None


# The model ---------------------------------------------------------------------------------------------------
def network(**routing: Any) -> dict:
    """Chest X-rays from two sites; north has its own reader 24/7, the centre two readers."""
    data = base_dict()
    data.update(horizon_days=6, warmup_days=0.5)
    data["sites"] = {"north": {"weight": 1.0}, "south": {"weight": 1.0}}
    data["study_types"]["chest_ct"].update(arrivals={"rate_per_hour": 12.0})
    data["pools"] = {
        "north_local": {"site": "north", "reads": ["chest_ct"], "shifts": [{"start": "00:00", "end": "24:00", "staff": 1}]},
        "centre": {"reads": ["*"], "shifts": [{"start": "00:00", "end": "24:00", "staff": 2}]},
    }
    data["routing"] = routing
    return data


def rows_of(data: dict) -> list[dict]:
    return run_replication(make(data), 0).studies.to_pylist()


def test_a_sites_studies_stay_local_until_they_have_waited_the_overflow_time() -> None:
    rows = rows_of(network(overflow_after={"minutes": 30}))
    north_central = [r for r in rows if r["site"] == "north" and r["reader"] and r["reader"].startswith("centre")]
    assert north_central, "a busy local reader must overflow some studies"
    assert all(r["read_start"] - r["ready_at"] >= 30 - 1e-9 for r in north_central)
    assert not any(r["site"] == "south" and r["reader"] and r["reader"].startswith("north") for r in rows)
    never = rows_of(network())
    assert not any(r["site"] == "north" and r["reader"] and r["reader"].startswith("centre") for r in never)


def test_at_night_new_studies_go_to_the_centre() -> None:
    rows = rows_of(network(night_to_centre={"start": "20:00", "end": "08:00"}))
    def night(t: float) -> bool:
        return not 480 <= t % 1440 < 1200
    local = [r for r in rows if r["reader"] and r["reader"].startswith("north")]
    assert local and not any(night(r["ready_at"]) for r in local)
    assert any(night(r["ready_at"]) and r["site"] == "north" and r["reader"] for r in rows)


def test_a_router_of_ones_own_decides_where_site_studies_are_read() -> None:
    rows = rows_of(network(router="tests.policies_for_tests:AlwaysCentral", router_options={"note": "x"}))
    read = [r for r in rows if r["reader"]]
    assert read and all(r["reader"].startswith("centre") for r in read)
    assert any(r["site"] == "north" for r in read)


def test_double_reading_two_different_readers_and_the_report_waits_for_both() -> None:
    data = base_dict()
    data["study_types"]["chest_ct"]["double_reading"] = {"second_reader": "human"}
    data["pools"]["readers"]["shifts"][0]["staff"] = 4
    rows = rows_of(data)
    by_id = {r["study_id"]: r for r in rows}
    seconds = [r for r in rows if r["kind"] == "double_read"]
    assert len(seconds) == sum(r["kind"] == "primary" for r in rows)
    for r in seconds:
        first = by_id[r["of_study"]]
        assert r["arrived_at"] == first["arrived_at"] and r["ready_at"] == first["ready_at"]
        if r["reader"] and first["reader"]:
            assert r["reader"] != first["reader"]
        if first["reported_at"] is not None:
            own_end = first["read_start"] + first["read_minutes"]
            assert first["reported_at"] == pytest.approx(max(own_end, r["reported_at"]))


def test_ai_as_second_reader_leaves_a_human_second_read_only_where_it_did_not_score() -> None:
    data = base_dict()
    data["study_types"]["chest_ct"]["double_reading"] = {"second_reader": "ai"}
    data["ai_services"]["ct_ai"]["failure_rate"] = 0.2
    data["pools"]["readers"]["shifts"][0]["staff"] = 3
    rows = rows_of(data)
    by_id = {r["study_id"]: r for r in rows}
    seconds = [r for r in rows if r["kind"] == "double_read"]
    unscored = [r for r in rows if r["kind"] == "primary" and r["ai_score"] is None]
    assert seconds and len(seconds) == len(unscored)
    assert all(by_id[r["of_study"]]["ai_score"] is None for r in seconds)


def test_autonomous_normal_studies_go_to_the_audit_lane_with_its_target() -> None:
    data = base_dict()
    data["study_types"]["chest_ct"]["referral"] = {"stat": 0.05}
    data["pools"]["readers"]["reads"] = ["chest_ct", "audit"]
    data["routing"] = {"autonomous_normal": {"study_types": ["chest_ct"], "below": 0.02, "target": {"hours": 48}}}
    scenario = make(data)
    assert targets_of(scenario).minutes["audit"] == 48 * 60.0
    run = run_scenario(scenario, 1, workers=1)
    rows = run.studies.to_pylist()
    audits = [r for r in rows if r["kind"] == "audit"]
    assert audits and all(r["ai_score"] < 0.02 and r["referral"] != "stat" and r["priority"] == "audit" for r in audits)
    primaries = [r for r in rows if r["kind"] == "primary"]
    assert not any(r["ai_score"] is not None and r["ai_score"] < 0.02 and r["referral"] != "stat" for r in primaries)
    sla = [r for r in run.summary if r["metric"] == "sla_met_fraction" and r["where"] == {"kind": "audit"}]
    assert sla and sla[0]["mean"] == pytest.approx(1.0)  # light load: every audit within 48 h


def test_push_keeps_no_work_waiting_for_an_idle_reader_and_hands_it_on_at_shift_end() -> None:
    data = base_dict()
    data.update(horizon_days=4)
    data["routing"] = {"mode": "push"}
    data["pools"]["readers"]["shifts"] = [{"start": "08:00", "end": "20:00", "staff": 3},
                                          {"start": "20:00", "end": "08:00+1", "staff": 2}]
    scenario = make(data)
    cohort = draw_cohort(scenario, scenario.seed, 0)
    model = ReadingStation(scenario, cohort, policy_of(scenario), scenario.seed, 0)
    outcome = model.run()
    assert model.dispatch.home or any(r.load for d in model.duty_readers.values() for r in d)
    for readers in model.duty_readers.values():
        for reader in readers:
            own = model.worklist.waiting_in(reader.own)
            if reader.off_at < scenario.horizon_minutes:
                assert not own, "a leaving reader's queue is handed on"
            elif own:
                assert reader.item is not None, "pushed work never waits for an idle reader"
    rows = studies_table(scenario, cohort, outcome, scenario.seed, 0).to_pylist()
    assert sum(r["reported_at"] is not None for r in rows) > 0.95 * len(rows)


def test_a_shared_worklist_beats_pushing_to_readers_on_mean_wait() -> None:
    """Pooling: with the same studies, pull (one shared queue) waits less than push (queue per reader)."""
    data = base_dict()
    data.update(horizon_days=20, warmup_days=1)
    data["pools"]["readers"]["shifts"][0]["staff"] = 3
    data["study_types"]["chest_ct"]["arrivals"] = {"rate_per_hour": 15.0}  # rho 0.83
    pull = run_scenario(make(data), 4, workers=2, summarise=True)
    push = run_scenario(make({**data, "routing": {"mode": "push"}}), 4, workers=2, summarise=True)
    def mean_wait(run) -> float:
        return next(r["mean"] for r in run.summary if r["metric"] == "mean_wait_minutes" and not r["where"])
    assert mean_wait(push) > 1.1 * mean_wait(pull)


@pytest.mark.parametrize("change, path, message", [
    (lambda d: d["pools"]["north_local"].update(site="east"), "pools.north_local.site", "no site 'east'"),
    (lambda d: (d["pools"]["centre"].update(reads=["chest_ct"]),
                d["routing"].update(autonomous_normal={"study_types": ["chest_ct"], "below": 0.1})),
     "routing.autonomous_normal", "no pool reads audit"),
    (lambda d: d["routing"].update(workload={"mr": 2}), "routing.workload.mr", "no study type 'mr'"),
    (lambda d: d["routing"].update(router="nearest"), "routing.router", "unknown router 'nearest'"),
    (lambda d: d["routing"].update(router="builtins:exit"), "routing.router", "is not a router class"),
    (lambda d: d["routing"].update(router="collections:OrderedDict"), "routing.router", "has no route()"),
    (lambda d: d["routing"].update(router="tests.policies_for_tests:AlwaysCentral", router_options={"colour": 1}),
     "routing.router", "does not take these options ['colour']"),
    (lambda d: d["routing"].update(router_options={"colour": 1}), "routing", "router_options are for a router"),
    (lambda d: d["routing"].update(night_to_centre={"start": "25:00", "end": "08:00"}), "routing.night_to_centre.start",
     "not a time of day"),
    (lambda d: (d["pools"].pop("centre"), d["pools"]["north_local"].update(reads=["chest_ct"])), "study_types.chest_ct",
     "from site 'south'"),
    (lambda d: (d["pools"].pop("north_local"), d["pools"]["centre"]["shifts"][0].update(staff=1),
                d["study_types"]["chest_ct"].update(double_reading={})), "study_types.chest_ct.double_reading",
     "never have two"),
])
def test_bad_routing_is_named(change, path: str, message: str, monkeypatch) -> None:
    from simulator.triage.resolver import ALLOW_ENV

    monkeypatch.setenv(ALLOW_ENV, "tests,builtins,collections")  # past the allow-list, to the class checks
    data = network()
    change(data)
    assert_refused(data, path, message)




def test_the_edges_of_the_night_and_of_the_autonomous_lane() -> None:
    router = LocalFirst(night=(20 * 60.0, 8 * 60.0))
    assert router.is_night(1200.0) and not router.is_night(480.0) and router.is_night(479.9)  # [20:00, 08:00)
    assert router.next_night(1200.0) == 1200.0 + 1440.0  # strictly after: at 20:00 the next night is tomorrow's
    assert router.next_night(0.0) == 1200.0
    day = LocalFirst(night=(8 * 60.0, 20 * 60.0))  # a window that does not cross midnight
    assert day.is_night(480.0) and not day.is_night(1200.0) and not day.is_night(479.0)
    assert AutonomousNormal({"chest_xr"}, below=0.05).applies(item(score=0.0499))
    assert not AutonomousNormal({"chest_xr"}, below=0.05).applies(item(score=0.05))  # below, not at
