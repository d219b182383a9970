"""The theory module against hand-computed values and against itself (conservation, special cases)."""
from __future__ import annotations

import math

import pytest

from simulator import ScenarioError, load_scenario
from simulator.expectations import expected_value
from simulator.theory import (ai_triage_waits, cobham_waits, erlang_c, mg1_preemptive_waits, mg1_priority_waits,
                              mm1_preemptive_waits, mmc_mean_wait, mmc_preemptive_two_class_waits, pk_mean_wait,
                              positive_share, psa_mean_wait)

from .conftest import base_dict, make

MU = 0.1


def test_hand_computed_values() -> None:
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert mmc_mean_wait(1, 0.07, MU) == pytest.approx(0.7 / (MU - 0.07))  # rho / (mu - lambda)
    # Preemptive M/M/1, lambda = 0.03 and 0.04, mu = 0.1, worked by hand:
    # W1 = rho1 / (mu - lambda1) = 0.3 / 0.07; T2 = 10 / 0.7 + 0.07 * 100 / (0.7 * 0.3) = 47.619, W2 = T2 - 10.
    w1, w2 = mm1_preemptive_waits(MU, [0.03, 0.04])
    assert w1 == pytest.approx(0.3 / 0.07) and w2 == pytest.approx(10 / 0.7 + 7 / 0.21 - 10)
    # Pollaczek-Khinchine with lognormal mean 7, cv 1.5, lambda 0.1: 0.1 * 49 * 3.25 / (2 * 0.3).
    assert pk_mean_wait(0.1, 7.0, 1.5) == pytest.approx(0.1 * 49 * 3.25 / 0.6)
    assert positive_share(0.1, 0.85, 0.9) == pytest.approx(0.085 + 0.09)


def test_special_cases_agree() -> None:
    # Non-preemptive M/G/1 with exponential service is Cobham at one server.
    rates = [0.01, 0.02, 0.03]
    assert mg1_priority_waits(rates, [10] * 3, [200] * 3) == pytest.approx(cobham_waits(1, MU, rates))
    # One class: preemption changes nothing, and both are Pollaczek-Khinchine.
    assert mg1_preemptive_waits([0.05], [10], [200])[0] == pytest.approx(pk_mean_wait(0.05, 10, 1.0))
    assert pk_mean_wait(0.05, 10, 1.0) == pytest.approx(mmc_mean_wait(1, 0.05, MU))
    # The conservation route for M/M/c at one server equals the M/G/1 formula.
    assert mmc_preemptive_two_class_waits(1, MU, 0.03, 0.04) == pytest.approx(tuple(mm1_preemptive_waits(MU, [0.03, 0.04])))
    # Constant rates and staffing: the PSA is the stationary M/M/c.
    assert psa_mean_wait([0.2] * 24, [3] * 24, MU) == pytest.approx(mmc_mean_wait(3, 0.2, MU))


@pytest.mark.parametrize("servers", [1, 2, 5])
def test_conservation_arrival_weighted_waits_equal_fifo(servers: int) -> None:
    lam = 0.08 * servers
    fifo = mmc_mean_wait(servers, lam, MU)
    shares = [0.2, 0.3, 0.5]
    waits = cobham_waits(servers, MU, [s * lam for s in shares])
    assert sum(s * w for s, w in zip(shares, waits)) == pytest.approx(fifo)
    high, low = mmc_preemptive_two_class_waits(servers, MU, 0.3 * lam, 0.7 * lam)
    assert 0.3 * high + 0.7 * low == pytest.approx(fifo)
    if servers == 1:
        waits = mm1_preemptive_waits(MU, [s * lam for s in shares])
        assert sum(s * w for s, w in zip(shares, waits)) == pytest.approx(fifo)


@pytest.mark.parametrize("preemptive", [False, True])
@pytest.mark.parametrize("servers", [1, 2, 5])
def test_ai_triage_waits_conserve_and_order(servers: int, preemptive: bool) -> None:
    lam, p, se, sp = 0.08 * servers, 0.1, 0.85, 0.9
    w = ai_triage_waits(servers, lam, MU, p, se, sp, priority=True, preemptive=preemptive)
    share = positive_share(p, se, sp)
    assert share * w.positive + (1 - share) * w.negative == pytest.approx(w.fifo)
    assert p * w.diseased + (1 - p) * w.healthy == pytest.approx(w.fifo)
    assert w.positive < w.diseased < w.fifo < w.healthy < w.negative
    none = ai_triage_waits(servers, lam, MU, p, se, sp, priority=False)
    assert none.diseased == none.healthy == none.fifo == pytest.approx(w.fifo)


def test_preemption_helps_the_first_class_and_costs_the_second() -> None:
    rates = [0.02, 0.05]
    assert mm1_preemptive_waits(MU, rates)[0] < cobham_waits(1, MU, rates)[0]
    assert mm1_preemptive_waits(MU, rates)[1] > cobham_waits(1, MU, rates)[1]
    with pytest.raises(ValueError):
        pk_mean_wait(0.2, 10, 1.0)  # rho = 2


def test_theory_references_read_the_scenario_and_refuse_shapes_they_do_not_fit() -> None:
    scenario = load_scenario("validation/mmc_two_classes")
    stat, rest = (expected_value(scenario, e) for e in scenario.expect[:2])
    assert (stat, rest) == pytest.approx(tuple(cobham_waits(2, MU, [0.2 * 0.16, 0.8 * 0.16])))
    data = base_dict()
    data["expect"] = [{"metric": "mean_wait_minutes", "value": {"theory": "pk"}, "rel_tol": 0.1}]
    with pytest.raises(ScenarioError, match=r"expect\.0\.value: pk: pk is for one reader"):
        make(data)
    data["expect"] = [{"metric": "mean_wait_minutes", "value": {"theory": "ai_triage", "of": "sick"}, "rel_tol": 0.1}]
    with pytest.raises(ScenarioError, match="'of' must be one of positive, negative"):
        make(data)
    data["expect"] = [{"metric": "mean_wait_minutes", "value": {"theory": "mmc_fifo"}, "rel_tol": 0.1}]
    data["study_types"]["chest_ct"]["read_minutes"] = {"dist": "gamma", "mean": 10, "cv": 0.5}
    with pytest.raises(ScenarioError, match="exponential reading times"):
        make(data)
    assert math.isfinite(expected_value(load_scenario("validation/shifts_day_night_psa"),
                                        load_scenario("validation/shifts_day_night_psa").expect[0]))
