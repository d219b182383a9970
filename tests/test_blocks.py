"""The numbered station run a block of time at a time (`simulator/network/blocks.py`): each block numbered
on its own, with what still waits from the block before, gives the outcome of one block to the bit."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from simulator import load_scenario
from simulator.network import blocks, compiled, draw_cohort, ranked_once, slots
from simulator.network.numbered_loop import numbered_loop
from simulator.network.ranked_once import Live, RankedOnceStation, reading_station
from simulator.triage import Rank
from simulator.triage_config import policy_of

from .conftest import make
from .hand import numbered_loop_compiled
from .strategies import POLICIES, scenarios
from .test_model import PROPERTY
from .test_ranked_once import ODD, assert_same


def by_blocks(scenario, cohort, policy, minutes: float | None) -> tuple[RankedOnceStation, Any]:
    """The station chosen for the cohort with blocks of `minutes` (None: one block), and its outcome."""
    saved, blocks.BLOCK_MINUTES = blocks.BLOCK_MINUTES, minutes
    try:
        station = reading_station(scenario, cohort, policy, scenario.seed, 0)
        return station, station.run()
    finally:
        blocks.BLOCK_MINUTES = saved


def one_block(scenario, cohort, policy) -> Any:
    return by_blocks(scenario, cohort, policy, None)[1]


@contextmanager
def few_slots(spare: int, floor: int):
    """The blocks' slots for `spare` blocks' items and `floor` more (`slots.py`): few enough to be reused."""
    saved = slots.SPARE, slots._FLOOR
    slots.SPARE, slots._FLOOR = spare, floor
    try:
        yield
    finally:
        slots.SPARE, slots._FLOOR = saved


@settings(PROPERTY, max_examples=80)
@given(scenarios(), st.sampled_from([*POLICIES, *ODD]), st.sampled_from([13.0, 97.0, 480.0, 1440.0]),
       st.sampled_from([(4, 4096), (1, 16), (2, 64)]))
def test_blocks_of_time_give_the_outcome_of_one_block_to_the_bit(data: dict[str, Any], policy: str,
                                                                 minutes: float, spare: tuple[int, int]) -> None:
    scenario = make(data)
    policy_ = ODD[policy]() if policy in ODD else policy_of(make({**data, "policy": {**data["policy"],
                                                                                     "triage": policy}}))
    cohort = draw_cohort(scenario, scenario.seed, 0)
    with few_slots(*spare):  # the items' slots reused, or too few (`Crowded`: made again as one block)
        station, outcome = by_blocks(scenario, cohort, policy_, minutes)
    ran = type(station) is RankedOnceStation and station.blocks_run > 1
    event(f"by blocks: {ran}")
    if ran:
        event(f"late AI results: {station.results is not None}, second opinions: {station.n_second > 0}")
        event(f"slots reused: {station.slots_held[0] < station.n_cohort}")
    assert_same(outcome, one_block(scenario, cohort, policy_))


@pytest.mark.parametrize("name, days, minutes", [("moscow_city_network", 2, 173.0),
                                                 ("moscow_reference_center", 8, 61.0),
                                                 ("examples/mmc_ai_triage", 4, 29.0)])
@pytest.mark.parametrize("few", [False, True])
def test_bundled_scenarios_by_blocks(name: str, days: int, minutes: float, few: bool) -> None:
    # Late AI results (the network city's AI workers), second opinions, ties among ranks, many blocks; `few`:
    # slots for some two blocks' items, each reused many times (a study's by another once it is reported,
    # its second read too and its late AI result come), none short.
    scenario = load_scenario(name, overrides=[f"horizon_days={days}", "warmup_days=0"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    policy = policy_of(scenario)
    with few_slots(2, 200) if few else few_slots(slots.SPARE, slots._FLOOR):
        station, outcome = by_blocks(scenario, cohort, policy, minutes)
    assert station.blocks_run >= days * 1440 / minutes
    assert not few or station.slots_held[0] < station.n_cohort / 3
    assert_same(outcome, one_block(scenario, cohort, policy))


def test_too_few_slots_run_as_one_block() -> None:
    # More items alive at once than slots: refused by the slots (`Crowded`), the run made again as one block.
    scenario = load_scenario("moscow_reference_center", overrides=["horizon_days=4", "warmup_days=0"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    policy = policy_of(scenario)
    with few_slots(0, 8):
        station, outcome = by_blocks(scenario, cohort, policy, 61.0)
    assert station.blocks_run == 1
    assert_same(outcome, one_block(scenario, cohort, policy))


def test_the_loop_compiled_by_blocks_gives_the_same_bits() -> None:
    # One scenario with every kind of entry the blocks renumber (the loop's compilation is some 25 s a form).
    scenario = load_scenario("moscow_city_network", overrides=["horizon_days=2", "warmup_days=0"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    policy = policy_of(scenario)
    whole = one_block(scenario, cohort, policy)
    with numbered_loop_compiled():
        compiled._loaded.pop(numbered_loop, None)
        with few_slots(2, 200):
            station, numba = by_blocks(scenario, cohort, policy, 173.0)
        assert numbered_loop in compiled._loaded and station.blocks_run > 10  # it did run compiled, by blocks
        assert station.slots_held[0] < station.n_cohort  # ... its items in slots reused
    assert_same(numba, whole)


def test_what_cannot_be_numbered_by_blocks_runs_as_one() -> None:
    # Pre-emption: an interrupted read waits at the head of its class, an entry no block's numbering keeps.
    scenario = load_scenario("validation/mmc_3_readers_3_classes_preemptive", overrides=["horizon_days=3", "warmup_days=1"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    station, outcome = by_blocks(scenario, cohort, policy_of(scenario), 60.0)
    assert type(station) is RankedOnceStation and station.blocks_run == 1
    assert_same(outcome, one_block(scenario, cohort, policy_of(scenario)))


@pytest.mark.parametrize("policy", ["flat", "coarse"])
def test_entries_made_as_the_run_goes_keep_their_place_among_equals_across_blocks(policy: str) -> None:
    # Every rank tied (or many): a second opinion waits behind the teleconsultations that entered before it
    # and ahead of those after it, on the experts' two lanes, whichever block each entered in.
    scenario = load_scenario("moscow_reference_center", overrides=["horizon_days=8", "warmup_days=0"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    station, outcome = by_blocks(scenario, cohort, ODD[policy](), 61.0)
    assert station.n_second > 0 and station.blocks_run > 100
    assert_same(outcome, one_block(scenario, cohort, ODD[policy]()))


def test_what_the_loop_counts_is_in_the_whole_runs_numbering(monkeypatch) -> None:
    # A label's first use is ordered by how many numbered items had entered by then (a second opinion's
    # label, and a late result's): counted by each block's loop from its own first item, they are told
    # in the whole run's count, as one block counts them.
    told: list[tuple] = []
    opinion, results = Live.opinion, Live.results
    monkeypatch.setattr(Live, "opinion", lambda live, *args: (told.append(("opinion", *args)), opinion(live, *args)))
    monkeypatch.setattr(Live, "results", lambda live, relabelled, *args: (
        told.append(("results", relabelled.tolist())), results(live, relabelled, *args)))
    scenario = load_scenario("moscow_city_network", overrides=["horizon_days=2", "warmup_days=0"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    one_block(scenario, cohort, policy_of(scenario))
    whole, told[:] = list(told), []
    station, _ = by_blocks(scenario, cohort, policy_of(scenario), 173.0)
    assert station.blocks_run > 10 and station.results is not None and station.n_second > 0
    assert told == whole
    assert any(t[0] == "opinion" for t in told) and any(t[0] == "results" and any(t[1]) for t in told)


def test_a_run_by_blocks_asks_its_ranks_a_block_at_a_time(monkeypatch) -> None:
    # The whole run's ranks are never asked (five city years' were 0.9 GB): each block's as it begins, each
    # study's once (the first block's first chunk once more, for the types the loop is handed).
    scenario = load_scenario("moscow_city_network", overrides=["horizon_days=2", "warmup_days=0"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    whole = one_block(scenario, cohort, policy_of(scenario))
    asked: list[int] = []
    entries = ranked_once._entries
    monkeypatch.setattr(ranked_once, "entry_ranks", lambda *a, **k: pytest.fail("the whole run's ranks asked"))
    monkeypatch.setattr(ranked_once, "_entries", lambda station, by_block, block, *a: (
        asked.append(block.shape[0]), entries(station, by_block, block, *a))[1])
    station, outcome = by_blocks(scenario, cohort, policy_of(scenario), 173.0)
    most = int(np.diff(station.ranks.study_bounds).max())  # the most studies that become ready in one block
    assert station.blocks_run > 10 and max(asked) <= most < station.ranks.studies.shape[0] / 4
    assert sum(asked) - asked[0] == station.ranks.studies.shape[0]
    assert_same(outcome, whole)


class _Later:
    """Ranks that change their kind a day into the run: classes that 16 bits do not hold (`wide`), an
    `until` (`timed`), a key that is not a number (`odd`)."""

    name = "later"

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def rank(self, item, now: float) -> Rank:
        if now < 1440.0:
            return Rank(0 if item.referral == "stat" else 1, now, "first day")
        if self.kind == "wide":
            return Rank(70_000 if item.referral == "stat" else 80_000, now, "later")
        if self.kind == "timed":
            return Rank(1, now, "later", until=now + 600.0)
        return Rank(1, "later", "later")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind, numbered", [("wide", True), ("timed", True), ("odd", False)])
def test_ranks_a_later_block_cannot_number_so_run_as_one_block_or_layered(kind: str, numbered: bool) -> None:
    # Found only as that block begins: classes past the first block's types or an `until` (made again as one
    # block), a key that is not a number (layered, as the whole run's ranks would have sent it).
    scenario = load_scenario("moscow_reference_center", overrides=["horizon_days=3", "warmup_days=0"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    station, outcome = by_blocks(scenario, cohort, _Later(kind), 61.0)
    assert type(station) is RankedOnceStation and station.blocks_run == (1 if numbered else 0)
    chosen = reading_station(scenario, cohort, _Later(kind), scenario.seed, 0)
    assert (type(chosen) is RankedOnceStation) == numbered  # as one block: numbered whole, or layered
    assert_same(outcome, chosen.run())


def test_a_large_replication_goes_by_weeks_unless_told(monkeypatch) -> None:
    # From `BY_WEEKS_FROM` studies the station runs by weeks (a smaller one as one block), to the same bits;
    # `BLOCK_MINUTES` says otherwise for every run.
    scenario = load_scenario("moscow_reference_center", overrides=["horizon_days=15", "warmup_days=0"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    policy = policy_of(scenario)
    whole = one_block(scenario, cohort, policy)
    for large, runs in ((len(cohort), 3), (len(cohort) + 1, 1)):
        monkeypatch.setattr(blocks, "BY_WEEKS_FROM", large)
        station, outcome = by_blocks(scenario, cohort, policy, None)
        assert station.blocks_run == runs
        assert_same(outcome, whole)
    station, _ = by_blocks(scenario, cohort, policy, 1440.0)
    assert station.blocks_run == 15
