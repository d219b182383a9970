"""The upstream stations' queue engines (simulator/network/queues.py) against the yardstick.

Times `serve` (c servers, priorities) and `share` (processor sharing) on 400 k jobs, at a busy load (0.8)
and a light one (a station with room, as most devices and links of the city are), alternately with the
plain heap loop of benchmarks/mmc_reference.py in one process, and reports jobs per second and the ratio
to the reference (customers per second), which moves far less with the machine's load than seconds do.

    python benchmarks/bench_stations.py [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from bench_mmc import load_reference

from simulator.network.queues import Capacity, serve, share

JOBS = 400_000


def cases(rng: np.random.Generator) -> dict:
    arrive = np.cumsum(rng.exponential(1 / 0.9, JOBS))
    service = rng.exponential(1 / (0.9 / 3 / 0.8), JOBS)  # three servers at rho 0.8
    priority = rng.integers(0, 3, JOBS)
    work = rng.lognormal(0.0, 1.0, JOBS)
    work /= work.mean()
    links = np.cumsum(rng.exponential(1 / 0.8, JOBS))
    return {
        "serve_busy": lambda: serve(arrive, priority, service, Capacity.constant(3)),
        "serve_light": lambda: serve(arrive, priority, service, Capacity.constant(30)),
        "share_busy": lambda: share(links, work, Capacity.constant(1.0)),
        "share_light": lambda: share(links, work, Capacity.constant(20.0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    reference = load_reference()
    runs = cases(np.random.default_rng(1))
    rates: dict[str, list[float]] = {name: [] for name in ("reference", *runs)}
    for round_ in range(args.rounds):
        started = time.perf_counter()
        served = reference.simulate(round_ + 1, 200_000, 10, 1.0, 8.5, 0.2)
        rates["reference"].append(len(served) / (time.perf_counter() - started))
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            rates[name].append(JOBS / (time.perf_counter() - started))
    ref = statistics.median(rates["reference"])
    print(json.dumps({"benchmark": "stations", "rounds": args.rounds, "jobs": JOBS, "reference_per_s": round(ref),
                      **{f"{name}_per_s": round(statistics.median(v)) for name, v in rates.items() if name != "reference"},
                      **{f"ratio_{name}": round(statistics.median(v) / ref, 2) for name, v in rates.items()
                         if name != "reference"}}))


if __name__ == "__main__":
    main()
