"""Closed-form queueing results the model is validated against.

Waits are mean times in queue (before service, and for pre-emptive disciplines including the time a
pre-empted study spends waiting to resume): the model's `wait_minutes`. Rates per minute, times in minutes.

Sources:
- Erlang C and the M/M/c mean wait: Gross, Shortle, Thompson & Harris, Fundamentals of Queueing Theory,
  4th ed. (2008), section 2.3.
- Non-preemptive priorities, K classes, c servers, equal exponential service: Cobham, "Priority assignment
  in waiting line problems", Operations Research 2 (1954); for M/G/1 with class-dependent service:
  Kleinrock, Queueing Systems vol. 2 (1976), section 3.6.
- Preemptive-resume priorities, M/G/1 with K classes: Kleinrock vol. 2, section 3.7 (also Harchol-Balter,
  Performance Modeling and Design of Computer Systems (2013), section 32.3).
- Preemptive-resume M/M/c with two classes of equal service rate: class 1 sees an M/M/c of its own, and the
  number in system of both classes together is that of FIFO M/M/c (the discipline does not change the
  total when service is exponential and equal), so class 2 follows by Little's law (Harchol-Balter 32.4).
- Pollaczek-Khinchine mean wait of M/G/1: Gross et al. section 5.1.
- Pointwise stationary approximation for time-varying arrivals and staffing: Green & Kolesar, "The
  pointwise stationary approximation for queues with nonstationary arrivals", Management Science 37 (1991).
- M/G/c mean wait, Allen-Cunneen approximation W ~ W(M/M/c) (ca^2 + cs^2) / 2: Allen, Probability,
  Statistics and Queueing Theory (1990), section 6.
- Completion time with active breakdowns (failures at rate xi during service, repair R, preemptive-resume):
  E[C] = E[S] (1 + xi E[R]), E[C^2] = E[S^2] (1 + xi E[R])^2 + xi E[S] E[R^2]; Gaver, "A waiting line with
  interrupted service, including priorities", JRSS B 24 (1962). The wait is then Pollaczek-Khinchine on C.
- M/G/1 processor sharing: mean sojourn E[S] / (1 - rho), whatever the distribution of S (Kleinrock vol. 2,
  section 4.4).
- Tandem of M/M/c stations: each sees Poisson arrivals (Burke 1956), so the mean sojourn through the chain
  is the sum of the stations' (Jackson 1957).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["erlang_c", "mmc_mean_wait", "cobham_waits", "mg1_priority_waits", "mg1_preemptive_waits",
           "mm1_preemptive_waits", "mmc_preemptive_two_class_waits", "mmc_preemptive_waits", "pk_mean_wait", "TriageWaits",
           "ai_triage_waits", "positive_share", "psa_mean_wait", "allen_cunneen_wait", "breakdown_wait",
           "ps_mean_sojourn", "mmc_mean_sojourn", "mg1_moments_wait"]


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


def _check_stable(loads: Sequence[float]) -> None:
    if sum(loads) >= 1.0:
        raise ValueError(f"total load {sum(loads):.3f} must be below 1")


def mg1_priority_waits(arrival_rates: Sequence[float], means: Sequence[float],
                       second_moments: Sequence[float]) -> list[float]:
    """Non-preemptive priority M/G/1, class 0 highest: W_k = R / ((1 - s_{k-1})(1 - s_k)),
    R = sum_i lambda_i E[S_i^2] / 2 (the mean residual work a study finds in service)."""
    loads = [lam * m for lam, m in zip(arrival_rates, means)]
    _check_stable(loads)
    residual = sum(lam * s2 for lam, s2 in zip(arrival_rates, second_moments)) / 2.0
    waits, sigma = [], 0.0
    for load in loads:
        before = sigma
        sigma += load
        waits.append(residual / ((1.0 - before) * (1.0 - sigma)))
    return waits


def mg1_preemptive_waits(arrival_rates: Sequence[float], means: Sequence[float],
                         second_moments: Sequence[float]) -> list[float]:
    """Preemptive-resume priority M/G/1, class 0 highest. A class-k study sees only classes 0..k:
    T_k = E[S_k] / (1 - s_{k-1}) + R_k / ((1 - s_{k-1})(1 - s_k)), R_k = sum_{i<=k} lambda_i E[S_i^2] / 2;
    the wait is T_k - E[S_k]."""
    loads = [lam * m for lam, m in zip(arrival_rates, means)]
    _check_stable(loads)
    waits, sigma, residual = [], 0.0, 0.0
    for lam, mean, s2, load in zip(arrival_rates, means, second_moments, loads):
        before = sigma
        sigma += load
        residual += lam * s2 / 2.0
        response = mean / (1.0 - before) + residual / ((1.0 - before) * (1.0 - sigma))
        waits.append(response - mean)
    return waits


def mm1_preemptive_waits(service_rate: float, arrival_rates: Sequence[float]) -> list[float]:
    """Preemptive-resume priority M/M/1 with equal service rates (E[S^2] = 2 / mu^2)."""
    mean = 1.0 / service_rate
    k = len(arrival_rates)
    return mg1_preemptive_waits(arrival_rates, [mean] * k, [2.0 * mean * mean] * k)


def mmc_preemptive_two_class_waits(servers: int, service_rate: float, high: float, low: float) -> tuple[float, float]:
    """Preemptive-resume M/M/c, two classes of equal exponential service, by the conservation argument."""
    mean = 1.0 / service_rate
    w_high = mmc_mean_wait(servers, high, service_rate)
    in_system = (high + low) * (mmc_mean_wait(servers, high + low, service_rate) + mean)
    in_system_low = in_system - high * (w_high + mean)
    return w_high, in_system_low / low - mean


def mmc_preemptive_waits(servers: int, service_rate: float, arrival_rates: Sequence[float]) -> list[float]:
    """Preemptive-resume M/M/c, any number of classes of equal exponential service, class 0 highest.

    Classes 0..k never see the classes below them, and with equal exponential service the discipline among
    them does not change their number in system: together they are an M/M/c FIFO at their summed rate. So
    class k's number is the difference of two M/M/c populations, and its time by Little's law (with two
    classes this is `mmc_preemptive_two_class_waits`)."""
    mean = 1.0 / service_rate
    waits, before, in_system_before = [], 0.0, 0.0
    for rate in arrival_rates:
        upto = before + rate
        in_system = upto * (mmc_mean_wait(servers, upto, service_rate) + mean) if upto > 0 else 0.0
        waits.append((in_system - in_system_before) / rate - mean if rate > 0 else math.nan)
        before, in_system_before = upto, in_system
    return waits


def pk_mean_wait(arrival_rate: float, mean: float, cv: float) -> float:
    """Pollaczek-Khinchine: M/G/1 mean wait lambda E[S^2] / (2 (1 - rho)), E[S^2] = mean^2 (1 + cv^2)."""
    rho = arrival_rate * mean
    _check_stable([rho])
    return arrival_rate * mean * mean * (1.0 + cv * cv) / (2.0 * (1.0 - rho))


def mg1_moments_wait(arrival_rate: float, first: float, second: float) -> float:
    """Pollaczek-Khinchine from the first two moments of service: lambda E[S^2] / (2 (1 - lambda E[S]))."""
    _check_stable([arrival_rate * first])
    return arrival_rate * second / (2.0 * (1.0 - arrival_rate * first))


def breakdown_wait(arrival_rate: float, service: tuple[float, float], failure_rate: float,
                   repair: tuple[float, float]) -> float:
    """Mean wait of M/G/1 whose server breaks down while serving (rate `failure_rate` per busy minute) and
    resumes after the repair; `service` and `repair` are (mean, second moment)."""
    s1, s2 = service
    r1, r2 = repair
    stretch = 1.0 + failure_rate * r1
    return mg1_moments_wait(arrival_rate, s1 * stretch, s2 * stretch**2 + failure_rate * s1 * r2)


def allen_cunneen_wait(servers: int, arrival_rate: float, mean: float, ca2: float, cs2: float) -> float:
    """Approximate M/G/c (G/G/c) mean wait: the M/M/c wait scaled by (ca^2 + cs^2) / 2."""
    return mmc_mean_wait(servers, arrival_rate, 1.0 / mean) * (ca2 + cs2) / 2.0


def ps_mean_sojourn(arrival_rate: float, mean: float) -> float:
    """M/G/1 processor sharing: mean time in the station E[S] / (1 - rho)."""
    rho = arrival_rate * mean
    _check_stable([rho])
    return mean / (1.0 - rho)


def mmc_mean_sojourn(servers: int, arrival_rate: float, mean: float) -> float:
    """M/M/c mean time in the station: wait plus service."""
    return mmc_mean_wait(servers, arrival_rate, 1.0 / mean) + mean


def positive_share(prevalence: float, sensitivity: float, specificity: float) -> float:
    """P(AI-positive) = p Se + (1 - p)(1 - Sp)."""
    return prevalence * sensitivity + (1.0 - prevalence) * (1.0 - specificity)


@dataclass(frozen=True)
class TriageWaits:
    """Mean waits with AI triage: by AI result, by truth, and what FIFO would give everyone."""

    positive: float
    negative: float
    diseased: float
    healthy: float
    fifo: float


def ai_triage_waits(servers: int, arrival_rate: float, service_rate: float, prevalence: float,
                    sensitivity: float, specificity: float, priority: bool = True,
                    preemptive: bool = False) -> TriageWaits:
    """Two classes formed by an imperfect AI: AI-positive first (non-preemptive or preemptive-resume), or no
    priority at all. A diseased study is AI-positive with probability Se, a healthy one with 1 - Sp:
    W_diseased = Se W+ + (1 - Se) W-, W_healthy = (1 - Sp) W+ + Sp W-."""
    fifo = mmc_mean_wait(servers, arrival_rate, service_rate)
    share = positive_share(prevalence, sensitivity, specificity)
    if not priority:
        w_pos = w_neg = fifo
    elif preemptive:
        w_pos, w_neg = mmc_preemptive_two_class_waits(servers, service_rate, share * arrival_rate,
                                                      (1.0 - share) * arrival_rate)
    else:
        w_pos, w_neg = cobham_waits(servers, service_rate, [share * arrival_rate, (1.0 - share) * arrival_rate])
    return TriageWaits(positive=w_pos, negative=w_neg,
                       diseased=sensitivity * w_pos + (1.0 - sensitivity) * w_neg,
                       healthy=(1.0 - specificity) * w_pos + specificity * w_neg, fifo=fifo)


def psa_mean_wait(arrival_rates: Sequence[float], staff: Sequence[int], service_rate: float) -> float:
    """Pointwise stationary approximation over a cycle of equal periods: each period is an M/M/c in steady
    state at its own rate and staffing; the mean wait weights each period's wait by its arrivals. Good when
    periods are long against service times and every period is stable on its own (Green & Kolesar 1991)."""
    total = sum(arrival_rates)
    if total <= 0:
        raise ValueError("no arrivals in the cycle")
    weighted = 0.0
    for rate, servers in zip(arrival_rates, staff, strict=True):
        if rate > 0:
            weighted += rate * mmc_mean_wait(servers, rate, service_rate)
    return weighted / total
