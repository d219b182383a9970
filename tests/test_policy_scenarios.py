"""Policies configured from scenario files: validation messages, targets of rules, and runs end to end."""
from __future__ import annotations

import numpy as np
import pytest

from simulator import ScenarioError, run_scenario
from simulator.triage_config import policy_of, targets_of
from tests.conftest import assert_refused, base_dict, make

RULES = {
    "triage": "rules",
    "rules": [
        {"when": {"referral": "stat"}, "class": "stat"},
        {"when": {"ai_score": {"ge": 0.3}, "study_type": "chest_ct"}, "class": "likely"},
        {"when": {"patient_age": {"ge": 70}}, "class": "elderly"},
    ],
    "else": {"class": "rest"},
}


def with_policy(policy: dict, **study_type: object) -> dict:
    data = base_dict()
    data["policy"] = policy
    data["study_types"]["chest_ct"].update(study_type)
    return data


@pytest.mark.parametrize("policy", [
    {"triage": "score"},
    {"triage": "score", "score": {"bands": {"a": 0.8, "b": 0.3, "c": 0.0}, "unscored": "a", "within": "score"}},
    {"triage": "aging"},
    {"triage": "aging", "aging": {"base": "score", "promote_after": None, "max_wait": {"hours": 2}}},
    {"triage": "sla_edf"},
    {"triage": "sla_edf", "sla_edf": {"start": "arrival", "default": {"hours": 8}}},
    RULES,
])
def test_every_built_in_policy_runs_from_a_scenario_and_conserves_work(policy: dict) -> None:
    scenario = make(with_policy(policy, patient_age={"dist": "gamma", "mean": 55, "cv": 0.35}), horizon_days=4)
    run = run_scenario(scenario, 1, workers=1)
    studies = run.studies
    assert studies.num_rows > 500
    assert policy_of(scenario).name == policy["triage"]
    reported = ~np.isnan(studies.column("reported_at").to_numpy(zero_copy_only=False).astype(float))
    assert reported.mean() > 0.95
    ages = studies.column("patient_age").to_numpy(zero_copy_only=False)
    assert 45 < np.nanmean(ages) < 65


def test_rules_classes_label_studies_and_targets_stay_those_of_what_a_study_is() -> None:
    scenario = make(with_policy(RULES))
    assert targets_of(scenario).minutes == {"stat": 15.0, "ai_positive": 60.0, "routine": 1440.0}
    run = run_scenario(scenario, 1, workers=1)
    labels = set(run.studies.column("priority").to_pylist())
    assert {"likely", "rest"} <= labels and "elderly" not in labels  # no ages drawn: the age rule never matches
    sla = [r for r in run.summary if r["metric"] == "sla_met_fraction" and r["where"] == {"priority": "likely"}]
    assert sla and sla[0]["mean"] is not None


def test_a_rule_with_a_target_is_refused_with_a_pointer_to_targets() -> None:
    policy = {**RULES, "rules": [{"when": {"referral": "stat"}, "class": "stat", "target": {"minutes": 15}}]}
    with pytest.raises(ScenarioError, match=r"policy\.rules\.0\.target: a rule sets no target.*targets"):
        make(with_policy(policy))


@pytest.mark.parametrize("policy, path, message", [
    ({"triage": "rules", "rules": []}, "policy.else", "needs an else"),
    ({**RULES, "rules": [{"when": {"study_type": "chest_xr"}, "class": "x"}]}, "policy.rules.0.when.study_type",
     "no study type 'chest_xr'"),
    ({**RULES, "rules": [{"when": {"colour": "red"}, "class": "x"}]}, "policy.rules.0.when.colour", "unknown key"),
    ({**RULES, "rules": [{"when": {"ai_score": {}}, "class": "x"}]}, "policy.rules.0.when.ai_score", "at least one bound"),
    ({**RULES, "else": {"class": "rest", "target": {"hours": 2}}}, "policy.else.target", "sets no target"),
    ({"triage": "score", "score": {"bands": {"a": 0.2, "b": 0.6}}}, "policy.score", "decreasing"),
    ({"triage": "score", "score": {"unscored": "urgent"}}, "policy.score", "must name a band"),
    ({"triage": "aging", "aging": {"base": "fastest"}}, "policy.aging", "unknown triage policy"),
    ({"triage": "fifo", "options": {"wait": 5}}, "policy.options", "user policy"),
    ({"triage": "sla_edf", "sla_edf": {"start": "now"}}, "policy.sla_edf.start", "one of 'ready' or 'arrival', not 'now'"),
])
def test_bad_policy_sections_name_the_field(policy: dict, path: str, message: str) -> None:
    assert_refused(with_policy(policy), path, message)
