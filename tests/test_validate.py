"""`radsim validate` on the bundled validation scenarios; a broken model must fail it.

The default run checks a fast subset, one scenario per kind of closed form; `pytest -m slow` (or
`make validate`) runs every file under scenarios/validation/.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from simulator import ScenarioError, bundled_scenarios, load_scenario
from simulator.cli import app
from simulator.triage import Rank
from simulator.triage.policies import Fifo
from simulator.validation import validate_scenario

runner = CliRunner()

FAST = ["validation/mmc_two_classes", "validation/ai_triage_2_readers_nonpreemptive", "validation/mg1_lognormal_pk",
        "validation/shifts_day_night_psa", "validation/reference_center_volumes", "validation/tandem_devices_ai"]


def paths(names: list[str]) -> list[str]:
    bundled = bundled_scenarios()
    return [str(bundled[name]) for name in names]


def test_a_fast_subset_of_the_validation_scenarios_passes() -> None:
    result = runner.invoke(app, ["validate", *paths(FAST), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output and "too wide" not in result.output


@pytest.mark.slow
def test_every_validation_scenario_passes() -> None:
    result = runner.invoke(app, ["validate", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output and "too wide" not in result.output


def test_the_validation_set_covers_what_it_must() -> None:
    names = {name for name in bundled_scenarios() if name.startswith("validation/")}
    for readers in (1, 2, 5):
        for kind in ("fifo", "nonpreemptive", "preemptive"):
            assert f"validation/ai_triage_{readers}_readers_{kind}" in names
    assert {"validation/mm1_fifo", "validation/mmc_fifo", "validation/mmc_two_classes", "validation/mmc_three_classes",
            "validation/mm1_preemptive", "validation/mg1_lognormal_pk", "validation/shifts_day_night_psa",
            "validation/reference_center_volumes"} <= names


def test_a_model_with_priorities_reversed_fails_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Break the model: STAT referrals read last. Cobham's values must then be rejected."""

    def reversed_rank(self: Fifo, item, now: float) -> Rank:
        return Rank(1 if item.referral == "stat" else 0, item.ready_at, item.referral)

    monkeypatch.setattr(Fifo, "rank", reversed_rank)
    scenario = load_scenario("validation/mmc_two_classes")
    checks = validate_scenario(scenario, replications=10, workers=1, max_replications=10)
    found = {tuple(c.where.items()): c for c in checks}
    assert found[(("referral", "stat"),)].verdict == "FAIL"
    assert found[(("referral", "routine"),)].verdict == "FAIL"
    overall = found[()]  # the overall wait does not depend on the order (conservation)
    assert abs(overall.estimate - overall.expected) <= overall.tolerance


def test_a_scenario_can_extend_another(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(Path(bundled_scenarios()["examples/mmc_ai_triage"]).read_text())
    child = tmp_path / "child.yaml"
    child.write_text(yaml.safe_dump({"extends": "base.yaml", "name": "child", "horizon_days": 9,
                                     "pools": {"readers": {"shifts": [{"start": "00:00", "end": "24:00", "staff": 3}]}}}))
    scenario = load_scenario(child)
    assert scenario.name == "child" and scenario.horizon_days == 9
    assert scenario.pools["readers"].shifts[0].staff == 3 and scenario.pools["readers"].reads == ["chest_ct"]
    loop = tmp_path / "loop.yaml"
    loop.write_text("extends: loop.yaml\nname: loop\n")
    with pytest.raises(ScenarioError, match="extends itself"):
        load_scenario(loop)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["ai_services"]["ct_ai"].pop("workers") and d["ai_services"]["ct_ai"].pop("inference_minutes"),
     "has no workers"),
    (lambda d: d["ai_services"]["ct_ai"].update(outages=[{"start": "2026-02-03T00:00", "hours": 1}]), "outages"),
    (lambda d: d["expect"][0]["where"].update(station="uplink:main"), "has no uplink"),
    (lambda d: d["expect"][0].update(metric="mean_wait_minutes"), "cannot split by 'station'"),
])
def test_a_station_theory_refuses_a_station_without_its_shape(change, message: str) -> None:
    data = yaml.safe_load(Path(bundled_scenarios()["validation/ai_workers_mmc"]).read_text())
    change(data)
    from simulator.prepare import parse_scenario

    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data, "station.yaml")
