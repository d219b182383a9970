"""Expected values of `expect:` entries: a number as written, or a closed form fed from the scenario.

A theory reference reads the queue's parameters off the scenario (arrival rates, reading times, staff,
prevalence, the AI's operating point, the policy's classes), so a change to the scenario changes its
expectation with it. Scenarios that do not have the shape a formula needs are refused with the reason.
"""
from __future__ import annotations

import math

from .ai import operating_point
from .calendar import duties
from .distributions import mean_of, scv_of
from .scenario import Exponential, Expectation, Scenario, StudyType, TheoryValue
from .theory import (ai_triage_waits, cobham_waits, mg1_preemptive_waits, mmc_mean_wait,
                     mmc_preemptive_two_class_waits, pk_mean_wait, positive_share, psa_mean_wait)

__all__ = ["expected_value", "TheoryShapeError"]


class TheoryShapeError(ValueError):
    """The scenario does not have the shape the named closed form assumes."""


def expected_value(scenario: Scenario, expectation: Expectation) -> float:
    value = expectation.value
    if not isinstance(value, TheoryValue):
        return float(value)
    if value.theory == "station":
        return _station(scenario, expectation)
    return _THEORIES[value.theory](scenario, value.of)


def _station(scenario: Scenario, expectation: Expectation) -> float:
    """An upstream station's closed form (simulator/network/expected.py), for a station metric."""
    from .metrics import STATION_METRICS
    from .network.expected import StationShapeError, station_value

    if expectation.metric not in STATION_METRICS or "station" not in expectation.where:
        raise TheoryShapeError(f"station is for {', '.join(STATION_METRICS)} with where: {{station: ...}}")
    try:
        return station_value(scenario, str(expectation.where["station"]), expectation.metric)
    except StationShapeError as exc:
        raise TheoryShapeError(str(exc)) from None


def _single_type(scenario: Scenario) -> StudyType:
    primaries = [t for t in scenario.study_types.values() if t.kind == "primary"]
    if len(scenario.study_types) != 1 or len(primaries) != 1:
        raise TheoryShapeError("needs exactly one study type")
    return primaries[0]


def _rate(study_type: StudyType) -> float:
    """Arrivals per minute of a constant-rate type."""
    if study_type.arrivals.rate_per_hour is None:
        raise TheoryShapeError("needs a constant arrival rate (arrivals: {rate_per_hour: ...})")
    return study_type.arrivals.rate_per_hour / 60.0


def _servers(scenario: Scenario) -> int:
    """The staff of a single pool on a single round-the-clock shift."""
    if len(scenario.pools) != 1:
        raise TheoryShapeError("needs a single pool")
    pool = next(iter(scenario.pools.values()))
    if len(pool.shifts) != 1 or pool.shifts[0].length_minutes != 1440.0 or len(pool.shifts[0].days) != 7 \
            or pool.absence_rate > 0:
        raise TheoryShapeError("needs one 24-hour shift every day and no absences (use psa for shifts)")
    return pool.shifts[0].staff


def _no_extra_work(scenario: Scenario) -> None:
    if scenario.second_opinions is not None and scenario.second_opinions.fraction > 0:
        raise TheoryShapeError("second opinions add work the formula does not know")
    if scenario.routing.autonomous_normal is not None or any(t.double_reading for t in scenario.study_types.values()):
        raise TheoryShapeError("double reading and audits add work the formula does not know")


def _exponential_mean(study_type: StudyType) -> float:
    if not isinstance(study_type.read_minutes, Exponential):
        raise TheoryShapeError("needs exponential reading times (use pk for one reader and other times)")
    return study_type.read_minutes.mean


def _queue(scenario: Scenario) -> tuple[StudyType, float, float, int]:
    study_type = _single_type(scenario)
    _no_extra_work(scenario)
    return study_type, _rate(study_type), _exponential_mean(study_type), _servers(scenario)


def _flagged_share(scenario: Scenario, study_type: StudyType) -> float:
    """P(AI-positive) of a study, failures counted as unflagged."""
    if study_type.ai is None:
        return 0.0
    service = scenario.ai_services[study_type.ai]
    if service.outages:
        raise TheoryShapeError("AI outages make the flagged share time-dependent")
    point = operating_point(service)
    return positive_share(study_type.prevalence, point.sensitivity, point.specificity) * (1.0 - service.failure_rate)


def _pick(values: dict, of: object, name: str) -> float:
    if of not in values:
        raise TheoryShapeError(f"{name}: 'of' must be one of {', '.join(map(str, values))}")
    return float(values[of])


def _mmc_fifo(scenario: Scenario, of: object) -> float:
    _, rate, mean, servers = _queue(scenario)
    return mmc_mean_wait(servers, rate, 1.0 / mean)


def _classes(scenario: Scenario, study_type: StudyType, rate: float) -> list[float]:
    """Arrival rates of the policy's classes, highest first."""
    stat = study_type.referral.stat
    triage = scenario.policy.triage
    if triage == "fifo":
        return [rate * stat, rate * (1.0 - stat)]
    if triage == "ai_priority":
        flagged = _flagged_share(scenario, study_type)
        return [rate * stat, rate * (1.0 - stat) * flagged, rate * (1.0 - stat) * (1.0 - flagged)]
    raise TheoryShapeError("priority classes are known for fifo (STAT, rest) and ai_priority (STAT, flagged, rest)")


def _priority(scenario: Scenario, of: object) -> float:
    study_type, rate, mean, servers = _queue(scenario)
    rates = _classes(scenario, study_type, rate)
    if not scenario.policy.preemptive:
        waits = cobham_waits(servers, 1.0 / mean, rates)
    elif servers == 1:
        waits = mg1_preemptive_waits(rates, [mean] * len(rates), [2.0 * mean * mean] * len(rates))
    else:
        present = [r for r in rates if r > 0]
        if len(present) != 2:
            raise TheoryShapeError("preemptive priorities at several readers are known for two classes only")
        pair = iter(mmc_preemptive_two_class_waits(servers, 1.0 / mean, present[0], present[1]))
        waits = [next(pair) if r > 0 else math.nan for r in rates]
    return _pick(dict(enumerate(waits)), of, "priority")


def _ai_triage(scenario: Scenario, of: object) -> float:
    study_type, rate, mean, servers = _queue(scenario)
    if study_type.ai is None or study_type.referral.stat or study_type.referral.urgent:
        raise TheoryShapeError("ai_triage needs an AI service and no STAT or urgent referrals")
    service = scenario.ai_services[study_type.ai]
    if service.failure_rate or service.outages:
        raise TheoryShapeError("ai_triage assumes the AI scores every study")
    if scenario.policy.triage not in ("fifo", "ai_priority"):
        raise TheoryShapeError("ai_triage knows fifo (no priority) and ai_priority")
    point = operating_point(service)
    waits = ai_triage_waits(servers, rate, 1.0 / mean, study_type.prevalence, point.sensitivity, point.specificity,
                            priority=scenario.policy.triage == "ai_priority", preemptive=scenario.policy.preemptive)
    return _pick({k: getattr(waits, k) for k in ("positive", "negative", "diseased", "healthy", "fifo")}, of,
                 "ai_triage")


def _pk(scenario: Scenario, of: object) -> float:
    study_type = _single_type(scenario)
    _no_extra_work(scenario)
    if _servers(scenario) != 1:
        raise TheoryShapeError("pk is for one reader")
    if scenario.policy.triage != "fifo" or study_type.referral.stat:
        raise TheoryShapeError("pk is for FIFO without STAT referrals")
    dist = study_type.read_minutes
    return pk_mean_wait(_rate(study_type), mean_of(dist), math.sqrt(scv_of(dist)))


def _psa(scenario: Scenario, of: object) -> float:
    """Per hour of the week: the arrival rate and the staff on duty; periods weighted by arrivals."""
    study_type = _single_type(scenario)
    _no_extra_work(scenario)
    if len(scenario.pools) != 1 or scenario.policy.triage != "fifo" or study_type.referral.stat:
        raise TheoryShapeError("psa is for one pool, FIFO, no STAT referrals")
    mean = _exponential_mean(study_type)
    rates = [r / 60.0 for day in study_type.arrivals.hourly_rates() for r in day]  # Monday 00:00 first
    week = scenario.model_copy(update={"horizon_days": max(scenario.horizon_days, 14.0), "warmup_days": 0.0})
    monday = (7 - scenario.start.weekday()) % 7 * 1440.0 - (scenario.start.hour * 60 + scenario.start.minute)
    monday = monday if monday >= 0 else monday + 7 * 1440.0
    staff = [0] * (7 * 24)
    for duty in duties(week):
        for hour in range(7 * 24):
            middle = monday + hour * 60.0 + 30.0
            if duty.start <= middle < duty.end:
                staff[hour] += duty.staff
    for hour, (rate, servers) in enumerate(zip(rates, staff)):
        if rate > 0 and rate * mean >= servers:
            raise TheoryShapeError(f"hour {hour % 24} of weekday {hour // 24} is overloaded on its own: "
                                   "the approximation needs every period stable")
    return psa_mean_wait(rates, staff, 1.0 / mean)


_THEORIES = {"mmc_fifo": _mmc_fifo, "priority": _priority, "ai_triage": _ai_triage, "pk": _pk, "psa": _psa}
