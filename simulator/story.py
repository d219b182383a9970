"""The high-risk story of a run, told once: how fast patients with a finding, AI-flagged studies, STAT
orders (and each condition) and all work were reported, against their targets and against FIFO on the same
studies, with a verdict and, where a group misses its target, why.

Every view is a view of this one `Story`: the sentences `radsim run` prints, the story in summary.json,
the cards of report.html and the dashboard. A chapter's verdict follows the run's own verdicts: no green
under an overload, all work red when work is left unreported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .comparison import Difference, paired
from .groups import ALL, GROUPS, Group, high_risk_groups, looked_for
from .experiment import Run, summaries_of
from .metrics import columns_for, key_of
from .overload import describe
from .records import column

__all__ = ["Group", "GROUPS", "ALL", "high_risk_groups", "looked_for", "Chapter", "Story", "tell", "minutes_text",
           "NAMES", "shown_value", "status", "GOOD", "FAIR", "STORY_METRICS"]


STORY_METRICS = ("p50_tat_minutes", "p95_tat_minutes", "sla_met_fraction")
GOOD, FAIR = 0.95, 0.80  # share within target: green at or above GOOD, amber at or above FAIR, red below
REPORTED = 0.99  # all work is red when less of it than this is reported by the horizon


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


def status(share: float | None) -> str:
    """green / amber / red of a share within target (grey: no target, or no such work)."""
    if share is None or share != share:
        return "grey"
    return "green" if share >= GOOD else "amber" if share >= FAIR else "red"


@dataclass
class Chapter:
    """One group's figures: its count, median and 95th percentile of turnaround and share within target
    (summary rows: mean and CI), the target most of its items have, the change against FIFO, and why."""

    group: Group
    count: float
    rows: dict[str, dict | None]  # metric -> the summary row of STORY_METRICS
    target: float | None  # minutes
    against_fifo: dict[str, Difference] = field(default_factory=dict)
    why: list[str] = field(default_factory=list)  # only where the group misses its target
    overloaded: bool = False  # the run's backlog grows somewhere: no steady state to call green
    unreported: bool = False  # (all work) too much of it is left unreported by the horizon
    target_share: float = 1.0  # the share of the group's items whose target is `target` (each has its own)

    @property
    def target_text(self) -> str:
        """The group's target, and when its items have different ones (studies with a finding: the AI-flagged
        on the AI target, the missed on their order's), that it is the target of most of them."""
        if self.target is None:
            return "none"
        if self.target_share >= 0.995:
            return minutes_text(self.target)
        return f"{minutes_text(self.target)} for {self.target_share:.0%} of them, the rest their own"

    @property
    def title(self) -> str:
        return self.group.title

    def _mean(self, metric: str) -> float | None:
        row = self.rows.get(metric)
        return None if row is None else row["mean"]

    @property
    def median(self) -> float | None:
        return self._mean("p50_tat_minutes")

    @property
    def p95(self) -> float | None:
        return self._mean("p95_tat_minutes")

    @property
    def within(self) -> float | None:
        return self._mean("sla_met_fraction")

    @property
    def status(self) -> str:
        if not self.count:
            return "grey"
        if self.unreported:
            return "red"
        found = status(self.within)
        return "amber" if found == "green" and self.overloaded else found

    def sentence(self) -> str:
        if not self.count:
            return f"{self.title}: none in this run."
        target = f" (target {self.target_text})" if self.target is not None else ""
        text = f"{self.title}: median {minutes_text(self.median)}, 95% within {minutes_text(self.p95)}{target}"
        if self.within is not None:
            text += f"; {self.within:.1%} within {'target' if self.target_share >= 0.995 else 'their targets'}"
        p95 = self.against_fifo.get("p95_tat_minutes")
        if p95 is not None and p95.a is not None and p95.b is not None:
            change = {"better": "faster than FIFO", "worse": "slower than FIFO",
                      "n/a": "one replication: cannot tell"}.get(p95.verdict, "no clear change from FIFO")
            text += (f". Against FIFO on the same studies: 95% within {minutes_text(p95.b)} instead of "
                     f"{minutes_text(p95.a)} ({change})")
        return text + "."


@dataclass
class Story:
    chapters: list[Chapter]  # the high-risk groups, then all work
    unfinished: float  # work items (after the warm-up) not reported by the horizon, mean over replications
    count: float
    warnings: list[str]  # overload verdicts in words

    @property
    def high_risk(self) -> list[Chapter]:
        return [c for c in self.chapters if c.group is not ALL]

    def lines(self) -> list[str]:
        out = [c.sentence() for c in self.high_risk]
        if self.unfinished >= 0.5:
            out.append(f"{self.unfinished:,.0f} of {self.count:,.0f} work items ({self.unfinished / self.count:.1%}) "
                       "were not reported by the horizon; turnaround figures count them at their censored time.")
        return out


def _share(fraction: float) -> str:
    return "under 1%" if 0 < fraction < 0.005 else f"{fraction:.0%}"


def tell(run: Run, fifo: Run | None = None) -> Story:
    """The story of `run`; with `fifo` (the same scenario, seed and replications under FIFO), the change
    against FIFO of each group, paired replication by replication. Reasons come from the run's studies
    where it kept them."""
    summary, summaries = run.summary, summaries_of(run)
    groups = (*high_risk_groups(run.scenario), ALL)
    differences: dict[tuple, Difference] = {}
    if fifo is not None:
        wheres, reps = [g.where for g in groups], range(run.replications)
        for d in paired(wheres, STORY_METRICS, summaries_of(fifo).values(wheres, STORY_METRICS, reps),
                        summaries.values(wheres, STORY_METRICS, reps)):
            differences[(d.metric, key_of(d.where))] = d
    reasons = _reasons(run) if run.studies is not None else {}
    reported = summary.mean("reported_fraction")
    chapters = []
    for group in groups:
        key = key_of(group.where)
        counts = summaries.targets(group.where)
        typical = summaries.typical_target(group.where)
        chapter = Chapter(group, summary.mean("count", group.where) or 0.0,
                          {m: summary.get(m, group.where) for m in STORY_METRICS}, typical,
                          {m: differences[(m, key)] for m in STORY_METRICS if (m, key) in differences},
                          overloaded=bool(run.overloaded),
                          unreported=group is ALL and reported is not None and reported < REPORTED,
                          target_share=counts[typical] / sum(counts.values()) if typical is not None else 1.0)
        # An explanation only where there is a shortfall to explain, and the one that explains it.
        if chapter.status != "grey" and chapter.overloaded and status(chapter.within) == "green":
            chapter.why = ["on target, but demand exceeds capacity (" + "; ".join(o.pool for o in run.overloaded)
                           + "): the backlog grows, so these figures are no steady state"]
        elif chapter.status not in ("green", "grey"):
            chapter.why = reasons.get(group.title, [])
        chapters.append(chapter)
    return Story(chapters, summary.mean("unfinished") or 0.0, summary.mean("count") or 0.0,
                 [describe(o) for o in run.overloaded])


def _reasons(run: Run) -> dict[str, list[str]]:
    """Why the high-risk figures are what they are, in plain words, from the run's own studies; only what
    is so (a share of 0 explains nothing and is left out)."""

    studies = run.studies
    keep = ~column(studies, "in_warmup")
    primary = keep & (column(studies, "kind") == "primary")
    diseased = primary & np.asarray(column(studies, "diseased") == True)  # noqa: E712 (object array)
    flagged_values = column(studies, "ai_positive")
    flagged = np.asarray(flagged_values == True)  # noqa: E712
    scored = np.asarray([v is not None for v in flagged_values]) if flagged_values.dtype == object else \
        np.ones(flagged.shape[0], dtype=bool)
    out: dict[str, list[str]] = {}
    # With conditions: the findings no AI looks for are not misses; they wait with the routine work anyway.
    unsought = [name for name in {c for t in run.scenario.study_types.values() for c in t.conditions}
                if not looked_for(run.scenario, name)]
    untargeted = diseased & np.isin(column(studies, "condition").astype(str), unsought) if unsought \
        else np.zeros(diseased.shape[0], dtype=bool)
    for name in unsought:
        out[f"Studies with {name} (no AI looks for it)"] = [
            f"no AI looks for {name}: it waits with the routine work, behind every flagged study (false alarms "
            "included)"]
    if diseased.any():
        sought = diseased & ~untargeted
        missed = sought & scored & ~flagged
        unscored = diseased & ~scored
        words = []
        if missed.any():
            words.append(f"the AI misses {_share(missed.sum() / max((sought & scored).sum(), 1))} of the findings it "
                         "looks for at this operating point: those wait with the routine work")
        if untargeted.any():
            words.append(f"{_share(untargeted.sum() / diseased.sum())} of findings are conditions no AI looks for "
                         f"({', '.join(sorted(unsought))})")
        if unscored.any():
            words.append(f"{_share(unscored.sum() / diseased.sum())} of findings get no AI score (no AI for their study "
                         "type, or a failure or outage)")
        out[GROUPS[0].title] = words
    false = primary & flagged & ~np.asarray(column(studies, "diseased") == True)  # noqa: E712
    if false.any():
        out[GROUPS[1].title] = [f"{_share(false.sum() / (primary & flagged).sum())} of flagged studies have no finding "
                                "(false alarms go first too)"]
    stat = keep & (column(studies, "referral") == "stat")
    read, target = column(studies, "read_minutes"), columns_for(studies, run.scenario).target
    slow = stat & ~np.isnan(read) & ~np.isnan(target) & (read > target)
    if slow.any():
        modalities = column(studies, "modality")[slow]
        names, counts = np.unique(modalities.astype(str), return_counts=True)
        worst = ", ".join(n for n, _ in sorted(zip(names, counts), key=lambda nc: -nc[1])[:2])
        out[GROUPS[2].title] = [f"{_share(slow.sum() / stat.sum())} of STAT studies ({worst}) take longer than their "
                                "target to read alone: no policy or roster can report them in time"]
    words = []
    utilisation = run.summary.mean("utilization")
    if utilisation is not None:
        words.append(f"readers are busy {utilisation:.0%} of their time on duty")
    reported = run.summary.mean("reported_fraction")
    if reported is not None and reported < REPORTED:
        words.append(f"{1 - reported:.1%} of the work is never reported by the horizon")
    if run.overloaded:
        words.append("demand exceeds capacity: " + "; ".join(describe(o) for o in run.overloaded))
    out[ALL.title] = words
    return out
