"""Closed-form queueing results used to validate the model.

Sources: Erlang C and the M/M/c mean wait (e.g. Gross & Harris, Fundamentals of Queueing Theory, 4th ed.,
section 2.3); Cobham (1954), "Priority assignment in waiting line problems", for non-preemptive priority
classes with equal exponential service at c servers.
"""
from __future__ import annotations

from collections.abc import Sequence

__all__ = ["erlang_c", "mmc_mean_wait", "cobham_waits"]


def erlang_c(servers: int, offered_load: float) -> float:
    """P(an arrival waits) in M/M/c with offered load a = lambda / mu < c."""
    c, a = servers, offered_load
    if not 0 <= a < c:
        raise ValueError(f"offered load {a} must lie in [0, {c})")
    # Erlang B by its stable recursion, then C from B.
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1.0 - b))


def mmc_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue (before service) of M/M/c FIFO."""
    a = arrival_rate / service_rate
    return erlang_c(servers, a) / (servers * service_rate - arrival_rate)


def cobham_waits(servers: int, service_rate: float, arrival_rates: Sequence[float]) -> list[float]:
    """Mean queue wait per class of M/M/c with non-preemptive priorities, class 0 highest (Cobham 1954).

    W_k = W0 / ((1 - s_{k-1}) (1 - s_k)), with s_k the load of classes 0..k over c*mu and
    W0 = C(c, a) / (c mu).
    """
    total = sum(arrival_rates)
    w0 = erlang_c(servers, total / service_rate) / (servers * service_rate)
    waits, sigma = [], 0.0
    for rate in arrival_rates:
        before = sigma
        sigma += rate / (servers * service_rate)
        waits.append(w0 / ((1.0 - before) * (1.0 - sigma)))
    return waits
