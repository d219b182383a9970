"""A built-in policy's `rank_block` gives, item for item, what its `rank` gives (simulator/triage/columns.py):
the reading station ranks whole blocks of studies with it, so a difference would change every run."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from simulator.triage import AiPriority, Fifo, Hierarchical, Kind, Referral, ScoreBands, WorkItem
from simulator.triage.aging import Aging
from simulator.triage.rules import Rules
from simulator.triage.columns import Columns, block_form
from simulator.triage.routing import AutonomousNormal, LocalFirst

SERVICES = ["lvo", "ich", "chest", None]

items = st.lists(st.builds(
    WorkItem,
    index=st.integers(0, 10 ** 6), study_type=st.sampled_from(["ct_head", "cxr", "mg"]),
    kind=st.sampled_from([k.value for k in Kind]), referral=st.sampled_from([r.value for r in Referral]),
    ai_service=st.sampled_from(SERVICES),
    ai_score=st.one_of(st.none(), st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]), st.floats(0.0, 1.0)),
    ai_positive=st.one_of(st.none(), st.booleans()),
    ready_at=st.floats(0.0, 1e6), patient_age=st.one_of(st.none(), st.floats(0.0, 110.0)),
    ai_flags=st.lists(st.sampled_from(SERVICES[:3]), max_size=3, unique=True).map(tuple),
), min_size=1, max_size=40)

POLICIES = {
    "fifo": Fifo(), "ai_priority": AiPriority(), "hierarchical": Hierarchical(["lvo", "ich"]),
    "hierarchical_one": Hierarchical(["chest"]), "score": ScoreBands(),
    "score_within": ScoreBands(within="score"), "score_unscored_last": ScoreBands(unscored="low"),
    "score_two": ScoreBands({"flagged": 0.5, "rest": 0.0}, within="score", unscored="flagged"),
    "rules": Rules([{"when": {"referral": "stat"}, "class": "stat"},
                    {"when": {"study_type": ["ct_head", "mg"], "ai_score": {"ge": 0.5}}, "class": "high"},
                    {"when": {"patient_age": {"ge": 65}, "ai_positive": True}, "class": "elderly"},
                    {"when": {"ai_service": ["lvo", None]}, "class": "lvo_or_none"},
                    {"when": {"scored": False, "kind": ["primary", "audit"]}, "class": "unscored"}], {"class": "rest"}),
    "rules_reused": Rules([{"when": {"ai_score": {"gt": 0.1, "le": 0.9}, "patient_age": {"lt": 80}}, "class": "mid"},
                           {"when": {"modality": "", "site": ["", "x"], "scored": True}, "class": "blank"},
                           {"when": {"ai_positive": False}, "class": "negative"}, {"when": {}, "class": "any"}],
                          {"class": "mid"}),
}


@pytest.mark.parametrize("name", POLICIES)
@settings(max_examples=120, deadline=None)
@given(block=items)
def test_rank_block_is_rank_item_by_item(name: str, block: list[WorkItem]) -> None:
    policy = POLICIES[name]
    assert block_form(policy) is not None
    ranked = policy.rank_block(Columns.of(block, [item.ready_at for item in block]))
    expected = [policy.rank(item, item.ready_at) for item in block]
    for i, rank in enumerate(expected):
        got = (np.broadcast_to(ranked.cls, len(block))[i], np.broadcast_to(ranked.key, len(block))[i],
               np.broadcast_to(ranked.label, len(block))[i])
        assert got == (rank.cls, rank.key, rank.label), (block[i], got, rank)
        assert rank.until == float("inf")  # a rank that may change has no block form


def test_a_rank_replaced_without_its_block_form_is_asked_item_by_item(monkeypatch: pytest.MonkeyPatch) -> None:
    """A subclass's own `rank`, or a patched one, must not inherit a `rank_block` that ranks otherwise."""
    class Reversed(Fifo):
        def rank(self, item, now):
            return super().rank(item, now)._replace(cls=0 if item.referral != "stat" else 1)

    class Both(Fifo):
        def rank(self, item, now):
            return super().rank(item, now)

        def rank_block(self, columns):
            return super().rank_block(columns)

    assert block_form(Reversed()) is None
    assert block_form(Both()) is not None  # its own block form, beside its own rank
    policy = Fifo()
    policy.rank = lambda item, now: None  # type: ignore[method-assign]
    assert block_form(policy) is None
    assert block_form(Fifo()) is not None
    monkeypatch.setattr(Fifo, "rank", lambda self, item, now: None)
    assert block_form(Fifo()) is None


def test_a_users_policy_is_asked_item_by_item_through_its_guard() -> None:
    """A user's policy is guarded (every answer checked): a `rank_block` of its own is not used."""
    from simulator.triage.guarded import GuardedPolicy

    class Mine(Fifo):
        name = "mine"

    assert block_form(Mine()) is not None
    assert block_form(GuardedPolicy(Mine(), "mypkg:Mine")) is None


AT_THE_EDGE = [WorkItem(index=0, study_type="cxr", kind="primary", referral="routine", ai_score=score)
               for score in (0.0999, 0.1, 0.1001)]


@settings(max_examples=200, deadline=None)
@given(block=items, chosen=st.lists(st.sampled_from(["ct_head", "cxr", "mg"]), unique=True),
       below=st.sampled_from([0.0, 0.1, 0.5, 1.0]))
@example(block=AT_THE_EDGE, chosen=["cxr"], below=0.1)  # below the threshold, not at it
def test_the_autonomous_normal_rule_on_a_block_is_the_rule_item_by_item(block: list[WorkItem], chosen: list[str],
                                                                        below: float) -> None:
    """The numbered station sends studies to the audit lane by `applies_block`, the layered one by `applies`."""
    rule = AutonomousNormal(chosen, below)
    given_ = rule.applies_block(Columns.of(block, [item.ready_at for item in block]))
    assert given_.dtype == bool and given_.tolist() == [rule.applies(item) for item in block]


@settings(max_examples=200, deadline=None)
@given(block=items, now_after=st.lists(st.one_of(st.sampled_from([0.0, 30.0, 60.0]), st.floats(0.0, 3000.0)),
                                      min_size=40, max_size=40),
       overflow=st.one_of(st.none(), st.sampled_from([0.0, 30.0]), st.floats(0.0, 600.0)),
       night=st.one_of(st.none(), st.tuples(st.sampled_from([0.0, 480.0, 1200.0]), st.sampled_from([60.0, 480.0, 1380.0]))),
       day_offset=st.sampled_from([0.0, 420.0, 1439.5]))
@example(block=[WorkItem(index=0, study_type="cxr", ready_at=1170.0)], now_after=[30.0] * 40, overflow=30.0,
         night=(1200.0, 480.0), day_offset=0.0)  # the overflow and the night's start at the same minute
def test_the_routers_block_form_is_route_item_by_item(block: list[WorkItem], now_after: list[float],
                                                      overflow: float | None, night: tuple | None,
                                                      day_offset: float) -> None:
    """`LocalFirst.route_block` gives, item for item, what `route` gives (where and until), each item asked
    at its own `now`: at and after its ready time, across midnight, at the edges of the night and of the
    overflow (the reading station asks a block of studies at once with it)."""
    router = LocalFirst(overflow_after=overflow, night=night, day_offset=day_offset)
    assert block_form(router, "route") is not None
    now = [item.ready_at + after for item, after in zip(block, now_after)]
    where, until = router.route_block(Columns.of(block, now))
    for i, item in enumerate(block):
        assert (where[i], until[i]) == tuple(router.route(item, now[i])), (item, now[i])


def test_a_route_replaced_without_its_block_form_is_asked_item_by_item() -> None:
    class Mine(LocalFirst):
        def route(self, item, now):
            return super().route(item, now)

    assert block_form(Mine(), "route") is None and block_form(LocalFirst(), "route") is not None


AGING = {f"aging({base}, {promote}, {wait})": Aging(POLICIES[base], promote, wait)
         for base, promote, wait in [("ai_priority", 60.0, 240.0), ("fifo", 7.0, None), ("score", None, 45.0),
                                     ("rules", 0.1, 0.3), ("fifo", None, None), ("score_two", 1e-3, 1e5)]}


@pytest.mark.parametrize("name", AGING)
@settings(max_examples=120, deadline=None)
@given(block=items, waits=st.lists(st.one_of(st.floats(-10.0, 1e4), st.integers(0, 500).map(lambda k: k * 7.0),
                                             st.integers(0, 50).map(lambda k: k * 0.1)), min_size=40, max_size=40))
def test_aging_rank_block_is_rank_item_by_item_at_any_time(name: str, block: list[WorkItem], waits: list[float]) -> None:
    """Aging's block form, each item asked at its own time (on entry, when a late result comes, when opened
    to the centre: times on and off the steps' edges), gives `rank`'s class, key, label and `until`."""
    policy = AGING[name]
    assert block_form(policy) is not None
    now = [item.ready_at + wait for item, wait in zip(block, waits)]
    ranked = policy.rank_block(Columns.of(block, now))
    for i, (item, at) in enumerate(zip(block, now)):
        rank = policy.rank(item, at)
        got = tuple(np.broadcast_to(column, len(block))[i] for column in ranked)
        assert got == tuple(rank), (item, at, got, rank)


def test_aging_over_a_base_asked_item_by_item_is_asked_item_by_item() -> None:
    class Mine(Fifo):
        def rank(self, item, now):
            return super().rank(item, now)

    assert block_form(Aging(Mine())) is None and block_form(Aging(Fifo())) is not None


@pytest.mark.parametrize("promote, wait", [(0.1, 0.3), (7.0, 21.0), (60.0, 240.0), (1e-3, 5e-3)])
def test_aging_block_form_on_the_edges_of_its_steps(promote: float, wait: float) -> None:
    """Items asked exactly at their steps' and maximum wait's times (ready + k * step, + wait), where the
    division may round either way: the block gives `rank`'s answer, item for item (seeded ready times)."""
    policy = Aging(POLICIES["ai_priority"], promote, wait)
    ready = np.random.default_rng(7).uniform(0.0, 1e6, 2000)
    block = [WorkItem(index=i, study_type="cxr", kind="primary", referral="routine", ai_service=None,
                      ai_score=None, ai_positive=None, ready_at=float(r)) for i, r in enumerate(ready)] * 7
    now = [item.ready_at + k * promote for k in range(6) for item in block[:2000]] + \
        [item.ready_at + wait for item in block[:2000]]
    ranked = policy.rank_block(Columns.of(block, now))
    got = list(zip(*(np.broadcast_to(column, len(block)).tolist() for column in ranked)))
    assert got == [tuple(policy.rank(item, at)) for item, at in zip(block, now)]
