"""Sites, study types and what arrives: arrival rates and traces, order priorities, bookings, double reading, conditions."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from ..triage.vocabulary import STUDY_TYPE_KINDS, Kind
from .durations import Distribution
from .network import Devices, Uplink
from .values import MAX_ENTRIES, MAX_SITES, NAME_LENGTH, BodyPart, Probability, Strict, Weight, Whole, _number
from .windows import Span

__all__ = ["ArrivalTrace", "Arrivals", "Booking", "Condition", "DoubleReading", "NO_CONDITION", "Referral", "Site", "StudyType"]


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
    ingest_minutes: Distribution | None = None  # the archive's processing of this type's studies; default ingest.delay_minutes
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
