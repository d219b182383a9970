"""The results: the high-risk cards first, then operations, then the figures, breakdowns, the staffing curve,
saved scenarios side by side, and downloads. Layout only: the numbers come from `simulator.figures`."""
from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import streamlit as st

from simulator.experiment import Run
from simulator.figures import (
    breakdown_bars,
    comparison_chart,
    coverage_chart,
    describe_change,
    operations,
    staffing_curve,
    stages_bars,
    tat_ecdf,
    utilisation_bars,
    wait_heatmap,
    worklist_over_week,
)
from simulator.loading import dump_scenario
from simulator.network.figures import stations_summary
from simulator.overload import GROWING
from simulator.staffing import Target
from simulator.story import Chapter, minutes_text, tell

from .runner import Result

__all__ = ["in_words", "story", "cards", "operations_row", "figures", "downloads", "compare_saved", "side_by_side", "COLOURS"]

COLOURS = {"green": "#2ca02c", "amber": "#ff7f0e", "red": "#d62728", "grey": "#7f7f7f"}
WORDS = {"green": "on target", "amber": "close", "red": "off target", "grey": "no target"}


METRIC_WORDS = {"sla_met_fraction": "share within target", "p95_wait_minutes": "95% wait (min)",
                "p95_tat_minutes": "95% turnaround (min)", "mean_wait_minutes": "mean wait (min)",
                "mean_tat_minutes": "mean turnaround (min)", "reported_fraction_before_last_day": "share reported"}
WHERE_WORDS = {("ai_positive", True): "AI-flagged studies", ("diseased", True): "studies with a finding",
               ("referral", "stat"): "STAT orders", ("referral", "urgent"): "urgent orders",
               ("referral", "routine"): "routine orders"}


def in_words(target: Target) -> str:
    """A target as the page says it: 'AI-flagged studies: share within target >= 95%'."""
    group = ", ".join(WHERE_WORDS.get((k, v), f"{str(v).replace('_', ' ')}" if k == "kind" else f"{k} {v}")
                      for k, v in target.where) or "all work"
    value = f"{target.value:.0%}" if "fraction" in target.metric else f"{target.value:g}"
    op = "≥" if target.op == ">=" else "≤"
    return f"{group}: {METRIC_WORDS.get(target.metric, target.metric.replace('_', ' '))} {op} {value}"


def story(result: Result) -> None:
    """Overload as one banner per pool, with the readers that would keep up, and the story in plain words."""
    run = result.run
    for pool, found in overloaded_pools(run).items():
        st.error(found)
    st.markdown("\n".join(f"- {line}" for line in tell(run, result.fifo).lines()))


def overloaded_pools(run: Run) -> dict[str, str]:
    """One message per overloaded pool: what was seen (its backlog, its swamped shifts) and, where a shift
    has fewer readers than square-root staffing of its offered load, how many that would be."""
    from simulator.staffing import keeping_up

    seen: dict[str, list] = {}
    for overload in run.overloaded:
        seen.setdefault(overload.pool, []).append(overload)
    if not seen:
        return {}
    needed = keeping_up(run.scenario)
    messages = {}
    for pool, found in seen.items():
        def where(o) -> str:
            return f"from day {o.from_day}" + ("" if o.replications == o.of else f" in {o.replications} of {o.of} runs")

        growing = [o for o in found if o.reason == GROWING]
        swamped = [o for o in found if o.reason != GROWING]
        said = [f"its backlog grows to the horizon {where(growing[0])} (turnaround figures are not steady-state)"
                ] if growing else []
        if swamped:
            said.append("shifts busy all the time while work piles up: " +
                        ", ".join(f"{o.shift} {where(o)}" for o in swamped))
        short = [f"{label} {now} -> about {n}" for label, now, n in needed.get(pool, []) if n > now]
        keep_up = f" To keep up with its offered load: {', '.join(short)} readers (square-root staffing; Planning, " \
                  "below, finds the smallest roster that meets the targets)." if short else ""
        messages[pool] = f"**Overloaded: pool {pool}**: {'; '.join(said)}.{keep_up}"
    return messages


def _value(row: dict | None, kind: str = "time") -> str:
    if row is None or row.get("mean") is None:
        return "-"
    mean, low, high = row["mean"], row.get("ci_low"), row.get("ci_high")
    if kind == "share":
        return f"{mean:.1%}" + ("" if low is None else f" ({low * 100:.1f}-{high * 100:.1f}%)")
    text = minutes_text(mean)
    if low is None:
        return text
    value, unit = text.split()
    scale = {"min": 1.0, "h": 60.0, "d": 1440.0}[unit]
    digits = 0 if unit == "min" and mean >= 10 else 1
    return f"{value} {unit} ({low / scale:.{digits}f}-{high / scale:.{digits}f})"


def cards(result: Result, previous: Result | None) -> list[Chapter]:
    """The same cards under every policy, the chapters of the run's story: patients with a finding,
    AI-flagged studies, STAT orders, all work; coloured by their verdict; the change against FIFO on the same
    studies; and why, where a card misses its target."""
    shown = tell(result.run, result.fifo).chapters
    before = {c.title: c for c in tell(previous.run, previous.fifo).chapters} if previous is not None else {}
    columns = st.columns(len(shown))
    for column, card in zip(columns, shown):
        colour = COLOURS[card.status]
        target = card.target_text
        lines = [f"<div style='border-left:8px solid {colour};padding:4px 10px;min-height:18em'>",
                 f"<div style='font-weight:600;font-size:1.05em'>{card.title}</div>",
                 f"<div style='color:{colour};font-size:0.85em'>{WORDS[card.status]} · target {target}</div>",
                 f"<div>{card.count:,.0f} studies</div>",
                 f"<div>median <b>{_value(card.rows['p50_tat_minutes'])}</b></div>",
                 f"<div>95% within <b>{_value(card.rows['p95_tat_minutes'])}</b></div>",
                 f"<div>within target <b>{_value(card.rows['sla_met_fraction'], 'share')}</b></div>"]
        against = card.against_fifo.get("p95_tat_minutes")
        if against is not None:
            lines.append(f"<div style='font-size:0.9em'>95% within, against FIFO on the same studies: "
                         f"<b>{describe_change(against)}</b> ({against.verdict})</div>")
        old = before.get(card.title)
        if old is not None and old.rows["p95_tat_minutes"] and card.rows["p95_tat_minutes"]:
            delta = card.rows["p95_tat_minutes"]["mean"] - old.rows["p95_tat_minutes"]["mean"]
            lines.append(f"<div style='font-size:0.9em'>against the previous run: {'+' if delta >= 0 else '-'}"
                         f"{minutes_text(abs(delta))}</div>")
        if card.why:
            lines.append(f"<div style='font-size:0.85em;color:#555'>why: {'; '.join(card.why)}</div>")
        column.markdown("".join(lines) + "</div>", unsafe_allow_html=True)
    st.caption("green: at least 95% within target; amber: 80-95%, or on target while a pool is overloaded; red: "
               "under 80%, or (all work) over 1% of it never reported. Ranges are 95% confidence intervals over the "
               "replications. Targets can be changed in the sidebar.")
    return shown


def operations_row(run: Run) -> None:
    ops = operations(run)
    row = st.columns(6)
    row[0].metric("night wait (20-08)", minutes_text(ops.night_mean_wait), help="mean wait of primary reads that "
                  "became ready between 20:00 and 08:00")
    row[1].metric("backlog at shift change", "-" if ops.backlog_at_shift_change is None else
                  f"{ops.backlog_at_shift_change:.1f}")
    row[2].metric("reader utilisation", "-" if ops.utilisation is None else f"{ops.utilisation:.1%}")
    row[3].metric("overtime hours", "-" if ops.overtime_hours is None else f"{ops.overtime_hours:.1f}")
    row[4].metric("reader-hours a week", f"{ops.reader_hours_per_week:,.0f}")
    row[5].metric("roster cost a week", "-" if ops.cost_per_week is None else f"{ops.cost_per_week:,.0f}",
                  help="where every pool gives cost_per_hour")


VIEWS = ("Turnaround", "Worklist over the week", "Waits by hour", "Utilisation", "By site and modality",
         "Where the time goes", "Against FIFO")


def figures(result: Result) -> None:
    """One view at a time (only the chosen one is drawn: a page of every figure would wait for all of them)."""
    run = result.run
    view = st.segmented_control("view", VIEWS, default=VIEWS[0], key="view", label_visibility="collapsed") or VIEWS[0]
    if view == "Turnaround":
        left, right = st.columns(2)
        left.plotly_chart(tat_ecdf(run.studies, "diseased"), width="stretch", key="ecdf-finding")
        right.plotly_chart(tat_ecdf(run.studies, "priority"), width="stretch", key="ecdf-class")
    elif view == "Worklist over the week":
        st.plotly_chart(worklist_over_week(run.studies, run.scenario), width="stretch", key="worklist")
    elif view == "Waits by hour":
        st.plotly_chart(wait_heatmap(run.studies, run.scenario), width="stretch", key="heatmap")
    elif view == "Utilisation":
        st.plotly_chart(utilisation_bars(run.duties, run.scenario), width="stretch", key="utilisation")
    elif view == "By site and modality":
        left, right = st.columns(2)
        left.plotly_chart(breakdown_bars(run.studies, "site"), width="stretch", key="by-site")
        right.plotly_chart(breakdown_bars(run.studies, "modality"), width="stretch", key="by-modality")
    elif view == "Where the time goes":
        chart = stages_bars(run.studies)
        if chart is None:
            st.info("This run has no stage times.")
        else:
            st.plotly_chart(chart, width="stretch", key="stages")
            st.caption("Mean minutes of each stage for reported primary reads; without devices, uplinks or AI "
                       "workers in the scenario the upstream stages are drawn delays (docs/network.md).")
        network = stations_summary(run.stations, run.summary)
        if network is not None:
            bottleneck = network["bottleneck"]
            if bottleneck is not None:
                st.markdown(f"**Bottleneck:** {bottleneck['station']} ({bottleneck['utilization']:.0%} busy)")
            st.dataframe([{"station": r["station"], "studies": round(r["studies"]),
                           # An uplink or the ingest shares its bandwidth among the studies in transfer:
                           # nobody queues there, so it has no wait to show (its time is "in service").
                           "mean wait (min)": "none: shared bandwidth" if r["mean_wait_minutes"] is None else
                           f"{r['mean_wait_minutes']:.1f}",
                           "mean in service (min)": None if r["mean_service_minutes"] is None else
                           round(r["mean_service_minutes"], 2),
                           "utilisation": None if r["utilization"] is None else f"{r['utilization']:.1%}"}
                          for r in sorted(network["stations"], key=lambda r: -(r["utilization"] or 0.0))],
                         hide_index=True, key="stations")
    elif result.fifo is None:
        st.info("This run is FIFO: there is nothing to compare it with.")
    else:
        from simulator.comparison import compare_runs

        names = {"p95_tat_minutes": "95th percentile of turnaround", "mean_tat_minutes": "mean turnaround",
                 "mean_wait_minutes": "mean wait", "sla_met_fraction": "share within target"}
        metric = st.selectbox("metric", list(names), format_func=names.get, key="compare-metric")
        differences = compare_runs(run.scenario, result.fifo, run, (metric,))
        st.plotly_chart(comparison_chart(differences, metric, "FIFO", run.scenario.policy.triage),
                        width="stretch", key="against-fifo")


def staffing(points: list[dict[str, Any]], slot: str) -> None:
    st.plotly_chart(staffing_curve(points, slot), width="stretch", key="staffing-curve")


def coverage(readers: dict[str, list[int]], load: dict[str, list[list[float]]], now: dict[str, list[float]]) -> None:
    """The designed pattern against demand, the scenario's roster dotted beside it."""
    st.plotly_chart(coverage_chart(readers, load, now, "the roster now"), width="stretch", key="coverage-chart")


def compare_saved(saved: dict[str, dict[str, Any]]) -> None:
    """Up to four saved scenarios side by side, by their high-risk cards and their roster's cost."""
    ran = [name for name, entry in saved.items() if entry.get("result") is not None]
    if not ran:
        st.info("Save a run (sidebar: name it, Save) to compare up to four side by side.")
        return
    # Keyed by what is saved: a new save starts a new choice, of every saved run (the last four).
    chosen = st.multiselect("saved runs", ran, default=ran[-4:], max_selections=4,
                            key=f"compare-saved-{hash(tuple(ran))}")
    side_by_side({name: saved[name]["result"] for name in chosen})


def side_by_side(results: dict[str, "Result | str"]) -> None:
    """Runs as columns, by their high-risk cards, the work they simulated and their roster's cost; a text
    instead of a result says why that one did not run."""
    rows: dict[str, dict[str, str]] = {}
    for name, result in results.items():
        if isinstance(result, str):
            st.caption(f"{name}: {result}")
            continue
        column: dict[str, str] = {}
        for card in tell(result.run, result.fifo).chapters:
            column[f"{card.title}: 95% within"] = _value(card.rows["p95_tat_minutes"])
            column[f"{card.title}: within target"] = _value(card.rows["sla_met_fraction"], "share")
        ops = operations(result.run)
        column["work items simulated"] = f"{result.run.rows:,}"
        column["reader-hours a week"] = f"{ops.reader_hours_per_week:,.0f}"
        column["roster cost a week"] = "-" if ops.cost_per_week is None else f"{ops.cost_per_week:,.0f}"
        column["overloaded"] = "; ".join(o.pool for o in result.run.overloaded) or "no"
        rows[name] = column
    if rows:
        st.dataframe(pd.DataFrame(rows), width="stretch")


def downloads(result: Result) -> None:
    """The scenario that ran (an engineer can run exactly it), the summary, the studies, and, when asked,
    the page's results as the HTML report of `radsim report` (and as PDF where chromium is at hand)."""
    run = result.run
    row = st.columns(4)
    row[0].download_button("scenario (YAML)", dump_scenario(run.scenario), file_name=f"{run.scenario.name}.yaml",
                           mime="application/x-yaml", key="download-yaml")
    summary = pd.DataFrame([{**r, "where": ",".join(f"{k}={v}" for k, v in r["where"].items())} for r in run.summary])
    row[1].download_button("summary (CSV)", summary.to_csv(index=False), file_name="summary.csv", mime="text/csv",
                           key="download-csv")
    buffer = io.BytesIO()
    pq.write_table(run.studies, buffer)
    row[2].download_button("studies (Parquet)", buffer.getvalue(), file_name="studies.parquet",
                           mime="application/octet-stream", key="download-parquet")
    made = st.session_state.get("report")
    if made is None or made[0] is not result:
        if row[3].button("Make the report (HTML, PDF)", key="make-report"):
            from simulator.report import page, run_html

            with st.spinner("making the report"):
                html = page(f"radsim report: {run.scenario.name}", run_html(run, fifo=result.fifo))
                st.session_state["report"] = (result, html, _pdf(html))
            st.rerun()
        return
    _, html, pdf = made
    row[3].download_button("report (HTML)", html, file_name=f"{run.scenario.name}-report.html", mime="text/html",
                           key="download-html")
    if pdf is not None:
        row[3].download_button("report (PDF)", pdf, file_name=f"{run.scenario.name}-report.pdf",
                               mime="application/pdf", key="download-pdf")


def _pdf(report: str) -> bytes | None:
    """The report printed by headless chromium, where chromium is installed."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        html, pdf = Path(folder) / "report.html", Path(folder) / "report.pdf"
        html.write_text(report, encoding="utf-8")
        try:
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={folder}/profile", f"--print-to-pdf={pdf}", html.as_uri()],
                           capture_output=True, timeout=90, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return pdf.read_bytes() if pdf.is_file() else None
