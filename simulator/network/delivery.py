"""From the signed report to the patient's record: a publication delay drawn per report; a report that
would be published during an outage of the record system waits for its end."""
from __future__ import annotations

import numpy as np

from ..calendar import after_outages, windows
from ..distributions import mean_of, sample
from ..scenario import Scenario
from ..streams import stream

__all__ = ["record_times"]


def record_times(scenario: Scenario, reported: np.ndarray, seed: int, replication: int) -> np.ndarray:
    """When each report is in the patient's record (NaN where there is no report)."""
    delivery = scenario.network.delivery
    if not delivery.outages and mean_of(delivery.delay_minutes) == 0.0:
        return reported  # nothing between signing and the record: the same times (and no copy of a city year)
    delay = sample(delivery.delay_minutes, stream(seed, replication, "delivery"), reported.shape[0])
    return after_outages(reported + delay, windows(scenario, delivery.outages))
