"""The dashboard: the figures and cards it shares with `radsim report` (simulator/figures), its roster editor,
controls and runner without Streamlit, and the app under Streamlit's AppTest."""
from __future__ import annotations

import time

import numpy as np
import pyarrow.compute as pc
import pytest
import yaml

from dashboard.controls import changes
from dashboard.loading import load_upload
from dashboard.roster import RosterError, apply_roster, changed_cells, parse_cells, roster_rows
from simulator import ScenarioError, load_scenario, run_scenario
from simulator.comparison import compare_runs
from simulator.experiment import run_variants
from simulator.story import status, tell
from simulator.figures import (comparison_chart, operations, roster_cost, tat_ecdf,
                               utilisation_bars, wait_heatmap, worklist_over_week)
from simulator.figures.charts import WAIT_LEVELS
from simulator.loading import read_yaml, resolve_path
from simulator.prepare import parse_scenario

from .conftest import base_dict, make


@pytest.fixture(scope="module")
def day_night():
    scenario = load_scenario("examples/cxr_day_night", ["horizon_days=14"])
    fifo = scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"triage": "fifo"})})
    run, fifo_run = run_variants([scenario, fifo], 2, workers=2)
    return scenario, run, fifo_run


def test_turnaround_ecdf_rises_to_one_per_group_in_plain_words(day_night) -> None:
    _, run, _ = day_night
    fig = tat_ecdf(run.studies, "diseased")
    assert {trace.name.rsplit(" (", 1)[0] for trace in fig.data} == {"finding", "no finding"}
    for trace in fig.data:
        assert np.all(np.diff(trace.x) >= 0) and trace.y[0] == 0.0 and trace.y[-1] == 1.0


def test_worklist_over_the_week_marks_every_shift_change(day_night) -> None:
    scenario, run, _ = day_night
    fig = worklist_over_week(run.studies, scenario)
    assert len(fig.layout.shapes) == 14  # two changes a day (08:00, 20:00), seven days
    waiting = np.array(fig.data[0].y, dtype=float)
    assert np.nanmax(waiting) > 5 and np.nanmin(waiting) >= 0
    hours = np.array(fig.data[0].x)
    for day in range(7):  # the queue builds by day and drains at night
        evening, morning = waiting[np.argmin(abs(hours - (24 * day + 19)))], waiting[np.argmin(abs(hours - (24 * day + 7)))]
        assert evening > morning


def test_the_wait_heatmaps_colour_scale_is_the_smallest_level_that_holds_the_runs_worst_hour(day_night) -> None:
    """A backlog of hours and a well-staffed desk of minutes each get a scale that shows their own hours
    apart (not one fixed 8-hour scale on which minutes are all pale); `top` puts two runs on one scale."""
    scenario, run, fifo = day_night
    staffed = run_scenario(load_scenario("examples/cxr_day_night", ["horizon_days=7", "warmup_days=1",
                                                                     "pools.readers.shifts.0.staff=6",
                                                                     "pools.readers.shifts.1.staff=3"]), 2)
    tops = []
    for studies, scenario_of in ((run.studies, scenario), (fifo.studies, scenario), (staffed.studies, staffed.scenario)):
        trace = wait_heatmap(studies, scenario_of).data[0]
        grid = np.array(trace.z, dtype=float)
        worst = np.nanmax(grid)
        assert grid.shape == (7, 24) and trace.zmin == 0.0
        assert trace.zmax == min(level for level in WAIT_LEVELS if level >= worst)  # holds it, and no more
        tops.append(trace.zmax)
    assert tops[2] <= 60.0 < tops[1]  # minutes for the staffed desk; hours under FIFO's backlog
    assert wait_heatmap(staffed.studies, staffed.scenario, top=tops[1]).data[0].zmax == tops[1]
    bars = utilisation_bars(run.duties, scenario).data
    assert all(0.0 <= y <= 1.0 for trace in bars for y in trace.y)


def test_comparison_chart_colours_verdicts(day_night) -> None:
    scenario, run, fifo = day_night
    fig = comparison_chart(compare_runs(scenario, fifo, run, ("mean_tat_minutes",)), "mean_tat_minutes", "fifo",
                           "ai_priority")
    names = list(fig.data[0].y)
    assert fig.data[0].x[names.index("finding")] < 0  # AI priority shortens the turnaround of findings


def test_the_same_four_cards_under_every_policy_with_fifo_and_the_runs_own_verdicts(day_night) -> None:
    """The cards are the story's chapters. This day shift is overloaded: no card on target is green, and
    its why says so (not a reason that explains nothing)."""
    scenario, run, fifo = day_night
    cards = tell(run, fifo).chapters
    plain = tell(fifo).chapters
    titles = ["Studies with a finding", "AI-flagged studies", "STAT orders", "All work"]
    assert [c.title for c in cards] == titles == [c.title for c in plain]  # a policy never removes a card
    finding, flagged = cards[0], cards[1]
    assert finding.target == 60.0 or finding.target == 1440.0
    assert flagged.target == 60.0 and flagged.count > 0
    # Findings the AI missed are held to their order's 24 h, not the AI's 60 min: the card says whose target
    # it shows, so that "95% within 2.3 h" beside "100% within target" is no contradiction.
    flagged_share = (run.studies.column("ai_positive").to_numpy(zero_copy_only=False)[
        run.studies.column("diseased").to_numpy(zero_copy_only=False)]).mean()
    assert finding.target == 60.0 and 0.5 < finding.target_share < 0.995
    assert finding.target_share == pytest.approx(flagged_share, abs=0.02)
    assert f"60 min for {finding.target_share:.0%} of them, the rest their own" in finding.sentence()
    assert "within their targets" in finding.sentence() and flagged.target_text == "60 min"
    assert finding.against_fifo["p95_tat_minutes"].diff < 0  # faster than FIFO on the same studies
    assert run.overloaded and not any(c.status == "green" for c in cards)
    assert all("demand exceeds capacity" in " ".join(c.why) for c in cards if c.count and c.within >= 0.95)
    assert cards[2].count == 0 and cards[2].status == "grey"  # this scenario has no STAT orders
    assert status(0.96) == "green" and status(0.9) == "amber" and status(0.5) == "red" and status(None) == "grey"


def test_a_card_explains_only_a_shortfall_and_all_work_is_red_when_work_is_left_unread() -> None:
    """A STAT card that meets its target (99% within) says nothing about STAT studies too long to read
    alone; a desk where much work is never reported shows all work red, whatever its share in target."""
    scenario = load_scenario("examples/district_network_devices", ["horizon_days=7"])
    cards = {c.title: c for c in tell(run_scenario(scenario, 2, workers=2)).chapters}
    stat = cards["STAT orders"]
    if stat.status == "green":
        assert stat.why == []
    swamped = load_scenario("examples/mmc_ai_triage", ["horizon_days=6", "warmup_days=1",
                                                     "pools.readers.shifts.0.staff=1"])
    story = tell(run_scenario(swamped, 2, workers=2))
    every = story.chapters[-1]
    assert every.title == "All work" and every.status == "red"
    assert any("never reported" in why for why in every.why)
    assert not any(c.status == "green" for c in story.chapters)


def test_operations_and_the_cost_of_a_roster(day_night) -> None:
    _, run, _ = day_night
    ops = operations(run)
    assert ops.night_mean_wait > 0 and ops.backlog_at_shift_change > 0 and 0 < ops.utilisation <= 1
    data = base_dict()
    data["pools"]["readers"]["cost_per_hour"] = 50
    hours, cost = roster_cost(make(data))
    assert hours == 2 * 24 * 7 and cost == hours * 50
    assert roster_cost(make(base_dict()))[1] is None  # no cost given: none made up


def test_roster_cells_are_read_as_typed_and_write_back() -> None:
    scenario = load_scenario("moscow_reference_center")
    data = read_yaml(resolve_path("moscow_reference_center"))
    rows = roster_rows(scenario)
    assert [(r["pool"], r["shift"]) for r in rows][:2] == [("general", "day"), ("general", "night")]
    assert apply_roster(data, scenario, rows) == data  # unchanged cells: the file's own entries, names and all
    night = dict(next(r for r in rows if r["pool"] == "general" and r["shift"] == "night"))
    edited = [dict(r) for r in rows]
    edited[1] = {**night, "sat": "0", "sun": "0"}
    assert changed_cells(rows, parse_cells(edited)) == ["general night sat: 1 -> 0", "general night sun: 1 -> 0"]
    assert roster_rows(parse_scenario(apply_roster(data, scenario, edited)))[1]["sat"] == 0
    from simulator.calendar import shift_labels

    edited[1] = {**night, "mon": "0"}  # a shift split by weekday: each part keeps the name the table shows
    assert shift_labels(parse_scenario(apply_roster(data, scenario, edited)).pools["general"])[-2:] == [
        "night mon", "night tue-sun"]
    for typed, words in (("2.5", "'2.5' is not a number"), ("-1", "'-1' is not a number"), ("", "an empty cell")):
        edited[1] = {**night, "mon": typed}
        with pytest.raises(RosterError, match=rf"general night mon: {words}"):
            parse_cells(edited)


def test_changes_from_the_file_are_listed() -> None:
    base = base_dict()
    data = yaml.safe_load(yaml.safe_dump(base))
    data["policy"]["triage"] = "fifo"
    data["horizon_days"] = 20
    assert changes(base, data) == ["horizon_days: 10 -> 20", "policy.triage: ai_priority -> fifo"]
    assert changes(base, base) == []


def test_uploads_are_checked_like_files_and_run_no_code() -> None:
    with pytest.raises(ScenarioError, match=r"mine.yaml: horizon_days"):
        load_upload("mine.yaml", b"name: x\nstart: 2026-02-02T00:00\nhorizon_days: -1\n")
    with pytest.raises(ScenarioError, match="not a UTF-8 text file"):
        load_upload("mine.yaml", b"\xff\xfe\x00")
    data = base_dict()
    data["policy"] = {"triage": "tests.policies_for_tests:ForgetsStat"}
    text = yaml.safe_dump(data).encode()
    with pytest.raises(ScenarioError, match="refused"):
        load_upload("mine.yaml", text, allowed=[])
    _, scenario = load_upload("mine.yaml", text, allowed=["tests.policies_for_tests:ForgetsStat"])
    assert scenario.policy.triage.endswith("ForgetsStat")
    data["policy"] = {"triage": "fifo"}
    data["arrivals"] = {"trace": "/etc/some.parquet"}  # a path on the server's disk: never read from an upload
    with pytest.raises(ScenarioError, match=r"mine.yaml: arrivals.trace: refused in an upload"):
        load_upload("mine.yaml", yaml.safe_dump(data).encode())
    del data["arrivals"]
    data["ai_services"]["ct_ai"] = {"roc": {"file": "/etc/passwd"}, "specificity": 0.9}  # the same for an ROC file
    with pytest.raises(ScenarioError, match=r"mine.yaml: ai_services.ct_ai.roc.file: refused in an upload"):
        load_upload("mine.yaml", yaml.safe_dump(data).encode())
    big = base_dict()
    big["horizon_days"], big["warmup_days"] = 3000, 0
    big["study_types"]["chest_ct"]["arrivals"] = {"rate_per_hour": 1000}
    with pytest.raises(ScenarioError, match="work items per replication"):  # the CLI's limits hold here too
        load_upload("big.yaml", yaml.safe_dump(big).encode())


def test_the_runner_caches_by_scenario_and_measures_this_machine() -> None:
    from dashboard import runner

    runner.clear()
    scenario = make(base_dict(), horizon_days=3)
    low, high, measured = runner.expected_seconds(scenario, 2)
    assert not measured and low < high
    shares: list[float] = []
    first = runner.simulate(scenario, 2, shares.append, workers=2)
    assert shares and shares[-1] == pytest.approx(1.0) and first.fifo is not None
    assert runner.simulate(scenario, 2) is first and runner.cached(scenario, 2) is first
    runner.clear()


def test_a_setting_running_for_one_session_is_joined_by_another_not_simulated_twice(monkeypatch) -> None:
    import threading

    from dashboard import runner

    runner.clear()
    calls: list[int] = []
    real = runner.run_variants
    started = threading.Event()

    def counted(*args, **kwargs):
        calls.append(1)
        started.set()
        time.sleep(0.5)  # still running when the second session asks
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_variants", counted)
    scenario = make(base_dict(), horizon_days=3)
    results, followed = [], []
    first = threading.Thread(target=lambda: results.append(runner.simulate(scenario, 2, workers=1)))
    first.start()
    started.wait(10)
    assert runner.busy() == 1
    results.append(runner.simulate(scenario, 2, followed.append, workers=1))  # the second session
    first.join(60)
    assert len(calls) == 1 and results[0] is results[1] and followed  # one run, its progress followed
    assert runner.busy() == 0 and "items_per_worker_second" in runner._SPEED
    runner.clear()


def test_the_cache_of_a_long_lived_server_stays_within_its_budget(monkeypatch) -> None:
    """Thirty settings tried: the cache keeps the newest that fit the budget, never all thirty."""
    from dashboard import runner

    runner.clear()
    monkeypatch.setattr(runner, "BUDGET_BYTES", 2_000_000)
    sizes = []
    for staff in range(30):
        result = runner.simulate(make(base_dict(), horizon_days=4, seed=staff), 2, workers=1)
        sizes.append(result.nbytes)
        assert runner.cached_bytes() <= max(runner.BUDGET_BYTES, result.nbytes)
    assert min(sizes) > 100_000 and len(runner._CACHE) < 30
    assert runner.cached(make(base_dict(), horizon_days=4, seed=29), 2) is not None  # the newest is kept
    assert runner.cached(make(base_dict(), horizon_days=4, seed=0), 2) is None  # the oldest went first
    runner.clear()


# The app -------------------------------------------------------------------------------------------------
@pytest.fixture
def app_test(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from dashboard import runner

    runner.clear()
    at = AppTest.from_file("../dashboard/app.py", default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    at.number_input(key="reps-1").set_value(2)
    at.number_input(key="horizon-1").set_value(14.0)
    at.run()
    return at


def run_bundled(at, name: str, days: float, replications: int = 2) -> None:
    """Open a bundled scenario on the page, shorten it, and run it."""
    at.selectbox(key="bundled").set_value(name).run()
    v = at.session_state["version"]
    at.number_input(key=f"reps-{v}").set_value(replications)
    at.number_input(key=f"horizon-{v}").set_value(days)
    at.run()
    at.button(key="run").click().run()


def card_text(at, title: str) -> str:
    """The card of a group (an HTML block that starts with its title)."""
    return next(m.value for m in at.markdown if f">{title}</div>" in m.value)


def night_wait(at) -> float:
    """Minutes, whatever unit the card chose."""
    card = next(m for m in at.metric if m.label.startswith("night wait"))
    value, unit = card.value.split()
    return float(value) * {"min": 1.0, "h": 60.0, "d": 1440.0}[unit]


def test_app_runs_twice_a_b_a_and_fewer_night_readers_mean_longer_night_waits(app_test) -> None:
    at = app_test
    at.button(key="run").click().run()
    assert not at.exception, at.exception
    assert "Studies with a finding" in card_text(at, "Studies with a finding")
    assert len(at.get("plotly_chart")) >= 2
    before = night_wait(at)
    at.button(key="run").click().run()  # the same setting again: from the cache, no crash
    assert not at.exception, at.exception
    rows = [dict(r) for r in roster_rows(parse_scenario(at.session_state["base"], "x"))]
    for row in rows:
        if row["shift"] == "night" and row["pool"] in ("general", "ct_mr"):
            row.update({d: max(row[d] - 1, 0) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    at.session_state["roster-rows-1"] = rows
    at.session_state["roster-epoch-1"] = 1
    at.run()
    at.button(key="run").click().run()  # B
    assert not at.exception, at.exception
    after = night_wait(at)
    assert after > 1.5 * before, (before, after)
    assert "against the previous run: +" in card_text(at, "Studies with a finding")
    at.session_state["roster-rows-1"] = roster_rows(parse_scenario(at.session_state["base"], "x"))
    at.session_state["roster-epoch-1"] = 2
    at.run()
    at.button(key="run").click().run()  # A again: from the cache
    assert not at.exception, at.exception
    assert night_wait(at) == pytest.approx(before)


def test_app_saves_compares_and_draws_a_staffing_curve(app_test) -> None:
    at = app_test
    at.number_input(key="horizon-1").set_value(7.0).run()
    at.button(key="run").click().run()
    assert not at.exception, at.exception
    at.text_input(key="save-name").set_value("as it is").run()
    at.button(key="save").click().run()
    from dashboard import runner

    token = at.query_params["workspace"][0] if isinstance(at.query_params["workspace"], list) else \
        at.query_params["workspace"]
    saved = runner.workspace(token)
    assert "as it is" in saved and saved["as it is"]["result"] is not None
    at.number_input(key="horizon-1").set_value(6.0).run()
    at.button(key="run").click().run()
    at.text_input(key="save-name").set_value("shorter").run()
    at.button(key="save").click().run()
    compared = next(m for m in at.multiselect if m.label == "saved runs")
    assert compared.value == ["as it is", "shorter"]  # every saved run by default, not only the first
    table = next(d for d in at.dataframe if "as it is" in d.value.columns)
    assert list(table.value.columns) == ["as it is", "shorter"]
    # A reload of the page's address (a new session with the same workspace) finds both saved; another
    # person's page (another workspace) finds none of them.
    from streamlit.testing.v1 import AppTest

    again = AppTest.from_file("../dashboard/app.py", default_timeout=180)
    again.query_params["workspace"] = token
    again.run()
    assert again.selectbox(key="saved-pick").options == ["-", "as it is", "shorter"]
    other = AppTest.from_file("../dashboard/app.py", default_timeout=180)
    other.run()
    assert not [s for s in other.selectbox if s.key == "saved-pick"]
    at.button(key="curve").click().run()
    assert not at.exception, at.exception
    slot, points = at.session_state["curve-result"]
    assert slot == "general / day" and {p["staff"] for p in points} == {1, 2, 3, 4, 5}
    finding = sorted((p["staff"], p["mean"]) for p in points if p["group"] == "All work")
    assert finding[0][1] <= finding[-1][1]  # more readers on the day shift: no less work within target


def test_several_policies_run_side_by_side_on_the_same_studies(app_test) -> None:
    """Policies chosen on the page run on the same studies (one scenario, one seed: common random numbers),
    each through the runner's cache, and show as columns; a setting changed afterwards marks them."""
    at = app_test
    at.number_input(key="horizon-1").set_value(7.0).run()
    at.button(key="run").click().run()
    pick = next(m for m in at.multiselect if m.label == "policies")
    assert "fifo" in pick.value and "rules" not in pick.options
    pick.set_value(["fifo", "ai_priority", "score"]).run()
    at.button(key="policies-run").click().run()
    assert not at.exception, at.exception
    table = next(d for d in at.dataframe if "score" in d.value.columns)
    assert list(table.value.columns) == ["fifo", "ai_priority", "score"]
    assert any(row.endswith("95% within") for row in table.value.index)
    _, _, results = at.session_state["policies-result"]
    arrivals = {name: sorted(r.run.studies.filter(pc.equal(r.run.studies["kind"], "primary"))["arrived_at"].to_pylist())
                for name, r in results.items()}
    assert arrivals["fifo"] == arrivals["ai_priority"] == arrivals["score"] and len(arrivals["fifo"]) > 1000
    from dashboard import runner

    assert runner.cached(results["score"].run.scenario, 2) is results["score"]  # the Run button's cache
    at.number_input(key="horizon-1").set_value(6.0).run()
    assert any("From an earlier setting" in c.value for c in at.caption)


def test_every_bundled_scenario_opens_as_the_cli_reads_it_and_one_that_extends_another_runs() -> None:
    """One loading path: a scenario that `extends:` another opens with what it extends, and what the page
    would run is the scenario `radsim run NAME` runs."""
    from streamlit.testing.v1 import AppTest

    from dashboard import runner
    from simulator.loading import resolved_data
    from simulator.prepare import prepare

    runner.clear()
    at = AppTest.from_file("../dashboard/app.py", default_timeout=180)
    at.run()
    names = at.selectbox(key="bundled").options
    assert "examples/network_questions/half_the_gpus" in names and "moscow_city_network" in names
    for name in names:
        at.selectbox(key="bundled").set_value(name).run()
        assert not at.exception and not at.error, (name, [e.value for e in at.error])
        assert any(b.key == "run" for b in at.button), name
        assert resolved_data(parse_scenario(at.session_state["base"], name)) == resolved_data(prepare(name)), name
    run_bundled(at, "examples/network_questions/half_the_gpus", days=2.0)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Studies with a finding" in card_text(at, "Studies with a finding")
    runner.clear()


def test_results_of_an_earlier_setting_are_marked_the_moment_a_control_differs(app_test) -> None:
    at = app_test
    at.button(key="run").click().run()
    assert not at.exception, at.exception
    stale = [w.value for w in at.warning if "Not run yet" in w.value]
    seed = at.session_state["base"]["seed"]
    assert not stale and any(f"seed {seed}; 12 days observed after a warm-up of 2 days" in c.value for c in at.caption)
    at.number_input(key="horizon-1").set_value(7.0).run()  # a control changed, nothing run yet
    stale = [w.value for w in at.warning if "Not run yet" in w.value]
    assert stale and "horizon_days: 14.0 -> 7.0" in stale[0], [w.value for w in at.warning]
    assert any(h.value.startswith("Results of an earlier setting") for h in at.subheader)
    at.button(key="run").click().run()
    assert not [w.value for w in at.warning if "Not run yet" in w.value]
    at.number_input(key="reps-1").set_value(3).run()
    assert any("replications: 2 -> 3" in w.value for w in at.warning)


def test_stations_without_a_queue_say_so_instead_of_none() -> None:
    """Uplinks and the ingest share their bandwidth: their wait is 'none: shared bandwidth', never None."""
    from streamlit.testing.v1 import AppTest

    from dashboard import runner

    runner.clear()
    at = AppTest.from_file("../dashboard/app.py", default_timeout=180)
    at.run()
    run_bundled(at, "examples/district_network_devices", days=2.0)
    at.session_state["view"] = "Where the time goes"
    at.run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "mean wait (min)" in d.value.columns)
    waits = dict(zip(table["station"], table["mean wait (min)"]))
    assert waits["ingest"] == "none: shared bandwidth" and all(w is not None and w == w for w in waits.values())
    assert float(waits[next(s for s in waits if s.startswith("ai:"))]) >= 0.0
    runner.clear()


def test_an_overload_is_one_banner_per_pool_saying_how_many_readers_would_keep_up(app_test) -> None:
    import re

    at = app_test
    at.slider(key="growth-1").set_value(100).run()  # twice the demand
    at.button(key="run").click().run()
    assert not at.exception, at.exception
    pools = {o.pool for o in at.session_state["result"].run.overloaded}
    banners = [e.value for e in at.error if e.value.startswith("**Overloaded")]
    assert len(pools) >= 2 and len(banners) == len(pools)  # one per pool, not one per pool and shift
    for pool in pools:
        (banner,) = [b for b in banners if b.startswith(f"**Overloaded: pool {pool}**")]
        assert re.search(r"To keep up with its offered load: [\w-]+ \d+ -> about \d+", banner), banner


def test_a_run_of_many_minutes_is_not_where_a_page_starts_and_asks_before_it_starts() -> None:
    """moscow_city's file says a year (minutes of simulation): the page starts at four weeks and says so;
    set back to the year, the run waits for 'Run it anyway'."""
    from streamlit.testing.v1 import AppTest

    from dashboard import runner

    runner.clear()
    at = AppTest.from_file("../dashboard/app.py", default_timeout=180)
    at.run()
    at.selectbox(key="bundled").set_value("moscow_city").run()
    v = at.session_state["version"]
    assert at.number_input(key=f"horizon-{v}").value == 28.0
    assert any("Starts at 28 days for a first look" in c.value for c in at.sidebar.caption)
    assert not at.button(key="run").disabled and not [w for w in at.warning if "expected to take" in w.value]
    at.number_input(key=f"horizon-{v}").set_value(365.0).run()
    assert at.button(key="run").disabled and any("expected to take about" in w.value for w in at.warning)
    at.checkbox(key="long-ok").check().run()
    assert not at.button(key="run").disabled
    at.selectbox(key="bundled").set_value("examples/mmc_ai_triage").run()  # 60 quick days start as they are
    assert at.number_input(key=f"horizon-{at.session_state['version']}").value == 60.0


def test_the_smallest_rosters_targets_are_said_in_words_not_metric_syntax() -> None:
    from dashboard.panels import in_words
    from simulator.staffing import parse_target

    assert in_words(parse_target("sla_met_fraction[ai_positive=true] >= 0.95")) == \
        "AI-flagged studies: share within target ≥ 95%"
    assert in_words(parse_target("p95_wait_minutes[referral=stat] <= 15")) == "STAT orders: 95% wait (min) ≤ 15"
    assert in_words(parse_target("sla_met_fraction[kind=second_opinion] >= 0.95")) == \
        "second opinion: share within target ≥ 95%"
    assert in_words(parse_target("reported_fraction_before_last_day >= 0.99")) == "all work: share reported ≥ 99%"


def test_a_cost_per_reader_hour_set_on_the_page_prices_the_roster(app_test) -> None:
    at = app_test
    assert not any(c.value.startswith("1,992 reader-hours a week, cost") for c in at.caption)
    pools = list(at.session_state["base"]["pools"])
    for pool in pools:
        at.number_input(key=f"cost-1-{pool}").set_value(40.0)
    at.run()
    hours = next(c.value for c in at.caption if "reader-hours a week" in c.value)
    total = float(hours.split()[0].replace(",", ""))
    assert hours.endswith(f"cost {40 * total:,.0f} a week"), hours
    assert any(f"pools.{pools[0]}.cost_per_hour: (not set) -> 40.0" in c.value for c in at.caption)


def test_a_workspace_keeps_its_last_saved_scenarios_and_says_which_made_room() -> None:
    from dashboard import runner

    runner.clear()
    gone = [runner.save("abc", f"s{i}", {"data": {}, "result": None}) for i in range(runner.SAVED_PER_WORKSPACE + 2)]
    assert gone[:runner.SAVED_PER_WORKSPACE] == [None] * runner.SAVED_PER_WORKSPACE and gone[-2:] == ["s0", "s1"]
    assert list(runner.workspace("abc")) == [f"s{i}" for i in range(2, runner.SAVED_PER_WORKSPACE + 2)]
    assert list(runner.workspace("xyz")) == []  # another workspace's are not these
    runner.clear()


def test_saved_results_count_against_the_servers_memory_budget(monkeypatch) -> None:
    """Beyond the budget, the oldest saved scenarios keep their settings (to run again) and let their tables go."""
    from types import SimpleNamespace

    from dashboard import runner

    runner.clear()
    monkeypatch.setattr(runner, "BUDGET_BYTES", 250)
    for i, token in enumerate(["a", "a", "b", "b"]):
        runner.save(token, f"s{i}", {"data": {"i": i}, "result": SimpleNamespace(nbytes=100)})
    kept = {name: entry["result"] is not None for token in ("a", "b") for name, entry in runner.workspace(token).items()}
    assert kept == {"s0": False, "s1": False, "s2": True, "s3": True}
    assert runner.workspace("a")["s0"]["data"] == {"i": 0}  # the settings stay
    runner.clear()


def test_shifts_designed_on_the_page_are_drawn_against_demand_and_become_the_roster(app_test) -> None:
    """Design the shifts (the CLI's `design`) on a small desk: the pattern is drawn hour by hour against the
    offered load beside the roster it would replace, and "use this roster" makes the page's scenario one
    whose readers on duty are, hour by hour, the ones drawn."""
    from simulator.staffing import on_duty_by_hour

    at = app_test
    run_bundled(at, "examples/cxr_day_night", 7.0)
    v = at.session_state["version"]
    at.multiselect(key=f"design-lengths-{v}").set_value([6, 8]).run()
    at.button(key="design").click().run()
    assert not at.exception, at.exception
    found = at.session_state["designed-result"]
    assert "error" not in found and found["roster"] is not None, found
    chart = next(c for c in at.get("plotly_chart") if "offered load" in c.proto.spec)
    assert "the roster now" in chart.proto.spec
    table = next(d for d in at.dataframe if "SIPP (theory)" in d.value.columns)
    assert list(table.value[""]) == ["reader-hours a week", "cost a week", "no pool overloaded", "meets every target"]
    assert {int(h) for h in next(d for d in at.dataframe if "hours" in d.value.columns).value["hours"]} <= {6, 8}
    before = on_duty_by_hour(parse_scenario(at.session_state["base"], "x"))
    assert found["now"] == before
    assert not any("From an earlier setting" in c.value for c in at.caption)
    at.number_input(key=f"horizon-{v}").set_value(6.0).run()  # a setting changed since: the design is marked
    assert any("From an earlier setting: press Design" in c.value for c in at.caption)
    at.button(key="use-design").click().run()
    assert not at.exception, at.exception
    assert at.session_state["version"] == v + 1 and at.session_state["source"][0] == "designed"
    after = on_duty_by_hour(parse_scenario(at.session_state["base"], "x"))
    assert after == {pool: [float(n) for n in hours] for pool, hours in found["coverage"].items()} != before
    at.button(key="run").click().run()  # the designed roster runs from the page
    assert not at.exception, at.exception
