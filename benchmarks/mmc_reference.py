#!/usr/bin/env python3
"""The yardstick: a plain heap-loop M/M/c queue with two non-preemptive priority classes.

About two heap events per customer and nothing else: the pure-Python speed a simulator is measured
against, as a ratio of throughputs taken in one run. It is the same algorithm, with the same random draws
in the same order, as the project's shared reference loop (`../shared/bench/mmc_reference.py`, where that
folder exists: tests/test_yardstick.py checks both give the same customers and waits), kept here so
that a clone of the project can run its benchmarks on its own.

    python benchmarks/mmc_reference.py [--customers N] [--seed S] [--servers C] [--rho R] [--p-high P]

prints one JSON line: wall seconds, customers per second, and the mean wait of each class beside
Cobham's formula (customers arriving before --warmup are left out of the means).
"""
from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import time
from collections import deque

__all__ = ["simulate", "erlang_c", "cobham_waits"]


def erlang_c(c: int, a: float) -> float:
    """The probability that an arrival waits in an M/M/c queue with offered load a = lambda / mu."""
    waiting = a**c / math.factorial(c) * c / (c - a)
    return waiting / (sum(a**k / math.factorial(k) for k in range(c)) + waiting)


def cobham_waits(c: int, mu: float, lambdas: list[float]) -> list[float]:
    """The mean wait in queue of each class (class 0 highest), non-preemptive, one exponential service."""
    total = sum(lambdas)
    base = erlang_c(c, total / mu) / (c * mu)
    waits, above = [], 0.0
    for rate in lambdas:
        before = above
        above += rate / (c * mu)
        waits.append(base / ((1 - before) * (1 - above)))
    return waits


def simulate(seed: int, customers: int, servers: int, mu: float, lam: float, p_high: float) -> list[tuple]:
    """(arrival time, class, wait) of every customer served."""
    rng = random.Random(seed)
    expo, uniform = rng.expovariate, rng.random
    push, pop = heapq.heappush, heapq.heappop
    waiting = (deque(), deque())
    heap = [(expo(lam), 0, 0)]  # (time, sequence, kind): 0 an arrival, 1 a departure
    served: list[tuple] = []
    busy = sequence = arrived = 0
    while heap:
        now, _, kind = pop(heap)
        if kind == 0:
            arrived += 1
            cls = 0 if uniform() < p_high else 1
            if busy < servers:
                busy += 1
                served.append((now, cls, 0.0))
                sequence += 1
                push(heap, (now + expo(mu), sequence, 1))
            else:
                waiting[cls].append(now)
            if arrived < customers:
                sequence += 1
                push(heap, (now + expo(lam), sequence, 0))
            continue
        if waiting[0]:
            cls, since = 0, waiting[0].popleft()
        elif waiting[1]:
            cls, since = 1, waiting[1].popleft()
        else:
            busy -= 1
            continue
        served.append((since, cls, now - since))
        sequence += 1
        push(heap, (now + expo(mu), sequence, 1))
    return served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--rho", type=float, default=0.85)
    parser.add_argument("--p-high", type=float, default=0.2)
    parser.add_argument("--mu", type=float, default=1.0)
    parser.add_argument("--warmup", type=float, default=1000.0, help="time units left out of the means")
    args = parser.parse_args()
    lam = args.rho * args.servers * args.mu
    started = time.perf_counter()
    served = simulate(args.seed, args.customers, args.servers, args.mu, lam, args.p_high)
    wall = time.perf_counter() - started
    theory = cobham_waits(args.servers, args.mu, [args.p_high * lam, (1 - args.p_high) * lam])
    result = {"customers": len(served), "wall_s": round(wall, 4), "customers_per_s": round(len(served) / wall)}
    for cls in (0, 1):
        waits = [w for a, c, w in served if c == cls and a >= args.warmup]
        result[f"wait_class{cls}"] = round(sum(waits) / max(len(waits), 1), 5)
        result[f"cobham_class{cls}"] = round(theory[cls], 5)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
