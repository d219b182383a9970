"""Every metric of docs/metrics.md pinned on small tables built by hand, where each value can be worked out on
paper; censoring of unfinished work, targets by what an item is, clipped intervals, an empty run."""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from simulator.metrics import (RANGE, StudyColumns, confidence_interval, per_replication, quantiles, study_metrics)
from simulator.summaries import summary_rows
from simulator.triage import Targets

from .conftest import base_dict, make

HORIZON = 10 * 1440.0  # the test scenario: 10 days, 1 of warm-up
NaN = math.nan


def scenario(**targets_minutes: float):
    data = base_dict()
    data["study_types"]["ct_other"] = {**data["study_types"]["chest_ct"], "ai": None}
    data["pools"]["readers"]["reads"] = ["*"]
    data["targets"] = {k: {"minutes": v} for k, v in targets_minutes.items()}
    return make(data)


def studies(rows: list[dict]) -> pa.Table:
    """A studies table from rows giving only what a test cares about."""
    defaults = {"replication": 0, "study_type": "chest_ct", "kind": "primary", "referral": "routine",
                "priority": "routine", "diseased": False, "ai_positive": None, "arrived_at": 2000.0,
                "ready_at": None, "read_start": None, "reported_at": None, "read_minutes": None, "site": "main",
                "modality": "CT", "reader": None}
    full = [{**defaults, **row} for row in rows]
    columns = {key: [r[key] for r in full] for key in defaults}
    types = {"arrived_at": pa.float64(), "ready_at": pa.float64(), "read_start": pa.float64(),
             "reported_at": pa.float64(), "read_minutes": pa.float64(), "diseased": pa.bool_(),
             "ai_positive": pa.bool_()}
    table = {k: pa.array(v, type=types.get(k, pa.string() if k != "replication" else None))
             for k, v in columns.items()}
    for name in ("study_type", "kind", "referral", "priority", "site", "modality", "reader"):
        table[name] = table[name].dictionary_encode()
    arrived = np.array(columns["arrived_at"], dtype=float)
    ready = np.array([NaN if v is None else v for v in columns["ready_at"]])
    reported = np.array([NaN if v is None else v for v in columns["reported_at"]])
    read = np.array([NaN if v is None else v for v in columns["read_minutes"]])
    table["tat_minutes"] = pa.array(reported - arrived, mask=np.isnan(reported))
    table["wait_minutes"] = pa.array(reported - ready - read, mask=np.isnan(reported))
    table["in_warmup"] = pa.array(arrived < 1440.0)
    table["replication"] = pa.array(columns["replication"], pa.int32())
    return pa.table(table)


def metrics(table: pa.Table, where: dict | None = None, **targets: float) -> dict[str, float]:
    cols = StudyColumns(table, scenario(**targets))
    where = where or {}
    return study_metrics(cols, cols.mask(where), cols.mask(where, warmup=True))


def reported(arrived: float, ready: float, start: float, read: float, **extra) -> dict:
    return {"arrived_at": arrived, "ready_at": ready, "read_start": start, "read_minutes": read,
            "reported_at": start + read, **extra}


def test_counts_and_the_share_reported() -> None:
    table = studies([reported(2000, 2010, 2020, 10), reported(3000, 3000, 3005, 5),
                     {"arrived_at": 4000, "ready_at": 4010},  # waiting at the horizon
                     {"arrived_at": 100, "ready_at": 110},  # arrived in the warm-up: left out of counts
                     {"arrived_at": HORIZON - 100}])  # arrived in the last day, not yet on the worklist
    m = metrics(table)
    assert m["count"] == 4
    assert m["count_per_year"] == pytest.approx(4 * 365 / 9)
    assert m["reported_fraction"] == 0.5 and m["unfinished"] == 2
    assert m["reported_fraction_before_last_day"] == pytest.approx(2 / 3)


def test_turnaround_counts_unfinished_work_at_its_censored_time() -> None:
    table = studies([reported(2000, 2010, 2020, 10),  # TAT 30
                     reported(3000, 3000, 3005, 5),  # TAT 10
                     {"arrived_at": HORIZON - 200, "ready_at": HORIZON - 190}])  # censored at 200
    m = metrics(table)
    values = [30.0, 10.0, 200.0]
    assert m["mean_tat_minutes"] == pytest.approx(np.mean(values))
    assert m["p50_tat_minutes"] == pytest.approx(30.0)
    assert m["p95_tat_minutes"] == pytest.approx(np.quantile(values, 0.95))
    assert m["max_tat_minutes"] == 200.0  # dropping the unfinished study would say 30
    # Waits: 0 and 0 (reported: ready->start minus... see below), the unfinished one waits 190 so far.
    waits = [2020 - 2010, 3005 - 3000, 190.0]
    assert m["mean_wait_minutes"] == pytest.approx(np.mean(waits))
    assert m["p95_wait_minutes"] == pytest.approx(np.quantile(waits, 0.95))


def test_a_read_in_progress_waited_until_it_was_opened_and_work_not_on_the_worklist_has_no_wait() -> None:
    table = studies([{"arrived_at": HORIZON - 100, "ready_at": HORIZON - 90, "read_start": HORIZON - 30},
                     {"arrived_at": HORIZON - 50}])  # in transfer: no wait yet
    m = metrics(table)
    assert m["mean_wait_minutes"] == pytest.approx(60.0)
    assert m["mean_tat_minutes"] == pytest.approx((100 + 50) / 2)


def test_backlog_counts_all_work_left_at_the_horizon_including_work_not_yet_on_the_worklist() -> None:
    table = studies([{"arrived_at": 100, "ready_at": 110},  # warm-up arrival still waiting: backlog
                     {"arrived_at": 2000},  # stuck in an ingest outage: backlog, not ready
                     {"arrived_at": 3000, "ready_at": 3001, "read_start": HORIZON - 5},  # being read
                     reported(4000, 4000, 4001, 3)])
    m = metrics(table)
    assert m["backlog_at_horizon"] == 3 and m["not_ready_at_horizon"] == 1
    assert m["count"] == 3  # the warm-up arrival is left out of the measured work


def test_share_within_target_counts_only_fates_known_at_the_horizon() -> None:
    table = studies([reported(2000, 2000, 2010, 20),  # TAT 30: met (60)
                     reported(3000, 3000, 3080, 20),  # TAT 100: missed
                     {"arrived_at": 4000, "ready_at": 4000},  # unfinished, deadline passed: missed
                     {"arrived_at": HORIZON - 30, "ready_at": HORIZON - 30}])  # unfinished, fate unknown
    m = metrics(table, routine=60)
    assert m["sla_met_fraction"] == pytest.approx(1 / 3)


def test_targets_come_from_what_an_item_is_not_from_the_policys_label() -> None:
    """An AI-flagged routine study has the ai_positive target whatever label the policy gave it."""
    flagged_fifo = reported(2000, 2000, 2100, 20, ai_positive=True, priority="routine")  # TAT 120
    flagged_ai = reported(2000, 2000, 2100, 20, ai_positive=True, priority="ai_positive")
    for row in (flagged_fifo, flagged_ai):
        m = metrics(studies([row]), routine=1440, ai_positive=60)
        assert m["sla_met_fraction"] == 0.0  # 120 minutes misses 60 under both labels


def test_target_precedence_kind_first_then_the_strictest_that_applies() -> None:
    targets = Targets({"routine": 1440, "urgent": 60, "ai_positive": 30, "second_opinion": 4320, "chest_ct": 120})
    # Work that is not an image read has its kind's target: 72 h, not its routine order's 24 h.
    assert targets.of_fields("second_opinion", "routine", None, "chest_ct") == 4320
    # An image read: the strictest of order priority, AI flag and study type.
    assert targets.of_fields("primary", "routine", None, "chest_ct") == 120
    assert targets.of_fields("primary", "urgent", None, "chest_ct") == 60
    assert targets.of_fields("primary", "routine", True, "chest_ct") == 30
    assert targets.of_fields("double_read", "routine", True, "other") == 30
    assert Targets({"stat": 15}).of_fields("primary", "routine", False, "x") is None
    # A kind without its own target falls back to the strictest of the rest.
    assert Targets({"routine": 1440}).of_fields("consultation", "routine", None, "x") == 1440
    # The same precedence in a table: a 30-hour second opinion meets its 72 hours.
    m = metrics(studies([reported(2000, 2000, 2000, 1800, kind="second_opinion")]), routine=1440,
                second_opinion=4320)
    assert m["sla_met_fraction"] == 1.0


def test_utilisation_and_overtime_of_duties() -> None:
    duties = pa.table({"replication": pa.array([0, 0, 0], pa.int32()), "pool": ["p", "p", "q"],
                       "shift": ["d", "d", "d"], "reader": ["a", "b", "c"], "start": [1440.0, 1440.0, 0.0],
                       "end": [2160.0, 2160.0, 2880.0], "present": [True, False, True],
                       "busy_minutes": [360.0, 0.0, 720.0], "reads": [1, 0, 1], "overtime_minutes": [30.0, 0.0, 0.0]})
    s = scenario()
    assert per_replication(studies([]), duties, s, "utilization", {"pool": "p"}, [0])[0] == 0.5
    # c was on duty 0..2880 but only the 1440 minutes after the warm-up count.
    assert per_replication(studies([]), duties, s, "utilization", {"pool": "q"}, [0])[0] == 0.5
    assert per_replication(studies([]), duties, s, "overtime_hours", {}, [0])[0] == 0.5


def test_intervals_are_clipped_to_the_values_a_metric_can_take() -> None:
    share = confidence_interval(np.array([1.0, 1.0, 0.99, 1.0]), bounds=RANGE["sla_met_fraction"])
    assert share["ci_high"] == 1.0 and share["ci_low"] < 1.0
    count = confidence_interval(np.array([0.0, 0.0, 3.0]), bounds=RANGE["backlog_at_horizon"])
    assert count["ci_low"] == 0.0
    one = confidence_interval(np.array([5.0]))
    assert one["mean"] == 5.0 and one["ci_low"] is None and one["replications"] == 1


def test_a_prediction_interval_is_where_one_more_replication_may_fall() -> None:
    """mean +- t sd sqrt(1 + 1/n) (on paper: 1..5 gives 3 +- 2.776 x 1.581 x 1.095), wider than the
    confidence interval of the mean by sqrt(n + 1); clipped to what is possible; nothing from one value."""
    from simulator.metrics import prediction_interval

    low, high = prediction_interval(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert abs(high - 3.0 - 2.7764451 * math.sqrt(2.5) * math.sqrt(1.2)) < 1e-6 and abs(low + high - 6.0) < 1e-9
    ci = confidence_interval(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert abs((high - low) / (ci["ci_high"] - ci["ci_low"]) - math.sqrt(6.0)) < 1e-9
    assert prediction_interval(np.array([0.0, 0.0, 3.0]), 0.99, (0.0, math.inf))[0] == 0.0
    assert all(math.isnan(v) for v in prediction_interval(np.array([5.0])))


def test_a_run_with_no_arrivals_still_says_how_many_there_were() -> None:
    duties = pa.table({"replication": pa.array([], pa.int32()), "pool": pa.array([], pa.string()),
                       "shift": pa.array([], pa.string()), "reader": pa.array([], pa.string()),
                       "start": pa.array([], pa.float64()), "end": pa.array([], pa.float64()),
                       "present": pa.array([], pa.bool_()), "busy_minutes": pa.array([], pa.float64()),
                       "reads": pa.array([], pa.int64()), "overtime_minutes": pa.array([], pa.float64())})
    rows = summary_rows(studies([]), duties, scenario(), 2)
    count = next(r for r in rows if r["metric"] == "count" and r["where"] == {})
    assert count["mean"] == 0.0
    assert next(r for r in rows if r["metric"] == "mean_tat_minutes" and r["where"] == {})["mean"] is None


def test_subgroups_split_and_replications_are_separate() -> None:
    table = studies([reported(2000, 2000, 2010, 10, replication=0, diseased=True),
                     reported(2000, 2000, 2010, 30, replication=1, diseased=True),
                     reported(2000, 2000, 2010, 50, replication=1)])
    s = scenario()
    values = per_replication(table, None, s, "mean_tat_minutes", {"diseased": True}, [0, 1])
    assert values.tolist() == [20.0, 40.0]
    assert per_replication(table, None, s, "count", {}, [0, 1]).tolist() == [1.0, 2.0]


# The summary, columns and intervals in full (found by mutation testing, docs/testing.md) -----------------
def no_duties() -> pa.Table:
    return pa.table({"replication": pa.array([], pa.int32()), "pool": pa.array([], pa.string()),
                     "shift": pa.array([], pa.string()), "reader": pa.array([], pa.string()),
                     "start": pa.array([], pa.float64()), "end": pa.array([], pa.float64()),
                     "present": pa.array([], pa.bool_()), "busy_minutes": pa.array([], pa.float64()),
                     "reads": pa.array([], pa.int64()), "overtime_minutes": pa.array([], pa.float64())})


def test_the_summary_gives_every_group_per_replication_with_its_interval() -> None:
    table = studies([reported(2000, 2000, 2010, 10, replication=0, diseased=True),     # TAT 20
                     reported(2000, 2000, 2010, 30, replication=0),                    # TAT 40
                     {"arrived_at": 100, "ready_at": 100, "replication": 0},          # warm-up, left over
                     reported(2000, 2000, 2010, 50, replication=1, diseased=True),     # TAT 60
                     {"arrived_at": HORIZON - 60, "replication": 1, "kind": "second_opinion"}])  # censored 60
    rows = summary_rows(table, no_duties(), scenario(), 2)
    get = {(r["metric"], tuple(sorted(r["where"].items()))): r for r in rows}
    tat = get[("mean_tat_minutes", ())]
    assert tat["mean"] == pytest.approx((30.0 + 60.0) / 2) and tat["replications"] == 2
    half = 12.706204736174698 * np.std([30.0, 60.0], ddof=1) / math.sqrt(2)
    assert tat["ci_low"] == 0.0 and tat["ci_high"] == pytest.approx(45.0 + half)  # clipped: a time is >= 0
    assert get[("mean_tat_minutes", (("diseased", True),))]["mean"] == pytest.approx(40.0)
    assert get[("count", (("kind", "second_opinion"),))]["mean"] == pytest.approx(0.5)
    backlog = get[("backlog_at_horizon", ())]
    assert backlog["mean"] == pytest.approx(1.0) and backlog["ci_low"] >= 0.0  # the warm-up one and the censored
    assert get[("backlog_at_horizon", (("kind", "primary"),))]["mean"] == pytest.approx(0.5)
    assert {r["where"].get("diseased") for r in rows if "diseased" in r["where"]} == {True, False}
    assert ("count", (("referral", "stat"),)) not in get  # a value nobody had is no group


def test_columns_of_every_type_encode_and_mask() -> None:
    table = studies([reported(2000, 2000, 2010, 10, site="north", ai_positive=True),
                     reported(2000, 2000, 2010, 10, site="south", ai_positive=None),
                     reported(2000, 2000, 2010, 10, site="north", ai_positive=False)])
    table = table.set_column(table.schema.get_field_index("site"), "site", pa.array(["north", "south", "north"]))
    cols = StudyColumns(table, scenario())
    codes, lookup = cols.encoded("site")  # a plain string column is dictionary-encoded
    assert sorted(lookup) == ["north", "south"] and codes.tolist() == [lookup["north"], lookup["south"], lookup["north"]]
    codes, lookup = cols.encoded("ai_positive")
    assert codes.tolist() == [1, -1, 0] and lookup == {False: 0, True: 1}
    assert cols.distinct("ai_positive") == [False, True]
    assert cols.mask({"site": "north"}).tolist() == [True, False, True]
    assert cols.mask({"site": "west"}).tolist() == [False, False, False]
    assert cols.mask({"replication": 0}).tolist() == [True, True, True]
    with pytest.raises(KeyError, match="no column 'colour'"):
        cols.encoded("colour")


def test_rows_of_a_replication_in_a_table_that_is_not_in_replication_order() -> None:
    table = studies([reported(2000, 2000, 2010, 10, replication=1), reported(2000, 2000, 2010, 20, replication=0),
                     reported(2000, 2000, 2010, 30, replication=1)])
    cols = StudyColumns(table, scenario())
    assert cols.rows_of(1).tolist() == [True, False, True]
    s = scenario()
    assert per_replication(table, None, s, "mean_tat_minutes", {}, [0, 1]).tolist() == [30.0, 30.0]
    ordered = StudyColumns(studies([reported(2000, 2000, 2010, 10, replication=0),
                                    reported(2000, 2000, 2010, 10, replication=2)]), s)
    assert ordered.rows_of(2) == slice(1, 2) and ordered.rows_of(1) == slice(0, 0)


def test_intervals_are_student_t_and_leave_out_undefined_replications() -> None:
    values = np.array([1.0, 2.0, np.nan, 4.0])
    ci = confidence_interval(values)
    half = 4.302652729911275 * np.std([1.0, 2.0, 4.0], ddof=1) / math.sqrt(3)
    assert ci == pytest.approx({"mean": 7 / 3, "ci_low": 7 / 3 - half, "ci_high": 7 / 3 + half, "replications": 3})
    wide = confidence_interval(np.array([1.0, 2.0, 4.0]), level=0.99)
    assert wide["ci_high"] - wide["ci_low"] > 2 * half
    assert confidence_interval(np.array([np.nan])) == {"mean": None, "ci_low": None, "ci_high": None,
                                                       "replications": 0}


def test_metric_names_and_splits_are_checked() -> None:
    from simulator.metrics import UnknownMetric, check_metric

    check_metric("utilization", {"pool": "ct"})
    check_metric("p95_tat_minutes", [("ai_positive", True), ("site", "north")])
    with pytest.raises(UnknownMetric, match="unknown metric 'p95_tat'"):
        check_metric("p95_tat")
    with pytest.raises(UnknownMetric, match="cannot split by 'pool'"):
        check_metric("mean_tat_minutes", {"pool": "ct"})
    with pytest.raises(UnknownMetric, match="cannot split by 'diseased'"):
        check_metric("utilization", {"diseased": True})
    assert str(UnknownMetric("plain words")) == "plain words"


def test_pool_metrics_keep_to_the_rows_asked_and_clip_duties_to_the_observed_time() -> None:
    duties = pa.table({"replication": pa.array([0, 1], pa.int32()), "pool": ["p", "p"], "shift": ["d", "d"],
                       "reader": ["a", "a"], "start": [0.0, 13_000.0], "end": [2880.0, 15_000.0],
                       "present": [True, True], "busy_minutes": [720.0, 500.0], "reads": [1, 1],
                       "overtime_minutes": [60.0, 0.0]})
    s = scenario()
    # replication 0: 1440..2880 counts (1440 min); replication 1: 13000..14400 (1400 min).
    assert per_replication(studies([]), duties, s, "utilization", {}, [0, 1]).tolist() == \
        pytest.approx([720 / 1440, 500 / 1400])
    assert per_replication(studies([]), duties, s, "overtime_hours", {"pool": "p"}, [0, 1]).tolist() == [1.0, 0.0]
    empty = per_replication(studies([]), duties, s, "utilization", {"pool": "q"}, [0])
    assert math.isnan(empty[0])


def test_the_edges_of_a_day_and_of_a_target_count_on_the_inclusive_side() -> None:
    on_time = reported(2000, 2000, 2000, 60)  # TAT exactly the 60-minute target: met
    due_now = {"arrived_at": HORIZON - 60, "ready_at": HORIZON - 60}  # due exactly at the horizon: missed, known
    a_day_before = {"arrived_at": HORIZON - 1440, "ready_at": HORIZON - 1440}  # counts as before the last day
    m = metrics(studies([on_time, due_now, a_day_before]), routine=60)
    assert m["sla_met_fraction"] == pytest.approx(1 / 3)
    assert m["reported_fraction_before_last_day"] == pytest.approx(1 / 2)


def test_the_summary_gives_each_pool_its_own_utilisation_per_replication() -> None:
    duties = pa.table({"replication": pa.array([0, 0, 1, 1], pa.int32()), "pool": ["p", "q", "p", "q"],
                       "shift": ["d"] * 4, "reader": ["a", "b", "a", "b"], "start": [1440.0] * 4,
                       "end": [2880.0] * 4, "present": [True] * 4, "busy_minutes": [720.0, 144.0, 1440.0, 288.0],
                       "reads": [1] * 4, "overtime_minutes": [0.0, 60.0, 0.0, 0.0]})
    data = base_dict()
    data["pools"] = {"p": {"reads": ["*"], "shifts": [{"start": "00:00", "end": "24:00", "staff": 1}]},
                     "q": {"reads": ["*"], "shifts": [{"start": "00:00", "end": "24:00", "staff": 1}]}}
    rows = summary_rows(studies([]), duties, make(data), 2)
    get = {(r["metric"], tuple(r["where"].items())): r for r in rows}
    assert get[("utilization", (("pool", "p"),))]["mean"] == pytest.approx(0.75)
    assert get[("utilization", (("pool", "q"),))]["mean"] == pytest.approx(0.15)
    assert get[("utilization", ())]["mean"] == pytest.approx((864 / 2880 + 1728 / 2880) / 2)
    assert get[("overtime_hours", (("pool", "q"),))]["mean"] == pytest.approx(0.5)
    assert get[("utilization", (("pool", "p"),))]["ci_high"] <= 1.0


def test_nulls_match_no_value_and_filters_combine() -> None:
    table = studies([reported(2000, 2000, 2010, 10, priority="routine", diseased=True),
                     {"arrived_at": 3000, "priority": None, "diseased": True},  # never reached the worklist
                     reported(2000, 2000, 2010, 10, priority="stat", referral="stat")])
    cols = StudyColumns(table, scenario())
    assert cols.encoded("priority")[0].tolist()[1] == -1
    assert cols.distinct("priority") == ["routine", "stat"]
    assert cols.mask({"priority": "routine"}).tolist() == [True, False, False]
    assert cols.mask({"diseased": True, "priority": "routine"}).tolist() == [True, False, False]
    assert cols.mask({"replication": 0, "diseased": True}).tolist() == [True, True, False]


def test_a_study_types_target_is_the_strictest_in_the_tables_too() -> None:
    m = metrics(studies([reported(2000, 2000, 2000, 90, study_type="chest_ct"),
                         reported(2000, 2000, 2000, 90, study_type="ct_other")]), routine=1440, chest_ct=60)
    assert m["sla_met_fraction"] == 0.5  # 90 minutes misses chest CT's 60, meets the other type's 24 hours


def test_a_subgroup_with_only_left_over_warm_up_work_is_still_reported() -> None:
    table = studies([reported(2000, 2000, 2010, 10), {"arrived_at": 100, "ready_at": 100, "referral": "urgent"}])
    rows = summary_rows(table, no_duties(), scenario(), 1)
    urgent = {r["metric"]: r["mean"] for r in rows if r["where"] == {"referral": "urgent"}}
    assert urgent["count"] == 0 and urgent["backlog_at_horizon"] == 1


def test_no_module_keeps_a_cache_keyed_by_the_identity_of_a_table() -> None:
    """StudyColumns are built for the table and scenario asked about, each time: nothing outlives its
    caller by hiding in a module (a cache keyed by an object's identity can hand back another's columns)."""
    from simulator import load_scenario, run_scenario
    from simulator.metrics import columns_for

    scenario = load_scenario("mmc_ai_triage", ["horizon_days=10"])
    run = run_scenario(scenario, 2, workers=1, summarise=False)
    first = columns_for(run.studies, scenario)
    assert columns_for(run.studies, scenario) is not first
    assert np.array_equal(columns_for(run.studies, scenario).tat, first.tat, equal_nan=True)
    import simulator.metrics as metrics

    assert not hasattr(metrics, "_RECENT")


def test_a_subgroup_seen_only_in_another_replication_or_only_in_the_warm_up() -> None:
    """Summary rows come from each replication's summary (simulator/summaries.py): a priority seen in
    replication 1 only counts 0 in replication 0; a study type whose only row in replication 0 arrived in the
    warm-up and is still unread shows there in the backlog at the horizon. Checked against the metrics worked
    out over the whole table, replication by replication (`per_replication`)."""
    table = studies([
        reported(2000, 2010, 2020, 10, replication=0),
        {"arrived_at": 100, "ready_at": 110, "study_type": "ct_other", "replication": 0},  # warm-up, unread
        reported(2000, 2010, 2020, 10, replication=1, priority="stat", referral="stat"),
        reported(3000, 3010, 3020, 10, replication=1, study_type="ct_other"),
    ])
    s = scenario()
    rows = {(r["metric"], tuple(sorted(r["where"].items()))): r for r in summary_rows(table, no_duties(), s, 2)}
    for where in ({"priority": "stat"}, {"study_type": "ct_other"}, {}):
        for metric in ("count", "backlog_at_horizon", "mean_tat_minutes"):
            values = per_replication(table, no_duties(), s, metric, where, range(2))
            row = rows[(metric, tuple(sorted(where.items())))]
            expected = confidence_interval(values, bounds=RANGE[metric])
            assert row["mean"] == expected["mean"] and row["replications"] == expected["replications"], (where, metric)
    assert rows[("count", (("priority", "stat"),))]["mean"] == 0.5  # 0 in replication 0, 1 in replication 1
    assert rows[("backlog_at_horizon", (("study_type", "ct_other"),))]["mean"] == 0.5  # the warm-up study


def test_quantiles_are_numpys_to_the_bit() -> None:
    """The summary's own quantiles (one partition) must give what np.quantile gives, bit for bit: sizes from
    one value up, ties, values that make the interpolation's two formulas differ, infinities and NaN."""
    rng = np.random.default_rng(7)
    levels = (0.0, 0.05, 0.5, 0.95, 0.99, 1.0)
    samples = [np.array([3.0]), np.array([1.0, 2.0]), np.array([np.inf, 1.0]), np.array([np.inf, np.inf, 2.0]),
               np.array([1.0, np.nan, 2.0]), np.array([-np.inf, 0.0, 1e300, -1e300])]
    for n in [*range(1, 60), 101, 1000, 4097, 100_000]:
        samples.append(rng.lognormal(3.0, 1.5, n))
        samples.append(rng.integers(0, 4, n).astype(float))  # ties
        samples.append(rng.random(n) * 1e-300 + 0.1)  # differences at the last bits
    for values in samples:
        for chosen in (levels, (0.5, 0.95), (0.95,)):
            with np.errstate(invalid="ignore"):  # numpy says so of inf - inf; the answer is still compared
                expected = np.quantile(values, list(chosen)).tolist()
            got = quantiles(values.copy(), chosen)
            assert np.array_equal(np.array(got), np.array(expected), equal_nan=True), (values[:5], chosen)
            assert all(math.copysign(1, g) == math.copysign(1, e) for g, e in zip(got, expected))


def test_a_subgroup_narrowed_to_its_own_rows_measures_as_its_masks_over_all_rows(monkeypatch) -> None:
    """`StudyColumns.subgroup` hands a small subgroup over as its own rows; every metric must come out as
    from masks over all the rows (same items, same order: means and quantiles to the bit), for tables in
    replication order (rows a slice) and not (rows a mask)."""
    import simulator.metrics as metrics_module
    from simulator import load_scenario, run_scenario
    from simulator.metrics import subgroups

    scenario = load_scenario("examples/district_network", ["horizon_days=6", "warmup_days=1"])
    table = run_scenario(scenario, 2, workers=1, summarise=False).studies
    shuffled = table.take(np.random.default_rng(3).permutation(table.num_rows))
    for studies_table in (table, shuffled):
        cols = StudyColumns(studies_table, scenario)
        groups = subgroups(cols)
        assert len(groups) > 10
        for replication in (0, 1):
            rows = cols.rows_of(replication)
            for where in groups:
                measured = {}
                for narrow_below in (0, 10**12):  # always narrowed; never (unless empty)
                    monkeypatch.setattr(metrics_module, "NARROW_BELOW", narrow_below)
                    keep, state, at = cols.subgroup(where, rows)
                    assert keep.shape == state.shape
                    measured[narrow_below] = (study_metrics(cols, keep, state, at), cols.target[at][keep].tolist())
                narrowed, whole = measured[0], measured[10**12]
                assert narrowed[1] == whole[1], where
                for metric, value in whole[0].items():
                    assert value == narrowed[0][metric] or (math.isnan(value) and math.isnan(narrowed[0][metric])), \
                        (where, metric)
