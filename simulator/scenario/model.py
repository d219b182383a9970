"""The scenario: every section together, with the checks that need two fields at once."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from .ai import AIService
from .durations import Duration
from .expect import Expectation
from .network import Ingest, Network
from .policy import Policy
from .readers import Pool, SecondOpinions
from .routing import Routing
from .studies import ArrivalTrace, Site, StudyType
from .values import (
    AUDIT,
    MAX_AI_SERVICES,
    MAX_ENTRIES,
    MAX_POOLS,
    MAX_SITES,
    MAX_STUDY_TYPES,
    NAME_LENGTH,
    SECOND_OPINION,
    LocalTime,
    NonNegative,
    Strict,
    Whole,
    _number,
)

__all__ = ["Scenario"]

_CALENDAR_MARGIN_DAYS = 31


class Scenario(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=NAME_LENGTH)
    description: str = Field(default="", max_length=10_000)
    start: LocalTime
    horizon_days: Annotated[float, BeforeValidator(_number), Field(gt=0.0, le=3660.0)]
    warmup_days: NonNegative = 0.0
    seed: Annotated[Whole, Field(ge=0, le=2**63 - 1)] = 0
    sites: dict[str, Site] = Field(default={"main": Site()}, max_length=MAX_SITES)
    study_types: dict[str, StudyType] = Field(min_length=1, max_length=MAX_STUDY_TYPES)
    ai_services: dict[str, AIService] = Field(default={}, max_length=MAX_AI_SERVICES)
    ingest: Ingest = Ingest()
    network: Network = Network()
    arrivals: ArrivalTrace | None = None
    pools: dict[str, Pool] = Field(min_length=1, max_length=MAX_POOLS)
    second_opinions: SecondOpinions | None = None
    routing: Routing = Routing()
    policy: Policy = Policy()
    targets: dict[str, Duration] = {}
    expect: list[Expectation] = Field(default=[], max_length=MAX_ENTRIES)

    @model_validator(mode="after")
    def _warmup(self) -> "Scenario":
        if self.warmup_days >= self.horizon_days:
            raise ValueError(f"warmup_days ({self.warmup_days:g}) must be shorter than horizon_days ({self.horizon_days:g})")
        return self

    @model_validator(mode="after")
    def _ends_in_the_calendar(self) -> "Scenario":
        # Shifts and calendars look a little past the horizon (a night shift running into the next day, a
        # weekly roster's week): the run must end well inside the calendar's last year.
        last = dt.datetime(9999, 12, 31) - dt.timedelta(days=_CALENDAR_MARGIN_DAYS)
        if self.start.replace(tzinfo=None) > last - dt.timedelta(days=self.horizon_days):
            raise ValueError(f"start ({self.start:%Y-%m-%d %H:%M}) plus horizon_days ({self.horizon_days:g}) runs "
                             f"past {last:%Y-%m-%d}: the calendar ends in the year 9999")
        return self

    @property
    def horizon_minutes(self) -> float:
        return self.horizon_days * 1440.0

    @property
    def warmup_minutes(self) -> float:
        return self.warmup_days * 1440.0

    def has_stations(self) -> bool:
        """Whether any study's way to the worklist goes through stations with capacity (devices, links,
        ingest, AI workers) rather than drawn delays alone."""
        return (any(site.devices or site.uplink is not None for site in self.sites.values())
                or self.ingest.mbyte_per_s is not None
                or any(service.workers is not None for service in self.ai_services.values()))

    def minutes_at(self, when: dt.datetime) -> float:
        """Minutes since the scenario start of a calendar time."""
        return (when - self.start).total_seconds() / 60.0

    def dated_shifts(self) -> list[str]:
        """Where shifts are given by calendar dates (a past roster), as field paths: what a weekly roster's
        editor or optimiser cannot take."""
        return [f"pools.{name}.shifts.{i}.dates" for name, pool in self.pools.items()
                for i, shift in enumerate(pool.shifts) if shift.dates is not None]

    def lanes_of(self, pool: Pool) -> list[str]:
        """The lanes a pool reads, with "*" expanded, in the order of the scenario. A site's own readers read
        study types only (of their site); second opinions and audits are the centre's."""
        every = list(self.study_types)
        if pool.site is None:
            every += ([SECOND_OPINION] if self.second_opinions else []) + \
                ([AUDIT] if self.routing.autonomous_normal else [])
        if "*" in pool.reads:
            return every
        return [lane for lane in every if lane in pool.reads]
