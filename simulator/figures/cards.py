"""The numbers on the cards of the dashboard and the report: the high-risk cards (the same four under every
policy), the reasons behind them in plain words, and the operational figures beside them.

Pure functions of a run (and, for the comparison, the same run under FIFO): no Streamlit here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..comparison import Difference, compare_runs
from ..experiment import Run
from ..metrics import StudyColumns, columns_for
from ..scenario import Scenario
from ..story import GROUPS, Group, high_risk_groups, looked_for, minutes_text
from .timeline import column, minute_of_week, shift_changes, waiting_at

__all__ = ["Card", "high_risk_cards", "Operations", "operations", "roster_cost", "describe_change", "NIGHT", "GOOD",
           "FAIR", "status"]

NIGHT = (20 * 60.0, 8 * 60.0)  # 20:00-08:00: what "night" means on the cards
GOOD, FAIR = 0.95, 0.80  # share within target: green at or above GOOD, amber at or above FAIR, red below
ALL = Group("All work", {})
CARD_METRICS = ("p50_tat_minutes", "p95_tat_minutes", "sla_met_fraction")


def status(share: float | None) -> str:
    """green / amber / red of a share within target (grey: no target, or no such work)."""
    if share is None or share != share:
        return "grey"
    return "green" if share >= GOOD else "amber" if share >= FAIR else "red"


@dataclass
class Card:
    group: Group
    count: float
    rows: dict[str, dict | None]  # metric -> summary row (mean, ci_low, ci_high)
    target: float | None  # the target most of the group's items have, in minutes
    against_fifo: dict[str, Difference] = field(default_factory=dict)
    why: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.group.title

    @property
    def within(self) -> float | None:
        row = self.rows.get("sla_met_fraction")
        return None if row is None else row["mean"]

    @property
    def status(self) -> str:
        return status(self.within) if self.count else "grey"


def _row(run: Run, metric: str, where: dict) -> dict | None:
    for row in run.summary:
        if row["metric"] == metric and row["where"] == where:
            return row
    return None


def high_risk_cards(run: Run, fifo: Run | None = None) -> list[Card]:
    """Patients with a finding, AI-flagged studies, STAT orders and all work: median and 95th percentile
    of turnaround, share within target with its CI, the target, the change against FIFO on the same
    studies (paired), and why."""
    cols = columns_for(run.studies, run.scenario)
    groups = (*high_risk_groups(run.scenario), ALL)
    differences: dict[tuple, Difference] = {}
    if fifo is not None:
        for d in compare_runs(run.scenario, fifo, run, CARD_METRICS, [g.where for g in groups]):
            differences[(d.metric, tuple(sorted(d.where.items())))] = d
    reasons = _reasons(run, cols)
    cards = []
    for group in groups:
        key = tuple(sorted(group.where.items()))
        count = _row(run, "count", group.where)
        cards.append(Card(group, 0.0 if count is None else (count["mean"] or 0.0),
                          {m: _row(run, m, group.where) for m in CARD_METRICS}, _typical_target(cols, group.where),
                          {m: differences[(m, key)] for m in CARD_METRICS if (m, key) in differences},
                          reasons.get(group.title, [])))
    return cards


def _typical_target(cols: StudyColumns, where: dict) -> float | None:
    try:
        targets = cols.target[cols.mask(where)]
    except KeyError:
        return None
    targets = targets[~np.isnan(targets)]
    if not targets.size:
        return None
    values, counts = np.unique(targets, return_counts=True)
    return float(values[np.argmax(counts)])


def _reasons(run: Run, cols: StudyColumns) -> dict[str, list[str]]:
    """Why the high-risk figures are what they are, in plain words, from the run's own studies."""
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
        if (sought & scored).any():
            words.append(f"the AI misses {missed.sum() / max((sought & scored).sum(), 1):.0%} of the findings it "
                         "looks for at this operating point: those wait with the routine work")
        if untargeted.any():
            words.append(f"{untargeted.sum() / diseased.sum():.0%} of findings are conditions no AI looks for "
                         f"({', '.join(sorted(unsought))})")
        if unscored.any():
            words.append(f"{unscored.sum() / diseased.sum():.0%} of findings get no AI score (no AI for their study "
                         "type, or a failure or outage)")
        out[GROUPS[0].title] = words
    if (primary & flagged).any():
        false = primary & flagged & ~np.asarray(column(studies, "diseased") == True)  # noqa: E712
        out[GROUPS[1].title] = [f"{false.sum() / (primary & flagged).sum():.0%} of flagged studies have no finding "
                                "(false alarms go first too)"]
    stat = keep & (column(studies, "referral") == "stat")
    if stat.any():
        read = column(studies, "read_minutes")
        target = cols.target
        slow = stat & ~np.isnan(read) & ~np.isnan(target) & (read > target)
        words = []
        if slow.any():
            modalities = column(studies, "modality")[slow]
            names, counts = np.unique(modalities.astype(str), return_counts=True)
            worst = ", ".join(n for n, _ in sorted(zip(names, counts), key=lambda nc: -nc[1])[:2])
            words.append(f"{slow.sum() / stat.sum():.0%} of STAT studies ({worst}) take longer than their target "
                         "to read alone: no policy or roster can report them in time")
        out[GROUPS[2].title] = words
    utilisation = _row(run, "utilization", {})
    if utilisation is not None and utilisation["mean"] is not None:
        out[ALL.title] = [f"readers are busy {utilisation['mean']:.0%} of their time on duty"]
    return out


@dataclass(frozen=True)
class Operations:
    night_mean_wait: float | None  # primary reads that became ready 20:00-08:00
    backlog_at_shift_change: float | None  # mean worklist length at the moments shifts change
    utilisation: float | None
    overtime_hours: float | None
    reader_hours_per_week: float
    cost_per_week: float | None  # where the scenario gives a cost per hour for every pool


def roster_cost(scenario: Scenario) -> tuple[float, float | None]:
    """(reader-hours a week, cost a week) of the scenario's roster; the cost where every pool has a
    `cost_per_hour`."""
    hours, cost, priced = 0.0, 0.0, True
    for pool in scenario.pools.values():
        # A dated shift (a past roster) counts its dates spread over the horizon's weeks.
        pool_hours = sum(s.staff * s.length_minutes / 60.0 * (len(s.days) if s.dates is None else
                         len(s.dates) * 7.0 / max(scenario.horizon_days, 1.0)) for s in pool.shifts)
        hours += pool_hours
        if pool.cost_per_hour is None:
            priced = False
        else:
            cost += pool_hours * pool.cost_per_hour
    return hours, (cost if priced else None)


def operations(run: Run) -> Operations:
    studies, scenario = run.studies, run.scenario
    wait, ready = column(studies, "wait_minutes"), column(studies, "ready_at")
    measured = ~column(studies, "in_warmup")
    minute = minute_of_week(np.nan_to_num(ready), scenario) % 1440
    night = (minute >= NIGHT[0]) | (minute < NIGHT[1])
    chosen = measured & night & ~np.isnan(wait) & (column(studies, "kind") == "primary")
    changes = shift_changes(scenario)
    hours, cost = roster_cost(scenario)
    utilisation, overtime = _row(run, "utilization", {}), _row(run, "overtime_hours", {})
    return Operations(
        night_mean_wait=float(wait[chosen].mean()) if chosen.any() else None,
        backlog_at_shift_change=float(waiting_at(studies, changes).mean()) if changes.size else None,
        utilisation=None if utilisation is None else utilisation["mean"],
        overtime_hours=None if overtime is None else overtime["mean"],
        reader_hours_per_week=hours, cost_per_week=cost,
    )


def describe_change(difference: Difference) -> str:
    """'-47 min (-52..-41)' for a paired change with its CI, in the metric's unit."""
    if difference.diff is None:
        return "-"
    if difference.metric.endswith("fraction"):
        text = f"{difference.diff * 100:+.1f} pts"
        return text if difference.ci_low is None else \
            f"{text} ({difference.ci_low * 100:+.1f}..{difference.ci_high * 100:+.1f})"
    sign = "+" if difference.diff >= 0 else "-"
    text = f"{sign}{minutes_text(abs(difference.diff))}"
    if difference.ci_low is None or not math.isfinite(difference.ci_low):
        return text
    return f"{text} ({difference.ci_low:+.0f}..{difference.ci_high:+.0f} min)"
