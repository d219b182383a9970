"""The sidebar: where a scenario comes from, and every setting an administrator may change, each starting
from the loaded scenario's own value.

A newly loaded scenario (bundled, uploaded or saved) gets a new version number, and every control's key
carries it, so no control keeps a value from the scenario before (an uploaded FIFO scenario runs as FIFO,
its 14 days as 14 days). `changes` lists what the page changed from the file, so nothing changes unseen.
"""
from __future__ import annotations

import copy
import math
from typing import Any

import streamlit as st

from simulator.ai import operating_point
from simulator.errors import ScenarioError
from simulator.loading import bundled_scenarios, scenario_data
from simulator.scenario import AIService, Scenario

from .loading import load_upload

__all__ = ["load", "choose_source", "settings", "changes", "version"]

POLICIES = ["fifo", "ai_priority", "hierarchical", "score", "aging", "sla_edf", "rules"]
DEFAULT = "moscow_reference_center"


def version() -> int:
    return int(st.session_state.get("version", 0))


def load(source: tuple[str, str], data: dict[str, Any]) -> None:
    """Make `data` the scenario every control starts from."""
    st.session_state.update(source=source, base=copy.deepcopy(data), version=version() + 1)


def choose_source() -> None:
    """A bundled scenario, an upload, or a scenario saved earlier in this session; on a bad upload the
    previous scenario stays and the error says why."""
    st.sidebar.header("Scenario")
    names = [n for n in bundled_scenarios() if not n.startswith("validation/")]
    name = st.sidebar.selectbox("bundled scenario", names, index=names.index(DEFAULT) if DEFAULT in names else 0,
                                key="bundled")
    if st.session_state.get("bundled_seen") != name:  # a new choice in the list replaces an upload too
        st.session_state["bundled_seen"] = name
        load(("bundled", name), scenario_data(name))
    upload = st.sidebar.file_uploader("or upload a scenario (YAML)", type=["yaml", "yml"], key="upload")
    if upload is not None and st.session_state.get("upload_id") != upload.file_id:
        st.session_state["upload_id"] = upload.file_id
        try:
            data, _ = load_upload(upload.name, upload.getvalue())
        except ScenarioError as exc:
            st.session_state["upload_error"] = str(exc)
        else:
            st.session_state["upload_error"] = None
            load(("upload", upload.name), data)
    if st.session_state.get("upload_error"):
        st.sidebar.error(st.session_state["upload_error"])
    saved = saved_scenarios()
    if saved:
        chosen = st.sidebar.selectbox("or a scenario saved in this session", ["-"] + list(saved), key="saved-pick")
        if chosen != "-" and st.sidebar.button("Load it", key="saved-load"):
            load(("saved", chosen), saved[chosen]["data"])
            st.rerun()


def workspace_token() -> str:
    """This person's workspace: the token in the page's address, made on the first visit (a reload, or the
    address bookmarked, finds the same saved scenarios)."""
    import secrets

    token = st.query_params.get("workspace")
    if not token or not str(token).isalnum() or len(str(token)) > 32:
        token = secrets.token_hex(8)
        st.query_params["workspace"] = token
    return str(token)


def saved_scenarios() -> dict[str, dict]:
    from dashboard.runner import workspace

    return workspace(workspace_token())


def settings(base: dict[str, Any]) -> dict[str, Any]:
    """The scenario data as the sidebar's controls make it: policy, pre-emption, days, replications, demand,
    AI operating points, targets. Controls start from `base` (the loaded scenario)."""
    data = copy.deepcopy(base)
    v = version()
    st.sidebar.header("Settings")
    policy = data.setdefault("policy", {})
    current = policy.get("triage", "fifo")
    options = POLICIES + ([current] if current not in POLICIES else [])
    chosen = st.sidebar.selectbox("triage policy", options, index=options.index(current), key=f"policy-{v}",
                                  help="fifo: first come first served (STAT first); ai_priority: AI-flagged first; "
                                       "the others: docs/policies.md")
    if chosen != current:
        policy["triage"] = chosen
    preemptive = st.sidebar.checkbox("STAT and flagged studies interrupt reads", value=bool(policy.get("preemptive")),
                                     key=f"preemptive-{v}")
    if preemptive != bool(policy.get("preemptive")):
        policy["preemptive"] = preemptive
    if not policy:
        data.pop("policy")
    horizon = float(base.get("horizon_days", 28))
    first = st.session_state.get(f"horizon-first-{v}")
    if first is None:  # once per loaded scenario: a run of many minutes is not where a page starts
        first = st.session_state[f"horizon-first-{v}"] = first_look(base, horizon)
    days = st.sidebar.number_input("days simulated", min_value=1.0, max_value=3660.0, value=first, step=1.0,
                                   key=f"horizon-{v}", help="the first days are a warm-up left out of the figures")
    if first != horizon:
        st.sidebar.caption(f"Starts at {first:g} days for a first look: the file's {horizon:g} days would take many "
                           f"minutes. Set {horizon:g} to run them all.")
    if days != horizon:
        data["horizon_days"] = days
        if float(base.get("warmup_days", 0)) >= days:
            data["warmup_days"] = round(days / 4, 2)
    st.session_state["replications"] = int(st.sidebar.number_input(
        "replications", min_value=2, max_value=30, value=5, step=1, key=f"reps-{v}",
        help="independent draws of the studies; the confidence intervals come from them"))
    _demand(data, base, v)
    _ai(data, v)
    _stations(data, v)
    _targets(data, v)
    _costs(data, v)
    return data


LONG_SECONDS = 180.0  # a run expected to take longer asks before it starts, and a page does not start with it
FIRST_LOOK_DAYS = 28.0


def first_look(base: dict[str, Any], horizon: float) -> float:
    """The days a page starts with: the file's, unless its run (5 replications, with FIFO) is expected to
    take over LONG_SECONDS here; then FIRST_LOOK_DAYS."""
    from dashboard.runner import expected_seconds
    from simulator.prepare import parse_scenario

    if horizon <= FIRST_LOOK_DAYS:
        return horizon
    try:
        scenario = parse_scenario(base, "page")
    except ScenarioError:
        return horizon
    return FIRST_LOOK_DAYS if is_long(*expected_seconds(scenario, 5)[:2]) else horizon


def is_long(low: float, high: float) -> bool:
    """A run expected (the middle of its estimate) to take over LONG_SECONDS."""
    return (low + high) / 2 > LONG_SECONDS


def _demand(data: dict[str, Any], base: dict[str, Any], v: int) -> None:
    with st.sidebar.expander("Demand: what if"):
        growth = st.slider("all volumes (%)", -50, 100, 0, 5, key=f"growth-{v}",
                           help="every study type's arrivals up or down")
        for name, study_type in (base.get("study_types") or {}).items():
            change = st.slider(f"{name} (%)", -90, 200, 0, 5, key=f"mix-{v}-{name}")
            factor = (1 + growth / 100.0) * (1 + change / 100.0)
            if factor != 1.0:
                arrivals = data["study_types"][name]["arrivals"]
                for key in ("per_day", "rate_per_hour"):
                    if arrivals.get(key) is not None:
                        arrivals[key] = round(arrivals[key] * factor, 4)


def _ai(data: dict[str, Any], v: int) -> None:
    from scipy.special import ndtr, ndtri

    from simulator.figures import roc_curve

    for service, point in (data.get("ai_services") or {}).items():
        try:
            current = operating_point(AIService.model_validate(point))
        except Exception:  # the page's own check reports a bad service; nothing to draw
            continue
        with st.sidebar.expander(f"AI {service}: operating point"):
            specificity = st.slider("specificity (moves the point along the ROC curve)", 0.50, 0.99,
                                    round(current.specificity, 2), 0.01, key=f"ai-{v}-{service}")
            if abs(specificity - round(current.specificity, 2)) > 1e-9:
                threshold = float(ndtri(specificity))
                point.pop("sensitivity", None)
                # A service given by its ROC curve keeps the curve: only the operating point moves.
                point.update(specificity=specificity, **({} if "roc" in point else {"auc": round(current.auc, 4)}))
                sensitivity = float(ndtr((current.separation - threshold) / current.spread))
            else:
                threshold, sensitivity = current.threshold, current.sensitivity
            st.caption(f"sensitivity {sensitivity:.2f}, specificity {specificity:.2f}, AUC {current.auc:.2f}")
            if st.checkbox("show the ROC curve", key=f"roc-show-{v}-{service}"):
                st.plotly_chart(roc_curve(current.separation, threshold, service, current.spread), width="stretch",
                                key=f"roc-{v}-{service}")


def _stations(data: dict[str, Any], v: int) -> None:
    """What if: GPU workers of each AI compute service and devices of each site (docs/network.md)."""
    services = {name: service for name, service in (data.get("ai_services") or {}).items()
                if isinstance(service, dict) and service.get("workers") is not None}
    groups = [(site, modality, group) for site, spec in (data.get("sites") or {}).items() if isinstance(spec, dict)
              for modality, group in (spec.get("devices") or {}).items() if isinstance(group, dict)]
    if not services and not groups:
        return
    with st.sidebar.expander("Stations: GPU workers and devices"):
        for name, service in services.items():
            workers = st.number_input(f"{name}: GPU workers", min_value=1, max_value=1000,
                                      value=int(service["workers"]), step=1, key=f"gpu-{v}-{name}")
            if workers != service["workers"]:
                service["workers"] = int(workers)
        for site, modality, group in groups:
            count = st.number_input(f"{site}: {modality} devices", min_value=1, max_value=1000,
                                    value=int(group.get("count", 1)), step=1, key=f"dev-{v}-{site}-{modality}")
            if count != group.get("count"):
                group["count"] = int(count)


def _targets(data: dict[str, Any], v: int) -> None:
    targets = data.setdefault("targets", {})
    with st.sidebar.expander("Targets (turnaround, minutes)"):
        for name in list(targets):
            given = targets[name]
            minutes = float(given.get("minutes", 0)) + 60 * float(given.get("hours", 0)) + \
                1440 * float(given.get("days", 0))
            value = st.number_input(name.replace("_", " "), min_value=1.0, max_value=100_000.0, value=minutes,
                                    step=5.0, key=f"target-{v}-{name}")
            if not math.isclose(value, minutes):
                targets[name] = {"minutes": value}
    if not targets:
        data.pop("targets")


def _costs(data: dict[str, Any], v: int) -> None:
    """A cost per reader-hour for each pool (0: not given), so that the roster's cost a week is shown and
    saved runs compare by it; a scenario without costs can be given them here."""
    pools = data.get("pools") or {}
    with st.sidebar.expander("Cost per reader-hour"):
        for name, pool in pools.items():
            given = pool.get("cost_per_hour")
            value = st.number_input(name, min_value=0.0, max_value=100_000.0, value=float(given or 0.0), step=5.0,
                                    key=f"cost-{v}-{name}", help="of one reader on duty, in any currency; 0: not given")
            if value != float(given or 0.0):
                if value > 0:
                    pool["cost_per_hour"] = value
                else:
                    pool.pop("cost_per_hour", None)


def differences(ran: Scenario, replications_ran: int, now: Scenario | None, replications: int) -> list[str]:
    """What the settings on the page change from those of a run ('horizon_days: 14 -> 7', 'the roster'):
    empty when the run is of the settings as they are."""
    from simulator.loading import resolved_data

    if now is None:
        return ["the settings on the page have an error"]
    before, after = resolved_data(ran), resolved_data(now)
    out = changes(before, after)
    if before.get("pools") != after.get("pools"):
        out.append("the roster")
    if replications_ran != replications:
        out.append(f"replications: {replications_ran} -> {replications}")
    return out


def changes(base: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """'policy.triage: fifo -> ai_priority' for every value the page changed from the loaded file (the
    roster's cells are listed by the roster editor)."""
    out: list[str] = []

    def walk(before: Any, after: Any, path: str) -> None:
        if path.startswith("pools.") and path.endswith(".shifts"):  # the roster editor lists its own cells
            return
        if isinstance(before, dict) and isinstance(after, dict):
            for key in dict.fromkeys([*before, *after]):
                walk(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
        elif before != after:
            out.append(f"{path}: {_shown(before)} -> {_shown(after)}")

    walk(base, data, "")
    return out


def _shown(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)

