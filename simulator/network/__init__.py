"""The network model: the stations a study passes, from acquisition to the patient record.

devices -> uplink -> ingest -> AI -> reading -> delivery. The upstream stations (`upstream.py`) run as
passes over the whole cohort when it is drawn, since nothing upstream waits for the readers; the reading
station (`reading.py`) is the event simulation of the worklist and the readers on shift; delivery
(`delivery.py`) follows each signed report to the patient's record.
"""
from __future__ import annotations

import gc
import sys
from collections.abc import Callable

from .cohort import Cohort, draw_cohort
from ..scenario import Scenario
from ..triage import TriagePolicy
from .delivery import record_times
from ..memory import give_back
from ..streams import years_of
from .outcome import Outcome
from .ranked_once import reading_station
from .reading import ReadingStation

__all__ = ["Outcome", "ReadingStation", "simulate_cohort", "Cohort", "draw_cohort"]


def simulate_cohort(scenario: Scenario, cohort: Cohort, policy: TriagePolicy, seed: int, replication: int,
                    progress: Callable[[float], None] | None = None) -> Outcome:
    """Run the reading station over one replication's cohort with one triage policy, then delivery."""
    frozen()
    outcome = reading_station(scenario, cohort, policy, seed, replication, progress).run()
    # The station's callbacks (bound methods held by its Ticks and readers) make reference cycles, so the
    # station's arrays would wait for a later collection: a city year's worth, held while delivery makes its
    # own (measured on five city years: the replication's peak, 7.7 GB, was there). With what was alive
    # before the first run frozen (`frozen`), a collection looks at this run's objects only: a small
    # replication's collection had cost as much as the replication itself.
    gc.collect()
    give_back(len(cohort))  # (freed into the C library's heap, which delivery's arrays would not reuse)
    outcome.recorded_at = record_times(scenario, outcome.reported_at[:len(cohort)], seed, replication,
                                       years_of(cohort.draws.arrivals.arrived_at))
    return outcome


def frozen() -> None:
    """Once a process has imported what a run needs: everything alive then (modules, classes, the
    scenario) out of the collector's sight for good (`gc.freeze`), so that collections cost what a run
    makes, not what the process holds. Measured: a cxr_day_night replication 0.065 -> 0.038 s, the
    reference centre's 0.196 -> 0.166 s. Again whenever modules were imported since: pyarrow's and
    pandas' once the first rows are made, scipy's once a replication is measured, numba's once a run
    loads a compiled loop (unfrozen, they made the collection after each replication of a validation
    worker cost 30 ms; mmc_two_classes' validation in one process: 12.9 -> 4.3 s)."""
    if not _FROZEN or _FROZEN[-1] != len(sys.modules):
        gc.freeze()
        _FROZEN.append(len(sys.modules))


_FROZEN: list[int] = []  # the modules imported at each freeze of this process
