"""The staffing optimiser on the README's command: the reference centre (28 days, 5 replications), one target,
on this machine's cores, timed as a whole command. Target: under 5 minutes on 2 cores.

The yardstick (benchmarks/mmc_reference.py) is timed in the same run, before and after, so the figure can
be read against the machine's speed at that moment.

    python benchmarks/bench_staff.py
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_mmc import load_reference

COMMAND = ["staff", "moscow_reference_center", "--target", "p95_tat_minutes[ai_positive=true] <= 60"]


def yardstick(reference) -> float:
    started = time.perf_counter()
    served = reference.simulate(1, 200_000, 10, 1.0, 8.5, 0.2)
    return len(served) / (time.perf_counter() - started)


def main() -> None:
    reference = load_reference()
    before = yardstick(reference)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "staff"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "simulator", *COMMAND, "--out", str(out)],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - started
        result = json.loads((out / "staffing.json").read_text()) if done.returncode == 0 else {}
    after = yardstick(reference)
    print(json.dumps({
        "benchmark": "staff-reference-centre", "command": " ".join(COMMAND), "exit_code": done.returncode,
        "seconds": round(seconds, 1), "target_seconds": 300, "rosters_simulated": result.get("rosters_simulated"),
        "readers": sum(r["staff"] for r in result.get("roster", [])), "feasible": result.get("feasible"),
        "yardstick_per_s_before_after": [round(before), round(after)],
    }))


if __name__ == "__main__":
    main()
