"""The HTML pages of a fit and of a back-test (`radsim fit --report`, `radsim backtest --report`): what was
fitted beside the data it came from, and what the fitted model did beside what happened, on one axis."""
from __future__ import annotations

import datetime as dt
import html
import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..figures.charts import LAYOUT
from .backtest import Backtest
from .fitting import DAYS, LogFit

__all__ = ["fit_page", "backtest_page"]

SHOWN_TYPES = 8  # the busiest study types get a panel each; the page says how many more there are
OBSERVED, FITTED = "#1f77b4", "#d62728"


def _arrivals_figure(fitted: LogFit, keys: list[str]) -> go.Figure:
    """Arrivals per hour of the week: the log's mean count in each hour against the fitted per_day x weekday
    x hourly."""
    fig = make_subplots(rows=len(keys), cols=1, shared_xaxes=True, subplot_titles=keys, vertical_spacing=0.04)
    hours = np.arange(168)
    weekday_of_start = fitted.start.weekday()
    covered = np.zeros(168)
    for h in range(int(fitted.days * 24)):
        covered[(weekday_of_start * 24 + h) % 168] += 1
    for row, key in enumerate(keys, start=1):
        t = fitted.types[key]
        cell = ((weekday_of_start * 24 + (t.arrived // 60.0)).astype(int)) % 168
        observed = np.bincount(cell, minlength=168) / np.maximum(covered, 1)
        value = t.arrivals.value
        model = np.array([value["per_day"] * value["weekday"][h // 24] * value["hourly"][h % 24] / 24.0
                          for h in hours])
        fig.add_trace(go.Scatter(x=hours, y=observed, mode="lines", line=dict(color=OBSERVED), name="observed",
                                 showlegend=row == 1), row=row, col=1)
        fig.add_trace(go.Scatter(x=hours, y=model, mode="lines", line=dict(color=FITTED, dash="dash"), name="fitted",
                                 showlegend=row == 1), row=row, col=1)
    fig.update_xaxes(tickvals=list(range(0, 168, 24)), ticktext=[d.capitalize() for d in DAYS])
    fig.update_layout(**{**LAYOUT, "height": 170 * len(keys) + 120},
                      title="Arrivals per hour of the week: the log's mean count and the fitted rate")
    return fig


def _density(value: dict, x: np.ndarray) -> np.ndarray:
    from scipy import stats

    mean = value["mean"]
    if value["dist"] == "exponential":
        return stats.expon(scale=mean).pdf(x)
    cv = value["cv"]
    if value["dist"] == "lognormal":
        sigma = math.sqrt(math.log(1.0 + cv * cv))
        return stats.lognorm(sigma, scale=mean / math.exp(sigma * sigma / 2.0)).pdf(x)
    shape = 1.0 / (cv * cv)
    return stats.gamma(shape, scale=mean / shape).pdf(x)


def _reading_figure(fitted: LogFit, keys: list[str]) -> go.Figure:
    """Reading times: the log's histogram (as a density) and the fitted family's density."""
    columns = 2
    rows = math.ceil(len(keys) / columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=keys, vertical_spacing=min(0.3 / max(rows, 1), 0.12))
    for i, key in enumerate(keys):
        t = fitted.types[key]
        row, col = i // columns + 1, i % columns + 1
        top = float(np.quantile(t.read_values, 0.99)) if t.read_values.size else 1.0
        fig.add_trace(go.Histogram(x=t.read_values[t.read_values <= top], histnorm="probability density",
                                   marker_color=OBSERVED, opacity=0.6, name="observed", showlegend=i == 0),
                      row=row, col=col)
        if t.reads.value is not None and t.reads.value["dist"] != "fixed":
            x = np.linspace(top / 400.0, top, 400)
            fig.add_trace(go.Scatter(x=x, y=_density(t.reads.value, x), mode="lines", line=dict(color=FITTED),
                                     name="fitted", showlegend=i == 0), row=row, col=col)
    fig.update_xaxes(title_text="minutes", row=rows)
    fig.update_layout(**{**LAYOUT, "height": 260 * rows + 120},
                      title="Reading times: the log's (to its 99th percentile) and the fitted distribution")
    return fig


def _roster_figure(fitted: LogFit) -> go.Figure:
    """The fitted roster against the log's work, per pool and hour of the week: readers on duty as the
    scenario has them, on duty as the log's duties show them (before rounding), and readers reading."""
    fig = make_subplots(rows=len(fitted.pools), cols=1, subplot_titles=[p.name for p in fitted.pools],
                        shared_xaxes=True, vertical_spacing=0.3 / max(len(fitted.pools), 1))
    hours = np.arange(168)
    for row, pool in enumerate(fitted.pools, start=1):
        first = row == 1
        fig.add_trace(go.Scatter(x=hours, y=fitted.reading(pool), mode="lines", line=dict(color=OBSERVED, width=0),
                                 fill="tozeroy", fillcolor="rgba(31,119,180,0.35)", name="reading (the log's work)",
                                 showlegend=first), row=row, col=1)
        fig.add_trace(go.Scatter(x=hours, y=pool.active, mode="lines", line=dict(color=OBSERVED, dash="dot"),
                                 name="on duty (the log's duties, mean over its weeks)", showlegend=first),
                      row=row, col=1)
        fig.add_trace(go.Scatter(x=hours, y=pool.roster, mode="lines", line=dict(color=FITTED, shape="hv", width=2),
                                 name="fitted roster", showlegend=first), row=row, col=1)
        fig.update_yaxes(title_text="readers", rangemode="tozero", row=row, col=1)
    fig.update_xaxes(tickvals=list(range(0, 168, 24)), ticktext=[d.capitalize() for d in DAYS])
    fig.update_layout(**{**LAYOUT, "height": 230 * len(fitted.pools) + 120},
                      title="Readers per hour of the week, by pool: the fitted roster against the log's work")
    return fig


def fit_page(fitted: LogFit, source: str) -> tuple[str, str]:
    """(title, body) of a fit's page."""
    from ..report import figures_html

    keys = sorted(fitted.types, key=lambda k: -fitted.types[k].studies)
    shown = keys[:SHOWN_TYPES]
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{fitted.types[k].studies:,}</td>"
        f"<td>{html.escape(fitted.types[k].arrivals.note)}</td><td>{html.escape(fitted.types[k].reads.note)}</td></tr>"
        for k in keys)
    head = (f"<p>{fitted.rows:,} rows of {html.escape(source)}, {fitted.start:%Y-%m-%d} to {fitted.last:%Y-%m-%d %H:%M}"
            f" ({fitted.days:.1f} days): {len(keys)} study types, {len(fitted.pools)} pools</p>"
            + (f"<p>The {SHOWN_TYPES} busiest study types are drawn; {len(keys) - SHOWN_TYPES} more are in the "
               "table.</p>" if len(keys) > SHOWN_TYPES else "")
            + "<table><tr><th>study type</th><th>studies</th><th>arrivals</th><th>reading time</th></tr>"
            + rows + "</table>")
    figures = [_arrivals_figure(fitted, shown), _reading_figure(fitted, shown)]
    if fitted.pools:
        figures.append(_roster_figure(fitted))
    return f"radsim fit: {source}", head + figures_html(figures)


def _tat_figure(result: Backtest) -> go.Figure:
    """Turnaround of every primary read in the held-out days: the share signed within t, observed and
    simulated (each replication a thin line)."""
    fig = go.Figure()
    levels = np.linspace(0.0, 1.0, 300)
    for r in np.unique(result.simulated_replication):
        values = result.simulated_tat[result.simulated_replication == r]
        fig.add_trace(go.Scatter(x=np.quantile(values, levels), y=levels, mode="lines",
                                 line=dict(color=FITTED, width=1), opacity=0.35, name="simulated (a replication)",
                                 showlegend=bool(r == 0), legendgroup="sim"))
    fig.add_trace(go.Scatter(x=np.quantile(result.observed_tat, levels), y=levels, mode="lines",
                             line=dict(color=OBSERVED, width=3), name="observed"))
    fig.update_layout(title=f"Turnaround of primary reads, held-out days (Kolmogorov-Smirnov distance {result.ks:.3f})",
                      xaxis_title="minutes (log scale)", xaxis_type="log", yaxis_title="share signed within",
                      yaxis_tickformat=".0%", **LAYOUT)
    return fig


def _backlog_figure(result: Backtest) -> go.Figure:
    """Exams ended and not yet signed, hour by hour over the held-out days: observed, and the simulated
    mean with the range of the replications."""
    times = [result.holdout_start + dt.timedelta(hours=h) for h in range(result.observed_backlog.size)]
    sim = result.simulated_backlog
    fig = go.Figure()
    if sim.size:
        fig.add_trace(go.Scatter(x=times, y=sim.max(axis=0), mode="lines", line=dict(width=0), showlegend=False))
        fig.add_trace(go.Scatter(x=times, y=sim.min(axis=0), mode="lines", line=dict(width=0), fill="tonexty",
                                 fillcolor="rgba(214,39,40,0.2)", name="simulated: range of the replications"))
        fig.add_trace(go.Scatter(x=times, y=sim.mean(axis=0), mode="lines", line=dict(color=FITTED),
                                 name="simulated: mean"))
    fig.add_trace(go.Scatter(x=times, y=result.observed_backlog, mode="lines", line=dict(color=OBSERVED, width=2),
                             name="observed"))
    fig.update_layout(title="Backlog by hour: exams ended and not yet signed", yaxis_title="studies", **LAYOUT)
    return fig


def backtest_page(result: Backtest, source: str, roster: str, policy: str) -> tuple[str, str]:
    """(title, body) of a back-test's page."""
    from ..report import figures_html

    rows = "".join(
        f"<tr><td>{html.escape(c.statistic)} {html.escape(c.group)}</td><td>{c.observed:.1f}</td>"
        f"<td>{c.simulated:.1f}</td><td>{c.low:.1f}..{c.high:.1f}</td>"
        f"<td style='color:{'#2ca02c' if c.within else '#b00020'}'>{'within' if c.within else 'OUTSIDE'}</td></tr>"
        for c in result.checks)
    verdict = ("every check within the model's 99% prediction interval" if result.passed else
               "nothing could be checked" if not result.checks else
               f"{sum(not c.within for c in result.checks)} of {len(result.checks)} checks OUTSIDE")
    head = (f"<p>Fitted on {result.train_rows:,} rows; {result.holdout_days:.1f} days held out from "
            f"{result.holdout_start:%Y-%m-%d} ({result.holdout_rows:,} rows); {result.replications} replications; "
            f"roster: {html.escape(roster)}; policy: {html.escape(policy)}. <b>{verdict}</b>.</p>"
            "<table><tr><th>turnaround (min)</th><th>observed</th><th>simulated</th><th>99% prediction interval</th>"
            "<th>verdict</th></tr>" + rows + "</table>")
    return f"radsim backtest: {source}", head + figures_html([_tat_figure(result), _backlog_figure(result)])
