"""Figures and cards of a run, shared by `radsim report` and the dashboard (pure functions, no UI)."""
from __future__ import annotations

from .cards import Card, Operations, describe_change, high_risk_cards, operations, roster_cost, status
from .stages import STAGES, stage_means, stages_bars
from .charts import (breakdown_bars, comparison_chart, roc_curve, staffing_curve, sweep_chart, tat_ecdf,
                     utilisation_bars, wait_heatmap, worklist_over_week)

__all__ = ["Card", "Operations", "high_risk_cards", "operations", "roster_cost", "status", "describe_change",
           "tat_ecdf", "worklist_over_week", "wait_heatmap", "utilisation_bars", "comparison_chart", "sweep_chart",
           "breakdown_bars", "roc_curve", "staffing_curve", "STAGES", "stage_means", "stages_bars"]
