"""The model against queueing theory: the theory value must lie in the simulation's confidence interval.

Each check runs independent replications (R = 30) and computes a 99% Student-t interval of the mean wait
over replications; the tolerance (99% rather than 95%, so that one in a hundred seeds, not one in twenty,
would fail a correct model) and the scenarios were fixed before looking at any output. The half-width is
also required to be small (< 8% of the theory value), so that a pass is informative.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulator import run_scenario
from simulator.metrics import per_replication
from simulator.theory import cobham_waits, erlang_c, mmc_mean_wait

from .conftest import base_dict, make

R = 30


def interval(values: np.ndarray, level: float = 0.99) -> tuple[float, float, float]:
    mean = float(values.mean())
    half = float(stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half, mean + half


def desk(servers: int, rate_per_hour: float, mean_minutes: float, stat: float, policy: str) -> dict:
    data = base_dict()
    data.update(horizon_days=60, warmup_days=2, seed=11, policy={"triage": policy})
    data["study_types"]["chest_ct"].update(arrivals={"rate_per_hour": rate_per_hour}, referral={"stat": stat},
                                           read_minutes={"dist": "exponential", "mean": mean_minutes}, ai=None)
    data["pools"]["readers"]["shifts"][0]["staff"] = servers
    return data


def test_theory_helpers_against_hand_computed_values() -> None:
    # M/M/2, a = 1.6: C = 6.4 / 9 (worked by hand), W = C / (2 mu - lambda) with mu = 0.1, lambda = 0.16.
    assert erlang_c(2, 1.6) == pytest.approx(6.4 / 9)
    assert mmc_mean_wait(2, 0.16, 0.1) == pytest.approx(6.4 / 9 / 0.04)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    # Conservation: the arrival-weighted class waits equal the FIFO wait.
    waits = cobham_waits(3, 0.1, [0.05, 0.1, 0.09])
    assert np.dot(waits, [0.05, 0.1, 0.09]) / 0.24 == pytest.approx(mmc_mean_wait(3, 0.24, 0.1))


def test_mmc_fifo_mean_wait_matches_erlang_c() -> None:
    scenario = make(desk(servers=3, rate_per_hour=14.4, mean_minutes=10, stat=0.0, policy="fifo"))  # rho 0.8
    run = run_scenario(scenario, R, workers=2)
    waits = per_replication(run.studies, run.duties, scenario, "mean_wait_minutes", {}, range(R))
    mean, low, high = interval(waits)
    theory = mmc_mean_wait(3, 14.4 / 60, 0.1)
    assert low <= theory <= high, (theory, mean, low, high)
    assert (high - low) / 2 < 0.08 * theory


def test_two_priority_classes_match_cobham() -> None:
    scenario = make(desk(servers=2, rate_per_hour=9.6, mean_minutes=10, stat=0.2, policy="fifo"))  # rho 0.8
    run = run_scenario(scenario, R, workers=2)
    lam = 9.6 / 60
    theory = cobham_waits(2, 0.1, [0.2 * lam, 0.8 * lam])
    for referral, expected in zip(("stat", "routine"), theory):
        waits = per_replication(run.studies, run.duties, scenario, "mean_wait_minutes", {"referral": referral},
                                range(R))
        mean, low, high = interval(waits)
        assert low <= expected <= high, (referral, expected, mean, low, high)
        assert (high - low) / 2 < 0.08 * expected


def test_reversed_priorities_are_caught() -> None:
    """The check can fail: if the classes were served the other way round, Cobham's values fall outside."""
    scenario = make(desk(servers=2, rate_per_hour=9.6, mean_minutes=10, stat=0.8, policy="fifo"))
    run = run_scenario(scenario, 10, workers=2)
    lam = 9.6 / 60
    wrong_order = cobham_waits(2, 0.1, [0.2 * lam, 0.8 * lam])  # as if the 20% routine went first
    waits = per_replication(run.studies, run.duties, scenario, "mean_wait_minutes", {"referral": "routine"}, range(10))
    _, low, high = interval(waits)
    assert not low <= wrong_order[0] <= high
