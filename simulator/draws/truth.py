"""What each study really shows: diseased or not, and which of its type's conditions (`findings.py` holds
the rules), drawn before anything looks at it; a trace's AI score or finding, where it has one, decides."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..findings import draw_conditions
from ..scenario import StudyType
from ..trace_arrivals import TraceArrivals
from .arrivals import Streams

__all__ = ["Truth", "draw_truth"]


@dataclass(frozen=True)
class Truth:
    diseased: np.ndarray  # bool
    condition: np.ndarray  # int index into the type's conditions, -1 for none


def draw_truth(study_type: StudyType, n: int, rng: Streams, trace: TraceArrivals | None) -> Truth:
    u = rng("truth").random(n)
    diseased = u < study_type.prevalence
    found = draw_conditions(study_type, u) if study_type.conditions else np.full(n, -1)
    if trace is not None:
        # A traced AI score is the posterior probability of disease: the truth is drawn from it.
        diseased = np.where(np.isnan(trace.ai_score), diseased, u < np.nan_to_num(trace.ai_score))
        diseased = np.where(trace.diseased >= 0, trace.diseased == 1, diseased)
    return Truth(diseased, found)
