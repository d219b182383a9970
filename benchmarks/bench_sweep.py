"""Sweep scaling: a 200-run sweep of a small scenario on 1 and on 2 local processes, and on a Dask
LocalCluster (2 workers, loopback) to give the cluster path's overhead per run. One process, one run each.

    python benchmarks/bench_sweep.py [--runs 200]

Target (sweeps issue): 2 local workers at least 1.8x faster than 1.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from simulator.sweep import parse_grid, run_sweep

SCENARIO = {
    "name": "bench-sweep", "start": "2026-02-02T00:00", "horizon_days": 7, "warmup_days": 1, "seed": 3,
    "study_types": {"chest_ct": {"modality": "CT", "arrivals": {"rate_per_hour": 9.6}, "prevalence": 0.1,
                                 "read_minutes": {"dist": "exponential", "mean": 10}, "ai": "ai"}},
    "ai_services": {"ai": {"sensitivity": 0.9, "specificity": 0.9}},
    "pools": {"readers": {"reads": ["chest_ct"], "shifts": [{"start": "00:00", "end": "24:00", "staff": 2}]}},
    "policy": {"triage": "ai_priority"},
}


def timed(runs: int, **how) -> float:
    points = parse_grid([f"policy.triage=fifo,ai_priority", "pools.readers.shifts.0.staff=2:6"])
    replications = runs // len(points)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = run_sweep(SCENARIO, "bench", points, replications, Path(folder) / "s", **how)
        assert not result.failures and result.computed == len(points) * replications
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    one = timed(args.runs, workers=1)
    two = timed(args.runs, workers=2)
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        timed(10, executor=client.get_executor())  # workers warm: imports done
        dask = timed(args.runs, executor=client.get_executor())
    print(json.dumps({"benchmark": "sweep-scaling", "runs": args.runs, "one_worker_s": round(one, 2),
                      "two_workers_s": round(two, 2), "speedup": round(one / two, 2),
                      "dask_two_workers_s": round(dask, 2),
                      "dask_overhead_per_run_ms": round((dask - two) / args.runs * 1000, 1), "target_speedup": 1.8}))


if __name__ == "__main__":
    main()
