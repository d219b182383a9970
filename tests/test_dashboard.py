"""The dashboard: its pure parts (figures, KPIs, roster, uploads) and the app under Streamlit's AppTest."""
from __future__ import annotations

import numpy as np
import pytest

from dashboard.figures import comparison_chart, tat_ecdf, utilisation_bars, wait_heatmap, worklist_over_week
from dashboard.kpis import kpis
from dashboard.loading import load_upload
from dashboard.roster import RosterError, apply_roster, roster_rows
from simulator import ScenarioError, load_scenario, run_scenario
from simulator.comparison import compare_runs
from simulator.loading import read_yaml, resolve_path
from simulator.prepare import parse_scenario

from .conftest import base_dict, make


@pytest.fixture(scope="module")
def day_night():
    scenario = load_scenario("examples/cxr_day_night", ["horizon_days=14"])
    return scenario, run_scenario(scenario, 2, workers=1)


def test_turnaround_ecdf_rises_to_one_per_group(day_night) -> None:
    _, run = day_night
    fig = tat_ecdf(run.studies, "diseased")
    assert {trace.name.split()[0] for trace in fig.data} == {"false", "true"}
    for trace in fig.data:
        assert np.all(np.diff(trace.x) >= 0) and trace.y[0] == 0.0 and trace.y[-1] == 1.0


def test_worklist_over_the_week_marks_every_shift_change(day_night) -> None:
    scenario, run = day_night
    fig = worklist_over_week(run.studies, scenario)
    assert len(fig.layout.shapes) == 14  # two changes a day (08:00, 20:00), seven days
    waiting = np.array(fig.data[0].y, dtype=float)
    assert np.nanmax(waiting) > 5 and np.nanmin(waiting) >= 0
    # The queue builds by day and drains at night: 19:00 fuller than 07:00 on every weekday.
    hours = np.array(fig.data[0].x)
    for day in range(7):
        evening, morning = waiting[np.argmin(abs(hours - (24 * day + 19)))], waiting[np.argmin(abs(hours - (24 * day + 7)))]
        assert evening > morning


def test_wait_heatmap_and_utilisation_are_in_range(day_night) -> None:
    scenario, run = day_night
    grid = np.array(wait_heatmap(run.studies, scenario).data[0].z, dtype=float)
    assert grid.shape == (7, 24) and np.nanmin(grid) >= -1e-9
    bars = utilisation_bars(run.duties, scenario).data
    assert all(0.0 <= y <= 1.0 for trace in bars for y in trace.y)


def test_comparison_chart_colours_verdicts(day_night) -> None:
    scenario, run = day_night
    fifo = run_scenario(scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"triage": "fifo"})}),
                        2, workers=1)
    differences = compare_runs(scenario, fifo, run, ("mean_tat_minutes",))
    fig = comparison_chart(differences, "mean_tat_minutes", "fifo", "ai_priority")
    names = list(fig.data[0].y)
    diseased = names.index("diseased=true")
    assert fig.data[0].x[diseased] < 0  # AI priority shortens the diseased studies' turnaround


def test_kpis_of_a_run(day_night) -> None:
    _, run = day_night
    cards = kpis(run)
    assert set(cards.within_target) == {"ai_positive", "routine"}
    assert cards.p95_tat_diseased > cards.p95_tat_ai_positive > 0
    assert cards.night_mean_wait > 0 and cards.backlog_at_shift_change > 0 and 0 < cards.utilisation <= 1


def test_roster_round_trips_and_edits() -> None:
    scenario = load_scenario("moscow_reference_center")
    data = read_yaml(resolve_path("moscow_reference_center"))
    rows = roster_rows(scenario)
    assert parse_scenario(apply_roster(data, scenario, rows)).pools == scenario.pools or \
        roster_rows(parse_scenario(apply_roster(data, scenario, rows))) == rows
    night = next(r for r in rows if r["pool"] == "general" and r["shift"].startswith("20:00"))
    night.update(sat=0, sun=0)
    edited = parse_scenario(apply_roster(data, scenario, rows))
    assert roster_rows(edited) == rows
    night["mon"] = -1
    with pytest.raises(RosterError, match="whole number"):
        apply_roster(data, scenario, rows)


def test_uploads_are_checked_like_files_and_run_no_code() -> None:
    with pytest.raises(ScenarioError, match=r"mine.yaml: horizon_days"):
        load_upload("mine.yaml", b"name: x\nstart: 2026-02-02T00:00\nhorizon_days: -1\n")
    with pytest.raises(ScenarioError, match="not a UTF-8 text file"):
        load_upload("mine.yaml", b"\xff\xfe\x00")
    data = base_dict()
    data["policy"] = {"triage": "tests.policies_for_tests:ForgetsStat"}
    import yaml

    text = yaml.safe_dump(data).encode()
    with pytest.raises(ScenarioError, match="refused"):
        load_upload("mine.yaml", text, allowed=[])
    _, scenario = load_upload("mine.yaml", text, allowed=["tests.policies_for_tests:ForgetsStat"])
    assert scenario.policy.triage.endswith("ForgetsStat")
    data["policy"] = {"triage": "no_such_module:Policy"}
    with pytest.raises(ScenarioError, match="cannot import"):
        load_upload("mine.yaml", yaml.safe_dump(data).encode(), allowed=["no_such_module:Policy"])
    data["policy"] = {"triage": "fifo"}
    data["arrivals"] = {"trace": "/etc/some.parquet"}  # a path on the server's disk: never read from an upload
    with pytest.raises(ScenarioError, match=r"mine.yaml: arrivals.trace: refused in an upload"):
        load_upload("mine.yaml", yaml.safe_dump(data).encode())
    assert make(base_dict())  # the fixture helper still works beside these imports


# The app -------------------------------------------------------------------------------------------------
def app_test():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../dashboard/app.py", default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    at.number_input(key="reps").set_value(2)
    at.slider(key="horizon").set_value(14)
    return at


def night_wait(at) -> float:
    card = next(m for m in at.metric if m.label.startswith("mean wait at night"))
    return float(card.value.split()[0])


def test_app_runs_and_fewer_night_readers_mean_longer_night_waits() -> None:
    at = app_test()
    at.button(key="run").click()
    at.run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert "p95 TAT, diseased" in labels and any("within target" in label for label in labels)
    assert len(at.get("plotly_chart")) >= 2
    before = night_wait(at)
    key = "roster-rows:bundled:moscow_reference_center"
    rows = [dict(r) for r in at.session_state[key]]
    for row in rows:
        if row["shift"].startswith("20:00") and row["pool"] in ("general", "ct_mr"):
            row.update({d: max(row[d] - 1, 0) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    at.session_state[key] = rows
    at.run()
    at.button(key="run").click()
    at.run()
    assert not at.exception, at.exception
    after = night_wait(at)
    assert after > 1.5 * before, (before, after)
    assert any(m.delta and m.delta.startswith("+") for m in at.metric if m.label.startswith("mean wait at night"))


def test_report_writes_one_html_file_of_a_run(tmp_path) -> None:
    from typer.testing import CliRunner

    from simulator.cli import app

    runner = CliRunner()
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "examples/cxr_day_night", "-r", "2", "--workers", "1", "--set",
                                 "horizon_days=7", "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text()
    assert page.count("plotly-graph-div") == 5 and "mean wait at night" in page and "cxr-day-night" in page
    missing = runner.invoke(app, ["report", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "not a run directory" in missing.output
