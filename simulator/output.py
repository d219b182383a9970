"""A run's output folder: studies.parquet, readers.parquet, summary.json and scenario.yaml, written whole
(through `files.py`: only over radsim's own earlier run, atomically, durably)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from . import __version__
from .experiment import Run
from .files import claim_directory, write_directory
from .loading import dump_scenario, scenario_hash

if TYPE_CHECKING:
    from .story import Story

__all__ = ["write_run", "claim_run", "summary_document", "RUN"]

RUN = "run"  # the kind of output folder, in its marker


def summary_document(run: Run, story: "Story | None" = None) -> dict:
    document = {
        "scenario": run.scenario.name,
        "scenario_hash": scenario_hash(run.scenario),
        "seed": run.seed,
        "replications": run.replications,
        "software": {"name": "radsim", "version": __version__},
        "wall_seconds": round(run.wall_seconds, 3),
        "policy": run.scenario.policy.triage,
        "preemptive": run.scenario.policy.preemptive,
        "overloaded": [o.as_dict() for o in run.overloaded],
        "metrics": run.summary,
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
        "group": c.group.title, "where": c.group.where, "count": c.count, "p50_tat_minutes": c.median,
        "p95_tat_minutes": c.p95, "sla_met_fraction": None if c.within is None else c.within["mean"],
        "target_minutes": c.target,
        "against_fifo": {metric: {"fifo": d.a, "this": d.b, "change": d.diff, "ci_low": d.ci_low,
                                  "ci_high": d.ci_high, "verdict": d.verdict}
                         for metric, d in c.against_fifo.items()}} for c in story.chapters]}


def claim_run(out: Path) -> Path:
    """Check before simulating that `out` may take a run (exit 2 naming the path if not)."""
    return claim_directory(out, RUN)


def write_run(run: Run, out: Path, story: "Story | None" = None) -> Path:
    """studies.parquet, readers.parquet, summary.json and scenario.yaml, all or nothing."""

    def fill(folder: Path) -> None:
        pq.write_table(run.studies, folder / "studies.parquet", compression="zstd")
        pq.write_table(run.duties, folder / "readers.parquet", compression="zstd")
        if run.stations is not None:
            pq.write_table(run.stations, folder / "stations.parquet", compression="zstd")
        (folder / "summary.json").write_text(json.dumps(summary_document(run, story), indent=1, allow_nan=False) + "\n")
        (folder / "scenario.yaml").write_text(dump_scenario(run.scenario))

    return write_directory(out, RUN, fill)
