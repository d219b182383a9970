"""Calendar windows and daily spans: an outage from a time for some hours, and a span of the day (a shift, opening hours) on weekdays or dates."""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from .values import DAYS, MAX_MINUTES, LocalTime, Strict, _number

__all__ = ["Span", "Window", "clock_minutes"]


class Window(Strict):
    """A calendar window, e.g. an outage: {start: "2026-02-03T10:00", hours: 4}."""

    start: LocalTime
    hours: Annotated[float, BeforeValidator(_number), Field(gt=0.0, le=MAX_MINUTES / 60.0)]


_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(\+1)?$")


def clock_minutes(text: str) -> float:
    """Minutes after midnight of 'HH:MM', or of the next day's 'HH:MM+1'."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time of day like '08:00' (or '08:00+1' for the next day)")
    hours, minutes, next_day = int(match[1]), int(match[2]), bool(match[3])
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{text!r} is not a time of day")
    return hours * 60.0 + minutes + (1440.0 if next_day else 0.0)


class Span(Strict):
    """A daily span of time starting on each of `days` at `start`: a shift, or opening hours.

    A span crossing midnight ends next day: end: "08:00+1", or give hours: 12 instead of end. `dates`
    instead of `days` makes it a span of those calendar dates only: a past roster replayed date by date
    (`radsim replay`, `radsim backtest`), where a weekly pattern would average the days away.
    """

    start: str
    end: str | None = None
    hours: Annotated[float, BeforeValidator(_number), Field(gt=0.0, le=48.0)] | None = None
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = list(DAYS)
    dates: Annotated[list[dt.date], Field(min_length=1, max_length=36_600)] | None = None
    name: str | None = None

    @field_validator("start")
    @classmethod
    def _start(cls, value: str) -> str:
        if clock_minutes(value) >= 1440:
            raise ValueError("it starts on its own day: before 24:00, without +1")
        return value

    @field_validator("end")
    @classmethod
    def _end(cls, value: str | None) -> str | None:
        if value is not None:
            clock_minutes(value)
        return value

    @model_validator(mode="after")
    def _length(self) -> "Span":
        if (self.end is None) == (self.hours is None):
            raise ValueError("give exactly one of end or hours")
        # Every day of the week with dates is what a written-out scenario says (days has a default): dates rule.
        if self.dates is not None and "days" in self.model_fields_set and set(self.days) != set(DAYS):
            raise ValueError("give days (every week) or dates (those dates only), not both")
        if self.end is not None and clock_minutes(self.end) <= clock_minutes(self.start):
            raise ValueError(
                f"it ends ({self.end}) before it starts ({self.start}); "
                f"for a span crossing midnight write end: '{self.end}+1' or give hours"
            )
        return self

    @property
    def start_minute(self) -> float:
        return clock_minutes(self.start)

    @property
    def length_minutes(self) -> float:
        if self.hours is not None:
            return self.hours * 60.0
        return clock_minutes(self.end) - self.start_minute  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        end = self.end or f"+{self.hours:g}h"
        return f"{self.start}-{end}"
