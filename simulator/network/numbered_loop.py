"""The numbered station's loop over plain arrays: what enters the worklist is the studies (some as audits,
on their own lane; a site's on the lane its router chose), the second reads of double-read studies and
second opinions, late AI results rank waiting studies again, and a router opens studies waiting for their
site's readers to the centre (`RankedOnceStation`: every run whose ranks are known ahead, with pull or push
dispatch, under any built-in policy, aging's included: the city, the network city, the reference centre,
the district examples, the M/M/10 yardstick's model, every validation scenario).

Studies become ready in order, readers finish reads, shifts start and end, in the kernel's order (time,
priority, then the order events were scheduled: `simulator/kernel.py`), with the rules of `readers.py`
and `dispatch.Pull`, each written out over arrays: the longest-idle reader of the first pool (in the
scenario's order) that has one, and who may read the item (not the reader of its other read, nor for a
second opinion the reader who signed the report), takes a ready item, never at the very minute their
duty ends; a double-read study's second read enters right after it; a reader done at or after the end
of their duty leaves; a duty's idle readers leave at its end; a free reader takes the best head of their
pool's lanes that they may read. A late AI result ranks its study (and its second read) again if it still
waits: it keeps its place if its rank is unchanged, else gives it up and enters again, as `ranked_once`'s
docstring says. With pre-emption (`preemption.py`), an entry no idle reader takes interrupts the read of
the lowest class started last, if its own class is strictly higher: the interrupted item goes back to the
head of its class (key minus infinity) with what is left to read, and the reader takes their next read at
once, before anything else happens (the chains of studies and of results go on after it); the
interrupted read's release stays in the heap, void (each reader's `pending` names the one that counts).
Where the router holds a study for its site's readers until a time, that time is an event scheduled as the
study enters (before its read's release, as `_route` comes before `enter`); if the study still waits then, it
gives up its entry and enters the lane of both, ranked then (with its late AI result if that came first),
and a late result after that ranks it again on that lane.

With push (`dispatch.Push`), each reader has a lane of their own and a load (the workload units of what
was pushed to them or they took, not yet read, added and taken away in the layered station's order, so
ties fall alike): an entry goes to the reader present with the least load who may read it (`_assign`),
at once if idle, else into their own lane, where with pre-emption it may interrupt their read alone (the
interrupted item waits there too); with nobody, it waits in the shared lane, and whoever takes it from
there has it counted. A late result or an opening takes pushed work back (`_withdraw`) and assigns it
anew, rank unchanged or not. At a duty's end its readers are no longer present, and what waits in their
own lanes enters again, each lane best first, ranked at that time by the policy (a yield, as for a second
opinion: which items wait there is known only then).

A lane is a heap of codes: `2 * place + 1` for a numbered study (`ranked_once.EntryRanks`), `2 * place`
for an entry made as the run goes (a second opinion, a study ranked again) that falls just before the
study numbered `place` (`_place`), with its whole entry `(code, cls, key, entry, item)` on the lane's side
heap: entries of one code go by rank, then entry, in one lane and across lanes. An entry given up (a
numbered place, or with pre-emption an entry made as the run goes whose item entered again) stays in its
heap until it comes to the head, and is dropped there. A second opinion is ranked by the
policy when its primary report is signed, in Python: the loop is a generator, which yields there with what
is asked in `state` and `clock`, and goes on with the rank written back into them (a generator keeps its
heaps as they are; numba's typed lists, which could be handed from one call to the next, are some 17
times slower to push and pop). The ranks late results give are asked ahead, in the order they come.

Ranks that name an `until` (aging, one's own): each entry whose rank names one waits on a heap of those too,
by that time, then in the order entries were made (`Worklist._due`); at a reader's pick, those whose time
has come and still wait as entered are asked again, in that order (a yield: `DUE`, the rank at the time of
the pick, which may depend on it), and wait on anew where they were, entered then (`_refresh`: no reader is
asked, nothing pre-empted). A late result keeps a study in its place only if its new rank is the entry's
and names no time; a read interrupted waits in the class its rank gives at that moment (a yield).

One generator of numbers and arrays, so that numba compiles it unchanged (`compiled.py`): run as
Python until a process has handed it `COMPILED_FROM` studies, compiled from then on, with the same bits
(tests/test_numbered_loop.py; the rule tests of tests/test_rules.py run it both ways). What runs once a
read (the pick, a read's start) is written out in the loop, not called: compiled, a call handed the heaps
and arrays it needs made the loop 40% slower (docs/performance-history.md); the helpers below run on rarer
paths.
"""
from __future__ import annotations

import math
from heapq import heapify, heappop, heappush

__all__ = ["numbered_loop", "HELPERS", "COMPILED_FROM", "ASKED", "OPINION", "ENTERED", "RESULTS", "SIZE", "FIRST", "NOW",
           "CLS", "KEY", "UNTIL", "CUT", "AFTER", "OPINION_RANK", "RANK", "RANK_LATE", "DUE", "DUE_LATE", "BLOCK"]

# Compiled once a process has run this many studies through it: loading numba and the loop costs about
# 0.7 s, which the compiled loop gains back (some 1 us a study) from about here.
COMPILED_FROM = 500_000

# The kernel's priorities of simultaneous events; the run's stop shares the first (`kernel.STOP`).
_RELEASE, _SHIFT_END, _SHIFT_START, _SEIZE = 0, 1, 2, 3
# What an event is (`_DRAIN`: a shift's end going on, with push).
_DONE, _END, _START, _READY, _STOP, _RESULTS, _AGAIN, _DRAIN = 0, 1, 2, 3, 4, 5, 6, 7
# `state`: the reader whose signed report asks for a second opinion, that opinion's item, how many numbered
# items have entered and how many late results have come; and of the block of time being run, how many items
# it numbers and how many of those entered in blocks before (`Blocks`). `clock`: the time, and the class and
# key the opinion is given, and the time its rank names to be asked again (`until`; inf: never); and when
# the block ends and when the first item after it is ready (inf: none).
ASKED, OPINION, ENTERED, RESULTS, SIZE, FIRST = range(6)
NOW, CLS, KEY, UNTIL, CUT, AFTER = range(6)
# What the loop yields for: a second opinion's rank; the rank of an item (`state[OPINION]`) entering again now,
# without its late AI result or with it (with push, one a leaving reader held; with ranks that name an
# `until`, one a read was interrupted for); and with those ranks, the rank of a waiting item whose `until`
# has passed, asked at a reader's pick (`Worklist._refresh`).
OPINION_RANK, RANK, RANK_LATE, DUE, DUE_LATE = 1, 2, 3, 4, 5
# ... and at the end of a block of time, the next block's numbering (`blocks.py`).
BLOCK = 6


def numbered_loop(item, ready, more_ready, place, lane, study_at, minutes, more_minutes, partner, opinion_of,
                  opinion_lane, excluded, lane_pools_at, lane_pools, row_lanes_at, row_lanes, duty_start, duty_end,
                  duty_first_row, duty_staff, row_pool, row_off, row_present, row_code, units, horizon, warmup, preemptive,
                  ranked_cls, ranked_key, ranked_until, entry_at, place_of, result_at, result_item, result_cls,
                  result_key, second_cls, second_key, result_until, second_until, again_entry, again_at, again_lane,
                  again_cls, again_key, again_late_cls, again_late_key, again_until, again_late_until,
                  read_start, reported_at, reader_of, busy, reads, overtime, holding, resumed,
                  given_up, relabelled, remap, below, state, clock):
    """Run the station to the horizon, yielding `OPINION_RANK` at each signed report that asks for a second
    opinion, and with push `RANK` or `RANK_LATE` for each item a leaving reader held (`state[OPINION]`), to
    be ranked then.

    What enters, in order: `item` (the index of its outputs: a study, or right after it its second read),
    its `place` in the numbered order and its `lane`; `ready[item]` when it becomes ready, `more_ready[item -
    len(ready)]` for an item past those (a second read's is its study's); `study_at[place]` the item numbered
    `place`; `minutes[item]` its reading time, `more_minutes[item - len(minutes)]` for an item past those
    (so the studies' may be the cohort's own; with pre-emption, which writes what is left to read, `minutes`
    holds every item's); `partner[item]` the other read of a double-read study (-1: none; empty where no
    study is double read); `opinion_of[item]` a study's second opinion (-1: none), which waits on
    `opinion_lane`; `excluded[item]` the reader code that may not read an item (-1: none; empty where no
    item has one: `_barred`). (Empty, not a column of "none", so that every run types the loop alike:
    numba compiles one form for all.)
    `lane_pools[lane_pools_at[l]:lane_pools_at[l + 1]]`: the pools asked for lane l's items, in order;
    `row_lanes[...]` likewise the lanes reader row r reads. Duties in the order they were scheduled:
    `duty_start` (>= 0), `duty_end`, and their readers' rows `duty_first_row[d]` on (`duty_staff[d]` of
    them; -1: the duty never starts before the horizon). Rows: each reader's pool, end of duty (`row_off`),
    whether present, and code. `units[item]`: with push, its workload units (empty: pull dispatch); reader
    row r's own lane is lane `len(lane_pools_at) - 1 + r`, first of its `row_lanes`.
    `preemptive`: whether an entry may interrupt a read. The numbered order, by
    place: `ranked_cls`, `ranked_key`, `ranked_until` (the time each rank names to be asked again; empty:
    no rank names one), and `entry_at`, the position in order of entry; `place_of[item]`.
    Late results in the order they come: `result_at`, `result_item` (the study), the rank they give the
    study (`result_cls`, `result_key`, `result_until`) and its second read (`second_cls`, `second_key`,
    `second_until`; the study's where it has none). The entries a router holds for their site's readers
    until a time (`ranked_once.Routes`), in the order they enter: `again_entry` (their positions), when one
    still waiting then is opened to both (`again_at`), that lane, and the rank it enters with (`again_cls`,
    `again_key`, `again_until`; `again_late_cls`, `again_late_key`, `again_late_until` if its late AI result
    came before). The untils are empty where `ranked_until` is.
    Fills `read_start`, `reported_at`, `reader_of` (by item), `busy`, `reads`, `overtime`, and `holding`
    and `resumed` (by row: the item read at the horizon, -1 for none, and since when); `given_up[place]`
    (1: a numbered place given up by a study ranked again) and `relabelled[result]` (0 where the result
    found both reads opened, else 4 * the numbered items entered by then, + 1 if it ranked the study
    again, + 2 its second read). `state` and `clock`: above.

    By blocks of time (`blocks.py`): the arrays by place and by position in the order of entry hold one
    block's numbering (`state[SIZE]` items; `state[FIRST]` of them entered in blocks before), and before the
    first event at or after `clock[CUT]` the loop marks the places still waiting (`given_up` 2) and yields
    `BLOCK`; the next block's numbering written, with where each of those places went (`remap`, by old place)
    and how many of them came before each old place (`below`), it renumbers its lanes (`_renumber`) and goes
    on. `clock[AFTER]`: when the first item after the block becomes ready, where its chain goes on."""
    n = state[SIZE]  # the items numbered, entered in this block of time or waiting from one before
    inf = math.inf
    cut, after_cut = clock[CUT], clock[AFTER]
    # Readers by row: gone or not (`holding` and `resumed` say what they read, since when); the idle ones
    # of each pool, a linked list in the order they became idle (the longest idle first).
    rows = len(row_pool)
    gone = [False] * rows
    after = [-1] * rows
    before = [-1] * rows
    pools = 0
    for p in row_pool:
        pools = max(pools, p + 1)
    for p in lane_pools:
        pools = max(pools, p + 1)
    first_idle = [-1] * pools
    last_idle = [-1] * pools
    # With push (`units` given): each reader's lane of their own, after the shared lanes (row r's is
    # `shared + r`); the readers present of each pool, a linked list in the order they came on duty;
    # each reader's load (the workload units pushed to them or taken, not yet read); per item, the reader
    # it is counted against (-1: none) and the shared lane it waits for (`Push.home`). (Empty with pull.)
    shared = len(lane_pools_at) - 1
    pushing = len(units)
    own_rows = rows if pushing else 0  # readers with a lane of their own
    load = [0.0] * own_rows
    holder_of = [-1] * pushing
    home = [0] * pushing
    present_after = [-1] * own_rows
    present_before = [-1] * own_rows
    present_first = [-1] * (pools if pushing else 0)
    present_last = [-1] * (pools if pushing else 0)
    # Empty, of the codes' type (numba types a list by what it is made of).
    heaps = [[2 * p + 1 for p in place[:0]] for _ in range(shared + own_rows)]
    sides = [[(0, 0.0, 0.0, 0, 0)] for _ in range(shared + own_rows)]
    for side in sides:
        side.pop()
    entries = 0  # entries made as the run goes that have waited on a lane
    held = [(0, 0, (0, 0.0, 0.0, 0, 0))]  # heads a free reader may not read: (lane, code, side entry), set aside
    held.pop()
    events = [(0.0, 0, 0, 0, 0)]  # (time, priority, sequence, what, whose)
    events.pop()
    sequence = 0
    for d in range(len(duty_start)):  # as `ReadingStation._start_shifts`, then the arrivals, then the stop
        heappush(events, (duty_start[d], _SHIFT_START, sequence, _START, d))
        sequence += 1
        if duty_end[d] < horizon:
            heappush(events, (duty_end[d], _SHIFT_END, sequence, _END, d))
            sequence += 1
    doubled, barred = len(partner) > 0, len(excluded) > 0  # some study is double read; some reader barred
    studies = len(ready)  # the items whose ready time is in `ready` (the cohort's), the rest's in `more_ready`
    first_at = (ready[item[0]] if item[0] < studies else more_ready[item[0] - studies]) if n > 0 else after_cut
    if first_at < inf:
        heappush(events, (first_at, _SEIZE, sequence, _READY, 0))
        sequence += 1
    results = len(result_at)
    if results > 0:  # as `ReadingStation._start_scores`: one chain
        heappush(events, (result_at[0], _SEIZE, sequence, _RESULTS, 0))
        sequence += 1
    heappush(events, (horizon, _RELEASE, sequence, _STOP, 0))
    sequence += 1
    k = 0  # the next item to enter, and how many have (to place an entry made as the run goes among them)
    x = 0  # the next late result to come
    part = 0  # ... and which of its reads it ranks next: 0 its study, 1 its second read
    pending = [-1] * rows  # the sequence of each reader's release to come (a pre-empted read's is void)
    # With pre-emption: what each reader reads (its class, its lane); each pool's readers in a read, a linked
    # list in the order they started it; per item: pre-empted (1: waiting since, 2: taken again). With
    # pre-emption or a router, where an entry made as the run goes may be given up, per item (else empty):
    # its entry made as the run goes (-1: none, or given up), the class a late result gave it (NaN: none
    # came), and with a router the opening it was opened to both by (-1: none). (Asked by their lengths: a
    # flag for the two made numba's compilation of the loop five times as long, measured.)
    routed = len(again_entry) > 0
    many = rows if preemptive else 1
    drawn = len(minutes)  # the items whose reading time is in `minutes`; the rest's in `more_minutes`
    items = drawn + len(more_minutes) if preemptive or routed or pushing or len(ranked_until) > 0 else 0
    reading_cls = [0.0] * many
    reading_lane = [0] * many
    busy_after = [-1] * many
    busy_before = [-1] * many
    busy_first = [-1] * (pools if preemptive else 1)
    busy_last = [-1] * (pools if preemptive else 1)
    preempted = [0] * (items if preemptive else 1)
    live_of = [-1] * items
    late_cls = [math.nan] * items
    opened = [-1] * (items if routed else 0)
    # With ranks that name an `until` and late results (else empty): the rank of each item's entry made as the
    # run goes (does a late result leave it in place?); and with those ranks, the entries to be ranked again at
    # a pick once their time has come, by (until, order made): (until, order, lane, its entry made as the run
    # goes and its item, or -1 and its numbered place). (Of the events' type: a heap of another type made
    # compiling the loop slower.)
    live_cls = [0.0] * (items if len(ranked_until) > 0 and results > 0 else 0)
    live_key = [0.0] * len(live_cls)
    due = [(0.0, 0, 0, 0, 0)]
    due.pop()
    g, holds = 0, len(again_entry)  # the next entry a router holds, and how many it holds
    victim = -1  # a reader an entry interrupted: takes their next read before anything else is done
    handed = -1  # ... or an idle reader an entry made as the run goes was handed to: starts it, first
    given, given_cls, given_lane = -1, 0.0, 0  # that entry: its item, class and lane
    resume = 0  # what goes on after either: the chain of studies becoming ready, or of late results
    again = False  # the chain of studies goes on after its last entry, not entering it again
    drain, drained = 0, 0  # with push, at a shift's end: the rows whose own lanes go to others, and past them
    while True:
        if resume:
            what = resume
            again = resume == _READY
            resume = 0
        else:
            if events[0][0] >= cut:  # the block of time ends: the next one numbered, then on (`blocks.py`)
                for heap in heaps:
                    for v in heap:
                        if v & 1 and given_up[v >> 1] == 0:
                            given_up[v >> 1] = 2  # a numbered place still waiting, to be numbered anew
                state[RESULTS] = x
                yield BLOCK
                n, k, cut, after_cut = state[SIZE], state[FIRST], clock[CUT], clock[AFTER]
                _renumber(heaps, sides, remap, below, n, ranked_cls, ranked_key, entry_at)
                continue
            now, _, s, what, r = heappop(events)
            if what == _DONE and s != pending[r]:
                continue  # the release of a read pre-empted since: void
        first = -1  # the readers free now: rows first to last - 1 (with the victim, if any, before them)
        last = -1
        if what == _DONE:  # reader r's read is done
            i = holding[r]
            if preemptive:
                _unlink(r, row_pool[r], busy_after, busy_before, busy_first, busy_last)
            reported_at[i] = now
            reader_of[i] = row_code[r]
            off, began = row_off[r], resumed[r]
            if began >= warmup and now <= off:  # the busy time inside the duty and after the warm-up
                busy[r] += now - began
            else:
                busy[r] += _busy_time(began, now, off, warmup)
            reads[r] += 1
            if len(load) > 0:  # push: the work assigned to the reader and not finished
                load[r] -= units[i]
            if i < len(opinion_of) and opinion_of[i] >= 0:  # its second opinion, ranked in Python, enters
                j = opinion_of[i] + 0  # (an int64, as the side entries' items)
                state[ASKED], state[OPINION], state[ENTERED], state[RESULTS] = r, j, k, x
                clock[NOW] = now
                yield OPINION_RANK
                given, given_cls, given_lane = j, clock[CLS], opinion_lane
                entries, victim, handed = _enter(
                    j, opinion_lane, given_cls, clock[KEY], now, k, entries, preemptive, n, ranked_cls, ranked_key,
                    entry_at, excluded, lane_pools_at, lane_pools, row_code, row_off, row_pool, holding, after,
                    before, first_idle, last_idle, present_first, present_after, load, units, holder_of, home, shared,
                    heaps, sides, live_of, busy_first, busy_after, reading_cls, resumed, clock[UNTIL], live_cls, live_key,
                    due)
            if now >= off:  # done at or after the end of the duty: leaves, the time past it overtime
                overtime[r] = now - off
                gone[r] = True
                holding[r] = -1
            else:
                first, last = r, r + 1
        elif what == _READY:  # studies become ready, one after another until something else is due
            while True:
                if again:  # the victim's pick made: the chain goes on after its last entry
                    again = False
                else:
                    i = item[k]
                    l = lane[k]
                    if g < holds and again_entry[g] == k:  # (before its read's release, as
                        heappush(events, (again_at[g], _SEIZE, sequence, _AGAIN, g))  # `_route` before `enter`)
                        sequence += 1
                        g += 1
                    t = -1
                    if len(load) > 0:  # push: to the least-loaded reader present, or the shared lane
                        u = ranked_until[place[k]] if len(ranked_until) > 0 else inf
                        entries, victim, t = _assign(
                            i + 0, l, float(ranked_cls[place[k]]), 0.0, 2 * place[k] + 1, now, entries, preemptive,
                            excluded, lane_pools_at, lane_pools, row_code, row_off, row_pool, holding, after,
                            before, first_idle, last_idle, present_first, present_after, load, units, holder_of,
                            home, shared, heaps, sides, live_of, busy_first, busy_after, reading_cls, resumed,
                            u, k, live_cls, live_key, due)
                        if t < 0 and doubled and partner[i] >= 0 and i < len(opinion_of) and holder_of[i] >= 0:
                            excluded[partner[i]] = row_code[holder_of[i]]  # its second read: not for its reader
                    else:
                        # The longest-idle reader of the first pool that has one. (Every duty ended by now has
                        # had its end, which takes its idle readers away; and the one reader a second read may
                        # not go to, its study's, is reading it.)
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
                            if len(ranked_until) > 0:
                                _due(due, ranked_until[place[k]], entries, k, l, -1, place[k])
                            if preemptive:
                                victim = _victim(l, float(ranked_cls[place[k]]), _barred(excluded, i), now,
                                                 lane_pools_at, lane_pools, busy_first, busy_after, reading_cls,
                                                 resumed, row_off, row_code)
                    if t >= 0:  # (started here, not handed to the pick: that cost the loop 3-8% more, measured)
                        read_start[i] = now
                        holding[t] = i
                        resumed[t] = now
                        pending[t] = sequence
                        heappush(events, (now + (minutes[i] if i < drawn else more_minutes[i - drawn]), _RELEASE,
                                          sequence, _DONE, t))
                        sequence += 1
                        if doubled and partner[i] >= 0:  # its second read: someone else
                            excluded[partner[i]] = row_code[t]
                        if preemptive:
                            _reading(t, i, float(ranked_cls[place[k]]), l, row_pool[t], reading_cls, reading_lane,
                                     busy_first, busy_last, busy_after, busy_before, preempted)
                    k += 1
                    if victim >= 0:  # the victim's pick first; then on from here
                        resume = _READY
                        break
                next_at = after_cut if k >= n else \
                    ready[item[k]] if item[k] < studies else more_ready[item[k] - studies]
                if k < n and item[k] >= len(opinion_of):  # a second read, entering right after its study
                    continue
                if k >= n or events[0][0] <= next_at:  # the stop is always among the events
                    if next_at != inf:
                        heappush(events, (next_at, _SEIZE, sequence, _READY, 0))
                        sequence += 1
                    break
                now = next_at
            if not resume:
                continue
        elif what == _RESULTS:  # late AI results, all those due now (`_scored`)
            while x < results and result_at[x] <= now:
                i = result_item[x] if part == 0 else partner[result_item[x]]
                c = float(second_cls[x] if part else result_cls[x])
                q = float(second_key[x] if part else result_key[x])
                u = float(second_until[x] if part else result_until[x]) if len(result_until) > 0 else inf
                if len(late_cls) > 0:
                    late_cls[i] = c  # (its rank if it is pre-empted later, waiting or not now; it came)
                if read_start[i] != read_start[i] or (preemptive and preempted[i] == 1):  # else read as it stands
                    if relabelled[x] == 0:
                        relabelled[x] = 4 * k
                    relabelled[x] += 1 + part
                    e = entry_at[place_of[i]]
                    o = opened[i] if routed else -1
                    enters = True
                    if preemptive and preempted[i] == 1:  # its entry since the pre-emption given up
                        live_of[i] = -1
                        q = -inf
                    elif not preemptive and len(load) == 0 and len(live_cls) > 0:
                        # Ranks that name an `until`: it keeps its place if its new rank names none and is the one
                        # it waits by (an entry made as the run goes, or its numbered place).
                        if u == inf and ((live_cls[i] == c and live_key[i] == q) if live_of[i] >= 0
                                         else (ranked_cls[place_of[i]] == c and ranked_key[place_of[i]] == q)):
                            enters = False
                        elif live_of[i] >= 0:
                            live_of[i] = -1
                        else:
                            given_up[place_of[i]] = 1
                    elif not preemptive and len(load) == 0 and o < 0 and ranked_cls[place_of[i]] == c \
                            and ranked_key[place_of[i]] == q:
                        enters = False  # keeps its place, ahead of its equals that entered after it
                    elif not preemptive and len(load) == 0 and o >= 0 and again_cls[o] == c and again_key[o] == q:
                        enters = False  # ... the place it was given when opened to both (pushed work: assigned anew)
                    elif len(live_of) > 0 and live_of[i] >= 0:  # (with pre-emption it enters again, as the layered
                        live_of[i] = -1  # station: a new rank may pre-empt)
                    else:
                        given_up[place_of[i]] = 1
                    l = again_lane[o] if o >= 0 else lane[e]
                    if enters:
                        _withdraw(i, load, units, holder_of)
                        given, given_cls, given_lane = i, c, l
                        entries, victim, handed = _enter(
                            i, l, c, q, now, k, entries, preemptive, n, ranked_cls, ranked_key, entry_at, excluded,
                            lane_pools_at, lane_pools, row_code, row_off, row_pool, holding, after, before,
                            first_idle, last_idle, present_first, present_after, load, units, holder_of, home, shared,
                            heaps, sides, live_of, busy_first, busy_after, reading_cls, resumed, u, live_cls, live_key,
                            due)
                part += 1
                if part == 2 or not doubled or partner[result_item[x]] < 0:
                    part = 0
                    x += 1
                if victim >= 0 or handed >= 0:  # that reader's turn first; then on from here
                    resume = _RESULTS
                    break
            if not resume:
                if x < results:  # the chain's next, after everything scheduled so far at that time
                    heappush(events, (result_at[x], _SEIZE, sequence, _RESULTS, 0))
                    sequence += 1
                continue
        elif what == _AGAIN:  # a study still waiting for its site's readers is opened to both (`_on_reroute`)
            e = again_entry[r]
            i = item[e] + 0  # (an int64, as the side entries' items: numba keeps int32 through int())
            if not (read_start[i] != read_start[i] or (preemptive and preempted[i] == 1)):
                continue  # taken meanwhile
            u = inf
            if late_cls[i] == late_cls[i]:  # ranked as it stands then: with its late AI result, if it came
                c, q = float(again_late_cls[r]), float(again_late_key[r])
                if len(again_late_until) > 0:
                    u = float(again_late_until[r])
            else:
                c, q = float(again_cls[r]), float(again_key[r])
                if len(again_until) > 0:
                    u = float(again_until[r])
            if preemptive and preempted[i] == 1:
                q = -inf
            if live_of[i] >= 0:  # its entry given up: one made as the run goes, or its numbered place
                live_of[i] = -1
            else:
                given_up[place[e]] = 1
            opened[i] = r
            _withdraw(i, load, units, holder_of)
            given, given_cls, given_lane = i, c, again_lane[r]
            entries, victim, handed = _enter(
                i, given_lane, c, q, now, k, entries, preemptive, n, ranked_cls, ranked_key, entry_at, excluded,
                lane_pools_at, lane_pools, row_code, row_off, row_pool, holding, after, before, first_idle, last_idle,
                present_first, present_after, load, units, holder_of, home, shared, heaps, sides, live_of, busy_first,
                busy_after, reading_cls, resumed, u, live_cls, live_key, due)
            if victim < 0 and handed < 0:
                continue
        elif what == _STOP:
            return
        elif what == _END:  # the duty's idle readers leave; those reading leave when done
            d = r
            for r in range(duty_first_row[d], duty_first_row[d] + duty_staff[d]):
                if not gone[r] and holding[r] < 0:
                    _unlink(r, row_pool[r], after, before, first_idle, last_idle)
                    gone[r] = True
            if len(load) == 0:
                continue
            # Push: nothing more is pushed to them, and what waits in their own lanes goes to those on duty.
            drain, drained = duty_first_row[d], duty_first_row[d] + duty_staff[d]
            for r in range(drain, drained):
                if row_present[r]:
                    _unlink(r, row_pool[r], present_after, present_before, present_first, present_last)
            resume = _DRAIN
            continue
        elif what == _DRAIN:  # the leaving readers' own lanes, each best first, entered again (`Push.off_duty`)
            while drain < drained:
                i = _pop_live(shared + drain, heaps, sides, given_up, live_of, study_at)
                if i < 0:
                    drain += 1
                    continue
                _withdraw(i, load, units, holder_of)
                state[OPINION], state[ENTERED], state[RESULTS] = i, k, x
                clock[NOW] = now
                yield RANK_LATE if late_cls[i] == late_cls[i] else RANK  # ranked now, in Python
                c, q = clock[CLS], clock[KEY]
                if preemptive and preempted[i] == 1:
                    q = -inf
                given, given_cls, given_lane = i, c, home[i]
                entries, victim, handed = _enter(
                    i, given_lane, c, q, now, k, entries, preemptive, n, ranked_cls, ranked_key, entry_at, excluded,
                    lane_pools_at, lane_pools, row_code, row_off, row_pool, holding, after, before, first_idle,
                    last_idle, present_first, present_after, load, units, holder_of, home, shared, heaps, sides,
                    live_of, busy_first, busy_after, reading_cls, resumed, clock[UNTIL], live_cls, live_key, due)
                if victim >= 0 or handed >= 0:  # that reader's turn first; then on from here
                    resume = _DRAIN
                    break
            if not resume:
                continue
        else:  # a duty starts
            first, last = duty_first_row[r], duty_first_row[r] + duty_staff[r]
            if len(load) > 0:  # push: they are present, candidates for what is pushed
                for t in range(first, last):
                    if row_present[t]:
                        _append(t, row_pool[t], present_after, present_before, present_first, present_last)
        if victim >= 0:  # the read an entry interrupted goes back to the head of its class, the reader free
            c, u = math.nan, inf
            if len(ranked_until) > 0:  # a rank that may name an `until`: asked now, in Python (`Worklist.push`)
                i = holding[victim]
                state[OPINION], state[ENTERED], state[RESULTS] = i, k, x
                clock[NOW] = now
                yield RANK_LATE if late_cls[i] == late_cls[i] else RANK
                c, u = clock[CLS], clock[UNTIL]
            own = shared + victim if len(load) > 0 else -1  # (numba refuses a conditional among 30-odd arguments)
            entries = _interrupt(victim, now, k, entries, holding, minutes, resumed, preempted, busy, row_off, warmup,
                                 pending, row_pool, busy_after, busy_before, busy_first, busy_last, late_cls,
                                 reading_cls, reading_lane, n, ranked_cls, ranked_key, entry_at, heaps, sides, live_of,
                                 own, c, u, live_cls, live_key, due)
            first -= 1
        elif handed >= 0:
            first -= 1
        # A reader free (done, on duty now, or interrupted): takes the best head of their pool's lanes they
        # may read, or waits idle; a reader an entry was handed to (`_enter`) takes that. The one place a
        # read starts, but for a study taken as it becomes ready. (Written out here, not called: calls with
        # the heaps and arrays they need made the compiled loop 40% slower, measured.)
        for row in range(first, last):
            if row == first and handed >= 0:
                r, i, c, best, p = handed, given, given_cls, given_lane, row_pool[handed]
                handed = -1
            else:
                r = victim if victim >= 0 and row == first else row
                if not row_present[r]:
                    gone[r] = True
                    continue
                p = row_pool[r]
                while len(due) > 0 and due[0][0] <= now:  # ranks whose time has come, asked again (`_refresh`)
                    l, i = _ripe(due, given_up, read_start, live_of, preempted, preemptive, study_at)
                    if i < 0:
                        continue
                    state[OPINION], state[ENTERED], state[RESULTS] = i, k, x
                    clock[NOW] = now
                    yield DUE_LATE if late_cls[i] == late_cls[i] else DUE
                    entries = _wait_again(i, l, clock[CLS], clock[KEY], clock[UNTIL], k, entries, preemptive, preempted,
                                          n, ranked_cls, ranked_key, entry_at, heaps, sides, live_of, live_cls,
                                          live_key, due)
                while True:  # the best head by code; heads made as the run goes sharing a code: rank, entry
                    best = -1
                    head = 0
                    # (Looked up by row: by a number of the reader's set of lanes, compiling took twice as long.)
                    a, b = row_lanes_at[r], row_lanes_at[r + 1]
                    while a < b:
                        l = row_lanes[a]
                        heap = heaps[l]
                        while heap:  # an entry given up (`given_up`, `live_of`) is dropped at the head
                            v = heap[0]
                            if v & 1:
                                if given_up[v >> 1] == 0:
                                    break
                            elif len(live_of) == 0 or live_of[sides[l][0][4]] == sides[l][0][3]:
                                break
                            if not heappop(heap) & 1:
                                heappop(sides[l])
                        if heap and (best < 0 or heap[0] < head
                                     or (heap[0] == head and not head & 1 and sides[l][0] < sides[best][0])):
                            best, head = l, heap[0]
                        a += 1
                    if best < 0:
                        break
                    i = study_at[head >> 1] if head & 1 else sides[best][0][4]
                    if not barred or excluded[i] != row_code[r]:
                        break
                    # The rare path: what the reader may not read is set aside, and put back after the pick
                    # (the best head they may read is the first of its lane they may read: `Worklist.pop_for`).
                    heappop(heaps[best])
                    held.append((best, head, (0, 0.0, 0.0, 0, 0) if head & 1 else heappop(sides[best])))
                c = 0.0
                if best >= 0:
                    heappop(heaps[best])
                    if not head & 1:
                        c = heappop(sides[best])[1]
                    elif preemptive:
                        c = float(ranked_cls[head >> 1])
                else:
                    i = -1
                while held:
                    l, v, side = held.pop()
                    heappush(heaps[l], v)
                    if not v & 1:
                        heappush(sides[l], side)
                if i < 0:  # idle, the last of the pool's idle readers
                    holding[r] = -1
                    _append(r, p, after, before, first_idle, last_idle)
                    continue
            if doubled and partner[i] >= 0:  # its other read: someone else's
                excluded[partner[i]] = row_code[r]
            if len(load) > 0 and holder_of[i] != r:  # push: taken from a shared lane, it is this reader's work
                load[r] += units[i]
                holder_of[i] = r
            if read_start[i] != read_start[i]:  # (a pre-empted read keeps its first start)
                read_start[i] = now
            holding[r] = i
            resumed[r] = now
            pending[r] = sequence
            heappush(events, (now + (minutes[i] if i < drawn else more_minutes[i - drawn]), _RELEASE, sequence,
                              _DONE, r))
            sequence += 1
            if preemptive:
                _reading(r, i, c, best, p, reading_cls, reading_lane, busy_first, busy_last, busy_after,
                         busy_before, preempted)
        victim = -1


def _enter(i, l, c, q, now, entered, entries, preemptive, n, ranked_cls, ranked_key, entry_at, excluded, lane_pools_at,
           lane_pools, row_code, row_off, row_pool, holding, after, before, first_idle, last_idle, present_first,
           present_after, load, units, holder_of, home, shared, heaps, sides, live_of, busy_first, busy_after,
           reading_cls, resumed, u, live_cls, live_key, due):
    """As `Pull.enter`, for item i entering lane l as the run goes, ranked `(c, q)` (a second opinion, a
    study a late result ranks again), `entered` numbered items having entered: handed to the longest-idle
    reader who may take it (taken out of the idle; the loop starts the read, before anything else), else
    placed among the numbered items (`_place`), where with pre-emption it may interrupt a read (`_victim`);
    with push, as `Push.enter` (`_assign`). The entries made as the run goes, the reader whose read it
    interrupts and the reader it is handed to (-1: none). `u`: the time its rank names to be asked again
    (`_due`)."""
    if len(load) > 0:
        return _assign(i, l, c, q, 2 * _place(c, q, entered, n, ranked_cls, ranked_key, entry_at), now, entries,
                       preemptive, excluded, lane_pools_at, lane_pools, row_code, row_off, row_pool, holding, after,
                       before, first_idle, last_idle, present_first, present_after, load, units, holder_of, home,
                       shared, heaps, sides, live_of, busy_first, busy_after, reading_cls, resumed, u, entered,
                       live_cls, live_key, due)
    t = _idle(l, _barred(excluded, i), now, lane_pools_at, lane_pools, row_code, row_off, after, before, first_idle,
              last_idle)
    if t >= 0:
        return entries, -1, t
    code = 2 * _place(c, q, entered, n, ranked_cls, ranked_key, entry_at)
    heappush(heaps[l], code)
    heappush(sides[l], (code, c, q, entries, i))
    victim = -1
    if len(live_of) > 0:
        live_of[i] = entries
    if len(live_cls) > 0:
        live_cls[i], live_key[i] = c, q
    _due(due, u, entries, entered, l, entries, i)
    if preemptive:
        victim = _victim(l, c, _barred(excluded, i), now, lane_pools_at, lane_pools, busy_first, busy_after,
                         reading_cls, resumed, row_off, row_code)
    return entries + 1, victim, -1


def _assign(i, l, c, q, code, now, entries, preemptive, excluded, lane_pools_at, lane_pools, row_code, row_off,
            row_pool, holding, after, before, first_idle, last_idle, present_first, present_after, load, units,
            holder_of, home, shared, heaps, sides, live_of, busy_first, busy_after, reading_cls, resumed, u, entered,
            live_cls, live_key, due):
    """As `Push.enter`: item i, ranked `(c, q)` with the code `code` (odd: its numbered place; even: an entry
    made as the run goes, with its side entry), for lane l, goes to the reader of lane l's pools present
    (pools in order, each in the order its readers came on duty) with the least load who may read it and
    whose duty does not end now (ties: the first), counted against them: taken out of the idle if idle
    (the loop starts the read, before anything else), else it waits in their own lane, where with
    pre-emption it may interrupt that reader's read alone; with nobody, it waits in lane l as with pull.
    The entries made as the run goes, the reader whose read it interrupts and the reader it is handed to
    (-1: none). `u`: the time its rank names to be asked again, `entered` numbered items having entered
    (`_due`)."""
    t = -1
    least = math.inf
    barred = _barred(excluded, i)
    a, b = lane_pools_at[l], lane_pools_at[l + 1]
    while a < b:
        r = present_first[lane_pools[a]]
        while r >= 0:
            if load[r] < least and row_code[r] != barred and row_off[r] > now:
                t, least = r, load[r]
            r = present_after[r]
        a += 1
    home[i] = l
    w = l  # the lane it waits in
    if t >= 0:
        load[t] += units[i]
        holder_of[i] = t
        if holding[t] < 0:  # idle: it is theirs now
            _unlink(t, row_pool[t], after, before, first_idle, last_idle)
            return entries, -1, t
        w = shared + t
    heappush(heaps[w], code)
    e = -1
    if not code & 1:  # (an int64 item, as the side entries': numba keeps an int32 study's through int())
        e = entries
        heappush(sides[w], (code, c, q, e, i + 0))
        live_of[i] = e
        entries += 1
        if len(live_cls) > 0:
            live_cls[i], live_key[i] = c, q
    _due(due, u, e if e >= 0 else entries, entered, w, e, i if e >= 0 else code >> 1)
    victim = -1
    if preemptive:
        if t < 0:
            victim = _victim(l, c, barred, now, lane_pools_at, lane_pools, busy_first, busy_after, reading_cls,
                             resumed, row_off, row_code)
        elif reading_cls[t] > c:
            victim = t
    return entries, victim, -1


def _pop_live(w, heaps, sides, given_up, live_of, study_at):
    """The best entry of lane w that is not given up, taken off it and given up (those given up before it
    dropped): its item; -1 if none is left."""
    heap = heaps[w]
    while heap:
        v = heappop(heap)
        if v & 1:
            if given_up[v >> 1] == 0:
                given_up[v >> 1] = 1
                return study_at[v >> 1] + 0
        else:
            side = heappop(sides[w])
            if live_of[side[4]] == side[3]:
                live_of[side[4]] = -1
                return side[4]
    return -1


def _withdraw(i, load, units, holder_of):
    """As `Push.withdraw`: item i, about to enter again, no longer counted against a reader it was
    pushed to (with pull, or an item nobody holds: nothing)."""
    if len(holder_of) > 0 and holder_of[i] >= 0:
        load[holder_of[i]] -= units[i]
        holder_of[i] = -1


def _interrupt(r, now, entered, entries, holding, minutes, resumed, preempted, busy, row_off, warmup, pending,
               row_pool, busy_after, busy_before, busy_first, busy_last, late_cls, reading_cls, reading_lane,
               n, ranked_cls, ranked_key, entry_at, heaps, sides, live_of, own, given_cls, u, live_cls, live_key, due):
    """As `ReadingStation.interrupt`: reader r's read stops now (its release void), the item keeps what is
    left to read and waits at the head of the class it was read under (or a late result gave it since),
    `entered` numbered items having entered: on the lane it was read from, or with push (`own`, else -1)
    in the reader's own lane, still theirs; with ranks that name an `until`, the class is the one asked now
    (`given_cls`; else NaN), and `u` its time to be asked again (`_due`). The entries made as the run goes so
    far."""
    i = holding[r]
    minutes[i] -= now - resumed[r]
    preempted[i] = 1
    busy[r] += _busy_time(resumed[r], now, row_off[r], warmup)
    holding[r] = -1
    pending[r] = -1
    _unlink(r, row_pool[r], busy_after, busy_before, busy_first, busy_last)
    c = given_cls if given_cls == given_cls else late_cls[i] if late_cls[i] == late_cls[i] else reading_cls[r]
    l = reading_lane[r] if own < 0 else own
    code = 2 * _place(c, -math.inf, entered, n, ranked_cls, ranked_key, entry_at)
    heappush(heaps[l], code)
    heappush(sides[l], (code, c, -math.inf, entries, i))
    live_of[i] = entries
    if len(live_cls) > 0:
        live_cls[i], live_key[i] = c, -math.inf
    _due(due, u, entries, entered, l, entries, i)
    return entries + 1


def _ripe(due, given_up, read_start, live_of, preempted, preemptive, study_at):
    """The first entry of the heap of times to be asked again, taken off it: its lane and item if it still
    waits as it was entered (its numbered place then given up), else item -1."""
    _, _, l, e, i = heappop(due)
    if e < 0:  # a numbered place: waiting if never started, nor given up
        v = i
        i = study_at[v] + 0
        if given_up[v] != 0 or read_start[i] == read_start[i]:
            return l, -1
        given_up[v] = 1
    elif live_of[i] != e or not (read_start[i] != read_start[i] or (preemptive and preempted[i] == 1)):
        return l, -1
    return l, i


def _wait_again(i, l, c, q, u, entered, entries, preemptive, preempted, n, ranked_cls, ranked_key, entry_at, heaps,
                sides, live_of, live_cls, live_key, due):
    """Item i, asked again as its time came, ranked `(c, q)` until `u`: waits on in lane l, entered now
    (`Worklist._insert`: no reader is asked, nothing pre-empted), `entered` numbered items having entered.
    The entries made as the run goes so far."""
    if preemptive and preempted[i] == 1:
        q = -math.inf
    code = 2 * _place(c, q, entered, n, ranked_cls, ranked_key, entry_at)
    heappush(heaps[l], code)
    heappush(sides[l], (code, c, q, entries, i))
    live_of[i] = entries
    if len(live_cls) > 0:
        live_cls[i], live_key[i] = c, q
    _due(due, u, entries, entered, l, entries, i)
    return entries + 1


def _due(due, u, entries, entered, l, e, i):
    """An entry whose rank names a time to be asked again (`u`; inf: never) on the heap of those, by time,
    then in the order entries are made (`Worklist._due`'s): an entry made as the run goes counts one more of
    `entries`, a numbered one one more of `entered`, so the pair grows with each. It waits in lane `l`; `e`
    is the entry made as the run goes and `i` its item, or `e` is -1 and `i` the numbered place."""
    if u < math.inf:
        heappush(due, (u, (entries << 32) + entered, l + 0, e + 0, i + 0))


def _renumber(heaps, sides, remap, below, n, ranked_cls, ranked_key, entry_at):
    """Each lane's entries in the next block's numbering (`blocks.py`): a numbered place still waiting at
    `remap[place]` (-1: given up, dropped), an entry made as the run goes placed anew among the places, after
    the `below[place]` still waiting that it came after (its code `2 * place`). The order of any two entries
    is the one they had: only their codes change. (Pull dispatch, nothing pre-empted, no `until`: every
    entry made as the run goes still waits.)"""
    for l in range(len(heaps)):
        heap, side = heaps[l], sides[l]
        codes = [v for v in heap if v & 1 and remap[v >> 1] >= 0]
        for a in range(len(codes)):
            codes[a] = 2 * remap[codes[a] >> 1] + 1
        entries = [(2 * _place(c, q, below[v >> 1], n, ranked_cls, ranked_key, entry_at), c, q, e, i)
                   for v, c, q, e, i in side]
        heap.clear()
        side.clear()
        for v in codes:
            heap.append(v)
        for entry in entries:
            heap.append(entry[0])
            side.append(entry)
        heapify(heap)
        heapify(side)


def _busy_time(began, now, off, warmup):
    """A read's minutes from `began` to `now` inside the reader's duty (to `off`) and after the warm-up."""
    lo = began if began >= warmup else warmup
    hi = off if off < now else now
    return hi - lo if hi > lo else 0.0


def _reading(r, i, c, l, p, reading_cls, reading_lane, busy_first, busy_last, busy_after, busy_before, preempted):
    """With pre-emption: reader r, of pool p, reads item i of class c from lane l, last of the pool's readers
    in a read (`pool.busy`'s order)."""
    reading_cls[r] = c
    reading_lane[r] = l
    _append(r, p, busy_after, busy_before, busy_first, busy_last)
    if preempted[i] == 1:
        preempted[i] = 2


def _victim(l, c, exclude, now, lane_pools_at, lane_pools, busy_first, busy_after, reading_cls, resumed, row_off,
            row_code):
    """As `Preemption.for_item`: the reader whose read an entry of class c on lane l interrupts (-1: none):
    of lane l's pools' readers in a read of a class strictly lower (a greater number), before the end of
    their duty and allowed to read it, the one of the lowest class, started last; ties to the first, pools
    in order, each pool's readers in the order they started."""
    victim = -1
    a, b = lane_pools_at[l], lane_pools_at[l + 1]
    while a < b:
        r = busy_first[lane_pools[a]]
        while r >= 0:
            if row_off[r] > now and reading_cls[r] > c and row_code[r] != exclude and (
                    victim < 0 or reading_cls[r] > reading_cls[victim]
                    or (reading_cls[r] == reading_cls[victim] and resumed[r] > resumed[victim])):
                victim = r
            r = busy_after[r]
        a += 1
    return victim


def _barred(excluded, i):
    """The reader code that may not read item i (-1: none; `excluded` is empty where no item has one)."""
    return excluded[i] if len(excluded) > 0 else -1


def _place(c, q, entered, n, ranked_cls, ranked_key, entry_at):
    """Where an entry ranked `(c, q)` falls among the `n` numbered places (the arrays may hold more: a block
    of time's are the first; none where nothing is ranked as the run goes), `entered` numbered items having
    entered before it: before the first place ranked after it, or ranked as it but entered after it."""
    end = min(n, len(ranked_cls))
    a, b = 0, end
    while a < b:  # the first place ranked as it or after it
        m = (a + b) >> 1
        if ranked_cls[m] < c or (ranked_cls[m] == c and ranked_key[m] < q):
            a = m + 1
        else:
            b = m
    lo, b = a, end
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


def _append(r, p, after, before, first, last):
    """Reader r last in pool p's list (its idle readers, or with pre-emption those in a read)."""
    after[r] = -1
    before[r] = last[p]
    if last[p] >= 0:
        after[last[p]] = r
    else:
        first[p] = r
    last[p] = r


def _unlink(r, p, after, before, first_idle, last_idle):
    """Reader r out of pool p's list (its idle readers, or with pre-emption those in a read)."""
    if before[r] >= 0:
        after[before[r]] = after[r]
    else:
        first_idle[p] = after[r]
    if after[r] >= 0:
        before[after[r]] = before[r]
    else:
        last_idle[p] = before[r]


# Compiled with the loop (`compiled.runner`).
HELPERS = (_enter, _assign, _pop_live, _withdraw, _interrupt, _ripe, _wait_again, _due, _renumber, _busy_time, _reading,
           _victim, _barred, _place, _idle, _append, _unlink)
