"""The model's hypothesis strategies, in one place: small random scenarios that switch on every path of the
model (policies, pre-emption, sites with their own readers, push, double reading, audits, second opinions,
conditions and several AIs) and, with `network_options`, the upstream stations (devices, uplinks, ingest,
AI workers, delivery)."""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

__all__ = ["scenarios", "routing_options", "network_options", "conditions_options", "DAYS", "POLICIES"]

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
POLICIES = ["fifo", "ai_priority", "hierarchical", "score", "aging", "sla_edf"]


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    n_types = draw(st.integers(1, 3))
    types = {}
    for t in range(n_types):
        types[f"type{t}"] = {
            "modality": draw(st.sampled_from(["CT", "DX", "MG"])),
            "arrivals": {"rate_per_hour": draw(st.floats(0.5, 8.0))},
            "prevalence": draw(st.floats(0.0, 0.5)),
            "referral": {"stat": draw(st.floats(0.0, 0.3)), "urgent": draw(st.floats(0.0, 0.3))},
            "read_minutes": draw(st.sampled_from([
                {"dist": "exponential", "mean": 8}, {"dist": "lognormal", "mean": 12, "cv": 0.6},
                {"dist": "gamma", "mean": 5, "cv": 1.2}, {"dist": "fixed", "value": 6},
                {"dist": "empirical", "values": [2, 5, 30]}])),
            "ai": draw(st.sampled_from([None, "ai"])),
        }
    names = list(types)
    pools = {}
    for p in range(draw(st.integers(1, 2))):
        reads = draw(st.lists(st.sampled_from(names + ["second_opinion"]), min_size=1, unique=True))
        shifts = []
        for _ in range(draw(st.integers(1, 3))):
            start = draw(st.integers(0, 23))
            shifts.append({"start": f"{start:02d}:00", "hours": draw(st.sampled_from([6, 8, 12, 24])),
                           "staff": draw(st.integers(0, 3)),
                           "days": draw(st.lists(st.sampled_from(DAYS), min_size=1, unique=True))})
        pools[f"pool{p}"] = {"reads": reads, "shifts": shifts, "absence_rate": draw(st.sampled_from([0.0, 0.2]))}
    # Every type and the second opinions must be readable: a catch-all pool, sometimes unstaffed at night.
    pools["catch_all"] = {"reads": ["*"], "shifts": [{"start": "08:00", "end": "18:00", "staff": draw(st.integers(1, 2))}]}
    data = {
        "name": "prop", "start": "2026-02-04T06:30", "horizon_days": draw(st.sampled_from([1.5, 2, 3])),
        "warmup_days": 0.25, "seed": draw(st.integers(0, 2**32)), "study_types": types,
        "ai_services": {"ai": {"sensitivity": 0.8, "specificity": 0.85, "failure_rate": 0.1,
                               "latency_minutes": {"dist": "exponential", "mean": 3}}},
        "pools": pools,
        "policy": {"triage": draw(st.sampled_from(POLICIES)), "order": ["ai"],
                   "preemptive": draw(st.booleans())},
        "targets": {"stat": {"minutes": 15}, "routine": {"hours": 4}},
    }
    if draw(st.booleans()):
        data["second_opinions"] = {"fraction": 0.3, "read_minutes": {"dist": "exponential", "mean": 10}}
    several = draw(st.booleans()) and conditions_options(draw, data)
    if draw(st.booleans()):
        data.update(routing_options(draw, data))
    if not several and draw(st.booleans()):
        network_options(draw, data)
    return data


def conditions_options(draw: st.DrawFn, data: dict[str, Any]) -> bool:
    """The first type shows two conditions (one read longer), targeted by two AIs or one; True when it has
    several AIs (not yet with upstream stations)."""
    first = data["study_types"]["type0"]
    first.pop("prevalence")
    first["conditions"] = {"c1": {"prevalence": draw(st.floats(0.0, 0.4)), "read_factor": 1.5},
                           "c2": {"prevalence": draw(st.floats(0.0, 0.4)), "urgency": 2}}
    data["ai_services"]["ai"]["targets"] = ["c1"]
    several = draw(st.booleans())
    if several:
        data["ai_services"]["ai2"] = {"targets": ["c2"], "sensitivity": 0.7, "specificity": 0.9, "failure_rate": 0.2,
                                      "latency_minutes": {"dist": "exponential", "mean": 5}}
        first["ai"] = ["ai", "ai2"]
        data["policy"]["order"] = draw(st.sampled_from([["ai", "ai2"], ["c2", "c1"]]))
    elif first["ai"] is None:
        first["ai"] = "ai"
    return several


def routing_options(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """Sites with their own readers, push or pull, double reading and the autonomous-normal lane."""
    names = list(data["study_types"])
    routing: dict[str, Any] = {"mode": draw(st.sampled_from(["pull", "push"]))}
    extra: dict[str, Any] = {"sites": {"north": {"weight": 1.0}, "south": {"weight": 2.0}}, "routing": routing}
    if draw(st.booleans()):
        data["pools"]["north_local"] = {
            "site": "north", "reads": draw(st.lists(st.sampled_from(names), min_size=1, unique=True)),
            "shifts": [{"start": "07:00", "hours": 12, "staff": draw(st.integers(0, 2))}]}
        routing["overflow_after"] = draw(st.sampled_from([None, {"minutes": 20}, {"hours": 2}]))
        if draw(st.booleans()):
            routing["night_to_centre"] = {"start": "17:00", "end": "09:00"}
    if draw(st.booleans()):
        dual = draw(st.sampled_from(names))
        data["study_types"][dual]["double_reading"] = {"second_reader": draw(st.sampled_from(["human", "ai"]))}
        data["pools"]["catch_all"]["shifts"][0]["staff"] = 2  # two different readers per study
    scored = [n for n in names if data["study_types"][n]["ai"]]
    if scored and draw(st.booleans()):
        routing["autonomous_normal"] = {"study_types": scored, "below": draw(st.sampled_from([0.05, 0.3])),
                                        "target": {"hours": 48}}
    return extra


def network_options(draw: st.DrawFn, data: dict[str, Any]) -> None:
    """Devices at some sites (one sending its waiting patients to another), uplinks and an ingest rate, AI
    workers, a delivery delay with an outage."""
    modalities = sorted({t["modality"] for t in data["study_types"].values()})
    sites = data.setdefault("sites", {"main": {"weight": 1.0}})
    exam = {"dist": "exponential", "mean": 6}
    for site in sites.values():
        if draw(st.booleans()):
            chosen = draw(st.lists(st.sampled_from(modalities), min_size=1, unique=True))
            site["devices"] = {m: {"count": draw(st.integers(1, 2)), "exam_minutes": exam,
                                   "open": draw(st.sampled_from([None, [{"start": "07:00", "end": "21:00"}]])),
                                   "failures": draw(st.sampled_from([None, {"busy_hours_between": 3,
                                                                            "repair_minutes": {"dist": "fixed", "value": 20}}])),
                                   "outages": draw(st.sampled_from([[], [{"start": "2026-02-04T12:00", "hours": 3}]]))}
                               for m in chosen}
        if draw(st.booleans()):
            site["uplink"] = {"mbit_per_s": draw(st.sampled_from([20, 200])),
                              "outages": draw(st.sampled_from([[], [{"start": "2026-02-04T10:00", "hours": 1}]]))}
    equipped = [name for name, site in sites.items() if "devices" in site]
    if len(equipped) >= 2 and draw(st.booleans()):  # the first sends its waiting patients to the second
        shared = sorted(set(sites[equipped[0]]["devices"]) & set(sites[equipped[1]]["devices"]))
        if shared:
            sites[equipped[0]]["devices"][shared[0]]["overflow"] = {"to": equipped[1], "after": {"minutes": 20}}
    if draw(st.booleans()):
        data["ingest"] = {"mbyte_per_s": 5, "slowdowns": [{"start": "2026-02-04T09:00", "hours": 2, "factor": 0.2}]}
    if any("uplink" in site for site in sites.values()) or "ingest" in data:
        data["network"] = {"sizes_mb": {m: {"dist": "lognormal", "mean": 200, "cv": 1.0} for m in modalities}}
    if draw(st.booleans()):
        data["ai_services"]["ai"].update(workers=draw(st.integers(1, 2)),
                                         inference_minutes={"dist": "exponential", "mean": 4})
    if draw(st.booleans()):
        data.setdefault("network", {})["delivery"] = {"delay_minutes": {"dist": "fixed", "value": 3},
                                                      "outages": [{"start": "2026-02-05T00:00", "hours": 4}]}
