"""The worklist with 100 k waiting studies: cost per pick and per arrival, for static and time-dependent
policies, against the naive alternative of re-ranking every waiting study at every pick.

Steady state: the worklist holds N studies ready over the last 8 hours; then, repeatedly, one study
arrives and one is taken while the clock advances, so aging promotions and overdue moves fall due all the
time. Reported: microseconds per (arrival + pick), rank calls per pick, and the naive re-rank's cost per
pick measured in the same run, as a ratio.

    python benchmarks/bench_worklist.py [--size 100000] [--picks 20000]
"""
from __future__ import annotations

import argparse
import json
import random
import time

from simulator.triage import Aging, AiPriority, Fifo, SlaEdf, TriagePolicy, WorkItem, Worklist


class Counting:
    """Counts the rank calls of the policy it wraps."""

    def __init__(self, policy: TriagePolicy) -> None:
        self.policy, self.name, self.calls = policy, policy.name, 0

    def rank(self, item: WorkItem, now: float):
        self.calls += 1
        return self.policy.rank(item, now)


def study(i: int, ready: float, rng: random.Random) -> WorkItem:
    score = rng.random()
    return WorkItem(index=i, study_type="ct", referral="stat" if rng.random() < 0.01 else "routine",
                    ai_score=score, ai_positive=score > 0.8, arrived_at=ready, ready_at=ready, lane="ct")


def steady_state(policy: TriagePolicy, size: int, picks: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    counting = Counting(policy)
    worklist = Worklist(counting)
    for i in range(size):
        worklist.push(study(i, -480.0 * rng.random(), rng), 0.0)
    lanes = [worklist.lane("ct")]
    counting.calls = 0
    now, step = 0.0, 0.05  # a pick every 3 s of simulated time: 1,000 minutes over 20 k picks
    started = time.perf_counter()
    for k in range(picks):
        now += step
        worklist.push(study(size + k, now, rng), now)
        worklist.pop_for(lanes, now)
    seconds = time.perf_counter() - started
    return {"us_per_arrival_and_pick": round(seconds / picks * 1e6, 2),
            "rank_calls_per_pick": round(counting.calls / picks, 2), "waiting": len(worklist)}


def naive(policy: TriagePolicy, size: int, picks: int, seed: int = 1) -> float:
    """Microseconds per pick when every waiting study is re-ranked at every pick (min over a list)."""
    rng = random.Random(seed)
    waiting = [study(i, -480.0 * rng.random(), rng) for i in range(size)]
    now = 0.0
    started = time.perf_counter()
    for k in range(picks):
        now += 0.05
        waiting.append(study(size + k, now, rng))
        best = min(range(len(waiting)), key=lambda j: policy.rank(waiting[j], now)[:2])
        waiting[best] = waiting[-1]
        waiting.pop()
    return (time.perf_counter() - started) / picks * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--picks", type=int, default=20_000)
    parser.add_argument("--naive-picks", type=int, default=20)
    args = parser.parse_args()
    policies = {
        "fifo": Fifo(),
        "ai_priority": AiPriority(),
        "sla_edf": SlaEdf({"stat": 15.0, "ai_positive": 60.0, "routine": 1440.0}),
        "aging": Aging(AiPriority(), promote_after=60.0, max_wait=240.0),
    }
    results = {}
    for name, policy in policies.items():
        row = steady_state(policy, args.size, args.picks)
        row["naive_us_per_pick"] = round(naive(policy, args.size, args.naive_picks), 1)
        row["speedup_vs_naive"] = round(row["naive_us_per_pick"] / row["us_per_arrival_and_pick"], 1)
        results[name] = row
    small = steady_state(policies["aging"], args.size // 100, args.picks)
    print(json.dumps({"benchmark": "worklist", "waiting": args.size, "picks": args.picks, "policies": results,
                      "aging_at_1pct_size_us": small["us_per_arrival_and_pick"]}, indent=1))


if __name__ == "__main__":
    main()
