"""Where the time goes: a study's turnaround to the patient's record split into the stations it passed,
for the high-risk groups first (docs/network.md)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa

from ..story import GROUPS
from .timeline import column

__all__ = ["STAGES", "stage_means", "stages_bars"]

# (label, from column, to column): consecutive, so the stages add up to `recorded_at - arrived_at`.
STAGES = (("scan (queue and exam)", "arrived_at", "acquired_at"), ("transfer to the archive", "acquired_at", "at_archive"),
          ("AI before the worklist", "at_archive", "ready_at"), ("worklist wait", "ready_at", "read_start"),
          ("reading and sign-off", "read_start", "reported_at"), ("to the patient's record", "reported_at", "recorded_at"))


def stage_means(studies: pa.Table) -> dict[str, dict[str, float]] | None:
    """Mean minutes per stage of the primary reads recorded by the horizon (warm-up left out), for each
    high-risk group and all of them; None for a table without the stage columns (an older run)."""
    if "recorded_at" not in studies.column_names:
        return None
    times = {name: column(studies, name) for name in {c for _, a, b in STAGES for c in (a, b)}}
    done = ~np.isnan(times["recorded_at"]) & ~column(studies, "in_warmup") & (column(studies, "kind") == "primary")
    groups = [(g.title, g.where) for g in GROUPS] + [("All primary reads", {})]
    out: dict[str, dict[str, float]] = {}
    for title, where in groups:
        mask = done.copy()
        for key, value in where.items():
            mask &= column(studies, key) == value
        if mask.any():
            out[title] = {label: float(np.mean(times[b][mask] - times[a][mask])) for label, a, b in STAGES}
    return out


def stages_bars(studies: pa.Table) -> go.Figure | None:
    """Stacked bars: the mean minutes each group's studies spend in each stage."""
    means = stage_means(studies)
    if not means:
        return None
    groups = list(means)[::-1]  # plotly draws the first category at the bottom: high-risk groups on top
    fig = go.Figure([go.Bar(y=groups, x=[means[g][label] for g in groups], name=label, orientation="h",
                            hovertemplate=f"{label}: %{{x:.1f}} min<extra>%{{y}}</extra>") for label, _, _ in STAGES])
    fig.update_layout(title="Where the time goes: mean minutes from order to the patient's record",
                      xaxis_title="minutes", barmode="stack", template="plotly_white",
                      margin=dict(l=60, r=20, t=50, b=50), height=380, legend=dict(orientation="h", y=-0.25, traceorder="normal"))
    return fig
