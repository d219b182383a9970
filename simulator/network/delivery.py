"""From the signed report to the patient's record: a publication delay drawn per report; a report that
would be published during an outage of the record system waits for its end."""
from __future__ import annotations

import numpy as np

from ..calendar import after_outages, windows
from ..distributions import mean_of, sample
from ..scenario import Scenario
from ..streams import by_year, stream

__all__ = ["record_times"]


def record_times(scenario: Scenario, reported: np.ndarray, seed: int, replication: int,
                 years: np.ndarray | None = None) -> np.ndarray:
    """When each report is in the patient's record (NaN where there is no report); each delay from the
    streams of its study's draws' year (`years`; None: the first)."""
    delivery = scenario.network.delivery
    if not delivery.outages and mean_of(delivery.delay_minutes) == 0.0:
        return reported  # nothing between signing and the record: the same times (and no copy of a city year)
    delay = by_year(years, reported.shape[0], lambda year, n: sample(delivery.delay_minutes,
                                                                    stream(seed, replication, "delivery", "", year), n))
    return after_outages(reported + delay, windows(scenario, delivery.outages))
