"""Worklist event logs (issue 19's inputs): a log made from a run, spoiled on purpose, is cleaned by the
documented rules, and every spoiled row is counted back exactly; nothing is lost without being counted."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from simulator import ScenarioError, load_scenario, run_scenario
from simulator.cli import app
from simulator.oplog import DROPPING, Degradation, clean_log, degrade, log_of_run, read_log


@pytest.fixture(scope="module")
def log() -> pa.Table:
    scenario = load_scenario("moscow_reference_center", ["horizon_days=3", "warmup_days=0.5"])
    return log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies)


def test_a_run_written_as_a_log_has_no_messy_rows(log: pa.Table) -> None:
    found = clean_log(log)
    assert found.table.num_rows == log.num_rows
    assert {k: v for k, v in found.counts.items() if k != "unreported"} == dict.fromkeys(
        ("spelling", "sentinel_time", "no_acquired_at", "no_accession", "unknown_kind", "duplicate", "clock_skew",
         "report_before_exam", "report_too_late", "before_acquired", "read_after_report", "unknown_referral"), 0)
    assert found.counts["unreported"] == log.column("reported_at").null_count
    assert set(found.table.column("kind").to_pylist()) >= {"primary", "second_opinion", "consultation"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_spoiled_row_is_counted_back_exactly(log: pa.Table, seed: int) -> None:
    spoil = Degradation(no_acquired_at=7, unknown_kind=5, duplicate=11, clock_skew=13, before_acquired=17,
                        read_after_report=19, report_before_exam=9)
    found = clean_log(degrade(log, spoil, seed))
    for rule in ("no_acquired_at", "unknown_kind", "duplicate", "clock_skew", "before_acquired", "read_after_report",
                 "report_before_exam"):
        assert found.counts[rule] == getattr(spoil, rule), rule
    assert found.table.num_rows == log.num_rows - 7 - 5 - 9
    # A report signed before its exam is dropped, never a study left open until the export.
    assert found.counts["unreported"] <= clean_log(log).counts["unreported"]  # no study made open by the spoiling


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 20), st.integers(0, 20), st.integers(0, 30), st.integers(0, 20), st.integers(0, 20),
       st.integers(0, 20), st.integers(0, 2**31))
def test_no_row_is_lost_without_being_counted(log: pa.Table, missing: int, unknown: int, copies: int, skew: int,
                                              early: int, late: int, seed: int) -> None:
    spoiled = degrade(log, Degradation(missing, unknown, copies, skew, early, late), seed)
    found = clean_log(spoiled)
    assert found.rows == spoiled.num_rows == found.table.num_rows + sum(found.counts[r] for r in DROPPING)
    # What is kept obeys the rules: no time before the exam's end, no read opened after its report.
    table = found.table
    acquired = pc.cast(table.column("acquired_at"), pa.int64()).to_numpy(zero_copy_only=False)
    assert table.column("acquired_at").null_count == 0
    for name in ("received_at", "ai_at", "read_start", "reported_at"):
        times = pc.cast(table.column(name), pa.int64()).to_numpy(zero_copy_only=False)
        valid = table.column(name).is_valid().to_numpy(zero_copy_only=False)
        assert (times[valid] >= acquired[valid]).all(), name
    opened = table.column("read_start").is_valid().to_numpy(zero_copy_only=False)
    signed = table.column("reported_at").is_valid().to_numpy(zero_copy_only=False)
    both = opened & signed
    start = pc.cast(table.column("read_start"), pa.int64()).to_numpy(zero_copy_only=False)
    end = pc.cast(table.column("reported_at"), pa.int64()).to_numpy(zero_copy_only=False)
    assert (start[both] <= end[both]).all()


def test_exports_with_time_zones_read_as_local_wall_time(log: pa.Table, tmp_path: Path) -> None:
    """A Parquet export in a named zone and a CSV export with UTC offsets read as the same local wall times."""
    zoned = log
    for name in ("acquired_at", "received_at", "ai_at", "read_start", "reported_at"):
        instants = pc.cast(log.column(name), pa.int64()).to_numpy(zero_copy_only=False) - 3 * 3600 * 10**6
        column = pa.array(instants, pa.int64(), mask=log.column(name).is_null().to_numpy(zero_copy_only=False))
        zoned = zoned.set_column(zoned.column_names.index(name), name, column.cast(pa.timestamp("us", tz="Europe/Moscow")))
    pq.write_table(zoned, tmp_path / "export.parquet")
    expected = clean_log(log).table
    assert read_log(tmp_path / "export.parquet").table.equals(expected)
    plain = tmp_path / "plain.csv"
    csv.write_csv(log, plain)
    assert read_log(plain).table.equals(expected)
    offset = tmp_path / "offset.csv"  # every printed time with "+03:00"
    offset.write_text(re.sub(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?)", r"\1+03:00", plain.read_text()))
    assert "+03:00" in offset.read_text()
    assert read_log(offset).table.equals(expected)


def test_an_unknown_order_priority_is_made_unknown_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("accession,modality,acquired_at,referral\nA1,CT,2026-02-02T10:00:00,whenever\n"
                    "A2,CT,2026-02-02T11:00:00,stat\n")
    found = read_log(path)
    assert found.counts["unknown_referral"] == 1 and found.table.column("referral").to_pylist() == [None, "stat"]


def test_logs_with_nothing_to_work_on_are_refused_not_crashed_on(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("accession,modality,acquired_at\n")
    seconds = tmp_path / "seconds.csv"
    seconds.write_text("accession,modality,acquired_at,kind\nA1,CT,2026-02-02T10:00:00,second_opinion\n")
    for path in (empty, seconds):
        for command in (["fit", str(path), "--out", str(tmp_path / "f.yaml")], ["backtest", str(path), "--holdout", "7"],
                        ["replay", str(path), "--policy", "ai_priority", "-r", "2", "-w", "1"]):
            result = CliRunner().invoke(app, command)
            assert result.exit_code == 2 and "internal error" not in result.output, (command, result.output)


def test_bad_logs_are_refused_naming_the_file_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("accession,acquired_at\nA1,2026-02-02T10:00:00\n")
    with pytest.raises(ScenarioError, match=r"bad.csv: modality: missing column"):
        read_log(bad)
    bad.write_text("accession,modality,acquired_at\nA1,CT,yesterday\n")
    with pytest.raises(ScenarioError, match="bad.csv: acquired_at: must be a time: ISO 8601.*not 'yesterday'"):
        read_log(bad)
    for column, value, kind in (("finding", "maybe", r"a yes/no flag \(Y/N"), ("ai_score", "high", "a number")):
        bad.write_text(f"accession,modality,acquired_at,{column}\nA1,CT,2026-02-02T10:00:00,{value}\n")
        with pytest.raises(ScenarioError, match=f"bad.csv: {column}: must be {kind}.*, not '{value}'"):
            read_log(bad)
    result = CliRunner().invoke(app, ["log", str(tmp_path / "none.parquet")])
    assert result.exit_code == 2 and "no such log file" in result.output


def test_radsim_log_prints_each_rule_with_its_count(log: pa.Table, tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pq.write_table(degrade(log, Degradation(duplicate=4, clock_skew=2), 5), path)
    result = CliRunner().invoke(app, ["log", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{log.num_rows + 4:,} rows read, {log.num_rows:,} kept" in result.output
    rows = {line.split()[0]: line.split()[1] for line in result.output.splitlines()
            if line.strip() and line.split()[0] in ("duplicate", "clock_skew", "before_acquired")}
    assert rows == {"duplicate": "4", "clock_skew": "2", "before_acquired": "0"}


def _segment(name: str, fields: dict[int, str]) -> str:
    last = max(fields)
    return "|".join([name, *(fields.get(i, "") for i in range(1, last + 1))])


def _message(kind: str, control: str, site: str, segments: list[str]) -> str:
    msh = f"MSH|^~\\&|RIS|{site}|PACS|CENTRE|20260202120000||{kind}|{control}|P|2.5"
    return "\r".join([msh, "PID|||PX" + control, *segments])


def test_hl7_orders_and_results_read_into_the_log(tmp_path: Path) -> None:
    """ORM^O01 orders and ORU^R01 results as a RIS exports them: one row per accession, the order's exam and
    priority, the first final result's signing and reader; other message types and broken messages counted."""
    orders = [("ACC1", "CTHEAD^CT head^L", "CT", "S", "20260202100000", "20260202101000"),
              ("ACC2", "CXR^Chest X-ray^L", "DX", "R", "20260202103000", ""),  # no exam end: OBR-7 stands
              ("ACC3", "MRBRAIN^MR brain^L", "MR", "A", "20260202110000", "20260202113000")]
    messages = [_message("ORM^O01", f"O{i}", "polyclinic_north", [
        _segment("ORC", {1: "NW", 2: f"ORD{i}", 3: accession}),
        _segment("OBR", {1: "1", 2: f"ORD{i}", 3: accession, 4: service, 7: start, 8: end, 24: modality,
                         27: f"^^^^^{priority}"})]) for i, (accession, service, modality, priority, start, end)
                in enumerate(orders)]
    results = [("ACC1", "P", "20260202102000", "R1^House"),  # preliminary: not the signing
               ("ACC1", "F", "20260202103500", "R7^Ivanova"),
               ("ACC1", "C", "20260202120000", "R7^Ivanova"),  # a later correction: the first final stands
               ("ACC3", "F", "20260202121500", "R2^Petrov"),
               ("ACC9", "F", "20260202130000", "R2^Petrov")]  # a result whose order is not in the export
    messages += [_message("ORU^R01", f"R{i}", "centre", [
        _segment("OBR", {1: "1", 3: accession, 4: "X^x", 22: signed, 25: status, 32: reader})])
        for i, (accession, status, signed, reader) in enumerate(results)]
    messages += [_message("ADT^A08", "A1", "centre", ["PV1|1|O"]), "MSH|^~\\&|RIS|broken"]
    path = tmp_path / "ris.hl7"
    path.write_text("\r\n".join(messages) + "\r\n")
    found = read_log(path)
    table = {row["accession"]: row for row in found.table.to_pylist()}
    assert found.counts["hl7_messages"] == 10 and found.counts["hl7_orders"] == 3
    assert found.counts["hl7_results"] == 5 and found.counts["hl7_other"] == 1 and found.counts["hl7_unreadable"] == 1
    assert found.counts["no_acquired_at"] == 1 and "ACC9" not in table  # counted by the rule, not lost
    one = table["ACC1"]
    assert (one["modality"], one["description"], one["referral"], one["site"]) == ("CT", "CT head", "stat",
                                                                                    "polyclinic_north")
    assert one["acquired_at"].isoformat() == "2026-02-02T10:10:00"
    assert one["reported_at"].isoformat() == "2026-02-02T10:35:00" and one["reader"] == "R7"
    assert table["ACC2"]["acquired_at"].isoformat() == "2026-02-02T10:30:00" and table["ACC2"]["reported_at"] is None
    assert table["ACC3"]["referral"] == "urgent" and table["ACC3"]["reader"] == "R2"
    assert found.counts["unreported"] == 1
    result = CliRunner().invoke(app, ["log", str(path)])
    assert result.exit_code == 0 and "3 kept" in result.output


HIDDEN = {  # a scenario whose parameters the fit must recover: the ground truth, never read by the fit
    "name": "hidden", "start": "2026-02-02T00:00", "horizon_days": 28, "warmup_days": 0,
    "study_types": {"head_ct": {
        "modality": "CT", "description": "CT head",
        "arrivals": {"per_day": 180, "hourly": [1] * 8 + [4] * 10 + [2] * 6, "weekday": [1.2, 1.2, 1.1, 1.1, 1.0, 0.7, 0.7]},
        "referral": {"stat": 0.1}, "read_minutes": {"dist": "lognormal", "mean": 12, "cv": 0.8}}},
    "pools": {"readers": {"reads": ["*"], "shifts": [{"start": "08:00", "end": "20:00", "staff": 3},
                                                     {"start": "20:00", "end": "08:00+1", "staff": 1}]}},
}


HIDDEN_ALL = {  # HIDDEN with every other fitted parameter hidden too: priorities, AI, second opinions, ingest
    **HIDDEN,
    "study_types": {"head_ct": {
        **HIDDEN["study_types"]["head_ct"], "referral": {"stat": 0.1, "urgent": 0.2}, "prevalence": 0.15,
        "ai": "ich_ai"}},
    "ai_services": {"ich_ai": {"sensitivity": 0.85, "specificity": 0.9, "failure_rate": 0.03,
                               "latency_minutes": {"dist": "exponential", "mean": 4}}},
    "second_opinions": {"fraction": 0.05, "read_minutes": {"dist": "exponential", "mean": 20}},
    "ingest": {"delay_minutes": {"dist": "lognormal", "mean": 3, "cv": 0.5}},
}


def test_fit_recovers_every_hidden_parameter_within_its_intervals() -> None:
    """Coverage, not one seed: over 30 seeded logs of the same hidden scenario, each fitted value's 95%
    interval must hold the hidden value in at least 27 of 30 cases (90%, the bar fixed before looking, as
    the issue asks), and the reading-time family must be the hidden one in most. The roster has its own
    test (test_the_fitted_roster_is_the_hidden_one)."""
    from simulator import parse_scenario
    from simulator.oplog.fitting import fit

    hidden = {"per_day": 180, "reading time mean": 12, "stat share": 0.1, "urgent share": 0.2,
              "second-opinion share": 0.05, "ingest delay mean": 3, "AI prevalence": 0.15, "AI sensitivity": 0.85,
              "AI specificity": 0.9, "AI never scored": 0.03, "AI latency mean": 4}
    covered = dict.fromkeys(hidden, 0)
    families = []
    for seed in range(30):
        scenario = parse_scenario({**HIDDEN_ALL, "seed": seed}, "hidden.yaml")
        fitted = fit(clean_log(log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies)).table)
        head = fitted.types["head_ct"]
        assert fitted.second_opinions is not None and head.ai is not None and head.ai.sensitivity is not None
        intervals = {"per_day": head.arrivals, "reading time mean": head.reads, "stat share": head.referral["stat"],
                     "urgent share": head.referral["urgent"], "second-opinion share": fitted.second_opinions[0],
                     "ingest delay mean": fitted.ingest, "AI prevalence": head.ai.prevalence,
                     "AI sensitivity": head.ai.sensitivity, "AI specificity": head.ai.specificity,
                     "AI never scored": head.ai.failure, "AI latency mean": head.ai.latency}
        for name, value in hidden.items():
            low, high = intervals[name].interval
            covered[name] += low <= value <= high
        families.append(head.reads.value["dist"])
    assert all(n >= 27 for n in covered.values()), covered
    assert families.count("lognormal") >= 20, families


def test_radsim_fit_writes_a_scenario_that_loads_and_runs(log: pa.Table, tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pq.write_table(degrade(log, Degradation(duplicate=3, no_acquired_at=2), 1), path)
    out = tmp_path / "fitted.yaml"
    page = tmp_path / "fit.html"
    result = CliRunner().invoke(app, ["fit", str(path), "--out", str(out), "--report", str(page)])
    assert result.exit_code == 0, result.output
    assert "5 dropped by the messy-row rules" in result.output
    document = page.read_text()
    for title in ("Arrivals per hour of the week", "Reading times", "the fitted roster against the log's work"):
        assert title in document
    assert "mammography" in document and "chest_ct" in document  # a panel per type and per pool
    text = out.read_text()
    assert text.startswith("# Fitted by radsim fit") and "# arrivals:" in text and "95% CI" in text
    scenario = load_scenario(out)
    assert set(scenario.study_types) >= {"chest_ct", "mri"}
    # Pools by what readers read: mammography apart, double reading found (a second read is not an arrival).
    assert scenario.pools["mammography"].reads == ["mammography"]
    assert scenario.study_types["mammography"].double_reading is not None
    assert CliRunner().invoke(app, ["run", str(out), "--out", str(tmp_path / "run")]).exit_code == 0
    # Run again: its own earlier file is replaced; a file it did not write is refused.
    assert CliRunner().invoke(app, ["fit", str(path), "--out", str(out)]).exit_code == 0
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\n")
    refused = CliRunner().invoke(app, ["fit", str(path), "--out", str(mine)])
    assert refused.exit_code == 2 and mine.read_text() == "name: mine\n"
    refused = CliRunner().invoke(app, ["fit", str(path), "--out", str(tmp_path / "p.yaml"), "--observed-policy",
                                       "nope:Nope"])
    assert refused.exit_code == 2 and not (tmp_path / "p.yaml").exists()
    notes = tmp_path / "notes.html"  # a page of the user's: never written over
    notes.write_text("<html>mine</html>")
    refused = CliRunner().invoke(app, ["fit", str(path), "--out", str(out), "--report", str(notes)])
    assert refused.exit_code == 2 and notes.read_text() == "<html>mine</html>"


def _hidden_log(seed: int, day_staff: int = 3) -> pa.Table:
    from simulator import parse_scenario

    data = {**HIDDEN, "horizon_days": 56, "seed": seed}
    data["pools"] = {"readers": {"reads": ["*"], "shifts": [{"start": "08:00", "end": "20:00", "staff": day_staff},
                                                           {"start": "20:00", "end": "08:00+1", "staff": 1}]}}
    scenario = parse_scenario(data, "hidden.yaml")
    return clean_log(log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies)).table


def test_a_backtest_on_the_same_parameters_passes_and_a_changed_roster_fails() -> None:
    """Ten logs of the hidden scenario, two weeks held out: the fitted model's 99% prediction intervals hold
    what happened in at least 7 of 10 (measured 10 with the dated roster, 9 with the fitted one; the
    intervals do not carry the fit's own uncertainty). A log whose last two weeks had one day reader fewer
    fails against the roster fitted before them, every time."""
    from simulator.oplog.backtest import backtest

    passed = sum(backtest(_hidden_log(seed), 14, 10, workers=2).passed for seed in range(10))
    assert passed >= 7, passed
    for seed in range(3):
        before, after = _hidden_log(seed), _hidden_log(seed, day_staff=2)
        cut = pa.scalar(np.datetime64("2026-03-16T00:00", "us"), pa.timestamp("us"))
        spliced = pa.concat_tables([before.filter(pc.less(before.column("acquired_at"), cut)),
                                    after.filter(pc.greater_equal(after.column("acquired_at"), cut))])
        assert not backtest(spliced, 14, 10, roster="fitted", workers=2).passed


def test_radsim_backtest_prints_each_check_and_exits_3_when_one_is_outside(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    before, after = _hidden_log(5), _hidden_log(5, day_staff=2)
    cut = pa.scalar(np.datetime64("2026-03-16T00:00", "us"), pa.timestamp("us"))
    pq.write_table(pa.concat_tables([before.filter(pc.less(before.column("acquired_at"), cut)),
                                     after.filter(pc.greater_equal(after.column("acquired_at"), cut))]), path)
    page = tmp_path / "backtest.html"
    result = CliRunner().invoke(app, ["backtest", str(path), "--holdout", "14", "--roster", "fitted", "-w", "2",
                                      "--report", str(page)])
    assert result.exit_code == 3 and "OUTSIDE" in result.output and "mean all" in result.output, result.output
    document = page.read_text()  # written even when the back-test fails: that is when it is read
    assert "checks OUTSIDE" in document and "Backlog by hour" in document and "Kolmogorov-Smirnov" in document
    assert CliRunner().invoke(app, ["backtest", str(path), "--holdout", "14", "--roster", "nope"]).exit_code == 2
    refused = CliRunner().invoke(app, ["backtest", str(path), "--holdout", "14", "--observed-policy", "nope:Nope"])
    assert refused.exit_code == 2 and "nope" in refused.output and "internal error" not in refused.output


BACKLOG = {  # Annarumma's setting in small: daily capacity below demand for weeks (load 1.25), FIFO as run
    "name": "backlog", "start": "2026-02-02T00:00", "horizon_days": 28, "warmup_days": 0, "seed": 3,
    "study_types": {"chest_xray": {
        "modality": "DX", "description": "Chest X-ray", "arrivals": {"rate_per_hour": 6.25}, "prevalence": 0.1,
        "referral": {"urgent": 0.2}, "read_minutes": {"dist": "exponential", "mean": 12}, "ai": "cxr_ai"}},
    "ai_services": {"cxr_ai": {"sensitivity": 0.9, "specificity": 0.9}},
    "pools": {"readers": {"reads": ["*"], "shifts": [{"start": "00:00", "end": "24:00", "staff": 1}]}},
    "policy": {"triage": "fifo"},
}


def test_a_replay_reproduces_history_as_run_and_shows_the_policy_effect(tmp_path: Path) -> None:
    """The log's own studies replayed under the policy it ran under reproduce what was observed (model error
    under 1% in every group); under AI priority the flagged studies jump a backlog of days."""
    from simulator import parse_scenario
    from simulator.oplog.replay import replay

    scenario = parse_scenario(BACKLOG, "backlog.yaml")
    log = clean_log(log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies)).table
    groups = {g.group: g for g in replay(log, "ai_priority", tmp_path, replications=3, workers=1)}
    assert set(groups) == {"all", "urgent", "routine", "AI-flagged"}
    for g in groups.values():
        assert abs(g.as_run / g.observed - 1) < 0.01, g
    flagged = groups["AI-flagged"]
    assert flagged.observed > 3 * 1440  # days of backlog under FIFO
    assert flagged.policy < 0.02 * flagged.as_run and flagged.effect_high < 0
    assert groups["routine"].effect_low < 0 < groups["urgent"].effect_high  # the rest barely moves


def test_radsim_replay_prints_each_group(tmp_path: Path) -> None:
    from simulator import parse_scenario

    scenario = parse_scenario(BACKLOG, "backlog.yaml")
    path = tmp_path / "log.parquet"
    pq.write_table(log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies), path)
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["replay", str(path), "--policy", "ai_priority", "-w", "1"])
    assert result.exit_code == 0, result.output
    assert "AI-flagged" in result.output and "model error" in result.output
    assert "…" not in result.output and max(map(len, result.output.splitlines())) <= 80  # every CI whole
    printed = CliRunner().invoke(app, ["replay", str(path), "--policy", "ai_priority", "-w", "1", "--json"])
    assert printed.exit_code == 0, printed.output
    groups = {g["group"]: g for g in json.loads(printed.output)["groups"]}
    for g in groups.values():
        low, high = (f"{v:+,.0f}" if abs(v) >= 100 else f"{v:+.1f}" for v in (g["effect_low"], g["effect_high"]))
        assert f"({low}..{high})" in result.output, (low, high)
    assert CliRunner().invoke(app, ["replay", str(path), "--policy", "nope:Nope"]).exit_code == 2


def test_the_fitted_roster_is_the_hidden_one() -> None:
    """Three readers from 08:00 to 20:00 and one at night, every day, read back from who signed what and when
    (each reader's duties widened to their usual shift, docs/calibration.md), for three seeds: every hour
    exactly (before duties, the last hour of a shift came back a reader short where work was light)."""
    import yaml

    from simulator.oplog.fitting import fit_log

    for seed in range(3):
        pools = yaml.safe_load(fit_log(_hidden_log(seed)))["pools"]
        assert list(pools) == ["head_ct"] and pools["head_ct"]["reads"] == ["head_ct"]  # one pool: what they read
        shifts = pools["head_ct"]["shifts"]
        by_hour = {}
        for shift in shifts:
            start = int(shift["start"][:2])
            for day in shift["days"]:
                for hour in range(start, start + shift["hours"]):
                    by_hour[(day, hour)] = by_hour.get((day, hour), 0) + shift["staff"]
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            for hour in range(24):
                hidden = 3 if 8 <= hour < 20 else 1
                assert by_hour.get((day, hour), 0) == hidden, (seed, day, hour, by_hour.get((day, hour), 0))


def test_a_capacity_replay_follows_the_readers_date_by_date(tmp_path: Path) -> None:
    """Readers who come and go by date (a second reader on some dates, nobody on a closure day): the replay
    with the log's readers date by date reproduces what was observed within 1% in every group; the weekly
    roster fitted to the same log averages the dates away and misses by more than 5%."""
    import datetime as dt

    from simulator import parse_scenario
    from simulator.oplog.replay import replay

    start = dt.date(2026, 2, 2)
    dates = [(start + dt.timedelta(days=d)).isoformat() for d in range(28)]
    data = {**BACKLOG, "study_types": {"chest_xray": {**BACKLOG["study_types"]["chest_xray"],
                                                      "arrivals": {"rate_per_hour": 4.5}}},
            "pools": {"readers": {"reads": ["*"], "shifts": [
                {"start": "00:00", "end": "24:00", "staff": 1, "dates": [d for i, d in enumerate(dates) if i != 9]},
                {"start": "08:00", "end": "20:00", "staff": 1, "dates": [d for i, d in enumerate(dates) if i % 5 == 1]}]}}}
    scenario = parse_scenario(data, "dated.yaml")
    log = clean_log(log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies)).table
    dated = {g.group: g for g in replay(log, "fifo", tmp_path, replications=3, workers=1)}
    weekly = {g.group: g for g in replay(log, "fifo", tmp_path, replications=3, workers=1, roster="weekly")}
    for g in dated.values():
        assert abs(g.as_run / g.observed - 1) < 0.01, g
    assert abs(weekly["all"].as_run / weekly["all"].observed - 1) > 0.05, weekly["all"]


def test_shifts_of_given_dates() -> None:
    """A shift of given dates is on duty those dates only; it cannot also name weekdays; the staffing
    optimiser (a weekly roster) and the dashboard's roster editor refuse it, naming the field."""
    from simulator import parse_scenario
    from simulator.calendar import duties
    from simulator.staffing import optimise

    data = {**BACKLOG, "horizon_days": 7, "pools": {"readers": {"reads": ["*"], "shifts": [
        {"start": "08:00", "end": "20:00", "staff": 2, "dates": ["2026-02-03", "2026-02-05", "2026-03-01"]}]}}}
    scenario = parse_scenario(data, "dated.yaml")
    assert [(d.start / 60, d.end / 60) for d in duties(scenario)] == [(32.0, 44.0), (80.0, 92.0)]
    both = {"start": "08:00", "end": "20:00", "staff": 2, "dates": ["2026-02-03"], "days": ["tue"]}
    with pytest.raises(ScenarioError, match="not both"):
        parse_scenario({**data, "pools": {"readers": {"reads": ["*"], "shifts": [both]}}}, "both.yaml")
    # The scenario as a run folder writes it (every field, days included) loads back as it ran.
    from simulator.loading import dump_scenario
    from simulator.safe_yaml import load_text

    written = load_text(dump_scenario(scenario).encode(), "scenario.yaml")
    assert [(d.start, d.end) for d in duties(parse_scenario(written, "scenario.yaml"))] == \
        [(d.start, d.end) for d in duties(scenario)]
    with pytest.raises(ScenarioError, match=r"pools.readers.shifts.0.dates"):
        optimise(scenario, [])
    import yaml

    from dashboard.loading import load_upload

    with pytest.raises(ScenarioError, match=r"pools.readers.shifts.0.dates"):
        load_upload("dated.yaml", yaml.safe_dump(data).encode())


def test_the_backlog_counts_exams_ended_and_not_yet_signed() -> None:
    from simulator.oplog.backtest import _backlog

    ended, signed = np.array([0.0, 10.0, 20.0]), np.array([5.0, np.nan, 30.0])  # the second never signed
    assert _backlog(ended, signed, np.array([0.0, 6.0, 25.0, 40.0])).tolist() == [1, 0, 2, 1]


def test_a_dicom_trace_fills_what_the_log_lacks(tmp_path: Path) -> None:
    """The images' headers (a run's studies written as DICOM and traced by `radsim dicom trace`) joined to the
    log by study UID: rows without an exam end, modality or AI flag take them from their study's images and
    are kept, counted; what the log has stays; a study the trace lacks is left as the log has it."""
    runner = CliRunner()
    run = tmp_path / "run"
    assert runner.invoke(app, ["run", "moscow_reference_center", "--set", "horizon_days=1", "--set", "warmup_days=0",
                               "--workers", "1", "--out", str(run)]).exit_code == 0
    assert runner.invoke(app, ["dicom", "generate", str(run), "--out", str(tmp_path / "dcm"), "--limit", "20"]).exit_code == 0
    trace = tmp_path / "trace.parquet"
    assert runner.invoke(app, ["dicom", "trace", str(tmp_path / "dcm"), "--out", str(trace)]).exit_code == 0
    traced = set(pq.read_table(trace).column("study_id").to_pylist())
    scenario = load_scenario(run / "scenario.yaml")
    studies = pq.read_table(run / "studies.parquet")
    log = log_of_run(scenario, studies.filter(pc.equal(studies.column("replication"), 0)))
    in_trace = np.asarray([uid in traced for uid in log.column("study_uid").to_pylist()])
    assert in_trace.sum() == 20
    rows = np.flatnonzero(in_trace)
    blank = np.zeros(log.num_rows, dtype=bool)
    blank[rows[:8]] = True
    spoiled = log
    for name in ("acquired_at", "modality", "ai_flag"):
        column = log.column(name).combine_chunks()
        spoiled = spoiled.set_column(spoiled.column_names.index(name), name,
                                     pc.if_else(pa.array(blank), pa.scalar(None, column.type), column))
    spoiled = spoiled.set_column(spoiled.column_names.index("site"), "site",  # the log's own value stays
                                 pa.array(["from the RIS"] * log.num_rows, pa.string()))
    path = tmp_path / "log.parquet"
    pq.write_table(spoiled, path)
    assert read_log(path).counts["no_acquired_at"] == 8  # without the trace: dropped
    found = read_log(path, trace=trace)
    assert found.counts["no_acquired_at"] == 0 and found.table.num_rows == log.num_rows
    assert found.counts["trace_matched"] == 20 and found.counts["trace_exam_end"] == 8
    # Filled: the blanked rows, and rows lacking a value the images have (log_of_run writes no body part).
    from simulator.oplog.trace_join import JOINED

    by_study = {r["study_id"]: r for r in pq.read_table(trace).to_pylist()}
    lacking = [i for i in rows if blank[i] or any(
        spoiled.column(name)[int(i)].as_py() is None and by_study[log.column("study_uid")[int(i)].as_py()].get(source)
        is not None for name, source in JOINED.items())]
    assert found.counts["trace_filled"] == len(lacking) >= 8
    back = {r["accession"]: r for r in found.table.to_pylist()}
    for i in rows[:8]:
        original = {k: v[int(i)].as_py() for k, v in zip(log.column_names, log.columns)}
        joined = back[original["accession"]]
        assert abs((joined["acquired_at"] - original["acquired_at"]).total_seconds()) <= 1.0
        assert joined["modality"] == original["modality"] and joined["ai_flag"] == original["ai_flag"]
    assert set(found.table.column("site").to_pylist()) == {"from the RIS"}
    result = CliRunner().invoke(app, ["log", str(path), "--trace", str(trace)])
    assert result.exit_code == 0, result.output
    assert f"20 rows joined by study_uid, {len(lacking)} took values they lacked from it (8 their exam end)" \
        in " ".join(result.output.split()), result.output  # however the console wraps it


def test_the_three_commands_work_on_an_hl7_export(tmp_path: Path) -> None:
    """The hidden scenario's log sent as a RIS sends it (orders, "in process" status changes, final
    results): the fit from the HL7 file recovers the hidden rate and reading time within their intervals, and
    the back-test and replay run on it."""
    from simulator.oplog.fitting import fit
    from simulator.oplog.synthetic import hl7_of_log

    log = _hidden_log(1)
    log = log.filter(pc.less(log.column("acquired_at"), pa.scalar(np.datetime64("2026-03-02T00:00", "us"))))  # 4 weeks
    path = tmp_path / "ris.hl7"
    path.write_text(hl7_of_log(log), newline="")
    found = read_log(path)
    assert found.counts["hl7_unreadable"] == 0 and found.table.num_rows == log.num_rows
    head = fit(found.table).types["head_ct"]
    assert head.arrivals.interval[0] <= 180 <= head.arrivals.interval[1]
    assert head.reads.interval[0] <= 12 <= head.reads.interval[1]
    out = tmp_path / "fitted.yaml"
    assert CliRunner().invoke(app, ["fit", str(path), "--out", str(out)]).exit_code == 0
    checked = CliRunner(env={"COLUMNS": "160"}).invoke(app, ["backtest", str(path), "--holdout", "7", "-r", "3",
                                                             "-w", "2"])
    assert checked.exit_code in (0, 3) and "mean all" in checked.output, checked.output
    replayed = CliRunner(env={"COLUMNS": "160"}).invoke(app, ["replay", str(path), "--policy", "fifo", "-r", "2",
                                                              "-w", "1"])
    assert replayed.exit_code == 0 and "model error" in replayed.output, replayed.output


def test_readers_who_read_a_type_as_an_exception_keep_reading_it_and_no_pool_is_lost() -> None:
    """Two day readers of X and Y, one night reader of X who read a few Y that came at night: grouped by
    competency (two pools) yet both pools read Y (the night's Y does not wait for the day), under two names,
    with every reader in one of them."""
    import datetime as dt

    from simulator.oplog.fitting import competency_pools, fit

    rows = []
    start = dt.datetime(2026, 2, 2)
    for day in range(14):
        for k in range(40):
            who, hour = ("day_a", "day_b")[k % 2], 8 + k % 12
            rows.append((f"D{day}-{k}", "x" if k % 3 else "y", who, start + dt.timedelta(days=day, hours=hour)))
        for k in range(6):
            rows.append((f"N{day}-{k}", "y" if (day, k) in ((1, 0), (5, 0), (9, 0)) else "x", "night",
                         start + dt.timedelta(days=day, hours=21 + k // 3, minutes=10 * k)))
    accession, description, reader, acquired = zip(*rows)
    signed = [a + dt.timedelta(minutes=8) for a in acquired]
    opened = [a + dt.timedelta(minutes=1) for a in acquired]
    table = pa.table({"accession": accession, "modality": ["CT"] * len(rows), "description": description,
                      "acquired_at": pa.array(acquired, pa.timestamp("us")), "reader": reader,
                      "read_start": pa.array(opened, pa.timestamp("us")),
                      "reported_at": pa.array(signed, pa.timestamp("us"))})
    pools = competency_pools(list(reader), np.asarray(description, dtype=object))
    assert sorted((reads, sorted(members)) for reads, members in pools) == [
        (["x", "y"], ["day_a", "day_b"]), (["x", "y"], ["night"])]
    fitted = fit(clean_log(_typed_for_test(table)).table)
    assert len({p.name for p in fitted.pools}) == 2 and set().union(*(p.members for p in fitted.pools)) == \
        {"day_a", "day_b", "night"}
    assert len(yaml_pools(fitted)) == 2
    # Every read took 7 minutes: a fixed reading time (the families' fits fail on it), drawn on the page.
    assert fitted.types["x"].reads.value == {"dist": "fixed", "value": 7.0}
    from simulator.oplog.pages import fit_page

    assert "Reading times" in fit_page(fitted, "constant.csv")[1]


def _typed_for_test(table: pa.Table) -> pa.Table:
    from simulator.oplog.cleaning import _typed

    return _typed(table, "test")


def yaml_pools(fitted) -> dict:
    import yaml

    return yaml.safe_load(fitted.yaml())["pools"]


TWO_POOLS = {  # HIDDEN with a second study type read by its own pool: readers can switch between the two
    **HIDDEN, "horizon_days": 56, "seed": 4,
    "study_types": {**HIDDEN["study_types"], "chest_xray": {
        "modality": "DX", "description": "Chest X-ray", "read_minutes": {"dist": "lognormal", "mean": 4, "cv": 0.6},
        "arrivals": {"per_day": 120, "hourly": [0.2] * 8 + [2.5] * 12 + [0.2] * 4}}},
    "pools": {"ct": {"reads": ["head_ct"], "shifts": [{"start": "08:00", "end": "20:00", "staff": 3},
                                                      {"start": "20:00", "end": "08:00+1", "staff": 1}]},
              "xray": {"reads": ["chest_xray"], "shifts": [{"start": "08:00", "end": "20:00", "staff": 2}]}},
}


def test_unknown_descriptions_and_readers_switching_pools_do_not_change_the_answer() -> None:
    """The rest of the issue's spoiling: 40 studies under descriptions nobody else has (read as their
    modality's main type, each counted in the fitted comment) and two readers of different pools who swap
    from the log's middle on (a pool of their own, reading both). The fitted types are the hidden two, and
    the back-test gives the same verdict, check by check, as on the unspoiled log."""
    from simulator import parse_scenario
    from simulator.oplog.backtest import backtest
    from simulator.oplog.fitting import fit

    scenario = parse_scenario(TWO_POOLS, "two.yaml")
    log = log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies)
    spoiled = clean_log(degrade(log, Degradation(unknown_description=40, readers_switching=1), 3)).table
    fitted = fit(spoiled)
    assert sorted(fitted.types) == ["chest_xray", "head_ct"]
    assert sum(sum(t.folded.values()) for t in fitted.types.values()) == 40
    assert "rare descriptions" in fitted.yaml()
    assert any(p.reads == ["chest_xray", "head_ct"] and len(p.members) == 2 for p in fitted.pools)
    assert sum(len(p.members) for p in fitted.pools) == 6
    verdicts = [[(c.group, c.statistic, c.within) for c in backtest(table, 14, 5, workers=2).checks]
                for table in (clean_log(log).table, spoiled)]
    assert verdicts[0] == verdicts[1] and len(verdicts[0]) >= 12



def test_a_log_written_the_way_a_ris_writes_it_fits_as_the_clean_one(log: pa.Table, tmp_path: Path) -> None:
    """Upper-case priorities and kinds, a placeholder reader on the rows nobody has taken, and placeholder
    dates: read as meant and counted, so that the fit's priority mix, pools and reading times are those of
    the same log written cleanly (before: every priority routine, a reader on duty round the clock, a
    reading time of years)."""
    from simulator.oplog.fitting import fit

    rows = log.to_pylist()
    for row in rows:
        row["referral"] = None if row["referral"] is None else row["referral"].upper()
        row["kind"] = row["kind"].upper() if row["kind"] == "primary" else row["kind"]
        if row["reader"] is None:
            row["reader"] = "UNASSIGNED"
    sentinel = next(i for i, r in enumerate(rows) if r["reported_at"] is not None and r["kind"] == "PRIMARY")
    rows[sentinel]["reported_at"] = dt.datetime(9999, 12, 31, 23, 59)
    rows[sentinel + 1]["acquired_at"] = dt.datetime(1900, 1, 1)
    ris = pa.Table.from_pylist(rows, schema=log.schema)
    clean, messy = clean_log(log), clean_log(ris)
    placeholders = sum(r["reader"] == "UNASSIGNED" for r in rows)
    assert placeholders > 0 and messy.counts["sentinel_time"] == 2 and messy.counts["no_acquired_at"] == 1
    assert messy.counts["spelling"] == sum(r["referral"] is not None or r["kind"] == "PRIMARY" or
                                           r["reader"] == "UNASSIGNED" for r in rows)
    assert messy.counts["unknown_referral"] == 0
    assert set(messy.table.column("referral").drop_null().to_pylist()) == {"stat", "urgent", "routine"}
    before, after = fit(clean.table), fit(messy.table)
    assert len(after.pools) == len(before.pools)  # no pool of a placeholder reader on duty round the clock
    for name, fitted in before.types.items():
        for referral in ("stat", "urgent"):
            assert after.types[name].referral[referral].value == pytest.approx(fitted.referral[referral].value,
                                                                              abs=0.01), (name, referral)
        assert after.types[name].reads.value["mean"] == pytest.approx(fitted.reads.value["mean"], rel=0.05), name



def test_an_export_as_spreadsheets_and_ris_systems_write_it_reads_as_the_plain_one(log: pa.Table, tmp_path: Path) -> None:
    """`;`-separated, headers in capitals with spaces, times day first to the minute, Y/N flags, priorities as
    words and HL7 codes: the same rows as the plain CSV of the same log, rounded to the minute."""
    plain = tmp_path / "plain.csv"
    rounded = log.set_column(log.column_names.index("acquired_at"), "acquired_at",
                             pc.floor_temporal(log.column("acquired_at"), unit="minute"))
    csv.write_csv(rounded.select(["accession", "modality", "acquired_at", "referral", "finding"]), plain)
    expected = read_log(plain)
    words = {"stat": "S", "urgent": "ASAP", "routine": "Routine"}
    lines = ["Accession;Modality;Acquired At;Referral;Finding"]
    for row in rounded.select(["accession", "modality", "acquired_at", "referral", "finding"]).to_pylist():
        flag = "" if row["finding"] is None else ("Y" if row["finding"] else "N")
        when = row["acquired_at"].strftime("%d.%m.%Y %H:%M")
        lines.append(f"{row['accession']};{row['modality']};{when};{words.get(row['referral'], '')};{flag}")
    ris = tmp_path / "ris.csv"
    ris.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")  # with the BOM Excel writes
    found = read_log(ris)
    for name in ("accession", "modality", "acquired_at", "referral", "finding"):
        assert found.table.column(name).to_pylist() == expected.table.column(name).to_pylist(), name
    assert found.counts["spelling"] == sum(r is not None for r in rounded.column("referral").to_pylist())
    bad = tmp_path / "us.csv"  # month first is not guessed: refused, saying the forms it reads
    bad.write_text("accession;modality;acquired_at\nA1;CT;03/25/2026 10:00\n")
    with pytest.raises(ScenarioError, match=r"us.csv: acquired_at: must be a time: ISO 8601 .* or day first"):
        read_log(bad)


def test_radsim_log_names_every_row_a_rule_touched(log: pa.Table, tmp_path: Path) -> None:
    """--rows lists each dropped row and each changed value (accession, kind, rule, column, value as written):
    as many as each rule counted, and the duplicates are the accessions that were repeated."""
    spoiled = degrade(log, Degradation(duplicate=6, clock_skew=4, read_after_report=3), 9)
    path, rows = tmp_path / "log.parquet", tmp_path / "rows.csv"
    pq.write_table(spoiled, path)
    result = CliRunner().invoke(app, ["log", str(path), "--rows", str(rows)])
    assert result.exit_code == 0, result.output
    listed = csv.read_csv(rows).to_pylist()
    found = read_log(path)
    by_rule: dict[str, list[dict]] = {}
    for row in listed:
        by_rule.setdefault(row["rule"], []).append(row)
    for rule in ("duplicate", "clock_skew", "read_after_report"):
        assert len(by_rule.get(rule, [])) == found.counts[rule], rule
    seen: dict[tuple, int] = {}
    for row in spoiled.select(["accession", "kind"]).to_pylist():
        seen[(row["accession"], row["kind"] or "primary")] = seen.get((row["accession"], row["kind"] or "primary"), 0) + 1
    assert all(seen[(r["accession"], r["kind"])] > 1 for r in by_rule["duplicate"])
    assert all(r["column"] == "read_start" and r["value"] for r in by_rule["read_after_report"])
    again = CliRunner().invoke(app, ["log", str(path), "--rows", str(rows)])  # its own file: replaced
    assert again.exit_code == 0, again.output
    mine = tmp_path / "mine.csv"
    mine.write_text("my notes\n")
    refused = CliRunner().invoke(app, ["log", str(path), "--rows", str(mine)])
    assert refused.exit_code == 2 and mine.read_text() == "my notes\n"


def test_a_fit_says_every_value_the_log_does_not_give(log: pa.Table, tmp_path: Path) -> None:
    """Without `read_start` no reading time can be fitted: each type's placeholder is listed on the console
    (it had been said only in a YAML comment); a log that gives every value lists none."""
    from simulator.oplog.fitting import fit

    full, blind = tmp_path / "full.parquet", tmp_path / "blind.parquet"
    pq.write_table(log, full)
    pq.write_table(log.drop_columns(["read_start"]), blind)
    said = CliRunner().invoke(app, ["fit", str(blind), "--out", str(tmp_path / "blind.yaml")])
    assert said.exit_code == 0, said.output
    text = " ".join(said.output.split())
    types = fit(clean_log(log.drop_columns(["read_start"]).append_column(
        "read_start", pa.nulls(log.num_rows, pa.timestamp("us")))).table).types
    assert "value(s) the log does not give" in text
    for name in types:
        assert f"study_types.{name}.read_minutes:" in text, name
    quiet = CliRunner().invoke(app, ["fit", str(full), "--out", str(tmp_path / "full.yaml")])
    assert quiet.exit_code == 0 and "does not give" not in quiet.output


def test_reads_that_did_not_wait_for_the_ai_are_fitted_to_a_service_that_holds_no_study(tmp_path: Path) -> None:
    """Issue 32, item 11: a log whose reads mostly opened before the AI's result (AI workers: results come
    while studies wait) is fitted to a compute service (`workers`: the most studies the log shows awaiting a
    result, plus one), whose studies join the worklist unscored; `fit` says so in its comments and on the
    console. Its back-test passes every check (held until the result, as before: 0 of 21 within on three
    seeds, the model's turnaround 26-32 min for the log's 8), and its replay as run is the log (within 2%).
    A log whose reads waited for the result keeps a service that holds them, and no such word."""
    import yaml

    from simulator.oplog.backtest import backtest

    for name, sets, unheld in [("validation/ai_workers_mmc", ["study_types.chest_ct.read_minutes.mean=5"], True),
                               ("examples/mmc_ai_triage", [], False)]:
        scenario = load_scenario(name, ["horizon_days=28", "warmup_days=0", *sets])
        path = tmp_path / f"{scenario.name}.parquet"
        log = log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies)
        pq.write_table(log, path)
        result = CliRunner().invoke(app, ["fit", str(path), "--out", str(tmp_path / f"{scenario.name}.yaml")])
        assert result.exit_code == 0, result.output
        said = "opened before the AI's result" in " ".join(result.output.split())
        assert said == unheld, result.output
        comments = (tmp_path / f"{scenario.name}.yaml").read_text()
        assert "reads opened before the AI's result" in comments  # the share, with its interval, either way
        (service,) = yaml.safe_load(comments)["ai_services"].values()
        assert ("workers" in service and "inference_minutes" in service) == unheld, service
        assert "latency_minutes" not in service or not unheld, service
        if unheld:
            assert backtest(clean_log(log).table, 7, 10, roster="fitted", workers=2).passed
            # Replayed, its studies join the worklist at the archive and the log's results re-rank them
            # (a trace's result on a service with workers is not waited for): before, +217% model error.
            from simulator.oplog.replay import replay

            for g in replay(clean_log(log).table, "ai_priority", tmp_path, replications=2, workers=2):
                assert abs(g.as_run / g.observed - 1) < 0.02, g


def test_the_interval_of_a_mean_duration_never_reaches_below_zero() -> None:
    """Issue 32, item 14: a few reading times, one far out, gave "mean 46.87 (95% CI -2.56-96.30)"; a
    duration's mean interval stays positive (a bootstrap where Student's t would cross zero), and a plain
    sample keeps Student's t."""
    from scipy import stats

    from simulator.oplog.fitting import fit_duration, mean_interval

    few = np.array([2.0, 3.0, 2.5, 4.0, 3.5, 2.0, 3.0, 5.0, 2.5, 3.0, 4.0, 700.0])
    half = stats.t.ppf(0.975, few.size - 1) * few.std(ddof=1) / np.sqrt(few.size)
    assert few.mean() - half < 0  # the case: Student's t crosses zero
    low, high = mean_interval(few)
    assert 0 < low < few.mean() < high <= few.max()
    assert f"95% CI {low:.2f}-{high:.2f}" in fit_duration(few, "reading time").note
    plain = np.random.default_rng(1).lognormal(1.5, 0.5, 400)
    t_half = stats.t.ppf(0.975, plain.size - 1) * plain.std(ddof=1) / np.sqrt(plain.size)
    assert mean_interval(plain) == pytest.approx((plain.mean() - t_half, plain.mean() + t_half))


@pytest.mark.parametrize("cut", [(True, True), (True, False), (False, True)])
def test_durations_between_times_given_to_the_minute_are_fitted_without_bias(cut: tuple[bool, bool]) -> None:
    """Issue 32, item 6: a RIS that prints times to the minute turns a 2-minute AI latency into whole
    minutes, short ones into 0; dropping those and fitting what is left read 2.22 for a true 2.0. Fitted to
    the whole minutes (each family's chance of the minutes observed), over 30 seeded samples of 1,000
    (lognormal, mean 2, cv 0.55; the start, the end or both cut to the minute): the mean's 95% interval
    holds 2.0 in at least 27 of 30 (the bar fixed before looking), the fitted mean is within 3% of it on
    average and the cv within 0.05; the old way (zeros dropped, fitted as if exact) fails that bar."""
    from simulator.oplog.fitting import fit_between, fit_duration

    mean, cv = 2.0, 0.55
    s2 = np.log(1 + cv * cv)
    covered, old_covered, means, cvs = 0, 0, [], []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        start = rng.uniform(0, 50_000, 1000)
        end = start + rng.lognormal(np.log(mean) - s2 / 2, np.sqrt(s2), 1000)
        start, end = (np.floor(start) if cut[0] else start), (np.floor(end) if cut[1] else end)
        fitted = fit_between(start, end, "latency")
        low, high = fitted.interval
        covered += low <= mean <= high
        means.append(fitted.value["mean"])
        cvs.append(fitted.value.get("cv", 1.0))
        old_low, old_high = fit_duration(end - start, "latency").interval
        old_covered += old_low <= mean <= old_high
    assert covered >= 27, covered
    assert abs(np.mean(means) / mean - 1) < 0.03 and abs(np.median(cvs) - cv) < 0.05, (np.mean(means), np.median(cvs))
    assert old_covered < 27, old_covered  # the old way fails the same bar: the test can fail


def test_a_replay_takes_each_studys_ingest_delay_and_ai_latency_from_the_log(tmp_path: Path) -> None:
    """Issue 32, item 3: the replay drew a pooled ingest delay and AI results without latency, so its levels
    ran 7-11% fast. Now a study reaches the archive when the log says (`received_at`) and is scored when
    the log says (`ai_at`): in the replay under the observed policy, every primary study's arrival at the
    archive and AI result are the log's, to the microsecond's rounding, in every replication."""
    from simulator import parse_scenario
    from simulator.oplog.replay import replay_scenarios

    scenario = parse_scenario({**HIDDEN_ALL, "horizon_days": 7, "seed": 3}, "hidden.yaml")
    log = clean_log(log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies)).table
    primary = log.filter(pc.equal(log.column("kind"), "primary"))
    (as_run,) = replay_scenarios(log, ["fifo"], tmp_path)
    start = np.datetime64(as_run.start, "us")

    def minutes(column: str) -> dict[str, float]:
        values = (primary.column(column).to_numpy(zero_copy_only=False).astype("datetime64[us]") - start) / \
            np.timedelta64(1, "m")
        return {a: float(v) for a, v in zip(primary.column("acquired_at").to_pylist(), values)}

    received, scored = minutes("received_at"), minutes("ai_at")
    run = run_scenario(as_run, 2, workers=1, summarise=False)
    studies = run.studies.filter(pc.equal(run.studies.column("kind"), "primary"))
    checked = scored_checked = 0
    origin = as_run.start
    for row in studies.select(["arrived_at", "at_archive", "scored_at"]).to_pylist():
        when = origin + dt.timedelta(minutes=row["arrived_at"])
        key = min(received, key=lambda a: abs((a - when).total_seconds())) if when not in received else when
        if np.isfinite(received[key]):
            assert row["at_archive"] == pytest.approx(received[key], abs=1e-6)
            checked += 1
        if np.isfinite(scored[key]) and row["scored_at"] is not None:
            assert row["scored_at"] == pytest.approx(scored[key], abs=1e-6)
            scored_checked += 1
    assert checked > 1000 and scored_checked > 1000, (checked, scored_checked)


def test_each_study_type_gets_its_own_ingest_delay_and_the_pooled_one_says_it_is_pooled() -> None:
    """Issue 32, item 5: one ingest delay for all types made a year where MR's ingest is 6 minutes (CT's 3)
    back-test MR outside with nothing changed. Each type's own delay is fitted (`ingest_minutes`), with its
    interval: over 10 seeded week-long logs each type's 95% interval holds its hidden mean in at least 8
    (the bar fixed before looking); the YAML loads, and the pooled delay's comment says it is pooled."""
    from simulator import parse_scenario
    from simulator.oplog.fitting import fit

    two = {**HIDDEN, "horizon_days": 7, "ingest": {"delay_minutes": {"dist": "lognormal", "mean": 3, "cv": 0.5}},
           "study_types": {**HIDDEN["study_types"], "head_mr": {
               **HIDDEN["study_types"]["head_ct"], "modality": "MR", "description": "MR head",
               "arrivals": {"per_day": 120, "hourly": [1] * 8 + [4] * 10 + [2] * 6},
               "ingest_minutes": {"dist": "lognormal", "mean": 6, "cv": 0.5}}}}
    two["pools"] = {"readers": {**HIDDEN["pools"]["readers"], "reads": ["*"]}}
    hidden = {"head_ct": 3.0, "head_mr": 6.0}
    covered = dict.fromkeys(hidden, 0)
    for seed in range(10):
        scenario = parse_scenario({**two, "seed": seed}, "hidden.yaml")
        fitted = fit(clean_log(log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies)).table)
        for key, mean in hidden.items():
            low, high = fitted.types[key].ingest.interval
            covered[key] += low <= mean <= high
    assert all(n >= 8 for n in covered.values()), covered
    text = fitted.yaml()
    loaded = parse_scenario(__import__("yaml").safe_load(text), "fitted.yaml")
    assert {k: t.ingest_minutes is not None for k, t in loaded.study_types.items()} == {"head_ct": True, "head_mr": True}
    assert "pooled over every type" in text and "2 of 2 types have their own" in text
