"""The upstream stations with a capacity as one chain, gone through a block of time at a time: devices
(acquisition, patients sent on between sites) -> uplinks -> the archive's ingest -> AI workers.

Each block gives the chain the studies that arrive in it and takes every station up to the block's end
(`queues.Servers`, `queues.Link`): what is in a station then, and what is known to arrive at one later
(an exam ending after the block, a transfer that will reach the archive), waits for the next block. So a
study's way is the same in one block as in many (tests/test_upstream_blocks.py), and a horizon of several
years goes a year at a time (`streams.YEAR`, the draws' years), each year drawn on its own.

What a station draws is drawn per study, before the study comes to it, from the station's streams of the
study's year: its exam at its site's devices, and at the devices it may be sent to (`devices.py`), its
size, its inference at the AI's workers; so a study's times never depend on how many others reached a
station before it, nor on how the horizon is cut. At equal arrival times a station takes its jobs in
study order (a device group: its own patients, then those sent to it).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..calendar import after_outages, windows
from ..distributions import sample
from ..draws import Draws, draw_years
from ..scenario import Devices, Scenario
from ..streams import YEAR, by_year, stream, years_of
from ..triage import Kind
from .ai_compute import worker_capacity
from .devices import capacity, devices_of, exam_times, in_sending_order
from .figures import StationTally
from .queues import Capacity, Link, Servers
from .transfer import ingest_capacity, uplink_capacity

__all__ = ["Chain"]

INF = math.inf


class _Yearly:
    """Values one station draws per study, a year of studies at a time when first asked for (`chosen`:
    which studies of a range of study indices, in order; `draw(year, count)`: their values, from the
    year's streams), and let go once no study of the year can still ask (`let_go`)."""

    def __init__(self, years: np.ndarray, chosen: Callable[[int, int], np.ndarray],
                 draw: Callable[[int, int], np.ndarray]) -> None:
        self.years = years  # where each year's studies start in study order, and where the last ends
        self.chosen, self.draw = chosen, draw
        self.drawn: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def of(self, studies: np.ndarray) -> np.ndarray:
        values = np.empty(studies.shape[0])
        if not studies.shape[0]:
            return values
        year = np.searchsorted(self.years, studies, side="right") - 1 if self.years.shape[0] > 2 else None
        for y in range(0 if year is None else int(year.min()), 1 if year is None else int(year.max()) + 1):
            if y not in self.drawn:
                chosen = self.chosen(int(self.years[y]), int(self.years[y + 1]))
                # (Indices in 32 bits where they fit: a city year's exams are 7 M studies.)
                self.drawn[y] = (chosen.astype(np.int32) if self.years[-1] < 2 ** 31 else chosen,
                                 self.draw(y, chosen.shape[0]))
            chosen, drawn = self.drawn[y]
            if year is None:
                return drawn[np.searchsorted(chosen, studies)]
            at = year == y
            values[at] = drawn[np.searchsorted(chosen, studies[at])]
        return values

    def let_go(self, done: Callable[[int], bool]) -> None:
        """Let go of the years no study can still ask for (`done`)."""
        for y in [y for y in self.drawn if done(y)]:
            del self.drawn[y]


class _Members:
    """The device groups' own patients in a range of studies (a year's), split once for all the groups
    (one stable sort of their group codes, not a scan of the range per group)."""

    def __init__(self, group_of: np.ndarray) -> None:
        self.group_of = group_of
        self.split: tuple[int, int, np.ndarray, np.ndarray] | None = None  # the range, its studies by group, bounds

    def of(self, lo: int, hi: int, g: int) -> np.ndarray:
        if self.split is None or self.split[:2] != (lo, hi):
            codes = self.group_of[lo:hi]
            by_group, bounds = _by_code(codes, int(codes.max(initial=-1)) + 1)
            self.split = (lo, hi, lo + by_group, bounds)
        _, _, studies, bounds = self.split
        return studies[bounds[g]:bounds[g + 1]] if g + 1 < bounds.shape[0] else studies[:0]

    def let_go(self) -> None:
        self.split = None


class _Jobs:
    """One station, and what it served as blocks settle its jobs: its figures' sums (`StationTally`), and
    with `detail` the jobs themselves."""

    def __init__(self, station: Servers | Link, tally: StationTally, detail: bool) -> None:
        self.station, self.tally = station, tally
        self.pieces: list[tuple[np.ndarray, dict[str, np.ndarray]]] | None = [] if detail else None

    def add(self, tie: np.ndarray, **columns: np.ndarray) -> None:
        """A block's settled jobs, taken in the order of their ties (in one block, the order of one pass)."""
        if (tie[1:] < tie[:-1]).any():
            order = np.argsort(tie, kind="stable")
            tie, columns = tie[order], {name: values[order] for name, values in columns.items()}
        self.tally.add(columns)
        if self.pieces is not None:
            self.pieces.append((tie, columns))

    def served(self) -> dict[str, np.ndarray]:
        """Its jobs in the order of their ties (with `detail`)."""
        assert self.pieces is not None
        order = np.argsort(np.concatenate([tie for tie, _ in self.pieces]), kind="stable")
        return {name: np.concatenate([columns[name] for _, columns in self.pieces])[order]
                for name in self.pieces[0][1]} if self.pieces else {}


class Chain:
    """A replication's upstream stations, carried from block to block: `block` hands them the studies of
    the next block of time; each study's way so far is in the arrays (`acquired`, `at_archive`, `ready`,
    ...), and `figures` says what each station did once the last block is through (`detail`: with its jobs,
    one by one)."""

    def __init__(self, scenario: Scenario, draws: Draws, seed: int, replication: int, detail: bool = False) -> None:
        self.scenario, self.draws = scenario, draws
        n = len(draws)
        arrived = draws.arrivals.arrived_at
        types = list(scenario.study_types.values())
        self.imaging = np.array([t.kind == Kind.PRIMARY.value for t in types])[draws.study_type]
        modality_names = sorted({t.modality for t in types})
        self.modality = np.array([modality_names.index(t.modality) for t in types], dtype=np.int16)[draws.study_type]
        self.modality_names = modality_names
        self.site = draws.arrivals.site.copy()
        self.site_code = {name: code for code, name in enumerate(scenario.sites)}
        self.n = n
        self.acquired, self.exam_start = arrived.copy(), np.full(n, np.nan)
        self.at_archive = np.full(n, np.nan)
        self.scored = np.zeros(n, dtype=bool)
        self.late = np.zeros(n, dtype=bool)
        self.scored_at, self.inference_start = np.full(n, np.nan), np.full(n, np.nan)
        self.ready = np.full(n, np.nan)
        # The devices: each group's station (and its figures), in sending order.
        self.groups = devices_of(scenario)
        self.sending = in_sending_order(self.groups)
        # Each study's own device group (its position in sending order; -1: none), by its drawn site and modality.
        table = np.full((len(scenario.sites), len(modality_names)), -1, dtype=np.int16)
        for g, (site_name, modality) in enumerate(self.sending):
            table[self.site_code[site_name], modality_names.index(modality)] = g
        self.group_of = np.where(self.imaging, table[draws.arrivals.site, self.modality], -1).astype(np.int16)
        self.years = np.searchsorted(arrived, YEAR * np.arange(draw_years(scenario) + 1), side="left")
        self.years[-1] = n
        self.on_the_way = np.diff(self.years)  # of each year's studies, how many have not reached the archive yet
        self.members = _Members(self.group_of)
        self.devices = {}
        for key in self.sending:
            group, level = self.groups[key], capacity(scenario, self.groups[key])
            self.devices[key] = _Jobs(Servers(level, INF if group.overflow is None else group.overflow.after.in_minutes),
                                      StationTally(scenario, f"devices:{key[0]}/{key[1]}", level), detail)
        # Each station's draws per study, a year at a time (`_Yearly`): each group's exams of its own patients
        # and, where some group sends patients to it, of any of the modality's patients; each AI's inference.
        self.exams: dict[tuple[str, str], _Yearly] = {}
        self.sent_exams: dict[tuple[str, str], _Yearly] = {}
        for g, key in enumerate(self.sending):
            name, group, m = f"{key[0]}/{key[1]}", self.groups[key], modality_names.index(key[1])
            # (The members named, not the chain: a closure over it would make a cycle only the collector frees.)
            self.exams[key] = _Yearly(self.years, lambda lo, hi, g=g, members=self.members: members.of(lo, hi, g),
                                      self._exams(group, name, seed, replication))
            if any(other.overflow is not None and (other.overflow.to, k[1]) == key for k, other in self.groups.items()):
                self.sent_exams[key] = _Yearly(
                    self.years, lambda lo, hi, m=m, imaging=self.imaging, modality=self.modality:
                    lo + np.flatnonzero(imaging[lo:hi] & (modality[lo:hi] == m)),
                    self._exams(group, f"{name}<-sent", seed, replication))
        # When a patient was last sent on (to the group now holding them), where any group sends patients.
        self.sent_at = np.full(n if any(g.overflow is not None for g in self.groups.values()) else 0, np.nan)
        self.size, self.sized = _sizes(scenario, seed, replication, draws.study_type, years_of(arrived))
        self.links = {code: self._link(f"uplink:{name}", uplink_capacity(scenario, name), detail)
                      for code, (name, spec) in enumerate(scenario.sites.items()) if spec.uplink is not None}
        self.has_link = np.array([spec.uplink is not None for spec in scenario.sites.values()], dtype=bool)
        self.ingest = None if scenario.ingest.mbyte_per_s is None else \
            self._link("ingest", ingest_capacity(scenario), detail)
        # AI: each service's studies, its workers (if any) and the inference drawn for each of its studies.
        self.services = {}
        for name, service in scenario.ai_services.items():
            mine = np.isin(draws.study_type, [t for t, study_type in enumerate(types) if study_type.primary_ai == name])
            inference = None
            if service.workers is not None:
                inference = _Yearly(self.years, lambda lo, hi, mine=mine: lo + np.flatnonzero(mine[lo:hi]),
                                    lambda year, count, service=service, name=name: sample(
                                        service.inference_minutes, stream(seed, replication, "inference", name, year),
                                        count))
            workers = None
            if service.workers is not None:
                level = worker_capacity(scenario, service)
                workers = _Jobs(Servers(level), StationTally(scenario, f"ai:{name}", level), detail)
            self.services[name] = (mine, inference, workers)

    def _link(self, name: str, level: Capacity, detail: bool) -> _Jobs:
        return _Jobs(Link(level), StationTally(self.scenario, name, level), detail)

    @staticmethod
    def _exams(group: Devices, name: str, seed: int, replication: int) -> Callable[[int, int], np.ndarray]:
        def drawn(year: int, count: int) -> np.ndarray:
            return exam_times(group, count, stream(seed, replication, "exam", name, year),
                              stream(seed, replication, "failures", name, year))
        return drawn

    def block(self, studies: np.ndarray, cut: float) -> np.ndarray:
        """The studies (indices, in order) that arrive in the next block, which ends at `cut` (INF: the
        last): every station taken up to it. Gives the studies whose time in the archive (and so on the
        worklist) is known now, in order: among them every study on the worklist before `cut`, what a
        reading station needs for the same block."""
        arrived_at = self.draws.arrivals.arrived_at
        referral = self.draws.arrivals.referral
        group_of = self.group_of[studies]
        acquired = [studies[group_of < 0]]  # at their arrival: no device to wait for
        by_group, bounds = _by_code(group_of, len(self.sending))
        sent: dict[tuple[str, str], list[np.ndarray]] = {key: [] for key in self.groups}
        for g, key in enumerate(self.sending):
            own = studies[by_group[bounds[g]:bounds[g + 1]]]
            came = np.concatenate(sent[key]) if sent[key] else np.zeros(0, dtype=np.int64)
            ids = np.concatenate([own, came])
            busy = np.concatenate([self.exams[key].of(own), self.sent_exams[key].of(came) if came.shape[0]
                                   else np.zeros(0)])
            arrive = np.concatenate([arrived_at[own], self.sent_at[came]])
            tie = np.concatenate([own, self.n + came])  # its own patients first, then those sent to it
            station = self.devices[key].station
            self._settle_exams(g, key, *station.until(cut, ids, arrive, tie, referral[ids], busy),
                               sent, acquired)
            self.exams[key].let_go(lambda y: (y + 1) * YEAR <= cut)  # its own patients of those years all came
        self.members.let_go()
        return self._transfer(np.concatenate(acquired), cut)

    def _settle_exams(self, g: int, key: tuple[str, str], ids: np.ndarray, start: np.ndarray, finish: np.ndarray,
                      busy: np.ndarray, sent: dict[tuple[str, str], list[np.ndarray]], acquired: list[np.ndarray]) -> None:
        """Exams settled at a device group: acquired then (never, if never started), or with an overflow,
        a patient who waited it out sent on to the other site's group."""
        group, own = self.groups[key], self.group_of[ids] == g
        arrive = np.where(own, self.draws.arrivals.arrived_at[ids], self.sent_at[ids] if self.sent_at.shape[0] else np.nan)
        self.devices[key].add(np.where(own, ids, self.n + ids), arrived=arrive, start=start, finish=finish, busy=busy)
        self.acquired[ids], self.exam_start[ids] = finish, start
        if group.overflow is None:
            acquired.append(ids)
            return
        gone = ~np.isfinite(start) & np.isfinite(arrive)
        acquired.append(ids[~gone])
        moved, to = ids[gone], (group.overflow.to, key[1])
        self.sent_at[moved] = arrive[gone] + group.overflow.after.in_minutes
        sent[to].append(moved)
        self.site[moved] = self.site_code[group.overflow.to]  # acquired there: its uplink, its readers

    def _transfer(self, acquired: np.ndarray, cut: float) -> np.ndarray:
        """Studies acquired in this block through their site's uplink and the archive's ingest (as
        `transfer.py` says), then to the AI; what is still on a link waits for the next block. (On its way,
        a study's `at_archive` holds when it reached the archive's door: the ingest's arrival.)"""
        acquired = self._in_order(acquired)
        when = self.acquired[acquired]
        sending = self.imaging[acquired] & np.isfinite(when)
        site = self.site[acquired]
        linked = sending & self.has_link[site]
        reached = [acquired[~linked]]  # not images, never acquired, or no uplink: at the door now
        self.at_archive[reached[0]] = when[~linked]
        # Each uplink's studies, in study order: the linked split by site once (a stable sort of small codes).
        on_links = acquired[linked]
        by_site, bounds = _by_code(site[linked].astype(np.int16 if len(self.has_link) < 2 ** 15 else np.int64),
                                   len(self.has_link))
        for code, jobs in self.links.items():
            mine = on_links[by_site[bounds[code]:bounds[code + 1]]]
            ids, finish = jobs.station.until(cut, mine, self.acquired[mine], mine, self.size[mine])
            jobs.add(ids, arrived=self.acquired[ids], finish=finish, work=self.size[ids])
            self.at_archive[ids] = finish
            reached.append(ids)
        del when, sending, site, linked
        reached = self._in_order(np.concatenate(reached))
        delay = self.draws.ingest_delay
        if self.ingest is None:
            self.at_archive[reached] = after_outages(self.at_archive[reached] + delay[reached],
                                                     windows(self.scenario, self.scenario.ingest.outages))
        else:
            door = self.at_archive[reached]
            sending = self.imaging[reached] & np.isfinite(door)
            other, on = reached[~sending], reached[sending]
            self.at_archive[other] += delay[other]
            station = self.ingest.station
            ids, finish = station.until(cut, on, door[sending], on, self.size[on])
            self.ingest.add(ids, arrived=self.at_archive[ids], finish=finish, work=self.size[ids])
            self.at_archive[ids] = finish + delay[ids]
            reached = self._in_order(np.concatenate([other, ids]))
        self._score(reached, cut)
        return reached

    def _in_order(self, studies: np.ndarray) -> np.ndarray:
        """These studies (each once) in study order: a station takes its jobs in that order at equal times.
        (A mark per study, not a sort: a city year's are millions.)"""
        marked = np.zeros(self.n, dtype=bool)
        marked[studies] = True
        return np.flatnonzero(marked)

    def _score(self, arrived: np.ndarray, cut: float) -> None:
        """Studies whose time at the archive is now known: which the AI scores and when. A service without
        workers is waited for; one with workers scores in its queue's order while the study is on the
        worklist, and a trace's result on such a service comes after the trace's latency while the study
        is on the worklist too (a log whose reads did not wait for the AI)."""
        ai, scenario = self.draws.ai, self.scenario
        self.ready[arrived] = self.at_archive[arrived]
        self.on_the_way -= np.bincount(np.searchsorted(self.years, arrived, side="right") - 1,
                                     minlength=self.on_the_way.shape[0])
        referral = self.draws.arrivals.referral
        for name, (mine, inference, jobs) in self.services.items():
            service = scenario.ai_services[name]
            at = arrived[mine[arrived]]
            reach = self.at_archive[at]
            out = np.zeros(at.shape[0], dtype=bool)
            for a, b in windows(scenario, service.outages):
                out |= (reach >= a) & (reach < b)
            traced = ai.traced[at]
            eligible = np.where(traced, ai.given[at], ~ai.failed[at] & ~out & np.isfinite(reach))
            if jobs is None:
                waited = at[eligible]
                self.scored[waited] = True
                self.scored_at[waited] = self.ready[waited] = self.at_archive[waited] + ai.latency[waited]
                continue
            given = at[eligible & traced]
            self.scored[given] = True
            self.scored_at[given] = self.at_archive[given] + ai.latency[given]
            self.late[given] = ai.latency[given] > 0
            computed = at[eligible & ~traced]
            ids, start, finish, busy = jobs.station.until(
                cut, computed, self.at_archive[computed], computed, referral[computed], inference.of(computed))
            jobs.add(ids, arrived=self.at_archive[ids], start=start, finish=finish, busy=busy)
            when = finish + ai.latency[ids]
            self.inference_start[ids] = start
            ok = np.isfinite(when)
            self.scored[ids[ok]] = True
            self.scored_at[ids[ok]] = when[ok]
            self.late[ids[ok]] = when[ok] > self.at_archive[ids[ok]]
            inference.let_go(lambda y: self.on_the_way[y] == 0)  # every study of those years reached it
    def figures(self) -> tuple[dict[str, dict], dict[str, dict]]:
        """Each station's figures, in the order the stations are passed, and with `detail` what each
        served, job by job (with its capacity)."""
        stations = [*(self.devices[key] for key in self.sending), *self.links.values(),
                    *([] if self.ingest is None else [self.ingest]),
                    *(jobs for _, _, jobs in self.services.values() if jobs is not None)]
        figures = {jobs.tally.name: jobs.tally.figures() for jobs in stations}
        detail = {jobs.tally.name: {**jobs.served(), "capacity": jobs.tally.capacity}
                  for jobs in stations if jobs.pieces is not None}
        return figures, detail


def _by_code(codes: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions split by their small codes (0 to `count` - 1; a negative code: none), each code's in
    their order: the positions by code, and where each code's begin (and the last ends). One stable sort
    (a radix sort for 16-bit codes), not a scan of the codes per code."""
    order = np.argsort(codes, kind="stable")
    return order, np.searchsorted(codes[order], np.arange(count + 1), side="left")


def _sizes(scenario: Scenario, seed: int, replication: int, type_code: np.ndarray,
           years: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Each imaging study's size in megabytes, by its modality (0 for work that is not images, or of a
    modality without a size), and where a size was drawn (from the streams of its `years`)."""
    size, sized = np.zeros(type_code.shape[0]), np.zeros(type_code.shape[0], dtype=bool)
    for t, (type_name, study_type) in enumerate(scenario.study_types.items()):
        dist = scenario.network.sizes_mb.get(study_type.modality)
        if dist is not None and study_type.kind == Kind.PRIMARY.value:
            mine = np.flatnonzero(type_code == t)
            size[mine] = by_year(None if years is None else years[mine], mine.shape[0], lambda year, n: sample(
                dist, stream(seed, replication, "size", type_name, year), n))
            sized[mine] = True
    return size, sized
