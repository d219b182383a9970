"""How fast the reading path could be in CPython with its own objects: the M/M/10 two-class yardstick of
benchmarks/mmc_reference.py run by one flat loop that does what the reading station does per study (a `Read`
work item, the `fifo` policy's `rank` for its class and label, a worklist heap entry, a reader taking it,
the outcome's typed arrays), but with none of the model's layers (kernel, station, dispatch strategy,
worklist methods) and none of its other duties (shifts, lanes, exclusions, second opinions, warm-up).

It is not a model of radsim (nothing uses it); it bounds what removing the layers could gain. Reports
its ratio to the reference loop, alternating in one process, next to the real model's from bench_mmc.py.

    python benchmarks/bench_mmc_floor.py [--rounds 3]
"""
from __future__ import annotations

import argparse
import heapq
import json
import random
import statistics
import time
from array import array
from itertools import count

from bench_mmc import load_reference

from simulator.network.readers import Read
from simulator.triage.policies import Fifo


class _Reader:
    __slots__ = ("code", "item", "resumed", "busy", "reads")

    def __init__(self, code: int) -> None:
        self.code, self.item, self.resumed, self.busy, self.reads = code, None, 0.0, 0.0, 0


def flat_loop(seed: int, customers: int, servers: int = 10, mu: float = 1.0, lam: float = 8.5,
              p_high: float = 0.2) -> int:
    """Serves `customers` studies; returns how many were reported."""
    rng = random.Random(seed)
    expo, rnd = rng.expovariate, rng.random
    rank = Fifo().rank
    push, pop = heapq.heappush, heapq.heappop
    read_start, reported, reader_of = (array("d", bytes(8 * customers)), array("d", bytes(8 * customers)),
                                       array("q", bytes(8 * customers)))
    label, codes = array("h", bytes(2 * customers)), {}
    idle = {_Reader(code): None for code in range(servers)}
    events, waiting, eid, seq = [(expo(lam), 0, None)], [], count(1), 0
    arrivals = done = 0
    while events:
        now, _, reader = pop(events)
        if reader is None:  # a study becomes ready
            i = arrivals
            arrivals += 1
            item = Read(i, "study", "primary", "stat" if rnd() < p_high else "routine", "CT", "site", None, None,
                        None, now, now, None, (), "lane", -1, "", 0, False, None, expo(mu))
            r = rank(item, now)
            item.label = r.label
            code = codes.get(r.label)
            if code is None:
                code = codes[r.label] = len(codes)
            label[i] = code
            if idle:
                reader = next(iter(idle))
                del idle[reader]
                read_start[i] = now
                item.holder, reader.item, reader.resumed = reader, item, now
                push(events, (now + item.remaining, next(eid), reader))
            else:
                seq += 1
                entry = [r.cls, r.key, seq, item]
                item.entry, item.cls = entry, r.cls
                push(waiting, entry)
            if arrivals < customers:
                push(events, (now + expo(lam), next(eid), None))
            continue
        item = reader.item  # a read is done
        i = item.index
        reported[i], reader_of[i] = now, reader.code
        reader.busy += now - reader.resumed
        reader.reads += 1
        reader.item = None
        done += 1
        if waiting:
            item = pop(waiting)[3]
            item.entry = None
            read_start[item.index] = now
            item.holder, reader.item, reader.resumed = reader, item, now
            push(events, (now + item.remaining, next(eid), reader))
        else:
            idle[reader] = None
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    reference = load_reference()
    ratios = []
    for round_ in range(args.rounds):
        started = time.perf_counter()
        served = len(reference.simulate(round_ + 1, 200_000, 10, 1.0, 8.5, 0.2))
        ref_rate = served / (time.perf_counter() - started)
        started = time.perf_counter()
        done = flat_loop(round_ + 1, 200_000)
        ratios.append(done / (time.perf_counter() - started) / ref_rate)
    print(json.dumps({"benchmark": "mmc10-200k-flat-loop", "rounds": args.rounds,
                      "ratio_flat_loop": round(statistics.median(ratios), 3),
                      "ratios_per_round": [round(r, 3) for r in ratios]}))


if __name__ == "__main__":
    main()
