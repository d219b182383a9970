"""The upstream stations and delivery: hand-worked queues, capacity never exceeded, outages and opening
hours obeyed, common random numbers across capacities, late AI results re-ranking waiting studies."""
from __future__ import annotations

import numpy as np
import pytest

from simulator import ScenarioError, load_scenario, run_replication
from simulator.network import draw_cohort
from simulator.network.queues import Capacity, available, serve, share

from .conftest import assert_refused, base_dict, make
from .conftest import column as of

DAY = 1440.0


# The queue engines, by hand ----------------------------------------------------------------------------
def test_serve_by_hand_priority_then_arrival_and_a_server_that_goes_away_after_its_job() -> None:
    # One server, out in [2, 3): the job under way is finished, the waiting one starts at 5.
    start, finish = serve(np.array([0.0, 1.0]), np.array([1, 0]), np.array([5.0, 5.0]), Capacity.of(1, [(2, 3, 1)]))
    assert start.tolist() == [0.0, 5.0] and finish.tolist() == [5.0, 10.0]
    # Three waiting when the server frees: STAT (0) first, then by arrival.
    start, _ = serve(np.array([0.0, 1.0, 2.0, 3.0]), np.array([2, 2, 2, 0]), np.full(4, 10.0), Capacity.constant(1))
    assert start.tolist() == [0.0, 20.0, 30.0, 10.0]
    # No server ever again: never started.
    start, finish = serve(np.array([0.0]), np.array([0]), np.array([1.0]), Capacity.of(1, [(-1.0, np.inf, 1)]))
    assert np.isinf(start[0]) and np.isinf(finish[0])


def test_share_by_hand_equal_shares_and_a_pause() -> None:
    # Two 1-MB jobs at once on 1 MB/min: each at half speed; down in [0.5, 10.5): 0.75 left each, 1.5 min more.
    assert share(np.array([0.0, 0.0]), np.array([1.0, 1.0]), Capacity.of(1.0, [(0.5, 10.5, 1.0)])).tolist() == [12.0, 12.0]
    # A short job overtakes a long one: 3 MB at 0, 1 MB at 1 -> the small one leaves at 3, the big one at 4.
    assert share(np.array([0.0, 1.0]), np.array([3.0, 1.0]), Capacity.constant(1.0)).tolist() == [4.0, 3.0]
    assert available(Capacity.of(2.0, [(10.0, 20.0, 2.0)]), 0.0, 30.0) == 40.0


# Devices -----------------------------------------------------------------------------------------------
def devices_scenario(**group) -> dict:
    data = base_dict()
    data["sites"] = {"main": {"devices": {"CT": {"count": 2, "exam_minutes": {"dist": "exponential", "mean": 10},
                                                  **group}}}}
    data["study_types"]["chest_ct"]["referral"] = {"stat": 0.1}
    return data


def in_progress_at(start: np.ndarray, finish: np.ndarray, t: np.ndarray) -> np.ndarray:
    """For each moment of `t`, the exams under way (started at or before, not yet finished)."""
    s, f = np.sort(start), np.sort(finish)
    return np.searchsorted(s, t, side="right") - np.searchsorted(f, t, side="right")


def test_devices_never_examine_beyond_their_count_and_start_only_while_open() -> None:
    scenario = make(devices_scenario(open=[{"start": "08:00", "end": "18:00", "days": ["mon", "tue", "wed", "thu", "fri"]}],
                                     outages=[{"start": "2026-02-04T08:00", "hours": 24, "devices": 1}]))
    c = draw_cohort(scenario, 7, 0, detail=True)
    exams = c.upstream.station_detail["devices:main/CT"]
    start, finish = exams["start"], exams["finish"]
    ok = np.isfinite(start)
    assert ok.sum() > 100
    assert (in_progress_at(start[ok], finish[ok], start[ok]) <= 2).all()
    minute_of_week = (start[ok] % (7 * DAY))  # the scenario starts on a Monday at 00:00
    assert ((minute_of_week % DAY >= 480) & (minute_of_week % DAY < 1080) & (minute_of_week < 5 * DAY)).all()
    outage = (start[ok] >= 2 * DAY + 480) & (start[ok] < 3 * DAY + 480)
    assert (in_progress_at(start[ok], finish[ok], start[ok][outage]) <= 1).all()  # one of two is out
    assert (c.upstream.acquired_at >= c.draws.arrivals.arrived_at).all() and (c.upstream.at_archive >= c.upstream.acquired_at).all()


def test_stat_patients_wait_less_for_the_scanner() -> None:
    scenario = make(devices_scenario(), horizon_days=30)
    scenario_data = devices_scenario()
    scenario_data["study_types"]["chest_ct"]["arrivals"] = {"rate_per_hour": 10.8}  # rho 0.9 on two scanners
    c = draw_cohort(make(scenario_data, horizon_days=30), 7, 0)
    wait = c.upstream.acquired_at - c.draws.arrivals.arrived_at
    assert wait[c.draws.arrivals.referral == 0].mean() < 0.5 * wait[c.draws.arrivals.referral == 2].mean()
    assert scenario is not None


def test_breakdowns_lengthen_exams_by_the_repairs_that_fall_in_them() -> None:
    plain = draw_cohort(make(devices_scenario()), 7, 0, detail=True).upstream.station_detail["devices:main/CT"]["busy"]
    broken = draw_cohort(make(devices_scenario(failures={"busy_hours_between": 2, "repair_minutes": {
        "dist": "fixed", "value": 30}})), 7, 0, detail=True).upstream.station_detail["devices:main/CT"]["busy"]
    added = broken - plain  # the same exams (own streams), plus whole repairs of 30 minutes
    assert (added >= -1e-6).all() and np.allclose(added, np.round(added / 30.0) * 30.0, atol=1e-6)
    assert added.max() >= 30.0
    assert added.mean() == pytest.approx(plain.mean() * 30.0 / 120.0, rel=0.2)


# Links and ingest ----------------------------------------------------------------------------------------
def test_an_uplink_outage_holds_transfers_until_it_ends() -> None:
    data = base_dict()
    data["sites"] = {"main": {"uplink": {"mbit_per_s": 100, "outages": [{"start": "2026-02-03T10:00", "hours": 2}]}}}
    data["network"] = {"sizes_mb": {"CT": {"dist": "fixed", "value": 75}}}  # 6 s alone on the link
    c = draw_cohort(make(data), 7, 0)
    a, b = DAY + 600.0, DAY + 720.0
    inside = (c.upstream.acquired_at >= a) & (c.upstream.acquired_at < b)
    assert inside.any() and (c.upstream.at_archive[inside] >= b).all()
    assert not ((c.upstream.at_archive > a) & (c.upstream.at_archive < b)).any()


def test_an_ingest_slowdown_slows_transfers_in_its_window() -> None:
    data = base_dict()
    data["ingest"] = {"mbyte_per_s": 1.0, "slowdowns": [{"start": "2026-02-03T00:00", "hours": 24, "factor": 0.25}]}
    data["network"] = {"sizes_mb": {"CT": {"dist": "fixed", "value": 6}}}  # 0.1 min alone at full speed
    c = draw_cohort(make(data), 7, 0)
    took = c.upstream.at_archive - c.upstream.acquired_at
    slow = (c.upstream.acquired_at >= DAY) & (c.upstream.acquired_at < 2 * DAY - 10)
    assert took[slow].min() >= 0.4 - 1e-9 and took[~slow & (c.upstream.acquired_at < DAY - 10)].min() == pytest.approx(0.1)


# AI compute ------------------------------------------------------------------------------------------------
def ai_scenario(workers: int, mean: float = 8.0) -> dict:
    data = base_dict()
    data["ai_services"]["ct_ai"].update(workers=workers, inference_minutes={"dist": "exponential", "mean": mean})
    return data


def test_capacity_changes_no_arrival_truth_score_or_reading_time() -> None:
    one, four = (draw_cohort(make(ai_scenario(w)), 7, 0) for w in (1, 4))
    for column in ("arrived_at", "diseased", "read_minutes", "ai_scored", "ai_score", "referral", "site"):
        assert np.array_equal(of(one, column), of(four, column), equal_nan=column == "ai_score"), column
    assert np.nanmean(one.upstream.scored_at - one.upstream.at_archive) > 2 * np.nanmean(four.upstream.scored_at - four.upstream.at_archive)


def test_a_late_result_re_ranks_a_waiting_study_and_a_read_before_it_counts_as_unscored() -> None:
    data = ai_scenario(1, mean=5.0)  # 9.6/h x 5 min: rho 0.8 on one GPU slot, results often come late
    rows = run_replication(make(data, horizon_days=6), 0).studies.to_pylist()
    reported = [r for r in rows if r["reported_at"] is not None and r["ai_score"] is not None]
    early = [r for r in reported if r["read_unscored"]]
    late = [r for r in reported if not r["read_unscored"]]
    assert early and late
    assert all(r["scored_at"] is None or r["read_start"] < r["scored_at"] for r in early)
    assert all(r["read_start"] >= r["scored_at"] for r in late)
    # Every study joins the worklist from the archive, not after its result.
    assert all(r["ready_at"] == r["at_archive"] for r in rows if r["ready_at"] is not None)
    # A flagged study re-ranked while waiting carries the AI's label; one read before its result does not.
    assert any(r["priority"] == "ai_positive" and r["ai_positive"] for r in late)
    assert not any(r["priority"] == "ai_positive" for r in early)


# Delivery, and bad input --------------------------------------------------------------------------------------
def test_reports_reach_the_record_after_the_delay_and_wait_out_its_outages() -> None:
    data = base_dict()
    data["network"] = {"delivery": {"delay_minutes": {"dist": "fixed", "value": 5},
                                    "outages": [{"start": "2026-02-04T00:00", "hours": 6}]}}
    rows = [r for r in run_replication(make(data), 0).studies.to_pylist() if r["kind"] == "primary"]
    a, b = 2 * DAY, 2 * DAY + 360.0
    for r in rows:
        if r["reported_at"] is None:
            assert r["recorded_at"] is None
            continue
        due = r["reported_at"] + 5
        assert r["recorded_at"] == pytest.approx(b if a <= due < b else due)


@pytest.mark.parametrize("change, path, message", [
    (lambda d: d.update(sites={"main": {"devices": {"MR": {"count": 1, "exam_minutes": {"dist": "fixed", "value": 1}}}}}),
     "sites.main.devices.MR", "no imaging study type has modality 'MR'"),
    (lambda d: d.update(sites={"main": {"uplink": {"mbit_per_s": 10}}}), "study_types.chest_ct.modality",
     "no study size for 'CT'"),
    (lambda d: d["ai_services"]["ct_ai"].update(workers=2), "ai_services.ct_ai", "workers and inference_minutes"),
    (lambda d: d.update(ingest={"slowdowns": [{"start": "2026-02-03T00:00", "hours": 1, "factor": 0.5}]}), "ingest",
     "slowdowns need mbyte_per_s"),
    (lambda d: d.update(sites={"main": {"devices": {"CT": {"count": 1, "exam_minutes": {"dist": "fixed", "value": 1},
                                                           "open": [{"start": "18:00", "end": "08:00"}]}}}}),
     "sites.main.devices.CT.open.0", "before it starts"),
])
def test_bad_network_input_is_named(change, path: str, message: str) -> None:
    data = base_dict()
    change(data)
    assert_refused(data, path, message)


def test_time_to_record_is_turnaround_plus_publication_and_read_unscored_is_counted() -> None:
    from simulator import run_scenario
    from simulator.metrics import StudyColumns, study_metrics

    data = ai_scenario(1, mean=5.0)
    data["network"] = {"delivery": {"delay_minutes": {"dist": "fixed", "value": 5}}}
    scenario = make(data, horizon_days=6)
    run = run_scenario(scenario, 1, workers=1)
    cols = StudyColumns(run.studies, scenario)
    figures = study_metrics(cols, cols.mask({}))
    rows = [r for r in run.studies.to_pylist() if not r["in_warmup"]]
    tat = [r["tat_minutes"] if r["reported_at"] is not None else scenario.horizon_minutes - r["arrived_at"] for r in rows]
    record = [r["recorded_at"] - r["arrived_at"] if r["recorded_at"] is not None else t for r, t in zip(rows, tat)]
    assert figures["mean_record_minutes"] == pytest.approx(np.mean(record))
    assert np.mean(record) > np.mean(tat) + 4.5
    opened = [r for r in rows if r["read_start"] is not None and r["ai_score"] is not None]
    assert figures["read_unscored_fraction"] == pytest.approx(np.mean([r["read_unscored"] for r in opened]))
    assert 0 < figures["read_unscored_fraction"] < 1


def test_where_the_time_goes_adds_up_to_the_time_to_the_record(tmp_path) -> None:
    from simulator.figures import stage_means, stages_bars
    from simulator.output import write_run
    from simulator.report import write_report
    from simulator import run_scenario

    data = ai_scenario(2)
    data["sites"] = {"main": {"devices": {"CT": {"count": 2, "exam_minutes": {"dist": "fixed", "value": 9}}},
                              "uplink": {"mbit_per_s": 100}}}
    data["network"] = {"sizes_mb": {"CT": {"dist": "fixed", "value": 300}},
                       "delivery": {"delay_minutes": {"dist": "fixed", "value": 4}}}
    run = run_scenario(make(data, horizon_days=5), 2, workers=1)
    means = stage_means(run.studies)["All primary reads"]
    rows = [r for r in run.studies.to_pylist() if r["recorded_at"] is not None and not r["in_warmup"]]
    assert sum(means.values()) == pytest.approx(np.mean([r["recorded_at"] - r["arrived_at"] for r in rows]))
    assert means["scan (queue and exam)"] >= 9.0 and means["to the patient's record"] == pytest.approx(4.0)
    assert means["transfer to the archive"] >= 300 / (100 * 60 / 8) - 1e-9
    assert stages_bars(run.studies) is not None
    report = write_report(write_run(run, tmp_path / "run"))
    assert "Where the time goes" in report.read_text()


def test_a_staffing_target_cannot_name_a_station() -> None:
    from simulator.staffing import parse_target

    with pytest.raises(ScenarioError, match="a roster moves readers"):
        parse_target("station_wait_minutes[station=ai:ct_ai] <= 5")
    with pytest.raises(ScenarioError, match="name the station"):
        parse_target("station_wait_minutes <= 5")


def test_booked_patients_come_at_their_slots_less_the_no_shows_and_queue_with_walk_ins() -> None:
    data = devices_scenario()
    data["study_types"]["chest_ct"]["arrivals"] = {"rate_per_hour": 2.0}
    data["study_types"]["chest_ct"]["bookings"] = [{"site": "main", "every_minutes": 20, "no_show": 0.25,
                                                    "slots": [{"start": "08:00", "end": "12:00",
                                                               "days": ["mon", "tue", "wed", "thu", "fri"]}]}]
    scenario = make(data)
    c = draw_cohort(scenario, 7, 0)
    on_slot = (c.draws.arrivals.arrived_at % 20.0 == 0) & ((c.draws.arrivals.arrived_at % DAY) >= 480) & ((c.draws.arrivals.arrived_at % DAY) < 720)
    slots = 12 * 8  # ten days from a Monday: eight weekdays, twelve slots each
    assert 0.6 * slots <= on_slot.sum() <= 0.9 * slots  # a quarter do not come
    assert (c.draws.arrivals.referral[on_slot] == 2).all()  # elective: routine
    walk_in = draw_cohort(make(devices_scenario() | {"study_types": {"chest_ct": {
        **devices_scenario()["study_types"]["chest_ct"], "arrivals": {"rate_per_hour": 2.0}}}}), 7, 0)
    assert np.array_equal(walk_in.draws.arrivals.arrived_at, c.draws.arrivals.arrived_at[~on_slot])  # the walk-ins are as they were
    bad = devices_scenario()
    bad["study_types"]["chest_ct"]["bookings"] = [{"site": "nowhere", "every_minutes": 20,
                                                   "slots": [{"start": "08:00", "end": "12:00"}]}]
    with pytest.raises(ScenarioError, match="study_types.chest_ct.bookings.0.site"):
        make(bad)


@pytest.mark.parametrize("repair", [{"dist": "exponential", "mean": 60}, {"dist": "gamma", "mean": 60, "cv": 0.5},
                                    {"dist": "lognormal", "mean": 60, "cv": 1.0},
                                    {"dist": "empirical", "values": [10, 50, 200]}, {"dist": "fixed", "value": 30}])
def test_repair_sums_have_the_mean_and_variance_of_sums_and_never_draw_a_billion(repair: dict) -> None:
    from simulator.distributions import mean_of, scv_of
    from simulator.network.devices import repair_sums
    from simulator.scenario import Failures

    dist = Failures.model_validate({"busy_hours_between": 1, "repair_minutes": repair}).repair_minutes
    rng = np.random.default_rng(3)
    counts = np.full(100_000, 4)
    sums = repair_sums(dist, counts, rng)
    mean, var = mean_of(dist), mean_of(dist) ** 2 * scv_of(dist)
    assert sums.mean() == pytest.approx(4 * mean, rel=0.01)
    assert sums.var() == pytest.approx(4 * var, rel=0.05, abs=1e-9)
    huge = repair_sums(dist, np.array([0, 10**9]), rng)  # a breakdown every few seconds of a long exam
    assert huge[0] == 0.0 and huge[1] == pytest.approx(1e9 * mean, rel=1e-3)


def overflow_scenario(after: dict | None) -> dict:
    """Two sites with one CT each: north is busy (rho 1.2 on its own), south quiet."""
    data = base_dict()
    data["sites"] = {"north": {"weight": 3.0, "devices": {"CT": {"count": 1, "exam_minutes": {"dist": "fixed", "value": 10},
                                                                 **({"overflow": {"to": "south", "after": after}} if after else {})}}},
                     "south": {"weight": 1.0, "devices": {"CT": {"count": 1, "exam_minutes": {"dist": "fixed", "value": 10}}}}}
    return data


def test_overflow_patients_waiting_too_long_go_to_the_other_sites_device_and_stay_there() -> None:
    kept = draw_cohort(make(overflow_scenario(None), horizon_days=4), 7, 0, detail=True)
    sent = draw_cohort(make(overflow_scenario({"minutes": 30}), horizon_days=4), 7, 0, detail=True)
    north, south = 0, 1
    moved = (kept.upstream.site == north) & (sent.upstream.site == south)
    assert moved.sum() > 20 and not ((kept.upstream.site == south) & (sent.upstream.site == north)).any()
    wait = sent.upstream.acquired_at - sent.draws.arrivals.arrived_at
    # Nobody at north waits past the limit for a north device; the moved left north exactly then.
    examined_north = sent.upstream.station_detail["devices:north/CT"]
    started = np.isfinite(examined_north["start"])
    assert (examined_north["start"][started] - examined_north["arrived"][started] <= 30 + 1e-9).all()
    at_south = sent.upstream.station_detail["devices:south/CT"]
    assert at_south["arrived"].shape[0] == (kept.upstream.site == south).sum() + moved.sum()
    assert (wait[moved] >= 30 + 10 - 1e-9).all()  # the limit, then at least an exam
    # Sending shortens the waits overall (north is overloaded on its own, south has room).
    assert np.mean(np.minimum(wait, 1e6)) < np.mean(np.minimum(kept.upstream.acquired_at - kept.draws.arrivals.arrived_at, 1e6))
    # The south's own patients keep their exam times (the sent ones draw from a stream of their own).
    n_own = int((kept.upstream.site == south).sum())
    assert np.array_equal(at_south["busy"][:n_own], kept.upstream.station_detail["devices:south/CT"]["busy"])


def test_a_patient_sent_on_arriving_with_one_of_the_sites_own_goes_after_it() -> None:
    # Booked on the minute at both sites, sent after whole minutes: a sent patient and one of south's own
    # come to south's CT at the same moment, in the same class; south's own goes first.
    data = overflow_scenario({"minutes": 30})
    ct = data["study_types"]["chest_ct"]
    ct["arrivals"] = {"rate_per_hour": 0.0}
    slots = [{"start": "08:00", "end": "12:00"}]
    ct["bookings"] = [{"site": "north", "every_minutes": 5, "no_show": 0.0, "slots": slots},
                      {"site": "south", "every_minutes": 5, "no_show": 0.0, "slots": slots}]
    data["sites"]["south"]["devices"]["CT"]["exam_minutes"] = {"dist": "fixed", "value": 1}
    c = draw_cohort(make(data, horizon_days=1, warmup_days=0), 7, 0, detail=True)
    drawn, start = c.draws.arrivals.site, c.upstream.exam_start
    own = np.flatnonzero(drawn == 1)
    sent = np.flatnonzero((drawn == 0) & (c.upstream.site == 1))
    came = {float(t): i for t, i in zip(c.draws.arrivals.arrived_at[sent] + 30.0, sent)}  # at south's CT
    tied = [(i, came[float(t)]) for t, i in zip(c.draws.arrivals.arrived_at[own], own) if float(t) in came]
    assert len(tied) > 3
    assert all(start[i] < start[j] for i, j in tied)


@pytest.mark.parametrize("overflow, message", [
    ({"to": "east", "after": {"minutes": 5}}, "no site 'east'"),
    ({"to": "north", "after": {"minutes": 5}}, "cannot send its patients to itself"),
])
def test_bad_overflow_is_named(overflow: dict, message: str) -> None:
    data = overflow_scenario(None)
    data["sites"]["north"]["devices"]["CT"]["overflow"] = overflow
    with pytest.raises(ScenarioError, match=message):
        make(data)


def test_an_overflow_circle_is_refused() -> None:
    data = overflow_scenario({"minutes": 30})
    data["sites"]["south"]["devices"]["CT"]["overflow"] = {"to": "north", "after": {"minutes": 30}}
    with pytest.raises(ScenarioError, match="goes round in a circle: north -> south -> north"):
        make(data)


def test_stations_parquet_holds_null_where_a_figure_does_not_exist(tmp_path) -> None:
    import pyarrow.parquet as pq

    from simulator import run_scenario
    from simulator.output import write_run

    data = ai_scenario(2)
    data["sites"] = {"main": {"uplink": {"mbit_per_s": 100}}}
    data["network"] = {"sizes_mb": {"CT": {"dist": "fixed", "value": 50}}}
    folder = write_run(run_scenario(make(data, horizon_days=3), 2, workers=1), tmp_path / "run")
    table = pq.read_table(folder / "stations.parquet").to_pylist()
    assert {r["station"] for r in table} == {"uplink:main", "ai:ct_ai"} and len(table) == 4
    assert all((r["mean_wait_minutes"] is None) == (r["kind"] == "uplink") for r in table)
    assert all(0.0 < r["utilization"] < 1.0 for r in table)


NASTY = [0, -1, 1e9, 1e-9, "x", None, [], {}, True, float("inf")]
NETWORK_FIELDS = [
    ("sites", "main", "devices", "CT", "count"), ("sites", "main", "devices", "CT", "exam_minutes"),
    ("sites", "main", "devices", "CT", "open"), ("sites", "main", "devices", "CT", "outages"),
    ("sites", "main", "devices", "CT", "failures"), ("sites", "main", "devices", "CT", "overflow"),
    ("sites", "main", "uplink", "mbit_per_s"), ("sites", "main", "uplink", "outages"),
    ("ingest", "mbyte_per_s"), ("ingest", "slowdowns"), ("network", "sizes_mb", "CT"),
    ("network", "delivery", "outages"), ("ai_services", "ct_ai", "workers"),
    ("ai_services", "ct_ai", "inference_minutes"), ("study_types", "chest_ct", "bookings"),
]


@pytest.mark.parametrize("path", NETWORK_FIELDS, ids=".".join)
def test_any_value_in_a_network_field_runs_or_is_named_never_crashes(path: tuple) -> None:
    """Every nasty value in every network field: a run, or a ScenarioError naming the field's section."""
    for value in NASTY:
        data = base_dict()
        data.update(horizon_days=1.5, warmup_days=0.25)
        data["sites"] = {"main": {"devices": {"CT": {"count": 1, "exam_minutes": {"dist": "fixed", "value": 5}}},
                                  "uplink": {"mbit_per_s": 100}}}
        data["network"] = {"sizes_mb": {"CT": {"dist": "fixed", "value": 100}}}
        data["ai_services"]["ct_ai"].update(workers=1, inference_minutes={"dist": "fixed", "value": 1})
        node = data
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
        try:
            scenario = make(data)
        except ScenarioError as exc:
            assert path[0] in str(exc), (path, value, str(exc))
            continue
        cohort = draw_cohort(scenario, 1, 0)
        assert len(cohort) == cohort.upstream.acquired_at.shape[0]


def test_each_study_says_when_its_exam_and_its_inference_began_and_how_large_it_was() -> None:
    """studies.parquet's station columns: a patient's wait for the scanner (exam_start - arrived_at) and a
    study's wait for a GPU (inference_start - at_archive) are never negative, agree with what the stations
    served job by job, and are null where the scenario has no such station (and for second opinions)."""
    from simulator import run_scenario

    scenario = load_scenario("examples/district_network_devices", ["horizon_days=4", "warmup_days=0"])
    table = run_scenario(scenario, 1, workers=1).studies
    primary = [r for r in table.to_pylist() if r["kind"] == "primary"]
    examined = [r for r in primary if r["exam_start"] is not None]
    assert examined and all(r["arrived_at"] <= r["exam_start"] <= (r["acquired_at"] or np.inf) for r in examined)
    inferred = [r for r in primary if r["inference_start"] is not None]
    assert inferred and all(r["at_archive"] <= r["inference_start"] <= (r["scored_at"] or np.inf) for r in inferred)
    assert all(r["size_mb"] > 0 for r in primary if r["modality"] == "CT")
    cohort = draw_cohort(scenario, scenario.seed, 0, detail=True)
    starts = np.sort(cohort.upstream.exam_start[np.isfinite(cohort.upstream.exam_start)])
    served = np.sort(np.concatenate([d["start"] for name, d in cohort.upstream.station_detail.items()
                                     if name.startswith("devices:")]))
    assert np.array_equal(starts, served[np.isfinite(served)])
    plain = run_scenario(load_scenario("examples/mmc_ai_triage", ["horizon_days=6"]), 1, workers=1).studies
    for column in ("exam_start", "inference_start", "size_mb"):
        assert plain.column(column).null_count == plain.num_rows
