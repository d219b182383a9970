"""The scenario schema: every key a scenario file may hold, its type, its bounds and its default.

Checks that span several fields (references between sections, a study type no pool reads) live in
`check_references`, which names the dotted path of what is wrong, like pydantic does for single fields.
"""
from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, field_validator,
                      model_validator)

from .body_parts import body_part
from .triage.resolver import is_import_path
from .triage.vocabulary import AI_POSITIVE, KINDS, REFERRALS, STUDY_TYPE_KINDS, Kind, Referral

__all__ = [
    "Scenario", "StudyType", "Arrivals", "Site", "AIService", "Ingest", "Window", "Pool", "Shift",
    "SecondOpinions", "Policy", "Duration", "Expectation", "Distribution", "DAYS", "SECOND_OPINION", "AUDIT",
    "Routing", "DoubleReading", "ArrivalTrace", "check_references", "CodePath", "CODE_PATHS", "MAX_MINUTES",
    "NAME_LENGTH", "MAX_VALUES", "MAX_STUDY_TYPES", "MAX_SITES", "MAX_POOLS", "MAX_AI_SERVICES", "MAX_ENTRIES",
    "MAX_SHIFTS", "MAX_WINDOWS", "MAX_DEVICE_GROUPS", "Span", "Devices", "Failures", "DeviceOutage", "Uplink", "Slowdown", "Network", "Delivery",
    "Booking", "Overflow", "RocCurve",
]

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
    from .triage.registry import BUILT_IN

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


class DeviceOutage(Strict):
    """Devices of a group out of service in a window (a breakdown that lasts, a planned maintenance): an exam
    under way when it begins is finished first."""

    start: LocalTime
    hours: Annotated[float, BeforeValidator(_number), Field(gt=0.0, le=MAX_MINUTES / 60.0)]
    devices: Annotated[Whole, Field(ge=1, le=10_000)] = 1


class Failures(Strict):
    """Breakdowns during exams: their clock runs while a device examines (mean busy hours between two,
    exponential); the exam stops for the repair and then resumes."""

    busy_hours_between: Annotated[float, BeforeValidator(_number), Field(gt=0.0, le=MAX_MINUTES / 60.0)]
    repair_minutes: Distribution


class Overflow(Strict):
    """Patients still waiting for a device after `after` go to another site's devices of the same modality
    (and stay there: they join its queue then, in their priority class)."""

    to: str
    after: Duration


class Devices(Strict):
    """A site's devices of one modality (the key is the DICOM modality code): patients for a study of that
    modality at the site queue for the first free one (STAT, then urgent, then routine; each by arrival)."""

    count: Annotated[Whole, Field(ge=1, le=10_000)]
    exam_minutes: Distribution
    open: Annotated[list[Span], Field(max_length=MAX_ENTRIES)] | None = None  # when exams start; default: always (an exam under way at closing ends)
    failures: Failures | None = None
    outages: list[DeviceOutage] = Field(default=[], max_length=MAX_ENTRIES)
    overflow: Overflow | None = None


class Uplink(Strict):
    """A site's line to the central archive, shared equally by the studies in transfer at each moment."""

    mbit_per_s: Annotated[float, BeforeValidator(_number), Field(gt=0.0, le=1e7)]
    # Down: studies in transfer wait, and resume when it is back.
    outages: list[Window] = Field(default=[], max_length=MAX_ENTRIES)


# Sites, arrivals, study types ------------------------------------------------------------------------
class Site(Strict):
    name: str | None = None
    kind: str = "polyclinic"  # polyclinic | hospital | ct_centre | ...: free text for people
    weight: Weight = 1.0  # share of each study type's volume, unless the type lists its own shares
    devices: dict[str, Devices] = Field(default={}, max_length=100)  # by modality code: its studies queue for these (simulator/network/devices.py)
    uplink: Uplink | None = None  # transfer time emerges from load (simulator/network/transfer.py)


class Arrivals(Strict):
    """Either a constant Poisson rate, or a daily volume shaped by hour of day and weekday.

    `per_day` is the mean over a week; `hourly` (24) and `weekday` (7, Monday first) are relative weights,
    normalised here, so percentages and factors can be pasted as found.
    """

    rate_per_hour: Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=1e6)] | None = None
    per_day: Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=1e8)] | None = None
    hourly: list[Weight] | None = Field(
        default=None, min_length=24, max_length=24)
    weekday: list[Weight] | None = Field(
        default=None, min_length=7, max_length=7)

    @model_validator(mode="after")
    def _one_form(self) -> "Arrivals":
        if (self.rate_per_hour is None) == (self.per_day is None):
            raise ValueError("give exactly one of rate_per_hour or per_day")
        if self.rate_per_hour is not None and (self.hourly or self.weekday):
            raise ValueError("hourly and weekday weights go with per_day, not rate_per_hour")
        if self.hourly is not None and sum(self.hourly) <= 0:
            raise ValueError("hourly weights must not all be zero")
        if self.weekday is not None and sum(self.weekday) <= 0:
            raise ValueError("weekday weights must not all be zero")
        return self

    def hourly_rates(self) -> list[list[float]]:
        """Expected arrivals per hour: 7 weekdays (Monday first) x 24 hours."""
        if self.rate_per_hour is not None:
            return [[self.rate_per_hour] * 24 for _ in range(7)]
        hourly = self.hourly or [1.0] * 24
        weekday = self.weekday or [1.0] * 7
        h_total, w_mean = sum(hourly), sum(weekday) / 7.0
        return [[self.per_day * (w / w_mean) * (h / h_total) for h in hourly] for w in weekday]  # type: ignore[operator]


class ArrivalTrace(Strict):
    """`arrivals: {trace: trace.parquet}`: primary studies replayed from a trace instead of drawn
    (trace_arrivals.py says how rows find their study type and what is still drawn). The path is relative
    to the scenario's file."""

    trace: str
    unmatched: Literal["error", "drop"] = "error"
    undated: Literal["drop", "error"] = "drop"  # rows without an arrival time (a file without dates)
    site_map: str | None = None  # station / AE title / institution -> site (simulator/site_map.py); relative path


class Referral(Strict):
    """Shares of clinical order priorities; the rest is routine."""

    stat: Probability = 0.0
    urgent: Probability = 0.0

    @model_validator(mode="after")
    def _at_most_one(self) -> "Referral":
        if self.stat + self.urgent > 1.0 + 1e-12:
            raise ValueError(f"stat + urgent = {self.stat + self.urgent:g} exceeds 1")
        return self


class Booking(Strict):
    """Booked demand at one site: a patient booked every `every_minutes` within `slots` (daily spans, like
    shifts); a share `no_show` does not come. Booked studies are routine and arrive at their slot time."""

    site: str
    slots: list[Span] = Field(min_length=1, max_length=MAX_ENTRIES)
    every_minutes: Annotated[float, BeforeValidator(_number), Field(ge=1.0, le=1440.0)]
    no_show: Probability = 0.0


class DoubleReading(Strict):
    """Two independent reads by different readers; the report is signed when both are done.

    `second_reader: ai`: the AI replaces the second human reader wherever it scored the study; an unscored
    study still gets a second human read.
    """

    second_reader: Literal["human", "ai"] = "human"
    read_minutes: Distribution | None = None  # of the second read; default the study type's


class Condition(Strict):
    """A finding a study of the type may show (conditions of one type are mutually exclusive: a study has at
    most one). Its reading time is its own distribution, or the type's scaled by `read_factor`, or the
    type's."""

    prevalence: Probability
    urgency: Annotated[Whole, Field(ge=1, le=100)] = 1  # 1 the most urgent; orders conditions in reports
    read_minutes: Distribution | None = None
    read_factor: Annotated[float, BeforeValidator(_number), Field(gt=0.0, le=1000.0)] | None = None

    @model_validator(mode="after")
    def _one_reading_time(self) -> "Condition":
        if self.read_minutes is not None and self.read_factor is not None:
            raise ValueError("give read_minutes or read_factor, not both")
        return self


NO_CONDITION = "none"  # the `condition` of a study without any


class StudyType(Strict):
    kind: Literal[tuple(k.value for k in STUDY_TYPE_KINDS)] = Kind.PRIMARY.value  # type: ignore[valid-type]
    modality: str = "OT"  # DICOM Modality code; OT (other) for work that is not an imaging study
    body_part: BodyPart | None = None
    description: str | None = None
    arrivals: Arrivals
    # Shares per site; default: every site by its weight.
    sites: Annotated[dict[str, Weight], Field(max_length=MAX_SITES)] | None = None
    prevalence: Probability = 0.0  # with conditions: their sum (give it per condition)
    # The findings a study may show, mutually exclusive, each with its prevalence (simulator/draws/truth.py).
    conditions: Annotated[dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=NAME_LENGTH)],
                               Condition], Field(max_length=100)] = {}
    referral: Referral = Referral()
    read_minutes: Distribution  # of a study without a condition, and of a condition without its own
    # An AI service, or several (each targets its own conditions; at most 8 a type).
    ai: str | Annotated[list[str], Field(max_length=8)] | None = None
    patient_age: Distribution | None = None  # years; drawn per study when rules look at age
    double_reading: DoubleReading | None = None
    bookings: list[Booking] = Field(default=[], max_length=MAX_ENTRIES)  # booked appointments besides the walk-ins of `arrivals` (routine)

    @model_validator(mode="after")
    def _conditions(self) -> "StudyType":
        if self.conditions:
            if NO_CONDITION in self.conditions:
                raise ValueError(f"{NO_CONDITION!r} names a study without a condition: pick another name")
            total = sum(c.prevalence for c in self.conditions.values())
            if total > 1.0 + 1e-12:
                raise ValueError(f"the conditions' prevalences add up to {total:g}: a study has at most one, so "
                                 "they must add up to 1 or less")
            # The type's prevalence is theirs: given as well (a scenario written out again), it must agree.
            if "prevalence" in self.model_fields_set and abs(self.prevalence - min(total, 1.0)) > 1e-9:
                raise ValueError(f"with conditions the prevalence is their sum ({total:g}): give it per condition")
            self.prevalence = min(total, 1.0)
        if isinstance(self.ai, list) and (not self.ai or len(set(self.ai)) != len(self.ai)):
            raise ValueError("ai: name each AI service once (or give one name, or none)")
        return self

    @property
    def ais(self) -> tuple[str, ...]:
        """The AI services that score this type, in the order given (the first is `ai_service`)."""
        return () if self.ai is None else (self.ai,) if isinstance(self.ai, str) else tuple(self.ai)

    @property
    def primary_ai(self) -> str | None:
        return self.ais[0] if self.ais else None


# AI, ingest -------------------------------------------------------------------------------------------
UnitInterval = Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=1.0)]


def _roc_file(data: Any) -> Any:
    """`roc: {file: roc.csv}`: the points (and thresholds) read from a CSV with a header row `fpf,tpf` and
    optionally `threshold` (one operating point a row), as vendors and papers publish them. The path is
    made absolute against the scenario file when it is loaded (simulator/loading.py)."""
    if not isinstance(data, dict) or not isinstance(data.get("file"), str):
        return data
    import csv

    path = Path(data["file"])
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"cannot read the ROC file {path}: {exc}") from None
    if not rows or not {"fpf", "tpf"} <= set(rows[0]):
        raise ValueError(f"{path}: needs a header row with fpf and tpf (and optionally threshold)")
    if len(rows) > 10_000:
        raise ValueError(f"{path}: more than 10,000 points")
    try:
        points = [[float(row["fpf"]), float(row["tpf"])] for row in rows]
        thresholds = [float(row["threshold"]) for row in rows] if "threshold" in rows[0] else None
    except (TypeError, ValueError):
        raise ValueError(f"{path}: fpf, tpf and threshold must be numbers on every row") from None
    for key, value in (("points", points), ("thresholds", thresholds)):
        if key in data and data[key] is not None and data[key] != value:
            raise ValueError(f"give the curve's {key} in the file or in the scenario, not both")
    return {**data, "points": points, **({"thresholds": thresholds} if thresholds is not None else {})}


class RocCurve(Strict):
    """An ROC curve as published: points (false-positive fraction, true-positive fraction), inline or from a
    CSV file, fitted as an unequal-variance binormal (simulator/ai.py). The service operates at the
    `sensitivity`, the `specificity` or the score `threshold` given beside it on the AI service (a
    threshold needs the curve's `thresholds`: the score cut-off of each point)."""

    file: str | None = None
    points: list[tuple[UnitInterval, UnitInterval]] = Field(min_length=2, max_length=10_000)
    thresholds: list[Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_file(cls, data: Any) -> Any:
        return _roc_file(data)

    @model_validator(mode="after")
    def _inside(self) -> "RocCurve":
        inside = [(f, t) for f, t in self.points if 0.0 < f < 1.0 and 0.0 < t < 1.0]
        if len({f for f, _ in inside}) < 2:
            raise ValueError("needs at least two points with distinct false-positive fractions strictly between "
                             "0 and 1 (the corners carry no information about the curve)")
        from .roc import fit_binormal

        fit_binormal(self.points)  # a curve that does not rise is refused here, naming the field
        if self.thresholds is not None:
            if len(self.thresholds) != len(self.points):
                raise ValueError(f"{len(self.thresholds)} thresholds for {len(self.points)} points: one a point")
            ranked = sorted(zip(self.thresholds, (f for f, _ in self.points)))
            if any(b[1] > a[1] for a, b in zip(ranked, ranked[1:])) or len({t for t, _ in ranked}) != len(ranked):
                raise ValueError("thresholds must be distinct, and a higher threshold never flag more healthy studies "
                                 "(its fpf no higher)")
        return self

    def fpf_at(self, threshold: float) -> float:
        """The false-positive fraction at a score threshold, linear between the curve's points."""
        import numpy as np

        ranked = sorted(zip(self.thresholds or [], (f for f, _ in self.points)))
        return float(np.interp(threshold, [t for t, _ in ranked], [f for _, f in ranked]))


class AIService(Strict):
    """An AI service's operating point on a binormal ROC.

    Give sensitivity and specificity, or an AUC with one of them (equal-variance binormal); or an ROC curve
    (`roc: {points: ...}`, fitted as an unequal-variance binormal) with the sensitivity or the specificity
    to operate at.
    """

    sensitivity: Annotated[float, BeforeValidator(_number), Field(gt=0.0, lt=1.0)] | None = None
    specificity: Annotated[float, BeforeValidator(_number), Field(gt=0.0, lt=1.0)] | None = None
    auc: Annotated[float, BeforeValidator(_number), Field(gt=0.5, lt=1.0)] | None = None
    roc: RocCurve | None = None
    threshold: Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)] | None = None  # with roc
    # The conditions it looks for (of the study types it scores); default: any condition (any finding).
    targets: list[str] | None = None
    latency_minutes: Distribution = ZERO  # with workers: the result's way back, after inference
    failure_rate: Probability = 0.0  # share of studies it never scores
    # A compute service: `workers` GPU slots, each study taking `inference_minutes`; the study joins the
    # worklist at once and its result re-ranks it when it comes (simulator/network/ai_compute.py).
    workers: Annotated[Whole, Field(ge=1, le=100_000)] | None = None
    inference_minutes: Distribution | None = None
    outages: list[Window] = Field(default=[], max_length=MAX_ENTRIES)
    algorithm: str | None = None
    version: str | None = None

    @model_validator(mode="after")
    def _operating_point(self) -> "AIService":
        given = sum(v is not None for v in (self.sensitivity, self.specificity, self.auc, self.threshold))
        if self.threshold is not None and (self.roc is None or self.roc.thresholds is None):
            raise ValueError("a threshold needs an roc curve with the thresholds of its points")
        if self.roc is not None:
            if self.auc is not None or given != 1:
                raise ValueError("with an roc curve give the sensitivity, the specificity or the threshold to operate "
                                 "at (the curve sets the AUC)")
            if self.threshold is not None:
                low, high = min(self.roc.thresholds), max(self.roc.thresholds)  # type: ignore[arg-type]
                fpf = self.roc.fpf_at(self.threshold)
                if not low <= self.threshold <= high or not 0.0 < fpf < 1.0:
                    raise ValueError(f"threshold {self.threshold:g} is outside the curve's thresholds ({low:g} to "
                                     f"{high:g}) or at a corner of the curve")
        elif given != 2:
            raise ValueError("give two of sensitivity, specificity and auc (an operating point, or an AUC and one of them)")
        if (self.workers is None) != (self.inference_minutes is None):
            raise ValueError("give workers and inference_minutes together (a compute service), or neither")
        return self


class Slowdown(Strict):
    """The archive's ingest at a share of its capacity in a window."""

    start: LocalTime
    hours: Annotated[float, BeforeValidator(_number), Field(gt=0.0, le=MAX_MINUTES / 60.0)]
    factor: Annotated[float, BeforeValidator(_number), Field(ge=0.0, lt=1.0)]


class Ingest(Strict):
    """Transfer from the modality to the central archive. During an outage studies wait at the site.

    With `mbyte_per_s` the archive takes studies in at that rate, shared by those arriving (processor
    sharing); `delay_minutes` then adds the archive's own processing after it."""

    delay_minutes: Distribution = ZERO
    outages: list[Window] = Field(default=[], max_length=MAX_ENTRIES)
    mbyte_per_s: Annotated[float, BeforeValidator(_number), Field(gt=0.0, le=1e7)] | None = None
    slowdowns: list[Slowdown] = Field(default=[], max_length=MAX_ENTRIES)

    @model_validator(mode="after")
    def _slowdown_needs_rate(self) -> "Ingest":
        if self.slowdowns and self.mbyte_per_s is None:
            raise ValueError("slowdowns need mbyte_per_s (the capacity they slow)")
        return self


class Delivery(Strict):
    """From the signed report to the patient's record: a publication delay; during an outage reports wait."""

    delay_minutes: Distribution = ZERO
    outages: list[Window] = Field(default=[], max_length=MAX_ENTRIES)


class Network(Strict):
    """Study sizes for transfer (by modality code) and the report's delivery."""

    sizes_mb: dict[str, Distribution] = Field(default={}, max_length=MAX_STUDY_TYPES)
    delivery: Delivery = Delivery()


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
        from .triage.routing import BUILT_IN_ROUTERS

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


# Policy, targets, expectations --------------------------------------------------------------------------
class ScoreOptions(Strict):
    """`score`: bands of the AI probability, highest first; each band's lowest score."""

    bands: dict[str, Probability] = {"high": 0.5, "medium": 0.1, "low": 0.0}
    unscored: str | None = None  # the band of unscored studies; default the second
    within: Literal["ready", "score"] = "ready"  # order inside a band


class AgingOptions(Strict):
    """`aging`: promote one class per `promote_after` on the worklist; overdue at `max_wait`."""

    base: CodePath = "ai_priority"  # the order aging lifts studies through: a built-in other than aging, or code

    @field_validator("base")
    @classmethod
    def _base(cls, value: str) -> str:
        if value == "aging":
            raise ValueError("aging cannot age itself: give a base such as ai_priority, score or rules")
        return _policy_name(value)
    promote_after: Duration | None = Duration(hours=1)
    max_wait: Duration | None = Duration(hours=4)


class DeadlineOptions(Strict):
    """`sla_edf`: deadline = ready time (or arrival) + the target of the study's class."""

    start: Literal["ready", "arrival"] = "ready"
    default: Duration | None = None  # target of studies whose class has none


OneOrMore = Union[str, list[str]]


class Range(Strict):
    lt: Number | None = None
    le: Number | None = None
    gt: Number | None = None
    ge: Number | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> "Range":
        if all(v is None for v in (self.lt, self.le, self.gt, self.ge)):
            raise ValueError("give at least one bound: lt, le, gt or ge")
        return self


class When(Strict):
    """Conditions that must all hold; a list means any of its values."""

    referral: Union[Literal[_REFERRAL_NAMES], list[Literal[_REFERRAL_NAMES]], None] = None  # type: ignore[valid-type]
    study_type: OneOrMore | None = None
    modality: OneOrMore | None = None
    site: OneOrMore | None = None
    kind: OneOrMore | None = None
    ai_service: OneOrMore | None = None
    ai_score: Range | None = None
    patient_age: Range | None = None
    ai_positive: StrictBool | None = None
    scored: StrictBool | None = None


_NO_RULE_TARGETS = ("a rule sets no target: a study's target comes from what it is, whatever the policy "
                    "(move it to the scenario's `targets`: stat, urgent, routine, ai_positive, a kind of work or "
                    "a study type; see docs/metrics.md)")


class Rule(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    when: When = When()
    class_: str = Field(alias="class", min_length=1, max_length=100)
    target: Any = None  # refused with a pointer to `targets` (rules once carried targets)

    @field_validator("target")
    @classmethod
    def _no_target(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(_NO_RULE_TARGETS)
        return None


class Otherwise(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    class_: str = Field(alias="class", min_length=1, max_length=100)
    target: Any = None

    _no_target = field_validator("target")(Rule._no_target.__func__)  # type: ignore[attr-defined]


class Policy(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    triage: CodePath = "fifo"  # fifo | ai_priority | hierarchical | score | aging | sla_edf | rules | "package.module:Class"
    preemptive: StrictBool = False
    order: list[str] = Field(default=[], max_length=MAX_ENTRIES)  # hierarchical: AI services or targeted conditions, most urgent first
    score: ScoreOptions = ScoreOptions()
    aging: AgingOptions = AgingOptions()
    sla_edf: DeadlineOptions = DeadlineOptions()
    rules: list[Rule] = Field(default=[], max_length=MAX_ENTRIES)  # rules: first match wins
    else_: Otherwise | None = Field(default=None, alias="else")
    options: dict[str, Any] = {}  # passed to a user policy's constructor

    @field_validator("triage")
    @classmethod
    def _triage(cls, value: str) -> str:
        return _policy_name(value)


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

    @property
    def horizon_minutes(self) -> float:
        return self.horizon_days * 1440.0

    @property
    def warmup_minutes(self) -> float:
        return self.warmup_days * 1440.0

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


def _dated_outside(scenario: Scenario) -> list[tuple[str, str]]:
    """Dated shifts none of whose dates falls within the run: a roster that would never happen (the dates of
    another year, say) is refused, not silently ignored."""
    problems = []
    first, last = scenario.start, scenario.start + dt.timedelta(minutes=scenario.horizon_minutes)
    for name, pool in scenario.pools.items():
        for i, shift in enumerate(pool.shifts):
            if shift.dates is None:
                continue
            begins = [dt.datetime.combine(d, dt.time()) + dt.timedelta(minutes=shift.start_minute) for d in shift.dates]
            if not any(b < last and b + dt.timedelta(minutes=shift.length_minutes) > first for b in begins):
                problems.append((f"pools.{name}.shifts.{i}.dates", f"none of its {len(begins)} date(s) "
                                 f"({min(shift.dates)} to {max(shift.dates)}) falls within the run ({first:%Y-%m-%d %H:%M} "
                                 f"to {last:%Y-%m-%d %H:%M}): the shift would never happen"))
    return problems


def check_references(scenario: Scenario) -> list[tuple[str, str]]:
    """Problems that span sections, as (dotted path, message); empty when the scenario is consistent."""
    problems: list[tuple[str, str]] = []
    lanes = set(scenario.study_types) | {SECOND_OPINION, AUDIT}
    for name, study_type in scenario.study_types.items():
        for service in study_type.ais:
            if service not in scenario.ai_services:
                problems.append((f"study_types.{name}.ai", f"no AI service {service!r} in ai_services"))
        stations = (any(site.devices or site.uplink is not None for site in scenario.sites.values())
                    or scenario.ingest.mbyte_per_s is not None
                    or any(scenario.ai_services[s].workers is not None for s in study_type.ais if s in scenario.ai_services))
        if len(study_type.ais) > 1 and stations:
            problems.append((f"study_types.{name}.ai", "a study scored by several AIs goes through drawn delays only: "
                             "not yet with devices, uplinks, ingest capacity or AI workers"))
        if (study_type.conditions or len(study_type.ais) > 1) and scenario.arrivals is not None:
            problems.append((f"study_types.{name}", "conditions and several AIs are drawn, not replayed: not with "
                             "arrivals.trace (a trace has one finding and one AI result a study)"))
        for site in study_type.sites or {}:
            if site not in scenario.sites:
                problems.append((f"study_types.{name}.sites.{site}", f"no site {site!r} in sites"))
        if study_type.sites is not None and sum(study_type.sites.values()) <= 0:
            problems.append((f"study_types.{name}.sites", "site shares must not all be zero"))
    for service_name, service in scenario.ai_services.items():
        users = [t for t in scenario.study_types.values() if service_name in t.ais]
        for i, target in enumerate(service.targets or []):
            if not any(target in t.conditions for t in users):
                problems.append((f"ai_services.{service_name}.targets.{i}",
                                 f"no study type it scores has a condition {target!r}"))
    if any(t.sites is None for t in scenario.study_types.values()) and sum(s.weight for s in scenario.sites.values()) <= 0:
        problems.append(("sites", "site weights must not all be zero"))
    problems += _dated_outside(scenario)
    for pool_name, pool in scenario.pools.items():
        for i, lane in enumerate(pool.reads):
            if lane != "*" and lane not in lanes:
                problems.append((f"pools.{pool_name}.reads.{i}", f"no study type {lane!r}"))
    if scenario.second_opinions is not None and scenario.second_opinions.of != "*":
        for i, name in enumerate(scenario.second_opinions.of):
            if name not in scenario.study_types:
                problems.append((f"second_opinions.of.{i}", f"no study type {name!r}"))
    for pool_name, pool in scenario.pools.items():
        if pool.site is not None and pool.site not in scenario.sites:
            problems.append((f"pools.{pool_name}.site", f"no site {pool.site!r} in sites"))
    central = {lane for pool in scenario.pools.values() if pool.site is None for lane in scenario.lanes_of(pool)}
    for name, study_type in scenario.study_types.items():
        shares = study_type.sites if study_type.sites is not None else {s: v.weight for s, v in scenario.sites.items()}
        shares = {**shares, **{b.site: 1.0 for b in study_type.bookings if b.site in scenario.sites}}
        for site, share in shares.items():
            local = any(p.site == site and name in scenario.lanes_of(p) for p in scenario.pools.values())
            if share > 0 and name not in central and not local:
                problems.append((f"study_types.{name}", "no pool reads this study type" +
                                 (f" from site {site!r}" if len(shares) > 1 else "") + " (add it to a pool's reads)"))
                break
    problems += _routing_problems(scenario, central)
    problems += _network_problems(scenario)
    if scenario.second_opinions is not None and scenario.second_opinions.fraction > 0:
        readers = [p for p in scenario.pools.values() if SECOND_OPINION in scenario.lanes_of(p)]
        if not readers:
            problems.append(("second_opinions", "no pool reads second_opinion (add it to a pool's reads)"))
    targeted = {c for service in scenario.ai_services.values() for c in service.targets or []}
    for i, entry in enumerate(scenario.policy.order):
        if entry not in scenario.ai_services and entry not in targeted:
            problems.append((f"policy.order.{i}", f"no AI service {entry!r} in ai_services, nor a condition an AI "
                             "service targets"))
    problems += _policy_problems(scenario)
    problems += _target_problems(scenario)
    for i, expectation in enumerate(scenario.expect):
        if isinstance(expectation.value, float) and not math.isfinite(expectation.value):
            problems.append((f"expect.{i}.value", "must be a finite number"))
    return problems


def _network_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Devices for a modality no study type has (a typo would silently leave studies unqueued), and study
    types that travel a link with no size to send."""
    problems: list[tuple[str, str]] = []
    imaging = {t.modality for t in scenario.study_types.values() if t.kind == Kind.PRIMARY.value}
    for site_name, site in scenario.sites.items():
        for modality, group in site.devices.items():
            overflow = group.overflow
            if overflow is not None:
                path = f"sites.{site_name}.devices.{modality}.overflow.to"
                target = scenario.sites.get(overflow.to)
                if target is None:
                    problems.append((path, f"no site {overflow.to!r} in sites"))
                elif overflow.to == site_name:
                    problems.append((path, "a site cannot send its patients to itself"))
                elif modality not in target.devices:
                    problems.append((path, f"site {overflow.to!r} has no {modality} devices to send patients to"))
            if modality not in imaging:
                problems.append((f"sites.{site_name}.devices.{modality}",
                                 f"no imaging study type has modality {modality!r} ({', '.join(sorted(imaging))})"))
    for name, study_type in scenario.study_types.items():
        for i, booking in enumerate(study_type.bookings):
            if booking.site not in scenario.sites:
                problems.append((f"study_types.{name}.bookings.{i}.site", f"no site {booking.site!r} in sites"))
            if study_type.kind != Kind.PRIMARY.value:
                problems.append((f"study_types.{name}.bookings", "bookings are for imaging studies"))
        if study_type.bookings and scenario.arrivals is not None:
            problems.append((f"study_types.{name}.bookings", "a replayed trace holds the studies that came: "
                             "give bookings or a trace, not both"))
    for modality in imaging:  # patients never come back, so sending in a circle would never settle
        step = {name: site.devices[modality].overflow.to for name, site in scenario.sites.items()
                if modality in site.devices and site.devices[modality].overflow is not None}
        for first in step:
            seen, here = [first], first
            while here in step:
                here = step[here]
                if here in seen:
                    problems.append((f"sites.{first}.devices.{modality}.overflow",
                                     f"overflow goes round in a circle: {' -> '.join(seen + [here])}"))
                    break
                seen.append(here)
            else:
                continue
            break
    sized = scenario.ingest.mbyte_per_s is not None or any(s.uplink is not None for s in scenario.sites.values())
    if sized:
        for name, study_type in scenario.study_types.items():
            if study_type.kind == Kind.PRIMARY.value and study_type.modality not in scenario.network.sizes_mb:
                problems.append((f"study_types.{name}.modality", f"no study size for {study_type.modality!r} in "
                                 "network.sizes_mb (links and ingest move megabytes)"))
    for modality in scenario.network.sizes_mb:
        if modality not in imaging:
            problems.append((f"network.sizes_mb.{modality}", f"no imaging study type has modality {modality!r}"))
    return problems


def _policy_problems(scenario: Scenario) -> list[tuple[str, str]]:
    policy = scenario.policy
    problems: list[tuple[str, str]] = []
    if policy.triage == "rules" and policy.else_ is None:
        problems.append(("policy.else", "triage: rules needs an else: {class: ...} for studies no rule matches"))
    if policy.options and ":" not in policy.triage:
        problems.append(("policy.options", "options go to a user policy ('package.module:Class'); built-in policies "
                         "have their own sections (policy.score, policy.aging, policy.sla_edf, policy.rules)"))
    known = {
        "study_type": set(scenario.study_types), "site": set(scenario.sites), "ai_service": set(scenario.ai_services),
        "modality": {t.modality for t in scenario.study_types.values()},
        "kind": set(KINDS),
    }
    for i, rule in enumerate([*policy.rules, *([policy.else_] if policy.else_ else [])]):
        where = f"policy.rules.{i}" if i < len(policy.rules) else "policy.else"
        for field, names in known.items():
            value = getattr(rule.when, field, None) if isinstance(rule, Rule) else None
            for name in [value] if isinstance(value, str) else value or []:
                if name not in names:
                    problems.append((f"{where}.when.{field}", f"no {field.replace('_', ' ')} {name!r} in the scenario"))
    return problems


def _target_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """`targets` keys name what a work item is: an order priority, `ai_positive`, a kind or a study type."""
    names = {*REFERRALS, AI_POSITIVE, *KINDS, *scenario.study_types}
    return [(f"targets.{key}", f"no order priority, kind of work or study type {key!r} (targets are given by what a "
             f"work item is: {', '.join(REFERRALS)}, {AI_POSITIVE}, {', '.join(KINDS)} or a study type)")
            for key in scenario.targets if key not in names]


def _routing_problems(scenario: Scenario, central: set[str]) -> list[tuple[str, str]]:
    routing = scenario.routing
    problems: list[tuple[str, str]] = []
    for name in routing.workload:
        if name not in scenario.study_types:
            problems.append((f"routing.workload.{name}", f"no study type {name!r}"))
    for name, study_type in scenario.study_types.items():
        if study_type.double_reading is not None:
            most = sum(max(shift.staff for shift in pool.shifts) for pool in scenario.pools.values()
                       if name in scenario.lanes_of(pool))
            if most < 2:
                problems.append((f"study_types.{name}.double_reading",
                                 "two different readers read each study, but the pools reading it never have two"))
    lane = routing.autonomous_normal
    if lane is not None:
        for i, name in enumerate(lane.study_types):
            if name not in scenario.study_types:
                problems.append((f"routing.autonomous_normal.study_types.{i}", f"no study type {name!r}"))
            elif scenario.study_types[name].ai is None:
                problems.append((f"routing.autonomous_normal.study_types.{i}", f"study type {name!r} has no AI"))
        if AUDIT not in central:
            problems.append(("routing.autonomous_normal", "no pool reads audit (add it to a central pool's reads)"))
    return problems
