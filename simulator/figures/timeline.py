"""Times of a run on the calendar: minute of the week, hour of day, weekday, and the worklist over time."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..calendar import duties
from ..records import column
from ..scenario import Scenario

__all__ = ["WEEK", "column", "minute_of_week", "waiting_at", "shift_changes"]

WEEK = 7 * 1440.0


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
