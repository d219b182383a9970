"""What a large replication lets go of: the draws only the upstream stations take, once they have taken them,
and the heap's freed pages, given back after the reading station and before the summary."""
from __future__ import annotations

import sys

import pyarrow.parquet as pq
import pytest

from simulator import experiment, memory, network, summaries
from simulator.network import draw_cohort

from .conftest import make


def test_the_cohort_lets_go_of_the_draws_only_the_stations_take(scenario) -> None:
    lean = draw_cohort(scenario, 3, 0)
    assert lean.draws.ai is None and lean.draws.ingest_delay is None and lean.draws.more_ais == ()
    kept = draw_cohort(scenario, 3, 0, detail=True)  # a study's whole story, station by station
    assert kept.draws.ai is not None and kept.draws.ingest_delay is not None
    assert (lean.upstream.ready_at == kept.upstream.ready_at).all()


def test_only_a_large_replication_gives_back_what_it_freed() -> None:
    assert memory.give_back(memory.LARGE - 1) is False
    if sys.platform.startswith("linux") and memory._TRIM is None:
        pytest.skip("not glibc: nothing to give back")
    assert memory.give_back(memory.LARGE) is (memory._TRIM is not None)


def test_a_replication_gives_back_after_the_station_before_delivery_and_before_the_summary(monkeypatch) -> None:
    calls: list[tuple[str, int]] = []
    summarise = experiment.summarise_table
    monkeypatch.setattr(experiment, "give_back", lambda studies: calls.append(("give back", studies)))
    monkeypatch.setattr(network, "give_back", lambda studies: calls.append(("give back", studies)))
    monkeypatch.setattr(experiment, "summarise_table", lambda *a: calls.append(("summary", 0)) or summarise(*a))
    simulate = experiment.simulate_cohort
    monkeypatch.setattr(experiment, "simulate_cohort", lambda *a: calls.append(("station", 0)) or simulate(*a))
    delivery = network.record_times
    monkeypatch.setattr(network, "record_times", lambda *a: calls.append(("delivery", 0)) or delivery(*a))
    result = experiment.run_replication(make(horizon_days=2), 0, summarise=True)
    # The station's arrays given back before delivery makes its own (five city years' peak was there).
    assert [what for what, _ in calls] == ["station", "give back", "delivery", "give back", "summary"]
    assert 0 < calls[1][1] == calls[3][1] <= result.rows  # the studies drawn (the rows add second opinions)


def test_a_large_replication_sent_to_a_sink_keeps_its_summarys_columns_in_a_file(monkeypatch, tmp_path) -> None:
    # Its rows go to the sink as they are made; the columns its summary reads go to a file of their own, as
    # they go, and are read back one at a time: the summary is the one of the same rows held in memory. A
    # replication below `SPILL` studies keeps them in memory.
    scenario = make(horizon_days=3)
    kept: list[int] = []
    monkeypatch.setattr(experiment.KeptColumns, "__call__",
                        lambda self, block, call=experiment.KeptColumns.__call__: kept.append(block.num_rows)
                        or call(self, block))
    spilled: list[int] = []
    monkeypatch.setattr(summaries, "_ReadBack", lambda file, real=summaries._ReadBack: spilled.append(1) or real(file))
    held = experiment.run_replication(scenario, 0, summarise=True)  # (its own table: nothing kept)
    small = experiment.run_replication(scenario, 0, summarise=True, sink=experiment.discard)
    assert small.summary == held.summary and sum(kept) == held.rows > 0 and spilled == []
    monkeypatch.setattr(summaries, "SPILL", 0)  # (a large replication's: here, any)
    with experiment._PartWriter(tmp_path / "part.parquet") as part:
        written = experiment.run_replication(scenario, 0, summarise=True, sink=part)
    dropped = experiment.run_replication(scenario, 0, summarise=True, sink=experiment.discard)
    assert written.summary == dropped.summary == held.summary and spilled == [1, 1]
    assert pq.read_table(tmp_path / "part.parquet").equals(held.studies)
