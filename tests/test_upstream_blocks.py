"""The upstream stations gone through a block of time at a time (`network/chain.py`): the same way for
every study, and the same figures, in one block as in many, wherever the blocks are cut."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.draws import draw
from simulator.network.upstream import Upstream, _through_stations

from .conftest import base_dict, make

DAY = 1440.0


def every_station(days: float) -> dict:
    """Two sites, each with a CT that breaks down (north's busy, sending who waits too long to south, which
    closes at night), uplinks with an outage, the archive's ingest with a slowdown and an outage, and AI
    workers that fail some studies and go out for an afternoon: every station, and every way to wait."""
    data = base_dict()
    data.update(horizon_days=days, warmup_days=0)
    ct = data["study_types"]["chest_ct"]
    ct["arrivals"] = {"rate_per_hour": 7.0}
    ct["referral"] = {"stat": 0.1, "urgent": 0.2}
    exam = {"dist": "exponential", "mean": 9}
    failures = {"busy_hours_between": 20, "repair_minutes": {"dist": "lognormal", "mean": 40, "cv": 0.5}}
    data["sites"] = {
        "north": {"weight": 3.0, "devices": {"CT": {"count": 1, "exam_minutes": exam, "failures": failures,
                                                    "overflow": {"to": "south", "after": {"minutes": 25}}}},
                  "uplink": {"mbit_per_s": 60, "outages": [{"start": "2026-02-04T09:00", "hours": 3}]}},
        "south": {"weight": 1.0, "devices": {"CT": {"count": 1, "exam_minutes": exam,
                                                    "open": [{"start": "07:00", "end": "23:00"}]}},
                  "uplink": {"mbit_per_s": 40}},
    }
    data["network"] = {"sizes_mb": {"CT": {"dist": "lognormal", "mean": 150, "cv": 1.0}}}
    data["ingest"] = {"mbyte_per_s": 3.0, "delay_minutes": {"dist": "exponential", "mean": 1},
                      "slowdowns": [{"start": "2026-02-05T00:00", "hours": 12, "factor": 0.3}],
                      "outages": [{"start": "2026-02-06T02:00", "hours": 1}]}
    data["ai_services"]["ct_ai"].update(workers=1, failure_rate=0.05,
                                        inference_minutes={"dist": "lognormal", "mean": 6, "cv": 0.8},
                                        outages=[{"start": "2026-02-03T13:00", "hours": 4}])
    return data


def same(one: Upstream, other: Upstream) -> None:
    for name in Upstream.__dataclass_fields__:
        a, b = getattr(one, name), getattr(other, name)
        if isinstance(a, np.ndarray) or a is None:
            assert (a is None and b is None) or a.tobytes() == b.tobytes(), name  # type: ignore[union-attr]
        elif name == "stations":  # summed a block at a time: equal but for the order of the sums' terms
            assert list(a) == list(b)
            for station, figures in a.items():
                assert figures["studies"] == b[station]["studies"], station
                for figure, value in figures.items():
                    if isinstance(value, float):
                        assert value == pytest.approx(b[station][figure], rel=1e-12, nan_ok=True), (station, figure)
    for station, served in one.station_detail.items():  # type: ignore[union-attr]
        for column, values in served.items():
            if isinstance(values, np.ndarray):
                assert values.tobytes() == other.station_detail[station][column].tobytes(), (station, column)


@pytest.mark.parametrize("cuts", [[3.0], [0.5, 1.0, 1.75, 2.2, 4.9, 6.0], list(np.arange(0.3, 8.0, 0.37)), [20.0]],
                         ids=["one", "uneven", "many", "after"])
def test_the_stations_cut_into_blocks_anywhere_give_what_one_block_gives(cuts: list[float]) -> None:
    scenario = make(every_station(8))
    draws = draw(scenario, 7, 0)
    whole = _through_stations(scenario, draws, 7, 0, True, cuts=[])
    assert whole.late_score is not None  # results that came while their studies waited
    assert (whole.site != draws.arrivals.site).sum() > 20  # some were sent south
    same(whole, _through_stations(scenario, draws, 7, 0, True, cuts=[DAY * c for c in cuts]))


def test_a_run_of_two_years_goes_through_the_stations_a_year_at_a_time_as_in_one_block() -> None:
    data = every_station(500)
    data["study_types"]["chest_ct"]["arrivals"] = {"rate_per_hour": 1.5}
    # North's CT out over the turn of the year, south's closed for the night: who comes then waits past it.
    data["sites"]["north"]["devices"]["CT"]["outages"] = [{"start": "2027-02-01T20:00", "hours": 8, "devices": 1}]
    scenario = make(data)
    draws = draw(scenario, 7, 0)
    by_year = _through_stations(scenario, draws, 7, 0, True)  # the draws' years: the run's own way
    same(_through_stations(scenario, draws, 7, 0, True, cuts=[]), by_year)
    crossing = (draws.arrivals.arrived_at < 365 * DAY) & (by_year.ready_at >= 365 * DAY)
    assert crossing.any()  # studies of the first year carried into the second


@pytest.mark.parametrize("cuts", [[0.5, 1.0, 1.75, 2.2, 4.9, 6.0], list(np.arange(0.3, 8.0, 0.37))], ids=["uneven", "many"])
def test_at_each_blocks_end_every_study_on_the_worklist_before_it_is_known(cuts: list[float]) -> None:
    # What a reading station needs to go a block at a time behind the stations: the studies ready before
    # the block's end, each known once (a late AI result is known with its study: its time is set then).
    scenario = make(every_station(8))
    draws = draw(scenario, 7, 0)
    known: list[np.ndarray] = []
    whole = _through_stations(scenario, draws, 7, 0, False, cuts=[DAY * c for c in cuts], known=known)
    seen = np.zeros(len(draws), dtype=int)
    assert len(known) == len(cuts) + 1
    for cut, ready in zip([*(DAY * c for c in cuts), np.inf], known):
        seen[ready] += 1
        assert (seen[whole.ready_at < cut] == 1).all()
        assert (np.diff(ready) > 0).all()  # in study order
    assert (seen == 1).all()
