"""Never lose a file: radsim replaces only its own outputs, atomically, durably, with the user's permissions,
and tidies what a killed run left behind."""
from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.errors import ScenarioError
from simulator.files import MARKER, claim_directory, write_directory, write_file

runner = CliRunner()
RUN = ["run", "examples/mmc_ai_triage", "--set", "horizon_days=6", "--no-against-fifo"]


def run_into(out: Path, *extra: str):
    return runner.invoke(app, [*RUN, "--out", str(out), *extra])


def test_a_folder_of_the_users_files_is_refused_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (folder / "thesis.docx").write_bytes(b"\x00mine")
    result = run_into(folder)
    assert result.exit_code == 2 and "holds files radsim did not write" in " ".join(result.output.split())
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "thesis.docx"]


def test_a_file_the_current_folder_and_an_unusable_parent_are_refused(tmp_path: Path, monkeypatch) -> None:
    file = tmp_path / "report.pdf"
    file.write_bytes(b"%PDF")
    assert run_into(file).exit_code == 2 and file.read_bytes() == b"%PDF"
    monkeypatch.chdir(tmp_path)
    for place in (".", "..", str(tmp_path)):
        result = run_into(Path(place))
        assert result.exit_code == 2 and "current folder" in " ".join(result.output.split()), place
    assert not list(tmp_path.glob(".*old*")) and not list(tmp_path.parent.glob(f".{tmp_path.name}.*"))
    result = run_into(Path("/proc/1/radsim-run"))
    assert result.exit_code == 2


def test_an_earlier_run_is_replaced_and_said_so(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run_into(out).exit_code == 0
    first = json.loads((out / MARKER).read_text())
    assert first["kind"] == "run" and "studies.parquet" in first["files"]
    again = run_into(out, "--seed", "9")
    assert again.exit_code == 0 and "replaced the earlier run" in " ".join(again.output.split())
    assert json.loads((out / "summary.json").read_text())["seed"] == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing left beside it
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0  # the report joins the run's own files
    assert "report.html" in json.loads((out / MARKER).read_text())["files"]
    assert run_into(out).exit_code == 0


def test_another_kind_of_radsim_output_is_not_replaced_by_a_run(tmp_path: Path) -> None:
    out = tmp_path / "roster"
    write_directory(out, "staffing", lambda folder: (folder / "roster.yaml").write_text("x"))
    result = run_into(out)
    assert result.exit_code == 2 and "staffing output" in " ".join(result.output.split())


def test_outputs_take_the_users_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_directory(tmp_path / "d", "run", lambda folder: (folder / "f.txt").write_text("x"))
        write_file(tmp_path / "lone.txt", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "d" / MARKER).stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "lone.txt").stat().st_mode) == 0o640


def test_a_file_radsim_did_not_write_is_not_replaced(tmp_path: Path) -> None:
    mine = tmp_path / "baseline.json"
    mine.write_text('{"my": "data"}')
    result = runner.invoke(app, ["baseline", "save", "examples/mmc_ai_triage", "--set", "horizon_days=4", "-r", "2",
                                 "--to", str(mine)])
    assert result.exit_code == 2 and mine.read_text() == '{"my": "data"}'
    page = tmp_path / "page.html"
    page.write_text("<html>mine</html>")
    run_into(tmp_path / "r")
    assert runner.invoke(app, ["report", str(tmp_path / "r"), "--out", str(page)]).exit_code == 2
    assert page.read_text() == "<html>mine</html>"


def test_staging_of_a_dead_process_is_tidied_and_a_swap_cut_short_is_put_back(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    target = tmp_path / "run"
    staging = tmp_path / f".run.tmp-{dead}-abcd"
    staging.mkdir()
    (staging / "studies.parquet").write_text("half")
    old = tmp_path / f".run.old-{dead}-abcd"  # a crash between the two renames of the fallback swap
    old.mkdir()
    (old / "summary.json").write_text("the previous run")
    (old / MARKER).write_text(json.dumps({"written_by": "radsim", "kind": "run", "files": ["summary.json"]}))
    claim_directory(target, "run")
    assert not staging.exists() and not old.exists()
    assert (target / "summary.json").read_text() == "the previous run"
    alive = tmp_path / f".run.tmp-{os.getpid()}-ef01"  # a staging folder of a process that runs: left alone
    alive.mkdir()
    claim_directory(target, "run")
    assert alive.exists()


def test_a_run_killed_while_writing_leaves_the_previous_run_whole(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run_into(out).exit_code == 0
    before = (out / "studies.parquet").read_bytes()
    command = [sys.executable, "-m", "simulator", "run", "moscow_reference_center", "-r", "3", "--out", str(out),
               "--no-against-fifo", "--workers", "1"]
    for delay in (0.5, 1.5, 3.0):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert (out / "studies.parquet").is_file() and (out / "summary.json").is_file()
        current = (out / "studies.parquet").read_bytes()
        assert current == before or len(current) > len(before)  # the old run, or the new one: never half
    claim_directory(out, "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_claim_refuses_a_link_where_a_folder_should_go(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(ScenarioError, match="link"):
        claim_directory(tmp_path / "link", "run")


@pytest.mark.parametrize("name, workers", [("stroke_two_ais", 2), ("district_network_devices", 2),
                                           ("moscow_reference_center", 2), ("moscow_reference_center", 1)])
def test_summaries_made_in_the_workers_are_those_of_the_whole_tables(name: str, workers: int) -> None:
    """`radsim run` summarises each replication in its worker (in process: from the columns it reads, once
    the rows were written), streams the studies to a sink and does not even send FIFO's: the summary rows,
    overloads and story are those computed from the whole tables, and each subgroup's values those
    `replication_values` gives over the whole table."""
    from simulator import load_scenario
    from simulator.experiment import discard, run_variants, summarise_run
    from simulator.metrics import STUDY_METRICS, columns_for, replication_values, subgroups
    from simulator.story import tell

    scenario = load_scenario(name, ["horizon_days=4", "warmup_days=1"])
    fifo = scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"triage": "fifo"})})
    whole, whole_fifo = run_variants([scenario, fifo], 3, workers=1, summarise=False)
    summarise_run(whole)
    given: list[pa.Table] = []
    streamed, lean = run_variants([scenario, fifo], 3, workers=workers, sinks=[given.append, discard])
    assert streamed.studies is None and lean.studies is None
    assert pa.concat_tables(given).equals(whole.studies) and streamed.rows == whole.studies.num_rows
    assert [t.column("replication")[0].as_py() for t in given] == [0, 1, 2]  # in order, whoever finished first
    assert json.dumps(streamed.summary.to_json()) == json.dumps(whole.summary.to_json())
    assert streamed.overloaded == whole.overloaded
    assert tell(streamed, lean).lines() == tell(whole, whole_fifo).lines()
    cols = columns_for(whole.studies, scenario)
    expected = replication_values(cols, subgroups(cols), STUDY_METRICS, range(3))
    rows = {(r["metric"], tuple(sorted(r["where"].items()))): r["mean"] for r in streamed.summary}
    for key, values in expected.items():
        if np.isnan(values).all():
            assert rows[key] is None, key
        else:
            assert rows[key] == pytest.approx(float(np.nanmean(values)), rel=1e-12), key


@pytest.mark.parametrize("sizes", [[5, 7, 0, 11], [0], [8], [3, 5], [16, 1]])
def test_studies_written_by_replications_are_the_file_written_whole(tmp_path: Path, monkeypatch, sizes) -> None:
    """StudiesWriter (studies.parquet as replications finish) writes byte for byte what pq.write_table
    writes from the whole table: row groups of the same size across replication boundaries, each
    replication's own dictionaries, an empty run's one empty row group. Row groups of 8 rows here stand for
    the 1,048,576 of a real file."""
    import pyarrow.parquet as pq

    from simulator import output

    monkeypatch.setattr(output, "ROW_GROUP", 8)
    parts = [pa.table({"replication": pa.array([r] * n, pa.int32()),
                       "study_type": pa.DictionaryArray.from_arrays(pa.array([i % 2 for i in range(n)], pa.int32()),
                                                                    ["ct", "mr"]),
                       "tat_minutes": pa.array([float(i) if i % 3 else None for i in range(n)], pa.float64()),
                       # Each replication's labels in the order it met them: dictionaries differ between them.
                       "priority": pa.DictionaryArray.from_arrays(pa.array([i % 3 for i in range(n)], pa.int16()),
                                                                  ["stat", "routine", "urgent"][r % 3:] +
                                                                  ["stat", "routine", "urgent"][:r % 3])})
             for r, n in enumerate(sizes)]
    pq.write_table(pa.concat_tables(parts), tmp_path / "whole.parquet", compression="zstd", row_group_size=8)
    with output.StudiesWriter(tmp_path / "streamed.parquet") as writer:
        for part in parts:
            writer(part)
    assert (tmp_path / "streamed.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    assert writer.rows == sum(sizes)


# A folder is radsim's only by its marker ------------------------------------------------------------------
@pytest.mark.parametrize("command, mine", [
    ("run", {"scenario.yaml": "# my edits\n", "summary.json": '{"my": "notes"}\n'}),
    ("compare", {"comparison.json": '{"my": "notes"}\n'}),
    ("staff", {"roster.yaml": "# my roster\n", "staffing.json": '{"my": "notes"}\n'}),
])
def test_a_folder_of_radsim_named_files_without_the_marker_is_refused(command: str, mine: dict, tmp_path: Path) -> None:
    """The user's own files under radsim's names (the issue's study1: an edited scenario.yaml and notes in
    summary.json) in a folder without radsim's marker: refused, naming them, kept byte for byte; --replace,
    typed by the user, replaces the folder."""
    folder = tmp_path / "study1"
    folder.mkdir()
    for name, text in mine.items():
        (folder / name).write_text(text)
    short = ["--set", "horizon_days=2", "--set", "warmup_days=0"]
    args = {"run": ["run", "examples/mmc_ai_triage", "-r", "1", *short, "--no-against-fifo"],
            "compare": ["compare", "examples/mmc_ai_triage", "--policy", "fifo", "--policy", "ai_priority", "-r", "2",
                        *short],
            "staff": ["staff", "examples/mmc_ai_triage", "--target", "p95_tat_minutes <= 600", "-r", "2", *short]}
    result = runner.invoke(app, [*args[command], "--out", str(folder)])
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "no .radsim.json marker" in text and "--replace" in text, text
    assert {p.name: p.read_text() for p in folder.iterdir()} == mine
    replaced = runner.invoke(app, [*args[command], "--out", str(folder), "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert (folder / MARKER).is_file() and all("my" not in (folder / name).read_text() for name in mine)


def test_one_kinds_file_names_do_not_make_a_folder_anothers(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "comparison.json").write_text("{}")
    result = run_into(folder, "--replace")
    assert result.exit_code == 2 and "did not write (comparison.json)" in " ".join(result.output.split())


def test_replace_never_takes_a_file_of_another_name(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "summary.json").write_text("notes")
    (folder / "thesis.docx").write_text("mine")
    result = run_into(folder, "--replace")
    assert result.exit_code == 2 and "thesis.docx" in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["summary.json", "thesis.docx"]


def test_a_sweep_folder_is_the_sweeps_only_by_its_marker(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "sweep.json").write_text('{"mine": true}')
    args = ["sweep", "examples/mmc_ai_triage", "--grid", "policy.triage=fifo", "-r", "1", "--set", "horizon_days=2",
            "--set", "warmup_days=0", "--out", str(folder), "-w", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "no .radsim.json marker" in " ".join(result.output.split())
    assert (folder / "sweep.json").read_text() == '{"mine": true}'


def test_a_report_never_replaces_a_report_html_radsim_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run_into(out).exit_code == 0
    (out / MARKER).unlink()  # a run copied without its marker, and the user's own page beside it
    (out / "report.html").write_text("<html>my page</html>")
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 2 and (out / "report.html").read_text() == "<html>my page</html>"


# What ran, reproduced ---------------------------------------------------------------------------------------
def test_the_scenario_written_holds_the_seed_that_ran_and_reproduces_the_run(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert run_into(first, "-r", "2", "--seed", "41").exit_code == 0
    written = (first / "scenario.yaml").read_text()
    assert "seed: 41" in written.splitlines()
    again = runner.invoke(app, ["run", str(first / "scenario.yaml"), "-r", "2", "--no-against-fifo", "--out",
                                str(second)])
    assert again.exit_code == 0, again.output
    assert (first / "studies.parquet").read_bytes() == (second / "studies.parquet").read_bytes()
    assert (second / "scenario.yaml").read_text() == written


# The machine cannot: exit 4, named, nothing half-written -----------------------------------------------------
def _file_size_limit(limit: int):
    def limited() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limited


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_full_disk_is_its_own_clear_exit_with_nothing_half_written(command: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = {"run": ["run", "examples/mmc_ai_triage", "--set", "horizon_days=30", "--no-against-fifo"],
            "sweep": ["sweep", "examples/mmc_ai_triage", "--set", "horizon_days=30", "--grid",
                      "pools.readers.shifts.0.staff=2:3", "-r", "2", "-w", "1"]}[command]
    limit = 48 * 1024 if command == "run" else 4000  # a sweep's run files fit; its tables of all runs do not
    process = subprocess.run([sys.executable, "-m", "simulator", *args, "--out", str(out)], capture_output=True,
                             text=True, timeout=300, preexec_fn=_file_size_limit(limit), cwd=tmp_path)
    text = " ".join(process.stderr.split())
    assert process.returncode == 4, process.stderr
    assert f"cannot write {out}" in text and "File too large" in text and "internal error" not in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no staging left behind
    if command == "run":
        assert not out.exists() and "earlier outputs there are unchanged" in text
    else:
        assert "finished run(s) are kept" in text and "resumes" in text
        assert list((out / "runs").glob("*/r*.parquet"))


def test_rows_written_by_workers_make_the_same_file_as_one_process(tmp_path: Path) -> None:
    """With workers elsewhere, each writes its replications' rows to a part file in the staging folder and
    the parent copies them in by row groups (no process holds a run's rows, none are sent through a pipe);
    in one process the rows go straight to the file. The same bytes either way, and no part left over."""
    files = {}
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        result = runner.invoke(app, ["run", "examples/stroke_two_ais", "-r", "3", "--set", "horizon_days=8", "-w",
                                     workers, "--out", str(out)])
        assert result.exit_code == 0, result.output
        files[workers] = (out / "studies.parquet").read_bytes()
        assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [MARKER]
    assert files["1"] == files["2"]


@pytest.mark.parametrize("name", ["moscow_reference_center", "examples/district_network"])
def test_a_replication_streamed_by_row_groups_is_the_table_made_whole(tmp_path: Path, monkeypatch, name: str) -> None:
    """A worker writes a replication's rows a row group at a time as they are made (`studies_blocks`):
    blocks that cut across the studies, second opinions, second reads and audits give the table made whole,
    its part file is byte for byte `pq.write_table`'s, and a run of one replication takes that part as its
    studies.parquet (renamed) with the bytes the copying path writes. Row groups of 500 rows stand for
    the 1,048,576 of a real file."""
    import pyarrow.parquet as pq

    from simulator import experiment, load_scenario, output, records
    from simulator.network import draw_cohort, simulate_cohort
    from simulator.triage_config import policy_of

    scenario = load_scenario(name, ["horizon_days=4", "warmup_days=0"])
    cohort = draw_cohort(scenario, 1, 0)
    outcome = simulate_cohort(scenario, cohort, policy_of(scenario), 1, 0)
    whole = records.studies_table(scenario, cohort, outcome, 1, 0)
    kinds = set(whole.column("kind").to_pylist())
    assert len(kinds) >= 3 and whole.num_rows > 3 * 500, (kinds, whole.num_rows)  # the blocks cut across kinds
    blocks = list(records.studies_blocks(scenario, cohort, outcome, 1, 0, size=500))
    assert [b.num_rows for b in blocks[:-1]] == [500] * (len(blocks) - 1) and 0 < blocks[-1].num_rows <= 500
    assert pa.concat_tables(blocks).equals(whole)
    for module in (experiment, output):
        monkeypatch.setattr(module, "ROW_GROUP", 500)
    pq.write_table(whole, tmp_path / "whole.parquet", compression="zstd", row_group_size=500)
    with experiment._PartWriter(tmp_path / "part.parquet") as part:
        for block in blocks:
            part(block)
    assert (tmp_path / "part.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    for whole_run in (False, True):
        (tmp_path / "again.parquet").write_bytes((tmp_path / "part.parquet").read_bytes())
        with output.StudiesWriter(tmp_path / f"studies-{whole_run}.parquet") as writer:
            writer.take_part(tmp_path / "again.parquet", whole=whole_run)
        assert writer.rows == whole.num_rows and not (tmp_path / "again.parquet").exists()
        assert (tmp_path / f"studies-{whole_run}.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
