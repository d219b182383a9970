"""The fit's own uncertainty: a fitted scenario whose values are drawn from their sampling distributions (a
parametric bootstrap), so that a back-test's prediction interval and a replay's effect interval hold what
the log does not pin down, not only the simulation's own draws.

Each value `fit` gives with a 95% interval (a type's per_day, order-priority shares, reading-time mean,
ingest delay; an AI's failure rate, latency, operating point and the prevalence; the second-opinion share
and reading time) is drawn from a normal of that spread around the fitted value, kept to what it may be (a
share in [0, 1], a mean above zero). The shape of the arrivals by hour and weekday, a distribution's
family and spread, and the roster are kept as fitted: their uncertainty is not carried (said in
docs/calibration.md). Replication r's draw comes from (seed, r): a run stays a pure function of its inputs.
"""
from __future__ import annotations

import copy

import numpy as np

from .fitting import Fitted, LogFit

__all__ = ["drawn", "draw_rng"]

Z95 = 1.959964  # a 95% interval is the estimate +- Z95 standard errors


def draw_rng(seed: int, replication: int) -> np.random.Generator:
    """Replication `replication`'s draw of the fit, from the run's seed."""
    return np.random.default_rng([seed, replication, 0x5EED])


def _draw(fitted: Fitted | None, value: float, rng: np.random.Generator, low: float, high: float) -> float:
    if fitted is None or fitted.interval is None or not all(np.isfinite(fitted.interval)):
        return value
    spread = (fitted.interval[1] - fitted.interval[0]) / (2.0 * Z95)
    return float(min(max(value + spread * rng.standard_normal(), low), high))


def _mean(body: dict, key: str, fitted: Fitted | None, rng: np.random.Generator) -> None:
    """A distribution's mean (`body[key]["mean"]`) drawn; its family and spread kept."""
    law = body.get(key)
    if isinstance(law, dict) and "mean" in law:
        law["mean"] = _draw(fitted, float(law["mean"]), rng, 1e-3 * float(law["mean"]), float("inf"))


def drawn(data: dict, fit: LogFit, rng: np.random.Generator) -> dict:
    """The fitted scenario `data` (what `fit.yaml` writes, loaded) with each fitted value drawn."""
    data = copy.deepcopy(data)
    services = data.get("ai_services", {})
    for key, t in fit.types.items():
        body = data["study_types"].get(key)
        if body is None:
            continue
        arrivals = body.get("arrivals")
        if isinstance(arrivals, dict) and "per_day" in arrivals:
            arrivals["per_day"] = _draw(t.arrivals, float(arrivals["per_day"]), rng, 1e-6, float("inf"))
        shares = body.get("referral", {})
        for name, share in t.referral.items():
            if name in shares:
                shares[name] = _draw(share, float(shares[name]), rng, 0.0, 1.0)
        if sum(shares.values()) > 1.0:  # two shares drawn high together: kept to a mix
            total = sum(shares.values())
            for name in shares:
                shares[name] /= total
        _mean(body, "read_minutes", t.reads, rng)
        _mean(body, "ingest_minutes", t.ingest, rng)
        ai, service = t.ai, services.get(body.get("ai", ""))
        if ai is not None and service is not None:
            service["failure_rate"] = _draw(ai.failure, float(service.get("failure_rate", 0.0)), rng, 0.0, 0.999)
            _mean(service, "latency_minutes", ai.latency, rng)
            for name, share in (("sensitivity", ai.sensitivity), ("specificity", ai.specificity)):
                if share is not None and share.value is not None and name in service:
                    service[name] = _draw(share, float(service[name]), rng, 0.001, 0.999)
            # The prevalence as `fit.yaml` wrote it: the findings' share where they tell the operating point,
            # else the flag rate (with an AI at AI_NO_TRUTH, so that its flags come out at that rate).
            known = all(f is not None and f.value is not None for f in (ai.sensitivity, ai.specificity))
            if "prevalence" in body:
                body["prevalence"] = _draw(ai.prevalence if known else ai.flagged, float(body["prevalence"]), rng,
                                           0.0, 1.0)
    if fit.second_opinions is not None and "second_opinions" in data:
        share, reads = fit.second_opinions
        opinions = data["second_opinions"]
        opinions["fraction"] = _draw(share, float(opinions["fraction"]), rng, 0.0, 1.0)
        _mean(opinions, "read_minutes", reads, rng)
    if "ingest" in data:
        _mean(data["ingest"], "delay_minutes", fit.ingest, rng)
    return data
