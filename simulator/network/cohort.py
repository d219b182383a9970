"""A replication's studies as the reading station takes them: what was drawn (`simulator.draws`), then when
each is on the worklist and what the AI said of it (`upstream.py`). The two are made in that order and
never reach back: the stations take the draws, the reading station takes ready studies."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any

import numpy as np

from .. import mapped
from ..draws import Draws, draw, draw_year, draw_years
from ..scenario import Scenario
from .upstream import Upstream, to_worklist

__all__ = ["Cohort", "draw_cohort"]


@dataclass(frozen=True)
class Cohort:
    draws: Draws
    upstream: Upstream

    def __len__(self) -> int:
        return len(self.draws)


def draw_cohort(scenario: Scenario, seed: int, replication: int, detail: bool = False) -> Cohort:
    """Every study of one replication, drawn and brought to the worklist. A pure function of (scenario,
    seed, replication); `detail` keeps what each upstream station served, job by job, and the draws only
    the stations take (else let go of: `Draws.for_reading`).

    Without stations a study's way to the worklist is its own (drawn delays): each of the draws' years is
    drawn, brought to the worklist and let go of what only that takes on its own, then the years are
    joined, so that the AIs' answers and the archive's delays are held a year at a time, never the whole
    horizon's (the same columns as drawn whole: tests/test_draw_years.py)."""
    if detail or scenario.has_stations():  # (a station's queue runs across the years: `chain.py`)
        draws = draw(scenario, seed, replication)
        upstream = to_worklist(scenario, draws, seed, replication, detail)
        return Cohort(draws if detail else draws.for_reading(), upstream)
    spool = None
    for year in range(draw_years(scenario)):
        drawn = draw_year(scenario, seed, replication, year)
        way = to_worklist(scenario, drawn, seed, replication)
        narrow = drawn.for_reading()
        del drawn
        if spool is None:  # a large replication's columns go to files, to be mapped (`mapped.py`)
            spool = mapped.Spool(to_files=len(narrow) * draw_years(scenario) >= mapped.MAPPED_FROM)
        for name, values in [*_arrays(narrow, "draws."), *_arrays(way, "upstream.", _SHARED)]:
            spool.append(name, values)
    draws = _rebuilt(narrow, spool, "draws.")
    return Cohort(draws, _rebuilt(way, spool, "upstream.", {"site": draws.arrivals.site,
                                                            "acquired_at": draws.arrivals.arrived_at}))


_SHARED = ("site", "acquired_at")  # a way by drawn delays: the draws' own arrays (`upstream._by_drawn_delays`)


def _arrays(record: Any, prefix: str, shared: tuple[str, ...] = ()) -> Iterator[tuple[str, np.ndarray]]:
    """Every array of a record of records, by its dotted name (but the `shared`)."""
    for field in fields(record):
        value = getattr(record, field.name)
        if is_dataclass(value):
            yield from _arrays(value, f"{prefix}{field.name}.")
        elif isinstance(value, np.ndarray) and field.name not in shared:
            yield prefix + field.name, value


def _rebuilt(like: Any, spool: mapped.Spool, prefix: str, shared: dict[str, np.ndarray] | None = None) -> Any:
    """A record shaped `like`, each array its spooled column (the `shared` given)."""
    columns = {}
    for field in fields(like):
        value = getattr(like, field.name)
        if is_dataclass(value):
            columns[field.name] = _rebuilt(value, spool, f"{prefix}{field.name}.")
        elif shared and field.name in shared:
            columns[field.name] = shared[field.name]
        elif isinstance(value, np.ndarray):
            columns[field.name] = spool.column(prefix + field.name)
    return replace(like, **columns)
