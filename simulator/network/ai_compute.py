"""AI as a compute service: `workers` GPU slots, each study taking its drawn `inference_minutes`.

A study reaches the service when it is in the archive, queues for a worker (STAT, then urgent, then
routine; each by arrival) and is scored when its inference ends, plus `latency_minutes` for the result's
way back. It does not wait for the result: it joins the worklist when it is in the archive, unscored, and
the result re-ranks it when it comes (a study opened before its result is counted as read unscored).
A study reaching the service during an outage, or failing (`failure_rate`), is never scored and takes no
worker; an outage also stops the workers from starting new inferences (what is queued waits).
"""
from __future__ import annotations

from ..calendar import windows
from ..scenario import AIService, Scenario
from .queues import Capacity

__all__ = ["worker_capacity"]


def worker_capacity(scenario: Scenario, service: AIService) -> Capacity:
    assert service.workers is not None
    return Capacity.of(service.workers, [(a, b, float(service.workers)) for a, b in windows(scenario, service.outages)])
