"""radsim dashboard: pick a scenario, edit the roster, run, read the cards and the figures.

Start it with `radsim dashboard` (localhost). Everything it computes comes from the same functions as the
CLI; this file only lays them out.
"""
from __future__ import annotations

import copy
import io
import os
import time

import pandas as pd
import pyarrow.parquet as pq
import streamlit as st

from dashboard.figures import comparison_chart, tat_ecdf, utilisation_bars, wait_heatmap, worklist_over_week
from dashboard.kpis import kpis
from dashboard.loading import load_upload
from dashboard.roster import RosterError, apply_roster, roster_rows
from simulator.comparison import compare_runs
from simulator.errors import ScenarioError
from simulator.experiment import Run, run_scenario
from simulator.loading import bundled_scenarios, dump_scenario, read_yaml, resolve_path
from simulator.prepare import parse_scenario
from simulator.safe_yaml import load_text
from simulator.scenario import DAYS

POLICIES = ["fifo", "ai_priority", "score", "aging", "sla_edf"]
THROUGHPUT = 60_000.0  # work items per second per core, measured on this kind of machine (a rough guide)

st.set_page_config(page_title="radsim", layout="wide")


@st.cache_data(show_spinner=False, max_entries=24)
def simulate(scenario_yaml: str, replications: int, _progress=None) -> Run:
    """One run per resolved scenario and replication count: flipping back to a setting is instant."""
    scenario = parse_scenario(load_text(scenario_yaml, "dashboard"), "dashboard")
    return run_scenario(scenario, replications, progress=_progress)


def expected_seconds(scenario, replications: int) -> float:
    per_day = sum((t.arrivals.per_day if t.arrivals.per_day is not None else t.arrivals.rate_per_hour * 24)
                  for t in scenario.study_types.values())
    items = per_day * scenario.horizon_days * replications
    return items / (THROUGHPUT * min(replications, os.cpu_count() or 1)) + 0.5


def choose_source() -> None:
    """Sidebar: a bundled scenario or an upload; on a bad upload the previous scenario stays."""
    st.sidebar.header("Scenario")
    names = [n for n in bundled_scenarios() if not n.startswith("validation/")]
    default = names.index("moscow_reference_center") if "moscow_reference_center" in names else 0
    name = st.sidebar.selectbox("bundled scenario", names, index=default, key="bundled")
    if st.session_state.get("bundled_seen") != name:  # a new choice in the list replaces an upload too
        st.session_state.update(bundled_seen=name, source=("bundled", name), base=read_yaml(resolve_path(name)))
    upload = st.sidebar.file_uploader("or upload a scenario (YAML)", type=["yaml", "yml"], key="upload")
    if upload is not None and st.session_state.get("upload_id") != upload.file_id:
        st.session_state["upload_id"] = upload.file_id
        try:
            data, _ = load_upload(upload.name, upload.getvalue())
        except ScenarioError as exc:
            st.session_state["upload_error"] = str(exc)
        else:
            st.session_state.update(source=("upload", upload.name), base=data, upload_error=None)
    if st.session_state.get("upload_error"):
        st.sidebar.error(st.session_state["upload_error"])


def settings(base: dict) -> dict:
    """Sidebar: policy, AI operating points, horizon and replications; returns the edited scenario data."""
    data = copy.deepcopy(base)
    st.sidebar.header("Settings")
    policy = data.setdefault("policy", {})
    current = policy.get("triage", "fifo")
    options = POLICIES + ([current] if current not in POLICIES else [])
    policy["triage"] = st.sidebar.selectbox("triage policy", options, index=options.index(current), key="policy")
    policy["preemptive"] = st.sidebar.checkbox("STAT and flagged studies interrupt reads", value=bool(policy.get("preemptive")),
                                               key="preemptive")
    for service, point in data.get("ai_services", {}).items():
        with st.sidebar.expander(f"AI {service}"):
            for key in ("sensitivity", "specificity", "auc"):
                if point.get(key) is not None:
                    point[key] = st.slider(key, 0.51 if key == "auc" else 0.01, 0.99, float(point[key]), 0.01,
                                           key=f"ai-{service}-{key}")
    data["horizon_days"] = st.sidebar.slider("days simulated", 7, 91, int(min(max(base.get("horizon_days", 28), 7), 91)),
                                             key="horizon")
    data["warmup_days"] = min(float(base.get("warmup_days", 0)), data["horizon_days"] / 4)
    st.session_state["replications"] = st.sidebar.number_input("replications", 2, 20, 5, key="reps")
    return data


def story(run: Run) -> None:
    """The high-risk story in plain words, and overload as a banner rather than ever-larger figures."""
    from simulator.overload import describe
    from simulator.story import tell

    for overload in run.overloaded:
        st.error(f"Overloaded: {describe(overload)}")
    st.markdown("\n".join(f"- {line}" for line in tell(run).lines()))


def kpi_cards(run: Run, previous: Run | None) -> None:
    now, before = kpis(run), kpis(previous) if previous is not None else None

    def delta(name: str, scale: float = 1.0, unit: str = "") -> str | None:
        if before is None or getattr(before, name) is None or getattr(now, name) is None:
            return None
        return f"{(getattr(now, name) - getattr(before, name)) * scale:+.1f}{unit}"

    cards = st.columns(len(now.within_target) or 1)
    for column, (label, share) in zip(cards, now.within_target.items()):
        old = before.within_target.get(label) if before else None
        column.metric(f"{label}: within target", f"{share:.1%}",
                      None if old is None else f"{(share - old) * 100:+.1f} pts")
    row = st.columns(6)
    row[0].metric("p95 TAT, AI-positive", _minutes(now.p95_tat_ai_positive), delta("p95_tat_ai_positive", unit=" min"),
                  delta_color="inverse")
    row[1].metric("p95 TAT, diseased", _minutes(now.p95_tat_diseased), delta("p95_tat_diseased", unit=" min"),
                  delta_color="inverse")
    row[2].metric("mean wait at night (20-08)", _minutes(now.night_mean_wait), delta("night_mean_wait", unit=" min"),
                  delta_color="inverse")
    row[3].metric("backlog at shift change", "-" if now.backlog_at_shift_change is None else
                  f"{now.backlog_at_shift_change:.1f}", delta("backlog_at_shift_change"), delta_color="inverse")
    row[4].metric("reader utilisation", "-" if now.utilisation is None else f"{now.utilisation:.1%}",
                  delta("utilisation", 100.0, " pts"), delta_color="off")
    row[5].metric("overtime hours", "-" if now.overtime_hours is None else f"{now.overtime_hours:.1f}",
                  delta("overtime_hours"), delta_color="inverse")


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} min"


def figures(run: Run, previous: Run | None) -> None:
    tabs = st.tabs(["Turnaround", "Worklist over the week", "Waits by hour", "Utilisation", "Against the previous run"])
    with tabs[0]:
        left, right = st.columns(2)
        left.plotly_chart(tat_ecdf(run.studies, "priority"), width="stretch")
        right.plotly_chart(tat_ecdf(run.studies, "diseased"), width="stretch")
    with tabs[1]:
        st.plotly_chart(worklist_over_week(run.studies, run.scenario), width="stretch")
    with tabs[2]:
        st.plotly_chart(wait_heatmap(run.studies, run.scenario), width="stretch")
    with tabs[3]:
        st.plotly_chart(utilisation_bars(run.duties, run.scenario), width="stretch")
    with tabs[4]:
        comparable = previous is not None and previous.replications == run.replications and \
            previous.scenario.horizon_days == run.scenario.horizon_days and \
            previous.scenario.study_types == run.scenario.study_types
        if not comparable:
            st.info("Run again with other settings (same scenario, horizon and replications) to compare: the two "
                    "runs see the same studies, so their differences are paired.")
        else:
            metric = st.selectbox("metric", ["mean_tat_minutes", "p95_tat_minutes", "mean_wait_minutes",
                                             "sla_met_fraction"], key="compare-metric")
            differences = compare_runs(run.scenario, previous, run, (metric,))
            st.plotly_chart(comparison_chart(differences, metric, "previous", "this run"), width="stretch")


def downloads(run: Run) -> None:
    left, middle, right = st.columns(3)
    left.download_button("scenario (YAML)", dump_scenario(run.scenario), file_name=f"{run.scenario.name}.yaml",
                         mime="application/x-yaml")
    summary = pd.DataFrame([{**r, "where": ",".join(f"{k}={v}" for k, v in r["where"].items())} for r in run.summary])
    middle.download_button("summary (CSV)", summary.to_csv(index=False), file_name="summary.csv", mime="text/csv")
    buffer = io.BytesIO()
    pq.write_table(run.studies, buffer)
    right.download_button("studies (Parquet)", buffer.getvalue(), file_name="studies.parquet",
                          mime="application/octet-stream")


def main() -> None:
    st.title("radsim: readers, shifts and AI triage")
    choose_source()
    base = st.session_state["base"]
    data = settings(base)
    try:
        scenario = parse_scenario(data, st.session_state["source"][1])
    except ScenarioError as exc:
        st.error(str(exc))
        return
    st.subheader("Roster: readers on each shift and weekday")
    source = ":".join(st.session_state["source"])
    # The table starts from the scenario's roster (or one set in the session, e.g. by a test or a link).
    rows = st.session_state.setdefault(f"roster-rows:{source}", roster_rows(scenario))
    table = st.data_editor(pd.DataFrame(rows), disabled=["pool", "shift"], hide_index=True,
                           key=f"roster:{source}", column_config={
                               d: st.column_config.NumberColumn(d.title(), min_value=0, max_value=500, step=1)
                               for d in DAYS})
    try:
        edited = apply_roster(data, scenario, table.to_dict("records"))
        scenario = parse_scenario(edited, st.session_state["source"][1])
    except (RosterError, ScenarioError) as exc:
        st.error(str(exc))
        return
    replications = int(st.session_state["replications"])
    st.caption(f"{scenario.name}: {scenario.horizon_days:g} days x {replications} replications; expected to take "
               f"about {expected_seconds(scenario, replications):.0f} s (a run already made is shown at once).")
    if st.button("Run", type="primary", key="run"):
        bar = st.progress(0.0, text="simulating")
        started = time.perf_counter()
        run = simulate(dump_scenario(scenario), replications, _progress=lambda f: bar.progress(min(f, 1.0)))
        bar.empty()
        if st.session_state.get("result") is not None and st.session_state["result"] is not run:
            st.session_state["previous"] = st.session_state["result"]
        st.session_state["result"] = run
        st.session_state["took"] = time.perf_counter() - started
    run = st.session_state.get("result")
    if run is None:
        st.info("Set the roster and press Run.")
        return
    st.caption(f"Results of {run.scenario.name}, policy {run.scenario.policy.triage}, {run.replications} "
               f"replications ({st.session_state.get('took', 0):.1f} s).")
    previous = st.session_state.get("previous")
    story(run)
    kpi_cards(run, previous)
    figures(run, previous)
    downloads(run)


main()
