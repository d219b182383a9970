"""radsim dashboard: pick a scenario, change the roster, the policy or the demand, run, and read what it
means for high-risk patients.

Start it with `radsim dashboard` (localhost). The numbers come from the same functions as the CLI
(`simulator.figures`, the one way in `prepare`); this file lays them out. See docs/dashboard.md.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import controls, panels, runner
from dashboard.roster import RosterError, apply_roster, changed_cells, parse_cells, roster_rows
from simulator.errors import ScenarioError
from simulator.prepare import parse_scenario
from simulator.scenario import DAYS, Scenario

st.set_page_config(page_title="radsim", layout="wide")


def roster_editor(data: dict[str, Any], scenario: Scenario, v: int) -> dict[str, Any] | None:
    """The roster table (text cells, checked as typed); None while a cell is not a number of readers."""
    st.subheader("Roster: readers on each shift and weekday")
    original = roster_rows(scenario)
    rows = st.session_state.get(f"roster-rows-{v}", original)
    left, right = st.columns([6, 1])
    if right.button("Reset the roster", key=f"reset-{v}"):
        st.session_state.pop(f"roster-rows-{v}", None)
        st.session_state[f"roster-epoch-{v}"] = st.session_state.get(f"roster-epoch-{v}", 0) + 1
        st.rerun()
    table = pd.DataFrame([{**r, **{d: str(r[d]) for d in DAYS}} for r in rows])
    edited = left.data_editor(
        table, disabled=["pool", "shift", "times"], hide_index=True,
        key=f"roster-{v}-{st.session_state.get(f'roster-epoch-{v}', 0)}",
        column_config={d: st.column_config.TextColumn(d.title(), help="readers on this shift on this weekday")
                       for d in DAYS})
    try:
        clean = parse_cells(edited.to_dict("records"))
        out = apply_roster(data, scenario, clean)
    except RosterError as exc:
        st.error(f"Roster: {exc}. Fix the cell to run; the results below are of the last run.")
        return None
    changes = changed_cells(original, clean)
    if changes:
        st.caption("Changed in the roster: " + "; ".join(changes))
    return out


def run_button(scenario: Scenario, replications: int) -> None:
    low, high, measured = runner.expected_seconds(scenario, replications)
    hit = runner.cached(scenario, replications)
    words = "already run: shown at once" if hit is not None else \
        f"about {low:.0f}-{high:.0f} s{'' if measured else ' (a first guess; the first run measures this machine)'}"
    others = runner.busy()
    if hit is None and others:
        words += f"; {others} other run{'s' if others > 1 else ''} in progress on this server share{'' if others > 1 else 's'} " \
                 "its cores: this one may take longer, or join the same setting's run"
    pair = "" if scenario.policy.triage == "fifo" else " and FIFO on the same studies"
    st.caption(f"{scenario.name}: {scenario.horizon_days:g} days x {replications} replications{pair}; {words}.")
    long = hit is None and controls.is_long(low, high)
    if long:
        st.warning(f"This run is expected to take about {low / 60:.0f}-{high / 60:.0f} minutes. Fewer days simulated "
                   "or fewer replications give a first look in seconds.")
        long = not st.checkbox("Run it anyway", key="long-ok")
    left, right = st.columns([1, 8])
    go = left.button("Run", type="primary", key="run", disabled=long)
    right.button("Stop", key="stop", help="stops a run in progress: its workers stop at once")
    if not go:
        return
    bar = st.progress(0.0, text="simulating")

    def progress(share: float) -> None:
        bar.progress(min(max(share, 0.0), 1.0), text=f"simulating: {share:.0%} of the simulated time")

    result = runner.simulate(scenario, replications, progress)
    bar.empty()
    current = st.session_state.get("result")
    # The previous run is kept for its deltas only when it is a setting of the same scenario.
    if current is not None and current is not result and current.run.scenario.name == scenario.name and \
            current.run.scenario.study_types == scenario.study_types:
        st.session_state["previous"] = current
    elif current is not result:
        st.session_state["previous"] = None
    st.session_state["result"] = result


def save_box(data: dict[str, Any]) -> None:
    with st.sidebar.expander("Save this scenario"):
        name = st.text_input("name", key="save-name", max_chars=60)
        if st.button("Save", key="save") and name.strip():
            result = st.session_state.get("result")
            fits = result is not None and st.session_state.get("result_data") == data
            gone = runner.save(controls.workspace_token(), name.strip(), {"data": data, "result": result if fits else None})
            st.success(f"saved as {name.strip()} (kept after a reload of this page's address)" +
                       (f"; {gone}, the oldest, made room" if gone else ""))


def planning(scenario: Scenario, replications: int, v: int) -> None:
    """The staffing curve of one shift, and the smallest roster meeting chosen targets (the CLI's `staff`)."""
    rows = roster_rows(scenario)
    slots = [f"{r['pool']} / {r['shift']}" for r in rows]
    left, right = st.columns(2)
    with left:
        st.markdown("**Staffing curve**: share within target against the readers on one shift (every weekday)")
        slot = st.selectbox("shift", slots, key=f"curve-slot-{v}")
        row = rows[slots.index(slot)]
        now = max(row[d] for d in DAYS)
        low, high = st.slider("readers", 0, max(now + 6, 4), (max(now - 2, 0), now + 2), key=f"curve-range-{v}")
        if st.button("Draw the curve", key="curve"):
            _curve(scenario, row, range(low, high + 1), replications)
        found = st.session_state.get("curve-result")
        if found is not None and found[0] == slot:
            panels.staffing(found[1], slot)
    with right:
        st.markdown("**The smallest roster** meeting targets, as `radsim staff` finds it (feasibility included: "
                    "every kind of work keeps its target, 99% reported, no pool overloaded)")
        texts = target_texts("staff", v)
        if st.button("Find it", key="staff") and texts:
            _staff(scenario, texts, replications)
        found = st.session_state.get("staffed-result")
        if found is not None:
            table, roster_data, note = found
            st.caption(note)
            st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
            if roster_data is not None and st.button("Use this roster", key="use-roster"):
                st.session_state[f"roster-rows-{v}"] = roster_rows(parse_scenario(roster_data, "roster"))
                st.session_state[f"roster-epoch-{v}"] = st.session_state.get(f"roster-epoch-{v}", 0) + 1
                st.rerun()


def policies(scenario: Scenario, replications: int) -> None:
    """Several triage policies on the same studies (common random numbers: one scenario, one seed), side
    by side; each run goes through the runner's cache, as the Run button's."""
    from simulator.loading import dump_scenario
    from simulator.prepare import policy_variant
    from simulator.triage import PolicyError
    from simulator.triage_config import policy_of

    offered = [p for p in controls.POLICIES if p != "rules"]  # rules need rules of their own: set them in a file
    default = list(dict.fromkeys([scenario.policy.triage, "fifo", "ai_priority"]))[:3]
    chosen = st.multiselect("policies", offered, default=[p for p in default if p in offered], max_selections=4,
                            key="policies-pick")
    if st.button("Compare them on the same studies", key="policies-run") and chosen:
        results: dict[str, runner.Result | str] = {}
        bar = st.progress(0.0, text="running the policies")
        for k, name in enumerate(chosen):
            try:
                variant = policy_variant(scenario, name)
                policy_of(variant)  # a policy that needs settings this scenario lacks: said, not run
            except (ScenarioError, PolicyError) as exc:
                results[name] = f"not run: {exc}"
                continue
            results[name] = runner.simulate(variant, replications, progress=lambda f, k=k: bar.progress(
                min((k + f) / len(chosen), 1.0), text=f"running {name}"))
        bar.empty()
        st.session_state["policies-result"] = (dump_scenario(scenario), replications, results)
    found = st.session_state.get("policies-result")
    if found is not None:
        setting, reps, results = found
        if (setting, reps) != (dump_scenario(scenario), replications):
            st.caption("From an earlier setting: press Compare to see the current one.")
        panels.side_by_side(results)


def _curve(scenario: Scenario, row: dict[str, Any], staff: range, replications: int) -> None:
    from simulator.experiment import run_variants
    from simulator.story import tell

    from simulator.prepare import with_overrides

    shifts = scenario.pools[row["pool"]].shifts
    chosen = [i for i, shift in enumerate(shifts)
              if (f"{shift.start}-{shift.end}" if shift.end else f"{shift.start}+{shift.hours:g}h") == row["times"]]
    # Only looked at: a validation file's theory need not hold with fewer readers.
    variants = [with_overrides(scenario, [f"pools.{row['pool']}.shifts.{i}.staff={n}" for i in chosen],
                               expectations=False) for n in staff]
    bar = st.progress(0.0, text="drawing the curve")
    runs = run_variants(variants, replications, progress=lambda f: bar.progress(min(f, 1.0), text="drawing the curve"))
    bar.empty()
    points = []
    for n, run in zip(staff, runs):
        for card in tell(run).chapters:
            row_share = card.rows["sla_met_fraction"]
            if row_share is not None and row_share["mean"] is not None:
                points.append({"staff": n, "group": card.title, "mean": row_share["mean"],
                               "ci_low": row_share["ci_low"], "ci_high": row_share["ci_high"]})
    st.session_state["curve-result"] = (f"{row['pool']} / {row['shift']}", points)


def target_texts(prefix: str, v: int) -> list[str]:
    """The targets a search keeps, chosen as groups and a share: `sla_met_fraction[group] >= share` each."""
    groups = {"studies with a finding": "diseased=true", "AI-flagged studies": "ai_positive=true",
              "STAT orders": "referral=stat", "all work": ""}
    chosen = st.multiselect("keep within target", list(groups), default=["AI-flagged studies"], key=f"{prefix}-g-{v}")
    share = st.slider("at least this share", 0.80, 0.99, 0.95, 0.01, key=f"{prefix}-share-{v}")
    return [f"sla_met_fraction{'[' + groups[g] + ']' if groups[g] else ''} >= {share}" for g in chosen]


DAY_GROUPS = {"weekdays, and the weekend": "mon-fri,sat-sun", "every day alike": "mon-sun",
              "each day on its own": "each"}


def shift_design(scenario: Scenario, data: dict[str, Any], replications: int, v: int) -> None:
    """The cheapest pattern of allowed shifts meeting chosen targets (the CLI's `design`), drawn against the
    demand; "use this roster" makes it the scenario the page starts from."""
    st.markdown("**Design the shifts**: the cheapest pattern of shifts (starts, lengths, days, readers) that "
                "meets the targets, as `radsim design` finds it: SIPP from theory first, then improved and "
                "proven by simulation (feasibility included). On a large centre it takes minutes.")
    texts = target_texts("design", v)
    left, right = st.columns(2)
    lengths = left.multiselect("shift lengths (hours)", [4, 6, 8, 10, 12], default=[6, 8, 10, 12],
                               key=f"design-lengths-{v}")
    first, last = right.slider("shifts start between (hour of the day)", 0, 23, (0, 23), key=f"design-starts-{v}")
    days = left.selectbox("a shift runs on", list(DAY_GROUPS), key=f"design-days-{v}")
    gaps = right.checkbox("allow hours with work and nobody on duty", key=f"design-gaps-{v}")
    night = left.number_input("night premium, 22:00-06:00 (%)", 0, 300, 0, 5, key=f"design-night-{v}")
    weekend = right.number_input("weekend premium (%)", 0, 300, 0, 5, key=f"design-weekend-{v}")
    if st.button("Design the shifts", key="design") and texts and lengths:
        from simulator.design import Allowed, parse_days

        allowed = Allowed(tuple(sorted(lengths)), tuple(range(first, last + 1)), night / 100, weekend / 100,
                          day_groups=parse_days(DAY_GROUPS[days]), gaps=gaps)
        _design(scenario, data, texts, allowed, replications)
        st.rerun()  # the planning panel opens with the answer (it folds on a rerun it was not open for)
    found = st.session_state.get("designed-result")
    if found is None:
        return
    if "error" in found:
        st.error(found["error"])
        return
    from simulator.loading import dump_scenario

    if found["setting"] != dump_scenario(scenario):
        st.caption("From an earlier setting: press Design the shifts to see the current one.")
    st.caption(found["note"])
    st.dataframe(pd.DataFrame(found["compared"]), hide_index=True, width="stretch")
    panels.coverage(found["coverage"], found["load"], found["now"])
    st.dataframe(pd.DataFrame(found["shifts"]), hide_index=True, width="stretch")
    if found["roster"] is not None and st.button("Use this roster", key="use-design"):
        controls.load(("designed", found["label"]), found["roster"])
        st.rerun()


def _design(scenario: Scenario, data: dict[str, Any], texts: list[str], allowed: Any, replications: int) -> None:
    import copy

    from simulator.calendar import day_span
    from simulator.design import design, roster_shifts
    from simulator.loading import dump_scenario
    from simulator.staffing import offered_loads, on_duty_by_hour, parse_target

    note = st.empty()
    try:
        result = design(scenario, [parse_target(t) for t in texts], allowed, max(2, replications),
                        progress=lambda text: note.caption(text))
    except (ScenarioError, ValueError) as exc:
        st.session_state["designed-result"] = {"error": f"cannot design: {exc}"}
        return
    finally:
        note.empty()
    compared = [{"": what, "SIPP (theory)": sipp, "designed": designed} for what, sipp, designed in result.compared()]
    shifts = roster_shifts(result.scenario, result.shifts, result.staff)
    roster = copy.deepcopy(data)
    for pool, entries in shifts.items():
        roster["pools"][pool]["shifts"] = entries
    verdict = "meets every target" if result.feasible else "NO roster found that meets every target"
    if result.interrupted:
        verdict = "stopped: the best roster so far"
    st.session_state["designed-result"] = {
        "setting": dump_scenario(scenario),
        "note": f"{verdict}, over {result.evaluation.replications} replications ({result.evaluations} rosters simulated in "
                f"{result.seconds:.0f} s). Targets: {'; '.join(panels.in_words(t) for t in result.targets if not t.implicit)}.",
        "compared": compared, "coverage": result.coverage(), "now": on_duty_by_hour(scenario),
        "load": offered_loads(scenario),
        "shifts": [{"pool": pool, "start": e["start"], "hours": e["hours"], "days": day_span(e["days"]),
                    "readers": e["staff"], "reader-hours a week": e["staff"] * e["hours"] * len(e["days"])}
                   for pool, entries in shifts.items() for e in entries if e["staff"]],
        "roster": roster if result.feasible else None, "label": f"{scenario.name}, designed shifts"}


def _staff(scenario: Scenario, texts: list[str], replications: int) -> None:
    from simulator.loading import dump_scenario
    from simulator.safe_yaml import load_text
    from simulator.staffing import optimise, parse_target

    note = st.empty()
    try:
        result = optimise(scenario, [parse_target(t) for t in texts], max(2, replications),
                          progress=lambda text: note.caption(text))
    except ScenarioError as exc:
        st.session_state["staffed-result"] = ([], None, f"cannot search: {exc}")
        return
    table = [{"pool": s.pool, "shift": s.label, "readers": n, "now": a} for s, n, a in
             zip(result.slots, result.staff, [shift.staff for pool in scenario.pools.values() for shift in pool.shifts])]
    verdict = "meets every target" if result.feasible else "NO roster meets every target"
    words = {t.text: panels.in_words(t) for t in result.targets}
    binding = "; ".join(f"{words.get(t, t)}: {', '.join(w.replace('/', ' ') for w in where)}"
                        for t, where in result.binding.items() if where)
    others = "".join(f" Also meets every target at the same cost: {moved.replace('/', ' ')}."
                     for moved in result.alternative_moves())
    st.session_state["staffed-result"] = (table, load_text(dump_scenario(result.scenario), "roster") if result.feasible
                                   else None, f"{verdict} ({result.evaluations} rosters tried). Binds: {binding or '-'}."
                                              f"{others}")


def main() -> None:
    st.title("radsim: readers, shifts and AI triage")
    controls.choose_source()
    base = st.session_state["base"]
    data = controls.settings(base)
    v = controls.version()
    label = st.session_state["source"][1]
    try:
        scenario = parse_scenario(data, label)
    except ScenarioError as exc:
        st.error(str(exc))
        scenario = None
    edited = roster_editor(data, scenario, v) if scenario is not None else None
    if edited is not None:
        try:
            scenario = parse_scenario(edited, label)
        except ScenarioError as exc:
            st.error(str(exc))
            edited = None
        else:
            from simulator.figures import roster_cost

            hours, cost = roster_cost(scenario)
            st.caption(f"{hours:,.0f} reader-hours a week" + ("" if cost is None else f", cost {cost:,.0f} a week"))
    changes = controls.changes(base, data)
    if changes:
        st.caption("Changed from the file: " + "; ".join(changes))
    replications = int(st.session_state["replications"])
    if edited is not None:
        save_box(edited)
        run_button(scenario, replications)
        if st.session_state.get("result") is not None and runner.cached(scenario, replications) is \
                st.session_state["result"]:
            st.session_state["result_data"] = edited
    result = st.session_state.get("result")
    if result is None:
        st.info("Set the roster and press Run." if edited is not None else
                "Not run yet: fix what is marked above, then press Run.")
        return
    run = result.run
    differ = controls.differences(run.scenario, run.replications, scenario if edited is not None else None,
                                  replications)
    sc = run.scenario
    st.subheader(("Results of an earlier setting: " if differ else "Results: ") +
                 f"{sc.name}, policy {sc.policy.triage}, {run.replications} replications ({result.seconds:.1f} s)")
    st.caption(f"seed {sc.seed}; {sc.horizon_days - sc.warmup_days:g} days observed after a warm-up of "
               f"{sc.warmup_days:g} days (the warm-up is left out of every figure)")
    if differ:
        shown = "; ".join(differ[:5]) + (f"; and {len(differ) - 5} more" if len(differ) > 5 else "")
        st.warning(f"Not run yet with the settings on the page. These results are from the settings of the last "
                   f"run, which differ in: {shown}. Press Run to see the current settings.", icon="⏸️")
    panels.story(result)
    panels.cards(result, st.session_state.get("previous"))
    panels.operations_row(run)
    panels.figures(result)
    # Open while it holds an answer: a button inside it reruns the page, which would fold it away.
    answered = any(k in st.session_state for k in ("curve-result", "staffed-result", "designed-result",
                                                   "policies-result"))
    with st.expander("Planning: staffing curve, smallest roster, shift design, policies and saved scenarios side "
                     "by side", expanded=answered):
        # The shift design shares the first tab: a rerun that opens the panel shows its first tab.
        tabs = st.tabs(["Staffing and shift design", "Policies side by side", "Saved scenarios"])
        with tabs[0]:
            if edited is not None:
                planning(scenario, replications, v)
                st.divider()
                shift_design(scenario, edited, replications, v)
        with tabs[1]:
            if edited is not None:
                policies(scenario, replications)
        with tabs[2]:
            panels.compare_saved(controls.saved_scenarios())
    panels.downloads(result)


main()
