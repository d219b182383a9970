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
from .queues import available

__all__ = ["station_figures", "stations_table", "stations_summary", "STATION_COLUMNS"]

STATION_COLUMNS = {"replication": pa.int32(), "station": pa.string(), "kind": pa.string(), "studies": pa.int64(),
                   "mean_wait_minutes": pa.float64(), "mean_service_minutes": pa.float64(),
                   "utilization": pa.float64()}


def _mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def station_figures(scenario: Scenario, name: str, served: dict) -> dict:
    """One station's row (without the replication) from what it served: `arrived`, and `start` and `busy`
    for servers, or `finish` and `work` for links; `capacity` its level over time."""
    warmup, horizon = scenario.warmup_minutes, scenario.horizon_minutes
    arrived = served["arrived"]
    keep = (arrived >= warmup) & (arrived < horizon)
    if "start" in served:  # servers: devices, AI workers
        start, busy = served["start"], served["busy"]
        wait = _mean(start[keep] - arrived[keep])
        service = _mean(busy[keep])
        lo, hi = np.maximum(start, warmup), np.minimum(start + busy, horizon)
        used = float(np.clip(hi - lo, 0.0, None)[np.isfinite(start)].sum())
    else:  # processor sharing: links and ingest
        wait = math.nan
        service = _mean(served["finish"][keep] - arrived[keep])
        used = float(served["work"][keep].sum())
    offered = available(served["capacity"], warmup, horizon)
    return {"station": name, "kind": name.split(":", 1)[0], "studies": int(keep.sum()), "mean_wait_minutes": wait,
            "mean_service_minutes": service, "utilization": used / offered if offered > 0 else math.nan}


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
