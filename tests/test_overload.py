"""Overload is a verdict: a pool whose backlog grows, or a shift busy all the time, is named with the day it
began; a stable run and a run too short to tell get none."""
from __future__ import annotations

from simulator import run_scenario
from simulator.overload import GROWING, SATURATED, describe

from .conftest import base_dict, make


def desk(staff: int, horizon: float = 12, rate: float = 9.6, **extra) -> dict:
    data = base_dict()
    data.update(horizon_days=horizon, warmup_days=1, **extra)
    data["study_types"]["chest_ct"]["arrivals"] = {"rate_per_hour": rate}
    data["pools"]["readers"]["shifts"][0]["staff"] = staff
    return data


def test_a_stable_desk_is_not_overloaded() -> None:
    run = run_scenario(make(desk(2)), 2, workers=1)  # rho = 0.8
    assert run.overloaded == []


def test_demand_over_capacity_is_named_with_the_day_it_began() -> None:
    run = run_scenario(make(desk(1)), 2, workers=1)  # rho = 1.6
    growing = [o for o in run.overloaded if o.reason == GROWING]
    assert [o.pool for o in growing] == ["readers"] and growing[0].replications == 2
    assert growing[0].from_day <= 2
    assert "demand exceeds capacity in pool readers" in describe(growing[0])


def test_a_weekend_backlog_cleared_on_monday_is_not_overload() -> None:
    data = desk(2, horizon=28)
    data["pools"]["readers"]["shifts"] = [{"start": "00:00", "end": "24:00", "staff": 4,
                                           "days": ["mon", "tue", "wed", "thu", "fri"]}]
    run = run_scenario(make(data), 1, workers=1)  # nobody reads at weekends; 4 readers clear it on Monday
    assert not [o for o in run.overloaded if o.reason == GROWING]


def test_a_shift_busy_all_the_time_is_saturated_even_when_the_next_shift_catches_up() -> None:
    data = desk(2, horizon=14)
    data["pools"]["readers"]["shifts"] = [{"name": "day", "start": "08:00", "end": "20:00", "staff": 4},
                                          {"name": "night", "start": "20:00", "end": "08:00+1", "staff": 1}]
    run = run_scenario(make(data), 1, workers=1)  # 1.6 erlangs at night for one reader; four readers by day
    saturated = [o for o in run.overloaded if o.reason == SATURATED]
    assert [(o.pool, o.shift) for o in saturated] == [("readers", "night")]
    assert not [o for o in run.overloaded if o.reason == GROWING]
    assert "waits for the next shift" in describe(saturated[0])


def test_a_run_too_short_to_tell_gets_no_verdict() -> None:
    run = run_scenario(make(desk(1, horizon=2.5)), 1, workers=1)
    assert run.overloaded == []
