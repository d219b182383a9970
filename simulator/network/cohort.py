"""A replication's studies as the reading station takes them: what was drawn (`simulator.draws`), then when
each is on the worklist and what the AI said of it (`upstream.py`). The two are made in that order and
never reach back: the stations take the draws, the reading station takes ready studies."""
from __future__ import annotations

from dataclasses import dataclass

from ..draws import Draws, draw, draw_year, draw_years, joined_years
from ..scenario import Scenario
from .upstream import Upstream, joined_ways, to_worklist

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
    years, ways = [], []
    for year in range(draw_years(scenario)):
        drawn = draw_year(scenario, seed, replication, year)
        ways.append(to_worklist(scenario, drawn, seed, replication))
        years.append(drawn.for_reading())
        del drawn
    draws = joined_years(years)
    return Cohort(draws, joined_ways(ways, draws))
