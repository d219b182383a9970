"""A folder of DICOM files -> a study trace (one row per study), reading headers only (header.py): the
image headers, and the AI structured reports for the AI score and flag.

Bad input never stops a trace: files that are not DICOM, are truncated, lack a StudyInstanceUID, or put
one series in two studies go to a quarantine list with the reason; the rest is read. What a trace keeps
is pseudonymous: no patient names, birth dates or IDs leave the DICOM (only the study's own UID).
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from .header import SERIES_UID, STUDY_UID, Elements, Header, HeaderError, read_header
from .report import FLAG, PROBABILITY

__all__ = ["Trace", "trace_folder", "folder_files", "ai_result", "TRACE_COLUMNS"]

PRIORITY_TO_REFERRAL = {"STAT": "stat", "HIGH": "urgent", "MEDIUM": "routine", "ROUTINE": "routine", "LOW": "routine"}
TRACE_COLUMNS = ["study_id", "arrived", "modality", "body_part", "site", "institution", "referral",
                 "study_description", "ai_score", "ai_positive", "files"]
_SCHEMA = pa.schema([("study_id", pa.string()), ("arrived", pa.timestamp("us")), ("modality", pa.string()),
                     ("body_part", pa.string()), ("site", pa.string()), ("institution", pa.string()),
                     ("referral", pa.string()),
                     ("study_description", pa.string()), ("ai_score", pa.float64()), ("ai_positive", pa.bool_()),
                     ("files", pa.int64())])
# Tags read from headers (group << 16 | element).
MODALITY, BODY_PART = 0x00080060, 0x00180015
STATION, INSTITUTION, ACQUIRED, STUDY_DATE, STUDY_TIME = 0x00081010, 0x00080080, 0x0008002A, 0x00080020, 0x00080030
PRIORITY, REQUEST_ATTRIBUTES, DESCRIPTION = 0x00401003, 0x00400275, 0x00081030
CONTENT, CONCEPT_NAME, CODE_VALUE, MEASURED, NUMERIC, CONCEPT_CODE = \
    0x0040A730, 0x0040A043, 0x00080100, 0x0040A300, 0x0040A30A, 0x0040A168
YES = "373066001"  # SNOMED CT "Yes"


@dataclass
class Trace:
    studies: pa.Table
    quarantine: list[dict[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """Studies by modality, the time range and the share with an AI result, in one line."""
        rows = self.studies.to_pylist()
        modalities = Counter(row["modality"] or "?" for row in rows)
        times = [row["arrived"] for row in rows if row["arrived"] is not None]
        scored = sum(row["ai_score"] is not None for row in rows)
        return (", ".join(f"{m} {n}" for m, n in modalities.most_common())
                + (f"; from {min(times):%Y-%m-%d %H:%M} to {max(times):%Y-%m-%d %H:%M}" if times else "")
                + f"; {scored / max(len(rows), 1):.0%} with an AI result")


def _when(header: Header) -> dt.datetime | None:
    text = header.text(ACQUIRED) or f"{header.text(STUDY_DATE) or ''}{header.text(STUDY_TIME) or ''}"
    digits = text.split("+")[0].split("-")[0]
    for pattern in ("%Y%m%d%H%M%S.%f", "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d"):
        try:
            return dt.datetime.strptime(digits, pattern)
        except ValueError:
            continue
    return None


def _priority(header: Header) -> str | None:
    """The order's priority: in the request attributes (where generated studies put it) or at the top."""
    for item in header.elements.get(REQUEST_ATTRIBUTES) or []:
        if isinstance(item, dict) and header.text(PRIORITY, item):
            return header.text(PRIORITY, item)
    return header.text(PRIORITY)


def _code(item: Elements, sequence: int) -> str | None:
    items = item.get(sequence)
    if isinstance(items, list) and items and isinstance(items[0].get(CODE_VALUE), bytes):
        return items[0][CODE_VALUE].rstrip(b" \0").decode("ascii", "replace")
    return None


def ai_result(elements: Elements) -> tuple[float | None, bool | None]:
    """(probability, flag) from an AI report (report.py), or (None, None) if it holds none."""
    score = flag = None
    stack = list(elements.get(CONTENT) or [])
    while stack:
        item = stack.pop()
        name = _code(item, CONCEPT_NAME)
        if name == PROBABILITY.value and isinstance(item.get(MEASURED), list) and item[MEASURED]:
            score = float(item[MEASURED][0][NUMERIC].decode("ascii"))
        elif name == FLAG.value and _code(item, CONCEPT_CODE) is not None:
            flag = _code(item, CONCEPT_CODE) == YES
        stack.extend(item.get(CONTENT) or [])
    return score, flag


def folder_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


def trace_folder(folder: Path, files: Iterable[Path] | None = None,
                 progress: Callable[[int], None] | None = None) -> Trace:
    """Every file under `folder`, headers only; one row per study with its last acquisition time.
    `progress` is called with the number of files read so far, every 500 files."""
    studies: dict[str, dict] = {}
    ai: dict[str, tuple[float | None, bool | None]] = {}
    series_study: dict[str, str] = {}
    quarantine: list[dict[str, str]] = []
    for count, path in enumerate(sorted(files) if files is not None else folder_files(folder), 1):
        if progress is not None and count % 500 == 0:
            progress(count)
        try:
            header = read_header(path)
        except HeaderError as exc:
            quarantine.append({"file": str(path), "reason": str(exc)})
            continue
        study, series = header.text(STUDY_UID), header.text(SERIES_UID)
        if not study:
            quarantine.append({"file": str(path), "reason": "no StudyInstanceUID"})
            continue
        if series and series_study.setdefault(series, study) != study:
            quarantine.append({"file": str(path), "reason": f"series {series} is also in study {series_study[series]}"})
            continue
        modality = header.text(MODALITY) or ""
        if modality == "SR":  # an AI result
            try:
                ai[study] = ai_result(header.elements)
            except (KeyError, ValueError, AttributeError) as exc:
                quarantine.append({"file": str(path), "reason": f"unreadable structured report: {exc!r}"})
            continue
        when = _when(header)
        row = studies.get(study)
        if row is None:
            station = header.text(STATION) or ""
            priority = (_priority(header) or "").upper()
            row = studies[study] = {
                "study_id": study, "arrived": when, "modality": modality, "body_part": header.text(BODY_PART),
                "site": (station.rsplit("-", 1)[0] if "-" in station else station) or None,
                "institution": header.text(INSTITUTION),
                "referral": PRIORITY_TO_REFERRAL.get(priority), "study_description": header.text(DESCRIPTION),
                "ai_score": None, "ai_positive": None, "files": 0}
        row["files"] += 1
        if when is not None and (row["arrived"] is None or when > row["arrived"]):
            row["arrived"] = when  # acquisition finished: the last image's time
    for study, (score, flag) in ai.items():
        if study in studies:
            studies[study].update(ai_score=score, ai_positive=flag)
    rows = sorted(studies.values(), key=lambda r: (r["arrived"] or dt.datetime.max, r["study_id"]))
    return Trace(pa.Table.from_pylist(rows, schema=_SCHEMA), quarantine)
