"""From the site to the archive: each site's uplink, then the archive's ingest.

A study's size is drawn by its modality (`network.sizes_mb`). A site's uplink is shared equally by the
studies in transfer at each moment (processor sharing: a 2 GB CT holds up a chest X-ray only by its share),
so transfer time emerges from load; during an uplink outage transfers pause and resume. With
`ingest.mbyte_per_s` the archive takes studies in the same way, at a rate slowed in `slowdowns` and zero in
`outages`, then `ingest.delay_minutes` of processing. Without it, the simple form: `delay_minutes` drawn,
and a study finishing inside an ingest outage arrives when it ends.
"""
from __future__ import annotations

from ..calendar import windows
from ..scenario import Scenario
from .queues import Capacity

__all__ = ["uplink_capacity", "ingest_capacity"]

MB_PER_MIN_PER_MBIT_S = 60.0 / 8.0


def uplink_capacity(scenario: Scenario, site_name: str) -> Capacity:
    uplink = scenario.sites[site_name].uplink
    assert uplink is not None
    rate = uplink.mbit_per_s * MB_PER_MIN_PER_MBIT_S
    return Capacity.of(rate, [(a, b, rate) for a, b in windows(scenario, uplink.outages)])


def ingest_capacity(scenario: Scenario) -> Capacity:
    ingest = scenario.ingest
    assert ingest.mbyte_per_s is not None
    rate = ingest.mbyte_per_s * 60.0
    changes = [(scenario.minutes_at(s.start), scenario.minutes_at(s.start) + s.hours * 60.0, s.factor)
               for s in ingest.slowdowns] + [(a, b, 0.0) for a, b in windows(scenario, ingest.outages)]
    return Capacity.of(rate, changes, scale=True)
