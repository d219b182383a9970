"""What a study shows (its condition, if any) and what that does to its reading time and its AI results.

Conditions of a study type are mutually exclusive: one uniform draw per study picks at most one, by the
cumulative prevalences in the order the scenario lists them, so a type with a single condition of
prevalence p has exactly the truth of a type with `prevalence: p` (the same draws). Several AIs on one type
score the same study independently, each against its own truth: "the study has a condition I target"
(all conditions when it names no `targets`). Their results combine by two documented rules:
- the study is AI-positive when **any** AI flagged it, and its score is the highest posterior any AI gave;
- each flag is kept (`flags`, a bit per AI in the type's order), so a policy can rank a study by its
  **highest-ranked flag** (`hierarchical`).
Each AI's answers are drawn in `simulator/draws/ai.py`; they are combined, once it is known which AIs a
study reached, in `simulator/network/upstream.py`.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .distributions import sample
from .scenario import AIService, Scenario, StudyType

__all__ = ["condition_names", "draw_conditions", "reading_times", "targeted_share", "truth_for"]


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


