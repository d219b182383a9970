"""The policies added on top of the foundation's three, on hand-built items and worklists."""
from __future__ import annotations

import math
import subprocess
import sys

import pytest

from simulator.triage import Aging, AiPriority, Fifo, PolicyError, Rules, ScoreBands, SlaEdf, WorkItem, Worklist, \
    make_policy


def item(i: int, ready: float, referral: str = "routine", score: float | None = None, kind: str = "primary",
         study_type: str = "chest_ct", age: float | None = None, arrived: float | None = None,
         threshold: float = 0.5) -> WorkItem:
    return WorkItem(index=i, study_type=study_type, kind=kind, referral=referral, modality="CT", site="north",
                    ai_service="ct_ai" if score is not None else None, ai_score=score,
                    ai_positive=None if score is None else score >= threshold,
                    arrived_at=ready if arrived is None else arrived, ready_at=ready, patient_age=age, lane="ct")


def order(policy, items: list[WorkItem], now: float = 1000.0) -> list[int]:
    wl = Worklist(policy)
    for it in items:
        wl.push(it, it.ready_at)
    heap = [wl.lane("ct")]
    out = []
    while (taken := wl.pop_for(heap, now)) is not None:
        out.append(taken.index)
    return out


# score ---------------------------------------------------------------------------------------------------
def test_score_reads_bands_high_to_low_with_stat_first_and_ready_order_inside() -> None:
    items = [item(0, 1.0, score=0.05), item(1, 2.0, score=0.7), item(2, 3.0, score=0.2), item(3, 4.0, score=0.95),
             item(4, 5.0, "stat", score=0.01), item(5, 0.5, score=0.3)]
    assert order(ScoreBands(), items) == [4, 1, 3, 5, 2, 0]
    assert [it.label for it in items] == ["low", "high", "medium", "high", "stat", "medium"]


def test_score_within_score_reads_the_likeliest_first() -> None:
    items = [item(0, 1.0, score=0.6), item(1, 2.0, score=0.9), item(2, 3.0, score=0.55), item(3, 0.0, score=None)]
    assert order(ScoreBands(within="score", unscored="high"), items) == [1, 0, 2, 3]


def test_score_places_unscored_studies_in_the_band_asked_for() -> None:
    items = [item(0, 1.0, score=0.05), item(1, 2.0, score=None), item(2, 3.0, score=0.2), item(3, 4.0, score=0.9)]
    assert order(ScoreBands(), items) == [3, 1, 2, 0]  # default: the second band, by ready time
    assert order(ScoreBands(unscored="low"), items) == [3, 2, 0, 1]
    assert order(ScoreBands(unscored="high"), items) == [1, 3, 2, 0]


def test_score_ties_on_the_band_bound_go_to_the_higher_band() -> None:
    assert ScoreBands().rank(item(0, 1.0, score=0.5), 1.0).label == "high"
    assert ScoreBands().rank(item(0, 1.0, score=0.0999), 1.0).label == "low"


def test_score_rejects_bands_that_are_not_decreasing_and_unknown_unscored() -> None:
    with pytest.raises(PolicyError, match="decreasing"):
        ScoreBands({"a": 0.1, "b": 0.5})
    with pytest.raises(PolicyError, match="must name a band"):
        ScoreBands(unscored="urgent")
    with pytest.raises(PolicyError, match="within"):
        ScoreBands(within="age")


def test_score_puts_second_opinions_in_the_last_band() -> None:
    so = item(0, 0.0, kind="second_opinion")
    assert order(ScoreBands(), [so, item(1, 5.0, score=0.2), item(2, 6.0, score=0.01)]) == [1, 0, 2]
    assert so.label == "second_opinion"


# aging ---------------------------------------------------------------------------------------------------
def test_aging_promotes_one_class_per_step_and_overdue_at_max_wait() -> None:
    policy = Aging(AiPriority(), promote_after=60.0, max_wait=240.0)
    routine = item(0, 100.0, score=0.1)
    assert policy.rank(routine, 100.0)[:2] == (3, 100.0)
    assert policy.rank(routine, 100.0).until == 160.0
    assert policy.rank(routine, 160.0).cls == 2  # with the flagged studies now
    assert policy.rank(routine, 160.0).until == 340.0  # next change: overdue
    assert policy.rank(routine, 340.0).cls == 1
    assert policy.rank(routine, 10_000.0).until == math.inf
    stat = item(1, 100.0, "stat")
    assert policy.rank(stat, 10_000.0).cls == 0  # STAT stays above the overdue


def test_aging_on_a_worklist_lets_an_old_routine_study_overtake_new_flagged_ones() -> None:
    wl = Worklist(Aging(AiPriority(), promote_after=None, max_wait=30.0))
    old = item(0, 0.0, score=0.1)
    wl.push(old, 0.0)
    for i in range(1, 20):
        wl.push(item(i, float(i), score=0.9), float(i))
    heap = [wl.lane("ct")]
    assert wl.pop_for(heap, 20.0).index == 1  # not overdue yet
    assert wl.pop_for(heap, 30.0).index == 0  # overdue: ahead of every flagged study
    assert old.label == "routine"


def test_aging_rejects_bad_steps_and_itself_as_base() -> None:
    with pytest.raises(PolicyError):
        Aging(Fifo(), promote_after=0.0)
    with pytest.raises(PolicyError, match="age itself"):
        make_policy("aging", {"base": "aging"})
    assert make_policy("aging", {"base": "score", "base_options": {"within": "score"}}).base.by_score


# sla_edf -------------------------------------------------------------------------------------------------
TARGETS = {"stat": 15.0, "ai_positive": 60.0, "urgent": 120.0, "routine": 1440.0, "second_opinion": 2880.0}


def test_sla_edf_reads_by_deadline_with_stat_first() -> None:
    items = [item(0, 0.0, score=0.1),  # routine: due 1440
             item(1, 1000.0, score=0.9),  # flagged: due 1060
             item(2, 500.0, "urgent", score=0.1),  # due 620
             item(3, 1300.0, "stat"),  # due 1315 but STAT
             item(4, 10.0, kind="second_opinion")]  # due 2890
    assert order(SlaEdf(TARGETS), items) == [3, 2, 1, 0, 4]


def test_sla_edf_can_count_from_arrival_and_puts_studies_without_target_last() -> None:
    late_ingest = item(0, 100.0, score=0.1, arrived=0.0)
    fresh = item(1, 50.0, score=0.1, arrived=50.0)
    assert order(SlaEdf(TARGETS), [late_ingest, fresh]) == [1, 0]
    assert order(SlaEdf(TARGETS, start="arrival"), [item(0, 100.0, score=0.1, arrived=0.0),
                                                    item(1, 50.0, score=0.1, arrived=50.0)]) == [0, 1]
    no_targets = SlaEdf({"ai_positive": 60.0})
    assert order(no_targets, [item(0, 0.0, score=0.1), item(1, 500.0, score=0.9), item(2, 1.0, score=0.2)]) == [1, 0, 2]
    assert order(SlaEdf({}, default=30.0), [item(0, 10.0), item(1, 5.0)]) == [1, 0]


# rules ---------------------------------------------------------------------------------------------------
RULES = [
    {"when": {"referral": "stat"}, "class": "stat"},
    {"when": {"study_type": ["chest_ct", "ldct"], "ai_score": {"ge": 0.5}}, "class": "high"},
    {"when": {"patient_age": {"ge": 65}, "scored": False}, "class": "elderly_unscored"},
    {"when": {"ai_positive": True}, "class": "high"},
]


def test_rules_first_match_wins_and_else_catches_the_rest() -> None:
    policy = Rules(RULES, {"class": "routine"})
    assert policy.classify(item(0, 0.0, "stat", score=0.9)) == "stat"
    assert policy.classify(item(0, 0.0, score=0.8)) == "high"
    assert policy.classify(item(0, 0.0, score=0.8, study_type="mg")) == "high"  # via the ai_positive rule
    assert policy.classify(item(0, 0.0, score=0.3, study_type="mg", threshold=0.2)) == "high"
    assert policy.classify(item(0, 0.0, score=None, age=70)) == "elderly_unscored"
    assert policy.classify(item(0, 0.0, score=None, age=None)) == "routine"  # unknown age matches no range
    assert policy.classify(item(0, 0.0, score=0.1, age=70)) == "routine"
    assert policy.order == {"stat": 0, "high": 1, "elderly_unscored": 2, "routine": 3}


def test_rules_order_the_worklist_by_class_then_ready_time() -> None:
    items = [item(0, 1.0, score=0.1), item(1, 2.0, score=0.9), item(2, 3.0, "stat"), item(3, 0.5, score=0.7)]
    assert order(Rules(RULES, {"class": "routine"}), items) == [2, 3, 1, 0]


def test_rules_report_bad_conditions_with_their_place() -> None:
    with pytest.raises(PolicyError, match=r"rules\.0\.when\.colour: unknown condition"):
        Rules([{"when": {"colour": "red"}, "class": "x"}], {"class": "y"})
    with pytest.raises(PolicyError, match=r"rules\.0\.when\.ai_score"):
        Rules([{"when": {"ai_score": {"above": 0.5}}, "class": "x"}], {"class": "y"})
    with pytest.raises(PolicyError, match="else"):
        Rules([], None)
    with pytest.raises(PolicyError, match=r"rules\.0\.target: a rule sets no target"):
        Rules([{"class": "x", "target": 10.0}], {"class": "y"})


# the package --------------------------------------------------------------------------------------------
def test_importing_the_triage_package_loads_no_simulation() -> None:
    code = ("import sys, simulator.triage as t; t.make_policy('aging'); "
            "bad = [m for m in ('simpy', 'numpy', 'pydantic', 'simulator.network') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# Ranks in full, and the edges of the settings (found by mutation testing, docs/testing.md) ---------------
def test_aging_ranks_in_full() -> None:
    aging = Aging(AiPriority(), promote_after=60.0, max_wait=240.0)
    routine = item(0, 100.0, score=0.1)
    assert aging.rank(routine, 100.0) == (3, 100.0, "routine", 160.0)  # base class 2 -> 3; next step at 160
    assert aging.rank(routine, 160.0) == (2, 100.0, "routine", 340.0)  # one step up; overdue next
    assert aging.rank(routine, 400.0) == (1, 100.0, "routine", math.inf)  # overdue: right below STAT
    flagged = item(1, 100.0, score=0.9)
    assert aging.rank(flagged, 100.0) == (2, 100.0, "ai_positive", 340.0)  # already at the top but overdue
    assert aging.rank(item(2, 100.0, "stat"), 500.0) == (0, 100.0, "stat", math.inf)
    assert aging.rank(routine, 99.0).cls == 3  # not yet ready: no step
    with pytest.raises(PolicyError, match="promote_after"):
        Aging(Fifo(), promote_after=-1.0)
    with pytest.raises(PolicyError, match="max_wait"):
        Aging(Fifo(), max_wait=0.0)
    never = Aging(AiPriority(), promote_after=None, max_wait=None)
    assert never.rank(routine, 10_000.0) == (3, 100.0, "routine", math.inf)


def test_score_bands_take_bounds_in_zero_one_strictly_decreasing() -> None:
    with pytest.raises(PolicyError, match="at least one band"):
        ScoreBands({})
    with pytest.raises(PolicyError, match="strictly decreasing"):
        ScoreBands({"a": 0.5, "b": 0.5})
    with pytest.raises(PolicyError, match="strictly decreasing"):
        ScoreBands({"a": 1.5, "b": 0.0})
    assert ScoreBands({"top": 1.0, "rest": 0.0}).band_of(1.0) == 0
    one = ScoreBands({"only": 0.0})
    assert one.unscored == 0 and one.rank(item(0, 1.0), 0.0) == (1, 1.0, "only", math.inf)
    two = ScoreBands({"a": 0.5, "b": 0.0})
    assert two.unscored == 1 and two.band_of(0.2) == 1 and two.band_of(-1.0) == 1
    with pytest.raises(PolicyError, match="within"):
        ScoreBands(within="sideways")
    banded = ScoreBands({"a": 0.5, "b": 0.0}, within="score")
    assert banded.rank(item(0, 3.0, score=0.8), 0.0) == (1, -0.8, "a", math.inf)
    assert banded.rank(item(1, 3.0), 0.0) == (2, -0.0, "b", math.inf)


def test_sla_edf_ranks_in_full_and_refuses_bad_settings() -> None:
    edf = SlaEdf(TARGETS)
    assert edf.rank(item(0, 10.0, score=0.9), 0.0) == (1, 70.0, "ai_positive", math.inf)
    assert edf.rank(item(1, 10.0, "stat"), 0.0) == (0, 25.0, "stat", math.inf)
    assert edf.rank(item(2, 10.0, kind="second_opinion"), 0.0) == (1, 2890.0, "second_opinion", math.inf)
    with pytest.raises(PolicyError, match="start must be"):
        SlaEdf(TARGETS, start="later")
    with pytest.raises(PolicyError, match="minutes >= 0"):
        SlaEdf({"routine": -1.0})
    assert SlaEdf({"routine": 0.0}).rank(item(3, 10.0), 0.0).key == 10.0


def test_make_policy_names_what_it_cannot_use() -> None:
    with pytest.raises(PolicyError, match="unknown triage policy 'fastest'"):
        make_policy("fastest")
    with pytest.raises(PolicyError, match="does not take these options"):
        make_policy("fifo", {"colour": "red"})
    with pytest.raises(PolicyError, match="age itself"):
        make_policy("aging", {"base": "aging"})
    built = make_policy("aging", {"base": "score", "base_options": {"within": "score"}, "max_wait": 30.0})
    assert built.max_wait == 30.0 and built.base.by_score


def test_aging_counts_whole_steps_waited() -> None:
    aging = Aging(AiPriority(), promote_after=60.0, max_wait=None)
    routine = item(0, 100.0, score=0.1)
    assert aging.rank(routine, 130.0) == (3, 100.0, "routine", 160.0)  # half a step: not yet
    assert aging.rank(routine, 159.999) == (3, 100.0, "routine", 160.0)
    assert aging.rank(routine, 220.0) == (2, 100.0, "routine", math.inf)  # two steps, but never above class 2


def test_targets_of_an_item_use_its_study_type_too() -> None:
    from simulator.triage import Targets

    targets = Targets({"routine": 1440.0, "chest_ct": 120.0})
    assert targets.of(item(0, 0.0)) == 120.0 and targets.of(item(1, 0.0, study_type="mr")) == 1440.0
    with pytest.raises(ValueError, match="minutes >= 0"):
        Targets({"stat": -1.0})
    assert not Targets({}) and Targets({"stat": 15.0})


def test_score_within_score_puts_unscored_below_every_scored_study_of_their_band() -> None:
    banded = ScoreBands({"a": 0.5, "b": 0.1, "c": 0.0}, unscored="b", within="score")
    assert order(banded, [item(0, 1.0), item(1, 2.0, score=0.11), item(2, 3.0, score=0.45)]) == [2, 1, 0]


def test_rules_ranges_need_bounds_and_flags_need_yes_or_no() -> None:
    with pytest.raises(PolicyError, match=r"rules\.0\.when\.patient_age: give bounds"):
        Rules([{"when": {"patient_age": {}}, "class": "x"}], {"class": "y"})
    with pytest.raises(PolicyError, match=r"rules\.0\.when\.scored: must be true or false"):
        Rules([{"when": {"scored": "yes"}, "class": "x"}], {"class": "y"})
    with pytest.raises(PolicyError, match=r"rules\.1: a rule needs a class"):
        Rules([{"class": "x"}, {"when": {}}], {"class": "y"})
    rules = Rules([{"when": {"ai_score": {"gt": 0.2, "le": 0.5}}, "class": "mid"}], {"class": "rest"})
    assert [rules.classify(item(0, 0.0, score=s)) for s in (0.2, 0.5, 0.6)] == ["rest", "mid", "rest"]
    assert rules.rank(item(0, 4.0, score=0.3), 0.0) == (0, 4.0, "mid", math.inf)
