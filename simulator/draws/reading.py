"""How long each piece of reading work takes, drawn before anyone reads: the primary read (by condition where
the type has them, or the trace's), a second read of a double-read type, an audit of the autonomous lane,
and whether the signed report is sent for a second opinion, with that opinion's reading time."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..distributions import sample
from ..findings import reading_times
from ..scenario import Scenario, StudyType
from ..trace_arrivals import TraceArrivals, or_drawn
from ..triage import Kind
from .arrivals import Streams
from .truth import Truth

__all__ = ["Reading", "draw_reading"]


@dataclass(frozen=True)
class Reading:
    read_minutes: np.ndarray
    second_opinion: np.ndarray  # bool: the signed report is sent for a second opinion
    # Of those second opinions: one for each study that asks for one, in study order (the order of the reading
    # station's second-opinion items). `draw_reading` gives one for every study of its type, drawn whether
    # asked for or not (so that a fraction's change moves no other draw); the joined draws keep those asked
    # for (`asked_only`): a city year's others were 53 MB held to the end of every run.
    second_read_minutes: np.ndarray
    double_read_minutes: np.ndarray | None  # NaN for a type not double-read; None: no type is
    audit_minutes: np.ndarray | None  # NaN for a type outside the autonomous lane; None: no lane

    def asked_only(self) -> "Reading":
        """These draws with the second opinions' reading times of the studies that ask for one only."""
        return replace(self, second_read_minutes=self.second_read_minutes[self.second_opinion])


def draw_reading(scenario: Scenario, name: str, study_type: StudyType, truth: Truth, rng: Streams,
                 by_condition: Callable[[str], np.random.Generator], trace: TraceArrivals | None) -> Reading:
    """`by_condition`: the reading stream of a condition of the type (its own, so that the studies with it
    keep their times when a prevalence changes)."""
    n = truth.diseased.shape[0]
    read = sample(study_type.read_minutes, rng("reading"), n)
    if study_type.conditions:
        read = reading_times(study_type, read, truth.condition, by_condition)
    read = or_drawn(read, None if trace is None else trace.read_minutes)
    second = scenario.second_opinions
    so_rng = rng("second_opinion")
    eligible = second is not None and study_type.kind == Kind.PRIMARY and (second.of == "*" or name in second.of)
    so_u = so_rng.random(n)
    so_minutes = sample(second.read_minutes, so_rng, n) if second is not None else np.zeros(n)
    asked = (so_u < second.fraction) if eligible else np.zeros(n, dtype=bool)  # type: ignore[union-attr]
    if trace is not None and eligible:  # the trace's own answer where it gives one (a log's second opinions)
        asked = np.where(trace.second_opinion >= 0, trace.second_opinion == 1, asked)
        so_minutes = or_drawn(so_minutes, trace.second_opinion_minutes)
    double = audit = None
    if any(t.double_reading is not None for t in scenario.study_types.values()):
        dual = study_type.double_reading
        double = np.full(n, np.nan) if dual is None else \
            sample(dual.read_minutes or study_type.read_minutes, rng("double_reading"), n)
    lane = scenario.routing.autonomous_normal
    if lane is not None:
        audit = np.full(n, np.nan) if name not in lane.study_types else \
            sample(lane.read_minutes or study_type.read_minutes, rng("audit"), n)
    return Reading(read, asked, so_minutes, double, audit)
