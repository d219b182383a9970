"""Speed against the yardstick: the M/M/10 two-class queue of benchmarks/mmc_reference.py, 200 k
customers, run by the plain heap loop and by radsim's real model (benchmarks/mmc10.yaml), alternately in
one process, so that the ratio is measured under the same machine load.

Reports customers per second of each and the ratio (radsim / reference), for the model alone and for a
whole replication (drawing the cohort, the model, and the studies table). Target: ratio >= 1/3. The
station's loop runs as Python, as in a 200 k run of its own process; `--compiled`: compiled by numba, as
in a process that has run 500 k studies through it (loaded before the first round).
With `--command`, `radsim run benchmarks/mmc10.yaml` as a user runs it instead (a process of its own: start-up,
cohort, model, tables, studies.parquet, summary and printing), alternating with the reference loop
(issue 16's target: >= 0.25x); `--studies 2000000` for the same at 2 M studies, where start-up is
amortised (issue 31's target: >= 0.5x).

    python benchmarks/bench_mmc.py [--rounds 3] [--compiled] [--command [--studies 2000000]]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from simulator import load_scenario
from simulator.network import draw_cohort
from simulator.triage_config import policy_of
from simulator.network import ranked_once, simulate_cohort
from simulator.records import studies_table

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "mmc_reference.py"  # the shared reference loop's algorithm (tests/test_yardstick.py)


def load_reference():
    spec = importlib.util.spec_from_file_location("mmc_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


STUDIES, HORIZON_DAYS = 200_000, 163.4  # mmc10.yaml's horizon: about 200 k studies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--command", action="store_true", help="time `radsim run` as a whole command")
    parser.add_argument("--studies", type=int, default=STUDIES, help="with --command: about this many studies")
    parser.add_argument("--compiled", action="store_true",
                        help="the reading station's loop compiled (numba), as in a process that has run 500 k studies")
    args = parser.parse_args()
    reference = load_reference()
    if args.command:
        whole_command(reference, args.rounds, args.studies)
        return
    scenario = load_scenario(HERE / "mmc10.yaml")
    policy = policy_of(scenario)
    # The station's loop as a 200 k run of its own process runs it (Python), or with --compiled as a process
    # that has run enough studies through it (numba; loaded before the rounds, so that no round pays that).
    ranked_once.NUMBERED_FROM = 0 if args.compiled else 1 << 62
    if args.compiled:
        day = load_scenario(HERE / "mmc10.yaml", ["horizon_days=1"])
        simulate_cohort(day, draw_cohort(day, 1, 0), policy, 1, 0)
    ref_rates, model_rates, whole_rates = [], [], []
    for round_ in range(args.rounds):
        started = time.perf_counter()
        served = reference.simulate(round_ + 1, 200_000, 10, 1.0, 8.5, 0.2)
        ref_rates.append(len(served) / (time.perf_counter() - started))

        started = time.perf_counter()
        cohort = draw_cohort(scenario, round_ + 1, 0)
        drawn = time.perf_counter()
        outcome = simulate_cohort(scenario, cohort, policy, round_ + 1, 0)
        simulated = time.perf_counter()
        studies_table(scenario, cohort, outcome, round_ + 1, 0)
        finished = time.perf_counter()
        model_rates.append(len(cohort) / (simulated - drawn))
        whole_rates.append(len(cohort) / (finished - started))
    ref, model, whole = (statistics.median(r) for r in (ref_rates, model_rates, whole_rates))
    print(json.dumps({
        "benchmark": "mmc10-200k" + ("-compiled" if args.compiled else ""), "rounds": args.rounds,
        "studies": len(cohort),
        "reference_per_s": round(ref), "model_per_s": round(model), "replication_per_s": round(whole),
        "ratio_model": round(model / ref, 3), "ratio_replication": round(whole / ref, 3),
        "ratios_per_round": [round(m / r, 3) for m, r in zip(model_rates, ref_rates)],
    }))


def whole_command(reference, rounds: int, studies: int = STUDIES) -> None:
    ref_rates, command_rates, seconds = [], [], []
    horizon = HORIZON_DAYS * studies / STUDIES
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(rounds):
            started = time.perf_counter()
            served = reference.simulate(round_ + 1, studies, 10, 1.0, 8.5, 0.2)
            ref_rates.append(len(served) / (time.perf_counter() - started))
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "simulator", "run", str(HERE / "mmc10.yaml"), "--seed",
                            str(round_ + 1), "-w", "1", "--set", f"horizon_days={horizon:.6g}",
                            "--out", str(Path(folder) / "run"), "--replace"],
                           check=True, capture_output=True)
            seconds.append(time.perf_counter() - started)
            rows = pq.read_metadata(Path(folder) / "run" / "studies.parquet").num_rows
            command_rates.append(rows / seconds[-1])
    ref, command = statistics.median(ref_rates), statistics.median(command_rates)
    print(json.dumps({
        "benchmark": f"mmc10-{round(studies / 1000)}k-command", "rounds": rounds, "command_s": [round(s, 2) for s in seconds],
        "reference_per_s": round(ref), "command_per_s": round(command), "ratio_command": round(command / ref, 3),
        "ratios_per_round": [round(c / r, 3) for c, r in zip(command_rates, ref_rates)],
    }))


if __name__ == "__main__":
    main()
