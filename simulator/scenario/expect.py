"""Expectations (`expect:`): a metric of a subgroup and the value theory or a published figure gives it."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BeforeValidator, Field, model_validator

from .values import NonNegative, Number, Strict, _number

__all__ = ["Expectation", "TheoryValue"]


class TheoryValue(Strict):
    """An expected value computed from the scenario itself by a closed form (docs/validation.md), so the
    scenario's numbers and its expectation cannot drift apart. `of` picks one output: a class (0 highest)
    for `priority`, a group (positive, negative, diseased, healthy, fifo) for `ai_triage`."""

    theory: Literal["mmc_fifo", "priority", "ai_triage", "pk", "psa", "station"]
    of: Union[int, str, None] = None


class Expectation(Strict):
    metric: str
    where: dict[str, Union[bool, int, float, str]] = {}
    value: Union[Number, TheoryValue]
    # The precision the check needs: the widest half-width of the estimate's 99% CI that can tell.
    rel_tol: NonNegative | None = None
    abs_tol: NonNegative | None = None
    # How far the expected value itself may be from the truth (an approximation's error, a published
    # figure's rounding), relative; 0 for an exact closed form.
    value_rel_error: Annotated[float, BeforeValidator(_number), Field(ge=0.0, lt=1.0)] = 0.0

    @model_validator(mode="after")
    def _one_tolerance(self) -> "Expectation":
        if (self.rel_tol is None) == (self.abs_tol is None):
            raise ValueError("give exactly one of rel_tol or abs_tol")
        return self
