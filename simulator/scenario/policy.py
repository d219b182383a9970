"""The triage policy and each built-in policy's options beside it (score bands, aging, earliest deadline, declarative rules)."""
from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import ConfigDict, Field, StrictBool, field_validator, model_validator

from .durations import Duration
from .values import _REFERRAL_NAMES, MAX_ENTRIES, CodePath, Number, Probability, Strict, _policy_name

__all__ = ["AgingOptions", "DeadlineOptions", "OneOrMore", "Otherwise", "Policy", "Range", "Rule", "ScoreOptions", "When"]


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
