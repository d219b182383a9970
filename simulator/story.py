"""The high-risk story of a run, in plain words: how fast patients with a finding, AI-flagged studies and
STAT orders were reported, against their targets, and what FIFO would have given on the same studies.

Used by the CLI summary, `radsim report` and the dashboard, so all three tell it the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .comparison import Difference, paired
from .experiment import Run, summaries_of
from .overload import describe
from .scenario import Scenario

__all__ = ["Group", "GROUPS", "high_risk_groups", "looked_for", "Chapter", "Story", "tell", "minutes_text", "NAMES", "shown_value"]


@dataclass(frozen=True)
class Group:
    title: str  # for people
    where: dict[str, Any]


GROUPS = (Group("Studies with a finding", {"diseased": True}),
          Group("AI-flagged studies", {"ai_positive": True}),
          Group("STAT orders", {"referral": "stat"}))


def high_risk_groups(scenario: Scenario) -> tuple[Group, ...]:
    """GROUPS, then each of the scenario's conditions, most urgent first: a condition no AI looks for is a
    group of its own (prioritising what the AIs target can make it wait longer)."""
    urgency: dict[str, int] = {}
    for study_type in scenario.study_types.values():
        for name, condition in study_type.conditions.items():
            urgency[name] = min(urgency.get(name, condition.urgency), condition.urgency)
    return GROUPS + tuple(Group(f"Studies with {name}" + ("" if looked_for(scenario, name) else " (no AI looks for it)"),
                                {"condition": name}) for name in sorted(urgency, key=urgency.__getitem__))


def looked_for(scenario: Scenario, condition: str) -> bool:
    """Whether an AI scoring a study type with the condition targets it (or any finding)."""
    return any(service.targets is None or condition in service.targets
               for t in scenario.study_types.values() if condition in t.conditions
               for service in (scenario.ai_services[s] for s in t.ais if s in scenario.ai_services))


STORY_METRICS = ("p50_tat_minutes", "p95_tat_minutes", "sla_met_fraction")
# How values of the splits read for people.
NAMES = {("diseased", True): "finding", ("diseased", False): "no finding", ("ai_positive", True): "AI-flagged",
         ("ai_positive", False): "not flagged", ("kind", "second_opinion"): "second opinion",
         ("kind", "double_read"): "second read", ("kind", "primary"): "primary read",
         ("kind", "consultation"): "consultation", ("kind", "audit"): "audit of AI-normal",
         ("referral", "stat"): "STAT", ("priority", "ai_positive"): "AI-flagged",
         ("priority", "second_opinion"): "second opinion"}


def shown_value(split: str, value: Any) -> str:
    return NAMES.get((split, value), str(value).replace("_", " "))


def minutes_text(value: float | None) -> str:
    """A duration as people read it: minutes under two hours, hours under two days, then days."""
    if value is None or value != value:
        return "-"
    if value < 120:
        return f"{value:.0f} min" if value >= 10 else f"{value:.1f} min"
    if value < 2880:
        return f"{value / 60:.1f} h"
    return f"{value / 1440:.1f} d"


@dataclass
class Chapter:
    group: Group
    count: float
    median: float | None
    p95: float | None
    within: dict | None  # the summary row of sla_met_fraction (mean, ci_low, ci_high)
    target: float | None  # the target most of the group's items have, in minutes
    against_fifo: dict[str, Difference] = field(default_factory=dict)

    def sentence(self) -> str:
        if not self.count:
            return f"{self.group.title}: none in this run."
        target = f" (target {minutes_text(self.target)})" if self.target is not None else ""
        text = (f"{self.group.title}: median {minutes_text(self.median)}, 95% within {minutes_text(self.p95)}"
                f"{target}")
        if self.within is not None and self.within.get("mean") is not None:
            text += f"; {self.within['mean']:.1%} within target"
        p95 = self.against_fifo.get("p95_tat_minutes")
        if p95 is not None and p95.a is not None and p95.b is not None:
            change = {"better": "faster than FIFO", "worse": "slower than FIFO",
                      "n/a": "one replication: cannot tell"}.get(p95.verdict, "no clear change from FIFO")
            text += (f". Against FIFO on the same studies: 95% within {minutes_text(p95.b)} instead of "
                     f"{minutes_text(p95.a)} ({change})")
        return text + "."


@dataclass
class Story:
    chapters: list[Chapter]
    unfinished: float  # work items (after the warm-up) not reported by the horizon, mean over replications
    count: float
    warnings: list[str]  # overload verdicts in words

    def lines(self) -> list[str]:
        out = [c.sentence() for c in self.chapters]
        if self.unfinished >= 0.5:
            out.append(f"{self.unfinished:,.0f} of {self.count:,.0f} work items ({self.unfinished / self.count:.1%}) "
                       "were not reported by the horizon; turnaround figures count them at their censored time.")
        return out


def _row(run: Run, metric: str, where: dict) -> dict | None:
    for row in run.summary:
        if row["metric"] == metric and row["where"] == where:
            return row
    return None


def _mean(run: Run, metric: str, where: dict) -> float | None:
    row = _row(run, metric, where)
    return None if row is None else row["mean"]


def tell(run: Run, fifo: Run | None = None) -> Story:
    """The story of `run`; with `fifo` (the same scenario, seed and replications under FIFO), the change
    against FIFO of each high-risk group, paired replication by replication."""
    summaries = summaries_of(run)
    groups = high_risk_groups(run.scenario)
    differences: dict[tuple, Difference] = {}
    if fifo is not None:
        wheres, reps = [g.where for g in groups], range(run.replications)
        for d in paired(wheres, STORY_METRICS, summaries_of(fifo).values(wheres, STORY_METRICS, reps),
                        summaries.values(wheres, STORY_METRICS, reps)):
            differences[(d.metric, tuple(sorted(d.where.items())))] = d
    chapters = []
    for group in groups:
        key = tuple(sorted(group.where.items()))
        chapters.append(Chapter(group, _mean(run, "count", group.where) or 0.0,
                                _mean(run, "p50_tat_minutes", group.where), _mean(run, "p95_tat_minutes", group.where),
                                _row(run, "sla_met_fraction", group.where), summaries.typical_target(group.where),
                                {m: differences[(m, key)] for m in STORY_METRICS if (m, key) in differences}))
    return Story(chapters, _mean(run, "unfinished", {}) or 0.0, _mean(run, "count", {}) or 0.0,
                 [describe(o) for o in run.overloaded])
