"""From a cohort and the model's outcome to the tables of docs/contract.md: studies and reader duties."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import mapped
from .network.cohort import Cohort
from .network import Outcome
from .scenario import NO_CONDITION, Scenario
from .triage import KINDS, REFERRALS, Kind, Referral

__all__ = ["studies_table", "studies_blocks", "duties_table", "study_uid_prefix", "column", "ROW_GROUP"]

ROW_GROUP = 1024 * 1024  # rows per row group of a studies table's Parquet file, as `pq.write_table` writes them

_INDEX_DIGITS = 12


def study_uid_prefix(scenario_name: str, seed: int, replication: int) -> str:
    """The leading digits of this replication's study UIDs: '2.25.' and a UUID as an integer (ISO/IEC 9834-8).

    The UUID is version 8 (custom) and hashes (scenario, seed, replication); its last 12 decimal digits are
    the item index. Bit 60 set and bit 61 clear keep the index's carries away from the variant bits.
    """
    value = int.from_bytes(hashlib.sha256(f"{scenario_name}|{seed}|{replication}".encode()).digest()[:16], "big")
    value = (value & ~(0xF << 76)) | (0x8 << 76)  # version 8
    value = (value & ~(0xF << 60)) | (0x9 << 60)  # variant 0b10, then bit 61 = 0 and bit 60 = 1
    scale = 10**_INDEX_DIGITS
    return f"2.25.{value // scale}"


def _uids(prefix: str, index: np.ndarray) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(index, pa.int64()), pa.string()), _INDEX_DIGITS, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _nullable(values: np.ndarray) -> pa.Array:
    """Floats with NaN as null."""
    return pa.array(values, mask=np.isnan(values))


SECOND_OPINION, DOUBLE_READ, AUDIT = KINDS.index(Kind.SECOND_OPINION), KINDS.index(Kind.DOUBLE_READ), KINDS.index(Kind.AUDIT)
_KIND_NAMES = [k.value for k in KINDS]
_REFERRAL_NAMES = [r.value for r in REFERRALS]


def studies_table(scenario: Scenario, cohort: Cohort, outcome: Outcome, seed: int, replication: int) -> pa.Table:
    """One row per work item that exists: cohort studies, the second opinions requested, the second reads of
    double-read studies."""
    return pa.concat_tables(studies_blocks(scenario, cohort, outcome, seed, replication))


def studies_blocks(scenario: Scenario, cohort: Cohort, outcome: Outcome, seed: int, replication: int,
                   size: int = ROW_GROUP) -> Iterator[pa.Table]:
    """The studies table's rows, `size` at a time (at least one block, maybe empty): a row group of its
    Parquet file each, so that a worker writes a replication without ever holding its whole table."""
    n = len(cohort)
    prefix = study_uid_prefix(scenario.name, seed, replication)
    extra = n + np.flatnonzero(outcome.exists[n:])
    seconds = extra[extra < n + outcome.n_second]
    doubles = extra[extra >= n + outcome.n_second]
    # (rows of the outcome, the cohort study each is about, the kind of extra work or None), in table order;
    # the cohort's own rows as a range (five city years' as two arrays of indices were 0.6 GB)
    segments: list[tuple[Any, Any, int | None]] = [(range(n), range(n), None)]
    if seconds.shape[0]:
        segments.append((seconds, outcome.extra_study[seconds - n], SECOND_OPINION))
    if doubles.shape[0]:
        segments.append((doubles, outcome.extra_study[doubles - n], DOUBLE_READ))
    total = sum(len(rows) for rows, _, _ in segments)
    for begin in range(0, max(total, 1), size):
        end, offset, pieces = begin + size, 0, []
        for rows, source, kind in segments:
            a, b = max(begin - offset, 0), min(end - offset, len(rows))
            offset += len(rows)
            if a < b or (total == 0 and not pieces):
                # The cohort's own rows as slices: views of its arrays, not copies.
                part = (slice(a, b), slice(a, b)) if kind is None else (rows[a:b], source[a:b])
                pieces.append(_part(scenario, cohort, outcome, prefix, replication, *part, kind))
        yield pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0]
        mapped.let_go()  # the pages of a large replication's columns this row group read (`mapped.py`)


def _part(scenario: Scenario, cohort: Cohort, outcome: Outcome, prefix: str, replication: int,
          rows: slice | np.ndarray, source: slice | np.ndarray, extra: int | None) -> pa.Table:
    """The rows of the cohort's own studies (slices: views, no copies), or of extra work items about them:
    second opinions or second reads (`extra` is their kind's code).

    `rows` index the outcome's per-item arrays, `source` the cohort study each row is about.
    """
    types = list(scenario.study_types.values())
    modalities = sorted({t.modality for t in types})
    study_type = cohort.draws.study_type[source]
    m = study_type.shape[0]
    second = extra == SECOND_OPINION  # about the report, not the images: no truth, no AI, routine
    horizon = scenario.horizon_minutes
    ready = _by_horizon(cohort.upstream.ready_at[source], horizon) if extra is None else \
        outcome.extra_ready_at[rows - len(cohort)]  # (a study's is the cohort's: the station keeps no copy)
    start, reported = outcome.read_start[rows], outcome.reported_at[rows]
    arrived = ready if second else cohort.draws.arrivals.arrived_at[source]  # a second opinion arrives when requested
    if extra is None:
        read = cohort.draws.reading.read_minutes[source]
        kind = np.array([KINDS.index(t.kind) for t in types], np.int32)[study_type]
        if outcome.audited.any():
            audited = outcome.audited[source]
            read = np.where(audited, cohort.draws.reading.audit_minutes[source], read)  # type: ignore[index]
            kind = np.where(audited, AUDIT, kind).astype(np.int32)
    else:
        reading = cohort.draws.reading
        # (A second opinion's minutes are the draws' one per second opinion, in the order of their rows.)
        read = reading.second_read_minutes[rows - len(cohort)] if second else \
            reading.double_read_minutes[source]  # type: ignore[index]
        kind = np.full(m, extra, np.int32)
    read_minutes = np.where(np.isnan(reported), np.nan, read)
    index = np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows
    unscored = np.ones(m, dtype=bool) if second else ~cohort.upstream.ai_scored[source]
    reader = outcome.reader[rows]
    label = outcome.label[rows]
    # The way to the worklist: a second opinion is about a report, not images (it has none of it).
    if second:
        acquired = at_archive = scored_at = np.full(m, np.nan)
    else:
        acquired, at_archive = _by_horizon(cohort.upstream.acquired_at[source], horizon), _by_horizon(cohort.upstream.at_archive[source], horizon)
        # Without AI workers a scored study's result is what made it ready.
        scored_at = _by_horizon(cohort.upstream.scored_at[source] if cohort.upstream.scored_at is not None else
                                np.where(cohort.upstream.ai_scored[source], cohort.upstream.ready_at[source], np.nan), horizon)
    recorded = outcome.recorded_at[source] if extra is None and outcome.recorded_at is not None else np.full(m, np.nan)
    up = cohort.upstream

    def by_station(values: np.ndarray | None) -> np.ndarray:
        """A per-study station figure of the row's study (NaN for a second opinion, or without stations)."""
        return np.full(m, np.nan) if second or values is None else values[source]

    return pa.table({
        "replication": pa.array(np.full(m, replication, dtype=np.int32)),
        "study_id": _uids(prefix, index),
        "study_type": pa.DictionaryArray.from_arrays(study_type, list(cohort.draws.type_names)),
        "site": pa.DictionaryArray.from_arrays(cohort.upstream.site[source], list(cohort.draws.site_names)),
        "modality": pa.DictionaryArray.from_arrays(
            np.array([modalities.index(t.modality) for t in types], np.int32)[study_type], modalities),
        "referral": pa.DictionaryArray.from_arrays(
            np.full(m, REFERRALS.index(Referral.ROUTINE), np.int8) if second else cohort.draws.arrivals.referral[source],
            _REFERRAL_NAMES),
        "diseased": pa.array(np.zeros(m, dtype=bool) if second else cohort.draws.truth.diseased[source]),
        "condition": _conditions(cohort, source, m, second),
        "patient_age": _nullable(cohort.draws.arrivals.patient_age[source]),
        "ai_score": pa.array(np.full(m, np.nan) if second else cohort.upstream.ai_score[source], mask=unscored),
        "ai_positive": pa.array(np.zeros(m, dtype=bool) if second else cohort.upstream.ai_positive[source], mask=unscored),
        "priority": pa.DictionaryArray.from_arrays(pa.array(label, mask=label < 0), outcome.label_names or [""]),
        "arrived_at": pa.array(arrived),
        "ready_at": _nullable(ready),
        "read_start": _nullable(start),
        "reported_at": _nullable(reported),
        "read_minutes": _nullable(read_minutes),
        "reader": pa.DictionaryArray.from_arrays(pa.array(reader.astype(np.int32), mask=reader < 0),
                                                 outcome.reader_names or [""]),
        "tat_minutes": _nullable(reported - arrived),
        "wait_minutes": _nullable(reported - ready - read_minutes),
        "in_warmup": pa.array(arrived < scenario.warmup_minutes),
        "kind": pa.DictionaryArray.from_arrays(kind, _KIND_NAMES),
        "of_study": _uids(prefix, source) if extra is not None else pa.nulls(m, pa.string()),
        "acquired_at": _nullable(acquired),
        "at_archive": _nullable(at_archive),
        "scored_at": _nullable(scored_at),
        "read_unscored": pa.array(~np.isnan(start) & ~(scored_at <= start) & ~unscored),
        "recorded_at": _nullable(recorded),
        "exam_start": _nullable(_by_horizon(by_station(up.exam_start), horizon)),
        "inference_start": _nullable(_by_horizon(by_station(up.inference_start), horizon)),
        "size_mb": _nullable(by_station(up.size_mb)),
    })


def _conditions(cohort: Cohort, source: slice | np.ndarray, m: int, second: bool) -> pa.DictionaryArray:
    """The study's condition by name, `none` without one (and for a second opinion, which reads a report)."""
    names = [*cohort.draws.condition_names, NO_CONDITION]  # code -1 is the last: none
    codes = np.full(m, -1, np.int16) if second or cohort.draws.truth.condition is None else cohort.draws.truth.condition[source]
    return pa.DictionaryArray.from_arrays(np.where(codes < 0, len(names) - 1, codes).astype(np.int16), names)


def _by_horizon(times: np.ndarray, horizon: float) -> np.ndarray:
    """A time after the horizon is not known to the run: null, like `ready_at` (a copy only if there is one)."""
    return np.where(times > horizon, np.nan, times) if (times > horizon).any() else times


def duties_table(outcome: Outcome, replication: int) -> pa.Table:
    """One row per reader per duty (shift instance): presence, minutes reading, overtime."""
    columns = ("pool", "shift", "reader", "start", "end", "present", "busy_minutes", "reads", "overtime_minutes")
    table = pa.table({c: [row[c] for row in outcome.duties] for c in columns}) if outcome.duties else pa.table(
        {c: pa.array([], t) for c, t in zip(columns, (pa.string(), pa.string(), pa.string(), pa.float64(),
                                                      pa.float64(), pa.bool_(), pa.float64(), pa.int64(), pa.float64()))})
    return table.add_column(0, "replication", pa.array(np.full(table.num_rows, replication, dtype=np.int32)))


def column(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as floats (nulls as NaN), a boolean one as bools (nulls as None, object), a
    categorical one as an object array (nulls as None)."""
    values = table.column(name)
    if pa.types.is_floating(values.type) or pa.types.is_integer(values.type):
        return values.to_numpy(zero_copy_only=False).astype(float)
    if pa.types.is_boolean(values.type) and values.null_count == 0:
        return values.to_numpy(zero_copy_only=False).astype(bool)
    if pa.types.is_dictionary(values.type):
        # Decode through the dictionary: one Python object per distinct value, not per row.
        values = values.unify_dictionaries()
        out = []
        for chunk in values.chunks:
            words = np.asarray(chunk.dictionary.to_pylist() + [None], dtype=object)
            codes = pc.fill_null(chunk.indices, len(words) - 1).to_numpy()
            out.append(words[codes])
        return np.concatenate(out) if out else np.empty(0, dtype=object)
    return np.asarray(values.to_pylist(), dtype=object)
