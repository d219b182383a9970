"""From a cohort and the model's outcome to the tables of CONTRACT.md: studies and reader duties."""
from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .cohort import REFERRALS, Cohort
from .model import Outcome
from .scenario import Scenario

__all__ = ["studies_table", "duties_table", "study_uid_prefix"]

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


def studies_table(scenario: Scenario, cohort: Cohort, outcome: Outcome, seed: int, replication: int) -> pa.Table:
    """One row per work item that exists: cohort studies, then the second opinions requested."""
    n = len(cohort)
    rows = np.flatnonzero(outcome.exists)
    source = np.where(rows < n, rows, outcome.parent[rows])  # the cohort study each row is about
    is_second = rows >= n
    types = list(scenario.study_types.values())
    kinds = ["primary", "consultation", "second_opinion"]
    modalities = sorted({t.modality for t in types})
    study_type = cohort.study_type[source]
    kind = np.where(is_second, 2, np.array([kinds.index(t.kind) for t in types])[study_type])
    modality = np.array([modalities.index(t.modality) for t in types])[study_type]
    scored = cohort.ai_scored[source] & ~is_second
    ai_score = np.where(scored, cohort.ai_score[source], np.nan)
    arrived = np.where(is_second, outcome.ready_at[rows], cohort.arrived_at[source])
    ready = outcome.ready_at[rows]
    start = outcome.read_start[rows]
    reported = outcome.reported_at[rows]
    read_minutes = np.where(~np.isnan(reported),
                            np.where(is_second, cohort.second_read_minutes[source], cohort.read_minutes[source]),
                            np.nan)
    tat = reported - arrived
    wait = reported - ready - read_minutes
    reader_code = outcome.reader[rows]
    referral = np.where(is_second, 2, cohort.referral[source])
    prefix = study_uid_prefix(scenario.name, seed, replication)
    study_id = _uids(prefix, rows)
    of_study = pc.replace_with_mask(pa.nulls(len(rows), pa.string()), pa.array(is_second),
                                    _uids(prefix, source[is_second]))
    labels = pa.array(outcome.label, pa.string()).take(pa.array(rows)).dictionary_encode()
    return pa.table({
        "replication": pa.array(np.full(len(rows), replication, dtype=np.int32)),
        "study_id": study_id,
        "study_type": pa.DictionaryArray.from_arrays(study_type.astype(np.int32), list(cohort.type_names)),
        "site": pa.DictionaryArray.from_arrays(cohort.site[source].astype(np.int32), list(cohort.site_names)),
        "modality": pa.DictionaryArray.from_arrays(modality.astype(np.int32), modalities),
        "referral": pa.DictionaryArray.from_arrays(referral.astype(np.int32), list(REFERRALS)),
        "diseased": pa.array(cohort.diseased[source] & ~is_second),
        "ai_score": _nullable(ai_score),
        "ai_positive": pa.array(cohort.ai_positive[source], mask=~scored),
        "priority": labels,
        "arrived_at": pa.array(arrived),
        "ready_at": _nullable(ready),
        "read_start": _nullable(start),
        "reported_at": _nullable(reported),
        "read_minutes": _nullable(read_minutes),
        "reader": pa.DictionaryArray.from_arrays(pa.array(reader_code.astype(np.int32), mask=reader_code < 0),
                                                 outcome.reader_names or [""]),
        "tat_minutes": _nullable(tat),
        "wait_minutes": _nullable(wait),
        "in_warmup": pa.array(arrived < scenario.warmup_minutes),
        "kind": pa.DictionaryArray.from_arrays(kind.astype(np.int32), kinds),
        "of_study": of_study,
    })


def duties_table(outcome: Outcome, replication: int) -> pa.Table:
    """One row per reader per duty (shift instance): presence, minutes reading, overtime."""
    columns = ("pool", "shift", "reader", "start", "end", "present", "busy_minutes", "reads", "overtime_minutes")
    table = pa.table({c: [row[c] for row in outcome.duties] for c in columns}) if outcome.duties else pa.table(
        {c: pa.array([], t) for c, t in zip(columns, (pa.string(), pa.string(), pa.string(), pa.float64(),
                                                      pa.float64(), pa.bool_(), pa.float64(), pa.int64(), pa.float64()))})
    return table.add_column(0, "replication", pa.array(np.full(table.num_rows, replication, dtype=np.int32)))
