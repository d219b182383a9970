"""A run's output folder: studies.parquet, readers.parquet, summary.json and scenario.yaml, written whole
(through `files.py`: only over radsim's own earlier run, atomically, durably)."""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__
from .experiment import Run
from .files import claim_directory, write_directory
from .loading import dump_scenario, scenario_hash
from .records import ROW_GROUP

if TYPE_CHECKING:
    from .scenario import Scenario
    from .story import Story

__all__ = ["write_run", "write_rest", "stream_run", "claim_run", "summary_document", "StudiesWriter", "RUN", "STUDIES"]

RUN = "run"  # the kind of output folder, in its marker
STUDIES = "studies.parquet"


def ran(run: Run) -> "Scenario":
    """The scenario as it ran: with the seed of the run (a caller may have given another than the file's), so
    that `radsim run` on the scenario.yaml written reproduces the run."""
    from .prepare import with_overrides

    return run.scenario if run.seed == run.scenario.seed else with_overrides(run.scenario, [f"seed={run.seed}"])


def summary_document(run: Run, story: "Story | None" = None) -> dict:
    document = {
        "scenario": run.scenario.name,
        "scenario_hash": scenario_hash(ran(run)),
        "seed": run.seed,
        "replications": run.replications,
        "software": {"name": "radsim", "version": __version__},
        "wall_seconds": round(run.wall_seconds, 3),
        "policy": run.scenario.policy.triage,
        "preemptive": run.scenario.policy.preemptive,
        "overloaded": [o.as_dict() for o in run.overloaded],
        "metrics": run.summary.to_json(),
    }
    from .network.figures import stations_summary

    network = stations_summary(run.stations, run.summary)
    if network is not None:
        document["network"] = network
    if story is not None:
        document["story"] = story_document(story)
    return document


def story_document(story: "Story") -> dict:
    """The high-risk story as data: its sentences, and per group the figures and the change against FIFO."""
    return {"lines": story.lines(), "groups": [{
        "group": c.title, "where": c.group.where, "count": c.count, "p50_tat_minutes": c.median,
        "p95_tat_minutes": c.p95, "sla_met_fraction": c.within, "target_minutes": c.target, "status": c.status,
        "why": c.why,
        "against_fifo": {metric: {"fifo": d.a, "this": d.b, "change": d.diff, "ci_low": d.ci_low,
                                  "ci_high": d.ci_high, "verdict": d.verdict}
                         for metric, d in c.against_fifo.items()}} for c in story.chapters]}


def claim_run(out: Path, replace: bool = False) -> Path:
    """Check before simulating that `out` may take a run (exit 2 naming the path if not); `replace` is the
    user's `--replace` of an unmarked folder of run files (`files.claim_directory`)."""
    return claim_directory(out, RUN, replace)


def write_run(run: Run, out: Path, story: "Story | None" = None, replace: bool = False) -> Path:
    """studies.parquet, readers.parquet, summary.json and scenario.yaml, all or nothing."""

    def fill(folder: Path) -> None:
        pq.write_table(run.studies, folder / STUDIES, compression="zstd")
        write_rest(run, folder, story)

    return write_directory(out, RUN, fill, replace)


def stream_run(out: Path, simulate: "Callable[[StudiesWriter], tuple[Run, Story | None]]", replace: bool = False) -> Path:
    """A run folder whose studies.parquet is written while `simulate` runs (it is handed the writer, to be
    the sink of the run's replications), the rest when it returns: all or nothing, as `write_run`."""

    def fill(folder: Path) -> None:
        with StudiesWriter(folder / STUDIES) as sink:
            run, story = simulate(sink)
        write_rest(run, folder, story)

    return write_directory(out, RUN, fill, replace)


def write_rest(run: Run, folder: Path, story: "Story | None" = None) -> None:
    """Everything of a run folder but studies.parquet (which `StudiesWriter` may have written already)."""
    pq.write_table(run.duties, folder / "readers.parquet", compression="zstd")
    if run.stations is not None:
        pq.write_table(run.stations, folder / "stations.parquet", compression="zstd")
    (folder / "summary.json").write_text(json.dumps(summary_document(run, story), indent=1, allow_nan=False) + "\n")
    (folder / "scenario.yaml").write_text(dump_scenario(ran(run)))


class StudiesWriter:
    """studies.parquet written a replication at a time, as replications finish (a sink of `run_variants`).

    Rows go out in whole row groups of ROW_GROUP rows, the rest held for the next replication, so that the
    file is byte for byte the one `pq.write_table` writes from all replications at once, and this process
    holds at most a row group and a replication's rows, never the run's (the rest held is a copy, so a
    replication's own table goes as soon as its caller lets it go).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # Workers elsewhere write a replication's rows here, the sink copies them in by row groups
        # (`take_part`), so that no process holds a run's rows, nor a worker's sent through a pipe.
        self.parts = path.parent / f".{path.stem}-parts"
        self.parts.mkdir(exist_ok=True)
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._held: list[pa.Table] = []
        self._held_rows = 0
        self._written = False
        self._closed = False  # a whole run's part became the file (`take_part`)

    def __call__(self, studies: pa.Table) -> None:
        if self._closed:
            raise ValueError(f"{self.path} is complete: it took a whole run's part")
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, studies.schema, compression="zstd")
        elif not studies.schema.equals(self._writer.schema, check_metadata=True):
            studies = studies.cast(self._writer.schema)
        self._held.append(studies)
        self._held_rows += studies.num_rows
        self.rows += studies.num_rows
        if self._held_rows >= ROW_GROUP:
            self._write(final=False)

    def _write(self, final: bool) -> None:
        held = pa.concat_tables(self._held)
        start = 0
        while held.num_rows - start >= ROW_GROUP or (final and held.num_rows > start):
            size = min(ROW_GROUP, held.num_rows - start)
            self._writer.write_table(held.slice(start, size), row_group_size=ROW_GROUP)  # type: ignore[union-attr]
            start += size
            self._written = True
        if final and not self._written:  # no rows at all: one empty row group, as write_table writes
            self._writer.write_table(held, row_group_size=ROW_GROUP)  # type: ignore[union-attr]
        # The rest is copied, so that the replications' tables it came from can go; piece by piece, as each
        # replication's dictionaries (its triage labels, in the order it met them) are what the file holds.
        rest = held.slice(start).to_batches()
        self._held = [pa.Table.from_batches([b.take(np.arange(b.num_rows)) for b in rest], held.schema)] if rest else []
        self._held_rows = held.num_rows - start

    def take_part(self, part: Path, whole: bool = False) -> None:
        """A replication's rows from the part file a worker wrote, a row group at a time; then the part goes.
        `whole`: the part holds every row the file will (a run of one replication): written by row groups
        of ROW_GROUP as this writer writes them, it is already the file, and becomes it without a copy."""
        if whole and self._writer is None and not self.rows:
            self.rows = pq.ParquetFile(part).metadata.num_rows
            part.replace(self.path)
            self._closed = True
            return
        for batch in pq.ParquetFile(part).iter_batches(batch_size=ROW_GROUP):
            self(pa.Table.from_batches([batch]))
        part.unlink()

    def close(self) -> None:
        shutil.rmtree(self.parts, ignore_errors=True)
        if self._writer is None:
            return
        if self._held or not self._written:
            self._write(final=True)
        self._writer.close()
        self._writer = None

    def __enter__(self) -> "StudiesWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            if exc[0] is None:
                self.close()
            else:  # the staging folder it writes into goes with the error; only the handle is closed
                self._writer.close()
        shutil.rmtree(self.parts, ignore_errors=True)
