"""Values a scenario holds: units and bounds (minutes, weights, probabilities), names, the code-path field and the strict base model every section is made of."""
from __future__ import annotations

import datetime as dt
import numbers
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from ..body_parts import body_part
from ..triage.resolver import is_import_path
from ..triage.vocabulary import REFERRALS, Kind

__all__ = ["AUDIT", "BodyPart", "CODE_PATHS", "CodeMarker", "CodePath", "DAYS", "LocalTime", "MAX_AI_SERVICES", "MAX_DEVICE_GROUPS", "MAX_ENTRIES", "MAX_MINUTES", "MAX_POOLS", "MAX_SHIFTS", "MAX_SITES", "MAX_STUDY_TYPES", "MAX_VALUES", "MAX_WINDOWS", "Minutes", "NAME_LENGTH", "NonNegative", "Number", "Positive", "PositiveMinutes", "Probability", "SECOND_OPINION", "Strict", "Variation", "Weight", "Whole"]


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SECOND_OPINION = Kind.SECOND_OPINION.value  # the lane of second opinions, named in pools' `reads`
AUDIT = Kind.AUDIT.value  # the lane of audits of autonomous AI-normal reports, named in pools' `reads`
_REFERRAL_NAMES = tuple(r.value for r in REFERRALS)
MAX_MINUTES = 10 * 365 * 1440.0  # the longest duration a scenario may give: ten years, in minutes
NAME_LENGTH = 100  # a scenario's name becomes a folder name: short enough for any file system
# Limits on a scenario's structure (docs/contract.md, "Limits"): every list and named collection is bounded,
# so that no file inside them takes minutes to read, check, run or write back (each measured at its limit).
MAX_VALUES = 100_000  # empirical values of one distribution
MAX_STUDY_TYPES = 500
MAX_SITES = 2_000
MAX_POOLS = 200
MAX_AI_SERVICES = 100
MAX_ENTRIES = 1_000  # entries of any other list (shifts of a pool, windows, slots, rules, expectations, ...)
MAX_SHIFTS = 2_000  # shift entries of all pools together
MAX_WINDOWS = 10_000  # time windows of all kinds together (opening hours, booking slots, outages, slowdowns)
MAX_DEVICE_GROUPS = 10_000  # a site's devices of one modality, over all sites


def _number(value: Any) -> Any:
    """Numbers only: YAML 1.1 readings such as `yes` -> True -> 1, or a quoted "3", are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"must be a number, not {_shown(value)}")
    return value


def _whole(value: Any) -> Any:
    value = _number(value)
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"must be a whole number, not {value!r}")
    return int(value)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{type(value).__name__} {value!r}"


def _local(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        raise ValueError("give a local time without a time zone, e.g. '2026-02-02T08:00' (the model's calendar "
                         "has no time zones or DST)")
    return value


def _calendar_text(value: Any) -> Any:
    if not isinstance(value, (str, dt.datetime, dt.date)):
        raise ValueError(f"must be a calendar time like '2026-02-02T08:00', not {_shown(value)}")
    return value


Number = Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)]
Probability = Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, BeforeValidator(_number), Field(ge=0.0, allow_inf_nan=False)]
# A relative weight (of an hour, a weekday, a site): bounded so that no sum of weights can overflow.
Weight = Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=1e12, allow_inf_nan=False)]
Positive = Annotated[float, BeforeValidator(_number), Field(gt=0.0, allow_inf_nan=False)]
Minutes = Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=MAX_MINUTES, allow_inf_nan=False)]
PositiveMinutes = Annotated[float, BeforeValidator(_number), Field(gt=0.0, le=MAX_MINUTES, allow_inf_nan=False)]
Variation = Annotated[float, BeforeValidator(_number), Field(ge=1e-3, le=100.0)]  # a coefficient of variation
Whole = Annotated[int, BeforeValidator(_whole)]
LocalTime = Annotated[dt.datetime, BeforeValidator(_calendar_text), AfterValidator(_local)]
BodyPart = Annotated[str, AfterValidator(body_part)]  # a DICOM BodyPartExamined term, upper case


def _policy_name(value: str) -> str:
    """A built-in policy's name, or text shaped like an import path (the resolver checks it further)."""
    from ..triage.registry import BUILT_IN

    if value in BUILT_IN or is_import_path(value):
        return value
    raise ValueError(f"unknown triage policy {value!r}; built-in: {', '.join(sorted(BUILT_IN))}, or your own "
                     "as 'package.module:Class'")


class CodeMarker:
    """Marks a field whose text may name code (`package.module:Class`): the resolver checks it."""


CodePath = Annotated[str, CodeMarker()]
# Every field that may name code, as dotted paths: the one list the resolver's callers and tests walk.
CODE_PATHS = ("policy.triage", "policy.aging.base", "routing.router")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)
