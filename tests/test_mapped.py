"""A large replication's arrays mapped from temporary files (`simulator/mapped.py`): the same values as the
process's own, whatever path a replication takes, and the pages let go of given back."""
from __future__ import annotations

import os
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from simulator import load_scenario, mapped, metrics, overload, summaries
from simulator.experiment import run_replication
from simulator.network import blocks, draw_cohort, simulate_cohort

from .test_blocks import _Later
from .test_ranked_once import assert_same


def test_a_mapped_array_holds_what_it_is_given_and_keeps_it_when_let_go(monkeypatch) -> None:
    monkeypatch.setattr(mapped, "MAPPED_FROM", 10)
    filled = mapped.array(3_000_000, np.float64, np.nan)
    codes = mapped.array(3_000_000, np.int16, -1)
    zeros = mapped.array(12, np.int32)
    values = np.arange(3_000_000, dtype=np.int64)
    copy = mapped.mapped(values)
    assert not isinstance(filled.base, np.ndarray) and copy is not values  # mapped, not the process's own
    small = values[:9]
    assert mapped.mapped(small) is small  # below: as it is
    codes[::7] = 5
    mapped.let_go()
    assert np.isnan(filled).all() and (zeros == 0).all() and np.array_equal(copy, values)
    assert (codes[::7] == 5).all() and (np.delete(codes, np.s_[::7]) == -1).all()
    assert mapped.array(9, np.float64, 1.5).tolist() == [1.5] * 9  # below: the process's own


@pytest.mark.parametrize("to_files", [True, False])
def test_a_spool_gives_its_pieces_as_one_column(to_files: bool) -> None:
    spool = mapped.Spool(to_files)
    pieces = [np.arange(5, dtype=np.int16), np.zeros(0, dtype=np.int16), np.arange(3, dtype=np.int16) * 7]
    for piece in pieces:
        spool.append("a", piece)
    spool.append("b", np.array([True, False]))
    with pytest.raises(TypeError, match="a: float64 after int16"):
        spool.append("a", np.ones(2))
    column = spool.column("a")
    assert np.array_equal(column, np.concatenate(pieces)) and column.dtype == np.int16
    assert spool.column("b").tolist() == [True, False]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="resident pages read from /proc")
def test_pages_let_go_of_leave_the_process(monkeypatch) -> None:
    monkeypatch.setattr(mapped, "MAPPED_FROM", 10)

    def resident() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    start = resident()
    values = mapped.array(1 << 24, np.float64, 2.0)  # 128 MB, every page written, and let go of
    assert resident() - start < 20 << 20
    values[::512] += 1.0  # every page touched again
    before = resident()
    mapped.let_go()
    assert before - start > 100 << 20 and before - resident() > 100 << 20
    assert float(values[::512].sum()) == 3.0 * (1 << 15)  # (read back)


SCENARIOS = [
    ("moscow_reference_center", ["horizon_days=380"]),  # two draws' years: the cohort spooled; double reads
    ("moscow_city_network", ["horizon_days=2"]),  # stations, late AI results
    ("moscow_reference_center", ["horizon_days=6", "routing.mode=push"]),  # push: the readers' own lanes
    ("validation/mmc_3_readers_3_classes_preemptive", ["horizon_days=3"]),
    ("examples/district_network", ["horizon_days=3"]),  # audits, routers
]


@pytest.mark.parametrize("weeks", [False, True])
@pytest.mark.parametrize("name, overrides", SCENARIOS)
def test_a_replication_mapped_gives_the_tables_of_one_held(monkeypatch, name: str, overrides: list[str],
                                                          weeks: bool) -> None:
    # Everything mapped that would be in a large replication (and by weeks, letting go as each block begins).
    scenario = load_scenario(name, overrides=[*overrides, "warmup_days=0"])
    held = run_replication(scenario, 0)
    monkeypatch.setattr(mapped, "MAPPED_FROM", 1)
    if weeks:
        monkeypatch.setattr(blocks, "BY_WEEKS_FROM", 1)
    again = run_replication(scenario, 0)
    assert again.studies.equals(held.studies) and again.duties.equals(held.duties)


def test_the_layered_station_mapped_gives_the_outcome_of_one_held(monkeypatch) -> None:
    # A rank that is not a number: the layered station, its arrays by item numpy's, read a value at a time.
    scenario = load_scenario("moscow_reference_center", overrides=["horizon_days=3", "warmup_days=0"])
    cohort = draw_cohort(scenario, scenario.seed, 0)
    held = simulate_cohort(scenario, cohort, _Later("odd"), scenario.seed, 0)
    monkeypatch.setattr(mapped, "MAPPED_FROM", 1)
    assert_same(simulate_cohort(scenario, cohort, _Later("odd"), scenario.seed, 0), held)


def test_a_large_replications_summary_and_overloads_a_part_at_a_time_are_the_whole_tables(monkeypatch,
                                                                                            tmp_path) -> None:
    # Its per-row facts worked out a part at a time into mapped arrays, from the table or from the file its
    # summary's columns were kept in (a row group at a time): the same facts, the same summary.
    # (Its CT and MR readers short: overloads to be seen.)
    scenario = load_scenario("moscow_reference_center", overrides=["horizon_days=20", "warmup_days=2", *(
        f"pools.ct_mr.shifts.{k}.staff={staff}" for k, staff in enumerate((4, 2, 1)))])
    held = run_replication(scenario, 0)
    whole = metrics.columns_for(held.studies, scenario)
    expected = summaries.summarise_replication(whole, 0, held.studies, held.duties, scenario)
    monkeypatch.setattr(mapped, "MAPPED_FROM", 1000)
    monkeypatch.setattr(mapped, "PART", 4096)
    pq.write_table(summaries.read_only(held.studies), tmp_path / "kept.parquet", row_group_size=3000)
    kept = summaries._ReadBack(pq.ParquetFile(tmp_path / "kept.parquet"))
    assert pq.ParquetFile(tmp_path / "kept.parquet").num_row_groups > 3 and held.studies.num_rows > 3 * 4096
    for source in (held.studies, kept):
        parted = metrics.columns_for(source, scenario)
        for name, values in vars(whole).items():
            if isinstance(values, np.ndarray):
                assert np.array_equal(getattr(parted, name), values, equal_nan=values.dtype.kind == "f"), name
        for split in ("kind", "referral", "priority", "diseased", "ai_positive", "study_type"):
            (codes, lookup), (expected_codes, expected_lookup) = parted.encoded(split), whole.encoded(split)
            assert lookup == expected_lookup and codes.dtype == expected_codes.dtype, split
            assert np.array_equal(codes, expected_codes), split
        seen = overload.seen_in(source, held.duties, scenario, 0)
        assert seen == expected.overloads and len(seen) == 3
        assert summaries.summarise_replication(parted, 0, held.studies, held.duties, scenario, seen) == expected


def test_a_parts_own_dictionary_is_coded_as_the_whole_columns() -> None:
    # A later row group's dictionary has values of its own, and in its own order: coded as the whole
    # column's unified dictionary codes them.
    import pyarrow as pa

    first = pa.chunked_array([pa.array(["a", "c", None]).dictionary_encode()])
    later = pa.chunked_array([pa.array(["b", "a", "b"]).dictionary_encode()])
    codes, lookup, _ = metrics._encoded(first, None)
    more, lookup, _ = metrics._encoded(later, lookup)
    whole, expected, _ = metrics._encoded(pa.chunked_array([*first.chunks, *later.chunks]), None)
    assert lookup == expected == {"a": 0, "c": 1, "b": 2}
    assert np.concatenate([codes, more]).tolist() == whole.tolist() == [0, 1, -1, 2, 0, 2]


def test_a_temporary_directory_without_room_is_an_error_naming_it(monkeypatch) -> None:
    # A mapped file's room is taken as it is made: none left is an error that names the directory (exit 4
    # in the CLI, docs/contract.md), never a page written later with no room behind it (SIGBUS).
    import errno
    import tempfile

    from simulator.errors import OutputError

    monkeypatch.setattr(mapped, "MAPPED_FROM", 10)

    def full(fd: int, offset: int, size: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    with pytest.raises(OutputError, match="No space left on device: a replication of 10 studies or more") as refused:
        mapped.array(1000, np.float64, 0.0)
    assert refused.value.path == tempfile.gettempdir()
    monkeypatch.setattr(os, "posix_fallocate", lambda *a: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error")))
    with pytest.raises(OSError, match="I/O error"):  # (anything else: as it is)
        mapped.array(1000, np.float64, 0.0)


def test_a_full_temporary_directory_under_the_summarys_columns_is_named(monkeypatch) -> None:
    # The columns a large replication's summary keeps go to a file there too: no room is the directory's
    # error (pyarrow says why in its text only), not the output folder's.
    import tempfile

    from simulator import experiment
    from simulator.errors import OutputError

    def full(self, table, *args, **kwargs):
        raise OSError("Failed to write: No space left on device")

    monkeypatch.setattr(summaries, "SPILL", 0)
    monkeypatch.setattr(summaries.pq.ParquetWriter, "write_table", full)
    scenario = load_scenario("moscow_reference_center", overrides=["horizon_days=2", "warmup_days=0"])
    with pytest.raises(OutputError, match="No space left on device") as refused:
        experiment.run_replication(scenario, 0, summarise=True, sink=experiment.discard)
    assert refused.value.path == tempfile.gettempdir()
