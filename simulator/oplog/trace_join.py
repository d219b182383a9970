"""A worklist event log joined with a DICOM trace (`radsim dicom trace`) by study UID: where a log row's
`study_uid` is a study of the trace, what the log lacks is taken from the images' headers (the exam's end,
modality, body part, description, site, AI result); what the log has stays (docs/calibration.md)."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["JOINED", "join_trace"]

JOINED = {  # log column <- trace column (docs/dicom.md)
    "acquired_at": "arrived",
    "modality": "modality",
    "body_part": "body_part",
    "description": "study_description",
    "site": "site",
    "ai_score": "ai_score",
    "ai_flag": "ai_positive",
}


def join_trace(log: pa.Table, path: Path) -> tuple[pa.Table, dict[str, int]]:
    """The log with its gaps filled from the trace, and the counts: `trace_studies`, `trace_matched` (log rows
    whose study is in the trace), `trace_filled` (rows that took at least one value from it),
    `trace_exam_end` (rows whose exam end came from it, rows the log would otherwise drop)."""
    from ..trace_arrivals import read_trace

    trace = read_trace(Path(path))
    at = pc.index_in(log.column("study_uid"), value_set=trace.column("study_id").combine_chunks())
    matched = pc.is_valid(at)
    filled = pa.array([False] * log.num_rows)
    counts = {"trace_studies": trace.num_rows, "trace_matched": pc.sum(matched).as_py() or 0}
    for name, source in JOINED.items():
        if source not in trace.column_names:
            continue
        own = log.column(name)
        taken = pc.take(trace.column(source).cast(own.type), at)
        gap = pc.and_(pc.is_null(own), pc.is_valid(taken))
        if name == "acquired_at":
            counts["trace_exam_end"] = pc.sum(gap).as_py() or 0
        filled = pc.or_(filled, gap)
        log = log.set_column(log.column_names.index(name), name, pc.coalesce(own, taken))
    counts["trace_filled"] = pc.sum(filled).as_py() or 0
    return log, counts
