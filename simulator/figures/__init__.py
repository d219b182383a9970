"""Figures of a run, shared by `radsim report` and the dashboard (pure functions, no UI); the cards are the
chapters of the run's story (`simulator.story`)."""
from __future__ import annotations

from .cards import Operations, describe_change, operations, roster_cost
from .stages import STAGES, stage_means, stages_bars
from .charts import (breakdown_bars, comparison_chart, coverage_chart, roc_curve, staffing_curve, sweep_chart,
                     tat_ecdf, utilisation_bars, wait_heatmap, worklist_over_week)

__all__ = ["Operations", "operations", "roster_cost", "describe_change",
           "tat_ecdf", "worklist_over_week", "wait_heatmap", "utilisation_bars", "comparison_chart", "sweep_chart",
           "breakdown_bars", "roc_curve", "staffing_curve", "coverage_chart", "STAGES", "stage_means", "stages_bars"]
