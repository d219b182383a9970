"""A worklist event log from FHIR resources (issue 32): bundles and NDJSON these tests write, in R5 and R4,
read into the same rows as the log they were written from, fitted the same; bad files refused naming the
file, odd resources counted, never silently skipped."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from typer.testing import CliRunner

from simulator import load_scenario, run_scenario
from simulator.cli import app
from simulator.oplog import clean_log, log_of_run, read_log
from simulator.oplog.fitting import fit
from simulator.oplog.synthetic import fhir_of_log

COMPARED = ("accession", "study_uid", "site", "modality", "description", "referral", "acquired_at", "ai_score",
            "ai_flag", "ai_at", "read_start", "reported_at", "reader")


@pytest.fixture(scope="module")
def log() -> pa.Table:
    """A log's primary reads and second opinions: what a FHIR export carries (consultations and double reads
    are not written)."""
    scenario = load_scenario("moscow_reference_center", ["horizon_days=3", "warmup_days=0.5"])
    table = clean_log(log_of_run(scenario, run_scenario(scenario, 1, workers=1, summarise=False).studies)).table
    return table.filter(pc.is_in(table.column("kind"), pa.array(["primary", "second_opinion"])))


def _write(path: Path, bundle: dict) -> Path:
    if path.suffix == ".ndjson":
        path.write_text("\n".join(json.dumps(e["resource"]) for e in bundle["entry"]) + "\n", encoding="utf-8")
    else:
        path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


@pytest.mark.parametrize(("version", "suffix", "uuids"), [("R5", ".json", False), ("R4", ".json", True),
                                                         ("R5", ".ndjson", False)])
def test_a_fhir_export_reads_as_the_log_it_was_written_from(log: pa.Table, tmp_path: Path, version: str,
                                                             suffix: str, uuids: bool) -> None:
    """Every primary read comes back with its accession, exam, priority, AI result, opening (a Task),
    signing and reader exactly (times printed with a zone offset are their wall time); each second opinion
    is a report by another reader; the fit is the log's as far as FHIR carries it (no opening of a second
    opinion, no finding, so the prevalence is the flag rate; no arrival at the archive, so no ingest delay
    and the AI's latency from the exam; no unsigned second opinion)."""
    found = read_log(_write(tmp_path / f"export{suffix}", fhir_of_log(log, version, uuids=uuids)))
    assert found.counts["fhir_unlinked"] == 0 and found.counts["fhir_unreadable"] == 0
    got = {r["accession"]: r for r in found.table.filter(pc.equal(found.table.column("kind"), "primary")).to_pylist()}
    want = {r["accession"]: r for r in log.filter(pc.equal(log.column("kind"), "primary")).to_pylist()}
    assert got.keys() == want.keys()
    for accession, row in want.items():
        assert {c: got[accession][c] for c in COMPARED} == {c: row[c] for c in COMPARED}, accession
    opinions = found.table.filter(pc.equal(found.table.column("kind"), "second_opinion"))
    signed = log.filter(pc.and_(pc.equal(log.column("kind"), "second_opinion"), pc.is_valid(log.column("reported_at"))))
    assert opinions.num_rows == signed.num_rows > 0
    assert sorted(opinions.column("reported_at").to_pylist()) == sorted(signed.column("reported_at").to_pylist())
    carried = log.filter(pc.or_(pc.equal(log.column("kind"), "primary"), pc.is_valid(log.column("reported_at"))))
    primary = pc.equal(carried.column("kind"), "primary")
    for column in ("finding", "received_at", "read_start"):  # not in the export (an opening: primaries' only)
        kind = carried.schema.field(column).type
        kept = pc.if_else(primary, carried.column(column), pa.scalar(None, kind)) if column == "read_start" else \
            pa.nulls(carried.num_rows, kind)
        carried = carried.set_column(carried.column_names.index(column), column, kept)
    as_fhir, as_log = yaml.safe_load(fit(found.table).yaml()), yaml.safe_load(fit(carried).yaml())
    assert as_fhir["study_types"] == as_log["study_types"] and as_fhir["pools"] == as_log["pools"]


def test_odd_resources_are_counted_and_bad_files_refused_naming_them(log: pa.Table, tmp_path: Path) -> None:
    bundle = fhir_of_log(log.slice(0, 40))
    bundle["entry"] += [
        {"resource": {"resourceType": "Patient", "id": "p1"}},  # another type: counted
        {"resource": {"resourceType": "ImagingStudy", "id": "bad", "status": "available", "started": "someday",
                      "subject": {"reference": "Patient/p1"}}},  # no schema reads it: counted
        {"resource": {"resourceType": "DiagnosticReport", "id": "lost", "status": "final", "code": {"text": "x"},
                      "study": [{"reference": "ImagingStudy/nowhere"}]}},  # names no known study: counted
        "not a resource"]
    path = _write(tmp_path / "odd.json", bundle)
    result = CliRunner().invoke(app, ["log", str(path)])
    assert result.exit_code == 0, result.output
    line = " ".join(result.output.split())
    assert "1 of other types" in line and "2 unreadable" in line and "1 naming no known study" in line, line
    for name, text, said in (("broken.json", '{"resourceType": "Bundle", "entry": [', "not JSON"),
                             ("plain.json", '{"rows": []}', "not a FHIR resource")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = CliRunner().invoke(app, ["fit", str(tmp_path / name), "--out", str(tmp_path / "fit.yaml")])
        assert result.exit_code == 2 and name in result.output and said in result.output, result.output
        assert not (tmp_path / "fit.yaml").exists()
