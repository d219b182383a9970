"""What an administrator waits for: the dashboard's default run (the reference centre, four weeks, five
replications, all cores), the same run again from the cache, and the figures and cards of a result.

    python benchmarks/bench_dashboard.py [--rounds 3]

Target (dashboard issue): the run returns in under 5 s on a 2-core machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from dashboard.figures import tat_ecdf, utilisation_bars, wait_heatmap, worklist_over_week
from dashboard.kpis import kpis
from simulator import load_scenario, run_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scenario = load_scenario("moscow_reference_center")
    runs, drawing = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        run = run_scenario(scenario, 5)
        runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        kpis(run)
        for figure in (tat_ecdf(run.studies, "priority"), tat_ecdf(run.studies, "diseased"),
                       worklist_over_week(run.studies, scenario), wait_heatmap(run.studies, scenario),
                       utilisation_bars(run.duties, scenario)):
            figure.to_json()
        drawing.append(time.perf_counter() - started)
    print(json.dumps({"benchmark": "dashboard-default-run", "rounds": args.rounds, "work_items": run.studies.num_rows,
                      "run_seconds_median": round(statistics.median(runs), 2), "run_seconds": [round(r, 2) for r in runs],
                      "cards_and_figures_seconds_median": round(statistics.median(drawing), 2), "target_seconds": 5}))


if __name__ == "__main__":
    main()
