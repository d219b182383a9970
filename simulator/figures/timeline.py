"""Times of a run on the calendar: minute of the week, hour of day, weekday, and the worklist over time."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..calendar import duties
from ..scenario import Scenario

__all__ = ["WEEK", "column", "minute_of_week", "waiting_at", "shift_changes"]

WEEK = 7 * 1440.0


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


def minute_of_week(times: np.ndarray, scenario: Scenario) -> np.ndarray:
    """Minutes since Monday 00:00 of the calendar week each time falls in."""
    start = scenario.start
    offset = start.weekday() * 1440.0 + start.hour * 60.0 + start.minute
    return (times + offset) % WEEK


def waiting_at(studies: pa.Table, times: np.ndarray) -> np.ndarray:
    """Mean over replications of the number of items on the worklist (ready, not yet started) at `times`."""
    replication = column(studies, "replication")
    ready, start = column(studies, "ready_at"), column(studies, "read_start")
    reps = np.unique(replication)
    total = np.zeros(times.shape[0])
    for r in reps:
        mine = replication == r
        entered = np.sort(ready[mine & ~np.isnan(ready)])
        left = np.sort(start[mine & ~np.isnan(start)])
        total += np.searchsorted(entered, times, side="right") - np.searchsorted(left, times, side="right")
    return total / max(len(reps), 1)


def shift_changes(scenario: Scenario) -> np.ndarray:
    """Times (minutes since start) at which some shift starts or ends, inside the horizon, after the warm-up."""
    changes = {t for duty in duties(scenario) for t in (duty.start, duty.end)}
    return np.array(sorted(t for t in changes if scenario.warmup_minutes <= t < scenario.horizon_minutes))
