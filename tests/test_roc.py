"""An AI given by its ROC curve: the unequal-variance binormal fit, the operating point it sets, and
scores drawn from it that reproduce the operating point and stay calibrated."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from simulator import ScenarioError
from simulator.ai import fit_binormal, operating_point, score
from simulator.network import draw_cohort
from simulator.scenario import AIService

from .conftest import base_dict, make

A, B = 1.2, 0.6  # a curve whose diseased scores spread wider than the healthy ones (s = 1 / b = 1.67)


def curve(n: int = 9) -> list[tuple[float, float]]:
    fpf = np.linspace(0.02, 0.6, n)
    return [(float(f), float(ndtr(A + B * ndtri(f)))) for f in fpf]


def test_the_fit_recovers_the_line_on_normal_deviate_axes() -> None:
    a, b = fit_binormal(curve())
    assert a == pytest.approx(A, abs=1e-9) and b == pytest.approx(B, abs=1e-9)


def test_the_operating_point_is_on_the_curve() -> None:
    at_sp = operating_point(AIService.model_validate({"roc": {"points": curve()}, "specificity": 0.9}))
    assert at_sp.specificity == pytest.approx(0.9)
    assert at_sp.sensitivity == pytest.approx(ndtr(A + B * ndtri(0.1)))
    at_se = operating_point(AIService.model_validate({"roc": {"points": curve()}, "sensitivity": 0.8}))
    assert at_se.sensitivity == pytest.approx(0.8)
    assert ndtr(A + B * ndtri(1 - at_se.specificity)) == pytest.approx(0.8)
    # AUC = Phi(a / sqrt(1 + b^2)), checked against the probability that a diseased score beats a healthy one.
    rng = np.random.default_rng(1)
    sick, healthy = rng.normal(A / B, 1 / B, 400_000), rng.normal(0.0, 1.0, 400_000)
    assert at_sp.auc == pytest.approx(float((sick > healthy).mean()), abs=0.003)


def test_drawn_scores_reproduce_the_operating_point_and_are_calibrated() -> None:
    point = operating_point(AIService.model_validate({"roc": {"points": curve()}, "specificity": 0.9}))
    rng = np.random.default_rng(2)
    diseased = rng.random(400_000) < 0.2
    posterior, positive = score(diseased, point, 0.2, rng)
    n_sick, n_well = diseased.sum(), (~diseased).sum()
    assert positive[diseased].mean() == pytest.approx(point.sensitivity, abs=4 * math.sqrt(0.25 / n_sick))
    assert (~positive[~diseased]).mean() == pytest.approx(0.9, abs=4 * math.sqrt(0.25 / n_well))
    bins = np.digitize(posterior, np.linspace(0, 1, 11))
    for b in np.unique(bins):  # the posterior says how often the finding is there
        inside = bins == b
        if inside.sum() > 2000:
            se = math.sqrt(0.25 / inside.sum())
            assert diseased[inside].mean() == pytest.approx(posterior[inside].mean(), abs=4 * se)


def test_a_scenario_with_an_roc_runs_and_bad_curves_are_named() -> None:
    data = base_dict()
    data["ai_services"]["ct_ai"] = {"roc": {"points": curve()}, "sensitivity": 0.85}
    cohort = draw_cohort(make(data), 7, 0)
    assert cohort.upstream.ai_scored.any()
    for service, message in [({"roc": {"points": curve()}, "sensitivity": 0.8, "specificity": 0.9}, "the specificity or"),
                             ({"roc": {"points": curve()}, "auc": 0.9, "sensitivity": 0.8}, "the specificity or"),
                             ({"roc": {"points": [(0.1, 0.9), (0.5, 0.6)]}, "sensitivity": 0.8}, "do not rise"),
                             ({"roc": {"points": [(0.0, 0.0), (1.0, 1.0)]}, "sensitivity": 0.8}, "two points")]:
        data["ai_services"]["ct_ai"] = service
        with pytest.raises(ScenarioError, match=message) as caught:
            make(data)
        assert "ai_services.ct_ai" in str(caught.value)


def test_the_drawn_curve_passes_through_the_operating_point() -> None:
    from simulator.figures import roc_curve

    point = operating_point(AIService.model_validate({"roc": {"points": curve()}, "specificity": 0.9}))
    figure = roc_curve(point.separation, point.threshold, "ct", point.spread)
    line, marker = figure.data
    assert marker.x[0] == pytest.approx(0.1) and marker.y[0] == pytest.approx(point.sensitivity)
    assert np.interp(0.1, line.x[::-1], line.y[::-1]) == pytest.approx(point.sensitivity, abs=0.01)
    assert f"AUC {point.auc:.2f}" in figure.layout.title.text


def write_curve(path, thresholds: bool = True) -> None:
    rows = ["fpf,tpf" + (",threshold" if thresholds else "")]
    for k, (f, t) in enumerate(curve()):
        rows.append(f"{f},{t}" + (f",{0.9 - 0.1 * k}" if thresholds else ""))
    path.write_text("\n".join(rows) + "\n")


def test_a_curve_from_a_file_next_to_the_scenario_operates_at_a_score_threshold(tmp_path) -> None:
    """A vendor's curve as a CSV with each point's score cut-off: the service operates at the threshold's
    false-positive fraction, read between points; the file is found next to the scenario."""
    import yaml

    from simulator import load_scenario

    write_curve(tmp_path / "roc.csv")
    data = base_dict()
    data["ai_services"]["ct_ai"] = {"roc": {"file": "roc.csv"}, "threshold": 0.55}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    service = load_scenario(tmp_path / "s.yaml").ai_services["ct_ai"]
    fpf = curve()
    # 0.55 lies halfway between the thresholds of points 3 (0.6) and 4 (0.5).
    expected = (fpf[3][0] + fpf[4][0]) / 2
    point = operating_point(service)
    assert 1.0 - point.specificity == pytest.approx(expected)
    assert point.sensitivity == pytest.approx(ndtr(A + B * ndtri(expected)), abs=1e-9)
    inline = operating_point(AIService.model_validate({"roc": {"points": curve()}, "specificity": 1.0 - expected}))
    assert point == inline


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(threshold=0.95), "outside the curve's thresholds"),
    (lambda s: s["roc"].update(file="missing.csv"), "cannot read the ROC file"),
    (lambda s: s.update(threshold=None, sensitivity=0.8, specificity=0.9), "give the sensitivity, the specificity or"),
])
def test_bad_roc_files_and_thresholds_are_named(tmp_path, change, message: str) -> None:
    import yaml

    from simulator import load_scenario

    write_curve(tmp_path / "roc.csv")
    data = base_dict()
    data["ai_services"]["ct_ai"] = {"roc": {"file": "roc.csv"}, "threshold": 0.55}
    change(data["ai_services"]["ct_ai"])
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match=message) as caught:
        load_scenario(tmp_path / "s.yaml")
    assert "ai_services.ct_ai" in str(caught.value)


def test_a_threshold_needs_the_curves_thresholds(tmp_path) -> None:
    import yaml

    from simulator import load_scenario

    write_curve(tmp_path / "roc.csv", thresholds=False)
    data = base_dict()
    data["ai_services"]["ct_ai"] = {"roc": {"file": "roc.csv"}, "threshold": 0.55}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match="needs an roc curve with the thresholds"):
        load_scenario(tmp_path / "s.yaml")
    (tmp_path / "roc.csv").write_text("fpf,tpf,threshold\n0.1,0.5,0.2\n0.3,0.8,0.4\n")  # higher cut-off, more flags
    with pytest.raises(ScenarioError, match="a higher threshold never flag more"):
        load_scenario(tmp_path / "s.yaml")
