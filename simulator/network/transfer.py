"""From the site to the archive: each site's uplink, then the archive's ingest.

A study's size is drawn by its modality (`network.sizes_mb`). A site's uplink is shared equally by the
studies in transfer at each moment (processor sharing: a 2 GB CT holds up a chest X-ray only by its share),
so transfer time emerges from load; during an uplink outage transfers pause and resume. With
`ingest.mbyte_per_s` the archive takes studies in the same way, at a rate slowed in `slowdowns` and zero in
`outages`, then `ingest.delay_minutes` of processing. Without it, the simple form: `delay_minutes` drawn,
and a study finishing inside an ingest outage arrives when it ends.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..calendar import after_outages, windows
from ..scenario import Scenario
from .queues import Capacity, share

__all__ = ["to_archive", "uplink_capacity", "ingest_capacity"]

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


def to_archive(scenario: Scenario, acquired: np.ndarray, site: np.ndarray, size: np.ndarray,
               delay: np.ndarray, moved: np.ndarray, record: Callable[[str, dict], None]) -> np.ndarray:
    """When each study is in the archive. `site` holds site codes (positions in `scenario.sites`); `moved`
    marks the studies that travel the links (imaging studies); `delay` is the drawn ingest delay. `record`
    is told what each link served."""
    at = acquired.copy()
    for code, (site_name, site_spec) in enumerate(scenario.sites.items()):
        if site_spec.uplink is None:
            continue
        mine = np.flatnonzero(moved & (site == code) & np.isfinite(acquired))
        link = uplink_capacity(scenario, site_name)
        at[mine] = share(acquired[mine], size[mine], link)
        record(f"uplink:{site_name}", {"arrived": acquired[mine], "finish": at[mine], "work": size[mine],
                                       "capacity": link})
    ingest = scenario.ingest
    if ingest.mbyte_per_s is None:
        return after_outages(at + delay, windows(scenario, ingest.outages))
    mine = np.flatnonzero(moved & np.isfinite(at))
    sent = at[mine]
    at[mine] = share(sent, size[mine], ingest_capacity(scenario))
    record("ingest", {"arrived": sent, "finish": at[mine], "work": size[mine], "capacity": ingest_capacity(scenario)})
    return at + delay
