"""HL7 v2 order and result messages (ORM^O01, ORU^R01, as RIS systems export them) into the worklist event
log's form, read with python-hl7 (docs/calibration.md).

One row per accession: the order gives the exam (OBR-3 filler order number or ORC-3 as the accession,
OBR-4 the procedure as the description, OBR-24 the modality, OBR-27.6 or ORC-7.6 the priority, OBR-8 the
exam's end or else OBR-7 its start, MSH-4 the site); a status change to "in process" (ORC-1 SC, ORC-5 IP)
gives the read's opening (ORC-9, else MSH-7); the first final result (OBR-25 F or C) gives the report's
signing (OBR-22) and the reader (OBR-32.1). A result without an order keeps a row without an exam
end, which the cleaning rules then count. Other message types and unreadable messages are counted, never
silently skipped.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow as pa

from .columns import LOG_COLUMNS

__all__ = ["read_hl7"]

PRIORITIES = {"S": "stat", "A": "urgent", "R": "routine", "T": "urgent"}  # HL7 table 0027 (T: timing critical)
_STARTS = re.compile(r"(?=^MSH[^\w\s])", re.MULTILINE)  # MSH, then the file's own field separator


def _text(segment, field: int, component: int = 1) -> str | None:
    """A field's component as text (the first repetition), None where empty or absent."""
    if segment is None:
        return None
    try:
        value = str(segment[field])
    except IndexError:
        return None
    parts = value.split("~")[0].split("^")
    return (parts[component - 1] or None) if component <= len(parts) else None


def _time(segment, field: int) -> dt.datetime | None:
    import hl7

    text = _text(segment, field)
    if text is None:
        return None
    when = hl7.parse_datetime(text)
    return when.replace(tzinfo=None) if when is not None else None  # the wall time printed (as for CSV)


def read_hl7(path: Path) -> tuple[pa.Table, dict[str, int]]:
    """The log rows of a file of HL7 v2 messages, and counts: messages read, orders, results, other types,
    unreadable."""
    import hl7

    text = path.read_text(encoding="utf-8-sig", errors="replace").replace("\r\n", "\r").replace("\n", "\r")
    counts = {"hl7_messages": 0, "hl7_orders": 0, "hl7_status": 0, "hl7_results": 0, "hl7_other": 0,
              "hl7_unreadable": 0}
    rows: dict[str, dict] = {}
    for chunk in _STARTS.split(text.replace("\r", "\n")):
        chunk = chunk.strip()
        if not chunk:
            continue
        counts["hl7_messages"] += 1
        try:
            message = hl7.parse(chunk.replace("\n", "\r"))
            kind = _text(message.segment("MSH"), 9)
        except (hl7.ParseException, KeyError, IndexError, ValueError, AssertionError):  # python-hl7 asserts too
            counts["hl7_unreadable"] += 1
            continue
        if kind not in ("ORM", "ORU"):
            counts["hl7_other" if kind else "hl7_unreadable"] += 1  # no message type: not a message
            continue
        try:
            obr = message.segment("OBR")
        except KeyError:
            counts["hl7_unreadable"] += 1
            continue
        try:
            orc = message.segment("ORC")
        except KeyError:
            orc = None
        accession = _text(obr, 3) or _text(orc, 3)
        if accession is None:
            counts["hl7_unreadable"] += 1
            continue
        row = rows.setdefault(accession, {"accession": accession})
        try:
            if kind == "ORM" and _text(orc, 1) == "SC":
                # A status change: "in process" (ORC-5 IP) is the read opened, at its transaction time (ORC-9).
                counts["hl7_status"] += 1
                if _text(orc, 5) == "IP" and "read_start" not in row:
                    row["read_start"] = _time(orc, 9) or _time(message.segment("MSH"), 7)
            elif kind == "ORM":
                counts["hl7_orders"] += 1
                priority = _text(obr, 27, 6) or _text(orc, 7, 6)
                row.update(site=_text(message.segment("MSH"), 4), modality=_text(obr, 24),
                           description=_text(obr, 4, 2) or _text(obr, 4),
                           referral=PRIORITIES.get((priority or "R").upper(), "routine"),
                           acquired_at=_time(obr, 8) or _time(obr, 7), kind="primary")
            else:
                counts["hl7_results"] += 1
                if _text(obr, 25) in ("F", "C") and "reported_at" not in row:
                    row.update(reported_at=_time(obr, 22), reader=_text(obr, 32))
        except (ValueError, TypeError):
            counts["hl7_unreadable"] += 1
    columns = {name: pa.array([row.get(name) for row in rows.values()], kind) for name, kind in LOG_COLUMNS.items()}
    return pa.table(columns), counts
