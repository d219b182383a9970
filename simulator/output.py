"""Writing a run's directory atomically: it appears whole, or the previous one stays as it was."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from . import __version__
from .experiment import Run
from .loading import dump_scenario, scenario_hash

__all__ = ["write_run", "atomic_directory", "atomic_file", "atomic_bytes", "summary_document"]


def atomic_directory(target: Path, fill: Callable[[Path], None]) -> None:
    """Build the directory in a sibling temporary folder with `fill`, then swap it into place."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        fill(staging)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / target.name)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def summary_document(run: Run) -> dict:
    return {
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


def write_run(run: Run, out: Path) -> None:
    """studies.parquet, readers.parquet, summary.json and scenario.yaml, all or nothing."""

    def fill(folder: Path) -> None:
        pq.write_table(run.studies, folder / "studies.parquet", compression="zstd")
        pq.write_table(run.duties, folder / "readers.parquet", compression="zstd")
        (folder / "summary.json").write_text(json.dumps(summary_document(run), indent=1, allow_nan=False) + "\n")
        (folder / "scenario.yaml").write_text(dump_scenario(run.scenario))

    atomic_directory(out, fill)


def atomic_file(target: Path, text: str) -> None:
    """Write a text file so that it appears whole or not at all."""
    atomic_bytes(target, text.encode("utf-8"))


def atomic_bytes(target: Path, payload: bytes) -> None:
    """Write a file so that it appears whole or not at all (a temporary sibling, then a rename)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's owner-only mode
        os.replace(staging, target)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
