"""The numbered station's loop over plain arrays, where nothing enters the worklist but the studies
themselves: no second opinion, no second read, no late AI result (`RankedOnceStation` when it is not
`general`; the M/M/10 yardstick's model and most validation scenarios).

Studies become ready in order, readers finish reads, shifts start and end, in the kernel's order (time,
priority, then the order events were scheduled: `simulator/kernel.py`), with the rules of `readers.py`
and `dispatch.Pull`, each written out over arrays: the longest-idle reader of the first pool (in the
scenario's order) that has one takes a ready study; a reader done at or after the end of their duty
leaves; a duty's idle readers leave at its end; a free reader takes the best head of their pool's lanes.
A lane is a heap of numbered places (`ranked_once.EntryRanks`).

One function of numbers and arrays, so that numba compiles it unchanged (`compiled.py`): run as Python
until a process has handed it `COMPILED_FROM` studies, compiled from then on, with the same bits
(tests/test_numbered_loop.py; the rule tests of tests/test_rules.py run it both ways).
"""
from __future__ import annotations

import math
from heapq import heappop, heappush

__all__ = ["numbered_loop", "COMPILED_FROM"]

# Compiled once a process has run this many studies through it: loading numba and the loop costs about
# 0.7 s, which the compiled loop gains back (some 1 us a study) from about here.
COMPILED_FROM = 500_000

# The kernel's priorities of simultaneous events; the run's stop shares the first (`kernel.STOP`).
_RELEASE, _SHIFT_END, _SHIFT_START, _SEIZE = 0, 1, 2, 3
# What an event is.
_DONE, _END, _START, _READY, _STOP = 0, 1, 2, 3, 4


def numbered_loop(item, ready, place, lane, study_at, minutes, lane_pools_at, lane_pools, pool_lanes_at,
                  pool_lanes, duty_start, duty_end, duty_first_row, duty_staff, row_pool, row_off, row_present,
                  row_code, horizon, warmup, read_start, reported_at, reader_of, busy, reads, overtime,
                  holding, resumed) -> None:
    """Run the station to `horizon`.

    Studies, in the order they become ready: `item` (the index of its outputs), `ready`, its `place` in the
    worklist's order and its `lane`; `study_at[place]` the item at a place; `minutes[item]` its read time.
    `lane_pools[lane_pools_at[l]:lane_pools_at[l + 1]]`: the pools asked for lane l's studies, in order;
    `pool_lanes[...]` likewise the lanes a pool's readers read. Duties in the order they were scheduled:
    `duty_start` (>= 0), `duty_end`, and their readers' rows `duty_first_row[d]` on (`duty_staff[d]` of
    them; -1: the duty never starts before the horizon). Rows: each reader's pool, end of duty (`row_off`),
    whether present, and code. Fills `read_start`, `reported_at`, `reader_of` (by item), `busy`, `reads`,
    `overtime`, and `holding` and `resumed` (by row: the item read at the horizon, -1 for none, and since
    when)."""
    n = len(item)
    inf = math.inf
    # Readers by row: gone or not (`holding` and `resumed` say what they read, since when); the idle ones
    # of each pool, a linked list in the order they became idle (the longest idle first).
    rows = len(row_pool)
    gone = [False] * rows
    after = [-1] * rows
    before = [-1] * rows
    pools = len(pool_lanes_at) - 1
    first_idle = [-1] * pools
    last_idle = [-1] * pools
    # Empty, of the places' own type (numba types a list by what it is made of: int32 or int64 places).
    heaps = [[p for p in place[:0]] for _ in range(len(lane_pools_at) - 1)]
    events = [(0.0, 0, 0, 0, 0)]  # (time, priority, sequence, what, whose)
    events.pop()
    sequence = 0
    for d in range(len(duty_start)):  # as `ReadingStation._start_shifts`, then the arrivals, then the stop
        heappush(events, (duty_start[d], _SHIFT_START, sequence, _START, d))
        sequence += 1
        if duty_end[d] < horizon:
            heappush(events, (duty_end[d], _SHIFT_END, sequence, _END, d))
            sequence += 1
    if n > 0:
        heappush(events, (ready[0], _SEIZE, sequence, _READY, 0))
        sequence += 1
    heappush(events, (horizon, _RELEASE, sequence, _STOP, 0))
    sequence += 1
    k = 0  # the next study to become ready
    while True:
        now, _, _, what, r = heappop(events)
        if what == _DONE:  # reader r's read is done
            i = holding[r]
            reported_at[i] = now
            reader_of[i] = row_code[r]
            off, began = row_off[r], resumed[r]
            if began >= warmup and now <= off:  # the busy time inside the duty and after the warm-up
                busy[r] += now - began
            else:
                lo = began if began >= warmup else warmup
                hi = off if off < now else now
                if hi > lo:
                    busy[r] += hi - lo
            reads[r] += 1
            if now >= off:  # done at or after the end of the duty: leaves, the time past it overtime
                overtime[r] = now - off
                gone[r] = True
                holding[r] = -1
                continue
        elif what == _READY:  # studies become ready, one after another until something else is due
            while True:
                i = item[k]
                l = lane[k]
                # The longest-idle reader of the first pool that has one. (Every duty ended by now has had
                # its end, which takes its idle readers away: nothing here enters as a read is released.)
                r = -1
                a, b = lane_pools_at[l], lane_pools_at[l + 1]
                while a < b:  # (a while, not a range: run as Python, this is most of the loop's work)
                    p = lane_pools[a]
                    r = first_idle[p]
                    if r >= 0:  # off the front of the pool's idle readers
                        first_idle[p] = after[r]
                        if after[r] >= 0:
                            before[after[r]] = -1
                        else:
                            last_idle[p] = -1
                        break
                    a += 1
                if r < 0:
                    heappush(heaps[l], place[k])
                else:
                    read_start[i] = now
                    holding[r] = i
                    resumed[r] = now
                    heappush(events, (now + minutes[i], _RELEASE, sequence, _DONE, r))
                    sequence += 1
                k += 1
                next_at = ready[k] if k < n else inf
                if next_at == inf or events[0][0] <= next_at:  # the stop is always among the events
                    break
                now = next_at
            if next_at != inf:
                heappush(events, (next_at, _SEIZE, sequence, _READY, 0))
                sequence += 1
            continue
        elif what == _STOP:
            return
        elif what == _END:  # the duty's idle readers leave; those reading leave when done
            d = r
            for r in range(duty_first_row[d], duty_first_row[d] + duty_staff[d]):
                if not gone[r] and holding[r] < 0:
                    p = row_pool[r]
                    if before[r] >= 0:
                        after[before[r]] = after[r]
                    else:
                        first_idle[p] = after[r]
                    if after[r] >= 0:
                        before[after[r]] = before[r]
                    else:
                        last_idle[p] = before[r]
                    gone[r] = True
            continue
        # A reader free (done, or on duty now): takes the best head of their pool's lanes, or waits idle.
        if what == _START:
            d = r
            starting = range(duty_first_row[d], duty_first_row[d] + duty_staff[d])
        else:
            starting = range(r, r + 1)
        for r in starting:
            if not row_present[r]:
                gone[r] = True
                continue
            p = row_pool[r]
            best = -1
            head = 0
            a, b = pool_lanes_at[p], pool_lanes_at[p + 1]
            while a < b:
                heap = heaps[pool_lanes[a]]
                if heap and (best < 0 or heap[0] < head):
                    best, head = pool_lanes[a], heap[0]
                a += 1
            if best < 0:
                holding[r] = -1
                after[r] = -1
                before[r] = last_idle[p]
                if last_idle[p] >= 0:
                    after[last_idle[p]] = r
                else:
                    first_idle[p] = r
                last_idle[p] = r
                continue
            i = study_at[heappop(heaps[best])]
            read_start[i] = now
            holding[r] = i
            resumed[r] = now
            heappush(events, (now + minutes[i], _RELEASE, sequence, _DONE, r))
            sequence += 1
