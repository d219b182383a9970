"""Routing: where a site's study is read (local first, overflow, night to the centre), pull or push, the autonomous-normal lane."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ..triage.resolver import is_import_path
from .durations import Distribution, Duration
from .values import MAX_STUDY_TYPES, CodePath, Positive, Probability, Strict
from .windows import clock_minutes

__all__ = ["AutonomousNormalLane", "NightWindow", "Routing"]


# Routing ------------------------------------------------------------------------------------------------
class NightWindow(Strict):
    """A daily window, e.g. {start: "20:00", end: "08:00"} (crossing midnight)."""

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if clock_minutes(value) > 1440:
            raise ValueError("a time of day: 00:00 to 24:00, without +1")
        return value

    @property
    def minutes(self) -> tuple[float, float]:
        return clock_minutes(self.start), clock_minutes(self.end)


class AutonomousNormalLane(Strict):
    """AI-normal studies of `study_types` scored below `below` skip the primary read; a reader audits them."""

    study_types: list[str] = Field(min_length=1, max_length=MAX_STUDY_TYPES)
    below: Probability
    target: Duration = Duration(hours=48)  # turnaround target of the audit
    read_minutes: Distribution | None = None  # of an audit; default the study type's reading time


class Routing(Strict):
    """Who reads what: pull or push, local readers first, the autonomous-normal lane."""

    mode: Literal["pull", "push"] = "pull"  # pull: a free reader takes the top study; push: assigned on arrival
    # Where a site's study is read (its own readers, the centre, both): local_first, or "package.module:Class".
    router: CodePath = "local_first"
    router_options: dict[str, Any] = {}  # for a router of your own: its constructor's keyword arguments
    workload: dict[str, Positive] = {}  # push: units per study type (default: its mean reading minutes)
    overflow_after: Duration | None = None  # a study waiting this long at its site may be read centrally
    night_to_centre: NightWindow | None = None  # in this window sites' studies go to the centre
    autonomous_normal: AutonomousNormalLane | None = None

    @field_validator("router")
    @classmethod
    def _router(cls, value: str) -> str:
        from ..triage.routing import BUILT_IN_ROUTERS

        if value in BUILT_IN_ROUTERS or is_import_path(value):
            return value
        raise ValueError(f"unknown router {value!r}; built-in: {', '.join(sorted(BUILT_IN_ROUTERS))}, or your "
                         "own as 'package.module:Class'")

    @model_validator(mode="after")
    def _options_for_own(self) -> "Routing":
        if self.router_options and self.router == "local_first":
            raise ValueError("router_options are for a router of your own; local_first takes overflow_after "
                             "and night_to_centre")
        return self
