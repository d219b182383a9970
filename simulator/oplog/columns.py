"""The columns of a worklist event log (docs/calibration.md): one row per work item, as a RIS or PACS
exports it, with pseudonymous ids. Only `accession`, `modality` and `acquired_at` are required."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["LOG_COLUMNS", "REQUIRED", "TIMES", "KINDS", "REFERRALS", "minutes_since"]

TIMES = ("acquired_at", "received_at", "ai_at", "read_start", "reported_at")
LOG_COLUMNS: dict[str, pa.DataType] = {
    "accession": pa.string(),  # the work item's study: accession number (or study UID)
    "study_uid": pa.string(),  # joins the DICOM trace where both exist
    "site": pa.string(),  # or station / AE title, mapped by a site map
    "modality": pa.string(),
    "body_part": pa.string(),
    "description": pa.string(),  # mapped to study types by the same rules as traces
    "referral": pa.string(),  # order priority: stat | urgent | routine
    "acquired_at": pa.timestamp("us"),  # the exam ended
    "received_at": pa.timestamp("us"),  # in the archive
    "ai_score": pa.float64(),
    "ai_flag": pa.bool_(),
    "ai_at": pa.timestamp("us"),  # the AI result came
    "finding": pa.bool_(),  # the report found the pathology the AI looks for: the truth its flags are judged by
    "read_start": pa.timestamp("us"),  # opened by the reader
    "reported_at": pa.timestamp("us"),  # signed
    "reader": pa.string(),
    "kind": pa.string(),  # primary | second_opinion | consultation | double_read | audit
    "of_study": pa.string(),  # the accession a second opinion or second read is about
}
REQUIRED = ("accession", "modality", "acquired_at")
KINDS = ("primary", "second_opinion", "consultation", "double_read", "audit")
REFERRALS = ("stat", "urgent", "routine")


def minutes_since(column: pa.ChunkedArray | pa.Array, origin: np.datetime64) -> np.ndarray:
    """A time column of the log as float minutes since `origin`, NaN where a time is unknown."""
    values = (column.to_numpy(zero_copy_only=False).astype("datetime64[us]") - origin) / np.timedelta64(1, "m")
    return np.where(column.is_null().to_numpy(zero_copy_only=False), np.nan, values.astype(float))
