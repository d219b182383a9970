"""Readers: pools with their competencies and shifts, and second opinions."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .durations import Distribution
from .values import MAX_ENTRIES, NonNegative, Probability, Strict, Whole
from .windows import Span

__all__ = ["Pool", "SecondOpinions", "Shift"]


# Readers ------------------------------------------------------------------------------------------------
class Shift(Span):
    """A shift starting on each of `days` at `start`, for `staff` readers.

    A shift crossing midnight ends next day: end: "08:00+1", or give hours: 12 instead of end.
    """

    staff: Annotated[Whole, Field(ge=0, le=100_000)]


class Pool(Strict):
    reads: list[str] = Field(min_length=1, max_length=MAX_ENTRIES)  # study types, "second_opinion", "audit", or "*" for everything
    site: str | None = None  # a site's own readers: they read that site's studies only (routing.overflow_after)
    shifts: list[Shift] = Field(min_length=1, max_length=MAX_ENTRIES)
    absence_rate: Probability = 0.0  # chance that a rostered reader does not show up for a shift
    cost_per_hour: NonNegative | None = None  # of one reader on duty, in any currency: the roster's cost a week


class SecondOpinions(Strict):
    """A share of primary reports sent for a second opinion, read by a different reader."""

    fraction: Probability
    of: list[str] | Literal["*"] = "*"  # study types whose reports may be sent
    read_minutes: Distribution
