"""The network's stations in a scenario: devices at sites (their outages, failures and overflow), uplinks, the archive's ingest, report delivery."""
from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from .durations import ZERO, Distribution, Duration
from .values import MAX_ENTRIES, MAX_MINUTES, MAX_STUDY_TYPES, LocalTime, Strict, Whole, _number
from .windows import Span, Window

__all__ = ["Delivery", "DeviceOutage", "Devices", "Failures", "Ingest", "Network", "Overflow", "Slowdown", "Uplink"]


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
