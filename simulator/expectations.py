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
from .theory import ai_triage_waits, mmc_mean_wait, pk_mean_wait, psa_mean_wait

__all__ = ["expected_value", "TheoryShapeError"]


class TheoryShapeError(ValueError):
    """The scenario does not have the shape the named closed form assumes."""


def expected_value(scenario: Scenario, expectation: Expectation) -> float:
    value = expectation.value
    if not isinstance(value, TheoryValue):
        return float(value)
    if not _arrives(scenario):  # (each closed form would divide by its arrival rate)
        raise TheoryShapeError("no study arrives (every arrival rate is 0): a queue's theory needs arrivals")
    if value.theory == "station":
        return _station(scenario, expectation)
    if value.theory == "priority":
        return _priority(scenario, expectation)
    return _THEORIES[value.theory](scenario, value.of)


def _arrives(scenario: Scenario) -> bool:
    """Whether any study is expected to arrive: drawn at some rate, booked, or replayed from a trace."""
    return scenario.arrivals is not None or any(
        t.bookings or sum(map(sum, t.arrivals.hourly_rates())) > 0 for t in scenario.study_types.values())


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
            or pool.shifts[0].dates is not None \
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


def _pick(values: dict, of: object, name: str) -> float:
    if of not in values:
        raise TheoryShapeError(f"{name}: 'of' must be one of {', '.join(map(str, values))}")
    return float(values[of])


def _mmc_fifo(scenario: Scenario, of: object) -> float:
    _, rate, mean, servers = _queue(scenario)
    return mmc_mean_wait(servers, rate, 1.0 / mean)


def _priority(scenario: Scenario, expectation: Expectation) -> float:
    """A class's wait (`of`: its index, 0 the highest) or a condition's (`of`: its name, `none` for studies
    without one), from the classes the policy forms (simulator/class_theory.py)."""
    from .class_theory import ClassShapeError, class_waits, condition_wait, priority_classes

    _no_extra_work(scenario)
    if scenario.has_stations():
        raise TheoryShapeError("upstream stations change when a study joins the worklist and when its AI result "
                               "re-ranks it: priority knows drawn delays only")
    servers = _servers(scenario)
    of = expectation.value.of  # type: ignore[union-attr]
    try:
        classes = priority_classes(scenario)
        waits, exact = class_waits(classes, servers, scenario.policy.preemptive)
        if not exact and expectation.value_rel_error <= 0:
            raise TheoryShapeError("several readers with class-dependent or non-exponential reading times: the "
                                   "value is an approximation (docs/validation.md); give its error as value_rel_error")
        if isinstance(of, str):
            return condition_wait(classes, waits, of)
    except ClassShapeError as exc:
        raise TheoryShapeError(str(exc)) from None
    value = _pick(dict(enumerate(waits)), of, "priority")
    if math.isnan(value):
        raise TheoryShapeError(f"priority: class {of} has no arrivals")
    return value


def _ai_triage(scenario: Scenario, of: object) -> float:
    study_type, rate, mean, servers = _queue(scenario)
    if len(study_type.ais) != 1 or study_type.referral.stat or study_type.referral.urgent:
        raise TheoryShapeError("ai_triage needs one AI service and no STAT or urgent referrals (priority knows more)")
    if study_type.conditions:
        raise TheoryShapeError("ai_triage knows one finding read like the rest; priority knows conditions")
    service = scenario.ai_services[study_type.ais[0]]
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
    monday = (7 - scenario.start.weekday()) % 7 * 1440.0 - (scenario.start.hour * 60 + scenario.start.minute)
    monday = monday if monday >= 0 else monday + 7 * 1440.0
    staff = [0] * (7 * 24)
    for duty in duties(scenario, max(scenario.horizon_days, 14.0)):
        for hour in range(7 * 24):
            middle = monday + hour * 60.0 + 30.0
            if duty.start <= middle < duty.end:
                staff[hour] += duty.staff
    for hour, (rate, servers) in enumerate(zip(rates, staff)):
        if rate > 0 and rate * mean >= servers:
            raise TheoryShapeError(f"hour {hour % 24} of weekday {hour // 24} is overloaded on its own: "
                                   "the approximation needs every period stable")
    return psa_mean_wait(rates, staff, 1.0 / mean)


_THEORIES = {"mmc_fifo": _mmc_fifo, "ai_triage": _ai_triage, "pk": _pk, "psa": _psa}
