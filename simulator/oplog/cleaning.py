"""Reading a worklist event log and handling its messy rows by documented rules, each counted.

Rules, in the order they apply (docs/calibration.md):
- `spelling`: a kind or order priority written in capitals or with spaces around it (`STAT`, ` Routine`) is
  read in lower case, trimmed; a reader that is a placeholder (empty, `UNASSIGNED`, `NONE`, `N/A`, `-`, ...)
  is no reader (the row is not read yet).
- `sentinel_time`: a time more than SENTINEL_YEARS from the log's median exam end (`1900-01-01`,
  `9999-12-31`: what systems write for "no date") is made unknown, as if it were empty.
- `no_acquired_at`: a row without the exam's end is dropped (every time is measured from it).
- `no_accession`: a row that names no accession is dropped (it cannot be told from another).
- `unknown_kind`: a `kind` that is not a kind of reading work is dropped.
- `duplicate`: a row with the accession and kind of an earlier row (an export repeated) is dropped; the
  first is kept.
- `clock_skew`: a time before the exam's end by at most `skew_minutes` (the systems' clocks disagree) is
  moved to the exam's end.
- `report_before_exam`: a report signed before the exam's end by more than that (a data-entry error) is
  dropped: its turnaround is not known, and a study reported at an unknown time is not a study left open.
- `report_too_late`: a report signed more than `max_days` (MAX_DAYS) after the exam's end is dropped the same
  way: no reading service takes months over a study; the date is wrong.
- `before_acquired`: any other time before the exam's end by more than that is impossible: that time is made
  unknown (null), the row kept (its arrival still counts).
- `read_after_report`: a read opened after its report was signed: the opening is made unknown.
- `unknown_referral`: an order priority that is not stat, urgent or routine is made unknown (the scenario's
  mix then decides it).
- `unreported`: no report yet (work open when the log was exported): kept, counted for information.
Time zones: a Parquet time with a zone is its local wall time in that zone, as for traces; a CSV time
printed with a UTC offset is the wall time it prints (the offset dropped: the calendar is the sites' clock).

Nothing is dropped without being counted: rows read = rows kept + the six dropping rules (a property
test holds it).
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ScenarioError
from .columns import KINDS, LOG_COLUMNS, REFERRALS, REQUIRED, TIMES, minutes_since

__all__ = ["CleanLog", "read_log", "clean_log", "read_text_csv", "given_twice", "GIVEN_TWICE", "text_time", "DROPPING",
           "SKEW_MINUTES", "TOUCHED"]

DROPPING = ("no_acquired_at", "no_accession", "unknown_kind", "duplicate", "report_before_exam", "report_too_late")
SKEW_MINUTES = 10.0
MAX_DAYS = 90.0  # a report later than this after its exam is a wrong date, not a turnaround
SENTINEL_YEARS = 5  # a time this far from the log's median exam end is a placeholder date, not a time
# Order priorities as hospitals and HL7 v2 (ORC-7 / OBR-27: S, A, R, P, C, T) write them, in lower case
# (docs/calibration.md has the table); anything else is `unknown_referral`.
PRIORITY_WORDS = {
    "s": "stat", "stat": "stat", "emergency": "stat", "emergent": "stat", "immediate": "stat", "cito": "stat",
    "a": "urgent", "asap": "urgent", "urgent": "urgent", "urg": "urgent", "u": "urgent", "t": "urgent",
    "timing critical": "urgent", "high": "urgent",
    "r": "routine", "routine": "routine", "rout": "routine", "normal": "routine", "elective": "routine",
    "p": "routine", "preop": "routine", "preoperative": "routine", "c": "routine", "callback": "routine",
    "low": "routine",
}
# What RIS exports write where nobody has taken a study yet.
READER_PLACEHOLDERS = ("", "unassigned", "none", "null", "n/a", "na", "-", "--", "?", "0", "nobody", "unknown")
EPOCH = np.datetime64(0, "us")  # the rules compare times only with each other


TOUCHED = pa.schema([("accession", pa.string()), ("kind", pa.string()), ("rule", pa.string()),
                     ("column", pa.string()), ("value", pa.string())])


@dataclass
class CleanLog:
    table: pa.Table  # the rows kept, the log's columns with the rules applied
    rows: int  # rows read
    counts: dict[str, int] = field(default_factory=dict)  # rule -> rows it touched
    touched: pa.Table = field(default_factory=TOUCHED.empty_table)  # each row a rule dropped, each value it changed


class _Touched:
    """What each rule did, row by row: the accession and kind, the rule, the column and the value as the log
    wrote it (`radsim log --rows`), so that a count can be checked against the export."""

    def __init__(self) -> None:
        self.parts: list[pa.Table] = []

    def note(self, table: pa.Table, mask: np.ndarray | pa.Array | pa.ChunkedArray, rule: str, column: str = "") -> None:
        mask = np.asarray(mask.to_numpy(zero_copy_only=False) if hasattr(mask, "to_numpy") else mask, dtype=bool)
        if not mask.any():
            return
        picked = table.filter(pa.array(mask))
        n = picked.num_rows
        value = pc.cast(picked.column(column), pa.string()) if column else pa.nulls(n, pa.string())
        self.parts.append(pa.table([pc.cast(picked.column("accession"), pa.string()),
                                    pc.cast(picked.column("kind"), pa.string()), pa.array([rule] * n, pa.string()),
                                    pa.array([column] * n, pa.string()), value], schema=TOUCHED))

    def table(self) -> pa.Table:
        return pa.concat_tables(self.parts) if self.parts else TOUCHED.empty_table()


def read_log(path: str | Path, skew_minutes: float = SKEW_MINUTES, trace: str | Path | None = None,
             max_days: float = MAX_DAYS) -> CleanLog:
    """A CSV or Parquet log (or HL7 v2 messages, or FHIR resources as a Bundle's .json or NDJSON), checked and
    cleaned; bad input (exit 2) naming the file and the column. With a DICOM `trace`, what a row lacks is
    taken from its study's images first (`trace_join.py`)."""
    path = Path(path)
    extra: dict[str, int] = {}
    try:
        if path.suffix.lower() in (".hl7", ".txt"):
            from ..extras import require
            from .hl7_messages import read_hl7

            require("oplog", f"{path}: reading HL7 v2 messages")

            table, extra = read_hl7(path)
        elif path.suffix.lower() in (".json", ".ndjson"):
            from ..extras import require
            from .fhir_resources import read_fhir

            require("oplog", f"{path}: reading FHIR resources")
            try:
                table, extra = read_fhir(path)
            except ValueError as exc:
                raise ScenarioError(str(path), [("", str(exc))]) from None
        elif path.suffix.lower() == ".csv":
            table = read_text_csv(path)
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(path)
    except FileNotFoundError:
        raise ScenarioError(str(path), [("", "no such log file")]) from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise ScenarioError(str(path), [("", f"not a readable CSV or Parquet log: {exc}")]) from None
    table = _typed(table, str(path), extra)
    if trace is not None:
        from .trace_join import join_trace

        table, joined = join_trace(table, Path(trace))
        extra.update(joined)
    found = clean_log(table, skew_minutes, max_days)
    found.counts.update(extra)
    return found


def read_text_csv(path: Path, known: Iterable[str] = LOG_COLUMNS) -> pa.Table:
    """A CSV export as spreadsheets and RIS systems write it: the separator sniffed from the header line
    (`,`, `;` as Excel writes in many locales, tab or `|`), headers matched to the `known` names whatever
    their case and spacing (`Acquired At` is `acquired_at`), every column read as text (a log's typed in
    `_typed`)."""
    from pyarrow import csv

    import csv as text_csv

    with open(path, "rb") as handle:
        header = handle.readline().decode("utf-8-sig", "replace")
    header = header.split("\r")[0].split("\n")[0]  # where Arrow ends the line too: a bare CR ends it
    delimiter = max(",;\t|", key=header.count) if any(c in header for c in ",;\t|") else ","
    try:
        given = next(text_csv.reader([header], delimiter=delimiter), [])
    except text_csv.Error as exc:  # (as Arrow's own refusals: the callers name the file)
        raise pa.ArrowInvalid(f"its header line: {exc}") from None
    table = csv.read_csv(path, parse_options=csv.ParseOptions(delimiter=delimiter),
                         convert_options=csv.ConvertOptions(column_types=dict.fromkeys(given, pa.string()),
                                                            strings_can_be_null=True))
    names = [re.sub(r"[\s\-]+", "_", name.strip().lower()) for name in table.column_names]
    known = set(known)
    return table.rename_columns([n if n in known else o for n, o in zip(names, table.column_names)])


GIVEN_TWICE = "(headers are matched whatever their case and spacing): which one to read is not guessed"


def given_twice(names: list[str], known: Iterable[str]) -> list[str]:
    """The known columns a table gives more than once (`REPORTED_AT` beside `reported_at`, both matched to
    one name by `read_text_csv`, or one header written twice)."""
    return [name for name in known if names.count(name) > 1]


# The forms of a time a log may print besides ISO 8601 (which Arrow reads itself): day first, as most of the
# world writes dates. Month-first (US) forms are not guessed: 03/04 would be read wrong half the time.
DAY_FIRST = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M",
             "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M")
FLAGS = {"y": True, "yes": True, "true": True, "t": True, "1": True, "n": False, "no": False, "false": False,
         "f": False, "0": False}


def text_time(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A printed time column as timestamps: ISO 8601, or the one day-first form that reads every value. A
    time printed with an offset ("10:00+03:00", "10:00Z") is the wall time it prints."""
    column = pc.replace_substring_regex(column, r"(Z|[+-]\d\d(:?\d\d)?)$", "")
    try:
        return column.cast(pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    for form in DAY_FIRST:
        try:
            return pc.strptime(column, format=form, unit="us", error_is_null=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return column.cast(pa.timestamp("us"))  # raises, naming the first value no form reads


def _flag(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Y/N, yes/no, 1/0, true/false in any case as booleans; anything else raises naming it."""
    words = pc.utf8_lower(pc.utf8_trim_whitespace(column))
    odd = [v for v in words.drop_null().unique().to_pylist() if v not in FLAGS]
    if odd:
        raise pa.ArrowInvalid(f"'{odd[0]}'")
    return pa.chunked_array([pa.array([None if v is None else FLAGS[v] for v in words.to_pylist()], pa.bool_())])


EPOCH_UNITS = (("s", 1e11), ("ms", 1e14), ("us", 1e17), ("ns", math.inf))  # a unit, and the size its epochs stay under


def _epoch(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, str]:
    """An integer time column as an epoch (since 1970-01-01), its unit told by its size: a time of this
    century is about 1.7e9 seconds, 1.7e12 milliseconds, 1.7e15 microseconds or 1.7e18 nanoseconds."""
    values = np.abs(column.drop_null().to_numpy().astype(float))
    size = float(np.median(values)) if values.size else 0.0
    unit = next(u for u, limit in EPOCH_UNITS if size < limit)
    # Unsafe only in dropping nanoseconds: the unit's bound keeps every value within microseconds' range.
    return pc.cast(pc.cast(column, pa.int64()).cast(pa.timestamp(unit)), pa.timestamp("us"), safe=False), unit


def _typed(table: pa.Table, label: str, notes: dict[str, int] | None = None) -> pa.Table:
    """The log's columns as LOG_COLUMNS types; an integer time column read as an epoch, its unit noted in
    `notes` (`epoch:COLUMN:UNIT` -> values), so `radsim log` says how it was read."""
    problems = [(name, "missing column (a log needs accession, modality and acquired_at; the columns found: "
                       f"{', '.join(table.column_names[:20]) or 'none'})")
                for name in REQUIRED if name not in table.column_names]
    twice = given_twice(table.column_names, LOG_COLUMNS)
    problems += [(name, f"given {table.column_names.count(name)} times {GIVEN_TWICE}") for name in twice]
    columns = {}
    for name, kind in LOG_COLUMNS.items():
        if name not in table.column_names or name in twice:
            columns[name] = pa.nulls(table.num_rows, kind)
            continue
        column = table.column(name)
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = pc.local_timestamp(column)  # local wall time in the column's zone, as for traces
        elif name in TIMES and pa.types.is_integer(column.type):
            try:
                column, unit = _epoch(column)
            except (pa.ArrowInvalid, OverflowError):
                problems.append((name, "whole numbers that are no epoch in seconds, milliseconds, microseconds or "
                                       "nanoseconds of a time radsim can read"))
                continue
            if notes is not None:
                notes[f"epoch:{name}:{unit}"] = len(column) - column.null_count
        text = pa.types.is_string(column.type)
        try:
            columns[name] = text_time(column) if text and name in TIMES else \
                _flag(column) if text and kind == pa.bool_() else column.cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            # Arrow names the first value it could not read, quoted or after the last colon.
            quoted = re.search(r"'([^']*)'", str(exc))
            value = (quoted[1] if quoted else str(exc).split(":")[-1].strip()) if text else None
            problems.append((name, f"must be {_WORDS.get(str(kind), kind)}, not {value!r}" if value is not None else
                             f"must be {_WORDS.get(str(kind), kind)}, not {column.type}"))
    if problems:
        raise ScenarioError(label, problems)
    return pa.table(columns)


_WORDS = {"timestamp[us]": "a time: ISO 8601 (2026-02-02 08:30, 2026-02-02T08:30:00) or day first (02.02.2026 08:30)",
          "bool": "a yes/no flag (Y/N, yes/no, true/false, 1/0)", "double": "a number"}


def clean_log(table: pa.Table, skew_minutes: float = SKEW_MINUTES, max_days: float = MAX_DAYS) -> CleanLog:
    """The rules of this module applied to a typed log (the columns of LOG_COLUMNS)."""
    rows = table.num_rows
    counts = dict.fromkeys(("spelling", "sentinel_time", "no_acquired_at", "no_accession", "unknown_kind",
                            "duplicate", "clock_skew", "report_before_exam", "report_too_late", "before_acquired",
                            "read_after_report", "unknown_referral", "unreported"), 0)
    touched = _Touched()
    table, counts["spelling"] = _spelling(table, touched)
    table, counts["sentinel_time"] = _sentinels(table, touched)
    keep = table.column("acquired_at").is_valid().to_numpy(zero_copy_only=False)
    counts["no_acquired_at"] = int((~keep).sum())
    touched.note(table, ~keep, "no_acquired_at")
    # A row that names no study cannot be told from another (every null would be one study, repeated).
    named = pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(table.column("accession"))), 0),
                         False).to_numpy(zero_copy_only=False)
    counts["no_accession"] = int((keep & ~named).sum())
    touched.note(table, keep & ~named, "no_accession", "accession")
    keep &= named
    kind = pc.fill_null(table.column("kind"), "primary")
    known = pc.is_in(kind, pa.array(KINDS)).to_numpy(zero_copy_only=False)
    counts["unknown_kind"] = int((keep & ~known).sum())
    touched.note(table, keep & ~known, "unknown_kind", "kind")
    keep &= known
    key = pc.binary_join_element_wise(pc.fill_null(table.column("accession"), ""), kind, "\x1f")
    seen: set[str] = set()
    first = np.zeros(rows, dtype=bool)
    for i, value in enumerate(key.to_pylist()):
        if keep[i] and value not in seen:
            seen.add(value)
            first[i] = True
    counts["duplicate"] = int((keep & ~first).sum())
    touched.note(table, keep & ~first, "duplicate")
    table = table.set_column(table.column_names.index("kind"), "kind", kind).filter(pa.array(keep & first))
    acquired = minutes_since(table.column("acquired_at"), EPOCH)
    taken = minutes_since(table.column("reported_at"), EPOCH) - acquired
    signed_early = -taken > skew_minutes
    counts["report_before_exam"] = int(signed_early.sum())
    touched.note(table, signed_early, "report_before_exam", "reported_at")
    signed_late = taken > max_days * 1440.0
    counts["report_too_late"] = int(signed_late.sum())
    touched.note(table, signed_late, "report_too_late", "reported_at")
    table = table.filter(pa.array(~signed_early & ~signed_late))
    acquired = acquired[~signed_early & ~signed_late]
    for name in TIMES[1:]:
        times = minutes_since(table.column(name), EPOCH)
        early = acquired - times  # minutes before the exam's end
        skewed = (early > 0) & (early <= skew_minutes)
        impossible = early > skew_minutes
        counts["clock_skew"] += int(skewed.sum())
        counts["before_acquired"] += int(impossible.sum())
        touched.note(table, skewed, "clock_skew", name)
        touched.note(table, impossible, "before_acquired", name)
        column = table.column(name)
        column = pc.if_else(pa.array(skewed), table.column("acquired_at"), column)
        column = pc.if_else(pa.array(impossible), pa.scalar(None, column.type), column)
        table = table.set_column(table.column_names.index(name), name, column)
    opened, signed = (minutes_since(table.column(name), EPOCH) for name in ("read_start", "reported_at"))
    late = opened > signed
    counts["read_after_report"] = int(late.sum())
    touched.note(table, late, "read_after_report", "read_start")
    column = table.column("read_start")
    table = table.set_column(table.column_names.index("read_start"), "read_start",
                             pc.if_else(pa.array(late), pa.scalar(None, column.type), column))
    referral = table.column("referral")
    odd = pc.and_(pc.is_valid(referral), pc.invert(pc.is_in(referral, pa.array(REFERRALS))))
    counts["unknown_referral"] = int(pc.sum(odd).as_py() or 0)
    touched.note(table, pc.fill_null(odd, False), "unknown_referral", "referral")
    table = table.set_column(table.column_names.index("referral"), "referral",
                             pc.if_else(odd, pa.scalar(None, pa.string()), referral))
    counts["unreported"] = int(table.column("reported_at").null_count)
    return CleanLog(table, rows, counts, touched.table())


def _spelling(table: pa.Table, touched: _Touched) -> tuple[pa.Table, int]:
    """Kinds and priorities in lower case, trimmed; placeholder readers made null. The rows changed."""
    changed = np.zeros(table.num_rows, dtype=bool)
    for name in ("kind", "referral"):
        column = table.column(name)
        clean = pc.utf8_lower(pc.utf8_trim_whitespace(column))
        if name == "referral":  # the words and HL7 v2 codes hospitals use for the three priorities
            words = clean.to_pylist()
            clean = pa.chunked_array([pa.array([PRIORITY_WORDS.get(w, w) for w in words], pa.string())])
        differs = pc.fill_null(pc.not_equal(clean, column), False).to_numpy(zero_copy_only=False)
        touched.note(table, differs, "spelling", name)
        changed |= differs
        table = table.set_column(table.column_names.index(name), name, clean)
    reader = table.column("reader")
    placeholder = pc.fill_null(pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(reader)),
                                        pa.array(READER_PLACEHOLDERS)), False)
    touched.note(table, placeholder, "spelling", "reader")
    changed |= placeholder.to_numpy(zero_copy_only=False)
    table = table.set_column(table.column_names.index("reader"), "reader",
                             pc.if_else(placeholder, pa.scalar(None, pa.string()), reader))
    return table, int(changed.sum())


def _sentinels(table: pa.Table, touched: _Touched) -> tuple[pa.Table, int]:
    """Times far from the log's median exam end (placeholder dates) made null. The rows changed."""
    acquired = minutes_since(table.column("acquired_at"), EPOCH)
    if not np.isfinite(acquired).any():
        return table, 0
    middle, reach = float(np.nanmedian(acquired)), SENTINEL_YEARS * 365.25 * 1440.0
    changed = np.zeros(table.num_rows, dtype=bool)
    for name in TIMES:
        times = minutes_since(table.column(name), EPOCH)
        with np.errstate(invalid="ignore"):
            far = np.abs(times - middle) > reach
        if far.any():
            touched.note(table, far, "sentinel_time", name)
            changed |= far
            column = table.column(name)
            table = table.set_column(table.column_names.index(name), name,
                                     pc.if_else(pa.array(far), pa.scalar(None, column.type), column))
    return table, int(changed.sum())
