"""Figures of a run (Plotly), each a pure function of the run's tables and its scenario."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.compute as pc

from simulator.comparison import Difference
from simulator.scenario import DAYS, Scenario

from .timeline import WEEK, column, minute_of_week, shift_changes, waiting_at

__all__ = ["tat_ecdf", "worklist_over_week", "wait_heatmap", "utilisation_bars", "comparison_chart", "sweep_chart"]

LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=50), height=380)


def _measured(studies: pa.Table) -> np.ndarray:
    return ~column(studies, "in_warmup")


def tat_ecdf(studies: pa.Table, by: str = "priority", points: int = 400) -> go.Figure:
    """Share of items reported within t minutes, one line per value of `by` (priority class, diseased...)."""
    tat = column(studies, "tat_minutes")
    groups = column(studies, by)
    keep = _measured(studies) & ~np.isnan(tat)
    fig = go.Figure()
    for value in sorted({g for g in groups[keep] if g is not None}, key=str):
        values = tat[keep & (groups == value)]
        levels = np.linspace(0.0, 1.0, min(points, values.size))
        fig.add_trace(go.Scatter(x=np.quantile(values, levels), y=levels, mode="lines",
                                 name=f"{str(value).lower()} ({values.size:,})"))
    fig.update_layout(title=f"Turnaround by {by.replace('_', ' ')}: share reported within", xaxis_title="minutes",
                      yaxis_title="share reported", yaxis_tickformat=".0%", xaxis_type="log", **LAYOUT)
    return fig


def worklist_over_week(studies: pa.Table, scenario: Scenario, step: float = 15.0) -> go.Figure:
    """Mean worklist length by time of the week (over weeks and replications), shift changes dashed."""
    times = np.arange(scenario.warmup_minutes, scenario.horizon_minutes, step)
    length = waiting_at(studies, times)
    slot = (minute_of_week(times, scenario) // step).astype(int)
    slots = int(WEEK // step)
    total = np.bincount(slot, weights=length, minlength=slots)
    count = np.bincount(slot, minlength=slots)
    with np.errstate(invalid="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    hours = np.arange(slots) * step / 60.0
    fig = go.Figure(go.Scatter(x=hours, y=mean, mode="lines", name="waiting", line=dict(color="#1f77b4")))
    for change in np.unique(minute_of_week(shift_changes(scenario), scenario)):
        fig.add_vline(x=change / 60.0, line=dict(color="grey", dash="dot", width=1))
    fig.update_layout(title="Worklist length over the week (dotted: shift changes)", yaxis_title="studies waiting",
                      xaxis=dict(tickvals=[24 * d + 12 for d in range(7)], ticktext=[d.title() for d in DAYS],
                                 range=[0, 168]), showlegend=False, **LAYOUT)
    return fig


def wait_heatmap(studies: pa.Table, scenario: Scenario) -> go.Figure:
    """Mean wait of primary reads by the hour and weekday they became ready."""
    wait, ready = column(studies, "wait_minutes"), column(studies, "ready_at")
    keep = _measured(studies) & ~np.isnan(wait) & (column(studies, "kind") == "primary")
    week = minute_of_week(ready[keep], scenario)
    cell = (week // 1440).astype(int) * 24 + ((week % 1440) // 60).astype(int)
    total = np.bincount(cell, weights=wait[keep], minlength=168)
    count = np.bincount(cell, minlength=168)
    with np.errstate(invalid="ignore"):
        grid = np.where(count > 0, total / np.maximum(count, 1), np.nan).reshape(7, 24)
    fig = go.Figure(go.Heatmap(z=grid, x=[f"{h:02d}" for h in range(24)], y=[d.title() for d in DAYS],
                               colorscale="YlOrRd", colorbar=dict(title="min"),
                               hovertemplate="%{y} %{x}:00 - mean wait %{z:.1f} min<extra></extra>"))
    fig.update_layout(title="Mean wait by hour of day and weekday (primary reads)", xaxis_title="hour ready",
                      yaxis=dict(autorange="reversed"), **LAYOUT)
    return fig


def utilisation_bars(duties: pa.Table, scenario: Scenario) -> go.Figure:
    """Reading time over time on duty (after the warm-up), per pool and shift."""
    pool, shift = column(duties, "pool"), column(duties, "shift")
    start = np.maximum(column(duties, "start"), scenario.warmup_minutes)
    end = np.minimum(column(duties, "end"), scenario.horizon_minutes)
    present = np.asarray(duties.column("present").to_pylist(), dtype=bool)
    available = np.clip(end - start, 0.0, None) * present
    busy = column(duties, "busy_minutes") * present
    fig = go.Figure()
    for name in scenario.pools:
        labels = list(dict.fromkeys(shift[pool == name]))
        shares = [busy[(pool == name) & (shift == s)].sum() / max(available[(pool == name) & (shift == s)].sum(), 1e-9)
                  for s in labels]
        fig.add_trace(go.Bar(x=[f"{name}<br>{s}" for s in labels], y=shares, name=name,
                             hovertemplate="%{x}: %{y:.0%}<extra></extra>"))
    fig.update_layout(title="Utilisation per pool and shift", yaxis_title="reading / on duty", yaxis_tickformat=".0%",
                      yaxis_range=[0, 1], **LAYOUT)
    return fig


def comparison_chart(differences: Sequence[Difference], metric: str = "mean_tat_minutes",
                     label_a: str = "A", label_b: str = "B") -> go.Figure:
    """Paired differences B - A of one metric per subgroup, with 95% CIs; green better, red worse."""
    rows = [d for d in differences if d.metric == metric and d.diff is not None]
    names = [", ".join(f"{k}={str(v).lower()}" for k, v in d.where.items()) or "all" for d in rows]
    colours = {"better": "#2ca02c", "worse": "#d62728"}
    fig = go.Figure(go.Bar(
        y=names, x=[d.diff for d in rows], orientation="h",
        marker_color=[colours.get(d.verdict, "#7f7f7f") for d in rows],
        error_x=dict(type="data", symmetric=False, array=[(d.ci_high or d.diff) - d.diff for d in rows],
                     arrayminus=[d.diff - (d.ci_low or d.diff) for d in rows]),
        hovertemplate="%{y}: %{x:.2f}<extra></extra>"))
    fig.add_vline(x=0, line=dict(color="black", width=1))
    fig.update_layout(title=f"{label_b} - {label_a}: {metric.replace('_', ' ')} (95% CI)", xaxis_title="difference",
                      yaxis=dict(autorange="reversed"), **{**LAYOUT, "height": max(300, 28 * len(rows) + 120)})
    return fig


def sweep_chart(summary: pa.Table, axis: str, metric: str, split: str = "", value_of_split: str = "") -> go.Figure:
    """A metric against one grid axis, mean and 95% CI per point; other axes' values as separate lines."""
    data = summary.filter(pc.and_(pc.and_(pc.equal(summary.column("metric"), metric),
                                          pc.equal(summary.column("split"), split)),
                                  pc.equal(summary.column("value_of_split"), value_of_split))).to_pylist()
    axes = [c for c in summary.column_names
            if c not in ("point", "metric", "split", "value_of_split", "mean", "ci_low", "ci_high", "replications")]
    others = [a for a in axes if a != axis]
    fig = go.Figure()
    lines: dict[tuple, list[dict]] = {}
    for row in data:
        lines.setdefault(tuple(row[a] for a in others), []).append(row)
    for key, rows in sorted(lines.items(), key=lambda kv: str(kv[0])):
        rows.sort(key=lambda r: _axis_order(r[axis]))
        fig.add_trace(go.Scatter(
            x=[r[axis] for r in rows], y=[r["mean"] for r in rows], mode="lines+markers",
            name=", ".join(f"{a}={v}" for a, v in zip(others, key)) or metric,
            error_y=dict(type="data", symmetric=False,
                         array=[(r["ci_high"] - r["mean"]) if r["ci_high"] is not None else 0 for r in rows],
                         arrayminus=[(r["mean"] - r["ci_low"]) if r["ci_low"] is not None else 0 for r in rows])))
    where = f" [{split}={value_of_split}]" if split else ""
    fig.update_layout(title=f"{metric}{where} against {axis} (mean, 95% CI)", xaxis_title=axis,
                      yaxis_title=metric.replace("_", " "), **LAYOUT)
    return fig


def _axis_order(value: str) -> tuple:
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)
