"""Many replications as a whole command: `radsim run moscow_city --set horizon_days=30 -r 20 -w 2 --profile`
(12 M work items, and FIFO on the same studies for the story), timed from outside. Reports the wall time,
the peak memory of the command's processes (the largest of the parent's and the workers') and
the time and memory of each phase as `--profile` prints them. Target (issue 16): the parent's memory grows
with workers, not with replications; this run <= 4 GB. The same script times a city year as one command on
one core (target 60 s, 2 GB):

    python benchmarks/bench_replications.py [--days 30] [-r 20] [-w 2]
    python benchmarks/bench_replications.py --days 365 -r 1 -w 1 --no-against-fifo
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("-r", type=int, default=20)
    parser.add_argument("-w", type=int, default=2)
    parser.add_argument("--scenario", default="moscow_city")
    parser.add_argument("--no-against-fifo", action="store_true", help="leave out the FIFO variant (a city year "
                        "on one core: --days 365 -r 1 -w 1 --no-against-fifo)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "simulator", "run", args.scenario, "--set", f"horizon_days={args.days}",
                   "-r", str(args.r), "-w", str(args.w), "--out", str(Path(folder) / "run"), "--profile",
                   *(["--no-against-fifo"] if args.no_against_fifo else [])]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    printed = done.stdout + done.stderr  # the profile goes to stderr
    phases = {m[1].strip(): {"seconds": float(m[2]), "peak_mb": float(m[3])}
              for m in re.finditer(r"^ ?(\S.*?)\s{2,}([\d.]+)\s+(\d+)\s*$", printed, re.MULTILINE)}
    rows = re.search(r"studies\.parquet: ([\d,]+) rows", printed)
    worker = re.search(r"peak memory of a worker\s+process\s+(\d+) MB", printed)
    print(json.dumps({"benchmark": "replications-whole-command", "scenario": args.scenario, "days": args.days,
                      "replications": args.r, "workers": args.w, "rows": rows[1] if rows else None,
                      "wall_s": round(wall, 1),
                      "peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
                      "parent_peak_mb": max((p["peak_mb"] for p in phases.values()), default=None),
                      "worker_peak_mb": int(worker[1]) if worker else None,
                      "phases": phases}, indent=1))


if __name__ == "__main__":
    main()
