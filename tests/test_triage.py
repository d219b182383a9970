"""The triage package on hand-built worklists: no model, no clock, just items and `now`."""
from __future__ import annotations

import math

import pytest

from simulator.triage import AiPriority, Fifo, Hierarchical, PolicyError, Rank, WorkItem, Worklist, make_policy


def item(i: int, ready: float, referral: str = "routine", positive: bool | None = None, service: str | None = "ai",
         lane: str = "ct", kind: str = "primary", exclude: int = -1) -> WorkItem:
    return WorkItem(index=i, study_type=lane, kind=kind, referral=referral, ai_service=service,
                    ai_positive=positive, ai_score=None if positive is None else (0.9 if positive else 0.1),
                    ready_at=ready, lane=lane, exclude_reader=exclude)


def drain(worklist: Worklist, now: float = 100.0, lanes: tuple[str, ...] = ("ct",), reader: int = -1) -> list[int]:
    heaps = [worklist.lane(name) for name in lanes]
    out = []
    while (taken := worklist.pop_for(heaps, now, reader)) is not None:
        out.append(taken.index)
    return out


def test_fifo_orders_by_ready_time_with_stat_first() -> None:
    wl = Worklist(Fifo())
    for it in [item(0, 5.0), item(1, 1.0), item(2, 9.0, "stat"), item(3, 3.0, "urgent")]:
        wl.push(it, it.ready_at)
    assert drain(wl) == [2, 1, 3, 0]


def test_ai_priority_puts_stat_then_flagged_then_the_rest() -> None:
    wl = Worklist(AiPriority())
    items = [item(0, 1.0, positive=False), item(1, 2.0, positive=True), item(2, 3.0, "stat", positive=False),
             item(3, 4.0, positive=None), item(4, 0.5, positive=True)]
    for it in items:
        wl.push(it, it.ready_at)
    assert drain(wl) == [2, 4, 1, 0, 3]
    assert [it.label for it in items] == ["routine", "ai_positive", "stat", "routine", "ai_positive"]


def test_unscored_studies_rank_with_the_rest_not_with_flagged() -> None:
    rank = AiPriority().rank(item(0, 1.0, positive=None), 1.0)
    assert rank.cls == 2 and rank.label == "routine"


def test_hierarchical_follows_the_service_order() -> None:
    policy = Hierarchical(order=["ct_ai", "cxr_ai"])
    wl = Worklist(policy)
    items = [item(0, 1.0, positive=True, service="cxr_ai"), item(1, 2.0, positive=True, service="ct_ai"),
             item(2, 0.5, positive=True, service="mg_ai"), item(3, 3.0, "stat")]
    for it in items:
        wl.push(it, it.ready_at)
    # mg_ai is not in the order: its flag counts for nothing.
    assert drain(wl) == [3, 1, 0, 2]
    with pytest.raises(PolicyError):
        Hierarchical(order=[])


def test_ties_go_to_the_item_that_entered_first() -> None:
    wl = Worklist(Fifo())
    for i in range(5):
        wl.push(item(i, 1.0), 1.0)
    assert drain(wl) == [0, 1, 2, 3, 4]


def test_a_reader_takes_the_best_of_their_lanes_only() -> None:
    wl = Worklist(Fifo())
    wl.push(item(0, 3.0, lane="ct"), 3.0)
    wl.push(item(1, 1.0, lane="mr"), 3.0)
    wl.push(item(2, 2.0, lane="xr"), 3.0)
    assert drain(wl, lanes=("ct", "mr")) == [1, 0]
    assert len(wl) == 1


def test_an_excluded_reader_gets_the_next_item_and_the_excluded_one_stays() -> None:
    wl = Worklist(Fifo())
    wl.push(item(0, 1.0, lane="so", exclude=7), 1.0)
    wl.push(item(1, 2.0, lane="so"), 2.0)
    heaps = [wl.lane("so")]
    assert wl.pop_for(heaps, 5.0, reader=7).index == 1
    assert wl.pop_for(heaps, 5.0, reader=7) is None
    assert wl.pop_for(heaps, 5.0, reader=3).index == 0
    assert len(wl) == 0


def test_a_preempted_item_goes_to_the_head_of_its_class() -> None:
    wl = Worklist(AiPriority())
    wl.push(item(0, 1.0), 1.0)
    resumed = item(1, 5.0)
    resumed.preempted = True
    wl.push(resumed, 6.0)
    wl.push(item(2, 6.5, positive=True), 6.5)
    assert drain(wl) == [2, 1, 0]


class PromoteAfter:
    """A test double of a time-dependent policy: routine items are promoted after `wait` minutes."""

    name = "promote-after"

    def __init__(self, wait: float) -> None:
        self.wait = wait
        self.calls = 0

    def rank(self, it: WorkItem, now: float) -> Rank:
        self.calls += 1
        if it.ai_positive or now - it.ready_at >= self.wait:
            return Rank(0, it.ready_at, "high")
        return Rank(1, it.ready_at, "routine", until=it.ready_at + self.wait)


def test_time_dependent_ranks_change_when_due_without_resorting_everything() -> None:
    policy = PromoteAfter(wait=30.0)
    wl = Worklist(policy)
    old = item(0, 0.0)
    wl.push(old, 0.0)
    for i in range(1, 50):
        wl.push(item(i, 10.0 + i * 0.1, positive=(i == 49)), 10.0 + i * 0.1)
    calls = policy.calls
    heaps = [wl.lane("ct")]
    # At 20 nothing is due: the flagged item first, then the oldest routine.
    assert wl.pop_for(heaps, 20.0).index == 49
    assert wl.pop_for(heaps, 20.0).index == 0
    assert policy.calls == calls  # nothing re-ranked before its time
    # At 45 items 1..49 have waited >= 30 only if ready <= 15: 1..49 ready at 10.1..14.8 -> all promoted.
    taken = wl.pop_for(heaps, 45.0)
    assert taken.index == 1 and taken.cls == 0
    assert policy.calls == calls + 48  # one re-rank per item that fell due, once
    assert taken.label == "routine"  # the label is the one given on entry


def test_make_policy_by_name_and_by_path_and_errors() -> None:
    assert make_policy("fifo").name == "fifo"
    assert make_policy("hierarchical", {"order": ["a"]}).name == "hierarchical"
    assert make_policy("tests.test_triage:PromoteAfter", {"wait": 5}).wait == 5
    with pytest.raises(PolicyError, match="unknown triage policy"):
        make_policy("fastest")
    with pytest.raises(PolicyError, match="not on the allow-list"):
        make_policy("no_such_module_xyz:Policy")
    with pytest.raises(PolicyError, match="cannot import"):
        make_policy("tests.no_such_module_xyz:Policy")
    with pytest.raises(PolicyError, match="does not take"):
        make_policy("fifo", {"colour": 1})


def test_triage_package_imports_no_simulation() -> None:
    import pathlib

    root = pathlib.Path(__file__).parents[1] / "simulator" / "triage"
    for path in root.glob("*.py"):
        text = path.read_text()
        assert "simpy" not in text and "import time" not in text and "from .." not in text, path


def test_rank_until_defaults_to_never() -> None:
    assert Rank(0, 1.0, "x").until == math.inf


class StaleUntil:
    """A test double whose rank always names a time that has already come."""

    name = "stale"

    def rank(self, it: WorkItem, now: float) -> Rank:
        return Rank(1, it.ready_at, "routine", until=now)


def test_a_rank_due_at_once_is_asked_again_at_the_next_pick_not_forever() -> None:
    wl = Worklist(StaleUntil())
    for i in range(3):
        wl.push(item(i, float(i)), 5.0)
    assert drain(wl, now=10.0) == [0, 1, 2]


# The rest of the worklist and the ranks in full (found by mutation testing, docs/testing.md) -------------
def test_every_built_in_rank_is_class_key_and_label() -> None:
    flagged, plain, stat = item(0, 7.0, positive=True), item(1, 8.0, positive=False), item(2, 9.0, "stat")
    second = item(3, 4.0, kind="second_opinion")
    assert Fifo().rank(stat, 0.0) == Rank(0, 9.0, "stat") and type(Fifo().rank(stat, 0.0)) is Rank
    assert Fifo().rank(plain, 0.0) == Rank(1, 8.0, "routine")
    assert Fifo().rank(second, 0.0) == Rank(1, 4.0, "second_opinion")
    assert AiPriority().rank(stat, 0.0) == Rank(0, 9.0, "stat")
    assert AiPriority().rank(flagged, 0.0) == Rank(1, 7.0, "ai_positive")
    assert AiPriority().rank(plain, 0.0) == Rank(2, 8.0, "routine")
    hierarchical = Hierarchical(["other", "ai"])
    assert hierarchical.rank(stat, 0.0) == Rank(0, 9.0, "stat")
    assert hierarchical.rank(flagged, 0.0) == Rank(2, 7.0, "ai_positive:ai")
    assert hierarchical.rank(plain, 0.0) == Rank(3, 8.0, "routine")
    assert Hierarchical(["other"]).rank(flagged, 0.0) == Rank(2, 7.0, "routine")  # a service not listed
    with pytest.raises(PolicyError, match="needs policy.order"):
        Hierarchical([])


def test_the_worklist_counts_lists_and_withdraws() -> None:
    wl = Worklist(Fifo())
    items = [item(i, float(i), lane="ct" if i % 2 else "mr") for i in range(5)]
    for it in items:
        wl.push(it, 10.0)
    assert len(wl) == 5 and sorted(i.index for i in wl) == [0, 1, 2, 3, 4]
    wl.withdraw(items[3])
    assert len(wl) == 4 and sorted(i.index for i in wl) == [0, 1, 2, 4]
    assert [i.index for i in wl.waiting_in("ct")] == [1]
    assert [i.index for i in wl.waiting_in("mr")] == [0, 2, 4]
    assert wl.waiting_in("none") == []
    with pytest.raises(ValueError, match="not waiting"):
        wl.withdraw(items[3])
    assert wl.best_class([wl.lane("ct"), wl.lane("mr")]) == 1
    wl.push(item(9, 20.0, "stat", lane="mr"), 20.0)
    assert wl.best_class([wl.lane("ct"), wl.lane("mr")]) == 0 and wl.best_class([wl.lane("ct")]) == 1
    assert wl.best_class([wl.lane("empty")]) is None
    assert drain(wl, lanes=("ct", "mr")) == [9, 0, 1, 2, 4] and len(wl) == 0


def test_admit_labels_an_item_taken_at_once_without_queueing_it() -> None:
    wl = Worklist(AiPriority())
    taken = item(0, 1.0, positive=True)
    wl.admit(taken, 1.0)
    assert (taken.label, taken.cls, taken.entry) == ("ai_positive", 1, None) and len(wl) == 0
    taken.label = "kept"
    wl.admit(taken, 2.0)
    assert taken.label == "kept"  # the first label stays


def test_reader_zero_is_a_reader_the_exclusion_applies_to() -> None:
    wl = Worklist(Fifo())
    wl.push(item(0, 1.0, exclude=0), 1.0)
    wl.push(item(1, 2.0), 2.0)
    assert wl.pop_for([wl.lane("ct")], 5.0, reader=0).index == 1
    assert wl.pop_for([wl.lane("ct")], 5.0, reader=0) is None
    assert wl.pop_for([wl.lane("ct")], 5.0, reader=1).index == 0


def test_equal_heads_of_two_lanes_go_to_the_first_lane_asked() -> None:
    wl = Worklist(Fifo())
    a, b = item(0, 1.0, lane="a"), item(1, 1.0, lane="b")
    wl.push(b, 0.0)
    wl.push(a, 0.0)  # entered later: its entry sorts after b's
    assert wl.pop_for([wl.lane("a"), wl.lane("b")], 5.0).index == 1


def test_a_preempted_item_keeps_the_head_of_its_class_when_its_rank_is_asked_again() -> None:
    class Promote:
        name = "promote"

        def rank(self, it: WorkItem, now: float) -> Rank:
            return Rank(1, it.ready_at, "x", until=it.ready_at + 10.0) if now < it.ready_at + 10.0 else \
                Rank(1, it.ready_at, "x")

    wl = Worklist(Promote())
    early, resumed = item(0, 1.0), item(1, 5.0)
    wl.push(early, 1.0)
    resumed.preempted = True
    wl.push(resumed, 5.0)
    assert drain(wl, now=50.0) == [1, 0]


def test_a_rescored_item_keeps_its_place_only_while_its_rank_is_unchanged() -> None:
    class ByScore:
        """Ranks by ready time; labels by whether the AI has scored the study yet."""

        name = "by-score"

        def rank(self, it: WorkItem, now: float) -> Rank:
            if it.ai_positive:
                return Rank(0, it.ready_at, "flagged")
            if it.ai_score is None:
                return Rank(1, it.ready_at, "unscored")
            return Rank(1, it.ready_at, "scored", until=math.inf if it.ai_score < 0.5 else now + 60.0)

    wl = Worklist(ByScore())
    first, second, third, fourth = (item(i, 1.0, positive=None) for i in range(4))
    for it in (first, second, third, fourth):
        wl.push(it, 1.0)
    # Scored negative: the same class and key, so it stays ahead of its equal that entered after it
    # (entering again would put it behind), with the label of its new rank.
    first.ai_score, first.ai_positive = 0.1, False
    assert wl.rerank(first, 2.0)
    assert first.label == "scored" and first.entry is not None and len(wl) == 4
    # Flagged, or with a time to ask again: not in place; nothing changed, the caller enters it again.
    second.ai_score, second.ai_positive = 0.9, True
    third.ai_score, third.ai_positive = 0.6, False
    for moved in (second, third):
        assert not wl.rerank(moved, 2.0)
        assert moved.label == "unscored" and moved.entry is not None
    assert drain(wl) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="not waiting"):
        wl.rerank(first, 3.0)
