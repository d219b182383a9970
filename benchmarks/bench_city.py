"""City scale: moscow_city.yaml, one simulated year, one replication, one core.

Reports wall time split into drawing the cohort, the model, building the studies table and computing the
summary metrics; studies per second; and peak resident memory (ru_maxrss of this process), beside the
estimate the size check gives users before a run.
Targets (issue): under 60 s and under 2 GB. Because the machines are shared, the reference loop of
benchmarks/mmc_reference.py (the yardstick) is timed in the same run (before and after) and the city throughput is
also given as a ratio to it, which moves far less with the machine's load than seconds do.

    python benchmarks/bench_city.py [--days 365] [--scenario moscow_city_network]

`moscow_city_network` is the same city with its devices, uplinks, ingest, AI workers and delivery
(docs/network.md): the cohort then includes the upstream stations' passes.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import time

from bench_mmc import load_reference

from simulator import load_scenario
from simulator.prepare import Estimate
from simulator.network import draw_cohort
from simulator.triage_config import policy_of
from simulator.summaries import summary_rows
from simulator.network import simulate_cohort
from simulator.records import duties_table, studies_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--scenario", default="moscow_city")
    args = parser.parse_args()
    reference = load_reference()

    def reference_rate() -> float:
        started = time.perf_counter()
        served = reference.simulate(1, 200_000, 10, 1.0, 8.5, 0.2)
        return len(served) / (time.perf_counter() - started)

    before = reference_rate()
    scenario = load_scenario(args.scenario, [f"horizon_days={args.days}"])
    seed = scenario.seed
    t0 = time.perf_counter()
    cohort = draw_cohort(scenario, seed, 0)
    t1 = time.perf_counter()
    outcome = simulate_cohort(scenario, cohort, policy_of(scenario), seed, 0)
    t2 = time.perf_counter()
    studies = studies_table(scenario, cohort, outcome, seed, 0)
    duties = duties_table(outcome, 0)
    n_studies = len(cohort)
    del cohort, outcome  # as in run_replication: only the tables outlive the simulation
    t3 = time.perf_counter()
    summary_rows(studies, duties, scenario, 1)
    t4 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ref = (before + reference_rate()) / 2
    per_s = studies.num_rows / (t3 - t0)
    print(json.dumps({
        "benchmark": "city-year", "scenario": args.scenario, "days": args.days, "studies": n_studies, "work_items": studies.num_rows,
        "cohort_s": round(t1 - t0, 2), "model_s": round(t2 - t1, 2), "table_s": round(t3 - t2, 2),
        "summary_s": round(t4 - t3, 2), "simulate_s": round(t3 - t0, 2), "total_s": round(t4 - t0, 2),
        "studies_per_s": round(per_s), "peak_rss_mb": round(peak_mb),
        # What the size check tells users before a run (`prepare.Estimate`), beside what this run measured.
        "estimated_mb": round(Estimate(scenario).gigabytes * 1e9 / 2**20),
        "reference_per_s": round(ref), "ratio_to_reference": round(per_s / ref, 3),
        "python": platform.python_version(), "machine": platform.machine(),
    }))


if __name__ == "__main__":
    main()
