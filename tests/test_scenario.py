"""Loading scenarios: every kind of bad input is refused with the file, the dotted path and exit code 2."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from simulator import ScenarioError, bundled_scenarios, load_scenario, parse_scenario
from simulator.cli import app
from simulator.loading import dump_scenario

from .conftest import base_dict, make

runner = CliRunner()


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def broken(change) -> dict:
    data = copy.deepcopy(base_dict())
    change(data)
    return data


BAD = {
    "unknown key": (lambda d: d["study_types"]["chest_ct"].update(colour="red"), "study_types.chest_ct.colour"),
    "wrong type": (lambda d: d.update(horizon_days="long"), "horizon_days"),
    "negative rate": (lambda d: d["study_types"]["chest_ct"]["arrivals"].update(rate_per_hour=-1),
                      "study_types.chest_ct.arrivals.rate_per_hour"),
    "probability above 1": (lambda d: d["study_types"]["chest_ct"].update(prevalence=1.5),
                            "study_types.chest_ct.prevalence"),
    "negative mean in a distribution": (lambda d: d["study_types"]["chest_ct"]["read_minutes"].update(mean=-3),
                                        "study_types.chest_ct.read_minutes.mean"),
    "shift end before start": (lambda d: d["pools"]["readers"]["shifts"][0].update(start="20:00", end="08:00"),
                               "pools.readers.shifts.0"),
    "a type no pool reads": (lambda d: d["pools"]["readers"].update(reads=["second_opinion"]),
                             "study_types.chest_ct"),
    "unknown AI service": (lambda d: d["study_types"]["chest_ct"].update(ai="nope"), "study_types.chest_ct.ai"),
    "missing required key": (lambda d: d.pop("study_types"), "study_types"),
    "referral shares above 1": (lambda d: d["study_types"]["chest_ct"].update(referral={"stat": 0.6, "urgent": 0.6}),
                                "study_types.chest_ct.referral"),
    "warm-up longer than horizon": (lambda d: d.update(warmup_days=20), ""),
    "operating point incomplete": (lambda d: d["ai_services"]["ct_ai"].pop("specificity"), "ai_services.ct_ai"),
    "hourly weights of wrong length": (lambda d: d["study_types"]["chest_ct"].update(
        arrivals={"per_day": 100, "hourly": [1, 2, 3]}), "study_types.chest_ct.arrivals.hourly"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_names_file_and_path_and_exits_2(tmp_path: Path, case: str) -> None:
    change, path = BAD[case]
    file = write(tmp_path, broken(change))
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(file), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert str(file) in result.output
    assert f": {path}" in result.output if path else "warmup_days" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()  # nothing half-written


def test_missing_file_and_bad_yaml_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2 and "no such file" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    result = runner.invoke(app, ["run", str(bad)])
    assert result.exit_code == 2 and "not valid YAML" in result.output


def test_bad_override_and_bad_policy_exit_2(tmp_path: Path) -> None:
    file = write(tmp_path, base_dict())
    result = runner.invoke(app, ["run", str(file), "--set", "pools.readers.shifts.0.staff=-2"])
    assert result.exit_code == 2 and "pools.readers.shifts.0.staff" in result.output
    result = runner.invoke(app, ["run", str(file), "--set", "pools.readers.shifts.5.staff=2"])
    assert result.exit_code == 2 and "no item 5" in result.output
    result = runner.invoke(app, ["run", str(file), "--policy", "fastest_first"])
    assert result.exit_code == 2 and "unknown triage policy" in result.output


def test_overrides_apply_by_dotted_path() -> None:
    scenario = parse_scenario(base_dict(), "t.yaml", ["pools.readers.shifts.0.staff=5", "policy.triage=fifo",
                                                      "study_types.chest_ct.read_minutes={dist: fixed, value: 3}"])
    assert scenario.pools["readers"].shifts[0].staff == 5
    assert scenario.policy.triage == "fifo"
    assert scenario.study_types["chest_ct"].read_minutes.value == 3


def test_shift_crossing_midnight_and_by_hours() -> None:
    data = base_dict()
    data["pools"]["readers"]["shifts"] = [{"start": "20:00", "end": "08:00+1", "staff": 1},
                                          {"start": "08:00", "hours": 12, "staff": 2}]
    scenario = make(data)
    night, day = scenario.pools["readers"].shifts
    assert night.length_minutes == 720 and day.length_minutes == 720


def test_every_bundled_scenario_loads_and_round_trips() -> None:
    bundled = bundled_scenarios()
    assert {"moscow_reference_center", "moscow_city", "examples/mmc_ai_triage"} <= set(bundled)
    for name, path in bundled.items():
        scenario = load_scenario(path)
        again = parse_scenario(yaml.safe_load(dump_scenario(scenario)), name)
        assert again == scenario, name


def test_reference_centre_volumes_match_the_first_year() -> None:
    scenario = load_scenario("moscow_reference_center")
    per_day = {name: t.arrivals.per_day for name, t in scenario.study_types.items()}
    primary = sum(v for name, v in per_day.items() if scenario.study_types[name].kind == "primary")
    assert primary == pytest.approx(885, abs=0.5)
    assert per_day["teleconsultation"] == pytest.approx(99)
    assert primary * scenario.second_opinions.fraction == pytest.approx(148, abs=0.5)


def test_scenario_error_lists_every_problem() -> None:
    data = base_dict()
    data["horizon_days"] = -1
    data["seed"] = -5
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "x.yaml")
    assert {path for path, _ in info.value.problems} == {"horizon_days", "seed"}


def test_a_new_optional_field_left_unset_does_not_change_a_scenarios_fingerprint() -> None:
    """Baselines and sweeps store scenario fingerprints: shift `dates` and a type's `ingest_minutes`, added
    later, leave the fingerprint of a scenario that does not use them as it was (regression lock: the value
    below is what the version before `dates` computed for this scenario), and change it when used."""
    from simulator import parse_scenario
    from simulator.loading import scenario_hash

    data = {"name": "lock", "start": "2026-02-02T00:00", "horizon_days": 7, "warmup_days": 1,
            "study_types": {"ct": {"modality": "CT", "arrivals": {"rate_per_hour": 2},
                                   "read_minutes": {"dist": "exponential", "mean": 10}}},
            "pools": {"p": {"reads": ["*"], "shifts": [{"start": "08:00", "end": "20:00", "staff": 2}]}}}
    assert scenario_hash(parse_scenario(data, "lock.yaml")) == "18e71f9043fc8800"
    used = {"dates": ("pools", "p", "shifts", 0), "ingest_minutes": ("study_types", "ct")}  # later optional fields
    for key, where in used.items():
        changed = copy.deepcopy(data)
        place = changed
        for step in where:
            place = place[step]
        place[key] = ["2026-02-03"] if key == "dates" else {"dist": "fixed", "value": 4}
        assert scenario_hash(parse_scenario(changed, "lock.yaml")) != "18e71f9043fc8800", key


def test_a_change_made_in_code_is_checked_as_a_file_is() -> None:
    """`with_overrides`: every bundled scenario comes back equal from its resolved data, and a change made by
    a command (a FIFO variant, a roster, a horizon) is held to the schema and the code checks."""
    from simulator import InputError, bundled_scenarios, load_scenario
    from simulator.comparison import compare_policies
    from simulator.prepare import with_overrides

    for name in bundled_scenarios():
        scenario = load_scenario(name)
        assert with_overrides(scenario, []) == scenario, name
    desk = load_scenario("examples/mmc_ai_triage")
    assert with_overrides(desk, ["policy.triage=fifo"]).policy.triage == "fifo"
    with pytest.raises(InputError, match="policy.triage=nonexistent_policy"):
        with_overrides(desk, ["policy.triage=nonexistent_policy"])
    with pytest.raises(InputError, match="pools.readers.shifts.0.staff"):
        with_overrides(desk, ["pools.readers.shifts.0.staff=-1"])
    with pytest.raises(InputError, match="nonexistent_policy"):  # before any replication runs
        compare_policies(desk, "fifo", "nonexistent_policy", replications=2, workers=1)


def test_every_input_error_is_one_kind_for_a_python_caller() -> None:
    from simulator import InputError, ScenarioError
    from simulator.metrics import UnknownMetric, check_metric
    from simulator.triage import PolicyError, make_policy

    assert issubclass(ScenarioError, InputError) and issubclass(PolicyError, InputError)
    with pytest.raises(InputError):
        check_metric("no_such_metric")
    with pytest.raises(InputError):
        make_policy("fastest")
    assert issubclass(UnknownMetric, KeyError)  # as before, for callers that caught it so


@pytest.mark.parametrize("start", ["9999-12-31", "9999-12-01T08:00"])
def test_a_run_that_would_end_past_the_calendar_is_refused_with_its_fields(start: str) -> None:
    """A start in the calendar's last weeks (found by the fuzz test: it overflowed Python's dates) is a
    clear refusal naming `start` and `horizon_days`; a run that ends in time runs."""
    data = base_dict()
    data.update(start=start, horizon_days=1, warmup_days=0)
    with pytest.raises(ScenarioError, match=r"start \(9999-12-.*horizon_days \(1\)"):
        make(data)
    data["start"] = "9999-10-01"
    assert make(data).horizon_days == 1
