"""The network model: the stations a study passes, from acquisition to the patient record.

Today the chain is the reading station (`reading.py`): studies become ready (their acquisition, transfer,
ingest and AI drawn up front in the cohort), the worklist orders them, readers on shift read them.
"""
from __future__ import annotations

import gc
from collections.abc import Callable

from ..cohort import Cohort
from ..scenario import Scenario
from ..triage import TriagePolicy
from .outcome import Outcome
from .reading import ReadingStation

__all__ = ["Outcome", "ReadingStation", "simulate_cohort"]


def simulate_cohort(scenario: Scenario, cohort: Cohort, policy: TriagePolicy, seed: int, replication: int,
                    progress: Callable[[float], None] | None = None) -> Outcome:
    """Run the reading station over one replication's cohort with one triage policy."""
    outcome = ReadingStation(scenario, cohort, policy, seed, replication, progress).run()
    # The station's callbacks (bound methods held by its Ticks and readers) make reference cycles, so the
    # station and the cohort it holds would wait for a later collection: a city year's worth of arrays.
    gc.collect()
    return outcome
