"""The scenario schema: every key a scenario file may hold, its type, its bounds and its default, one
module a section (their policies' options beside the policy); checks that span sections in `checks.py`.

Everything is imported from here: `from simulator.scenario import Scenario, StudyType, ...`."""
from __future__ import annotations

from .ai import AIService, RocCurve, UnitInterval
from .checks import check_references
from .durations import ZERO, Distribution, Duration, Empirical, Exponential, Fixed, Gamma, Lognormal
from .expect import Expectation, TheoryValue
from .model import Scenario
from .network import Delivery, DeviceOutage, Devices, Failures, Ingest, Network, Overflow, Slowdown, Uplink
from .policy import AgingOptions, DeadlineOptions, OneOrMore, Otherwise, Policy, Range, Rule, ScoreOptions, When
from .readers import Pool, SecondOpinions, Shift
from .routing import AutonomousNormalLane, NightWindow, Routing
from .studies import NO_CONDITION, Arrivals, ArrivalTrace, Booking, Condition, DoubleReading, Referral, Site, StudyType
from .values import (
    AUDIT,
    CODE_PATHS,
    DAYS,
    MAX_AI_SERVICES,
    MAX_DEVICE_GROUPS,
    MAX_ENTRIES,
    MAX_MINUTES,
    MAX_POOLS,
    MAX_SHIFTS,
    MAX_SITES,
    MAX_STUDY_TYPES,
    MAX_VALUES,
    MAX_WINDOWS,
    NAME_LENGTH,
    SECOND_OPINION,
    BodyPart,
    CodeMarker,
    CodePath,
    LocalTime,
    Minutes,
    NonNegative,
    Number,
    Positive,
    PositiveMinutes,
    Probability,
    Strict,
    Variation,
    Weight,
    Whole,
)
from .windows import Span, Window, clock_minutes

__all__ = ["Scenario", "StudyType", "Arrivals", "Site", "AIService", "Ingest", "Window", "Pool", "Shift", "SecondOpinions", "Policy", "Duration", "Expectation", "Distribution", "DAYS", "SECOND_OPINION", "AUDIT", "Routing", "DoubleReading", "ArrivalTrace", "check_references", "CodePath", "CODE_PATHS", "MAX_MINUTES", "NAME_LENGTH", "MAX_VALUES", "MAX_STUDY_TYPES", "MAX_SITES", "MAX_POOLS", "MAX_AI_SERVICES", "MAX_ENTRIES", "MAX_SHIFTS", "MAX_WINDOWS", "MAX_DEVICE_GROUPS", "Span", "Devices", "Failures", "DeviceOutage", "Uplink", "Slowdown", "Network", "Delivery", "Booking", "Overflow", "RocCurve", "Exponential", "Gamma", "Fixed", "Lognormal", "Empirical", "NO_CONDITION", "TheoryValue", "CodeMarker", "Strict", "Condition", "Referral", "clock_minutes", "ZERO", "Whole", "Minutes", "PositiveMinutes", "Probability", "Weight", "NonNegative", "Positive", "Number", "LocalTime", "BodyPart", "Variation", "UnitInterval", "ScoreOptions", "AgingOptions", "DeadlineOptions", "Rule", "Otherwise", "When", "Range", "NightWindow", "AutonomousNormalLane", "OneOrMore"]
