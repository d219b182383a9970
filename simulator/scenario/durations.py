"""Durations: the distributions of a duration in minutes (exponential, lognormal, gamma, fixed, empirical) and a duration written in minutes, hours or days."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BeforeValidator, Field, model_validator

from .values import MAX_MINUTES, MAX_VALUES, Minutes, PositiveMinutes, Strict, Variation, _number

__all__ = ["Distribution", "Duration", "Empirical", "Exponential", "Fixed", "Gamma", "Lognormal", "ZERO"]


# Distributions of durations in minutes ------------------------------------------------------------
class Exponential(Strict):
    dist: Literal["exponential"]
    mean: PositiveMinutes


class Lognormal(Strict):
    """Parameterised by its mean and coefficient of variation, as reading times are reported."""

    dist: Literal["lognormal"]
    mean: PositiveMinutes
    cv: Variation


class Gamma(Strict):
    dist: Literal["gamma"]
    mean: PositiveMinutes
    cv: Variation


class Fixed(Strict):
    dist: Literal["fixed"]
    value: Minutes


class Empirical(Strict):
    """Resampled uniformly from the values given (e.g. RIS reading-time observations)."""

    dist: Literal["empirical"]
    values: list[Minutes] = Field(min_length=1, max_length=MAX_VALUES)


Distribution = Annotated[Union[Exponential, Lognormal, Gamma, Fixed, Empirical], Field(discriminator="dist")]
ZERO = Fixed(dist="fixed", value=0.0)


class Duration(Strict):
    """A span of time written in one unit: {minutes: 15}, {hours: 24} or {days: 2}."""

    minutes: Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=MAX_MINUTES)] | None = None
    hours: Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=MAX_MINUTES / 60.0)] | None = None
    days: Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=MAX_MINUTES / 1440.0)] | None = None

    @model_validator(mode="after")
    def _one_unit(self) -> "Duration":
        given = [v for v in (self.minutes, self.hours, self.days) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of minutes, hours or days")
        return self

    @property
    def in_minutes(self) -> float:
        if self.minutes is not None:
            return self.minutes
        if self.hours is not None:
            return self.hours * 60.0
        return self.days * 1440.0  # type: ignore[operator]
