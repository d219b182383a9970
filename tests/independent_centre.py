"""A reading centre simulated without any of radsim's code: the ground truth the replay is checked against.

Written from scratch with heapq and random, as a second team would write it from docs/model.md's rules:
studies arrive by hour of day, reach the archive after an ingest delay, an AI scores the CT studies (held
until its result), readers on 08:00-20:00 and 20:00-08:00 shifts read the best-ranked ready study (STAT
first; under AI priority the AI-flagged next; then by ready time), the longest-idle reader takes it, a
reader finishes the study in hand at the shift's end, and a signed report may go for a second opinion,
read by another reader. Every random value of a study is drawn before the run, so the same studies can be
run under two policies (common random numbers): the log of one, the true counterfactual of the other.
"""
from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from dataclasses import dataclass, field

START = dt.datetime(2026, 3, 2)  # a Monday
HOURLY = [1, 1, 1, 1, 1, 1, 2, 4, 6, 7, 7, 7, 6, 6, 6, 5, 4, 3, 3, 2, 2, 2, 1, 1]  # arrivals by hour, relative


@dataclass
class Study:
    accession: str
    modality: str
    acquired: float  # minutes from START
    referral: str
    ingest: float
    ai: bool  # scored by the AI
    latency: float
    flag: bool
    read: float
    second: bool
    second_read: float
    ready: float = 0.0
    opened: float = math.nan
    signed: float = math.nan
    reader: str | None = None
    opinion: dict = field(default_factory=dict)


def studies(seed: int, days: int = 28, per_day: float = 150.0) -> list[Study]:
    rng = random.Random(seed)
    top = max(HOURLY)
    rate = per_day / sum(HOURLY) * top / 60.0  # per minute at the busiest hour: thinned below
    out, t = [], 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= days * 1440:
            return out
        if rng.random() > HOURLY[int(t // 60) % 24] / top:
            continue
        ct = rng.random() < 0.4
        sick = rng.random() < 0.15
        u = rng.random()
        out.append(Study(
            accession=f"X{len(out):06d}", modality="CT" if ct else "CR", acquired=t,
            referral="stat" if u < 0.08 else "urgent" if u < 0.25 else "routine",
            ingest=rng.lognormvariate(math.log(4.0) - 0.18, 0.6), ai=ct, latency=rng.expovariate(1 / 6.0),
            flag=(rng.random() < 0.9) if sick else (rng.random() < 0.08),
            read=rng.lognormvariate(math.log(14.0 if ct else 5.0) - 0.18, 0.6),
            second=rng.random() < 0.06, second_read=rng.expovariate(1 / 15.0)))


def _rank(item: tuple[Study, bool], policy: str) -> tuple:
    study, is_opinion = item
    ready = study.opinion["ready"] if is_opinion else study.ready
    if not is_opinion and study.referral == "stat":
        return (0, ready, study.accession)
    if policy == "ai_priority" and not is_opinion and study.ai and study.flag:
        return (1, ready, study.accession)
    return (2, ready, study.accession, is_opinion)


def run(plan: list[Study], policy: str, day_readers: int = 3, pause_minutes: float = 0.0) -> list[Study]:
    """The studies read under `policy` ("fifo" or "ai_priority"): each study's times filled in (a copy).
    `pause_minutes`: a reader rests that long on average (exponential, its own random numbers) after each
    signing before taking the next study, as people do."""
    pauses = random.Random(0xBEEF)
    done = [Study(**{k: v for k, v in vars(s).items() if k != "opinion"}) for s in plan]
    horizon = max(s.acquired for s in done) + 1.0
    events: list[tuple] = []
    seq = 0

    def push(when: float, kind: str, payload: object) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (when, seq, kind, payload))

    for s in done:
        s.ready = s.acquired + s.ingest + (s.latency if s.ai else 0.0)
        push(s.ready, "ready", (s, False))
    readers = {f"day{i}": {"on": False, "busy": False, "idle_since": 0.0} for i in range(day_readers)}
    readers["night"] = {"on": True, "busy": False, "idle_since": 0.0}  # Sunday's night runs into Monday
    for day in range(int(horizon // 1440) + 2):
        base = day * 1440.0
        for name in readers:
            on, off = (base + 480, base + 1200) if name.startswith("day") else (base + 1200, base + 1920)
            push(on, "on", name)
            push(off, "off", name)
    push(480.0, "off", "night")
    worklist: list[tuple[Study, bool]] = []

    def dispatch(now: float) -> None:
        for item in sorted(worklist, key=lambda i: _rank(i, policy)):
            study, is_opinion = item
            idle = [n for n, r in readers.items() if r["on"] and not r["busy"]
                    and not (is_opinion and n == study.reader)]
            if not idle:
                continue
            who = min(idle, key=lambda n: (readers[n]["idle_since"], n))
            readers[who]["busy"] = True
            worklist.remove(item)
            if is_opinion:
                study.opinion.update(opened=now, reader=who)
                push(now + study.second_read, "done", (study, True, who))
            else:
                study.opened, study.reader = now, who
                push(now + study.read, "done", (study, False, who))

    while events:
        now, _, kind, payload = heapq.heappop(events)
        if now > horizon + 3 * 1440:
            break
        if kind == "ready":
            worklist.append(payload)
        elif kind == "on":
            readers[payload].update(on=True, idle_since=now)
        elif kind == "off":
            readers[payload]["on"] = False
        elif kind == "rested":
            readers[payload].update(busy=False, idle_since=now)
        else:
            study, is_opinion, who = payload
            if pause_minutes > 0:
                push(now + pauses.expovariate(1.0 / pause_minutes), "rested", who)
            else:
                readers[who].update(busy=False, idle_since=now)
            if is_opinion:
                study.opinion["signed"] = now
            else:
                study.signed = now
                if study.second:
                    study.opinion = {"ready": now}
                    worklist.append((study, True))
        dispatch(now)
    return done


def log_rows(done: list[Study], end: float) -> list[dict]:
    """The studies as a RIS would export them (the log's columns): work not signed by `end` open."""
    def at(minutes: float) -> dt.datetime | None:
        return None if math.isnan(minutes) or minutes > end else START + dt.timedelta(minutes=minutes)

    rows = []
    for s in done:
        rows.append({"accession": s.accession, "modality": s.modality, "description": f"{s.modality} study",
                     "referral": s.referral, "acquired_at": at(s.acquired), "received_at": at(s.acquired + s.ingest),
                     "ai_flag": s.flag if s.ai else None,
                     "ai_at": at(s.acquired + s.ingest + s.latency) if s.ai else None,
                     "read_start": at(s.opened), "reported_at": at(s.signed),
                     "reader": s.reader if at(s.signed) else None, "kind": "primary"})
        if s.opinion.get("signed") is not None and at(s.opinion["signed"]):
            rows.append({"accession": f"{s.accession}-SO", "modality": s.modality, "kind": "second_opinion",
                         "of_study": s.accession, "acquired_at": at(s.acquired),
                         "read_start": at(s.opinion["opened"]), "reported_at": at(s.opinion["signed"]),
                         "reader": s.opinion["reader"]})
    return rows
