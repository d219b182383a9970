"""A corpus of hostile logs (issue 32): files a hospital's systems write and radsim did not, run through
`radsim log`, `fit`, `backtest` and `replay`. Each is read or refused: exit 0, 2 or 3, never an internal
error, and a refusal names the log it was given, never a file the user did not give (the fitted scenario
that was not written)."""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from simulator import parse_scenario, run_scenario
from simulator.cli import app
from simulator.oplog import clean_log, log_of_run
from simulator.oplog.synthetic import fhir_of_log, hl7_of_log
from tests.test_oplog import HIDDEN


@pytest.fixture(scope="module")
def clean() -> pa.Table:
    scenario = parse_scenario({**HIDDEN, "horizon_days": 10, "seed": 5}, "hidden.yaml")
    return clean_log(log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies)).table


def _csv_text(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    csv.write_csv(table, sink)
    return sink.getvalue().to_pybytes().decode()


def _with(table: pa.Table, column: str, values: list) -> pa.Table:
    return table.set_column(table.column_names.index(column), column, pa.array(values, table.schema.field(column).type))


def _times(table: pa.Table, column: str, row: int, when: str) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = np.datetime64(when, "us").astype(object)
    return _with(table, column, values)


def _epochs(unit: str) -> Callable[[pa.Table, Path], Path]:
    def write(table: pa.Table, path: Path) -> Path:
        path = path.with_suffix(".parquet")
        ints = pc.cast(pc.cast(table.column("acquired_at"), pa.timestamp(unit), safe=False), pa.int64())
        pq.write_table(table.set_column(table.column_names.index("acquired_at"), "acquired_at", ints), path)
        return path
    return write


def _text(name: str, make: Callable[[pa.Table], bytes | str]) -> Callable[[pa.Table, Path], Path]:
    def write(table: pa.Table, path: Path) -> Path:
        path = path.with_name(name)
        content = make(table)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return path
    return write


def _parquet(change: Callable[[pa.Table], pa.Table]) -> Callable[[pa.Table, Path], Path]:
    def write(table: pa.Table, path: Path) -> Path:
        path = path.with_suffix(".parquet")
        pq.write_table(change(table), path)
        return path
    return write


def _described(table: pa.Table) -> pa.Table:
    return _with(table, "description", ["Röntgen Thorax ÄÖÜ"] * table.num_rows)


HOSTILE: dict[str, Callable[[pa.Table, Path], Path]] = {
    "sentinel acquired_at": _parquet(lambda t: _times(t, "acquired_at", 3, "1900-01-01T00:00")),
    "sentinel reported_at": _parquet(lambda t: _times(t, "reported_at", 3, "9999-12-31T00:00")),
    "a time in year 3000": _parquet(lambda t: _times(t, "reported_at", 5, "3000-01-01T00:00")),
    "epochs in seconds": _epochs("s"),
    "epochs in milliseconds": _epochs("ms"),
    "epochs in nanoseconds": _epochs("ns"),
    "every accession null": _parquet(lambda t: _with(t, "accession", [None] * t.num_rows)),
    "every accession equal": _parquet(lambda t: _with(t, "accession", ["A1"] * t.num_rows)),
    "every report before its exam": _parquet(lambda t: t.set_column(
        t.column_names.index("reported_at"), "reported_at",
        pc.subtract(t.column("acquired_at"), pa.scalar(3_600_000_000, pa.duration("us"))))),
    "scores beyond any range": _parquet(lambda t: _with(t, "ai_score", [1e308, -1e308, float("nan")] * (t.num_rows // 3)
                                                        + [None] * (t.num_rows % 3))),
    "latin-1 CSV": _text("latin1.csv", lambda t: _csv_text(_described(t)).encode("latin-1")),
    "UTF-16 CSV with its BOM": _text("utf16.csv", lambda t: _csv_text(_described(t)).encode("utf-16")),
    "UTF-8 CSV with a BOM": _text("bom.csv", lambda t: b"\xef\xbb\xbf" + _csv_text(_described(t)).encode()),
    "semicolons, capitals, day-first": _text("excel.csv", lambda t: _csv_text(t).replace(",", ";").upper()),
    "ragged rows": _text("ragged.csv", lambda t: _csv_text(t) + '"X1","CT","extra","fields","here"\n'),
    "header only": _text("header.csv", lambda t: ",".join(t.column_names) + "\n"),
    "a column given twice, once in capitals": _text("twice.csv", lambda t: _csv_text(t).replace(
        '"modality"', '"REPORTED_AT"', 1)),
    "a header written twice": _text("same.csv", lambda t: _csv_text(t).replace('"modality"', '"reported_at"', 1)),
    "a carriage return in the header": _text("cr.csv", lambda t: _csv_text(t).replace('"accession"', 'acc\ression', 1)),
    "an empty file": _text("empty.csv", lambda t: b""),
    "binary as Parquet": _text("garbage.parquet", lambda t: bytes(range(256)) * 8),
    "HL7 with a BOM": _text("bom.hl7", lambda t: "\ufeff" + hl7_of_log(t)),
    "HL7 with other separators": _text("other.hl7", lambda t: hl7_of_log(t).replace("|", "#")),
    "HL7 of garbage": _text("garbage.hl7", lambda t: "MSH|\rnothing|here\r\x00\x01"),
    "FHIR cut short": _text("cut.json", lambda t: json.dumps(fhir_of_log(t.slice(0, 50)))[:5000]),
    "NDJSON of garbage lines": _text("garbage.ndjson", lambda t: "{\n[1,2]\n\"text\"\n{\"resourceType\": 7}\n"),
    "FHIR of nothing to read": _text("patients.json", lambda t: json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient"}}]})),
}

COMMANDS = {
    "log": lambda log, out: ["log", str(log)],
    "fit": lambda log, out: ["fit", str(log), "--out", str(out / "fitted.yaml")],
    "backtest": lambda log, out: ["backtest", str(log), "--holdout", "3", "-r", "3", "-w", "1"],
    "replay": lambda log, out: ["replay", str(log), "--policy", "ai_priority", "-r", "2", "-w", "1"],
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_log_is_read_or_refused_naming_it(clean: pa.Table, tmp_path: Path, name: str) -> None:
    log = HOSTILE[name](clean, tmp_path / "log.csv")
    out = tmp_path / "out"
    out.mkdir()
    for command, args in COMMANDS.items():
        result = CliRunner().invoke(app, args(log, out))
        said = " ".join(result.output.split())
        assert result.exit_code in (0, 2, 3), (name, command, result.exit_code, said, result.exception)
        assert "internal error" not in said, (name, command, said)
        if result.exit_code == 2:
            assert log.name in said, (name, command, said)
            assert "fitted.yaml" not in said, (name, command, said)  # never blamed on a file not written
        if command == "fit":
            assert (out / "fitted.yaml").exists() == (result.exit_code == 0), (name, said)


@pytest.mark.parametrize(("name", "rows", "said"), [
    ("epochs in seconds", None, "acquired_at: whole numbers, read as seconds since 1970-01-01"),
    ("epochs in milliseconds", None, "read as milliseconds since 1970-01-01"),
    ("epochs in nanoseconds", None, "read as nanoseconds since 1970-01-01"),
    ("UTF-8 CSV with a BOM", None, "{n} rows read, {n} kept"),
    ("semicolons, capitals, day-first", None, "{n} rows read, {n} kept"),
    ("HL7 with a BOM", "primary", "0 unreadable"),
    ("HL7 with other separators", "primary", "0 unreadable"),
    ("sentinel reported_at", None, "sentinel_time 1"),
])
def test_what_a_hostile_log_holds_is_read_as_meant(clean: pa.Table, tmp_path: Path, name: str, rows: str | None,
                                                  said: str) -> None:
    """Where the corpus's file holds a readable log, it is read whole: every row kept (the primary reads, for
    HL7, which carries only those), and `radsim log` says how (an epoch's unit, a BOM unseen, a file's own HL7
    separators, a placeholder date counted)."""
    from simulator.oplog import read_log

    log = HOSTILE[name](clean, tmp_path / "log.csv")
    found = read_log(log)
    expected = clean.filter(pc.equal(clean.column("kind"), rows)) if rows else clean
    assert found.table.num_rows == expected.num_rows, (name, found.table.num_rows, expected.num_rows)
    result = CliRunner().invoke(app, ["log", str(log)])
    said = said.format(n=f"{expected.num_rows:,}")
    assert result.exit_code == 0 and said in " ".join(result.output.split()), result.output
    fitted = CliRunner().invoke(app, ["fit", str(log), "--out", str(tmp_path / "fitted.yaml")])
    assert fitted.exit_code == 0, fitted.output


def test_a_log_whose_key_is_no_key_is_refused_not_fitted_from_one_row(clean: pa.Table, tmp_path: Path) -> None:
    """Issue 32, item 8: a log whose accessions are all null or all equal was fitted "from 1 of 3,000 rows"
    with exit 0. Null accessions are a dropping rule of their own (`no_accession`, counted); a log left with
    fewer than 30 studies is refused naming it."""
    for name, rule in (("every accession null", "no_accession"), ("every accession equal", "duplicate")):
        log = HOSTILE[name](clean, tmp_path / "log.csv")
        said = " ".join(CliRunner().invoke(app, ["log", str(log)]).output.split())
        assert f"{rule} {clean.num_rows - (rule == 'duplicate'):,}" in said, said
        result = CliRunner().invoke(app, ["fit", str(log), "--out", str(tmp_path / "fitted.yaml")])
        words = " ".join(result.output.split())
        assert result.exit_code == 2 and log.name in words and ("too few" in words or "no row left" in words), words
        assert not (tmp_path / "fitted.yaml").exists()


def test_a_report_months_after_its_exam_is_a_wrong_date_dropped_and_counted(clean: pa.Table, tmp_path: Path) -> None:
    """A report signed 200 days after its exam (inside the sentinel rule's five years) would be a turnaround
    of 200 days in every mean: `report_too_late` drops it, counted and named; `--max-days` moves the line."""
    primary = pc.equal(clean.column("kind"), "primary").to_numpy(zero_copy_only=False)
    row = int(np.flatnonzero(primary & clean.column("reported_at").is_valid().to_numpy(zero_copy_only=False))[0])
    late = _times(clean, "reported_at", row,
                  str(np.datetime64(clean.column("acquired_at")[row].as_py(), "m") + np.timedelta64(200, "D")))
    path = tmp_path / "late.parquet"
    pq.write_table(late, path)
    said = " ".join(CliRunner().invoke(app, ["log", str(path), "--rows", str(tmp_path / "rows.csv")]).output.split())
    assert f"{clean.num_rows:,} rows read, {clean.num_rows - 1:,} kept" in said and "report_too_late 1" in said, said
    rows = csv.read_csv(tmp_path / "rows.csv").to_pylist()
    assert [(r["accession"], r["rule"]) for r in rows] == [(clean.column("accession")[row].as_py(), "report_too_late")]
    wider = " ".join(CliRunner().invoke(app, ["log", str(path), "--max-days", "365"]).output.split())
    assert "report_too_late 0" in wider, wider


@pytest.mark.parametrize("name", ["a column given twice, once in capitals", "a header written twice"])
def test_a_column_given_twice_is_refused_naming_it_not_read_either_way(clean: pa.Table, tmp_path: Path,
                                                                        name: str) -> None:
    """`REPORTED_AT` beside `reported_at` (headers are matched whatever their case), or one header written
    twice: which column to read is not guessed; the log is refused naming it and the column (the fuzz of a
    log's cells found it crashing with a KeyError)."""
    log = HOSTILE[name](clean, tmp_path / "log.csv")
    for args in (["log", str(log)], ["fit", str(log), "--out", str(tmp_path / "fitted.yaml")]):
        result = CliRunner().invoke(app, args)
        said = " ".join(result.output.split())
        assert result.exit_code == 2 and log.name in said and "reported_at: given 2 times" in said, said
    assert not (tmp_path / "fitted.yaml").exists()


HOSTILE_CELLS = st.one_of(
    st.sampled_from(["", "NULL", "N/A", "0000-00-00 00:00", "9999-12-31 23:59", "1900-01-01", "31/12/2026 08:00",
                     "2026-12-01T08:00:00Z", "2026-12-01 08:00:00+03:00", "-1", "1e308", "nan", "inf", "STAT",
                     "ROUTINE", '"', ",", "a" * 3000, "ＣＴ", "\x00", "2026-02-30 10:00", "24:00", "1/1/1", "TRUE",
                     "-", "?", "UNKNOWN", "12:61", "2026-13-01 00:00", "REPORTED_AT", "Acquired At", "accession"]),
    st.text(max_size=12), st.integers(-10**15, 10**15).map(str), st.floats().map(str))


@settings(max_examples=int(os.environ.get("RADSIM_FUZZ_EXAMPLES", 60)), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(row=st.integers(min_value=0), column=st.integers(min_value=0), value=HOSTILE_CELLS)
def test_one_hostile_cell_anywhere_in_a_log_is_read_or_refused(clean: pa.Table,
                                                               tmp_path_factory: pytest.TempPathFactory, row: int,
                                                               column: int, value: str) -> None:
    """One cell of a clean log's CSV (the header's too) replaced by what a RIS may write there: `log` and
    `fit` read it or refuse it naming the log (exit 0 or 2), never an internal error (this found a column
    given twice, and a carriage return in the header, crashing; `RADSIM_FUZZ_EXAMPLES` runs more)."""
    lines = _csv_text(clean.slice(0, 400)).splitlines()
    cells = lines[row % len(lines)].split(",")
    cells[column % len(cells)] = value
    lines[row % len(lines)] = ",".join(cells)
    folder = tmp_path_factory.mktemp("cell")
    log = folder / "log.csv"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")
    for args in (["log", str(log)], ["fit", str(log), "--out", str(folder / "fitted.yaml")]):
        result = CliRunner().invoke(app, args)
        said = " ".join(result.output.split())
        assert result.exit_code in (0, 2), (args[0], result.exit_code, said, result.exception)
        assert result.exit_code == 0 or log.name in said, said
