"""Realistic operation logs without real patients: a radsim run is the ground truth (its scenario holds the
hidden parameters), written out as a RIS would export it, then degraded on purpose, each degradation
counted so that a test can hold the cleaning rules to exactly what was injected."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..scenario import Scenario
from .columns import LOG_COLUMNS

__all__ = ["Degradation", "log_of_run", "degrade", "hl7_of_log", "fhir_of_log"]


def _stamps(start: dt.datetime, minutes: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Minutes since the scenario start as local timestamps (null stays null)."""
    values = pc.cast(minutes, pa.float64()).to_numpy(zero_copy_only=False)
    valid = ~np.isnan(values)
    epoch = round((start.replace(tzinfo=None) - dt.datetime(1970, 1, 1)).total_seconds() * 1e6)
    micros = np.where(valid, np.round(values * 60e6), 0).astype(np.int64) + epoch
    return pa.array(micros, pa.timestamp("us"), mask=~valid)


def log_of_run(scenario: Scenario, studies: pa.Table) -> pa.Table:
    """The work items of one replication of a run as a worklist event log (LOG_COLUMNS): what happened, with
    every time where the run knows it."""
    n = studies.num_rows
    accession = pc.binary_join_element_wise("ACC", pc.cast(pa.array(np.arange(n)), pa.string()), "")
    by_uid = dict(zip(studies.column("study_id").to_pylist(), accession.to_pylist()))
    of_study = [None if uid is None else by_uid.get(uid) for uid in studies.column("of_study").to_pylist()]
    ai_flag = studies.column("ai_positive")
    columns = {
        "accession": accession,
        "study_uid": studies.column("study_id"),
        "site": pc.cast(studies.column("site"), pa.string()),
        "modality": pc.cast(studies.column("modality"), pa.string()),
        "body_part": pa.nulls(n, pa.string()),
        "description": pc.cast(studies.column("study_type"), pa.string()),
        "referral": pc.cast(studies.column("referral"), pa.string()),
        "acquired_at": _stamps(scenario.start, studies.column("acquired_at")),
        "received_at": _stamps(scenario.start, studies.column("at_archive")),
        "ai_score": studies.column("ai_score"),
        "ai_flag": ai_flag,
        "ai_at": _stamps(scenario.start, studies.column("scored_at")),
        "finding": studies.column("diseased"),
        "read_start": _stamps(scenario.start, studies.column("read_start")),
        "reported_at": _stamps(scenario.start, studies.column("reported_at")),
        "reader": pc.cast(studies.column("reader"), pa.string()),
        "kind": pc.cast(studies.column("kind"), pa.string()),
        "of_study": pa.array(of_study, pa.string()),
    }
    # A second opinion is about a report: its "exam end" is when it was requested (its arrival).
    second = pc.is_null(columns["acquired_at"])
    columns["acquired_at"] = pc.if_else(second, _stamps(scenario.start, studies.column("arrived_at")),
                                        columns["acquired_at"])
    return pa.table({name: pa.chunked_array([columns[name]]).cast(kind) for name, kind in LOG_COLUMNS.items()})


@dataclass(frozen=True)
class Degradation:
    """How many rows to spoil by each rule (disjoint rows): what `clean_log` must count back."""

    no_acquired_at: int = 0
    unknown_kind: int = 0
    duplicate: int = 0
    clock_skew: int = 0  # received_at 1-9 minutes before the exam's end
    before_acquired: int = 0  # received_at two hours before the exam's end
    read_after_report: int = 0  # opened five minutes after signing
    unknown_description: int = 0  # a description nobody else has (a typo, a one-off code): the fit's rule
    readers_switching: int = 0  # pairs of readers of different lanes who swap from the log's middle on
    report_before_exam: int = 0  # reported_at two hours before the exam's end (a data-entry error)


def degrade(log: pa.Table, spoil: Degradation, seed: int) -> pa.Table:
    """The log with rows spoiled as `spoil` says, on disjoint rows chosen at random (with `seed`); duplicates
    are copies of kept rows appended at the end."""
    rng = np.random.default_rng(seed)
    reported = log.column("reported_at").is_valid().to_numpy(zero_copy_only=False)
    opened = log.column("read_start").is_valid().to_numpy(zero_copy_only=False)
    received = log.column("received_at").is_valid().to_numpy(zero_copy_only=False)
    order = rng.permutation(log.num_rows)
    taken = np.zeros(log.num_rows, dtype=bool)

    def pick(count: int, eligible: np.ndarray) -> np.ndarray:
        rows = [i for i in order if eligible[i] and not taken[i]][:count]
        if len(rows) < count:
            raise ValueError(f"not enough rows to spoil {count}")
        taken[rows] = True
        return np.asarray(rows, dtype=np.int64)

    every = np.ones(log.num_rows, dtype=bool)
    primary = np.asarray([k == "primary" for k in log.column("kind").to_pylist()])
    picks = {"no_acquired_at": pick(spoil.no_acquired_at, every), "unknown_kind": pick(spoil.unknown_kind, every),
             "unknown_description": pick(spoil.unknown_description, primary),
             "clock_skew": pick(spoil.clock_skew, received),
             "before_acquired": pick(spoil.before_acquired, received),
             "report_before_exam": pick(spoil.report_before_exam, reported),
             "read_after_report": pick(spoil.read_after_report, reported & opened)}
    copies = pick(spoil.duplicate, every)
    columns = {name: log.column(name).combine_chunks() for name in log.column_names}
    acquired = columns["acquired_at"].cast(pa.int64()).to_numpy(zero_copy_only=False)

    def set_times(name: str, rows: np.ndarray, values: np.ndarray | None) -> None:
        current = columns[name].cast(pa.int64()).to_numpy(zero_copy_only=False).copy()
        mask = columns[name].is_null().to_numpy(zero_copy_only=False).copy()
        if values is None:
            mask[rows] = True
        else:
            current[rows], mask[rows] = values, False
        columns[name] = pa.array(current, pa.int64(), mask=mask).cast(pa.timestamp("us"))

    minute = 60_000_000
    set_times("acquired_at", picks["no_acquired_at"], None)
    kinds = np.asarray(columns["kind"].to_pylist(), dtype=object)
    kinds[picks["unknown_kind"]] = "teleconference"
    columns["kind"] = pa.array(kinds.tolist(), pa.string())
    rows = picks["clock_skew"]
    set_times("received_at", rows, acquired[rows] - rng.integers(1, 10, rows.shape[0]) * minute)
    rows = picks["before_acquired"]
    set_times("received_at", rows, acquired[rows] - 120 * minute)
    rows = picks["report_before_exam"]
    set_times("reported_at", rows, acquired[rows] - 120 * minute)
    set_times("read_start", rows, None)  # an opening is not what this rule tests
    rows = picks["read_after_report"]
    signed = columns["reported_at"].cast(pa.int64()).to_numpy(zero_copy_only=False)
    set_times("read_start", rows, signed[rows] + 5 * minute)
    descriptions = np.asarray(columns["description"].to_pylist(), dtype=object)
    for n, row in enumerate(picks["unknown_description"]):
        descriptions[row] = f"{descriptions[row] or ''} (code X{seed}-{n})"
    columns["description"] = pa.array(descriptions.tolist(), pa.string())
    columns["reader"] = _switch_readers(columns["reader"], columns["description"], columns["acquired_at"],
                                        spoil.readers_switching, rng)
    spoiled = pa.table(columns)
    return pa.concat_tables([spoiled, spoiled.take(pa.array(copies))]) if copies.shape[0] else spoiled


def _switch_readers(reader: pa.Array, description: pa.Array, acquired: pa.Array, pairs: int,
                    rng: np.random.Generator) -> pa.Array:
    """Readers moving between pools: `pairs` pairs of readers whose main lanes differ swap names from the
    log's middle on, so each reads one lane before and the other after."""
    if not pairs:
        return reader
    names = np.asarray(reader.to_pylist(), dtype=object)
    lanes = np.asarray(description.to_pylist(), dtype=object)
    main: dict[str, str] = {}
    for who in {w for w in names if w is not None}:
        values, counts = np.unique(lanes[names == who].astype(str), return_counts=True)
        main[who] = values[np.argmax(counts)]
    by_lane: dict[str, list[str]] = {}
    for who in sorted(main):
        by_lane.setdefault(main[who], []).append(who)
    if len(by_lane) < 2:
        raise ValueError("readers can switch pools only in a log with two lanes or more")
    times = acquired.cast(pa.int64()).to_numpy(zero_copy_only=False)
    later = times >= np.median(times)
    first, second = sorted(by_lane)[:2]
    swapped = names.copy()
    for a, b in list(zip(rng.permutation(by_lane[first]), rng.permutation(by_lane[second])))[:pairs]:
        swapped[later & (names == a)], swapped[later & (names == b)] = b, a
    return pa.array(swapped.tolist(), pa.string())


_HL7_PRIORITY = {"stat": "S", "urgent": "A", "routine": "R"}


def _segment(name: str, fields: dict[int, str]) -> str:
    return "|".join([name, *(fields.get(i, "") for i in range(1, max(fields) + 1))])


def hl7_of_log(log: pa.Table) -> str:
    """A log's primary reads as a RIS would send them in HL7 v2 (`hl7_messages.py` reads them back): per
    study an ORM^O01 new order with the exam, a status change to "in process" when the read was opened, and
    an ORU^R01 final result when it was signed."""
    def stamp(when: dt.datetime | None) -> str:
        return "" if when is None else when.strftime("%Y%m%d%H%M%S")

    def header(kind: str, control: str, site: str, at: dt.datetime | None) -> str:
        return f"MSH|^~\\&|RIS|{site}|PACS|CENTRE|{stamp(at)}||{kind}|{control}|P|2.5"

    messages = []
    for n, row in enumerate(log.filter(pc.equal(log.column("kind"), "primary")).to_pylist()):
        order, accession = f"ORD{n}", row["accession"]
        service = f"{row['modality']}^{row['description'] or row['modality']}^L"
        messages.append("\r".join([
            header("ORM^O01", f"N{n}", row["site"] or "", row["acquired_at"]), f"PID|||P{n}",
            _segment("ORC", {1: "NW", 2: order, 3: accession}),
            _segment("OBR", {1: "1", 2: order, 3: accession, 4: service, 8: stamp(row["acquired_at"]),
                             24: row["modality"] or "", 27: f"^^^^^{_HL7_PRIORITY.get(row['referral'] or '', 'R')}"})]))
        if row["read_start"] is not None:
            messages.append("\r".join([
                header("ORM^O01", f"S{n}", "CENTRE", row["read_start"]), f"PID|||P{n}",
                _segment("ORC", {1: "SC", 2: order, 3: accession, 5: "IP", 9: stamp(row["read_start"])}),
                _segment("OBR", {1: "1", 2: order, 3: accession, 4: service})]))
        if row["reported_at"] is not None:
            messages.append("\r".join([
                header("ORU^R01", f"R{n}", "CENTRE", row["reported_at"]), f"PID|||P{n}",
                _segment("OBR", {1: "1", 2: order, 3: accession, 4: service, 22: stamp(row["reported_at"]),
                                 25: "F", 32: row["reader"] or ""})]))
    return "\r\n".join(messages) + "\r\n"


def fhir_of_log(log: pa.Table, version: str = "R5", offset: str = "+03:00", uuids: bool = False) -> dict:
    """A log as a FHIR server would export it (`fhir_resources.py` reads it back): per study a ServiceRequest
    (the accession, the priority), an ImagingStudy (its time, modality, description, site, UID), a Task with
    the read's opening, a final DiagnosticReport per read (a second opinion a report of its own, by its
    reader) and an Observation with the AI's result; times printed with `offset`. `version`: "R5" or "R4"
    (a report names its study as `study` or `imagingStudy`; an order's code and a study's modality differ);
    references relative (`ImagingStudy/s1`, as NDJSON needs) or, with `uuids`, to entries' `urn:uuid:`."""
    def stamp(when: dt.datetime | None) -> str | None:
        return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%S.%f") + offset

    def entry(kind: str, rid: str, body: dict) -> dict:
        return {"fullUrl": f"urn:uuid:{kind.lower()}-{rid}", "resource": {"resourceType": kind, "id": rid, **body}}

    def ref(kind: str, rid: str) -> dict:
        return {"reference": f"urn:uuid:{kind.lower()}-{rid}" if uuids else f"{kind}/{rid}"}

    r4 = version == "R4"
    subject = {"reference": "Patient/anonymous"}
    entries = []
    studies: dict[str, str] = {}
    rows = log.to_pylist()
    for n, row in enumerate(r for r in rows if r["kind"] == "primary"):
        accession = row["accession"]
        studies[accession] = f"s{n}"
        text = row["description"] or row["modality"] or "study"
        code = {"text": text} if r4 else {"concept": {"text": text}}
        entries.append(entry("ServiceRequest", f"s{n}", {
            "status": "completed", "intent": "order", "subject": subject, "code": code,
            "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                 "code": "ACSN"}]}, "value": accession}],
            **({"priority": row["referral"]} if row["referral"] else {})}))
        modality = {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": row["modality"] or "OT"}
        study: dict = {"status": "available", "subject": subject, "basedOn": [ref("ServiceRequest", f"s{n}")],
                       "modality": [modality if r4 else {"coding": [modality]}], "description": text}
        if row["acquired_at"] is not None:
            study["started"] = stamp(row["acquired_at"])
        if row["study_uid"]:
            study["identifier"] = [{"system": "urn:dicom:uid", "value": f"urn:oid:{row['study_uid']}"}]
        if row["site"]:
            study["location"] = {"display": row["site"]}
        entries.append(entry("ImagingStudy", f"s{n}", study))
        if row["read_start"] is not None:
            entries.append(entry("Task", f"s{n}", {
                "status": "completed", "intent": "order", "focus": ref("ImagingStudy", f"s{n}"),
                "executionPeriod": {"start": stamp(row["read_start"])}}))
        if row["ai_at"] is not None:
            observation: dict = {"status": "final", "code": {"text": "AI triage score"},
                                 "derivedFrom": [ref("ImagingStudy", f"s{n}")],
                                 "issued": stamp(row["ai_at"])}
            if row["ai_score"] is not None:
                observation["valueQuantity"] = {"value": row["ai_score"]}
            if row["ai_flag"] is not None:
                observation["interpretation"] = [{"coding": [{"code": "POS" if row["ai_flag"] else "NEG"}]}]
            entries.append(entry("Observation", f"s{n}", observation))
    for n, row in enumerate(rows):
        of = row["accession"] if row["kind"] == "primary" else row["of_study"]
        if row["reported_at"] is None or row["kind"] not in ("primary", "second_opinion") or of not in studies:
            continue
        report = {"status": "final", "code": {"text": "imaging report"}, "subject": subject,
                  "issued": stamp(row["reported_at"]),
                  ("imagingStudy" if r4 else "study"): [ref("ImagingStudy", studies[of])]}
        if row["reader"]:
            report["resultsInterpreter"] = [{"display": row["reader"]}]
        entries.append(entry("DiagnosticReport", f"r{n}", report))
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
