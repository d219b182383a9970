"""Where a command's time and memory go, by phase (`radsim run --profile`): start-up, reading the scenario,
drawing the cohort, the model, building the tables, the metrics and writing.

Phases that run in worker processes (cohort, model, tables) are summed over replications: with several
workers they overlap, and their sum exceeds the wall time they took.
"""
from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Phases", "peak_megabytes", "process_age"]


def peak_megabytes(children: bool = False) -> float:
    """The peak resident memory of this process (or of its largest finished child), in MB."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return usage.ru_maxrss / (1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0)


def process_age() -> float | None:
    """Seconds since this process started (Linux), or None where it cannot be told."""
    try:
        with open("/proc/self/stat") as stream:
            started = float(stream.read().rpartition(")")[2].split()[19]) / os.sysconf("SC_CLK_TCK")
        with open("/proc/uptime") as stream:
            return float(stream.read().split()[0]) - started
    except (OSError, ValueError, IndexError):
        return None


class Phases:
    """Seconds and peak memory per phase, in the order they ran."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []  # (phase, seconds, peak MB of this process after it)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def add(self, name: str, seconds: float) -> None:
        self.rows.append((name, seconds, peak_megabytes()))

    def table(self) -> list[dict]:
        return [{"phase": name, "seconds": round(seconds, 3), "peak_mb": round(mb, 1)}
                for name, seconds, mb in self.rows]
