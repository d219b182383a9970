"""Closed forms for one upstream station, read off the scenario (`expect: ... value: {theory: station}`).

Each station sees Poisson arrivals when the study types have constant rates: a site's share thins a Poisson
stream, a device or link upstream of it passes a Poisson stream on (Burke; a processor-sharing queue is
quasi-reversible), and independent delays keep it Poisson. So:
- AI workers and devices: M/G/c. Exponential times: Erlang C (exact). Otherwise Allen-Cunneen (an
  approximation: say so with its tolerance). One device with breakdowns: Pollaczek-Khinchine on the
  completion time with active breakdowns (Gaver; exact).
- An uplink or the ingest: M/G/1 processor sharing, mean time in the station E[S] / (1 - rho) (exact).
Metrics: `station_wait_minutes` (servers), `station_service_minutes` (the time in service: the completion
time of an exam with its repairs, an inference, a link's transfer), `station_utilization`.
"""
from __future__ import annotations

import math

from ..distributions import mean_of, scv_of
from ..scenario import Exponential, Scenario, StudyType
from ..theory import allen_cunneen_wait, breakdown_wait, mmc_mean_wait, ps_mean_sojourn
from .transfer import MB_PER_MIN_PER_MBIT_S

__all__ = ["station_value", "StationShapeError"]


class StationShapeError(ValueError):
    """The station does not have the shape a closed form assumes."""


def _rate(study_type: StudyType, name: str) -> float:
    if study_type.arrivals.rate_per_hour is None:
        raise StationShapeError(f"study type {name!r} needs a constant arrival rate (rate_per_hour)")
    return study_type.arrivals.rate_per_hour / 60.0


def _share(scenario: Scenario, study_type: StudyType, site: str) -> float:
    shares = study_type.sites if study_type.sites is not None else {s: v.weight for s, v in scenario.sites.items()}
    return shares.get(site, 0.0) / sum(shares.values())


def _imaging(scenario: Scenario) -> list[tuple[str, StudyType]]:
    return [(n, t) for n, t in scenario.study_types.items() if t.kind == "primary"]


def station_value(scenario: Scenario, station: str, metric: str) -> float:
    kind, _, name = station.partition(":")
    if kind == "ai" and name in scenario.ai_services:
        return _ai(scenario, name, metric)
    if kind == "devices" and "/" in name:
        return _devices(scenario, *name.split("/", 1), metric)
    if kind == "uplink" and name in scenario.sites:
        return _link(scenario, metric, site=name)
    if station == "ingest":
        return _link(scenario, metric, site=None)
    raise StationShapeError(f"no station {station!r} (ai:<service>, devices:<site>/<modality>, uplink:<site>, ingest)")


def _servers(rate: float, mean: float, scv: float, servers: int, metric: str, second: float | None = None) -> float:
    """M/G/c: the wait, the time in service or the utilisation; `second` the second moment when exact."""
    if metric == "station_utilization":
        return rate * mean / servers
    if metric == "station_service_minutes":
        return mean
    if servers == 1 and second is not None:
        return _pk(rate, mean, second)
    if scv == 1.0:
        return mmc_mean_wait(servers, rate, 1.0 / mean)
    return allen_cunneen_wait(servers, rate, mean, 1.0, scv)


def _pk(rate: float, mean: float, second: float) -> float:
    if rate * mean >= 1.0:
        raise StationShapeError("the station is overloaded")
    return rate * second / (2.0 * (1.0 - rate * mean))


def _ai(scenario: Scenario, name: str, metric: str) -> float:
    service = scenario.ai_services[name]
    if service.workers is None or service.inference_minutes is None:
        raise StationShapeError(f"AI service {name!r} has no workers: it is a drawn delay, not a queue")
    if service.outages:
        raise StationShapeError("outages make the AI's arrivals time-dependent")
    rate = sum(_rate(t, n) for n, t in scenario.study_types.items() if t.primary_ai == name) * (1.0 - service.failure_rate)
    dist = service.inference_minutes
    return _servers(rate, mean_of(dist), 1.0 if isinstance(dist, Exponential) else scv_of(dist), service.workers,
                    metric)


def _devices(scenario: Scenario, site: str, modality: str, metric: str) -> float:
    group = scenario.sites.get(site, None)
    devices = None if group is None else group.devices.get(modality)
    if devices is None:
        raise StationShapeError(f"no devices {modality!r} at site {site!r}")
    if devices.open is not None or devices.outages:
        raise StationShapeError("opening hours and outages make the devices' capacity time-dependent")
    if devices.overflow is not None or any(g.overflow is not None and g.overflow.to == site and modality in s.devices
                                           for s in scenario.sites.values() for g in s.devices.values()):
        raise StationShapeError("patients sent between sites make the devices' arrivals depend on the queues")
    rate = sum(_rate(t, n) * _share(scenario, t, site) for n, t in _imaging(scenario) if t.modality == modality)
    dist = devices.exam_minutes
    s1, scv = mean_of(dist), (1.0 if isinstance(dist, Exponential) else scv_of(dist))
    s2 = s1 * s1 * (1.0 + scv)
    failures = devices.failures
    if failures is None:
        return _servers(rate, s1, scv, devices.count, metric, s2)
    if devices.count != 1:
        raise StationShapeError("breakdowns are known in closed form for one device")
    xi = 1.0 / (failures.busy_hours_between * 60.0)
    r1 = mean_of(failures.repair_minutes)
    r2 = r1 * r1 * (1.0 + scv_of(failures.repair_minutes))
    stretch = 1.0 + xi * r1
    if metric == "station_wait_minutes":
        return breakdown_wait(rate, (s1, s2), xi, (r1, r2))
    return _servers(rate, s1 * stretch, math.nan, 1, metric)


def _link(scenario: Scenario, metric: str, site: str | None) -> float:
    if site is None:
        ingest = scenario.ingest
        if ingest.mbyte_per_s is None:
            raise StationShapeError("the ingest has no rate: it is a drawn delay, not a queue")
        if ingest.slowdowns or ingest.outages:
            raise StationShapeError("slowdowns and outages make the ingest's capacity time-dependent")
        capacity = ingest.mbyte_per_s * 60.0
    else:
        uplink = scenario.sites[site].uplink
        if uplink is None:
            raise StationShapeError(f"site {site!r} has no uplink")
        if uplink.outages:
            raise StationShapeError("outages make the uplink's capacity time-dependent")
        capacity = uplink.mbit_per_s * MB_PER_MIN_PER_MBIT_S
    rate, work = 0.0, 0.0
    for n, t in _imaging(scenario):
        r = _rate(t, n) * (1.0 if site is None else _share(scenario, t, site))
        rate += r
        work += r * mean_of(scenario.network.sizes_mb[t.modality])
    mean = work / rate / capacity  # minutes of the link alone, over all its studies
    if metric == "station_utilization":
        return rate * mean
    if metric == "station_wait_minutes":
        raise StationShapeError("a link serves everyone at once: it has no wait (use station_service_minutes)")
    return ps_mean_sojourn(rate, mean)
