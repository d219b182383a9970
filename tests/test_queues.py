"""The upstream queue engines against naive references: plain event-by-event simulations, quadratic and
obviously right, on random small inputs with ties, priorities and capacities that change."""
from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.network import compiled as compiled_loops, queues
from simulator.network.queues import Capacity, serve, share

# Tenths: not exact in binary, so the engines meet the rounding a real run meets.
times = st.lists(st.integers(0, 400).map(lambda x: x / 10), min_size=1, max_size=25)
windows = st.lists(st.tuples(st.integers(0, 400).map(lambda x: x / 10), st.integers(1, 120).map(lambda x: x / 10)),
                   max_size=3)


def naive_share(arrive: list[float], work: list[float], capacity: Capacity) -> list[float]:
    """Every job in the station gets capacity / n; advance from event to event (an arrival, a change of
    capacity, the first job to finish at the current shares)."""
    n = len(arrive)
    left, finish = list(work), [math.inf] * n
    changes = sorted(t for t in capacity.times if t != -math.inf)
    t = min(arrive)
    for _ in range(10 * n + 10 * len(changes) + 10):
        inside = [j for j in range(n) if arrive[j] <= t and finish[j] == math.inf]
        for j in inside:
            if left[j] <= 1e-9:
                finish[j] = t
        inside = [j for j in inside if finish[j] == math.inf]
        rate = capacity.at(t)
        events = [a for a in arrive if a > t] + [c for c in changes if c > t]
        if inside and rate > 0:
            events.append(t + min(left[j] for j in inside) * len(inside) / rate)
        if not events:
            break
        step = min(events)
        if inside and rate > 0:
            for j in inside:
                left[j] -= (step - t) * rate / len(inside)
        t = step
    return finish


def naive_serve(arrive: list[float], priority: list[int], service: list[float], servers: Capacity,
                patience: float = math.inf):
    """At each moment (an arrival, a finish, a change of level): finishes, then arrivals, then starts of
    the best waiting jobs (priority, arrival, index) while fewer jobs run than there are servers; a job
    that has waited longer than `patience` is gone."""
    n = len(arrive)
    start, finish = [math.inf] * n, [math.inf] * n
    moments = sorted(set(arrive) | {t for t in servers.times if t != -math.inf})
    done: set[int] = set()
    while moments:
        t = moments.pop(0)
        running = [j for j in range(n) if start[j] <= t < finish[j]]
        waiting = sorted((priority[j], arrive[j], j) for j in range(n)
                         if arrive[j] <= t and start[j] == math.inf and arrive[j] + patience >= t)
        for _, _, j in waiting[:max(0, int(servers.at(t)) - len(running))]:
            start[j], finish[j] = t, t + service[j]
            if finish[j] not in moments:
                moments.append(finish[j])
                moments.sort()
        done |= {j for j in range(n) if finish[j] <= t}
    return start, finish


@contextmanager
def passes(compiled: bool) -> Iterator[None]:
    """Every pass compiled (numba), or every pass as Python, whatever its size and whatever ran before."""
    saved, loaded, handed = queues.COMPILED_FROM, dict(compiled_loops._loaded), dict(compiled_loops._handed)
    queues.COMPILED_FROM = 0 if compiled else 1 << 62
    compiled_loops._handed.clear()
    if not compiled:
        compiled_loops._loaded.clear()
    try:
        yield
    finally:
        queues.COMPILED_FROM = saved
        for kept, was in ((compiled_loops._loaded, loaded), (compiled_loops._handed, handed)):
            kept.clear()
            kept.update(was)


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "compiled"])
@settings(max_examples=300, deadline=None)
@given(arrive=times, data=st.data(), base=st.integers(1, 3), out=windows,
       patience=st.sampled_from([math.inf, 0.0, 2.5, 10.0]))
def test_serve_agrees_with_the_naive_simulation(compiled, arrive, data, base, out, patience) -> None:
    n = len(arrive)
    priority = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    service = data.draw(st.lists(st.integers(0, 200).map(lambda x: x / 10), min_size=n, max_size=n))
    servers = Capacity.of(base, [(a, a + b, 1.0) for a, b in out])
    with passes(compiled):
        start, finish = serve(np.array(arrive), np.array(priority), np.array(service), servers, patience)
    want_start, want_finish = naive_serve(arrive, priority, service, servers, patience)
    assert start.tolist() == want_start and finish.tolist() == want_finish


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "compiled"])
@settings(max_examples=300, deadline=None)
@given(arrive=times, data=st.data(), rate=st.sampled_from([0.5, 1.0, 2.0]), out=windows,
       slow=st.sampled_from([0.0, 0.5]))
def test_share_agrees_with_the_naive_simulation(compiled, arrive, data, rate, out, slow) -> None:
    work = data.draw(st.lists(st.integers(0, 200).map(lambda x: x / 10), min_size=len(arrive), max_size=len(arrive)))
    capacity = Capacity.of(rate, [(a, a + b, slow) for a, b in out], scale=True)
    with passes(compiled):
        got = share(np.array(arrive), np.array(work), capacity).tolist()
    want = naive_share(arrive, work, capacity)
    assert np.allclose(got, want, rtol=1e-9, atol=1e-7), (got, want)


def test_a_transfer_ending_as_the_link_goes_down_is_not_held_through_the_outage() -> None:
    # Found by the comparison above: the last job's work is done at 25.9 exactly (in exact arithmetic) as the
    # link goes down for a tenth of a minute; rounding put it a hair past, and it waited out the outage.
    arrive = [0.0, 0.0, 19.5, 19.9, 0.0, 0.0, 19.5]
    work = [0.0, 0.0, 2.5, 9.6, 0.0, 0.0, 0.7]
    capacity = Capacity.of(2.0, [(25.9, 26.0, 0.0)], scale=True)
    assert share(np.array(arrive), np.array(work), capacity)[3] == pytest.approx(25.9)


@pytest.mark.parametrize("seed", range(4))
def test_compiled_and_python_passes_give_the_same_bits(seed: int) -> None:
    # A run's outputs must not depend on whether a station's pass was big enough to be compiled.
    rng = np.random.default_rng(seed)
    n = 4000
    arrive = np.round(rng.exponential(0.5, n).cumsum(), 1)
    arrive[rng.random(n) < 0.1] = arrive[0]  # ties
    arrive = rng.permutation(arrive)
    service, work = rng.exponential(1.8, n), rng.exponential(2.0, n) * (rng.random(n) > 0.05)
    priority = rng.integers(0, 3, n).astype(np.int8)
    out = [(float(a), float(a) + float(rng.exponential(30.0)), 1.0) for a in rng.uniform(0, arrive.max(), 5)]
    servers = Capacity.of(4, out)
    capacity = Capacity.of(1.2, [(a, b, float(rng.choice([0.0, 0.5]))) for a, b, _ in out], scale=True)
    got = {}
    for compiled in (False, True):
        with passes(compiled):
            got[compiled] = (*serve(arrive, priority, service, servers, 3.0), share(arrive, work, capacity))
    for python, numba in zip(got[False], got[True]):
        assert python.dtype == numba.dtype == np.float64
        assert python.tobytes() == numba.tobytes()


def test_a_large_pass_compiles_where_nothing_can_be_cached(monkeypatch) -> None:
    # numba refuses cache=True when no folder can hold the compiled code (a read-only install without a
    # user cache); the pass then compiles for this process alone.
    from numba.core import caching

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])
    monkeypatch.setattr(compiled_loops, "_loaded", {})
    with passes(compiled=True):
        finish = share(np.array([0.0, 0.0, 1.0]), np.array([1.0, 1.0, 0.5]), Capacity.constant(1.0))
        assert compiled_loops._loaded  # compiled, not run as Python
    assert finish.tolist() == [2.5, 2.5, 2.5]  # two halves of the link, then three thirds


def test_a_loop_runs_compiled_once_its_process_has_handed_it_enough_work() -> None:
    with passes(compiled=False):
        queues.COMPILED_FROM = 10
        small = np.arange(4.0)
        for _ in range(2):
            serve(small, np.zeros(4, int), np.ones(4), Capacity.constant(1.0))
        assert compiled_loops._loaded == {}  # small passes: Python, and numba not even imported for them
        serve(small, np.zeros(4, int), np.ones(4), Capacity.constant(1.0))  # 12 jobs handed: enough
        assert list(compiled_loops._loaded) == [queues._serve_loop]
        assert queues._runner(queues._serve_loop, 1)[1]  # later passes of any size: compiled
        assert not queues._runner(queues._share_loop, 1)[1]  # the other loop is its own


def in_blocks(station, cuts: list[float], arrive: np.ndarray, given: np.ndarray, columns: list[np.ndarray],
              rng: np.random.Generator) -> list[np.ndarray]:
    """A station run a block at a time, up to each cut then to the end, each job given to a block that ends
    after it arrives (`given`: the block), the jobs of a block in a shuffled order: its outputs by job."""
    n = arrive.shape[0]
    outputs = [np.full(n, math.inf) for _ in range(len(columns) - 1)]
    for block, cut in enumerate([*cuts, math.inf]):
        jobs = rng.permutation(np.flatnonzero(given == block))
        ids, *settled = station.until(cut, jobs, arrive[jobs], jobs, *(c[jobs] for c in columns[1:]))
        for out, values in zip(outputs, settled):
            assert np.isinf(out[ids]).all()  # settled once
            out[ids] = values
    return outputs


def blocks_for(data, arrive: list[float]) -> tuple[list[float], np.ndarray]:
    """Cuts anywhere (on arrivals, between them, before and after them all), and for each job the block it
    is given in: the first that ends after it arrives, or one before (a job given before it arrives waits
    with the station's later jobs)."""
    cuts = sorted(data.draw(st.lists(st.one_of(st.sampled_from(arrive), st.integers(-10, 450).map(lambda x: x / 10)),
                                     max_size=5)))
    first = np.searchsorted(np.array(cuts), np.array(arrive), side="right")  # the first block ending after it
    given = np.array([data.draw(st.integers(0, int(f))) for f in first])
    return cuts, given


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "compiled"])
@settings(max_examples=300, deadline=None)
@given(arrive=times, data=st.data(), base=st.integers(1, 3), out=windows,
       patience=st.sampled_from([math.inf, 0.0, 2.5, 10.0]))
def test_servers_cut_into_blocks_anywhere_give_the_bits_of_one_pass(compiled, arrive, data, base, out,
                                                                    patience) -> None:
    n = len(arrive)
    priority = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    service = np.array(data.draw(st.lists(st.integers(0, 200).map(lambda x: x / 10), min_size=n, max_size=n)))
    servers = Capacity.of(base, [(a, a + b, 1.0) for a, b in out])
    cuts, given = blocks_for(data, arrive)
    with passes(compiled):
        whole = serve(np.array(arrive), priority, service, servers, patience)
        blocks = in_blocks(queues.Servers(servers, patience), cuts, np.array(arrive), given,
                           [np.array(arrive), priority, service], np.random.default_rng(n))
    assert whole[0].tobytes() == blocks[0].tobytes() and whole[1].tobytes() == blocks[1].tobytes()


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "compiled"])
@settings(max_examples=300, deadline=None)
@given(arrive=times, data=st.data(), rate=st.sampled_from([0.5, 1.0, 2.0, 0.3]), out=windows,
       slow=st.sampled_from([0.0, 0.5]))
def test_a_link_cut_into_blocks_anywhere_gives_the_bits_of_one_pass(compiled, arrive, data, rate, out, slow) -> None:
    work = np.array(data.draw(st.lists(st.integers(0, 200).map(lambda x: x / 10), min_size=len(arrive),
                                       max_size=len(arrive))))
    capacity = Capacity.of(rate, [(a, a + b, slow) for a, b in out], scale=True)
    cuts, given = blocks_for(data, arrive)
    with passes(compiled):
        whole = share(np.array(arrive), work, capacity)
        (blocks,) = in_blocks(queues.Link(capacity), cuts, np.array(arrive), given, [np.array(arrive), work],
                              np.random.default_rng(len(arrive)))
    assert whole.tobytes() == blocks.tobytes()


def test_at_the_end_a_station_settles_every_job_those_that_never_start_or_leave_at_infinity() -> None:
    # A station gone for good (no server, no capacity ever again) holds jobs for ever: the end settles
    # them too, at +inf, so that whoever runs it by blocks hears of every job once.
    gone = Capacity((-math.inf, 5.0), (1.0, 0.0))
    arrive = np.array([0.0, 1.0, 2.0, 9.0])
    servers = queues.Servers(gone)
    first = servers.until(3.0, np.arange(4), arrive, np.arange(4), np.zeros(4, dtype=int), np.full(4, 2.0))
    last = servers.until(math.inf, np.zeros(0, dtype=int), np.zeros(0), np.zeros(0, dtype=int),
                         np.zeros(0, dtype=int), np.zeros(0))
    assert sorted([*first[0].tolist(), *last[0].tolist()]) == [0, 1, 2, 3]
    assert dict(zip(last[0].tolist(), last[1].tolist())) == {2: 4.0, 3: math.inf}  # (one server, till 5)
    link = queues.Link(gone)
    first = link.until(3.0, np.arange(4), arrive, np.arange(4), np.full(4, 3.0))
    last = link.until(math.inf, np.zeros(0, dtype=int), np.zeros(0), np.zeros(0, dtype=int), np.zeros(0))
    assert sorted([*first[0].tolist(), *last[0].tolist()]) == [0, 1, 2, 3]
    assert (last[1] == math.inf).any()
