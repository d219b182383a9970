"""Published effects of AI triage, as directions on paired comparisons (common random numbers).

The chest X-ray worklist with day and night shifts (scenarios/examples/cxr_day_night.yaml): under AI
priority the mean turnaround of diseased studies drops well below FIFO's and the healthy wait longer; the
maximum turnaround of diseased studies rises (false negatives sink to the back); an aging cap pulls it
back. And at the same load the saving for diseased patients shrinks as readers are added. A direction
counts only where the paired 95% CI excludes zero. docs/validation.md shows the figures.
"""
from __future__ import annotations

import pytest

from simulator import Scenario, load_scenario
from simulator.comparison import Difference, compare_scenarios


def with_policy(scenario: Scenario, triage: str) -> Scenario:
    return scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"triage": triage})})


def pick(differences: list[Difference], metric: str, diseased: bool) -> Difference:
    return next(d for d in differences if d.metric == metric and d.where == {"diseased": diseased})


@pytest.fixture(scope="module")
def worklist() -> Scenario:
    return load_scenario("examples/cxr_day_night")


def test_ai_priority_against_fifo(worklist: Scenario) -> None:
    d = compare_scenarios(with_policy(worklist, "fifo"), with_policy(worklist, "ai_priority"), 10, workers=2)
    diseased = pick(d, "mean_tat_minutes", True)
    assert diseased.verdict == "better" and diseased.b < 0.6 * diseased.a  # well below FIFO's
    assert pick(d, "mean_tat_minutes", False).verdict == "worse"
    assert pick(d, "max_tat_minutes", True).verdict == "worse"  # false negatives sink


def test_an_aging_cap_pulls_the_maximum_back(worklist: Scenario) -> None:
    d = compare_scenarios(with_policy(worklist, "ai_priority"), with_policy(worklist, "aging"), 10, workers=2)
    assert pick(d, "max_tat_minutes", True).verdict == "better"
    assert pick(d, "max_tat_minutes", False).verdict == "better"


def test_the_saving_for_diseased_patients_shrinks_as_readers_are_added_at_the_same_load() -> None:
    savings = []
    for readers in (1, 2, 5):
        scenario = load_scenario(f"validation/ai_triage_{readers}_readers_nonpreemptive")
        d = compare_scenarios(with_policy(scenario, "ai_priority"), with_policy(scenario, "fifo"), 8, workers=2)
        saving = pick(d, "mean_wait_minutes", True)  # FIFO - AI priority, paired
        assert saving.verdict == "worse"  # FIFO is worse for the diseased at every size
        savings.append(saving.diff)
    assert savings[0] > savings[1] > savings[2] > 0, savings
