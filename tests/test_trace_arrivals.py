"""Runs driven by a study trace (`arrivals: {trace: ...}`, `radsim run --trace`): the traced studies come
back as they were, what the trace lacks is drawn as usual (and paired across seeds as usual), and a bad
trace is bad input naming the file and the field."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from simulator import ScenarioError, load_scenario, run_scenario
from simulator.cli import app
from simulator.loading import scenario_hash
from simulator.trace_arrivals import replay_counts

SCENARIO = "moscow_reference_center"
ONE_DAY = ["horizon_days=1", "warmup_days=0"]


def _primaries(studies: pa.Table) -> pa.Table:
    return studies.filter(pc.and_(pc.equal(studies.column("kind"), "primary"),
                                  pc.equal(studies.column("replication"), 0)))


def _trace_of(studies: pa.Table, start: dt.datetime, columns: list[str]) -> pa.Table:
    """A trace with the given columns of a run's primary studies (what a DICOM trace would hold)."""
    rows = _primaries(studies).to_pylist()
    data = {"arrived": pa.array([start + dt.timedelta(minutes=r["arrived_at"]) for r in rows], pa.timestamp("us")),
            "modality": [r["modality"] for r in rows]}
    for column in columns:
        data[column] = [r[column] for r in rows]
    return pa.table(data)


def _key(row: dict) -> tuple:
    score = row["ai_score"]
    return (row["study_type"], row["site"], row["referral"], round(row["arrived_at"], 5),
            None if score is None else round(score, 9), row["ai_positive"] if score is not None else None)


@pytest.fixture(scope="module")
def original():
    scenario = load_scenario(SCENARIO, ONE_DAY)
    return scenario, run_scenario(scenario, 1, workers=1).studies


def _replay(tmp_path: Path, trace: pa.Table, overrides: list[str] = (), name: str = "trace.parquet"):
    pq.write_table(trace, tmp_path / name)
    scenario = load_scenario(SCENARIO, [*ONE_DAY, f"arrivals.trace={tmp_path / name}", *overrides])
    return scenario, run_scenario(scenario, 1, workers=1).studies


def test_a_replayed_trace_gives_back_its_studies(original, tmp_path: Path) -> None:
    scenario, studies = original
    trace = _trace_of(studies, scenario.start, ["study_type", "site", "referral", "ai_score", "ai_positive"])
    _, replayed = _replay(tmp_path, trace, ["seed=7"])  # another seed: only what the trace lacks changes
    before = sorted(map(_key, _primaries(studies).to_pylist()), key=str)
    after = sorted(map(_key, _primaries(replayed).to_pylist()), key=str)
    assert len(before) > 900 and before == after
    kinds = set(replayed.column("kind").to_pylist())
    assert "consultation" in kinds  # not imaging work: still drawn from its rates


def test_what_the_trace_lacks_is_drawn_and_paired_as_usual(original, tmp_path: Path) -> None:
    scenario, studies = original
    trace = _trace_of(studies, scenario.start, ["study_type"])
    _, first = _replay(tmp_path, trace)
    _, again = _replay(tmp_path, trace)
    _, other = _replay(tmp_path, trace, ["seed=7"])
    assert first.equals(again)  # a pure function of (scenario, trace, seed, replication)
    referrals = set(_primaries(first).column("referral").to_pylist())
    assert referrals == {"stat", "urgent", "routine"}
    assert _primaries(first).column("read_minutes") != _primaries(other).column("read_minutes")
    scored = pc.sum(pc.is_valid(_primaries(first).column("ai_score"))).as_py()
    assert scored > 0  # study types with AI are scored by the scenario's AI where the trace has no score


def test_study_types_found_by_description_then_modality_and_body_part(original, tmp_path: Path) -> None:
    scenario, studies = original
    rows = _primaries(studies)
    trace = _trace_of(studies, scenario.start, []).append_column(
        "study_description", pa.array([t.replace("_", " ") for t in rows.column("study_type").to_pylist()]))
    _, replayed = _replay(tmp_path, trace)
    assert sorted(_primaries(replayed).column("study_type").to_pylist()) == sorted(rows.column("study_type").to_pylist())
    # Without a description, MG is the only mammography type: modality alone finds it; DX is ambiguous.
    mg = trace.filter(pc.equal(trace.column("modality"), "MG")).drop_columns(["study_description"])
    _, replayed = _replay(tmp_path, mg, name="mg.parquet")
    assert set(_primaries(replayed).column("study_type").to_pylist()) == {"mammography"}
    dx = trace.filter(pc.equal(trace.column("modality"), "DX")).drop_columns(["study_description"])
    with pytest.raises(ScenarioError, match="match no primary study type"):
        _replay(tmp_path, dx, name="dx.parquet")
    scenario, dropped = _replay(tmp_path, pa.concat_tables([mg, dx]), ["arrivals.unmatched=drop"], name="both.parquet")
    assert _primaries(dropped).num_rows == mg.num_rows
    assert replay_counts(scenario) == {"rows": mg.num_rows + dx.num_rows, "replayed": mg.num_rows, "outside": 0,
                                       "unmatched": dx.num_rows, "undated": 0}  # what `radsim run` reports before running


def test_studies_outside_the_horizon_are_left_out_and_counted(original, tmp_path: Path) -> None:
    scenario, studies = original
    trace = _trace_of(studies, scenario.start, ["study_type"])
    half, replayed = _replay(tmp_path, trace, ["horizon_days=0.5"])
    late = sum(r["arrived_at"] >= 720.0 for r in _primaries(studies).to_pylist())
    assert 0 < late < trace.num_rows
    assert replay_counts(half) == {"rows": trace.num_rows, "replayed": trace.num_rows - late, "outside": late,
                                   "unmatched": 0, "undated": 0}
    assert _primaries(replayed).num_rows == trace.num_rows - late


def test_the_truth_follows_a_traced_score(tmp_path: Path) -> None:
    # Tolerance fixed before looking: the share diseased within 4 standard errors of the mean score.
    n = 4000
    rng = np.random.default_rng(3)
    score = rng.beta(0.5, 2.0, n)
    start = dt.datetime(2026, 2, 2)
    trace = pa.table({"arrived": pa.array([start + dt.timedelta(minutes=float(m)) for m in np.sort(rng.random(n) * 1400)],
                                          pa.timestamp("us")),
                      "modality": ["CT"] * n, "study_type": ["chest_ct"] * n, "ai_score": score})
    _, studies = _replay(tmp_path, trace)
    rows = _primaries(studies)
    diseased = np.asarray(rows.column("diseased"), dtype=float)
    traced = np.asarray(rows.column("ai_score"), dtype=float)
    assert np.allclose(np.sort(traced), np.sort(score))
    se = np.sqrt(np.sum(score * (1 - score))) / n
    assert abs(diseased.mean() - score.mean()) < 4 * se
    # The flag, absent from the trace, follows from the score: it rises with it.
    flagged = np.asarray(rows.column("ai_positive"), dtype=bool)
    assert flagged.any() and not flagged.all()
    assert traced[flagged].min() > traced[~flagged].max()


@pytest.mark.parametrize("change, field", [
    (lambda t: t.drop_columns(["modality"]), "modality: missing column"),
    (lambda t: t.set_column(0, "arrived", pa.array(["2026-02-02"] * t.num_rows)), "arrived: must be a timestamp"),
    (lambda t: t.append_column("referral", pa.array(["asap"] * t.num_rows)), "referral[0]: 'asap' is not one of"),
    (lambda t: t.set_column(0, "arrived", pc.add(t.column("arrived"), pa.scalar(dt.timedelta(days=400)))),
     "arrived: no study falls within the scenario's horizon"),
])
def test_a_bad_trace_is_bad_input(original, tmp_path: Path, change, field: str) -> None:
    scenario, studies = original
    path = tmp_path / "bad.parquet"
    pq.write_table(change(_trace_of(studies, scenario.start, ["study_type"])), path)
    result = CliRunner().invoke(app, ["run", SCENARIO, "--trace", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"{path}: {field}" in result.output
    assert not (tmp_path / "out").exists()


def test_arrival_times_with_a_time_zone_are_taken_as_local_times(original, tmp_path: Path) -> None:
    scenario, studies = original
    trace = _trace_of(studies, scenario.start, ["study_type"])
    _, naive = _replay(tmp_path, trace)
    moscow = trace.set_column(0, "arrived", pc.assume_timezone(trace.column("arrived"), "Europe/Moscow"))
    _, zoned = _replay(tmp_path, moscow, name="zoned.parquet")
    assert naive.column("arrived_at").equals(zoned.column("arrived_at"))


def test_the_trace_path_is_relative_to_the_scenario_file(original, tmp_path: Path, monkeypatch) -> None:
    scenario, studies = original
    folder = tmp_path / "study"
    folder.mkdir()
    pq.write_table(_trace_of(studies, scenario.start, ["study_type"]), folder / "week.parquet")
    (folder / "traced.yaml").write_text("extends: base.yaml\narrivals: {trace: week.parquet}\n")
    from simulator.loading import bundled_scenarios
    (folder / "base.yaml").write_text(bundled_scenarios()[SCENARIO].read_text())
    monkeypatch.chdir(tmp_path)
    loaded = load_scenario(str(folder / "traced.yaml"), ONE_DAY)
    assert Path(loaded.arrivals.trace) == (folder / "week.parquet").resolve()
    before = scenario_hash(loaded)
    pq.write_table(_trace_of(studies, scenario.start, ["study_type"]).slice(0, 10), folder / "week.parquet")
    assert scenario_hash(loaded) != before  # a cache keyed by the scenario sees the new trace


def test_rows_without_a_referral_or_an_arrival_time_are_drawn_or_dropped(original, tmp_path: Path) -> None:
    """What a trace of real headers looks like: most have no order priority (referral null) and a few
    files no date. Nulls are drawn from the scenario's mix; undated rows are dropped and counted, or bad
    input under `arrivals.undated: error`."""
    scenario, studies = original
    trace = _trace_of(studies, scenario.start, ["study_type", "referral"])
    n = trace.num_rows
    referral = pa.array([None if k % 3 else r for k, r in enumerate(trace.column("referral").to_pylist())], pa.string())
    arrived = pa.array([None if k in (5, 17) else a for k, a in enumerate(trace.column("arrived").to_pylist())],
                       pa.timestamp("us"))
    trace = trace.set_column(trace.column_names.index("referral"), "referral", referral)
    trace = trace.set_column(0, "arrived", arrived)
    resolved, replayed = _replay(tmp_path, trace)
    assert replay_counts(resolved) == {"rows": n, "replayed": n - 2, "outside": 0, "unmatched": 0, "undated": 2}
    assert _primaries(replayed).num_rows == n - 2
    kept = {(r["study_type"], round(r["arrived_at"], 5)): r["referral"] for r in _primaries(replayed).to_pylist()}
    given = [(t, round((a - scenario.start) / dt.timedelta(minutes=1), 5), r)
             for t, a, r in zip(trace.column("study_type").to_pylist(), arrived.to_pylist(), referral.to_pylist())
             if a is not None]
    assert all(kept[(t, a)] == r for t, a, r in given if r is not None)  # a traced referral is kept
    drawn = [kept[(t, a)] for t, a, r in given if r is None]
    assert set(drawn) == {"stat", "urgent", "routine"}  # the rest drawn from the scenario's mix
    with pytest.raises(ScenarioError, match=r"arrived\[5\]: no arrival time \(2 rows"):
        _replay(tmp_path, trace, ["arrivals.undated=error"], name="strict.parquet")


def test_a_flag_without_a_score_is_the_traces_result(original, tmp_path: Path) -> None:
    """A trace (a log) that keeps only the AI's verdict: each study the trace flags is flagged, each it
    clears is not, and a study with neither was not scored (before, the flags were ignored without scores
    and the scenario's AI flagged studies at random)."""
    scenario, studies = original
    trace = _trace_of(studies, scenario.start, ["study_type", "ai_positive"])
    _, replayed = _replay(tmp_path, trace, ["seed=7"])
    given = {round(r["arrived_at"], 5): r["ai_positive"] for r in _primaries(studies).to_pylist()}
    rows = _primaries(replayed).to_pylist()
    assert sum(v is True for v in given.values()) > 20
    for row in rows:
        flag = given[round(row["arrived_at"], 5)]
        assert (row["ai_positive"] is True) == (flag is True), (row, flag)
