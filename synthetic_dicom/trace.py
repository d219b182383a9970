"""A folder of DICOM files -> a study trace (one row per study), reading image headers only (and the small
AI structured reports whole, for the AI score and flag).

Bad input never stops a trace: files that are not DICOM, are truncated, lack a StudyInstanceUID, or put
one series in two studies go to a quarantine list with the reason; the rest is read. What a trace keeps
is pseudonymous: no patient names, birth dates or IDs leave the DICOM (only the study's own UID).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pydicom
from pydicom.errors import InvalidDicomError

from .report import read_ai_result

__all__ = ["Trace", "trace_folder", "TRACE_COLUMNS"]

PRIORITY_TO_REFERRAL = {"STAT": "stat", "HIGH": "urgent", "MEDIUM": "routine", "ROUTINE": "routine", "LOW": "routine"}
HEADER_TAGS = ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "Modality", "BodyPartExamined",
               "StationName", "InstitutionName", "AcquisitionDateTime", "StudyDate", "StudyTime",
               "RequestedProcedurePriority", "StudyDescription"]
TRACE_COLUMNS = ["study_id", "arrived", "modality", "body_part", "site", "referral", "study_description",
                 "ai_score", "ai_positive", "files"]


@dataclass
class Trace:
    studies: pa.Table
    quarantine: list[dict[str, str]] = field(default_factory=list)


def _when(ds: pydicom.Dataset) -> dt.datetime | None:
    text = str(ds.get("AcquisitionDateTime", "") or "")
    if not text:
        text = f"{ds.get('StudyDate', '')}{str(ds.get('StudyTime', '') or '')}"
    digits = text.split("+")[0].split("-")[0]
    for pattern in ("%Y%m%d%H%M%S.%f", "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d"):
        try:
            return dt.datetime.strptime(digits, pattern)
        except ValueError:
            continue
    return None


def trace_folder(folder: Path, files: Iterable[Path] | None = None) -> Trace:
    """Every file under `folder`, headers only; one row per study with its earliest acquisition time."""
    studies: dict[str, dict] = {}
    ai: dict[str, tuple[float | None, bool | None]] = {}
    series_study: dict[str, str] = {}
    quarantine: list[dict[str, str]] = []
    for path in sorted(files if files is not None else (p for p in Path(folder).rglob("*") if p.is_file())):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=HEADER_TAGS)
        except (InvalidDicomError, EOFError, OSError, ValueError, KeyError) as exc:
            quarantine.append({"file": str(path), "reason": f"not readable as DICOM: {type(exc).__name__}: {exc}"})
            continue
        study = str(ds.get("StudyInstanceUID", "") or "")
        series = str(ds.get("SeriesInstanceUID", "") or "")
        if not study:
            quarantine.append({"file": str(path), "reason": "no StudyInstanceUID"})
            continue
        if series and series_study.setdefault(series, study) != study:
            quarantine.append({"file": str(path), "reason": f"series {series} is also in study {series_study[series]}"})
            continue
        if str(ds.get("Modality", "")) == "SR":  # an AI result: small, read whole for its content
            try:
                score, flag = read_ai_result(pydicom.dcmread(path))
            except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, AttributeError) as exc:
                quarantine.append({"file": str(path), "reason": f"unreadable structured report: {exc}"})
                continue
            ai[study] = (score, flag)
            continue
        when = _when(ds)
        row = studies.setdefault(study, {"study_id": study, "arrived": when, "modality": str(ds.get("Modality", "")),
                                         "body_part": str(ds.get("BodyPartExamined", "") or "") or None,
                                         "site": (str(ds.get("StationName", "") or "").rsplit("-", 1)[0] or
                                                  str(ds.get("InstitutionName", "") or "")) or None,
                                         "referral": PRIORITY_TO_REFERRAL.get(
                                             str(ds.get("RequestedProcedurePriority", "") or "").upper(), "routine"),
                                         "study_description": str(ds.get("StudyDescription", "") or "") or None,
                                         "ai_score": None, "ai_positive": None, "files": 0})
        row["files"] += 1
        if when is not None and (row["arrived"] is None or when > row["arrived"]):
            row["arrived"] = when  # acquisition finished: the last image's time
    for study, (score, flag) in ai.items():
        if study in studies:
            studies[study].update(ai_score=score, ai_positive=flag)
    rows = sorted(studies.values(), key=lambda r: (r["arrived"] or dt.datetime.max, r["study_id"]))
    table = pa.table({c: [r[c] for r in rows] for c in TRACE_COLUMNS}) if rows else \
        pa.table({c: pa.array([], {"arrived": pa.timestamp("us"), "files": pa.int64(), "ai_score": pa.float64(),
                                   "ai_positive": pa.bool_()}.get(c, pa.string())) for c in TRACE_COLUMNS})
    return Trace(table, quarantine)
