"""AI as a compute service: `workers` GPU slots, each study taking its drawn `inference_minutes`.

A study reaches the service when it is in the archive, queues for a worker (STAT, then urgent, then
routine; each by arrival) and is scored when its inference ends, plus `latency_minutes` for the result's
way back. It does not wait for the result: it joins the worklist when it is in the archive, unscored, and
the result re-ranks it when it comes (a study opened before its result is counted as read unscored).
A study reaching the service during an outage, or failing (`failure_rate`), is never scored and takes no
worker; an outage also stops the workers from starting new inferences (what is queued waits).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..calendar import windows
from ..distributions import sample
from ..scenario import AIService, Scenario
from ..streams import by_year, stream
from .queues import Capacity, serve

__all__ = ["score_times", "worker_capacity"]


def worker_capacity(scenario: Scenario, service: AIService) -> Capacity:
    assert service.workers is not None
    return Capacity.of(service.workers, [(a, b, float(service.workers)) for a, b in windows(scenario, service.outages)])


def score_times(scenario: Scenario, name: str, service: AIService, seed: int, replication: int,
                at_archive: np.ndarray, referral: np.ndarray, latency: np.ndarray,
                record: Callable[[str, dict], None] | None = None,
                years: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """When each of the service's studies (those given, all to be scored) has its result (+inf if never),
    and when a worker started its inference (NaN if never). Inference times from the streams of each
    study's draws' year (`years`; None: the first)."""
    assert service.inference_minutes is not None
    n = at_archive.shape[0]
    inference = by_year(years, n, lambda year, count: sample(service.inference_minutes,
                                                             stream(seed, replication, "inference", name, year), count))
    reach = np.isfinite(at_archive)
    scored, started = np.full(n, np.inf), np.full(n, np.nan)
    level = worker_capacity(scenario, service)
    start, finish = serve(at_archive[reach], referral[reach], inference[reach], level)
    scored[reach] = finish + latency[reach]
    started[reach] = start
    if record is not None:
        record(f"ai:{name}", {"arrived": at_archive[reach], "start": start, "finish": finish,
                              "busy": inference[reach], "capacity": level})
    return scored, started
