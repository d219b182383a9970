"""Everything random about a replication's studies, drawn up front in numpy blocks, per concern and per
study type, each from streams of its own (`streams.py`): arrivals, truth and conditions, AI answers,
reading times, the ingest delay.

Nothing here depends on the triage policy, the staffing or the capacity of any station, which is what makes
comparisons paired (common random numbers): the upstream stations (`network/upstream.py`) take these draws
and say when each study is ready; the reading station decides who reads what, and when. A pure function of
(scenario, seed, replication).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..calendar import hour_bins
from ..distributions import sample
from ..findings import condition_names
from ..scenario import Scenario
from ..streams import YEAR, stream
from ..trace_arrivals import TraceArrivals, or_drawn, trace_arrivals
from .ai import AiDraws, draw_ai, draw_more_ais
from .arrivals import Arrivals, arrival_times, booked, draw_arrivals
from .reading import Reading, draw_reading
from .truth import Truth, draw_truth

__all__ = ["Draws", "draw", "draw_year", "draw_years", "AiDraws", "Arrivals", "Truth", "Reading", "arrival_times", "booked"]


@dataclass(frozen=True)
class Draws:
    """Every study (and consultation) that arrives, sorted by arrival time: columns of what was drawn."""

    type_names: tuple[str, ...]
    site_names: tuple[str, ...]
    condition_names: tuple[str, ...]  # every condition of the scenario (empty: none)
    study_type: np.ndarray  # int index into type_names
    arrivals: Arrivals
    truth: Truth  # `condition` as an index into condition_names (-1: none)
    ai: AiDraws | None  # of the type's (first) AI (None once the stations have taken it: `for_reading`)
    more_ais: tuple[AiDraws, ...]  # of further AIs, a slot each (empty: no type has more than one)
    reading: Reading
    ingest_delay: np.ndarray | None  # the archive's drawn processing time (as `ai`)

    def __len__(self) -> int:
        return int(self.arrivals.arrived_at.shape[0])

    def for_reading(self) -> "Draws":
        """These draws without what the upstream stations alone take (the AIs' answers, the ingest delay):
        the stations' outcome (`network/upstream.py`) says what came of them. A city year's AI answers and
        delays are some 200 MB, held through the reading station and the tables for nothing."""
        return replace(self, ai=None, more_ais=(), ingest_delay=None)


def draw(scenario: Scenario, seed: int, replication: int) -> Draws:
    """Every study of one replication, a year at a time (`streams.YEAR`: each year's studies from streams of
    their own). Pure function of (scenario, seed, replication)."""
    years = [draw_year(scenario, seed, replication, year) for year in range(draw_years(scenario))]
    return years[0] if len(years) == 1 else _years_joined(years)


def _years_joined(years: list[Draws]) -> Draws:
    """The years' draws as the horizon's, in order (each year's arrivals after the last one's: the studies
    stay in arrival order). The years are taken out of `years`, so that each of their columns goes as it is
    joined: the horizon held once, not twice (five city years: 3.2 GB, not 6.4 at the end)."""
    parts = [dict(vars(year)) for year in years]
    years.clear()
    first = parts[0]
    return _together(parts, None, type_names=first["type_names"], site_names=first["site_names"],
                     condition_names=first["condition_names"])


def draw_years(scenario: Scenario) -> int:
    """How many of the draws' years the horizon spans (the last one cut short by it)."""
    return max(1, math.ceil(scenario.horizon_minutes / YEAR))


def draw_year(scenario: Scenario, seed: int, replication: int, year: int) -> Draws:
    """The studies that arrive in one of the draws' years (`streams.YEAR` long from the start, the last one
    up to the horizon), sorted by arrival time, each drawn from that year's streams."""
    lo = year * YEAR
    hi = scenario.horizon_minutes if year == draw_years(scenario) - 1 else lo + YEAR
    bins = hour_bins(scenario)
    if year or hi < scenario.horizon_minutes:
        inside = (bins[0] >= lo) & (bins[0] < hi)
        bins = tuple(column[inside] for column in bins)  # type: ignore[assignment]
    traced = {name: _within(trace, lo, hi) for name, trace in trace_arrivals(scenario).items()} \
        if scenario.arrivals is not None else {}
    conditions = condition_names(scenario)
    slots = max(len(t.ais) for t in scenario.study_types.values()) - 1 if scenario.study_types else 0
    parts = []
    for t, (name, study_type) in enumerate(scenario.study_types.items()):
        def rng(purpose: str, key: str = name) -> np.random.Generator:
            return stream(seed, replication, purpose, key, year)

        trace = traced.get(name)
        arrivals = draw_arrivals(scenario, study_type, bins, rng, trace, (lo, hi))
        n = len(arrivals)
        truth = draw_truth(study_type, n, rng, trace)
        codes = np.array([conditions.index(c) for c in study_type.conditions] + [-1], dtype=np.int16)
        parts.append(dict(
            study_type=np.full(n, t, dtype=np.int32), arrivals=arrivals,
            truth=Truth(truth.diseased, codes[truth.condition]),  # -1 indexes the appended "none"
            ai=draw_ai(scenario, study_type, truth, rng, trace),
            more_ais=draw_more_ais(scenario, study_type, name, truth, max(slots, 0), lambda key: rng("ai", key)),
            reading=draw_reading(scenario, name, study_type, truth, rng, lambda key: rng("reading", f"{name}/{key}"),
                                 trace),
            ingest_delay=or_drawn(sample(study_type.ingest_minutes if study_type.ingest_minutes is not None
                                         else scenario.ingest.delay_minutes, rng("ingest"), n),
                                  None if trace is None else trace.ingest_minutes)))
    order = np.argsort(np.concatenate([p["arrivals"].arrived_at for p in parts]), kind="stable")
    draws = _together(parts, order, type_names=tuple(scenario.study_types), site_names=tuple(scenario.sites),
                      condition_names=conditions)
    return replace(draws, reading=draws.reading.asked_only())


def _within(trace: TraceArrivals, lo: float, hi: float) -> TraceArrivals:
    """The trace's rows that arrive from `lo` to before `hi`."""
    inside = (trace.arrived_at >= lo) & (trace.arrived_at < hi)
    if inside.all():
        return trace
    return TraceArrivals(**{field: getattr(trace, field)[inside] for field in TraceArrivals.__dataclass_fields__})


def _together(parts: list[dict], order: np.ndarray | None, **names: tuple[str, ...]) -> Draws:
    """Parts of the draws (per study type, or per year: their fields by name) as one record, each column
    joined in arrival order (`order`: the parts' rows in that order; None: they are in it, one after
    another) and let go of in the parts as it is joined, a column at a time (a city year holds ~7 M
    studies); a column that is None in every part stays None."""
    def joined(pieces: list[np.ndarray]) -> np.ndarray:
        whole = np.concatenate(pieces)
        return whole if order is None else whole[order]

    def record(records: list) -> Any:
        kind, columns = type(records[0]), [dict(vars(one)) for one in records]
        records.clear()
        return kind(**{field: None if columns[0][field] is None else joined([c.pop(field) for c in columns])
                       for field in kind.__dataclass_fields__})

    more = [list(part.pop("more_ais")) for part in parts]

    def slot(k: int) -> list:
        records = [m[k] for m in more]
        for m in more:
            m[k] = None
        return records

    return Draws(**names, study_type=joined([part.pop("study_type") for part in parts]),
                 arrivals=record([part.pop("arrivals") for part in parts]),
                 truth=record([part.pop("truth") for part in parts]), ai=record([part.pop("ai") for part in parts]),
                 more_ais=tuple(record(slot(k)) for k in range(len(more[0]) if more else 0)),
                 reading=record([part.pop("reading") for part in parts]),
                 ingest_delay=joined([part.pop("ingest_delay") for part in parts]))
