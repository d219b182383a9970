"""`radsim log LOG`: read a worklist event log as calibration will, and say what its messy rows were."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import bad_input, fail, out

_RULES = {  # rule -> what was done, for people (docs/calibration.md)
    "spelling": "priority or kind as hospitals write it, placeholder reader: read as meant",
    "sentinel_time": "a placeholder date (1900-01-01, 9999-12-31): made unknown",
    "no_acquired_at": "no exam end: row dropped",
    "no_accession": "no accession (the study's key): row dropped",
    "unknown_kind": "not a kind of reading work: row dropped",
    "duplicate": "accession and kind seen before: row dropped, the first kept",
    "report_before_exam": "a report signed before the exam's end (data entry): row dropped",
    "report_too_late": "a report signed more than --max-days after the exam's end: row dropped",
    "clock_skew": "a time up to the skew before the exam's end: moved to it",
    "before_acquired": "a time further before the exam's end: made unknown, row kept",
    "read_after_report": "opened after signing: the opening made unknown",
    "unknown_referral": "an order priority not stat, urgent or routine: made unknown",
    "unreported": "no report yet (open at the export): kept",
}


LogFile = Annotated[Path, typer.Argument(metavar="LOG", help="A worklist event log: CSV or Parquet (columns: "
                                          "docs/calibration.md), HL7 v2 ORM/ORU messages (.hl7), or FHIR resources "
                                          "(a Bundle as .json, NDJSON as .ndjson).")]
Trace = Annotated[Path | None, typer.Option(metavar="TRACE", help="A DICOM trace (`radsim dicom trace`): rows "
                                            "take what they lack (exam end, modality, AI result) from their "
                                            "study's images, joined by study_uid.")]


DutiesFile = Annotated[Path | None, typer.Option("--duties", metavar="CSV", help="The readers' duties as the RIS "
                                                "keeps them (a row per duty: reader, start, end): readers are on duty "
                                                "when it says, not only while the log shows them reading.")]


def duties_given(path: Path | None):
    """The roster of `--duties`, read (bad input exits 2 naming the file and column), or None."""
    if path is None:
        return None
    from simulator.oplog.duties import read_roster

    with bad_input():
        return read_roster(path)


def kept(path: Path, trace: Path | None = None, skew_minutes: float = 10.0, max_days: float = 90.0):
    """The cleaned log the fit, back-test and replay work on; bad input (exit 2) when no row is left."""
    from simulator.oplog import read_log

    with bad_input():
        found = read_log(path, skew_minutes, trace, max_days)
    if found.table.num_rows == 0:
        fail(f"{path}: no row left to work on ({found.rows:,} read; `radsim log {path}` says which rules dropped them)")
    return found


def log(
    path: LogFile,
    skew_minutes: Annotated[float, typer.Option(metavar="M", min=0.0, max=1440.0,
                                                help="How far the systems' clocks may disagree.")] = 10.0,
    max_days: Annotated[float, typer.Option(metavar="D", min=1.0, max=3650.0,
                                            help="A report signed later than this after its exam is a wrong "
                                                 "date: dropped.")] = 90.0,
    trace: Trace = None,
    rows_file: Annotated[Path | None, typer.Option("--rows", metavar="FILE", help="Also write every row a rule "
                                                   "dropped and every value it changed (accession, kind, rule, column, "
                                                   "value as the log wrote it) as CSV.")] = None,
) -> None:
    """Read a worklist event log and count its messy rows, rule by rule (nothing dropped unsaid)."""
    from rich import box
    from rich.table import Table

    from simulator.oplog import read_log

    if rows_file is not None:
        from simulator.files import claim_file

        with bad_input():
            claim_file(rows_file, _is_rows)
    with bad_input():
        found = read_log(path, skew_minutes, trace, max_days)
    out.print(f"{path}: {found.rows:,} rows read, {found.table.num_rows:,} kept", highlight=False, soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("rule", "rows", "what was done"):
        table.add_column(header, justify="right" if header == "rows" else "left")
    for rule, what in _RULES.items():
        table.add_row(rule, f"{found.counts[rule]:,}", what)
    out.print(table)
    counts = found.counts
    if "hl7_messages" in counts:
        out.print(f"HL7: {counts['hl7_messages']:,} messages: {counts['hl7_orders']:,} orders, "
                  f"{counts['hl7_status']:,} status changes, {counts['hl7_results']:,} "
                  f"results; {counts['hl7_other']:,} of other types and {counts['hl7_unreadable']:,} unreadable "
                  "left out", highlight=False)
    units = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
    for key in sorted(k for k in counts if k.startswith("epoch:")):
        _, column, unit = key.split(":")
        out.print(f"{column}: whole numbers, read as {units[unit]} since 1970-01-01 (their size says so; "
                  f"{counts[key]:,} values)", highlight=False)
    if "fhir_resources" in counts:
        out.print(f"FHIR: {counts['fhir_resources']:,} resources: {counts['fhir_studies']:,} imaging studies, "
                  f"{counts['fhir_orders']:,} orders, {counts['fhir_reports']:,} reports "
                  f"({counts['fhir_amendments']:,} amendments), {counts['fhir_ai_results']:,} AI results, "
                  f"{counts['fhir_tasks']:,} reading tasks; "
                  f"{counts['fhir_other']:,} of other types, {counts['fhir_unreadable']:,} unreadable and "
                  f"{counts['fhir_unlinked']:,} naming no known study left out", highlight=False)
    if "trace_studies" in counts:
        out.print(f"DICOM trace: {counts['trace_studies']:,} studies; {counts['trace_matched']:,} rows joined by "
                  f"study_uid, {counts['trace_filled']:,} took values they lacked from it "
                  f"({counts['trace_exam_end']:,} their exam end)", highlight=False)
    if rows_file is not None:
        import pyarrow as pa
        from pyarrow import csv

        from simulator.files import write_file

        sink = pa.BufferOutputStream()
        csv.write_csv(found.touched, sink)
        with bad_input():
            write_file(rows_file, sink.getvalue().to_pybytes(), _is_rows)
        out.print(f"wrote {rows_file}: {found.touched.num_rows:,} rows and values the rules touched", highlight=False)


def _is_rows(path: Path) -> bool:
    """A file `radsim log --rows` wrote (replaced by the next one, and nothing else is)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.readline().strip() == '"accession","kind","rule","column","value"'
