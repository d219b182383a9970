"""A study's way to the worklist through the upstream stations, for a whole replication at once:
devices (acquisition) -> uplink and ingest (in the archive) -> AI (scored).

Each station is a pass over its studies in time order (`queues.py`): nothing upstream waits for the
readers. Every station draws from its own streams, so adding a GPU worker or a scanner changes no arrival,
truth, score or reading time (common random numbers across capacities as across policies).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..cohort import windows
from ..distributions import sample
from ..scenario import Scenario
from ..streams import stream
from ..triage import Kind
from .ai_compute import score_times
from .devices import devices_of, examine, in_sending_order
from .figures import station_figures
from .transfer import to_archive

__all__ = ["through_stations"]


def through_stations(scenario: Scenario, seed: int, replication: int, columns: dict[str, np.ndarray],
                     detail: bool = False) -> None:
    """Sets the cohort's `acquired_at`, `at_archive`, `scored_at`, `ready_at`, `late_score`, the AI columns
    and `stations` (each station's figures) from its arrivals and the draws `draw_cohort` left in `columns`
    (which it takes out). With `detail`, also `station_detail`: what each station served, job by job (for
    tests: a city year's would be most of a gigabyte)."""
    types = list(scenario.study_types.values())
    imaging = np.array([t.kind == Kind.PRIMARY.value for t in types])[columns["study_type"]]
    figures: dict[str, dict] = {}
    served_by: dict[str, dict] = {}

    def record(name: str, served: dict) -> None:
        """A station's figures at once, so that its job-by-job arrays go when the pass is done."""
        figures[name] = station_figures(scenario, name, served)
        if detail:
            served_by[name] = served

    acquired = _acquire(scenario, seed, replication, columns, imaging, record)
    size = _sizes(scenario, seed, replication, columns["study_type"])
    at_archive = to_archive(scenario, acquired, columns["site"], size, columns.pop("delay"), imaging, record)
    _score(scenario, seed, replication, columns, at_archive, record)
    columns.update(acquired_at=acquired, at_archive=at_archive, stations=figures,
                   station_detail=served_by if detail else None)


def _acquire(scenario: Scenario, seed: int, replication: int, columns: dict[str, np.ndarray], imaging: np.ndarray,
             record: Callable[[str, dict], None]) -> np.ndarray:
    """When each study's exam ends, through the device groups in sending order; a patient sent to another
    site's devices takes that site's code in `columns["site"]`."""
    types = list(scenario.study_types.values())
    modality_names = sorted({t.modality for t in types})
    modality = np.array([modality_names.index(t.modality) for t in types], dtype=np.int32)[columns["study_type"]]
    arrived, referral, site = columns["arrived_at"], columns["referral"], columns["site"]
    acquired = arrived.copy()
    site_code = {name: code for code, name in enumerate(scenario.sites)}
    groups = devices_of(scenario)
    # Each group's own patients, before any are sent elsewhere.
    members = {(s, m): np.flatnonzero(imaging & (site == site_code[s]) & (modality == modality_names.index(m)))
               for s, m in groups}
    sent: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]] = {key: [] for key in groups}
    for key in in_sending_order(groups):
        site_name, code = key
        group = groups[key]
        own = members[key]
        came = sent[key]  # (studies, when they were sent) from other sites' queues
        mine = np.concatenate([own, *[studies for studies, _ in came]]).astype(np.int64)
        at = np.concatenate([arrived[own], *[when for _, when in came]])
        name = f"{site_name}/{code}"
        exams = examine(scenario, name, group, seed, replication, at, referral[mine], mine.shape[0] - own.shape[0])
        acquired[mine] = exams["finish"]
        record(f"devices:{name}", exams)
        if group.overflow is not None:
            gone = ~np.isfinite(exams["start"]) & np.isfinite(at)
            moved = mine[gone]
            sent[(group.overflow.to, code)].append((moved, at[gone] + group.overflow.after.in_minutes))
            site[moved] = site_code[group.overflow.to]  # acquired there: its uplink, its readers
    return acquired


def _sizes(scenario: Scenario, seed: int, replication: int, type_code: np.ndarray) -> np.ndarray:
    """Each imaging study's size in megabytes, by its modality (0 for work that is not images)."""
    size = np.zeros(type_code.shape[0])
    for t, (type_name, study_type) in enumerate(scenario.study_types.items()):
        dist = scenario.network.sizes_mb.get(study_type.modality)
        if dist is not None and study_type.kind == Kind.PRIMARY.value:
            mine = np.flatnonzero(type_code == t)
            size[mine] = sample(dist, stream(seed, replication, "size", type_name), mine.shape[0])
    return size


def _score(scenario: Scenario, seed: int, replication: int, columns: dict[str, np.ndarray], at_archive: np.ndarray,
           record: Callable[[str, dict], None]) -> None:
    """Which studies the AI scores and when: a service without workers (or a trace's result) is waited for,
    as in the simple form; one with workers scores in its queue's order while the study is on the worklist."""
    types = list(scenario.study_types.values())
    type_code, referral = columns["study_type"], columns["referral"]
    failed, latency = columns.pop("ai_failed"), columns.pop("ai_latency")
    raw_score, raw_positive = columns.pop("raw_score"), columns.pop("raw_positive")
    given, traced = columns.pop("ai_given"), columns.pop("ai_traced")
    n = type_code.shape[0]
    scored, late = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    scored_at = np.full(n, np.nan)
    ready = at_archive.copy()
    for name, service in scenario.ai_services.items():
        mine = np.flatnonzero(np.isin(type_code, [t for t, study_type in enumerate(types) if study_type.primary_ai == name]))
        reach = at_archive[mine]
        out = np.zeros(mine.shape[0], dtype=bool)
        for a, b in windows(scenario, service.outages):
            out |= (reach >= a) & (reach < b)
        eligible = np.where(traced[mine], given[mine], ~failed[mine] & ~out & np.isfinite(reach))
        waited = mine[eligible & (traced[mine] | (service.workers is None))]
        scored[waited] = True
        scored_at[waited] = ready[waited] = at_archive[waited] + latency[waited]
        if service.workers is not None:
            computed = mine[eligible & ~traced[mine]]
            when = score_times(scenario, name, service, seed, replication, at_archive[computed], referral[computed],
                               latency[computed], record)
            ok = np.isfinite(when)
            scored[computed[ok]] = True
            scored_at[computed[ok]] = when[ok]
            late[computed[ok]] = when[ok] > at_archive[computed[ok]]
    columns.update(scored_at=scored_at, ready_at=ready, ai_scored=scored, ai_score=np.where(scored, raw_score, np.nan),
                   ai_positive=raw_positive & scored, late_score=late if late.any() else None)
