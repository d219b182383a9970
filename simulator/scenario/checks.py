"""Checks that span sections (references between them, a study type no pool reads, dated shifts outside the run), each naming the dotted path of what is wrong."""
from __future__ import annotations

import datetime as dt
import math

from ..triage.vocabulary import AI_POSITIVE, KINDS, REFERRALS, Kind
from .model import Scenario
from .policy import Rule
from .values import AUDIT, SECOND_OPINION

__all__ = ["check_references"]


def _dated_outside(scenario: Scenario) -> list[tuple[str, str]]:
    """Dated shifts none of whose dates falls within the run: a roster that would never happen (the dates of
    another year, say) is refused, not silently ignored."""
    problems = []
    first, last = scenario.start, scenario.start + dt.timedelta(minutes=scenario.horizon_minutes)
    for name, pool in scenario.pools.items():
        for i, shift in enumerate(pool.shifts):
            if shift.dates is None:
                continue
            begins = [dt.datetime.combine(d, dt.time()) + dt.timedelta(minutes=shift.start_minute) for d in shift.dates]
            if not any(b < last and b + dt.timedelta(minutes=shift.length_minutes) > first for b in begins):
                problems.append((f"pools.{name}.shifts.{i}.dates", f"none of its {len(begins)} date(s) "
                                 f"({min(shift.dates)} to {max(shift.dates)}) falls within the run ({first:%Y-%m-%d %H:%M} "
                                 f"to {last:%Y-%m-%d %H:%M}): the shift would never happen"))
    return problems


def check_references(scenario: Scenario) -> list[tuple[str, str]]:
    """Problems that span sections, as (dotted path, message); empty when the scenario is consistent."""
    problems: list[tuple[str, str]] = []
    lanes = set(scenario.study_types) | {SECOND_OPINION, AUDIT}
    for name, study_type in scenario.study_types.items():
        for service in study_type.ais:
            if service not in scenario.ai_services:
                problems.append((f"study_types.{name}.ai", f"no AI service {service!r} in ai_services"))
        stations = (any(site.devices or site.uplink is not None for site in scenario.sites.values())
                    or scenario.ingest.mbyte_per_s is not None
                    or any(scenario.ai_services[s].workers is not None for s in study_type.ais if s in scenario.ai_services))
        if len(study_type.ais) > 1 and stations:
            problems.append((f"study_types.{name}.ai", "a study scored by several AIs goes through drawn delays only: "
                             "not yet with devices, uplinks, ingest capacity or AI workers"))
        if (study_type.conditions or len(study_type.ais) > 1) and scenario.arrivals is not None:
            problems.append((f"study_types.{name}", "conditions and several AIs are drawn, not replayed: not with "
                             "arrivals.trace (a trace has one finding and one AI result a study)"))
        for site in study_type.sites or {}:
            if site not in scenario.sites:
                problems.append((f"study_types.{name}.sites.{site}", f"no site {site!r} in sites"))
        if study_type.sites is not None and sum(study_type.sites.values()) <= 0:
            problems.append((f"study_types.{name}.sites", "site shares must not all be zero"))
    for service_name, service in scenario.ai_services.items():
        users = [t for t in scenario.study_types.values() if service_name in t.ais]
        for i, target in enumerate(service.targets or []):
            if not any(target in t.conditions for t in users):
                problems.append((f"ai_services.{service_name}.targets.{i}",
                                 f"no study type it scores has a condition {target!r}"))
    if any(t.sites is None for t in scenario.study_types.values()) and sum(s.weight for s in scenario.sites.values()) <= 0:
        problems.append(("sites", "site weights must not all be zero"))
    problems += _dated_outside(scenario)
    for pool_name, pool in scenario.pools.items():
        for i, lane in enumerate(pool.reads):
            if lane != "*" and lane not in lanes:
                problems.append((f"pools.{pool_name}.reads.{i}", f"no study type {lane!r}"))
    if scenario.second_opinions is not None and scenario.second_opinions.of != "*":
        for i, name in enumerate(scenario.second_opinions.of):
            if name not in scenario.study_types:
                problems.append((f"second_opinions.of.{i}", f"no study type {name!r}"))
    for pool_name, pool in scenario.pools.items():
        if pool.site is not None and pool.site not in scenario.sites:
            problems.append((f"pools.{pool_name}.site", f"no site {pool.site!r} in sites"))
    central = {lane for pool in scenario.pools.values() if pool.site is None for lane in scenario.lanes_of(pool)}
    for name, study_type in scenario.study_types.items():
        shares = study_type.sites if study_type.sites is not None else {s: v.weight for s, v in scenario.sites.items()}
        shares = {**shares, **{b.site: 1.0 for b in study_type.bookings if b.site in scenario.sites}}
        for site, share in shares.items():
            local = any(p.site == site and name in scenario.lanes_of(p) for p in scenario.pools.values())
            if share > 0 and name not in central and not local:
                problems.append((f"study_types.{name}", "no pool reads this study type" +
                                 (f" from site {site!r}" if len(shares) > 1 else "") + " (add it to a pool's reads)"))
                break
    problems += _routing_problems(scenario, central)
    problems += _network_problems(scenario)
    if scenario.second_opinions is not None and scenario.second_opinions.fraction > 0:
        readers = [p for p in scenario.pools.values() if SECOND_OPINION in scenario.lanes_of(p)]
        if not readers:
            problems.append(("second_opinions", "no pool reads second_opinion (add it to a pool's reads)"))
    targeted = {c for service in scenario.ai_services.values() for c in service.targets or []}
    for i, entry in enumerate(scenario.policy.order):
        if entry not in scenario.ai_services and entry not in targeted:
            problems.append((f"policy.order.{i}", f"no AI service {entry!r} in ai_services, nor a condition an AI "
                             "service targets"))
    problems += _policy_problems(scenario)
    problems += _target_problems(scenario)
    for i, expectation in enumerate(scenario.expect):
        if isinstance(expectation.value, float) and not math.isfinite(expectation.value):
            problems.append((f"expect.{i}.value", "must be a finite number"))
    return problems


def _network_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Devices for a modality no study type has (a typo would silently leave studies unqueued), and study
    types that travel a link with no size to send."""
    problems: list[tuple[str, str]] = []
    imaging = {t.modality for t in scenario.study_types.values() if t.kind == Kind.PRIMARY.value}
    for site_name, site in scenario.sites.items():
        for modality, group in site.devices.items():
            overflow = group.overflow
            if overflow is not None:
                path = f"sites.{site_name}.devices.{modality}.overflow.to"
                target = scenario.sites.get(overflow.to)
                if target is None:
                    problems.append((path, f"no site {overflow.to!r} in sites"))
                elif overflow.to == site_name:
                    problems.append((path, "a site cannot send its patients to itself"))
                elif modality not in target.devices:
                    problems.append((path, f"site {overflow.to!r} has no {modality} devices to send patients to"))
            if modality not in imaging:
                problems.append((f"sites.{site_name}.devices.{modality}",
                                 f"no imaging study type has modality {modality!r} ({', '.join(sorted(imaging))})"))
    for name, study_type in scenario.study_types.items():
        for i, booking in enumerate(study_type.bookings):
            if booking.site not in scenario.sites:
                problems.append((f"study_types.{name}.bookings.{i}.site", f"no site {booking.site!r} in sites"))
            if study_type.kind != Kind.PRIMARY.value:
                problems.append((f"study_types.{name}.bookings", "bookings are for imaging studies"))
        if study_type.bookings and scenario.arrivals is not None:
            problems.append((f"study_types.{name}.bookings", "a replayed trace holds the studies that came: "
                             "give bookings or a trace, not both"))
    for modality in imaging:  # patients never come back, so sending in a circle would never settle
        step = {name: site.devices[modality].overflow.to for name, site in scenario.sites.items()
                if modality in site.devices and site.devices[modality].overflow is not None}
        for first in step:
            seen, here = [first], first
            while here in step:
                here = step[here]
                if here in seen:
                    problems.append((f"sites.{first}.devices.{modality}.overflow",
                                     f"overflow goes round in a circle: {' -> '.join(seen + [here])}"))
                    break
                seen.append(here)
            else:
                continue
            break
    sized = scenario.ingest.mbyte_per_s is not None or any(s.uplink is not None for s in scenario.sites.values())
    if sized:
        for name, study_type in scenario.study_types.items():
            if study_type.kind == Kind.PRIMARY.value and study_type.modality not in scenario.network.sizes_mb:
                problems.append((f"study_types.{name}.modality", f"no study size for {study_type.modality!r} in "
                                 "network.sizes_mb (links and ingest move megabytes)"))
    for modality in scenario.network.sizes_mb:
        if modality not in imaging:
            problems.append((f"network.sizes_mb.{modality}", f"no imaging study type has modality {modality!r}"))
    return problems


def _policy_problems(scenario: Scenario) -> list[tuple[str, str]]:
    policy = scenario.policy
    problems: list[tuple[str, str]] = []
    if policy.triage == "rules" and policy.else_ is None:
        problems.append(("policy.else", "triage: rules needs an else: {class: ...} for studies no rule matches"))
    if policy.options and ":" not in policy.triage:
        problems.append(("policy.options", "options go to a user policy ('package.module:Class'); built-in policies "
                         "have their own sections (policy.score, policy.aging, policy.sla_edf, policy.rules)"))
    known = {
        "study_type": set(scenario.study_types), "site": set(scenario.sites), "ai_service": set(scenario.ai_services),
        "modality": {t.modality for t in scenario.study_types.values()},
        "kind": set(KINDS),
    }
    for i, rule in enumerate([*policy.rules, *([policy.else_] if policy.else_ else [])]):
        where = f"policy.rules.{i}" if i < len(policy.rules) else "policy.else"
        for field, names in known.items():
            value = getattr(rule.when, field, None) if isinstance(rule, Rule) else None
            for name in [value] if isinstance(value, str) else value or []:
                if name not in names:
                    problems.append((f"{where}.when.{field}", f"no {field.replace('_', ' ')} {name!r} in the scenario"))
    return problems


def _target_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """`targets` keys name what a work item is: an order priority, `ai_positive`, a kind or a study type."""
    names = {*REFERRALS, AI_POSITIVE, *KINDS, *scenario.study_types}
    return [(f"targets.{key}", f"no order priority, kind of work or study type {key!r} (targets are given by what a "
             f"work item is: {', '.join(REFERRALS)}, {AI_POSITIVE}, {', '.join(KINDS)} or a study type)")
            for key in scenario.targets if key not in names]


def _routing_problems(scenario: Scenario, central: set[str]) -> list[tuple[str, str]]:
    routing = scenario.routing
    problems: list[tuple[str, str]] = []
    for name in routing.workload:
        if name not in scenario.study_types:
            problems.append((f"routing.workload.{name}", f"no study type {name!r}"))
    for name, study_type in scenario.study_types.items():
        if study_type.double_reading is not None:
            most = sum(max(shift.staff for shift in pool.shifts) for pool in scenario.pools.values()
                       if name in scenario.lanes_of(pool))
            if most < 2:
                problems.append((f"study_types.{name}.double_reading",
                                 "two different readers read each study, but the pools reading it never have two"))
    lane = routing.autonomous_normal
    if lane is not None:
        for i, name in enumerate(lane.study_types):
            if name not in scenario.study_types:
                problems.append((f"routing.autonomous_normal.study_types.{i}", f"no study type {name!r}"))
            elif scenario.study_types[name].ai is None:
                problems.append((f"routing.autonomous_normal.study_types.{i}", f"study type {name!r} has no AI"))
        if AUDIT not in central:
            problems.append(("routing.autonomous_normal", "no pool reads audit (add it to a central pool's reads)"))
    return problems
