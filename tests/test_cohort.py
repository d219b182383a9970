"""Drawing studies: arrivals by hour and weekday, ground truth, the binormal AI, outages, streams."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulator.ai import operating_point, score
from simulator.calendar import after_outages
from simulator.network import draw_cohort
from simulator.scenario import AIService
from simulator.streams import stream

from .conftest import base_dict, make


def test_profile_arrivals_follow_hourly_and_weekday_weights() -> None:
    data = base_dict()
    hourly = [0] * 8 + [10] * 12 + [0] * 4
    data["study_types"]["chest_ct"]["arrivals"] = {"per_day": 700, "hourly": hourly,
                                                   "weekday": [1, 1, 1, 1, 1, 0.5, 0.5]}
    data.update(horizon_days=70, warmup_days=0)
    scenario = make(data)
    times = draw_cohort(scenario, 1, 0).draws.arrivals.arrived_at
    minute_of_day = times % 1440
    assert ((minute_of_day >= 480) & (minute_of_day < 1200)).all()  # nothing outside 08-20
    # Mean over the week is per_day: 70 days -> 49,000 expected; Poisson sd ~221.
    assert abs(times.size - 49_000) < 4 * math.sqrt(49_000)
    weekday = (times // 1440).astype(int) % 7  # the start is a Monday
    weekend_daily = np.isin(weekday, [5, 6]).sum() / 20
    weekday_daily = np.isin(weekday, [0, 1, 2, 3, 4]).sum() / 50
    assert weekend_daily / weekday_daily == pytest.approx(0.5, rel=0.05)
    assert weekday_daily == pytest.approx(700 / (6 / 7), rel=0.03)


def test_sites_split_volume_by_weight() -> None:
    data = base_dict()
    data["sites"] = {"a": {"weight": 3}, "b": {"weight": 1}}
    data.update(horizon_days=30)
    cohort = draw_cohort(make(data), 1, 0)
    share_a = np.mean(cohort.upstream.site == 0)
    n = len(cohort)
    assert abs(share_a - 0.75) < 4 * math.sqrt(0.75 * 0.25 / n)


@pytest.mark.parametrize("given,expect", [
    ({"sensitivity": 0.85, "specificity": 0.80}, (0.85, 0.80)),
    ({"auc": 0.93, "specificity": 0.93}, (None, 0.93)),
    ({"auc": 0.88, "sensitivity": 0.70}, (0.70, None)),
])
def test_binormal_operating_points_are_reproduced(given: dict, expect: tuple) -> None:
    point = operating_point(AIService(**given))
    se, sp = expect
    if se is not None:
        assert point.sensitivity == pytest.approx(se)
    if sp is not None:
        assert point.specificity == pytest.approx(sp)
    assert point.auc == pytest.approx(stats.norm.cdf(point.separation / math.sqrt(2)))
    if "auc" in given:
        assert point.auc == pytest.approx(given["auc"])
    rng = np.random.default_rng(5)
    n = 200_000
    truth = rng.random(n) < 0.2
    posterior, flag = score(truth, point, 0.2, np.random.default_rng(6))
    se_hat, sp_hat = flag[truth].mean(), 1 - flag[~truth].mean()
    assert abs(se_hat - point.sensitivity) < 4 * math.sqrt(point.sensitivity * (1 - point.sensitivity) / truth.sum())
    assert abs(sp_hat - point.specificity) < 4 * math.sqrt(point.specificity * (1 - point.specificity) / (~truth).sum())
    # The score is a calibrated posterior: among studies scored ~p, a share ~p is diseased.
    bins = np.digitize(posterior, [0.1, 0.3, 0.5, 0.7, 0.9])
    for b in range(6):
        inside = bins == b
        if inside.sum() > 2000:
            assert truth[inside].mean() == pytest.approx(posterior[inside].mean(), abs=0.02)
    # The flag is a threshold on the score.
    assert posterior[flag].min() >= posterior[~flag].max() - 1e-12


def test_ai_failures_and_outages_leave_studies_unscored_and_unheld() -> None:
    data = base_dict()
    data["ai_services"]["ct_ai"].update(failure_rate=0.1, latency_minutes={"dist": "fixed", "value": 5},
                                        outages=[{"start": "2026-02-04T10:00", "hours": 6}])
    cohort = draw_cohort(make(data), 1, 0)
    out = (cohort.draws.arrivals.arrived_at >= 2 * 1440 + 600) & (cohort.draws.arrivals.arrived_at < 2 * 1440 + 960)
    assert not cohort.upstream.ai_scored[out].any()
    assert np.isnan(cohort.upstream.ai_score[~cohort.upstream.ai_scored]).all()
    others = ~out
    assert cohort.upstream.ai_scored[others].mean() == pytest.approx(0.9, abs=0.02)
    lag = cohort.upstream.ready_at - cohort.draws.arrivals.arrived_at
    assert np.allclose(lag[cohort.upstream.ai_scored], 5) and np.allclose(lag[~cohort.upstream.ai_scored], 0)


def test_ingest_outage_holds_studies_until_it_ends() -> None:
    times = np.array([10.0, 50.0, 99.9, 100.0, 150.0, 205.0])
    assert after_outages(times, [(40, 100), (100, 120), (200, 210)]).tolist() == [10, 120, 120, 120, 150, 210]


def test_streams_are_independent_of_each_other_and_reproducible() -> None:
    a = stream(1, 0, "reading", "ct").random(5)
    assert (a == stream(1, 0, "reading", "ct").random(5)).all()
    for other in (stream(1, 1, "reading", "ct"), stream(1, 0, "truth", "ct"), stream(1, 0, "reading", "mr"),
                  stream(2, 0, "reading", "ct")):
        assert not (a == other.random(5)).any()
    with pytest.raises(ValueError):
        stream(1, 0, "weather")


def test_adding_a_study_type_leaves_the_others_draws_alone() -> None:
    data = base_dict()
    first = draw_cohort(make(data), 3, 0)
    data["study_types"]["mri"] = {"modality": "MR", "arrivals": {"rate_per_hour": 2},
                                  "read_minutes": {"dist": "fixed", "value": 20}}
    data["pools"]["readers"]["reads"].append("mri")
    second = draw_cohort(make(data), 3, 0)
    ct = second.draws.study_type == 0
    assert np.array_equal(first.draws.arrivals.arrived_at, second.draws.arrivals.arrived_at[ct])
    assert np.array_equal(first.draws.reading.read_minutes, second.draws.reading.read_minutes[ct])
    assert np.array_equal(first.upstream.ai_score, second.upstream.ai_score[ct], equal_nan=True)


@pytest.mark.parametrize("dist", [
    {"dist": "exponential", "mean": 8}, {"dist": "lognormal", "mean": 16, "cv": 0.55},
    {"dist": "gamma", "mean": 5, "cv": 1.5}, {"dist": "fixed", "value": 3}, {"dist": "empirical", "values": [1, 2, 9]},
])
def test_distributions_sample_their_stated_mean_and_variation(dist: dict) -> None:
    from pydantic import TypeAdapter

    from simulator.distributions import mean_of, sample, scv_of
    from simulator.scenario import Distribution

    parsed = TypeAdapter(Distribution).validate_python(dist)
    draws = sample(parsed, np.random.default_rng(3), 400_000)
    assert draws.min() >= 0
    assert draws.mean() == pytest.approx(mean_of(parsed), rel=0.01)
    assert draws.var() / draws.mean() ** 2 == pytest.approx(scv_of(parsed), rel=0.03, abs=1e-9)
