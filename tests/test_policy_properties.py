"""Properties of the time-dependent policies on a worklist that starves routine work under `ai_priority`.

One reader; AI-flagged studies keep arriving so that one is always waiting when the reader looks. A
routine study that becomes ready meanwhile is never read under `ai_priority`; `aging` and `sla_edf` must
read it within a bound that follows from their rules, whatever the reading times.
"""
from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.triage import Aging, AiPriority, SlaEdf, TriagePolicy, WorkItem, Worklist


def flagged(i: int, now: float) -> WorkItem:
    return WorkItem(index=i, study_type="ct", ai_score=0.9, ai_positive=True, arrived_at=now, ready_at=now, lane="ct")


def wait_of_routine(policy: TriagePolicy, reads: list[float], ready: float, horizon: float) -> float:
    """The routine study's wait, or inf if it is still waiting at the horizon."""
    wl = Worklist(policy)
    lanes = [wl.lane("ct")]
    routine = WorkItem(index=-1, study_type="ct", ai_score=0.05, ai_positive=False, arrived_at=ready, ready_at=ready,
                       lane="ct")
    now, k, pushed = 0.0, 0, False
    wl.push(flagged(0, 0.0), 0.0)
    while now < horizon:
        k += 1
        wl.push(flagged(k, now), now)  # one more flagged study each time the reader looks: never a gap
        if not pushed and ready <= now:
            wl.push(routine, now)
            pushed = True
        taken = wl.pop_for(lanes, now)
        if taken is routine:
            return now - ready
        now += reads[k % len(reads)]
    return math.inf


reads_strategy = st.lists(st.floats(1.0, 30.0), min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(reads=reads_strategy, ready=st.floats(0.0, 500.0), max_wait=st.floats(31.0, 600.0))
def test_aging_reads_a_starved_study_within_max_wait_plus_one_read(reads: list[float], ready: float,
                                                                   max_wait: float) -> None:
    horizon = ready + max_wait + 10 * 30.0
    assert wait_of_routine(AiPriority(), reads, ready, horizon) == math.inf  # the starvation is real
    wait = wait_of_routine(Aging(AiPriority(), promote_after=None, max_wait=max_wait), reads, ready, horizon)
    assert wait <= max_wait + max(reads) + 1e-9


@settings(max_examples=150, deadline=None)
@given(reads=reads_strategy, ready=st.floats(0.0, 500.0), flagged_target=st.floats(10.0, 120.0),
       extra=st.floats(0.0, 600.0))
def test_sla_edf_reads_a_starved_study_within_the_gap_of_targets(reads: list[float], ready: float,
                                                                 flagged_target: float, extra: float) -> None:
    routine_target = flagged_target + extra
    horizon = ready + routine_target + 10 * 30.0
    wait = wait_of_routine(SlaEdf({"ai_positive": flagged_target, "routine": routine_target}), reads, ready, horizon)
    # Flagged studies that became ready more than (routine - flagged target) after it are due later; those
    # ready before that are due earlier, so it is not read sooner either.
    assert routine_target - flagged_target - 1e-9 <= wait <= routine_target - flagged_target + 2 * max(reads) + 1e-9


@settings(max_examples=100, deadline=None)
@given(reads=reads_strategy, ready=st.floats(0.0, 500.0), step=st.floats(31.0, 200.0))
def test_aging_promotion_alone_never_lifts_above_flagged_work(reads: list[float], ready: float, step: float) -> None:
    """With only `promote_after`, a routine study joins the flagged class by ready time: it is read once the
    flagged studies that were ready before it are done (here: at most one), after its promotion."""
    horizon = ready + step + 10 * 30.0
    wait = wait_of_routine(Aging(AiPriority(), promote_after=step, max_wait=None), reads, ready, horizon)
    assert wait <= step + 2 * max(reads) + 1e-9
