"""The draws' years (`streams.YEAR`): each study's random numbers from the streams of the year it arrives in,
so a run longer than a year begins with the run of one year, and a year can be drawn on its own."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simulator.draws import draw, draw_year, draw_years
from simulator.network import draw_cohort
from simulator.network.delivery import record_times
from simulator.distributions import sample
from simulator.streams import YEAR, stream, years_of

from .conftest import base_dict, make

DAY = 1440.0


def year_scenario(days: float) -> dict:
    """A chest-CT desk with a scanner that breaks down, sizes, an ingest delay, AI workers, bookings and a
    delivery delay: a draw at every station of the way."""
    data = base_dict()
    data.update(horizon_days=days, warmup_days=0)
    ct = data["study_types"]["chest_ct"]
    ct["arrivals"] = {"rate_per_hour": 2.0}
    ct["bookings"] = [{"site": "main", "every_minutes": 60, "no_show": 0.5,
                       "slots": [{"start": "08:00", "end": "12:00", "days": ["mon", "wed", "fri"]}]}]
    data["sites"] = {"main": {"devices": {"CT": {
        "count": 2, "exam_minutes": {"dist": "exponential", "mean": 10},
        "failures": {"busy_hours_between": 50, "repair_minutes": {"dist": "lognormal", "mean": 30, "cv": 0.5}}}}}}
    data["network"] = {"sizes_mb": {"CT": {"dist": "lognormal", "mean": 200, "cv": 0.5}},
                       "delivery": {"delay_minutes": {"dist": "exponential", "mean": 5}}}
    data["ai_services"]["ct_ai"].update(workers=1, inference_minutes={"dist": "exponential", "mean": 2})
    data["ingest"] = {"delay_minutes": {"dist": "exponential", "mean": 2}}
    return data


def columns(record: object, prefix: str = ""):
    """Every array of a record of records, by its dotted name."""
    for field in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, field.name)
        if dataclasses.is_dataclass(value):
            yield from columns(value, f"{prefix}{field.name}.")
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            for k, part in enumerate(value):
                yield from columns(part, f"{prefix}{field.name}[{k}].")
        elif isinstance(value, np.ndarray):
            yield prefix + field.name, value


def test_a_run_longer_than_a_year_begins_with_the_run_of_a_year() -> None:
    one, longer = (draw_cohort(make(year_scenario(days)), 7, 0, detail=True) for days in (365, 430))
    n = len(one)
    assert len(longer) > n
    for (name, a), (_, b) in zip(columns(one.draws), columns(longer.draws)):
        assert np.array_equal(a, b[:n], equal_nan=True), name
    # At the stations too, for the studies done long before the year's end (a queue carries into the next).
    done = one.upstream.ready_at < 300 * DAY
    for name in ("site", "acquired_at", "exam_start", "at_archive", "size_mb", "inference_start", "scored_at",
                 "ready_at", "ai_score"):
        a, b = getattr(one.upstream, name), getattr(longer.upstream, name)
        assert np.array_equal(a[done], b[:n][done], equal_nan=True), name


def test_a_year_is_drawn_on_its_own_as_the_whole_run_draws_it() -> None:
    scenario = make(year_scenario(800))
    whole = draw(scenario, 7, 0)
    years = [draw_year(scenario, 7, 0, year) for year in range(draw_years(scenario))]
    assert draw_years(scenario) == 3 and [len(y) for y in years] == np.bincount(years_of(
        whole.arrivals.arrived_at)).tolist()
    at = 0
    for year in years:
        for (name, a), (_, b) in zip(columns(year), columns(whole)):
            assert np.array_equal(a, b[at:at + len(year)], equal_nan=True), name
        at += len(year)


def test_a_type_with_two_ais_and_conditions_is_drawn_a_year_at_a_time_as_a_whole() -> None:
    from .test_conditions import two_ais

    scenario = make(two_ais(), horizon_days=800, warmup_days=0)
    whole = draw(scenario, 7, 0)
    assert len(whole.more_ais) == 1 and (whole.truth.condition >= 0).any()
    at = 0
    for year in range(draw_years(scenario)):
        alone = draw_year(scenario, 7, 0, year)
        for (name, a), (_, b) in zip(columns(alone), columns(whole)):
            assert np.array_equal(a, b[at:at + len(alone)], equal_nan=True), name
        at += len(alone)
    assert at == len(whole)


def test_each_year_draws_from_streams_of_its_own() -> None:
    """The second year's studies are not the first year's drawn again: at every draw, its first values
    differ from the first year's first values (they would be equal were the year not in the streams' key)."""
    scenario = make(year_scenario(730))
    cohort = draw_cohort(scenario, 7, 0, detail=True)
    year = years_of(cohort.draws.arrivals.arrived_at)
    first, second = np.flatnonzero(year == 0)[:200], np.flatnonzero(year == 1)[:200]
    d, u = cohort.draws, cohort.upstream
    for name, values in (("gaps", np.diff(d.arrivals.arrived_at, prepend=0.0) % DAY), ("read", d.reading.read_minutes),
                         ("truth", d.ai.posterior), ("ingest", d.ingest_delay), ("size", u.size_mb)):
        assert not np.allclose(values[first], values[second]), name
    for station in ("devices:main/CT", "ai:ct_ai"):  # job by job, in the order the jobs come
        busy = u.station_detail[station]["busy"]
        jobs = years_of(u.station_detail[station]["arrived"])
        assert not np.allclose(busy[jobs == 0][:200], busy[jobs == 1][:200]), station
    # ... and from the start of the year's own streams, however many studies the years before it had.
    later = int((year == 1).sum())
    assert np.array_equal(u.size_mb[year == 1], sample(scenario.network.sizes_mb["CT"],
                                                       stream(7, 0, "size", "chest_ct", 1), later))
    inference = u.station_detail["ai:ct_ai"]["busy"]  # every study is scored: a job each, in study order
    assert inference.shape[0] == len(cohort)
    assert np.array_equal(inference[year == 1], sample(scenario.ai_services["ct_ai"].inference_minutes,
                                                       stream(7, 0, "inference", "ct_ai", 1), later))
    reported = u.ready_at + 60.0
    delay = record_times(scenario, reported, 7, 0, year) - reported
    assert not np.allclose(delay[first], delay[second])
    assert np.array_equal(delay[year == 0], record_times(scenario, reported[year == 0], 7, 0) - reported[year == 0])


def test_no_arrival_is_lost_or_drawn_twice_at_the_turn_of_a_year() -> None:
    data = year_scenario(730)
    ct = data["study_types"]["chest_ct"]
    ct["bookings"] = [{"site": "main", "every_minutes": 30, "no_show": 0.0,
                       "slots": [{"start": "00:00", "end": "24:00"}]}]
    ct["arrivals"] = {"rate_per_hour": 3.0}
    arrived = draw(make(data), 7, 0).arrivals.arrived_at
    assert (np.diff(arrived) >= 0).all() and arrived[-1] < 730 * DAY
    on_slot = arrived % 30.0 == 0.0
    assert np.array_equal(arrived[on_slot], np.arange(0.0, 730 * DAY, 30.0))  # every slot once, the year's turn too
    walk_ins = np.bincount(years_of(arrived[~on_slot]))
    expected = 3.0 * 24 * 365
    assert (np.abs(walk_ins - expected) < 4 * np.sqrt(expected)).all()  # each year at the rate (Poisson, 4 sd)


def test_a_trace_across_the_turn_of_a_year_is_replayed_row_for_row(tmp_path: Path) -> None:
    data = base_dict()
    data.update(horizon_days=500, warmup_days=0)
    start = dt.datetime.fromisoformat(data["start"])
    minutes = np.arange(0.0, 500 * DAY, 360.0)  # a row at the turn of the year itself
    pq.write_table(pa.table({"arrived": pa.array([start + dt.timedelta(minutes=m) for m in minutes.tolist()],
                                                 pa.timestamp("us")),
                             "modality": ["CT"] * minutes.shape[0]}), tmp_path / "trace.parquet")
    data["arrivals"] = {"trace": str(tmp_path / "trace.parquet")}
    arrived = draw(make(data), 7, 0).arrivals.arrived_at
    assert np.array_equal(arrived, minutes)
    assert (minutes == YEAR).any()


@pytest.mark.parametrize("days", [1, 365])
def test_a_run_of_a_year_or_less_is_drawn_in_one_year(days: float) -> None:
    scenario = make(year_scenario(days))
    assert draw_years(scenario) == 1 and years_of(draw(scenario, 7, 0).arrivals.arrived_at) is None


def test_without_stations_each_year_is_brought_to_the_worklist_on_its_own_as_the_whole_run() -> None:
    # Drawn delays: each year drawn, brought to the worklist and narrowed alone, then joined (the AIs'
    # answers and the archive's delays never held for the horizon): every column as the whole run's draws
    # brought to the worklist at once, two AIs on a type and outages across a year's end included.
    from simulator.network.upstream import to_worklist

    from .test_conditions import two_ais

    data = two_ais()
    data["ingest"] = {"delay_minutes": {"dist": "exponential", "mean": 30},
                      "outages": [{"start": "2027-02-01T20:00", "hours": 10}]}  # (the first year ends 2027-02-02)
    scenario = make(data, horizon_days=800, warmup_days=0)
    assert not scenario.has_stations() and draw_years(scenario) == 3
    whole = draw(scenario, 7, 0)
    expected = (whole.for_reading(), to_worklist(scenario, whole, 7, 0))
    cohort = draw_cohort(scenario, 7, 0)
    assert (cohort.upstream.ai_flags is not None and cohort.draws.ai is None
            and cohort.upstream.site is cohort.draws.arrivals.site)  # (the draws' own, not a copy)
    for got, want in zip((cohort.draws, cohort.upstream), expected):
        for (name, a), (other, b) in zip(columns(got), columns(want)):
            assert name == other and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), name
