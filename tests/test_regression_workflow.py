"""The engineers' workflow: compare two variants on common random numbers, baselines, the pytest helper."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

from simulator import load_scenario, run_scenario
from simulator.baseline import Tolerance, Tolerances, check_run, baseline_document
from simulator.cli import app
from simulator.comparison import compare_scenarios
from simulator.testing import assert_no_regression
from simulator.theory import cobham_waits, mmc_mean_wait

from .conftest import base_dict, make

runner = CliRunner()


def stat_desk() -> dict:
    """The M/M/2 AI desk of conftest with 5% STAT referrals, two weeks."""
    data = base_dict()
    data.update(horizon_days=14, warmup_days=1)
    data["study_types"]["chest_ct"]["referral"] = {"stat": 0.05}
    return data


@pytest.fixture
def desk_file(tmp_path: Path) -> Path:
    path = tmp_path / "desk.yaml"
    path.write_text(yaml.safe_dump(stat_desk()))
    return path


def test_compare_gets_sign_and_size_of_ai_priority_right_on_two_class_mmc() -> None:
    """FIFO against AI priority on M/M/2 (rho 0.8): the paired change of each AI class's mean wait must match
    Cobham minus Erlang C. Chosen before looking: 99% CI from 30 paired replications of 60 days, half-width
    under 25% of the theory change."""
    data = base_dict()
    data.update(horizon_days=60, warmup_days=2, seed=5)
    a = make(data, policy={"triage": "fifo"})
    b = make(data, policy={"triage": "ai_priority"})
    replications = 30
    differences = compare_scenarios(a, b, replications, workers=2)
    lam, mu, share = 9.6 / 60, 0.1, 0.1 * 0.9 + 0.9 * 0.1  # AI-positive share: prevalence x Se + (1-p)(1-Sp)
    fifo = mmc_mean_wait(2, lam, mu)
    flagged, rest = cobham_waits(2, mu, [share * lam, (1 - share) * lam])
    found = {(d.metric, tuple(d.where.items())): d for d in differences}
    for positive, theory in ((True, flagged - fifo), (False, rest - fifo)):
        d = found[("mean_wait_minutes", (("ai_positive", positive),))]
        half99 = (d.ci_high - d.ci_low) / 2 * stats.t.ppf(0.995, replications - 1) / stats.t.ppf(0.975, replications - 1)
        assert abs(d.diff - theory) <= half99, (positive, theory, d)
        assert half99 < 0.25 * abs(theory), (positive, theory, d)
        assert d.verdict == ("better" if positive else "worse")


def test_compare_accepts_a_scenario_fragment(desk_file: Path, tmp_path: Path) -> None:
    fragment = tmp_path / "aging-2h.yaml"
    fragment.write_text("policy:\n  triage: aging\n  aging: {max_wait: {hours: 2}}\n")
    result = runner.invoke(app, ["compare", str(desk_file), "--policy", "ai_priority", "--policy", str(fragment),
                                 "-r", "3", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "B = aging-2h against A = ai_priority" in result.output
    assert "with no clear change" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: {triage: aging, aging: {max_wait: {hours: -1}}}\n")
    result = runner.invoke(app, ["compare", str(desk_file), "--policy", "fifo", "--policy", str(bad)])
    assert result.exit_code == 2 and "policy.aging.max_wait.hours" in result.output


def test_baseline_check_passes_unchanged_code_and_names_a_regression(desk_file: Path, tmp_path: Path) -> None:
    saved = tmp_path / "baseline.json"
    result = runner.invoke(app, ["baseline", "save", str(desk_file), "--to", str(saved), "-r", "4", "--workers", "1"])
    assert result.exit_code == 0, result.output
    same = runner.invoke(app, ["baseline", "check", str(desk_file), "--baseline", str(saved), "--workers", "1"])
    assert same.exit_code == 0, same.output
    assert "0 regression(s), 0 improvement(s)" in same.output
    broken = runner.invoke(app, ["baseline", "check", str(desk_file), "--baseline", str(saved), "--workers", "1",
                                 "--policy", "tests.policies_for_tests:ForgetsStat"])
    assert broken.exit_code == 3, broken.output
    assert "regression: mean_wait_minutes[referral=stat]" in broken.output
    # At 80 columns every figure is whole; --json says the same findings, with the same exit code.
    args = ["baseline", "check", str(desk_file), "--baseline", str(saved), "--workers", "1", "--policy",
            "tests.policies_for_tests:ForgetsStat"]
    narrow = CliRunner(env={"COLUMNS": "80"}).invoke(app, args)
    table = narrow.output[:narrow.output.index("regression(s)")]
    assert "…" not in table and max(map(len, table.splitlines())) <= 80, narrow.output
    lines = table.splitlines()
    assert any(line.split()[:1] == ["mean_wait"] and "referral=stat" in below
               for line, below in zip(lines, lines[1:]))  # the metric, its subgroup on the line below
    printed = runner.invoke(app, [*args, "--json"])
    assert printed.exit_code == 3
    found = json.loads(printed.output)
    assert found["regressions"] >= 1 and any(f["verdict"] == "regression" and f["where"] == {"referral": "stat"}
                                             and f["metric"] == "mean_wait_minutes" for f in found["findings"])


def test_baseline_bad_input_exits_2_naming_the_file(desk_file: Path, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["baseline", "check", str(desk_file), "--baseline", str(tmp_path / "none.json")])
    assert missing.exit_code == 2 and "none.json" in missing.output
    saved = tmp_path / "baseline.json"
    runner.invoke(app, ["baseline", "save", str(desk_file), "--to", str(saved), "-r", "2", "--workers", "1",
                        "--set", "horizon_days=3"])
    tolerances = tmp_path / "tolerances.yaml"
    tolerances.write_text("metrics:\n  p95_tat_minutes: {rel_tol: -1}\n")
    bad = runner.invoke(app, ["baseline", "check", str(desk_file), "--baseline", str(saved), "--tolerances",
                              str(tolerances), "--set", "horizon_days=3"])
    assert bad.exit_code == 2 and "tolerances.yaml: metrics.p95_tat_minutes.rel_tol" in bad.output, bad.output
    not_json = tmp_path / "x.json"
    not_json.write_text("{")
    assert runner.invoke(app, ["baseline", "check", str(desk_file), "--baseline", str(not_json)]).exit_code == 2
    # A baseline edited by hand or damaged (a fuzz of its values found these crashing): refused naming the field.
    document = json.loads(saved.read_text())
    entry = document["metrics"][0]
    for change, said in ((dict(seed=None), "seed: write a whole number"), (dict(replications=True), "replications"),
                         (dict(metrics=[{**entry, "values": [1.0]}]), "metrics.0.values: 1 values for 2"),
                         (dict(metrics=[{**entry, "metric": "nope"}]), "metrics.0.metric: not a metric"),
                         (dict(metrics=[{**entry, "where": {"kind": ["x"]}}]), "metrics.0.where.kind")):
        damaged = tmp_path / "damaged.json"
        damaged.write_text(json.dumps({**document, **change}))
        result = runner.invoke(app, ["baseline", "check", str(desk_file), "--baseline", str(damaged), "--set",
                                     "horizon_days=3", "--workers", "1"])
        said_now = " ".join(result.output.split())
        assert result.exit_code == 2 and f"damaged.json: {said}" in said_now, said_now


def test_assert_no_regression_catches_a_policy_that_forgets_stat(desk_file: Path, tmp_path: Path) -> None:
    scenario = load_scenario(desk_file)
    saved = tmp_path / "baseline.json"
    saved.write_text(__import__("json").dumps(baseline_document(run_scenario(scenario, 3, workers=1))))
    findings = assert_no_regression(desk_file, saved)
    assert findings and not any(f.failed for f in findings)
    with pytest.raises(AssertionError, match=r"referral=stat"):
        assert_no_regression(desk_file, saved, policy="tests.policies_for_tests:ForgetsStat")


def test_tolerances_most_specific_entry_wins_and_ignore_skips() -> None:
    tolerances = Tolerances(metrics={"p95_tat_minutes": Tolerance(rel_tol=0.2)},
                            subgroups={"p95_tat_minutes[referral=stat]": Tolerance(abs_tol=1.0),
                                       "max_tat_minutes[referral=stat]": Tolerance(ignore=True)})
    assert tolerances.of("p95_tat_minutes", {"referral": "stat"}).abs_tol == 1.0
    assert tolerances.of("p95_tat_minutes", {}).rel_tol == 0.2
    assert tolerances.of("mean_tat_minutes", {}).rel_tol == 0.05
    scenario = make(stat_desk(), horizon_days=5)
    good = run_scenario(scenario, 2, workers=1)
    bad = run_scenario(scenario.model_copy(update={"policy": scenario.policy.model_copy(
        update={"triage": "tests.policies_for_tests:ForgetsStat"})}), 2, workers=1)
    findings = check_run(baseline_document(good), bad, tolerances)
    verdicts = {f.label: f.verdict for f in findings}
    assert verdicts["max_tat_minutes[referral=stat]"] == "ignored"
    assert np.isfinite([f.change for f in findings if f.change is not None]).all()
