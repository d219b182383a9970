"""The numbers on the dashboard's cards, from a run's summary and tables."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.experiment import Run

from .timeline import column, minute_of_week, shift_changes, waiting_at

__all__ = ["Kpis", "kpis", "NIGHT"]

NIGHT = (20 * 60.0, 8 * 60.0)  # 20:00-08:00: what "night" means on the cards


@dataclass(frozen=True)
class Kpis:
    within_target: dict[str, float]  # share reported within target, per priority class
    p95_tat_ai_positive: float | None
    p95_tat_diseased: float | None
    night_mean_wait: float | None  # primary reads that became ready 20:00-08:00
    backlog_at_shift_change: float | None  # mean worklist length at the moments shifts change
    utilisation: float | None
    overtime_hours: float | None


def _summary(run: Run, metric: str, where: dict) -> float | None:
    for row in run.summary:
        if row["metric"] == metric and row["where"] == where:
            return row["mean"]
    return None


def kpis(run: Run) -> Kpis:
    studies, scenario = run.studies, run.scenario
    within = {row["where"]["priority"]: row["mean"] for row in run.summary
              if row["metric"] == "sla_met_fraction" and set(row["where"]) == {"priority"} and row["mean"] is not None}
    wait, ready = column(studies, "wait_minutes"), column(studies, "ready_at")
    measured = ~column(studies, "in_warmup")
    minute = minute_of_week(np.nan_to_num(ready), scenario) % 1440
    night = (minute >= NIGHT[0]) | (minute < NIGHT[1])
    chosen = measured & night & ~np.isnan(wait) & (column(studies, "kind") == "primary")
    changes = shift_changes(scenario)
    return Kpis(
        within_target=dict(sorted(within.items())),
        p95_tat_ai_positive=_summary(run, "p95_tat_minutes", {"ai_positive": True}),
        p95_tat_diseased=_summary(run, "p95_tat_minutes", {"diseased": True}),
        night_mean_wait=float(wait[chosen].mean()) if chosen.any() else None,
        backlog_at_shift_change=float(waiting_at(studies, changes).mean()) if changes.size else None,
        utilisation=_summary(run, "utilization", {}),
        overtime_hours=_summary(run, "overtime_hours", {}),
    )
