"""A study's way to the worklist, for a whole replication at once: from what was drawn (`simulator.draws`)
to when each study is on the worklist and what the AI said of it.

Two forms, one record (`Upstream`):
- **drawn delays** (no station has a capacity): the drawn ingest delay (moved past ingest outages), then the
  AI answers of the services that were up when the study came, each waited for (a study whose AI failed or
  was out goes to the worklist unscored, never held back); with several AIs on a type, their answers
  combine by the rules of `findings.py` (`_combine`);
- **stations** (devices, uplinks, the archive's ingest or AI workers with a capacity): devices
  (acquisition) -> uplink and ingest (in the archive) -> AI (scored), each a pass over its studies in time
  order (`queues.py`), the chain of them a block of time at a time (`chain.py`: a year at a time beyond
  the first): nothing upstream waits for the readers. A station draws only from its own streams, so adding
  a GPU worker or a scanner changes no arrival, truth, score or reading time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..calendar import after_outages, windows
from ..draws import AiDraws, Draws, draw_years
from ..scenario import Scenario
from ..streams import YEAR
from .chain import Chain

__all__ = ["Upstream", "to_worklist"]


@dataclass(frozen=True)
class Upstream:
    """When each study (in the draws' order) is ready for the readers, and what the AI said of it.

    `ai_scored` is False where the type has no AI, the service failed or was out (or, with workers, the
    result never came); there `ai_score` is NaN. `scored_at`: when the result came (NaN: never), given with
    stations only; `late_score` marks studies on the worklist before their result (None: none is)."""

    site: np.ndarray  # where the study was acquired: the drawn site, or the site its patient was sent to
    acquired_at: np.ndarray  # the exam's end (the arrival, without devices)
    at_archive: np.ndarray
    ready_at: np.ndarray
    ai_scored: np.ndarray  # bool
    ai_score: np.ndarray  # posterior probability, NaN where not scored
    ai_positive: np.ndarray  # bool, False where not scored
    ai_flags: np.ndarray | None = None  # with several AIs on a type: a bit per AI in the type's order that flagged it
    # Per study, from the stations with capacity (None without them; NaN where a study did not pass one): when
    # its exam started at a device, when a GPU worker started its inference, and its size.
    exam_start: np.ndarray | None = None
    inference_start: np.ndarray | None = None
    size_mb: np.ndarray | None = None
    scored_at: np.ndarray | None = None
    late_score: np.ndarray | None = None
    stations: dict | None = None  # per upstream station, its figures (a row of stations.parquet)
    station_detail: dict | None = None  # per upstream station, what it served job by job (`detail=True`)


def to_worklist(scenario: Scenario, draws: Draws, seed: int, replication: int, detail: bool = False) -> Upstream:
    """The way of every study to the worklist. `detail` keeps what each station served, job by job (for
    tests: a city year's would be most of a gigabyte)."""
    if scenario.has_stations():
        return _through_stations(scenario, draws, seed, replication, detail)
    return _by_drawn_delays(scenario, draws)


# Drawn delays ---------------------------------------------------------------------------------------------
def _by_drawn_delays(scenario: Scenario, draws: Draws) -> Upstream:
    arrived = draws.arrivals.arrived_at
    delivered = after_outages(arrived + draws.ingest_delay, windows(scenario, scenario.ingest.outages))
    ai = draws.ai
    up = _up_when(scenario, draws.ai, delivered)
    scored = np.where(ai.traced, ai.given, ~ai.failed & up)
    posterior = np.where(scored, ai.posterior, np.nan)
    positive = ai.positive & scored
    flags = waited = None
    if draws.more_ais:  # not with stations or traces (scenario.check_references)
        more = _combine(draws.more_ais, [_up_when(scenario, m, delivered) for m in draws.more_ais], first_bit=1)
        waited = np.maximum(np.where(scored, ai.latency, 0.0), more.latency)
        posterior = np.fmax(posterior, more.posterior)
        flags = positive.astype(np.int64) | more.flags
        scored, positive = scored | more.scored, positive | more.positive
    # A failed or absent AI does not hold the study back: it goes to the worklist unscored.
    ready = np.where(scored, delivered + (ai.latency if waited is None else waited), delivered)
    return Upstream(draws.arrivals.site, arrived, delivered, ready, scored, posterior, positive, flags)


def _up_when(scenario: Scenario, ai: AiDraws, came: np.ndarray) -> np.ndarray:
    """Whether each study's AI service was up when the study came to it (False where it has none)."""
    up = ai.service >= 0
    for code, service in enumerate(scenario.ai_services.values()):
        for a, b in windows(scenario, service.outages):
            up &= ~((ai.service == code) & (came >= a) & (came < b))
    return up


@dataclass(frozen=True)
class _Combined:
    scored: np.ndarray
    posterior: np.ndarray  # NaN where not scored
    positive: np.ndarray
    latency: np.ndarray  # of the slowest AI that answered: the study waits for every result it will get
    flags: np.ndarray  # int: a bit per AI in the type's order


def _combine(answers: tuple[AiDraws, ...], up: list[np.ndarray], first_bit: int) -> _Combined:
    """The answers of several AIs (`findings.py`'s rules): a study is positive when any AI that answered
    flagged it, its score the highest posterior any gave, and each flag kept as a bit."""
    n = up[0].shape[0]
    scored = np.zeros(n, dtype=bool)
    best = np.full(n, -np.inf)
    positive = np.zeros(n, dtype=bool)
    latency = np.zeros(n)
    flags = np.zeros(n, dtype=np.int64)
    for bit, (ai, reached) in enumerate(zip(answers, up), first_bit):
        ok = ~ai.failed & reached
        scored |= ok
        best = np.where(ok, np.maximum(best, ai.posterior), best)
        flag = ai.positive & ok
        positive |= flag
        flags |= flag.astype(np.int64) << bit
        latency = np.where(ok, np.maximum(latency, ai.latency), latency)
    return _Combined(scored, np.where(scored, best, np.nan), positive, latency, flags)


# Stations ----------------------------------------------------------------------------------------------
def _through_stations(scenario: Scenario, draws: Draws, seed: int, replication: int, detail: bool,
                      cuts: list[float] | None = None, known: list[np.ndarray] | None = None) -> Upstream:
    """Through the chain of stations a block of time at a time: the draws' years (`streams.YEAR`), or
    the blocks ending at `cuts` (each block's studies those that arrive in it); `known` is given, block by
    block, the studies whose time on the worklist became known in it."""
    chain = Chain(scenario, draws, seed, replication, detail)
    arrived = draws.arrivals.arrived_at
    if cuts is None:
        cuts = [YEAR * (year + 1) for year in range(draw_years(scenario) - 1)]
    lo = 0
    for cut, hi in zip([*cuts, math.inf], [*np.searchsorted(arrived, cuts, side="left").tolist(), len(draws)]):
        ready = chain.block(np.arange(lo, max(lo, hi)), cut)
        lo = max(lo, hi)
        if known is not None:
            known.append(ready)
    figures, served_by = chain.figures()
    return Upstream(chain.site, chain.acquired, chain.at_archive, chain.ready, chain.scored,
                    np.where(chain.scored, draws.ai.posterior, np.nan), draws.ai.positive & chain.scored, None,
                    chain.exam_start, chain.inference_start, np.where(chain.sized, chain.size, np.nan),
                    chain.scored_at, chain.late if chain.late.any() else None, figures, served_by if detail else None)
