"""Figures of a run (Plotly), each a pure function of the run's tables and its scenario: the dashboard and
`radsim report` draw the same ones."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.compute as pc

from ..comparison import Difference
from ..scenario import DAYS, Scenario
from ..story import minutes_text, shown_value

from .timeline import WEEK, column, minute_of_week, shift_changes, waiting_at

__all__ = ["tat_ecdf", "worklist_over_week", "wait_heatmap", "utilisation_bars", "comparison_chart", "sweep_chart",
           "breakdown_bars", "roc_curve", "staffing_curve", "coverage_chart", "WAIT_LEVELS", "wait_scale"]

LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=50), height=380)


def _measured(studies: pa.Table) -> np.ndarray:
    return ~column(studies, "in_warmup")


def tat_ecdf(studies: pa.Table, by: str = "priority", points: int = 400) -> go.Figure:
    """Share of reported items within t minutes, one line per value of `by` (priority class, diseased...); the
    legend gives the items per replication."""
    tat = column(studies, "tat_minutes")
    groups = column(studies, by)
    keep = _measured(studies) & ~np.isnan(tat)
    replications = max(len(np.unique(column(studies, "replication"))), 1)
    fig = go.Figure()
    for value in sorted({g for g in groups[keep] if g is not None}, key=str):
        values = tat[keep & (groups == value)]
        levels = np.linspace(0.0, 1.0, min(points, values.size))
        fig.add_trace(go.Scatter(x=np.quantile(values, levels), y=levels, mode="lines",
                                 name=f"{shown_value(by, value)} ({values.size / replications:,.0f})"))
    titles = {"diseased": "finding", "priority": "triage class", "ai_positive": "AI flag"}
    fig.update_layout(title=f"Turnaround by {titles.get(by, by.replace('_', ' '))}: share reported within",
                      xaxis_title="minutes (log scale)", yaxis_title="share reported", yaxis_tickformat=".0%",
                      xaxis_type="log", **LAYOUT)
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


# The colour scale's top, in minutes: the smallest of these levels that holds the run's worst hour, so that
# a well-staffed centre's 20 minutes are not all pale on a scale made for a backlog of 8 hours, and runs of
# a like size share a scale (compare two runs on one scale by passing `top`).
WAIT_LEVELS = (15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1440.0, 2880.0, 5760.0)


def wait_scale(grid: np.ndarray) -> float:
    """The top of the colour scale for a grid of mean waits (minutes)."""
    worst = float(np.nanmax(grid)) if np.isfinite(grid).any() else 0.0
    return next((level for level in WAIT_LEVELS if level >= worst), WAIT_LEVELS[-1])


def wait_heatmap(studies: pa.Table, scenario: Scenario, top: float | None = None) -> go.Figure:
    """Mean wait of primary reads by the hour and weekday they became ready, on a colour scale from 0 to
    `top` minutes (by default `wait_scale` of this run's grid)."""
    wait, ready = column(studies, "wait_minutes"), column(studies, "ready_at")
    keep = _measured(studies) & ~np.isnan(wait) & (column(studies, "kind") == "primary")
    week = minute_of_week(ready[keep], scenario)
    cell = (week // 1440).astype(int) * 24 + ((week % 1440) // 60).astype(int)
    total = np.bincount(cell, weights=wait[keep], minlength=168)
    count = np.bincount(cell, minlength=168)
    with np.errstate(invalid="ignore"):
        grid = np.where(count > 0, total / np.maximum(count, 1), np.nan).reshape(7, 24)
    top = wait_scale(grid) if top is None else top
    ticks = [0.0, top / 4, top / 2, top]
    fig = go.Figure(go.Heatmap(
        z=grid, x=[f"{h:02d}" for h in range(24)], y=[d.title() for d in DAYS], zmin=0.0, zmax=top,
        colorscale="YlOrRd",
        colorbar=dict(title="mean wait", tickvals=ticks,
                      ticktext=[minutes_text(t) for t in ticks[:-1]] + [f"{minutes_text(top)}+"]),
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
    names = [", ".join(shown_value(k, v) for k, v in d.where.items()) or "all" for d in rows]
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
            if c not in ("point", "metric", "split", "value_of_split", "mean", "ci_low", "ci_high", "replications",
                         "n")]
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


def breakdown_bars(studies: pa.Table, by: str = "site") -> go.Figure:
    """Median and 95th percentile of the turnaround of reported primary reads, per site (or modality)."""
    tat = column(studies, "tat_minutes")
    keep = _measured(studies) & (column(studies, "kind") == "primary")
    groups = column(studies, by)
    names = sorted({g for g in groups[keep] if g is not None}, key=str)
    reported = ~np.isnan(tat)
    medians, p95s = [], []
    for name in names:
        values = tat[keep & (groups == name) & reported]
        medians.append(float(np.median(values)) if values.size else np.nan)
        p95s.append(float(np.quantile(values, 0.95)) if values.size else np.nan)
    fig = go.Figure([
        go.Bar(x=names, y=medians, name="median turnaround", hovertemplate="%{x}: %{y:.0f} min<extra></extra>"),
        go.Bar(x=names, y=p95s, name="95th percentile", hovertemplate="%{x}: %{y:.0f} min<extra></extra>"),
    ])
    fig.update_layout(title=f"Turnaround of primary reads by {by} (reported studies)", yaxis_title="minutes",
                      barmode="group", **LAYOUT)
    return fig


def roc_curve(separation: float, threshold: float, name: str = "AI", spread: float = 1.0) -> go.Figure:
    """The service's binormal ROC curve and its operating point (sensitivity against 1 - specificity);
    `spread` the diseased scores' standard deviation (1: equal variance)."""
    from scipy.special import ndtr

    t = np.linspace(-4.0, 4.0 + separation + 3.0 * spread, 300)
    fpr, tpr = ndtr(-t), ndtr((separation - t) / spread)
    fig = go.Figure([go.Scatter(x=fpr, y=tpr, mode="lines", name="ROC", hoverinfo="skip"),
                     go.Scatter(x=[float(ndtr(-threshold))], y=[float(ndtr((separation - threshold) / spread))],
                                mode="markers", marker=dict(size=12, color="#d62728"), name="operating point",
                                hovertemplate="sensitivity %{y:.2f}, 1 - specificity %{x:.2f}<extra></extra>")])
    auc = float(ndtr(separation / np.sqrt(1.0 + spread * spread)))
    fig.update_layout(title=f"{name}: ROC (AUC {auc:.2f})",
                      xaxis_title="1 - specificity", yaxis_title="sensitivity", xaxis_range=[0, 1],
                      yaxis_range=[0, 1], showlegend=False, **{**LAYOUT, "height": 320})
    return fig


def staffing_curve(points: Sequence[dict], slot: str) -> go.Figure:
    """Share within target against the staff of one shift: one line per group, mean and 95% CI.

    `points`: {"staff": n, "group": title, "mean": share, "ci_low": ..., "ci_high": ...}."""
    fig = go.Figure()
    for group in dict.fromkeys(p["group"] for p in points):
        rows = sorted((p for p in points if p["group"] == group), key=lambda p: p["staff"])
        fig.add_trace(go.Scatter(
            x=[r["staff"] for r in rows], y=[r["mean"] for r in rows], mode="lines+markers", name=group,
            error_y=dict(type="data", symmetric=False,
                         array=[(r["ci_high"] - r["mean"]) if r.get("ci_high") is not None else 0 for r in rows],
                         arrayminus=[(r["mean"] - r["ci_low"]) if r.get("ci_low") is not None else 0 for r in rows])))
    fig.update_layout(title=f"Share within target against readers on {slot}", xaxis_title="readers",
                      yaxis_title="share within target", yaxis_tickformat=".0%", xaxis_dtick=1, **LAYOUT)
    return fig


def coverage_chart(readers: dict[str, Sequence[float]], load: dict[str, Sequence[Sequence[float]]],
                   other: dict[str, Sequence[float]] | None = None, other_name: str = "another roster") -> go.Figure:
    """A shift pattern against its demand, one panel per pool: readers on duty by hour of the week (a step
    line, Monday 00:00 first) over the offered load (readers kept busy on average, by weekday and hour);
    `other`, another pattern (the roster it would replace), dotted beside it."""
    from plotly.subplots import make_subplots

    pools = list(readers)
    fig = make_subplots(rows=len(pools), cols=1, shared_xaxes=True, subplot_titles=pools, vertical_spacing=0.06)
    hours, edges = np.arange(168), np.arange(169)  # a step's last hour is drawn to the week's end
    for row, pool in enumerate(pools, start=1):
        first = row == 1
        fig.add_trace(go.Bar(x=hours + 0.5, y=[x for day in load[pool] for x in day], width=1.0,
                             marker_color="#c6dbef", name="offered load", legendgroup="load", showlegend=first,
                             hovertemplate="hour %{x:.0f}: %{y:.2f} readers busy<extra></extra>"), row=row, col=1)
        if other is not None:
            fig.add_trace(go.Scatter(x=edges, y=[*other[pool], other[pool][-1]], mode="lines", line_shape="hv",
                                     line=dict(color="#888888", dash="dot"), name=other_name, legendgroup="other",
                                     showlegend=first), row=row, col=1)
        fig.add_trace(go.Scatter(x=edges, y=[*readers[pool], readers[pool][-1]], mode="lines", line_shape="hv",
                                 line=dict(color="#08519c", width=2), name="readers on duty", legendgroup="readers",
                                 showlegend=first), row=row, col=1)
        fig.update_yaxes(title_text="readers", rangemode="tozero", row=row, col=1)
    fig.update_xaxes(tickvals=[24 * d for d in range(7)], ticktext=[d.capitalize() for d in DAYS], range=[0, 168])
    fig.update_layout(**{**LAYOUT, "height": 190 * len(pools) + 90}, bargap=0,
                      title="Readers on duty by hour of the week, against the offered load")
    return fig
