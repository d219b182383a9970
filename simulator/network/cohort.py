"""A replication's studies as the reading station takes them: what was drawn (`simulator.draws`), then when
each is on the worklist and what the AI said of it (`upstream.py`). The two are made in that order and
never reach back: the stations take the draws, the reading station takes ready studies."""
from __future__ import annotations

from dataclasses import dataclass

from ..draws import Draws, draw
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
    the stations take (else let go of: `Draws.for_reading`)."""
    draws = draw(scenario, seed, replication)
    upstream = to_worklist(scenario, draws, seed, replication, detail)
    return Cohort(draws if detail else draws.for_reading(), upstream)
