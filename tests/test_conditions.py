"""Conditions of a study type, several AIs on one study, and the classes they form: schema, draws, outputs,
the hierarchical order and the theory of the classes."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from scipy.special import stdtrit

from simulator import load_scenario, run_scenario
from simulator.class_theory import class_waits, condition_wait, priority_classes
from simulator.network import draw_cohort
from simulator.theory import mmc_mean_wait, mmc_preemptive_two_class_waits, mmc_preemptive_waits
from simulator.triage import WorkItem
from simulator.triage.policies import Hierarchical
from simulator.triage_config import hierarchy

from .conftest import assert_refused, base_dict, column, make


def head_ct() -> dict:
    """The M/M/2 desk with a head CT type of two conditions, one targeted by the AI, one by none."""
    data = base_dict()
    data["study_types"]["chest_ct"].pop("prevalence")
    data["study_types"]["chest_ct"]["conditions"] = {
        "ich": {"prevalence": 0.2, "read_minutes": {"dist": "exponential", "mean": 20}},
        "sah": {"prevalence": 0.1, "read_factor": 1.5},
    }
    data["ai_services"]["ct_ai"]["targets"] = ["ich"]
    return data


def two_ais() -> dict:
    data = head_ct()
    data["ai_services"]["sah_ai"] = {"targets": ["sah"], "sensitivity": 0.8, "specificity": 0.85}
    data["study_types"]["chest_ct"]["ai"] = ["ct_ai", "sah_ai"]
    return data


# Schema ----------------------------------------------------------------------------------------------
def test_conditions_that_cannot_be_are_refused_naming_the_field() -> None:
    data = head_ct()
    data["study_types"]["chest_ct"]["conditions"]["sah"]["prevalence"] = 0.9
    assert_refused(data, "study_types.chest_ct", "add up to 1.1")
    data = head_ct()
    data["study_types"]["chest_ct"]["conditions"]["none"] = {"prevalence": 0.1}
    assert_refused(data, "study_types.chest_ct", "'none' names a study without a condition")
    data = head_ct()
    data["study_types"]["chest_ct"]["prevalence"] = 0.5
    assert_refused(data, "study_types.chest_ct", "the prevalence is their sum (0.3)")
    data = head_ct()
    data["ai_services"]["ct_ai"]["targets"] = ["lvo"]
    assert_refused(data, "ai_services.ct_ai.targets.0", "no study type it scores has a condition 'lvo'")
    data = head_ct()
    data["study_types"]["chest_ct"]["conditions"]["ich"].update(read_factor=2.0)
    assert_refused(data, "study_types.chest_ct.conditions.ich", "read_minutes or read_factor, not both")
    data = head_ct()
    data["policy"] = {"triage": "hierarchical", "order": ["ct_ai", "lvo"]}
    assert_refused(data, "policy.order.1", "no AI service 'lvo' in ai_services, nor a condition")


def test_several_ais_are_refused_where_they_are_not_built_yet() -> None:
    data = two_ais()
    data["ai_services"]["ct_ai"].update(workers=2, inference_minutes={"dist": "exponential", "mean": 1})
    assert_refused(data, "study_types.chest_ct.ai", "not yet with devices, uplinks, ingest capacity or AI workers")
    data = two_ais()
    data["study_types"]["chest_ct"]["ai"] = ["ct_ai", "ct_ai"]
    assert_refused(data, "study_types.chest_ct", "name each AI service once")


def test_a_scenario_with_conditions_written_out_reads_back_the_same() -> None:
    from simulator.testing import _reparsed

    scenario = make(two_ais())
    again = _reparsed(scenario, [])
    assert again == scenario and again.study_types["chest_ct"].prevalence == pytest.approx(0.3)


# Draws -----------------------------------------------------------------------------------------------
def test_one_condition_is_the_same_truth_as_a_prevalence() -> None:
    """A type with one condition of prevalence p draws exactly the studies of `prevalence: p`."""
    plain = draw_cohort(make(), 3, 0)
    data = base_dict()
    data["study_types"]["chest_ct"].pop("prevalence")
    data["study_types"]["chest_ct"]["conditions"] = {"finding": {"prevalence": 0.1}}
    found = draw_cohort(make(data), 3, 0)
    for name in ("diseased", "ai_positive", "read_minutes", "ready_at", "arrived_at"):
        assert np.array_equal(column(plain, name), column(found, name), equal_nan=True), name
    assert np.array_equal(found.draws.truth.condition >= 0, found.draws.truth.diseased)


def test_conditions_come_in_their_shares_and_read_in_their_own_times() -> None:
    """Statistical check (99% intervals, tolerances fixed before looking): each condition's share, and its
    studies' mean reading time against its distribution."""
    scenario = make(head_ct(), horizon_days=120)
    cohort = draw_cohort(scenario, 11, 0)
    names = cohort.draws.condition_names
    n = len(cohort)
    for name, share, mean in (("ich", 0.2, 20.0), ("sah", 0.1, 15.0)):
        has = cohort.draws.truth.condition == names.index(name)
        half = 2.576 * math.sqrt(share * (1 - share) / n)
        assert abs(has.mean() - share) < half, name
        reads = cohort.draws.reading.read_minutes[has]
        half = stdtrit(reads.size - 1, 0.995) * reads.std(ddof=1) / math.sqrt(reads.size)
        assert abs(reads.mean() - mean) < half, name
    assert abs(cohort.draws.reading.read_minutes[cohort.draws.truth.condition < 0].mean() - 10.0) < 0.2


def test_an_ai_sees_only_the_conditions_it_targets() -> None:
    """The ICH AI flags ICH at its sensitivity and SAH (not targeted) at its false-positive rate."""
    cohort = draw_cohort(make(head_ct(), horizon_days=120), 5, 0)
    names = cohort.draws.condition_names
    ich, sah = cohort.draws.truth.condition == names.index("ich"), cohort.draws.truth.condition == names.index("sah")
    for group, expected in ((ich, 0.9), (sah, 0.1), (cohort.draws.truth.condition < 0, 0.1)):
        share = cohort.upstream.ai_positive[group].mean()
        assert abs(share - expected) < 2.576 * math.sqrt(expected * (1 - expected) / group.sum())


def test_several_ais_combine_by_any_flag_and_keep_each_flag() -> None:
    one = draw_cohort(make(head_ct()), 9, 0)
    both = draw_cohort(make(two_ais()), 9, 0)
    first = (both.upstream.ai_flags & 1).astype(bool)
    second = (both.upstream.ai_flags & 2).astype(bool)
    # Adding an AI leaves the first one's results as they were (its own stream).
    assert np.array_equal(first, one.upstream.ai_positive)
    assert np.array_equal(both.upstream.ai_positive, first | second)
    assert (both.upstream.ai_score >= np.nan_to_num(one.upstream.ai_score)).all()
    assert second.any() and (second & ~first).any()


# The policy and the outputs ---------------------------------------------------------------------------
def item(flags: tuple[str, ...], ready: float) -> WorkItem:
    return WorkItem(index=0, study_type="t", ai_service="a", ai_positive=bool(flags), ai_score=0.5,
                    ready_at=ready, ai_flags=flags)


def test_hierarchical_goes_by_the_highest_ranked_flag_with_a_label_per_service() -> None:
    policy = Hierarchical(["lvo_ai", "ich_ai"])
    assert policy.rank(item(("ich_ai", "lvo_ai"), 5.0), 0.0)[:3] == (1, 5.0, "ai_positive:lvo_ai")
    assert policy.rank(item(("ich_ai",), 4.0), 0.0)[:3] == (2, 4.0, "ai_positive:ich_ai")
    assert policy.rank(item(("other_ai",), 3.0), 0.0)[:3] == (3, 3.0, "routine")


def test_a_hierarchy_may_name_conditions_and_defaults_to_urgency() -> None:
    data = two_ais()
    data["policy"] = {"triage": "hierarchical", "order": ["sah", "ct_ai"]}
    assert hierarchy(make(data)) == ["sah_ai", "ct_ai"]
    data["policy"] = {"triage": "hierarchical"}
    data["study_types"]["chest_ct"]["conditions"]["sah"]["urgency"] = 1
    data["study_types"]["chest_ct"]["conditions"]["ich"]["urgency"] = 2
    assert hierarchy(make(data)) == ["sah_ai", "ct_ai"]


def test_outputs_name_each_studys_condition_and_metrics_split_by_it() -> None:
    data = two_ais()
    data["policy"] = {"triage": "hierarchical", "order": ["ich", "sah"]}
    run = run_scenario(make(data), 2, workers=1)
    studies = run.studies
    assert set(studies.column("condition").to_pylist()) == {"ich", "sah", "none"}
    diseased = np.asarray(studies.column("diseased").to_pylist())
    assert np.array_equal(diseased, np.asarray(studies.column("condition").to_pylist()) != "none")
    assert {"ai_positive:ct_ai", "ai_positive:sah_ai"} <= set(studies.column("priority").to_pylist())
    groups = {tuple(sorted(row["where"].items())) for row in run.summary}
    assert (("condition", "sah"),) in groups
    plain = run_scenario(make(), 1, workers=1)
    assert not any("condition" in row["where"] for row in plain.summary)
    assert set(plain.studies.column("condition").to_pylist()) == {"none"}


# Theory ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("servers, rates", [(2, [0.05, 0.1]), (3, [0.02, 0.1, 0.12]), (5, [0.1, 0.1, 0.1, 0.15])])
def test_the_k_class_preemptive_waits_conserve_the_fifo_work(servers: int, rates: list[float]) -> None:
    """With equal exponential reading times the classes' waits average (by rate) to the FIFO wait, and two
    classes agree with the two-class formula."""
    mu = 0.1
    waits = mmc_preemptive_waits(servers, mu, rates)
    assert sum(r * w for r, w in zip(rates, waits)) / sum(rates) == pytest.approx(
        mmc_mean_wait(servers, sum(rates), mu), rel=1e-12)
    assert waits == sorted(waits)
    if len(rates) == 2:
        assert waits == pytest.approx(list(mmc_preemptive_two_class_waits(servers, mu, *rates)), rel=1e-12)


def test_the_stroke_example_shows_the_non_targeted_condition_waiting_longer() -> None:
    """The published mechanism, from theory: SAH (no AI) waits longer under any-flag-first than under FIFO,
    ICH (targeted) far less."""
    waits = {}
    for triage in ("fifo", "ai_priority", "hierarchical"):
        scenario = load_scenario("examples/stroke_two_ais", [f"policy.triage={triage}"])
        classes = priority_classes(scenario)
        by_class, exact = class_waits(classes, 1, False)
        assert exact
        waits[triage] = {c: condition_wait(classes, by_class, c) for c in ("ich", "sah", "lvo", "none")}
    assert waits["ai_priority"]["sah"] > waits["fifo"]["sah"] + 3.0
    assert waits["ai_priority"]["ich"] < waits["fifo"]["ich"] / 2
    # Hierarchical: LVO gains on any-flag-first, and ICH pays for it.
    assert waits["hierarchical"]["lvo"] < waits["ai_priority"]["lvo"]
    assert waits["hierarchical"]["ich"] > waits["ai_priority"]["ich"]


def test_class_mixtures_carry_each_conditions_reading_time() -> None:
    data = copy.deepcopy(head_ct())
    data["pools"]["readers"]["shifts"][0]["staff"] = 1
    data["study_types"]["chest_ct"]["arrivals"]["rate_per_hour"] = 3.0
    classes = priority_classes(make(data))
    # ai_priority: STAT (none), flagged, rest. Flagged: ICH at Se 0.9, SAH and none at 1 - Sp 0.1.
    flagged = classes[1]
    weights = {"ich": 0.2 * 0.9, "sah": 0.1 * 0.1, "none": 0.7 * 0.1}
    means = {"ich": 20.0, "sah": 15.0, "none": 10.0}
    mean = sum(weights[c] * means[c] for c in weights) / sum(weights.values())
    assert flagged.mean == pytest.approx(mean)
    assert flagged.second == pytest.approx(sum(weights[c] * 2 * means[c] ** 2 for c in weights) / sum(weights.values()))


def test_the_story_tells_each_condition_and_the_one_no_ai_looks_for() -> None:
    """`radsim run` and the dashboard tell each condition's turnaround against FIFO on the same studies:
    in the stroke example SAH, which no AI targets, is slower than under FIFO."""
    from simulator.experiment import run_variants
    from simulator.story import tell

    scenario = load_scenario("examples/stroke_two_ais", ["horizon_days=40"])
    fifo = scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"triage": "fifo"})})
    run, base = run_variants([scenario, fifo], 4, workers=1)
    story = tell(run, base)
    titles = [c.group.title for c in story.chapters]
    assert titles[3:] == ["Studies with ich", "Studies with sah (no AI looks for it)", "Studies with lvo", "All work"]
    sah = story.chapters[4]
    assert sah.against_fifo["p95_tat_minutes"].verdict == "worse"
    assert story.chapters[3].against_fifo["p95_tat_minutes"].verdict == "better"
    plain = tell(run_variants([make()], 1, workers=1)[0])
    assert len(plain.high_risk) == 3 and len(plain.chapters) == 4
