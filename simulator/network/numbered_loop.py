"""The numbered station's loop over plain arrays: what enters the worklist is the studies, the second reads
of double-read studies and second opinions, and late AI results rank waiting studies again
(`RankedOnceStation`: the city, the network city, the reference centre, the M/M/10 yardstick's model,
most validation scenarios).

Studies become ready in order, readers finish reads, shifts start and end, in the kernel's order (time,
priority, then the order events were scheduled: `simulator/kernel.py`), with the rules of `readers.py`
and `dispatch.Pull`, each written out over arrays: the longest-idle reader of the first pool (in the
scenario's order) that has one, and who may read the item (not the reader of its other read, nor for a
second opinion the reader who signed the report), takes a ready item, never at the very minute their
duty ends; a double-read study's second read enters right after it; a reader done at or after the end
of their duty leaves; a duty's idle readers leave at its end; a free reader takes the best head of their
pool's lanes that they may read. A late AI result ranks its study (and its second read) again if it still
waits: it keeps its place if its rank is unchanged, else gives it up and enters again, as `ranked_once`'s
docstring says.

A lane is a heap of codes: `2 * place + 1` for a numbered study (`ranked_once.EntryRanks`), `2 * place`
for an entry made as the run goes (a second opinion, a study ranked again) that falls just before the
study numbered `place` (`_place`), with its whole entry `(code, cls, key, entry, item)` on the lane's side
heap: entries of one code go by rank, then entry, in one lane and across lanes. A numbered place given
up stays in its heap until it comes to the head, and is dropped there. A second opinion is ranked by the
policy when its primary report is signed, in Python: the loop is a generator, which yields there with what
is asked in `state` and `clock`, and goes on with the rank written back into them (a generator keeps its
heaps as they are; numba's typed lists, which could be handed from one call to the next, are some 17
times slower to push and pop). The ranks late results give are asked ahead, in the order they come.

One generator of numbers and arrays, so that numba compiles it unchanged (`compiled.py`): run as
Python until a process has handed it `COMPILED_FROM` studies, compiled from then on, with the same bits
(tests/test_numbered_loop.py; the rule tests of tests/test_rules.py run it both ways).
"""
from __future__ import annotations

import math
from heapq import heappop, heappush

__all__ = ["numbered_loop", "HELPERS", "COMPILED_FROM", "ASKED", "OPINION", "ENTERED", "RESULTS", "NOW", "CLS", "KEY"]

# Compiled once a process has run this many studies through it: loading numba and the loop costs about
# 0.7 s, which the compiled loop gains back (some 1 us a study) from about here.
COMPILED_FROM = 500_000

# The kernel's priorities of simultaneous events; the run's stop shares the first (`kernel.STOP`).
_RELEASE, _SHIFT_END, _SHIFT_START, _SEIZE = 0, 1, 2, 3
# What an event is.
_DONE, _END, _START, _READY, _STOP, _RESULTS = 0, 1, 2, 3, 4, 5
# `state`: the reader whose signed report asks for a second opinion, that opinion's item, how many numbered
# items have entered and how many late results have come; `clock`: the time, and the class and key the
# opinion is given.
ASKED, OPINION, ENTERED, RESULTS = range(4)
NOW, CLS, KEY = range(3)


def numbered_loop(item, ready, place, lane, study_at, minutes, partner, opinion_of, opinion_lane, excluded,
                  lane_pools_at, lane_pools, pool_lanes_at, pool_lanes, duty_start, duty_end, duty_first_row,
                  duty_staff, row_pool, row_off, row_present, row_code, horizon, warmup, ranked_cls, ranked_key,
                  entry_at, place_of, result_at, result_item, result_lane, result_cls, result_key, second_cls,
                  second_key, read_start, reported_at, reader_of, busy, reads, overtime, holding, resumed,
                  given_up, relabelled, state, clock):
    """Run the station to the horizon, yielding 1 at each signed report that asks for a second opinion.

    What enters, in order: `item` (the index of its outputs: a study, or right after it its second read),
    its `place` in the numbered order and its `lane`; `ready[item]` (a second read's is its study's);
    `study_at[place]` the item numbered `place`; `minutes[item]`; `partner[item]` the other read of a double-read
    study (-1: none); `opinion_of[item]` a study's second opinion (-1: none), which waits on `opinion_lane`;
    `excluded[item]` the reader code that may not read an item (-1: none).
    `lane_pools[lane_pools_at[l]:lane_pools_at[l + 1]]`: the pools asked for lane l's items, in order;
    `pool_lanes[...]` likewise the lanes a pool's readers read. Duties in the order they were scheduled:
    `duty_start` (>= 0), `duty_end`, and their readers' rows `duty_first_row[d]` on (`duty_staff[d]` of
    them; -1: the duty never starts before the horizon). Rows: each reader's pool, end of duty (`row_off`),
    whether present, and code. The numbered order, by place: `ranked_cls`, `ranked_key`, and `entry_at`,
    the position in order of entry; `place_of[item]`. Late results in the order they come: `result_at`,
    `result_item` (the study), `result_lane` (its lane), the rank they give the study (`result_cls`,
    `result_key`) and its second read (`second_cls`, `second_key`; the study's where it has none).
    Fills `read_start`, `reported_at`, `reader_of` (by item), `busy`, `reads`, `overtime`, and `holding`
    and `resumed` (by row: the item read at the horizon, -1 for none, and since when); `given_up[place]`
    (1: a numbered place given up by a study ranked again) and `relabelled[result]` (0 where the result
    found both reads opened, else 4 * the numbered items entered by then, + 1 if it ranked the study
    again, + 2 its second read). `state` and `clock`: above."""
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
    # Empty, of the codes' type (numba types a list by what it is made of).
    heaps = [[2 * p + 1 for p in place[:0]] for _ in range(len(lane_pools_at) - 1)]
    sides = [[(0, 0.0, 0.0, 0, 0)] for _ in range(len(lane_pools_at) - 1)]
    for side in sides:
        side.pop()
    entries = 0  # entries made as the run goes that have waited on a lane
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
        heappush(events, (ready[item[0]], _SEIZE, sequence, _READY, 0))
        sequence += 1
    results = len(result_at)
    if results > 0:  # as `ReadingStation._start_scores`: one chain
        heappush(events, (result_at[0], _SEIZE, sequence, _RESULTS, 0))
        sequence += 1
    heappush(events, (horizon, _RELEASE, sequence, _STOP, 0))
    sequence += 1
    k = 0  # the next item to enter, and how many have (to place an entry made as the run goes among them)
    x = 0  # the next late result to come
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
            if i < len(opinion_of) and opinion_of[i] >= 0:  # its second opinion, ranked in Python, enters
                j = opinion_of[i]
                state[ASKED], state[OPINION], state[ENTERED], state[RESULTS] = r, j, k, x
                clock[NOW] = now
                yield 1
                code = 2 * _place(clock[CLS], clock[KEY], k, ranked_cls, ranked_key, entry_at)
                t = _idle(opinion_lane, excluded[j], now, lane_pools_at, lane_pools, row_code, row_off, after,
                          before, first_idle, last_idle)
                if t < 0:
                    heappush(heaps[opinion_lane], code)
                    heappush(sides[opinion_lane], (code, clock[CLS], clock[KEY], entries, j))
                    entries += 1
                else:
                    sequence = _start(t, j, now, minutes, partner, excluded, row_code, read_start, holding,
                                      resumed, events, sequence)
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
                # its end, which takes its idle readers away; and the one reader a second read may not go
                # to, its study's, is reading it.)
                t = -1
                a, b = lane_pools_at[l], lane_pools_at[l + 1]
                while a < b:  # (a while, not a range: run as Python, this is most of the loop's work)
                    p = lane_pools[a]
                    t = first_idle[p]
                    if t >= 0:  # off the front of the pool's idle readers
                        first_idle[p] = after[t]
                        if after[t] >= 0:
                            before[after[t]] = -1
                        else:
                            last_idle[p] = -1
                        break
                    a += 1
                if t < 0:
                    heappush(heaps[l], 2 * place[k] + 1)
                else:
                    read_start[i] = now
                    holding[t] = i
                    resumed[t] = now
                    heappush(events, (now + minutes[i], _RELEASE, sequence, _DONE, t))
                    sequence += 1
                    if partner[i] >= 0:  # its second read: someone else
                        excluded[partner[i]] = row_code[t]
                k += 1
                next_at = ready[item[k]] if k < n else inf
                if k < n and item[k] >= len(opinion_of):  # a second read, entering right after its study
                    continue
                if next_at == inf or events[0][0] <= next_at:  # the stop is always among the events
                    break
                now = next_at
            if next_at != inf:
                heappush(events, (next_at, _SEIZE, sequence, _READY, 0))
                sequence += 1
            continue
        elif what == _RESULTS:  # late AI results, all those due now (`_scored`)
            while x < results and result_at[x] <= now:
                i = result_item[x]
                l = result_lane[x]
                for second in range(2):
                    c = second_cls[x] if second else result_cls[x]
                    q = second_key[x] if second else result_key[x]
                    if second:
                        i = partner[i]
                        if i < 0:
                            break
                    if read_start[i] == read_start[i]:  # opened already: read as it stands
                        continue
                    if relabelled[x] == 0:
                        relabelled[x] = 4 * k
                    relabelled[x] += 1 + second
                    p = place_of[i]
                    if ranked_cls[p] == c and ranked_key[p] == q:
                        continue  # keeps its place, ahead of its equals that entered after it
                    given_up[p] = 1
                    code = 2 * _place(c, q, k, ranked_cls, ranked_key, entry_at)
                    t = _idle(l, excluded[i], now, lane_pools_at, lane_pools, row_code, row_off, after, before,
                              first_idle, last_idle)
                    if t < 0:
                        heappush(heaps[l], code)
                        heappush(sides[l], (code, float(c), float(q), entries, i))
                        entries += 1
                    else:
                        sequence = _start(t, i, now, minutes, partner, excluded, row_code, read_start, holding,
                                          resumed, events, sequence)
                x += 1
            if x < results:  # the chain's next, after everything scheduled so far at that time
                heappush(events, (result_at[x], _SEIZE, sequence, _RESULTS, 0))
                sequence += 1
            continue
        elif what == _STOP:
            return
        elif what == _END:  # the duty's idle readers leave; those reading leave when done
            d = r
            for r in range(duty_first_row[d], duty_first_row[d] + duty_staff[d]):
                if not gone[r] and holding[r] < 0:
                    _unlink(r, row_pool[r], after, before, first_idle, last_idle)
                    gone[r] = True
            continue
        # A reader free (done, or on duty now): takes the best head of their pool's lanes they may read, or
        # waits idle.
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
            best = _best(p, pool_lanes_at, pool_lanes, heaps, sides, given_up)
            if best >= 0:
                v = heaps[best][0]
                i = study_at[v >> 1] if v & 1 else sides[best][0][4]
                if excluded[i] == row_code[r]:  # the rare path: looked past, as `Worklist.pop_for` does
                    i = _skipping(p, row_code[r], excluded, study_at, pool_lanes_at, pool_lanes, heaps, sides,
                                  given_up)
                else:
                    heappop(heaps[best])
                    if not v & 1:
                        heappop(sides[best])
            else:
                i = -1
            if i < 0:
                holding[r] = -1
                after[r] = -1
                before[r] = last_idle[p]
                if last_idle[p] >= 0:
                    after[last_idle[p]] = r
                else:
                    first_idle[p] = r
                last_idle[p] = r
                continue
            if partner[i] >= 0:  # the other read: someone else
                excluded[partner[i]] = row_code[r]
            read_start[i] = now
            holding[r] = i
            resumed[r] = now
            heappush(events, (now + minutes[i], _RELEASE, sequence, _DONE, r))
            sequence += 1


def _start(r, i, now, minutes, partner, excluded, row_code, read_start, holding, resumed, events, sequence):
    """Reader r starts item i now, an entry made as the run goes: its release scheduled as the next event;
    its other read, if it has one, someone else's. The events scheduled so far. (Written out where studies
    are taken, where a call per read would cost the loop run as Python.)"""
    if partner[i] >= 0:
        excluded[partner[i]] = row_code[r]
    read_start[i] = now
    holding[r] = i
    resumed[r] = now
    heappush(events, (now + minutes[i], _RELEASE, sequence, _DONE, r))
    return sequence + 1


def _best(p, pool_lanes_at, pool_lanes, heaps, sides, given_up):
    """The lane of pool p whose head comes first (-1: all empty), numbered places given up dropped first. By
    code: a numbered code is one study's; heads made as the run goes that share a code, by their side
    entries (rank, then entry)."""
    best = -1
    head = 0
    a, b = pool_lanes_at[p], pool_lanes_at[p + 1]
    while a < b:
        l = pool_lanes[a]
        heap = heaps[l]
        while heap and heap[0] & 1 and given_up[heap[0] >> 1]:
            heappop(heap)
        if heap and (best < 0 or heap[0] < head
                     or (heap[0] == head and not head & 1 and sides[l][0] < sides[best][0])):
            best, head = l, heap[0]
        a += 1
    return best


def _skipping(p, code, excluded, study_at, pool_lanes_at, pool_lanes, heaps, sides, given_up):
    """As `Worklist._pop_skipping`: in each of pool p's lanes, the first item reader `code` may read; the
    best of those, taken (-1: none). What is looked past goes back."""
    held = [(0, 0, (0, 0.0, 0.0, 0, 0))]  # (lane, code, side entry): made with one so that numba knows its type
    held.pop()
    a, b = pool_lanes_at[p], pool_lanes_at[p + 1]
    while a < b:
        l = pool_lanes[a]
        heap = heaps[l]
        while heap:
            v = heap[0]
            if v & 1 and given_up[v >> 1]:
                heappop(heap)
                continue
            if excluded[study_at[v >> 1] if v & 1 else sides[l][0][4]] != code:
                break
            heappop(heap)
            held.append((l, v, (0, 0.0, 0.0, 0, 0) if v & 1 else heappop(sides[l])))
        a += 1
    best = _best(p, pool_lanes_at, pool_lanes, heaps, sides, given_up)
    i = -1
    if best >= 0:
        v = heappop(heaps[best])
        i = study_at[v >> 1] if v & 1 else heappop(sides[best])[4]
    for l, v, side in held:
        heappush(heaps[l], v)
        if not v & 1:
            heappush(sides[l], side)
    return i


def _place(c, q, entered, ranked_cls, ranked_key, entry_at):
    """Where an entry ranked `(c, q)` falls among the numbered places, `entered` numbered items having
    entered before it: before the first place ranked after it, or ranked as it but entered after it."""
    a, b = 0, len(ranked_cls)
    while a < b:  # the first place ranked as it or after it
        m = (a + b) >> 1
        if ranked_cls[m] < c or (ranked_cls[m] == c and ranked_key[m] < q):
            a = m + 1
        else:
            b = m
    lo, b = a, len(ranked_cls)
    while a < b:  # the first place ranked after it
        m = (a + b) >> 1
        if ranked_cls[m] < c or (ranked_cls[m] == c and ranked_key[m] <= q):
            a = m + 1
        else:
            b = m
    a, b = lo, a
    while a < b:  # among its equals, the first that entered after it
        m = (a + b) >> 1
        if entry_at[m] < entered:
            a = m + 1
        else:
            b = m
    return a


def _idle(l, exclude, now, lane_pools_at, lane_pools, row_code, row_off, after, before, first_idle, last_idle):
    """As `readers.take_idle`: the longest-idle reader of the first of lane l's pools that has one who may
    read the item (not `exclude`, and not at the very minute their duty ends), taken out of the idle; -1."""
    a, b = lane_pools_at[l], lane_pools_at[l + 1]
    while a < b:
        p = lane_pools[a]
        r = first_idle[p]
        while r >= 0 and (row_code[r] == exclude or row_off[r] <= now):
            r = after[r]
        if r >= 0:
            _unlink(r, p, after, before, first_idle, last_idle)
            return r
        a += 1
    return -1


def _unlink(r, p, after, before, first_idle, last_idle):
    """Reader r out of pool p's idle readers."""
    if before[r] >= 0:
        after[before[r]] = after[r]
    else:
        first_idle[p] = after[r]
    if after[r] >= 0:
        before[after[r]] = before[r]
    else:
        last_idle[p] = before[r]


HELPERS = (_start, _best, _skipping, _place, _idle, _unlink)  # compiled with the loop (`compiled.runner`)
