"""`radsim log`, `radsim fit`, `radsim backtest` and `radsim replay` on a year of the reference centre's volume
(~450 k rows): the log made from one replication of `moscow_reference_center` over 365 days, written as
Parquet, then read, cleaned and fitted on one core, back-tested on its last 4 weeks with 10 replications on
2 processes, under the centre's own policy (AI priority), and the whole year replayed under FIFO against
that policy (5 replications, 2 processes). Targets (issues 19 and 32): fit <= 10 s, back-test <= 15 s,
replay <= 15 s.

    python benchmarks/bench_fit.py
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from simulator import load_scenario, run_scenario
from simulator.oplog import log_of_run, read_log
from simulator.oplog.backtest import backtest
from simulator.oplog.fitting import fit_log
from simulator.oplog.replay import replay


def main() -> None:
    scenario = load_scenario("moscow_reference_center", ["horizon_days=365", "warmup_days=0"])
    started = time.perf_counter()
    studies = run_scenario(scenario, 1, workers=1, summarise=False).studies
    simulated = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "year.parquet"
        pq.write_table(log_of_run(scenario, studies), path)
        written = time.perf_counter()
        found = read_log(path)
        cleaned = time.perf_counter()
        text = fit_log(found.table, "reference_centre_fitted")
        fitted = time.perf_counter()
        checked = backtest(found.table, 28, 10, workers=2, policy="ai_priority")  # the centre's own
        tested = time.perf_counter()
        groups = replay(found.table, "fifo", Path(folder), "ai_priority", 5, workers=2)
        replayed = time.perf_counter()
    print(json.dumps({"benchmark": "fit-reference-centre-year", "rows": found.rows,
                      "simulate_s": round(simulated - started, 1), "write_log_s": round(written - simulated, 1),
                      "read_and_clean_s": round(cleaned - written, 2), "fit_s": round(fitted - cleaned, 2),
                      "log_and_fit_s": round(fitted - written, 2), "yaml_lines": text.count("\n"),
                      "backtest_4_weeks_10_reps_2_workers_s": round(tested - fitted, 1),
                      "backtest_checks_within": f"{sum(c.within for c in checked.checks)} of {len(checked.checks)}",
                      "replay_year_5_reps_2_workers_s": round(replayed - tested, 1),
                      "replay_model_error_all": f"{groups[0].as_run / groups[0].observed - 1:+.1%}"}))


if __name__ == "__main__":
    main()
