"""What a study shows (its condition, if any) and what that does to its reading time and its AI results.

Conditions of a study type are mutually exclusive: one uniform draw per study picks at most one, by the
cumulative prevalences in the order the scenario lists them, so a type with a single condition of
prevalence p has exactly the truth of a type with `prevalence: p` (the same draws). Several AIs on one type
score the same study independently, each against its own truth: "the study has a condition I target"
(all conditions when it names no `targets`). Their results combine by two documented rules:
- the study is AI-positive when **any** AI flagged it, and its score is the highest posterior any AI gave;
- each flag is kept (`flags`, a bit per AI in the type's order), so a policy can rank a study by its
  **highest-ranked flag** (`hierarchical`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .ai import operating_point, score
from .distributions import sample
from .scenario import AIService, Scenario, StudyType

__all__ = ["condition_names", "draw_conditions", "reading_times", "targeted_share", "truth_for", "AiResults",
           "score_by_ais"]


def condition_names(scenario: Scenario) -> tuple[str, ...]:
    """Every condition of the scenario, in the order the study types list them (a name shared by two
    types is one condition)."""
    return tuple(dict.fromkeys(name for t in scenario.study_types.values() for name in t.conditions))


def draw_conditions(study_type: StudyType, u: np.ndarray) -> np.ndarray:
    """Each study's condition as an index into the type's conditions, -1 for none."""
    bounds = np.cumsum([c.prevalence for c in study_type.conditions.values()])
    which = np.searchsorted(bounds, u, side="right")
    return np.where(which < bounds.shape[0], which, -1)


def reading_times(study_type: StudyType, base: np.ndarray, condition: np.ndarray,
                  rng: Callable[[str], np.random.Generator]) -> np.ndarray:
    """The type's reading times, with each condition's own distribution or factor where the study has it.
    A condition's draws come from a stream of its own, drawn for every study, so that the studies with it
    keep their reading times when a prevalence changes (common random numbers)."""
    read = base
    for k, (name, found) in enumerate(study_type.conditions.items()):
        has = condition == k
        if found.read_minutes is not None:
            read = np.where(has, sample(found.read_minutes, rng(name), base.shape[0]), read)
        elif found.read_factor is not None:
            read = np.where(has, read * found.read_factor, read)
    return read


def targeted_share(study_type: StudyType, service: AIService) -> float:
    """The share of the type's studies that have a condition the service targets: its prevalence."""
    if service.targets is None or not study_type.conditions:
        return study_type.prevalence
    return sum(c.prevalence for name, c in study_type.conditions.items() if name in service.targets)


def truth_for(study_type: StudyType, service: AIService, diseased: np.ndarray, condition: np.ndarray) -> np.ndarray:
    if service.targets is None or not study_type.conditions:
        return diseased
    codes = [k for k, name in enumerate(study_type.conditions) if name in service.targets]
    return np.isin(condition, codes)


@dataclass(frozen=True)
class AiResults:
    """One type's AI results, combined over its AIs. `latency` is that of the slowest AI that answered
    (the study waits for every result it will get); `flags` a bit per AI in the type's order."""

    scored: np.ndarray
    posterior: np.ndarray  # NaN where not scored
    positive: np.ndarray
    latency: np.ndarray
    flags: np.ndarray  # int, 0 where nothing flagged


def score_by_ais(scenario: Scenario, study_type: StudyType, services: Sequence[str], first_bit: int,
                 diseased: np.ndarray, condition: np.ndarray, out_of: Callable[[AIService], np.ndarray],
                 rng: Callable[[str], np.random.Generator]) -> AiResults:
    """The AIs of a type after its first, each scoring every study independently from a stream of its own
    (the first is drawn by the cohort as for a type with one AI, so a second AI leaves the first's
    results as they were). `out_of` says which studies reach a service while it is out."""
    n = diseased.shape[0]
    scored = np.zeros(n, dtype=bool)
    best = np.full(n, -np.inf)
    positive = np.zeros(n, dtype=bool)
    latency = np.zeros(n)
    flags = np.zeros(n, dtype=np.int64)
    for bit, name in enumerate(services, first_bit):
        service = scenario.ai_services[name]
        draws = rng(name)
        failed = draws.random(n) < service.failure_rate
        posterior, flag = score(truth_for(study_type, service, diseased, condition), operating_point(service),
                                targeted_share(study_type, service), draws)
        took = sample(service.latency_minutes, draws, n)
        ok = ~failed & ~out_of(service)
        scored |= ok
        best = np.where(ok, np.maximum(best, posterior), best)
        flag &= ok
        positive |= flag
        flags |= flag.astype(np.int64) << bit
        latency = np.where(ok, np.maximum(latency, took), latency)
    return AiResults(scored, np.where(scored, best, np.nan), positive, latency, flags)
