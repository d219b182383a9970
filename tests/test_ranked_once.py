"""The reading station with its ranks asked ahead (`simulator/network/ranked_once.py`) against the layered
one: where it runs, every output is the same to the bit; where it may not, the layered station runs."""
from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from simulator import load_scenario
from simulator.network import draw_cohort
from simulator.experiment import policy_of
from simulator.network import ReadingStation
from simulator.network.outcome import Outcome
from simulator.network.ranked_once import RankedOnceStation, Unplaced, _first_entries, reading_station
from simulator.triage import Rank

from .conftest import make
from .hand import cohort_of, outcomes
from .strategies import POLICIES, scenarios
from .test_model import PROPERTY
from .test_rules import pushed


class Coarse:
    """Whole two-hour blocks as keys (ints): many ties, read in order of entry."""

    name = "coarse"

    def rank(self, item, now: float) -> Rank:
        return Rank(0 if item.referral == "stat" else 1, int(item.ready_at // 120), item.referral)


class Flat:
    """One class, one key: the worklist is first come, first read."""

    name = "flat"

    def rank(self, item, now: float) -> Rank:
        return Rank(0, 0.0, "all")


class ByScore:
    """Unscored studies last; the score's negation otherwise (floats, rarely tied)."""

    name = "by_score"

    def rank(self, item, now: float) -> Rank:
        if item.ai_score is None:
            return Rank(2, item.ready_at, "unscored")
        return Rank(0 if item.ai_positive else 1, -item.ai_score, "positive" if item.ai_positive else "negative")


ODD = {"coarse": Coarse, "flat": Flat, "by_score": ByScore}


def both(scenario, policy, seed: int = 0) -> tuple[ReadingStation, Outcome, Outcome]:
    """The chosen station and its outcome, and the layered station's outcome, on one cohort."""
    cohort = draw_cohort(scenario, scenario.seed, seed)
    chosen = reading_station(scenario, cohort, policy, scenario.seed, seed)
    return chosen, chosen.run(), ReadingStation(scenario, cohort, policy, scenario.seed, seed).run()


def assert_same(a: Outcome, b: Outcome) -> None:
    for name, value in vars(a).items():
        other = getattr(b, name)
        if isinstance(value, np.ndarray):
            assert value.dtype == other.dtype and value.tobytes() == other.tobytes(), name  # to the bit
        else:
            assert value == other, name


@settings(PROPERTY, max_examples=150)
@given(scenarios(), st.sampled_from([*POLICIES, *ODD]))
def test_ranked_ahead_or_layered_the_outcome_is_the_same_to_the_bit(data: dict[str, Any], policy: str) -> None:
    scenario = make(data)
    chosen, outcome, layered = both(scenario, ODD[policy]() if policy in ODD else policy_of(make(
        {**data, "policy": {**data["policy"], "triage": policy}})))
    event(type(chosen).__name__)
    event(f"dispatch: {scenario.routing.mode}")
    event(f"audits: {bool(outcome.audited.any())} on {type(chosen).__name__}")
    assert_same(outcome, layered)


@pytest.mark.parametrize("policy", ["fifo", "ai_priority", "hierarchical", "score", *ODD])
def test_where_every_rank_is_final_on_entry_the_ranks_are_asked_ahead(policy: str) -> None:
    scenario = load_scenario("examples/mmc_ai_triage", ["horizon_days=4", "warmup_days=0.5", "policy.order=[chest_ct_ai]",
                                                        f"policy.triage={'fifo' if policy in ODD else policy}"])
    chosen, outcome, layered = both(scenario, ODD[policy]() if policy in ODD else policy_of(scenario))
    assert isinstance(chosen, RankedOnceStation)
    assert np.isfinite(outcome.reported_at).sum() > 500  # not a vacuous comparison
    assert_same(outcome, layered)


class Later(Coarse):
    def rank(self, item, now: float) -> Rank:
        return Rank(1, item.ready_at, "routine", until=now + 60.0)


class Keyed(Coarse):
    def __init__(self, key: Any) -> None:
        self.key = key

    def rank(self, item, now: float) -> Rank:
        return Rank(1, self.key(item), "routine")


class Ducked(Coarse):
    """Answers with something shaped like a Rank, not a Rank."""

    def rank(self, item, now: float):
        return SimpleNamespace(cls=1, key=item.ready_at, label="routine", until=math.inf)


@pytest.mark.parametrize("policy", [
    Ducked(),
    Keyed(lambda item: math.nan if item.index % 7 == 0 else item.ready_at),  # NaN: no order numpy keeps
    Keyed(lambda item: (item.referral, item.ready_at)),  # not a number
    Keyed(lambda item: 2 ** 60 + item.index if item.index % 2 else 0.5),  # ints float64 cannot hold
], ids=["ducked", "nan", "tuple", "huge"])
def test_a_rank_that_cannot_be_numbered_runs_layered(policy) -> None:
    scenario = load_scenario("examples/mmc_ai_triage", ["horizon_days=2", "warmup_days=0"])
    chosen, outcome, layered = both(scenario, policy)
    assert type(chosen) is ReadingStation
    assert_same(outcome, layered)


@pytest.mark.parametrize("router", ["local_first", "tests.policies_for_tests:Thirds"])
@pytest.mark.parametrize("policy", ["rules", "ai_priority", "ai_priority+preemptive", "by_score"])
def test_a_routers_choices_are_asked_ahead_and_studies_opened_to_the_centre_as_the_run_goes(router: str,
                                                                                           policy: str) -> None:
    """The district example, with its built-in router and one of one's own (every answer: both, with a time
    that opens nothing; the centre; the site's readers, for a while), its declarative rules or another
    built-in (block forms), with and without pre-emption, or a policy asked item by item, and AI workers
    whose results come while studies wait: the numbered station runs, and its outcome is the layered
    station's."""
    policy, _, preemptive = policy.partition("+")
    workers = [f"ai_services.{name}.{key}" for name in ("cxr_ai", "mammography_ai")
               for key in ("workers=1", "inference_minutes={dist: exponential, mean: 3}")]
    scenario = load_scenario("examples/district_network", ["horizon_days=4", "warmup_days=0", *workers,
                                                           f"routing.router={router}",
                                                           f"policy.triage={'fifo' if policy in ODD else policy}",
                                                           f"policy.preemptive={bool(preemptive)}"])
    chosen, outcome, layered = both(scenario, ODD[policy]() if policy in ODD else policy_of(scenario))
    assert type(chosen) is RankedOnceStation and chosen.cohort.upstream.late_score is not None
    assert chosen.routes.entry.shape[0] > 50  # not a vacuous comparison
    assert_same(outcome, layered)


@pytest.mark.parametrize("policy", ["rules", "ai_priority+preemptive", "by_score+preemptive"])
def test_push_runs_the_numbered_loop_and_hands_on_a_leaving_readers_work_ranked_then(policy: str) -> None:
    """The district example with push dispatch, AI workers whose results come while studies wait, and
    readers whose duties end with work pushed to them waiting: the numbered station runs, ranks that work
    again as it enters again (the policy asked then, by a yield), and its outcome is the layered station's."""
    policy, _, preemptive = policy.partition("+")
    workers = [f"ai_services.{name}.{key}" for name in ("cxr_ai", "mammography_ai")
               for key in ("workers=1", "inference_minutes={dist: exponential, mean: 3}")]
    scenario = load_scenario("examples/district_network", [
        "horizon_days=14", "warmup_days=0", "routing.mode=push", *workers,
        f"policy.triage={'fifo' if policy in ODD else policy}", f"policy.preemptive={bool(preemptive)}"])
    asked: list[bool] = []
    cohort = draw_cohort(scenario, scenario.seed, 0)
    policy_ = ODD[policy]() if policy in ODD else policy_of(scenario)
    chosen = reading_station(scenario, cohort, policy_, scenario.seed, 0)
    assert type(chosen) is RankedOnceStation
    ask = chosen._rank_again
    chosen._rank_again = lambda i, result_in, now: asked.append(result_in) or ask(i, result_in, now)  # type: ignore
    outcome = chosen.run()
    assert len(asked) > 10 and any(asked)  # not a vacuous comparison: work handed on, some with late results
    assert_same(outcome, ReadingStation(scenario, cohort, chosen.worklist.policy, scenario.seed, 0).run())


def test_studies_ready_at_a_shift_end_the_warm_up_the_horizon_or_all_at_once() -> None:
    """The edges where event order decides: a study ready at the very minute a shift ends (the leaving
    reader, still idle, starts nothing), at the warm-up's end (busy time is counted from there), at the
    horizon (the run's stop comes first: it never enters), and several ready at one time (equal ranks,
    read in order of entry)."""
    data = {
        "name": "edges", "start": "2026-02-02T00:00", "horizon_days": 2, "warmup_days": 0.5, "seed": 3,
        "study_types": {"plain": {"modality": "CT", "arrivals": {"rate_per_hour": 2.0},
                                  "referral": {"stat": 0.3}, "read_minutes": {"dist": "fixed", "value": 6}}},
        "pools": {"day": {"reads": ["*"], "shifts": [{"start": "08:00", "end": "16:00", "staff": 2}]},
                  "late": {"reads": ["*"], "shifts": [{"start": "16:00", "end": "23:00", "staff": 1}]}},
        "policy": {"triage": "fifo"},
    }
    scenario = make(data)
    cohort = draw_cohort(scenario, scenario.seed, 0)
    ready = cohort.upstream.ready_at.copy()
    picked = np.random.default_rng(0).choice(len(cohort), 14, replace=False)
    ready[picked] = [720, 720, 960, 960, 960, 2400, 2400, 1380, 1380, 2880, 2880, 1000.5, 1000.5, 1000.5]
    for policy in (policy_of(scenario), Flat(), Coarse()):
        edged = dataclasses.replace(cohort, upstream=dataclasses.replace(cohort.upstream, ready_at=ready))
        chosen = reading_station(scenario, edged, policy, scenario.seed, 0)
        assert isinstance(chosen, RankedOnceStation)
        outcome = chosen.run()
        assert_same(outcome, ReadingStation(scenario, edged, policy, scenario.seed, 0).run())
        assert np.isnan(outcome.read_start[ready == 2880]).all() and (outcome.label[ready == 2880] == -1).all()


OPINIONS = ["second_opinions.fraction=0.4", "second_opinions.read_minutes.dist=fixed",
            "second_opinions.read_minutes.value=9", "pools.readers.reads=[chest_ct,second_opinion]"]


class OpinionsLater(Coarse):
    """Studies ranked for good; a second opinion's rank names an `until`: it cannot be placed ahead."""

    def rank(self, item, now: float) -> Rank:
        if item.kind == "second_opinion":
            return Rank(1, now, "opinion", until=now + 30.0)
        return super().rank(item, now)


class OpinionsFirst(Coarse):
    """Second opinions before every study, as a label no study uses; ties by entry (equal keys)."""

    def rank(self, item, now: float) -> Rank:
        if item.kind == "second_opinion":
            return Rank(-1, 0, "opinion")
        return super().rank(item, now)


@pytest.mark.parametrize("readers", [1, 2, 5])
@pytest.mark.parametrize("policy", ["fifo", "ai_priority", "score", "coarse", "flat", "first"])
def test_second_opinions_are_placed_among_the_studies_ranked_ahead(policy: str, readers: int) -> None:
    """Second opinions enter as the run goes, are placed among the numbered studies and never go to the
    reader who signed the report (with one reader: never read). The outcome is the layered station's."""
    scenario = load_scenario("examples/mmc_ai_triage", ["horizon_days=3", "warmup_days=0", *OPINIONS,
                                                        f"pools.readers.shifts.0.staff={readers}",
                                                        f"policy.triage={policy if policy in POLICIES else 'fifo'}"])
    chosen, outcome, layered = both(scenario, OpinionsFirst() if policy == "first" else ODD[policy]() if policy in ODD
                                    else policy_of(scenario))
    assert isinstance(chosen, RankedOnceStation)
    opinions = slice(chosen.n_cohort, chosen.n_cohort + chosen.n_second)
    made = np.isfinite(outcome.extra_ready_at[:chosen.n_second]).sum()  # (the opinions come first of the extras)
    assert made > 30 and outcome.label_names  # not a vacuous comparison
    assert (np.isfinite(outcome.reported_at[opinions]).sum() == 0) == (readers == 1)
    first_reader = outcome.reader[outcome.extra_study[:chosen.n_second]]
    read = outcome.reader[opinions] >= 0
    assert not (outcome.reader[opinions][read] == first_reader[read]).any()
    assert_same(outcome, layered)


def test_a_second_opinion_rank_that_cannot_be_placed_runs_the_replication_layered() -> None:
    scenario = load_scenario("examples/mmc_ai_triage", ["horizon_days=2", "warmup_days=0", *OPINIONS])
    chosen, outcome, layered = both(scenario, OpinionsLater())
    assert isinstance(chosen, RankedOnceStation)  # chosen ahead, before any second opinion was asked
    assert np.isfinite(outcome.reported_at[chosen.n_cohort:]).sum() > 10
    assert_same(outcome, layered)


DOUBLE = ["study_types.chest_ct.double_reading.read_minutes.dist=fixed",
          "study_types.chest_ct.double_reading.read_minutes.value=7"]


@pytest.mark.parametrize("readers", [2, 4])
@pytest.mark.parametrize("policy", ["fifo", "ai_priority", "score", "flat", "first"])
def test_double_reads_are_numbered_ahead_and_never_read_by_the_first_reader(policy: str, readers: int) -> None:
    """A double-read study's second read enters right after it and is numbered with the studies; the two
    reads go to two readers (the scenario refuses fewer than two), with second opinions as well. The
    outcome is the layered station's."""
    scenario = load_scenario("examples/mmc_ai_triage", ["horizon_days=3", "warmup_days=0", *OPINIONS, *DOUBLE,
                                                        f"pools.readers.shifts.0.staff={readers}",
                                                        f"policy.triage={policy if policy in POLICIES else 'fifo'}"])
    chosen, outcome, layered = both(scenario, OpinionsFirst() if policy == "first" else ODD[policy]() if policy in ODD
                                    else policy_of(scenario))
    assert isinstance(chosen, RankedOnceStation)
    seconds = np.flatnonzero(chosen.dual_index >= 0)
    made = chosen.dual_index[seconds][np.isfinite(outcome.extra_ready_at[chosen.dual_index[seconds] - chosen.n_cohort])]
    assert made.shape[0] > 30
    firsts = outcome.extra_study[made - chosen.n_cohort]
    both_read = (outcome.reader[made] >= 0) & (outcome.reader[firsts] >= 0)
    assert both_read.sum() > 30
    assert not (outcome.reader[made][both_read] == outcome.reader[firsts][both_read]).any()
    assert_same(outcome, layered)


BUSY = ["study_types.chest_ct.read_minutes.mean=7.5"]  # two readers at 90%: studies wait for them


@pytest.mark.parametrize("policy", ["fifo", "ai_priority", "score", "hierarchical", "coarse", "by_score"])
def test_late_ai_results_rank_a_waiting_study_again_on_the_numbered_form(policy: str) -> None:
    """A study on the worklist before its AI result is ranked again when the result comes: it keeps its
    place if its rank is unchanged (fifo, coarse: only its label may change), else it enters again and is
    placed among the numbered items (ai_priority, score, by_score); opened already, it is read as it
    stands. The outcome is the layered station's, and the case is not vacuous: results come while
    studies wait, and some change their rank."""
    order = ["policy.order=[ct_ai]"] if policy == "hierarchical" else []
    scenario = load_scenario("validation/ai_workers_mmc", ["horizon_days=10", "warmup_days=0", *BUSY, *order,
                                                           f"policy.triage={policy if policy in POLICIES else 'fifo'}"])
    chosen, outcome, layered = both(scenario, ODD[policy]() if policy in ODD else policy_of(scenario))
    assert isinstance(chosen, RankedOnceStation) and chosen.results is not None
    late = np.flatnonzero(chosen.late_score)
    scored = chosen.cohort.upstream.scored_at[late]
    waiting = late[(outcome.read_start[late] > scored) & (scored < chosen.horizon)]
    assert waiting.shape[0] > 20  # results that came while their study waited
    if policy in ("ai_priority", "score", "hierarchical", "by_score"):
        assert sum(chosen.gone) > 5  # places given up: studies that entered again
    assert_same(outcome, layered)


@pytest.mark.parametrize("policy", ["ai_priority", "score"])
def test_with_pre_emption_a_late_ai_result_ranks_an_interrupted_study_again(policy: str) -> None:
    """With pre-emption a study whose result comes while it waits enters again (a new rank may pre-empt),
    and so does one waiting since its read was interrupted (it stays at the head of its new class). Every
    form of the station gives the layered outcome (flip: an interrupted study read as it stands when its
    result comes)."""
    scenario = load_scenario("validation/ai_workers_mmc", ["horizon_days=10", "warmup_days=0", *BUSY,
                                                           f"policy.triage={policy}", "policy.preemptive=true"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    found = outcomes(scenario, cohort, policy_of(scenario))
    assert len(found) == 3 and cohort.upstream.late_score is not None
    resumed = found[0].reported_at - found[0].read_start > cohort.draws.reading.read_minutes[:len(cohort)] + 1e-9
    assert resumed[:len(cohort)].sum() > 20  # reads interrupted, then resumed
    for other in found[1:]:
        assert_same(found[0], other)


@pytest.mark.parametrize("policy", ["ai_priority", "score"])
def test_a_late_ai_result_ranks_both_reads_of_a_double_read_study_again(policy: str) -> None:
    scenario = load_scenario("validation/ai_workers_mmc", [
        "horizon_days=10", "warmup_days=0", *BUSY, f"policy.triage={policy}",
        "study_types.chest_ct.double_reading.read_minutes.dist=fixed",
        "study_types.chest_ct.double_reading.read_minutes.value=2"])
    chosen, outcome, layered = both(scenario, policy_of(scenario))
    assert isinstance(chosen, RankedOnceStation) and chosen.partner is not None
    gone = np.flatnonzero(np.frombuffer(bytes(chosen.gone), dtype=np.uint8))
    again = chosen.ranks.order[np.isin(chosen.ranks.place, gone)]
    assert (again >= chosen.n_cohort).sum() > 3  # second reads that entered again
    assert_same(outcome, layered)


def test_live_entries_between_the_same_numbered_places_in_two_lanes_go_by_rank_then_entry() -> None:
    """Found by the property above: two AI-flagged studies of two types (two lanes, one reader for both)
    ranked again by late results to places between the same two numbered items. The reader must take
    the one ready first (its key), as the layered worklist does, not the one of the lane listed first."""
    ct = {"modality": "CT", "arrivals": {"rate_per_hour": 1.2}, "read_minutes": {"dist": "exponential", "mean": 8},
          "prevalence": 0.2, "ai": "ai"}
    data = {"name": "two-lanes", "start": "2026-02-04T06:30", "horizon_days": 1.5, "warmup_days": 0.25, "seed": 0,
            "study_types": {"a": ct, "b": {**ct, "arrivals": {"rate_per_hour": 1.3}}},
            "ai_services": {"ai": {"sensitivity": 0.8, "specificity": 0.85, "workers": 1,
                                   "inference_minutes": {"dist": "exponential", "mean": 4}}},
            "pools": {"a_only": {"reads": ["a"], "shifts": [{"start": "00:00", "hours": 6, "staff": 0, "days": ["mon"]}]},
                      "all": {"reads": ["*"], "shifts": [{"start": "08:00", "end": "18:00", "staff": 1}]}},
            "policy": {"triage": "ai_priority"}}
    found = 0
    for seed in range(12):
        scenario = make({**data, "seed": seed})
        chosen, outcome, layered = both(scenario, policy_of(scenario))
        assert isinstance(chosen, RankedOnceStation)
        assert_same(outcome, layered)
        found += sum(chosen.gone) > 1  # studies that gave up their place and entered again
    assert found >= 3


class LateUntil(Coarse):
    """A rank for good when asked on entry, with an `until` when asked later (an hour after the study was
    ready): the numbered order cannot hold the second."""

    def rank(self, item, now: float) -> Rank:
        if now > item.ready_at + 60.0:
            return Rank(1, item.ready_at, "routine", until=now + 30.0)
        return super().rank(item, now)


def test_push_a_rank_at_a_duty_end_that_cannot_be_placed_runs_the_replication_layered() -> None:
    """With push, the work a leaving reader held is ranked again as their duty ends, during the run: a rank
    there that names an `until` starts the replication again on the layered station, with its outcome."""
    data = pushed()
    data["pools"]["readers"]["shifts"] = [{"start": "00:00", "end": "02:00", "staff": 1},
                                          {"start": "00:00", "end": "24:00", "staff": 1}]
    scenario = make(data)
    cohort = cohort_of(scenario, [{"ready": 0, "read": 150}, {"ready": 0, "read": 200}, {"ready": 1, "read": 5}])
    chosen = reading_station(scenario, cohort, LateUntil(), 0, 0)
    assert type(chosen) is RankedOnceStation  # chosen ahead: every rank asked on entry holds for good
    refused: list[float] = []
    ask = chosen._rank_again

    def asking(i: int, result_in: bool, now: float) -> tuple[float, float]:
        try:
            return ask(i, result_in, now)
        except Unplaced:
            refused.append(now)
            raise

    chosen._rank_again = asking  # type: ignore[method-assign]
    outcome = chosen.run()
    assert refused == [120.0]  # asked at 02:00, and refused there
    assert outcome.reported_at[2] == 205.0  # handed on at 02:00, read after the staying reader's study
    assert_same(outcome, ReadingStation(scenario, cohort, LateUntil(), 0, 0).run())


class Drifting(Coarse):
    """Keyed by the wait so far when asked, asked again every 17 minutes: a rank that changes as time goes."""

    def rank(self, item, now: float) -> Rank:
        return Rank(0 if item.referral == "stat" else 1, item.ready_at - now, "waiting", until=now + 17.0)


AGING = ["policy.triage=aging", "policy.aging.promote_after.minutes=10", "policy.aging.max_wait.minutes=45"]


@pytest.mark.parametrize("policy, options", [
    ("aging", []), ("aging", ["policy.preemptive=true"]), ("aging", ["routing.mode=push"]),
    ("aging", ["routing.mode=push", "policy.preemptive=true"]), ("aging", OPINIONS),
    ("later", []), ("drifting", []), ("drifting", ["policy.preemptive=true"])])
def test_ranks_that_name_an_until_run_the_loop_asked_again_as_the_layered_worklist_asks(policy: str,
                                                                                         options: list[str]) -> None:
    """Aging (promoted every 10 minutes, overdue at 45) on a queue that builds, with pre-emption, push, second
    opinions, and policies of one's own whose rank changes as time goes: ranked ahead, asked again at the
    picks as their times come, the outcome is the layered station's."""
    scenario = load_scenario("examples/mmc_ai_triage", ["horizon_days=2", "warmup_days=0", *AGING, *options])
    ranking = {"later": Later(), "drifting": Drifting()}.get(policy) or policy_of(scenario)
    cohort = draw_cohort(scenario, scenario.seed, 0)
    chosen = reading_station(scenario, cohort, ranking, scenario.seed, 0)
    assert isinstance(chosen, RankedOnceStation)
    asked: list[float] = []
    ask = chosen._rank_again
    chosen._rank_again = lambda i, result_in, now: asked.append(now) or ask(i, result_in, now)  # type: ignore
    assert_same(chosen.run(), ReadingStation(scenario, cohort, ranking, scenario.seed, 0).run())
    assert len(asked) > 10  # not a vacuous comparison: ranks were asked again as the run went


def _arrays(record: Any, name: str = "") -> dict[str, np.ndarray]:
    """Every array of a record of arrays (the draws, the upstream outcome), by its path, copied."""
    found = {}
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if isinstance(value, np.ndarray):
            found[f"{name}{field.name}"] = value.copy()
        elif dataclasses.is_dataclass(value):
            found.update(_arrays(value, f"{name}{field.name}."))
    return found


@pytest.mark.parametrize("name", ["examples/district_network", "validation/ai_triage_2_readers_preemptive"])
def test_the_station_reads_its_cohort_and_never_writes_into_it(name: str) -> None:
    """Draws, then stations: the station reads the studies' reading times and ready times where the cohort
    holds them, and what it changes (an audit's reading time, what is left of a pre-empted read) is its
    own, so a cohort run under one policy is the same cohort for the next (common random numbers). Run
    compiled, where the loop is handed the cohort's own arrays (the Python form is handed lists)."""
    from .hand import numbered_loop_compiled

    scenario = load_scenario(name, ["horizon_days=3", "warmup_days=0"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    before = {**_arrays(cohort.draws, "draws."), **_arrays(cohort.upstream, "upstream.")}
    with numbered_loop_compiled():
        station = reading_station(scenario, cohort, policy_of(scenario), scenario.seed, 0)
        assert isinstance(station, RankedOnceStation)
        station.run()
    after = {**_arrays(cohort.draws, "draws."), **_arrays(cohort.upstream, "upstream.")}
    assert before.keys() == after.keys()
    for path, values in before.items():
        assert np.array_equal(values, after[path], equal_nan=values.dtype.kind == "f"), path


@given(st.lists(st.integers(0, 5), min_size=1, max_size=60), st.integers(1, 7))
def test_each_labels_first_entry_found_a_chunk_at_a_time_is_where_it_is_first(labels: list[int], chunk: int) -> None:
    # Labels are coded in order of first use (`_coded`): code k first appears after codes 0..k-1.
    first_seen: dict[int, int] = {}
    coded = np.array([first_seen.setdefault(v, len(first_seen)) for v in labels], dtype=np.int16)
    found = _first_entries(coded, len(first_seen), chunk)
    assert found.tolist() == np.unique(coded, return_index=True)[1].tolist()
