"""Readers' duties (issue 32, item 9): a roster read from work never has an hour where work arrived and was
read at once yet nobody was on duty; a roster the RIS keeps is taken as given."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import yaml
from typer.testing import CliRunner

from simulator import parse_scenario, run_scenario
from simulator.cli import app
from simulator.oplog import clean_log, log_of_run
from simulator.oplog.duties import busy_by_hour, duties_from_work

H = 60.0
LIGHT_NIGHT = {  # two day readers, one night reader with about a study an hour: gaps of hours between reads
    "name": "light_night", "start": "2026-02-02T00:00", "horizon_days": 56, "warmup_days": 0,
    "study_types": {"head_ct": {
        "modality": "CT", "description": "CT head",
        "arrivals": {"per_day": 108, "hourly": [1] * 8 + [8] * 12 + [1] * 4},
        "referral": {"stat": 0.1}, "read_minutes": {"dist": "lognormal", "mean": 10, "cv": 0.6}}},
    "pools": {"readers": {"reads": ["*"], "shifts": [{"start": "08:00", "end": "20:00", "staff": 2},
                                                     {"start": "20:00", "end": "08:00+1", "staff": 1}]}},
}


def _light_night_log(seed: int) -> pa.Table:
    scenario = parse_scenario({**LIGHT_NIGHT, "seed": seed}, "light_night.yaml")
    return clean_log(log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies)).table


def _reads(*spans: tuple[float, float], who: str = "night") -> tuple[list, np.ndarray, np.ndarray]:
    return [who] * len(spans), np.array([a for a, _ in spans]), np.array([b for _, b in spans])


def test_a_quiet_nights_reads_are_one_duty_of_the_usual_shift() -> None:
    """Nights of 20:00-08:00 seen through a few reads each: the usual shift is learnt from them (most begin at
    20:00 and run to about 08:00), and a night whose first read came at 21:40, the next after a gap of over
    six hours (two duties as the work shows them) and the last at 05:10, is that whole shift, one reader
    (never two where its parts meet)."""
    nights = []
    for day in range(5):
        base = day * 24 * H
        nights += [(base + 20 * H + 5, base + 20 * H + 20), (base + 26 * H, base + 26 * H + 10),
                   (base + 31 * H + 40, base + 31 * H + 55)]
    quiet = 5 * 24 * H
    nights += [(quiet + 21 * H + 40, quiet + 21 * H + 50), (quiet + 28 * H, quiet + 28 * H + 10),
               (quiet + 29 * H + 10, quiet + 29 * H + 20)]
    duties = duties_from_work(*_reads(*nights))["night"]
    assert duties[-1] == (quiet + 20 * H, quiet + 32 * H), duties[-1]
    busy = busy_by_hour({"night": duties}, 7)
    assert np.all(busy[int(quiet // H) + 20:int(quiet // H) + 32] == 1.0)


def test_a_shorter_usual_shift_stays_short_and_a_late_signing_is_not_more_duty() -> None:
    """A reader's weekdays run 08:00-20:00 and Saturdays 08:00-14:00: both lengths are usual, and a Saturday
    is not widened to twelve hours. A study opened at 19:50 and signed at 20:40 ends the duty at 20:00 (the
    reader finishes the study in hand, as the model's readers do), not at 20:40."""
    reads = []
    for day in range(14):
        base = day * 24 * H
        last = 14 * H if day % 7 == 5 else 20 * H
        reads += [(base + hour * H + 10, base + hour * H + 30) for hour in range(8, int(last // H) - 1, 2)]
        reads.append((base + last - 40, base + last - 20))
    reads.append((13 * 24 * H + 19 * H + 50, 13 * 24 * H + 20 * H + 40))
    duties = duties_from_work(*_reads(*reads, who="day"))["day"]
    saturday = 5 * 24 * H
    assert (saturday + 8 * H, saturday + 14 * H) in duties
    assert duties[-1] == (13 * 24 * H + 8 * H, 13 * 24 * H + 20 * H), duties[-1]


def test_a_light_night_shift_is_fitted_whole_and_backtests_within() -> None:
    """The log of a light night (one reader, about a study an hour) gives back the roster it ran with, every
    hour, on ten seeds (before duties the night came back in fragments, holes between reads); and the
    fitted roster back-tests within on every check, by time of day too, in at least 9 of the 10 (measured 9;
    6 with the fragments, which failed the night's checks). A 99% interval per check, about thirty checks:
    one seed in ten outside somewhere is the intervals' own rate, as they hold the replications' spread
    and not the fit's."""
    from simulator.oplog.backtest import backtest
    from simulator.oplog.fitting import fit

    passed = 0
    for seed in range(10):
        log = _light_night_log(seed)
        (pool,) = fit(log).pools
        hidden = np.array([2 if 8 <= h % 24 < 20 else 1 for h in range(168)])
        assert np.array_equal(np.rint(pool.active), hidden), (seed, np.rint(pool.active))
        result = backtest(log, 14, 10, roster="fitted", workers=2)
        assert {"00:00-06:00", "18:00-24:00"} <= {c.group for c in result.checks}
        passed += result.passed
    assert passed >= 9, passed


def _roster_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(["Reader;Start;End", *rows]) + "\n", encoding="utf-8")
    return path


def test_a_roster_the_ris_keeps_is_taken_as_given(tmp_path: Path) -> None:
    """`--duties`: a night reader on duty 20:00-08:00 who read at most a study a night is on duty every hour
    of the night in the fitted roster (the work alone shows an hour or two); a reader of the roster who read
    nothing is named in the pools' comment; the CSV as spreadsheets write it (`;`, capitalised headers, day
    first) reads as ISO 8601 does."""
    from simulator.oplog.duties import read_roster
    from simulator.oplog.fitting import fit

    log = _light_night_log(0)
    night = "readers/20:00-08:00+1/1"
    start = dt.datetime(2026, 2, 2)
    given = [f"{night};{start + dt.timedelta(hours=d * 24 + 20):%d.%m.%Y %H:%M};"
             f"{start + dt.timedelta(hours=d * 24 + 32):%d.%m.%Y %H:%M}" for d in range(-1, 56)]
    given.append("locum;05.02.2026 08:00;05.02.2026 20:00")
    roster = read_roster(_roster_csv(tmp_path / "roster.csv", given))
    # Only a few of the night's reads left: the work shows the night reader an hour here and there.
    sparse = log.filter(pa.array([r != night or i % 12 == 0 for i, r in enumerate(log.column("reader").to_pylist())]))
    work_only = fit(sparse).pools[0].active
    with_roster = fit(sparse, roster)
    nights = [h for h in range(168) if not 8 <= h % 24 < 20]
    assert np.rint(work_only[nights]).min() == 0  # holes where the work leaves no trace
    assert np.array_equal(np.rint(with_roster.pools[0].active[nights]), np.ones(len(nights)))
    assert "locum" in with_roster.duties and "read nothing" in with_roster.duties


@pytest.mark.parametrize(("rows", "said"), [
    (["ann;2026-02-02T20:00;2026-02-02T08:00"], "end: not after start on line 2"),
    (["ann;someday;2026-02-02T08:00"], "start: not a date and time"),
    (["ann;;2026-02-02T08:00"], "start: empty on 1 row"),
])
def test_a_bad_roster_is_refused_naming_the_file_and_column(tmp_path: Path, rows: list[str], said: str) -> None:
    log = tmp_path / "log.parquet"
    import pyarrow.parquet as pq

    pq.write_table(_light_night_log(0).slice(0, 500), log)
    roster = _roster_csv(tmp_path / "roster.csv", rows)
    result = CliRunner().invoke(app, ["fit", str(log), "--out", str(tmp_path / "fit.yaml"), "--duties", str(roster)])
    assert result.exit_code == 2, result.output
    assert "roster.csv" in result.output and said in result.output, result.output
    assert not (tmp_path / "fit.yaml").exists()
    missing = _roster_csv(tmp_path / "names.csv", ["ann,2026-02-02T08:00"])
    missing.write_text("name,start\nann,2026-02-02T08:00\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["fit", str(log), "--out", str(tmp_path / "fit.yaml"), "--duties", str(missing)])
    assert result.exit_code == 2 and "reader, end: missing" in result.output, result.output
    for header, words in (("Reader;Start;START;End", "start: given twice"), ("Reader;St\rart;End", "not a roster CSV")):
        odd = tmp_path / "odd.csv"
        odd.write_text(f"{header}\nann;2026-02-02T08:00;2026-02-02T08:00;2026-02-02T16:00\n", encoding="utf-8")
        result = CliRunner().invoke(app, ["fit", str(log), "--out", str(tmp_path / "fit.yaml"), "--duties", str(odd)])
        said = " ".join(result.output.split())
        assert result.exit_code == 2 and "odd.csv" in said and words in said, said  # not a KeyError, nor csv's


def test_radsim_fit_says_where_the_duties_came_from(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    log = tmp_path / "log.parquet"
    pq.write_table(_light_night_log(0), log)
    roster = _roster_csv(tmp_path / "roster.csv", ["readers/08:00-20:00/1;2026-02-02T08:00;2026-02-02T20:00"])
    result = CliRunner().invoke(app, ["fit", str(log), "--out", str(tmp_path / "fit.yaml"), "--duties", str(roster)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "fit.yaml").read_text(encoding="utf-8")
    assert "the roster given for 1 of the log's 3 readers (the other 2 from their work" in text
    assert yaml.safe_load(text)["pools"]


def test_a_pool_seen_on_duty_in_no_hour_is_drawn_as_the_scenario_has_it(tmp_path: Path) -> None:
    """Issue 32, item 14: fit.html showed 0 readers for a pool the fitted scenario gives one reader round the
    clock (a pool whose members' duties round to none in every hour). The page draws the roster as written."""
    from simulator.oplog.fitting import PoolFit, fit
    from simulator.oplog.pages import _roster_figure

    fitted = fit(_light_night_log(0))
    (pool,) = fitted.pools
    faint = PoolFit(pool.name, pool.reads, pool.members, pool.busy * 0.1, pool.active * 0.1, [])
    assert np.array_equal(faint.roster, np.ones(168))
    assert yaml.safe_load(fitted.yaml())["pools"]  # and the YAML writes a shift for it (one reader, 24 h)
    fitted.pools = [faint]
    assert yaml.safe_load(fitted.yaml())["pools"][pool.name]["shifts"] == [{"start": "00:00", "end": "24:00",
                                                                             "staff": 1}]
    (drawn,) = [trace for trace in _roster_figure(fitted).data if trace.name == "fitted roster"]
    assert np.array_equal(np.asarray(drawn.y), np.ones(168))
