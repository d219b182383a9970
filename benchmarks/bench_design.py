"""Shift design on the reference centre: `radsim design` against `radsim staff` on the scenario's own shifts.

For the README's target, reports the time of each search on this machine (2 cores), the reader-hours a week
of SIPP's roster, of the designed one and of the smallest roster `staff` finds, and holds the designed
roster to every condition again on other random numbers (another seed, 20 replications, with 95%
confidence): a design that says it meets its targets must meet them there too.

The design may leave hours with work unmanned (`--gaps`), as `staff`'s answer may: the smallest roster
`staff` finds has nobody on the experts' night shift, their second opinions (72 hours) and consultations
(24 hours) waiting for the morning. `--manned` holds the design to a reader in every hour with work, a
rule the roster it is compared with does not keep.

    python benchmarks/bench_design.py [--replications 5] [--check 20] [--seed 12345] [--manned]
"""
from __future__ import annotations

import argparse
import json
import time

from simulator import load_scenario
from simulator.design import Allowed, check_on_seed, design
from simulator.staffing import optimise, parse_target

TARGET = "p95_tat_minutes[ai_positive=true] <= 60"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--check", type=int, default=20, help="replications of the check on another seed")
    parser.add_argument("--seed", type=int, default=12345, help="the other seed")
    parser.add_argument("--manned", action="store_true", help="a reader in every hour with work (design's default)")
    args = parser.parse_args()
    scenario = load_scenario("moscow_reference_center")
    targets = [parse_target(TARGET)]
    started = time.perf_counter()
    designed = design(scenario, targets, Allowed(gaps=not args.manned), replications=args.replications, workers=2)
    design_seconds = time.perf_counter() - started
    started = time.perf_counter()
    staffed = optimise(scenario, targets, replications=args.replications, workers=2)
    staff_seconds = time.perf_counter() - started
    staff_hours = sum(n * s.hours_per_week for n, s in zip(staffed.staff, staffed.slots))
    again = check_on_seed(designed.scenario, designed.targets, args.seed, args.check, workers=2)
    missed = [t.text for t in again.missed(designed.targets)]
    print(json.dumps({
        "target": TARGET, "manned": args.manned, "design_seconds": round(design_seconds, 1), "staff_seconds": round(staff_seconds, 1),
        "rosters_simulated": designed.evaluations,
        "sipp_reader_hours": designed.reader_hours(designed.sipp_staff), "sipp_meets": designed.sipp.met(designed.targets),
        "designed_reader_hours": designed.reader_hours(designed.staff), "designed_meets": designed.feasible,
        "staff_reader_hours": staff_hours, "staff_meets": staffed.feasible,
        "fewer_than_staff": round(1 - designed.reader_hours(designed.staff) / staff_hours, 4),
        "check_seed": args.seed, "check_replications": args.check, "check_missed": missed,
        "check_overloaded": again.overloaded,
    }, indent=1))


if __name__ == "__main__":
    main()
