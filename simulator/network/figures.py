"""What each upstream station did in one replication: the rows of stations.parquet.

Per station, over the studies that reached it after the warm-up: how many, their mean wait for a server
(devices, AI workers; none for links, which serve everyone at once), their mean time in service (for a link
or the ingest: the transfer time), and the utilisation: server-minutes (or megabytes) used over those on
offer between the warm-up and the horizon, by the level of capacity at each moment.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from ..scenario import Scenario
from .queues import Capacity, available

__all__ = ["StationTally", "stations_table", "stations_summary", "STATION_COLUMNS"]

STATION_COLUMNS = {"replication": pa.int32(), "station": pa.string(), "kind": pa.string(), "studies": pa.int64(),
                   "mean_wait_minutes": pa.float64(), "mean_service_minutes": pa.float64(),
                   "utilization": pa.float64()}


class StationTally:
    """One station's figures summed as blocks of time settle its jobs (`add`: a block's jobs, as
    `{"arrived", "start", "busy"}` for servers or `{"arrived", "finish", "work"}` for links), its row at the
    end (`figures`). In one block, the sums of one pass over the jobs, to the bit."""

    def __init__(self, scenario: Scenario, name: str, capacity: Capacity) -> None:
        self.name, self.capacity = name, capacity
        self.warmup, self.horizon = scenario.warmup_minutes, scenario.horizon_minutes
        self.studies = 0
        self.wait, self.waits = 0.0, 0  # summed finite waits, and how many (none for links)
        self.service, self.services = 0.0, 0
        self.used = 0.0
        self.servers = False

    def add(self, served: dict[str, np.ndarray]) -> None:
        warmup, horizon = self.warmup, self.horizon
        arrived = served["arrived"]
        keep = (arrived >= warmup) & (arrived < horizon)
        self.studies += int(keep.sum())
        if "start" in served:  # servers: devices, AI workers
            self.servers = True
            start, busy = served["start"], served["busy"]
            self.wait, self.waits = _summed(self.wait, self.waits, start[keep] - arrived[keep])
            self.service, self.services = _summed(self.service, self.services, busy[keep])
            lo, hi = np.maximum(start, warmup), np.minimum(start + busy, horizon)
            self.used += float(np.clip(hi - lo, 0.0, None)[np.isfinite(start)].sum())
        else:  # processor sharing: links and ingest
            self.service, self.services = _summed(self.service, self.services, served["finish"][keep] - arrived[keep])
            self.used += float(served["work"][keep].sum())

    def figures(self) -> dict:
        """The station's row (without the replication): studies after the warm-up, their mean wait for a
        server and time in service, the utilisation."""
        offered = available(self.capacity, self.warmup, self.horizon)
        return {"station": self.name, "kind": self.name.split(":", 1)[0], "studies": self.studies,
                "mean_wait_minutes": float(self.wait / self.waits) if self.servers and self.waits else math.nan,
                "mean_service_minutes": float(self.service / self.services) if self.services else math.nan,
                "utilization": self.used / offered if offered > 0 else math.nan}


def _summed(total: float, count: int, values: np.ndarray) -> tuple[float, int]:
    """A running sum and count taken on by the finite values (in one block: numpy's sum of them, which
    is the one `mean` divides)."""
    values = values[np.isfinite(values)]
    return total + values.sum(), count + values.size


def stations_table(stations: dict[str, dict] | None, replication: int) -> pa.Table:
    """One row per station the cohort passed (`Cohort.stations`: each station's figures)."""
    # Null, not NaN, where a figure does not exist (a link's wait, a station nobody reached).
    rows = [{"replication": replication, **{k: None if isinstance(v, float) and math.isnan(v) else v
                                              for k, v in figures.items()}} for figures in (stations or {}).values()]
    return pa.Table.from_pylist(rows, schema=pa.schema(STATION_COLUMNS)) if rows else \
        pa.table({c: pa.array([], t) for c, t in STATION_COLUMNS.items()})


def stations_summary(stations: pa.Table | None, summary: Iterable[dict]) -> dict | None:
    """Each station's figures averaged over replications, and the bottleneck: the busiest station or
    reading pool by mean utilisation (None without upstream stations)."""
    if stations is None or stations.num_rows == 0:
        return None
    names = list(dict.fromkeys(stations.column("station").to_pylist()))
    table = stations.to_pydict()
    out = []
    for name in names:
        rows = [i for i, s in enumerate(table["station"]) if s == name]
        entry: dict = {"station": name, "kind": table["kind"][rows[0]]}
        for column in ("studies", "mean_wait_minutes", "mean_service_minutes", "utilization"):
            values = [v for v in (table[column][i] for i in rows) if v is not None and not math.isnan(v)]
            entry[column] = sum(values) / len(values) if values else None
        out.append(entry)
    busiest = [(e["utilization"], e["station"]) for e in out if e["utilization"] is not None]
    busiest += [(r["mean"], f"pool:{r['where']['pool']}") for r in summary
                if r["metric"] == "utilization" and set(r["where"]) == {"pool"} and r["mean"] is not None]
    level, name = max(busiest) if busiest else (None, None)
    return {"stations": out, "bottleneck": None if name is None else {"station": name, "utilization": level}}
