"""FHIR resources (a Bundle as `.json`, or Bulk Data's NDJSON as `.ndjson`) into the worklist event log's form,
read with fhir.resources, R5 first and R4B where a resource is written to that version (docs/calibration.md).

One row per ImagingStudy, the exam: its accession is that of the ServiceRequest it is based on (an
identifier of type ACSN, else the order's first identifier), else the study's own ACSN identifier, else its
DICOM Study Instance UID; `started` is the exam's time (FHIR gives an exam's start, not its end: the log's
`acquired_at` is then the start, and turnaround counts from it); the modality from `modality` (or the first
series'), the description from `description` (or the order's code), the site from `location`, the order
priority from the ServiceRequest's `priority` (routine, urgent, asap, stat: read as every log's priorities
are). The first final DiagnosticReport of the study (by `study`/`imagingStudy`, or by the order it is based
on) gives the signing (`issued`) and the reader (the first `resultsInterpreter`); a later final report by
another interpreter is a second opinion, one by the same interpreter an amendment (counted). A Task that
names the study or its order (`focus`, `basedOn`) is the reading work: its `executionPeriod`'s start is the
read's opening (FHIR's reports carry none; without a Task a read's opening is unknown). An Observation
derived from the study (`derivedFrom`, `partOf` or `focus`) is the AI's result: `issued` its time, a
number its score, `interpretation` (POS, A, H, DET ... or NEG, N, ND) or a boolean value its flag. Other
resource types, resources no schema reads and reports or results that name no known study are counted,
never silently skipped (an ImagingStudy with neither an accession nor a UID among the unreadable).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from .columns import LOG_COLUMNS

__all__ = ["read_fhir"]

READ = ("ServiceRequest", "ImagingStudy", "DiagnosticReport", "Observation", "Task")
FINAL = ("final", "amended", "corrected", "appended")
POSITIVE = {"pos", "a", "aa", "h", "hh", "hu", "det", "abn", "positive", "abnormal", "detected"}
NEGATIVE = {"neg", "n", "nd", "normal", "negative", "not detected"}
ACCESSION = "ACSN"  # HL7 v2 table 0203's identifier type of an accession number


def _resources(path: Path) -> tuple[list[tuple[str, dict]], int]:
    """(key, resource) of every resource in the file (a Bundle's entries, or one resource per NDJSON line),
    and how many lines or entries could not be read as JSON."""
    text = path.read_text(encoding="utf-8-sig")
    unreadable = 0
    if path.suffix.lower() == ".ndjson":
        found = []
        for line in text.splitlines():
            if line.strip():
                try:
                    found.append(("", json.loads(line)))
                except json.JSONDecodeError:
                    unreadable += 1
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(document, dict) or "resourceType" not in document:
            raise ValueError("not a FHIR resource (no resourceType): a Bundle, or NDJSON with a .ndjson name")
        entries = (document.get("entry") or []) if document["resourceType"] == "Bundle" else [{"resource": document}]
        found = [(entry.get("fullUrl", ""), entry.get("resource")) if isinstance(entry, dict) else ("", None)
                 for entry in entries]
    return [(key, r) for key, r in found if isinstance(r, dict)], unreadable + sum(
        not isinstance(r, dict) for _, r in found)


def _parsed(resource: dict) -> Any:
    """The resource as fhir.resources reads it: R5, else R4B (the two differ where exports do: a report's
    `study` against `imagingStudy`, an order's code)."""
    from fhir.resources import get_fhir_model_class
    from fhir.resources.R4B import get_fhir_model_class as r4b_class

    kind = resource.get("resourceType")
    try:
        return get_fhir_model_class(kind).model_validate(resource)
    except Exception as first:  # noqa: BLE001  pydantic's or the model lookup's: try the older version
        try:
            return r4b_class(kind).model_validate(resource)
        except Exception:  # noqa: BLE001
            raise ValueError(str(first).splitlines()[0]) from None


def _keys(key: str, resource: Any) -> list[str]:
    """The ways a reference may name this resource: its fullUrl, Type/id, and a URL's last two parts."""
    kind, rid = resource.get_resource_type(), getattr(resource, "id", None)
    keys = [key] if key else []
    if rid:
        keys.append(f"{kind}/{rid}")
    if key.startswith("http"):
        keys.append(_type_and_id(key))
    return keys


def _type_and_id(url: str) -> str:
    """`Type/id` of an absolute reference (a server's URL ending in them)."""
    return "/".join(url.rstrip("/").split("/")[-2:])


def _ref(reference: Any) -> str | None:
    """A Reference's target as a key of `_keys` (a CodeableReference's reference too)."""
    target = getattr(reference, "reference", None)
    if target is not None and not isinstance(target, str):  # a CodeableReference holds a Reference
        target = getattr(target, "reference", None)
    if not target:
        return None
    return _type_and_id(target) if target.startswith("http") else target


def _code(value: Any) -> str | None:
    """The first code (or text) of a Coding, CodeableConcept or CodeableReference."""
    value = getattr(value, "concept", None) or value
    for coding in getattr(value, "coding", None) or ([value] if hasattr(value, "code") else []):
        if getattr(coding, "code", None):
            return coding.code
    return getattr(value, "text", None)


def _text(value: Any) -> str | None:
    value = getattr(value, "concept", None) or value
    return getattr(value, "text", None) or next(
        (c.display for c in getattr(value, "coding", None) or [] if getattr(c, "display", None)), None) or _code(value)


def _wall(when: Any) -> dt.datetime | None:
    """A FHIR instant or dateTime as its wall time (the zone dropped, as for every log's times)."""
    if isinstance(when, dt.datetime):
        return when.replace(tzinfo=None)
    if isinstance(when, dt.date):
        return dt.datetime.combine(when, dt.time())
    return None


def _identifier(identifiers: Any, accession_only: bool = False) -> str | None:
    for identifier in identifiers or []:
        if _code(getattr(identifier, "type", None)) == ACCESSION and identifier.value:
            return identifier.value
    if accession_only:
        return None
    return next((i.value for i in identifiers or [] if getattr(i, "value", None)), None)


def _study_uid(study: Any) -> str | None:
    for identifier in study.identifier or []:
        if identifier.system == "urn:dicom:uid" and identifier.value:
            return identifier.value.removeprefix("urn:oid:")
    return None


def _who(report: Any) -> str | None:
    for person in report.resultsInterpreter or []:
        return person.display or person.reference
    return None


def _flag(observation: Any) -> bool | None:
    for interpretation in observation.interpretation or []:
        code = (_code(interpretation) or "").lower()
        if code in POSITIVE:
            return True
        if code in NEGATIVE:
            return False
    value = getattr(observation, "valueBoolean", None)
    return value if isinstance(value, bool) else None


def _score(observation: Any) -> float | None:
    quantity = getattr(observation, "valueQuantity", None)
    if quantity is not None and quantity.value is not None:
        return float(quantity.value)
    for name in ("valueDecimal", "valueInteger"):
        value = getattr(observation, name, None)
        if value is not None and not isinstance(value, bool):
            return float(value)
    return None


def read_fhir(path: Path) -> tuple[pa.Table, dict[str, int]]:
    """The log rows of a FHIR Bundle or NDJSON file, and counts: resources read, studies, orders, reports,
    AI results, reading tasks, amendments, other types, unreadable, and the reports, results and tasks
    naming no known study."""
    pairs, unreadable = _resources(path)
    counts = {"fhir_resources": len(pairs) + unreadable, "fhir_studies": 0, "fhir_orders": 0, "fhir_reports": 0,
              "fhir_ai_results": 0, "fhir_tasks": 0, "fhir_amendments": 0, "fhir_other": 0,
              "fhir_unreadable": unreadable, "fhir_unlinked": 0}
    by_key: dict[str, Any] = {}
    parsed: list[Any] = []
    for key, resource in pairs:
        if resource.get("resourceType") not in READ:
            counts["fhir_other"] += 1
            continue
        try:
            model = _parsed(resource)
        except ValueError:
            counts["fhir_unreadable"] += 1
            continue
        parsed.append(model)
        for name in _keys(key, model):
            by_key[name] = model
    rows: dict[int, dict] = {}  # id(ImagingStudy) -> its row
    of_order: dict[int, int] = {}  # id(ServiceRequest) -> id(its ImagingStudy)
    for model in parsed:
        kind = model.get_resource_type()
        if kind == "ServiceRequest":
            counts["fhir_orders"] += 1
        if kind != "ImagingStudy":
            continue
        counts["fhir_studies"] += 1
        order = next((by_key.get(_ref(r)) for r in model.basedOn or [] if by_key.get(_ref(r)) is not None), None)
        modality = next((_code(m) for m in model.modality or [] if _code(m)), None) or next(
            (_code(s.modality) for s in model.series or [] if _code(s.modality)), None)
        uid = _study_uid(model)
        accession = (_identifier(order.identifier) if order is not None else None) \
            or _identifier(model.identifier, accession_only=True) or uid
        if accession is None:  # nothing names the exam: no row can stand for it
            counts["fhir_unreadable"] += 1
            continue
        location = getattr(model, "location", None)
        rows[id(model)] = {
            "accession": accession, "study_uid": uid, "modality": modality, "kind": "primary",
            "description": model.description or (_text(order.code) if order is not None else None),
            "site": getattr(location, "display", None) or _ref(location),
            "referral": getattr(order, "priority", None), "acquired_at": _wall(model.started)}
        if order is not None:
            of_order[id(order)] = id(model)
    extra: list[dict] = []
    for model in parsed:
        kind = model.get_resource_type()
        if kind not in ("DiagnosticReport", "Observation", "Task"):
            continue
        if kind == "Task":
            counts["fhir_tasks"] += 1
            named = [*([model.focus] if model.focus is not None else []), *(model.basedOn or [])]
        elif kind == "DiagnosticReport":
            counts["fhir_reports"] += 1
            named = [*(getattr(model, "study", None) or []), *(getattr(model, "imagingStudy", None) or []),
                     *(model.basedOn or [])]
        else:
            counts["fhir_ai_results"] += 1
            named = [*(model.derivedFrom or []), *(model.partOf or []), *(model.focus or [])]
        study = None
        for reference in named:
            target = by_key.get(_ref(reference))
            if target is not None:
                study = rows.get(id(target)) or rows.get(of_order.get(id(target), -1))
            if study is not None:
                break
        if study is None:
            counts["fhir_unlinked"] += 1
            continue
        if kind == "Task":
            opened = _wall(getattr(model.executionPeriod, "start", None))
            if opened is not None and (study.get("read_start") is None or opened < study["read_start"]):
                study["read_start"] = opened
            continue
        if kind == "Observation":
            if study.get("ai_at") is None:
                study.update(ai_at=_wall(model.issued) or _wall(getattr(model, "effectiveDateTime", None)),
                             ai_score=_score(model), ai_flag=_flag(model))
            continue
        if model.status not in FINAL:
            continue
        who = _who(model)
        if study.get("reported_at") is None:
            study.update(reported_at=_wall(model.issued), reader=who)
        elif who is not None and who != study.get("reader"):
            extra.append({"accession": f"{study['accession']}/{model.id or len(extra)}", "kind": "second_opinion",
                          "of_study": study["accession"], "study_uid": study.get("study_uid"),
                          "modality": study.get("modality"), "site": study.get("site"),
                          "acquired_at": study.get("acquired_at"), "reported_at": _wall(model.issued), "reader": who})
        else:
            counts["fhir_amendments"] += 1
    every = [*rows.values(), *extra]
    columns = {name: pa.array([row.get(name) for row in every], kind) for name, kind in LOG_COLUMNS.items()}
    return pa.table(columns), counts
