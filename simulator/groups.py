"""The groups of patients the story is about: those with a finding, AI-flagged studies, STAT orders, each
of the scenario's conditions (one no AI looks for is a group of its own), and all work."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .scenario import Scenario

__all__ = ["Group", "GROUPS", "ALL", "high_risk_groups", "looked_for"]


@dataclass(frozen=True)
class Group:
    title: str  # for people
    where: dict[str, Any]


GROUPS = (Group("Studies with a finding", {"diseased": True}),
          Group("AI-flagged studies", {"ai_positive": True}),
          Group("STAT orders", {"referral": "stat"}))
ALL = Group("All work", {})


def high_risk_groups(scenario: Scenario) -> tuple[Group, ...]:
    """GROUPS, then each of the scenario's conditions, most urgent first: a condition no AI looks for is a
    group of its own (prioritising what the AIs target can make it wait longer)."""
    urgency: dict[str, int] = {}
    for study_type in scenario.study_types.values():
        for name, condition in study_type.conditions.items():
            urgency[name] = min(urgency.get(name, condition.urgency), condition.urgency)
    return GROUPS + tuple(Group(f"Studies with {name}" + ("" if looked_for(scenario, name) else " (no AI looks for it)"),
                                {"condition": name}) for name in sorted(urgency, key=urgency.__getitem__))


def looked_for(scenario: Scenario, condition: str) -> bool:
    """Whether an AI scoring a study type with the condition targets it (or any finding)."""
    return any(service.targets is None or condition in service.targets
               for t in scenario.study_types.values() if condition in t.conditions
               for service in (scenario.ai_services[s] for s in t.ais if s in scenario.ai_services))
