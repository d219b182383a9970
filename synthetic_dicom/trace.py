"""A folder of DICOM files -> a study trace (one row per imaging study), reading headers only (header.py).

Real folders mix what a modality acquired with everything else a study collects: AI results, reports,
dose reports, presentation states, key object selections, copies of the same file. So each object is
first classified (objects.py): the images make the row (modality, body part, site, order priority, and
the arrival: the last image's acquisition), the AI result gives the score and flag (recognised by its
content; the latest if there are several), and every other object is counted but changes nothing.
Files are deduplicated by SOPInstanceUID. A row is the same whatever order the files come in.

Bad input never stops a trace. What is not used is listed with its reason and a short code: files that
are not DICOM, truncated, malformed, unreadable; DICOMDIRs (skipped); files with no StudyInstanceUID;
a series that is also in another study; duplicates; studies with no image to read (SR only, ...). Paths
in that list are relative to the traced folder, or hashed. What a trace keeps is pseudonymous: no patient
names, birth dates or IDs leave the DICOM (only the study's own UID).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from .folders import folder_files
from .header import DICOMDIR, SERIES_UID, SOP_INSTANCE, STUDY_UID, Header, HeaderError, read_header
from .objects import IMAGE, RADSIM_AI, AiConcepts, AiResult, ai_result, kind_of

__all__ = ["Trace", "trace_folder", "folder_files", "TRACE_COLUMNS", "SiteOf", "acquired_at"]

PRIORITY_TO_REFERRAL = {"STAT": "stat", "HIGH": "urgent", "MEDIUM": "routine", "ROUTINE": "routine", "LOW": "routine"}
_SCHEMA = pa.schema([("study_id", pa.string()), ("arrived", pa.timestamp("us")), ("modality", pa.string()),
                     ("body_part", pa.string()), ("site", pa.string()), ("institution", pa.string()),
                     ("station", pa.string()), ("source_ae", pa.string()), ("referral", pa.string()),
                     ("study_description", pa.string()), ("ai_score", pa.float64()), ("ai_positive", pa.bool_()),
                     ("files", pa.int64()), ("other_objects", pa.int64())])
TRACE_COLUMNS = _SCHEMA.names
# Tags read from headers (group << 16 | element).
MODALITY, BODY_PART = 0x00080060, 0x00180015
STATION, INSTITUTION, ACQUIRED, STUDY_DATE, STUDY_TIME = 0x00081010, 0x00080080, 0x0008002A, 0x00080020, 0x00080030
ACQUISITION_DATE, ACQUISITION_TIME = 0x00080022, 0x00080032
PRIORITY, REQUEST_ATTRIBUTES, DESCRIPTION, SOURCE_AE = 0x00401003, 0x00400275, 0x00081030, 0x00020016

SiteOf = Callable[[str | None, str | None, str | None], str | None]  # (station, AE title, institution) -> site


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

    def not_used(self) -> str:
        """The files left out, by reason, in one line."""
        codes = Counter(entry["code"] for entry in self.quarantine)
        return ", ".join(f"{n} {code}" for code, n in codes.most_common())


def acquired_at(header: Header) -> dt.datetime | None:
    """When the image was acquired: AcquisitionDateTime, else AcquisitionDate and Time, else the study's."""
    text = header.text(ACQUIRED)
    if not text and header.text(ACQUISITION_DATE):
        text = f"{header.text(ACQUISITION_DATE)}{header.text(ACQUISITION_TIME) or ''}"
    if not text:
        text = f"{header.text(STUDY_DATE) or ''}{header.text(STUDY_TIME) or ''}"
    digits = text.split("+")[0].split("-")[0]
    for pattern in ("%Y%m%d%H%M%S.%f", "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d%H", "%Y%m%d"):
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


def generated_site(station: str | None, modality: str | None) -> str | None:
    """The site of a station named as radsim names them, `<site>-<modality>`; None for any other name,
    and for a name cut at StationName's 16 characters (whose site part may be cut too)."""
    if not station or "-" not in station or not modality:
        return None
    site, suffix = station.rsplit("-", 1)
    return site if suffix == modality and len(station) < 16 else None


def _mode(values: Iterable[str | None]) -> str | None:
    """The most common value, ties to the smallest: the same whatever the order of the files."""
    counts = Counter(v for v in values if v)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


@dataclass
class _Study:
    images: list[Header] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # what each non-image object is
    files: list[Path] = field(default_factory=list)
    ai: AiResult | None = None


def _row(study: str, s: _Study, site_of: SiteOf | None) -> dict:
    images = s.images
    times = [t for t in map(acquired_at, images) if t is not None]
    modality = _mode(h.text(MODALITY) for h in images)
    station = _mode(h.text(STATION) for h in images)
    institution = _mode(h.text(INSTITUTION) for h in images)
    source_ae = _mode(h.text(SOURCE_AE) for h in images)
    priority = (_mode(_priority(h) for h in images) or "").upper()
    mapped = site_of(station, source_ae, institution) if site_of is not None else None
    return {"study_id": study, "arrived": max(times) if times else None, "modality": modality,
            "body_part": _mode(h.text(BODY_PART) for h in images),
            "site": mapped or generated_site(station, modality), "institution": institution, "station": station,
            "source_ae": source_ae, "referral": PRIORITY_TO_REFERRAL.get(priority),
            "study_description": _mode(h.text(DESCRIPTION) for h in images),
            "ai_score": s.ai.score if s.ai else None, "ai_positive": s.ai.positive if s.ai else None,
            "files": len(images), "other_objects": len(s.others)}


def trace_folder(folder: Path, files: Iterable[Path] | None = None,
                 progress: Callable[[int], None] | None = None, *, ai: AiConcepts = RADSIM_AI,
                 site_of: SiteOf | None = None, hash_paths: bool = False) -> Trace:
    """Every file under `folder`, headers only; one row per study with at least one image. `site_of` maps
    a study's station, sending AE title and institution to a site (a site map); `hash_paths` lists left-out
    files by a hash of their path instead of the path. `progress` is called with the number of files read
    so far, every 500 files."""
    folder = Path(folder)

    def shown(path: Path) -> str:
        try:
            name = path.relative_to(folder).as_posix()
        except ValueError:
            name = path.name
        return hashlib.sha256(name.encode()).hexdigest()[:16] if hash_paths else name

    studies: dict[str, _Study] = {}
    seen: dict[str, tuple[Path, str]] = {}  # SOPInstanceUID -> the file it was first read from, and its study
    series_study: dict[str, str] = {}
    quarantine: list[dict[str, str]] = []

    def leave_out(path: Path, code: str, reason: str) -> None:
        quarantine.append({"file": shown(path), "code": code, "reason": reason})

    for count, path in enumerate(sorted(files) if files is not None else folder_files(folder), 1):
        if progress is not None and count % 500 == 0:
            progress(count)
        try:
            header = read_header(path)
        except HeaderError as exc:
            leave_out(path, exc.code, str(exc))
            continue
        if header.sop_class == DICOMDIR:
            leave_out(path, "DICOMDIR", "a DICOMDIR (a media directory of other files): skipped")
            continue
        study, series, instance = header.text(STUDY_UID), header.text(SERIES_UID), header.text(SOP_INSTANCE)
        if not study:
            leave_out(path, "no study", "no StudyInstanceUID")
            continue
        if instance and instance in seen:
            first, other = seen[instance]
            if other == study:
                leave_out(path, "duplicate", f"the same object (SOPInstanceUID) as {shown(first)}")
            else:
                leave_out(path, "object in two studies",
                          f"its SOPInstanceUID is also in study {other} ({shown(first)})")
            continue
        if series and series_study.setdefault(series, study) != study:
            leave_out(path, "series in two studies", f"series {series} is also in study {series_study[series]}")
            continue
        if instance:
            seen[instance] = (path, study)
        entry = studies.setdefault(study, _Study())
        entry.files.append(path)
        kind = kind_of(header.sop_class, header.text(MODALITY))
        if kind == IMAGE:
            entry.images.append(header)
            continue
        result = None
        if kind == "structured report":
            try:
                result = ai_result(header, ai)
            except (ValueError, KeyError) as exc:
                leave_out(path, "malformed", f"unreadable AI result: {exc}")
                entry.files.pop()
                continue
        if result is not None:
            if entry.ai is None or (result.made, result.instance) > (entry.ai.made, entry.ai.instance):
                entry.ai = result  # the latest result, whatever the order of the files
            entry.others.append("AI result")
        else:
            entry.others.append(kind)
    rows = []
    for study, entry in studies.items():
        if entry.images:
            rows.append(_row(study, entry, site_of))
            continue
        what = ", ".join(f"{n} {kind}" for kind, n in sorted(Counter(entry.others).items()))
        for path in entry.files:
            quarantine.append({"file": shown(path), "code": "no images",
                               "reason": f"study {study} has no image to read (only {what})"})
    rows.sort(key=lambda r: (r["arrived"] or dt.datetime.max, r["study_id"]))
    return Trace(pa.Table.from_pylist(rows, schema=_SCHEMA), quarantine)
