"""What each AI would answer for each study: its failure, its posterior score and flag given the truth (a
binormal ROC, `ai.py`), and its latency, drawn for every study of the types it scores whether or not the
study will reach it. Whether a result counts (the service was up when the study came, a worker took it)
is the upstream stations' to say (`network/upstream.py`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ai import flag_of_posterior, operating_point, score
from ..distributions import sample
from ..findings import targeted_share, truth_for
from ..scenario import Scenario, StudyType
from ..trace_arrivals import TraceArrivals, or_drawn
from .arrivals import Streams
from .truth import Truth

__all__ = ["AiDraws", "draw_ai", "draw_more_ais", "no_ai"]


@dataclass(frozen=True)
class AiDraws:
    """One AI's answers, study by study. `service` is the AI's index in the scenario's `ai_services` (-1:
    none). `given`: the trace holds this study's result (its score and flag are then the trace's); `traced`:
    the trace holds results for the study's type (a study of it without one was not scored)."""

    service: np.ndarray  # int
    failed: np.ndarray  # bool
    posterior: np.ndarray  # float
    positive: np.ndarray  # bool
    latency: np.ndarray  # float minutes
    given: np.ndarray  # bool
    traced: np.ndarray  # bool


def no_ai(n: int) -> AiDraws:
    """What a study of a type without (this) AI has: no service, no result."""
    return AiDraws(np.full(n, -1, dtype=np.int32), np.zeros(n, dtype=bool), np.full(n, np.nan),
                   np.zeros(n, dtype=bool), np.zeros(n), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))


def _one(scenario: Scenario, study_type: StudyType, name: str, truth: Truth, rng: np.random.Generator) -> tuple:
    service = scenario.ai_services[name]
    n = truth.diseased.shape[0]
    failed = rng.random(n) < service.failure_rate
    posterior, positive = score(truth_for(study_type, service, truth.diseased, truth.condition),
                                operating_point(service), targeted_share(study_type, service), rng)
    latency = sample(service.latency_minutes, rng, n)
    return np.full(n, list(scenario.ai_services).index(name), dtype=np.int32), failed, posterior, positive, latency


def draw_ai(scenario: Scenario, study_type: StudyType, truth: Truth, rng: Streams,
            trace: TraceArrivals | None) -> AiDraws:
    """The answers of the type's (first) AI; a trace's results stand where it has them."""
    n = truth.diseased.shape[0]
    if not study_type.ais:
        return no_ai(n)
    service, failed, posterior, positive, latency = _one(scenario, study_type, study_type.ais[0], truth, rng("ai"))
    latency = or_drawn(latency, None if trace is None else trace.ai_minutes)
    scored = np.zeros(n, dtype=bool) if trace is None else ~np.isnan(trace.ai_score)
    # A flag without a score (a log that keeps only the AI's verdict) is a result the trace gives too.
    given = scored if trace is None else scored | trace.ai_positive_given
    if given.any():
        point = operating_point(scenario.ai_services[study_type.ais[0]])
        positive = np.where(trace.ai_positive_given, trace.ai_positive, np.where(scored, flag_of_posterior(
            trace.ai_score, point, study_type.prevalence), positive))
        posterior = np.where(scored, trace.ai_score, posterior)
    return AiDraws(service, failed, posterior, positive, latency, given, np.full(n, bool(given.any())))


def draw_more_ais(scenario: Scenario, study_type: StudyType, name: str, truth: Truth, slots: int,
                  rng: Streams) -> list[AiDraws]:
    """The answers of the type's further AIs, one per slot after the first (`slots` of them, the most any
    type has; a slot the type does not fill has no AI), each from an AI stream of its own (`rng` by key:
    "type/service"), so that adding an AI leaves the others' answers as they were."""
    n = truth.diseased.shape[0]
    more = []
    for other in study_type.ais[1:]:
        service, failed, posterior, positive, latency = _one(scenario, study_type, other, truth, rng(f"{name}/{other}"))
        more.append(AiDraws(service, failed, posterior, positive, latency, np.zeros(n, dtype=bool),
                            np.zeros(n, dtype=bool)))
    return more + [no_ai(n) for _ in range(slots - len(more))]
