"""What the reading station adds to a cohort: per work item, and per reader duty."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Outcome"]


@dataclass
class Outcome:
    extra_study: np.ndarray  # of the items past the studies (item n + k at k): the study each is about
    extra_ready_at: np.ndarray  # of the items past the studies (item n + k at k); a study's: the cohort's
    read_start: np.ndarray
    reported_at: np.ndarray
    reader: np.ndarray  # code into reader_names, -1 when unread
    label: np.ndarray  # code into label_names of the triage label per item; -1 if it never reached the worklist
    label_names: list[str]
    exists: np.ndarray  # second opinions exist only once their primary is reported
    reader_names: list[str]
    duties: list[dict]
    n_second: int  # items n..n+n_second-1 are second opinions; the rest after them are second (double) reads
    audited: np.ndarray  # per cohort study: sent to the autonomous-normal audit lane instead of a primary read
    recorded_at: np.ndarray | None = None  # per cohort study: its report in the patient's record (delivery.py)
