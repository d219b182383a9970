"""From a scenario's `policy` and `targets` sections to a triage policy object and the targets in minutes.

The triage package takes plain values (minutes, names, dicts); this is the one place that translates the
scenario's typed sections into them.
"""
from __future__ import annotations

from typing import Any

from .scenario import Scenario
from .triage import BUILT_IN, TriagePolicy, make_policy

__all__ = ["policy_of", "targets_of", "policy_options"]


def _minutes(duration: Any) -> float | None:
    return None if duration is None else duration.in_minutes


def targets_of(scenario: Scenario) -> dict[str, float]:
    """Turnaround targets in minutes per label: the `targets` section, the targets of `rules` classes and
    the audit lane's (where `targets` does not name them)."""
    targets = {label: d.in_minutes for label, d in scenario.targets.items()}
    policy = scenario.policy
    if policy.triage == "rules" or (policy.triage == "aging" and policy.aging.base == "rules"):
        for rule in [*policy.rules, *([policy.else_] if policy.else_ else [])]:
            if rule.target is not None:
                targets.setdefault(rule.class_, rule.target.in_minutes)
    lane = scenario.routing.autonomous_normal
    if lane is not None:
        targets.setdefault("audit", lane.target.in_minutes)
    return targets


def policy_options(scenario: Scenario, name: str) -> dict[str, Any]:
    """The constructor arguments of policy `name` from the scenario's sections."""
    policy = scenario.policy
    if name == "hierarchical":
        return {"order": policy.order}
    if name == "score":
        return {"bands": policy.score.bands, "unscored": policy.score.unscored, "within": policy.score.within}
    if name == "aging":
        return {"base": policy.aging.base, "base_options": policy_options(scenario, policy.aging.base),
                "promote_after": _minutes(policy.aging.promote_after), "max_wait": _minutes(policy.aging.max_wait)}
    if name == "sla_edf":
        return {"targets": targets_of(scenario), "default": _minutes(policy.sla_edf.default),
                "start": policy.sla_edf.start}
    if name == "rules":
        rules = [{"when": rule.when.model_dump(exclude_none=True), "class": rule.class_,
                  "target": _minutes(rule.target)} for rule in policy.rules]
        otherwise = policy.else_
        return {"rules": rules, "otherwise": None if otherwise is None else
                {"class": otherwise.class_, "target": _minutes(otherwise.target)}}
    if name in BUILT_IN:
        return {}
    return dict(policy.options)


def policy_of(scenario: Scenario) -> TriagePolicy:
    """The triage policy the scenario names, configured from its sections."""
    return make_policy(scenario.policy.triage, policy_options(scenario, scenario.policy.triage))
