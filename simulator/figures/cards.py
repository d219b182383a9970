"""The operational figures beside the high-risk cards of the dashboard and the report (the cards themselves
are the chapters of the run's story, `simulator.story`): night waits, the backlog at shift changes,
utilisation, overtime, the roster's hours and cost, and a paired change in words.

Pure functions of a run: no Streamlit here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..comparison import Difference
from ..experiment import Run
from ..scenario import Scenario
from ..story import minutes_text
from .timeline import column, minute_of_week, shift_changes, waiting_at

__all__ = ["Operations", "operations", "roster_cost", "describe_change", "NIGHT"]

NIGHT = (20 * 60.0, 8 * 60.0)  # 20:00-08:00: what "night" means on the cards


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
    utilisation, overtime = run.summary.get("utilization"), run.summary.get("overtime_hours")
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
