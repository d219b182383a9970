"""From a scenario's `policy`, `targets` and `routing` sections to a triage policy, the targets in minutes and
the router.

The triage package takes plain values (minutes, names, dicts); this is the one place that translates the
scenario's typed sections into them.
"""
from __future__ import annotations

from typing import Any

from .scenario import AUDIT, Scenario
from .triage import BUILT_IN, Targets, TriagePolicy, make_policy
from .triage.registry import make_router
from .triage.routing import LocalFirst, Router

__all__ = ["policy_of", "targets_of", "policy_options", "router_of", "hierarchy"]


def _minutes(duration: Any) -> float | None:
    return None if duration is None else duration.in_minutes


def targets_of(scenario: Scenario) -> Targets:
    """Turnaround targets by what a work item is: the `targets` section, and the audit lane's target where
    `targets` does not name audits."""
    minutes = {name: d.in_minutes for name, d in scenario.targets.items()}
    lane = scenario.routing.autonomous_normal
    if lane is not None:
        minutes.setdefault(AUDIT, lane.target.in_minutes)
    return Targets(minutes)


def policy_options(scenario: Scenario, name: str) -> dict[str, Any]:
    """The constructor arguments of policy `name` from the scenario's sections."""
    policy = scenario.policy
    if name == "hierarchical":
        return {"order": hierarchy(scenario)}
    if name == "score":
        return {"bands": policy.score.bands, "unscored": policy.score.unscored, "within": policy.score.within}
    if name == "aging":
        return {"base": policy.aging.base, "base_options": policy_options(scenario, policy.aging.base),
                "promote_after": _minutes(policy.aging.promote_after), "max_wait": _minutes(policy.aging.max_wait)}
    if name == "sla_edf":
        return {"targets": targets_of(scenario), "default": _minutes(policy.sla_edf.default),
                "start": policy.sla_edf.start}
    if name == "rules":
        rules = [{"when": rule.when.model_dump(exclude_none=True), "class": rule.class_} for rule in policy.rules]
        otherwise = policy.else_
        return {"rules": rules, "otherwise": None if otherwise is None else {"class": otherwise.class_}}
    if name in BUILT_IN:
        return {}
    return dict(policy.options)


def hierarchy(scenario: Scenario) -> list[str]:
    """`policy.order` as AI services: a condition stands for the services that target it, in the order of
    `ai_services`; a service named twice keeps its first place. Without an order, the services by the most
    urgent condition they target (then as listed), when the scenario has conditions."""
    services = scenario.ai_services
    order = list(scenario.policy.order)
    if not order:
        urgency = {name: c.urgency for t in scenario.study_types.values() for name, c in t.conditions.items()}
        if not urgency:
            return []
        order = sorted((s for s, service in services.items() if service.targets),
                       key=lambda s: min(urgency.get(c, 101) for c in services[s].targets or []))
    expanded = [s for entry in order for s in ([entry] if entry in services else
                                               [name for name, service in services.items()
                                                if service.targets and entry in service.targets])]
    return list(dict.fromkeys(expanded))


def policy_of(scenario: Scenario) -> TriagePolicy:
    """The triage policy the scenario names, configured from its sections (user code through the resolver)."""
    return make_policy(scenario.policy.triage, policy_options(scenario, scenario.policy.triage))


def router_of(scenario: Scenario) -> Router:
    """The scenario's router: `local_first` from its overflow and night settings, or the user's class
    (through the resolver)."""
    routing = scenario.routing
    day_offset = scenario.start.hour * 60.0 + scenario.start.minute
    if routing.router == "local_first":
        night = routing.night_to_centre
        return LocalFirst(_minutes(routing.overflow_after), None if night is None else night.minutes, day_offset)
    return make_router(routing.router, routing.router_options, day_offset)
