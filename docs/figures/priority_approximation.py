"""The error of the several-reader approximation for priority classes with their own reading times, measured
against simulation over a grid of cases (docs/validation.md, "Several readers, class-dependent reading").

Two classes: an emergency type (every study STAT, its own exponential reading time) and routine CT
(exponential, 8 minutes), non-preemptive, c readers. For each case: the value the `priority` theory gives
(`first_departure_waits`), the Bondi-Buzen value beside it, and the simulated mean wait of each class with
its 99% CI.

    python docs/figures/priority_approximation.py [--replications 40]
"""
from __future__ import annotations

import argparse
import itertools

from simulator import parse_scenario, run_scenario
from simulator.class_theory import class_waits, priority_classes
from simulator.metrics import StudyColumns, confidence_interval, replication_values
from simulator.theory import allen_cunneen_wait, mg1_moments_wait, mg1_priority_waits


def bondi_buzen_waits(classes, servers: int) -> list[float]:
    """The published alternative (Bondi & Buzen, SIGMETRICS 1984): each class's M/G/1 wait on a server c
    times faster, scaled by the ratio of the M/G/c FIFO wait (Allen-Cunneen) to the M/G/1 FIFO wait of that
    server."""
    rates = [c.rate for c in classes if c.rate > 0]
    means = [c.mean for c in classes if c.rate > 0]
    seconds = [c.second for c in classes if c.rate > 0]
    fast = mg1_priority_waits(rates, [m / servers for m in means], [s / servers**2 for s in seconds])
    total = sum(rates)
    mean = sum(r * m for r, m in zip(rates, means)) / total
    second = sum(r * s for r, s in zip(rates, seconds)) / total
    ratio = allen_cunneen_wait(servers, total, mean, 1.0, second / mean**2 - 1.0) / \
        mg1_moments_wait(total, mean / servers, second / servers**2)
    return [w * ratio for w in fast]


def case(servers: int, load: float, stat_share: float, stat_mean: float) -> dict:
    routine_mean = 8.0
    # Total offered load `load` per reader, `stat_share` of the arrivals STAT.
    mean = stat_share * stat_mean + (1 - stat_share) * routine_mean
    rate = load * servers / mean * 60.0
    return {
        "name": f"approx_{servers}_{load}_{stat_share}_{stat_mean}", "start": "2026-02-02T00:00",
        "horizon_days": 60, "warmup_days": 3, "seed": 900 + servers,
        "study_types": {
            "emergency": {"modality": "CT", "arrivals": {"rate_per_hour": rate * stat_share},
                          "referral": {"stat": 1.0}, "read_minutes": {"dist": "exponential", "mean": stat_mean}},
            "routine_ct": {"modality": "CT", "arrivals": {"rate_per_hour": rate * (1 - stat_share)},
                           "read_minutes": {"dist": "exponential", "mean": routine_mean}},
        },
        "pools": {"readers": {"reads": ["emergency", "routine_ct"],
                              "shifts": [{"start": "00:00", "end": "24:00", "staff": servers}]}},
        "policy": {"triage": "fifo"},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print("| readers | load | STAT share | STAT read (min) | class | Bondi-Buzen | first departure | simulation ± 99% CI |"
          " error BB | error FD |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    worst = {(m, r): 0.0 for m in ("BB", "FD") for r in ("stat", "routine")}
    for servers, load, share, stat_mean in itertools.product((2, 5), (0.7, 0.85), (0.1, 0.3), (20.0, 3.0)):
        scenario = parse_scenario(case(servers, load, share, stat_mean), "grid.yaml")
        classes = priority_classes(scenario)
        other, exact = class_waits(classes, servers, False)  # first departure, what `priority` gives
        waits = bondi_buzen_waits(classes, servers)
        run = run_scenario(scenario, args.replications, workers=args.workers, summarise=False)
        cols = StudyColumns(run.studies, scenario)
        for cls, referral in ((0, "stat"), (1, "routine")):
            values = replication_values(cols, [{"referral": referral}], ("mean_wait_minutes",),
                                        range(args.replications))[("mean_wait_minutes", (("referral", referral),))]
            ci = confidence_interval(values, 0.99)
            errors = {"BB": waits[cls] / ci["mean"] - 1.0, "FD": other[cls] / ci["mean"] - 1.0}
            for method, error in errors.items():
                worst[method, referral] = max(worst[method, referral], abs(error))
            print(f"| {servers} | {load} | {share} | {stat_mean:g} | {referral} | {waits[cls]:.3f} | {other[cls]:.3f} | "
                  f"{ci['mean']:.3f} ± {ci['mean'] - ci['ci_low']:.3f} | {errors['BB']:+.1%} | {errors['FD']:+.1%} |",
                  flush=True)
    print("\nlargest error: " + ", ".join(f"{m} {r} {e:.1%}" for (m, r), e in worst.items()))


if __name__ == "__main__":
    main()
