"""Cohorts built by hand, study by study, for tests of one rule of the reading station at a time: each
study's ready time and reading time are given, nothing is drawn."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from simulator.draws import AiDraws, Arrivals, Draws, Reading, Truth
from simulator.network import Cohort, ReadingStation
from simulator.network import compiled, ranked_once
from simulator.network.outcome import Outcome
from simulator.network.ranked_once import RankedOnceStation, reading_station
from simulator.network.upstream import Upstream
from simulator.records import duties_table, studies_table
from simulator.scenario import Scenario
from simulator.triage import REFERRALS, TriagePolicy
from simulator.triage_config import policy_of

__all__ = ["cohort_of", "numbered_loop_compiled", "outcomes", "run_by_hand"]


def cohort_of(scenario: Scenario, studies: list[dict[str, Any]]) -> Cohort:
    """`studies`: dicts of `ready` (minutes), `read` (minutes), and optionally `referral` (stat | urgent |
    routine), `type` (a study type's name), `score` (the AI's posterior; None: not scored), `positive`,
    `second_opinion` (the signed report goes for one), `second_read` (its reading time), `double_read` (the
    reading time of its second, independent read, where its type is double read), `audit` (its reading time
    as an audit, where the scenario has the autonomous-normal lane), `site`, `result` (when its AI result
    comes, after it is ready: the study waits unscored until then)."""
    n = len(studies)
    types, sites = list(scenario.study_types), list(scenario.sites)

    def col(key: str, default: Any, dtype: Any = float) -> np.ndarray:
        return np.array([s.get(key, default) for s in studies], dtype=dtype)

    ready = col("ready", 0.0)
    score = np.array([np.nan if s.get("score") is None else s["score"] for s in studies])
    scored = ~np.isnan(score)
    positive = col("positive", False, bool) & scored
    site = np.array([sites.index(s.get("site", sites[0])) for s in studies], dtype=np.int32)
    referral = np.array([[r.value for r in REFERRALS].index(s.get("referral", "routine")) for s in studies], dtype=np.int8)
    no, nan = np.zeros(n, dtype=bool), np.full(n, np.nan)
    draws = Draws(type_names=tuple(types), site_names=tuple(sites), condition_names=(),
                  study_type=np.array([types.index(s.get("type", types[0])) for s in studies], dtype=np.int32),
                  arrivals=Arrivals(ready, site, referral, nan), truth=Truth(no, np.full(n, -1, dtype=np.int16)),
                  ai=AiDraws(np.full(n, -1, dtype=np.int32), no, score, positive, np.zeros(n), no, no), more_ais=(),
                  reading=Reading(col("read", 1.0), col("second_opinion", False, bool),
                                  col("second_read", 1.0)[col("second_opinion", False, bool)],
                                  col("double_read", np.nan) if any("double_read" in s for s in studies) else None,
                                  col("audit", np.nan) if scenario.routing.autonomous_normal is not None else None),
                  ingest_delay=np.zeros(n))
    result = col("result", np.nan)
    late = result > ready
    return Cohort(draws, Upstream(site, ready, ready, ready, scored, score, positive,
                                  scored_at=np.where(late, result, nan), late_score=late if late.any() else None))


@contextmanager
def numbered_loop_compiled() -> Iterator[None]:
    """`numbered_loop` compiled by numba for every run, however small, then as it was."""
    saved, loaded = ranked_once.NUMBERED_FROM, dict(compiled._loaded)
    ranked_once.NUMBERED_FROM = 0
    try:
        yield
    finally:
        ranked_once.NUMBERED_FROM = saved
        compiled._loaded.clear()
        compiled._loaded.update(loaded)


def outcomes(scenario: Scenario, cohort: Cohort, policy: TriagePolicy) -> list[Outcome]:
    """The outcome of each form of the reading station that may run this cohort: the one the model chooses,
    the layered station itself, and where the model chooses `numbered_loop`, that loop compiled too (a
    small run is run as Python)."""
    chosen = reading_station(scenario, cohort, policy, 0, 0)
    found = [chosen.run()]
    if type(chosen) is RankedOnceStation:
        found.append(ReadingStation(scenario, cohort, policy, 0, 0).run())
        with numbered_loop_compiled():
            found.append(reading_station(scenario, cohort, policy, 0, 0).run())
    return found


def run_by_hand(scenario: Scenario, studies: list[dict[str, Any]],
                policy: TriagePolicy | None = None) -> list[tuple[list[dict], list[dict]]]:
    """The studies' and duties' rows, from each form of the reading station that may run this cohort
    (`outcomes`), under the scenario's policy or `policy`: a rule must hold on every path."""
    cohort = cohort_of(scenario, studies)
    return [(studies_table(scenario, cohort, outcome, 0, 0).to_pylist(), duties_table(outcome, 0).to_pylist())
            for outcome in outcomes(scenario, cohort, policy or policy_of(scenario))]
