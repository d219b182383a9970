"""Bad input is refused with exit 2, naming the file (or the --set) and the field, with nothing written:
the corpus of attacks in tests/corpus/, overrides, limits, and a property that every scenario that
validates runs to the end."""
from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from simulator import ScenarioError, run_scenario
from simulator.cli import app
from simulator.prepare import parse_scenario, prepare
from simulator.safe_yaml import MAX_BYTES

from .conftest import base_dict

runner = CliRunner()
CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p for p in CORPUS.glob("*.yaml") if not p.name.startswith("_"))


def expectation(path: Path) -> tuple[str, str, str]:
    """('refused' | 'accepted', dotted path, message fragment) from a case's first line."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    verdict, _, rest = first.removeprefix("# ").partition(": ")
    field, _, fragment = rest.partition(" | ")
    return verdict, field.strip(), fragment.strip()


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_the_corpus(case: Path, tmp_path: Path) -> None:
    verdict, field, fragment = expectation(case)
    out = tmp_path / "out"
    started = time.monotonic()
    result = runner.invoke(app, ["run", str(case), "--out", str(out), "--no-against-fifo"])
    assert time.monotonic() - started < 30
    if verdict == "accepted":
        assert result.exit_code == 0, result.output
        return
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert str(case) in result.output.replace("\n", "") or "--set" in text
    assert f"{field}:" in text if field else True
    assert fragment in text, text
    assert "Traceback" not in result.output and not out.exists()


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (MAX_BYTES + 10) + "\n")
    result = runner.invoke(app, ["run", str(big), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "over the limit" in result.output


def test_a_file_radsim_wrote_given_as_a_scenario_is_named_as_what_it_is(tmp_path: Path) -> None:
    # A run folder, its summary and rows, a baseline: each said to be what it is, exit 2, not taken for a
    # scenario missing every key (a run's folder was "cannot read: Is a directory", its rows "over the limit").
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    run = tmp_path / "run"
    run.mkdir()
    (run / "scenario.yaml").write_text(yaml.safe_dump(base_dict()))
    (run / "summary.json").write_text(json.dumps({"scenario": "x", "software": {"name": "radsim"}, "metrics": []}))
    pq.write_table(pa.table({"study_id": ["a"]}), run / "studies.parquet")
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"format": "radsim-baseline/1", "scenario": "x", "metrics": []}))
    for given, said in [(run, "a run folder keeps its scenario in"), (run / "summary.json", "a run's summary"),
                        (run / "studies.parquet", "a Parquet table"), (baseline, "--baseline")]:
        result = runner.invoke(app, ["run", str(given), "--out", str(tmp_path / "o")])
        assert result.exit_code == 2 and said in result.output and "required key" not in result.output, given
    assert not (tmp_path / "o").exists()
    assert runner.invoke(app, ["run", str(run / "scenario.yaml"), "--out", str(tmp_path / "o"),
                               "--no-against-fifo", "-r", "2"]).exit_code == 0  # what the folder said to give


def test_limits_are_lifted_by_allow_large_only(tmp_path: Path) -> None:
    data = base_dict()
    data["horizon_days"] = 3000
    data["warmup_days"] = 0
    data["study_types"]["chest_ct"]["arrivals"] = {"rate_per_hour": 1000}
    with pytest.raises(ScenarioError, match=r"about 72\.0 M work items"):
        parse_scenario(data, "big.yaml")
    assert parse_scenario(data, "big.yaml", allow_large=True).horizon_days == 3000


def test_the_memory_estimate_counts_more_a_study_where_studies_pass_upstream_stations() -> None:
    # The same studies and readers, with and without the stations' pass (which holds more a study: the
    # network city year's measured peak is 2.14 GB, the city's 1.55): the estimate follows, never below.
    from simulator.prepare import Estimate

    day = ["horizon_days=365", "warmup_days=0"]
    city, network = (Estimate(prepare(name, day)) for name in ("moscow_city", "moscow_city_network"))
    assert city.items == network.items and city.reader_duties == network.reader_duties
    assert not city.stations and network.stations
    assert 1.55 < city.gigabytes < 1.55 * 1.1 and 2.14 < network.gigabytes < 2.14 * 1.1


# Overrides --------------------------------------------------------------------------------------------------
def test_set_takes_times_of_day_and_blames_itself(tmp_path: Path) -> None:
    scenario = prepare("examples/mmc_ai_triage", ["pools.readers.shifts.0.end=20:00"])
    assert scenario.pools["readers"].shifts[0].end == "20:00"
    with pytest.raises(ScenarioError) as caught:
        prepare("examples/mmc_ai_triage", ["pools.readers.shifts.0.staff=yes"])
    assert caught.value.source == "--set pools.readers.shifts.0.staff=yes"
    assert "must be a number" in str(caught.value)


def test_a_misspelt_pool_in_set_names_the_pools_there_are() -> None:
    result = runner.invoke(app, ["run", "moscow_reference_center", "--set", "pools.ctmr.shifts.2.staff=1"])
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "--set pools.ctmr.shifts.2.staff=1" in text and "no pool 'ctmr'" in text
    assert "general, ct_mr, mammography, experts" in text


def test_a_misspelt_study_type_in_a_grid_names_the_point_and_the_types() -> None:
    result = runner.invoke(app, ["sweep", "examples/mmc_ai_triage", "--grid", "study_types.chest.prevalence=0.1,0.2"])
    assert result.exit_code == 2 and "no study type 'chest'" in " ".join(result.output.split())


# Every scenario that validates runs --------------------------------------------------------------------------
policies = st.sampled_from([
    {"triage": "fifo"}, {"triage": "ai_priority", "preemptive": True}, {"triage": "score"},
    {"triage": "score", "score": {"within": "score", "unscored": "low"}},
    {"triage": "aging", "aging": {"base": "score", "promote_after": {"minutes": 1}, "max_wait": None}},
    {"triage": "aging", "aging": {"base": "rules", "promote_after": None}},
    {"triage": "sla_edf", "sla_edf": {"start": "arrival", "default": {"hours": 8}}},
    {"triage": "hierarchical", "order": ["ct_ai"]},
    {"triage": "rules", "rules": [{"when": {"kind": "audit"}, "class": "a"}], "else": {"class": "b"}},
])
starts = st.one_of(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1),
                                timezones=st.none() | st.just(dt.timezone(dt.timedelta(hours=3)))).map(str),
                   st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True))
extreme = st.one_of(st.floats(min_value=1e-300, max_value=1e300), st.sampled_from([1e-9, 1e-3, 0.999, 1e6, 1e9]))
distributions = st.one_of(
    st.builds(lambda m: {"dist": "exponential", "mean": m}, extreme),
    st.builds(lambda m, c: {"dist": "lognormal", "mean": m, "cv": c}, extreme, extreme),
    st.builds(lambda m, c: {"dist": "gamma", "mean": m, "cv": c}, extreme, extreme),
    st.builds(lambda v: {"dist": "fixed", "value": v}, st.one_of(extreme, st.just(0.0))),
    st.builds(lambda vs: {"dist": "empirical", "values": vs}, st.lists(st.one_of(extreme, st.just(0.0)), min_size=1,
                                                                      max_size=3)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=starts, policy=policies, read=distributions, latency=distributions, rate=extreme,
       staff=st.integers(0, 5), horizon=st.floats(0.01, 3.0), se=st.floats(0.0, 1.0))
def test_every_scenario_that_validates_runs_to_the_end(start, policy, read, latency, rate, staff, horizon, se) -> None:
    data = base_dict()
    data.update(start=start, horizon_days=horizon, warmup_days=0, policy=policy)
    data["study_types"]["chest_ct"].update(read_minutes=read, arrivals={"rate_per_hour": min(rate, 50.0)})
    data["ai_services"]["ct_ai"].update(latency_minutes=latency, sensitivity=se)
    data["pools"]["readers"]["shifts"][0]["staff"] = staff
    try:
        scenario = parse_scenario(data, "drawn.yaml")
    except ScenarioError as exc:
        assert exc.problems and all(isinstance(p, str) for p, _ in exc.problems)
        return
    run = run_scenario(scenario, 1, workers=1)  # must not raise
    assert run.studies.num_rows >= 0


def test_yaml_11_readings_are_not_numbers() -> None:
    for value in ("yes", "on", "1:30", "0x10", "0o7", "1_000"):
        data = base_dict()
        data["study_types"]["chest_ct"]["read_minutes"] = yaml.safe_load(f"{{dist: fixed, value: '{value}'}}")
        with pytest.raises(ScenarioError, match="must be a number"):
            parse_scenario(data, "t.yaml")
    assert re.search("ten", "010 is ten") and prepare("examples/mmc_ai_triage", ["seed=010"]).seed == 10


def test_a_listing_reads_each_description_as_the_whole_file_has_it() -> None:
    """`radsim scenarios` reads one top-level key of each file and stops there; it must say what reading the
    whole file says, and nothing for what is not a top-level text."""
    from simulator.cli.scenarios import _description
    from simulator.loading import bundled_scenarios, read_yaml
    from simulator.safe_yaml import top_level_text

    for name, path in bundled_scenarios().items():
        assert _description(path) == " ".join(str(read_yaml(path).get("description", "")).split()), name
    cases = {
        "a: 1\ndescription: hi\n": "hi",
        "x: {description: inner}\ndescription: outer\n": "outer",  # a nested key is not the top-level one
        "a:\n  description: inner\n": None,
        "b: [description, x]\ndescription: 'q'\n": "q",  # a value equal to the key is not the key
        "? [a, b]\n: c\ndescription: e\n": "e",  # a complex key before it
        "x: &a {y: 1}\nz: *a\ndescription: d\n": "d",
        "description: |\n  two\n  lines\n": "two\nlines\n",
        "description: [1, 2]\n": None,
        "- description\n- b\n": None,
        "": None,
        "a: [\n": None,
    }
    for text, expected in cases.items():
        assert top_level_text(text, "description") == expected, text
    assert top_level_text(b"\xff\xfe\x00", "description") is None


# Structure limits: refused in seconds, not run for minutes ------------------------------------------------
def _beyond(kind: str) -> tuple[dict | str, str, str]:
    """A scenario just past one structure limit (docs/contract.md, Limits): (data or text, field, message)."""
    data = base_dict()
    data.update(horizon_days=2, warmup_days=0)
    study_type = data["study_types"]["chest_ct"]
    if kind == "empirical values":
        study_type["read_minutes"] = {"dist": "empirical", "values": [float(i % 97 + 1) for i in range(100_001)]}
        return data, "study_types.chest_ct.read_minutes.values", "at most 100,000 entries"
    if kind == "study types":
        study_type["arrivals"] = {"rate_per_hour": 0.01}
        data["study_types"] = {f"t{i}": dict(study_type) for i in range(501)}
        data["pools"]["readers"]["reads"] = ["*"]
        return data, "study_types", "at most 500 entries"
    if kind == "a pool's shifts":
        data["pools"]["readers"]["shifts"] = [{"start": "00:00", "end": "24:00", "staff": 1}] * 1_001
        return data, "pools.readers.shifts", "at most 1,000 entries"
    if kind == "all shifts":
        shifts = [{"start": "00:00", "end": "24:00", "staff": 1}] * 700
        data["pools"] = {f"p{i}": {"reads": ["chest_ct"], "shifts": shifts} for i in range(3)}
        return data, "pools", "2,100 shift entries in all pools"
    if kind == "windows":
        outages = [{"start": "2026-02-02T00:00", "hours": 0.1}] * 1_000
        data["ai_services"] = {f"ai{i}": {"sensitivity": 0.9, "specificity": 0.9, "outages": outages} for i in range(11)}
        return data, "sites", "11,000 time windows"
    if kind == "tiny values":  # millions of values in a few MB: refused before a value is built
        return "name: x\nvalues: [" + ",".join(["1"] * 2_000_000) + "]\n", "", "holds over 250,000 values"
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["empirical values", "study types", "a pool's shifts", "all shifts", "windows",
                                  "tiny values"])
def test_a_structure_past_its_limit_is_refused_in_seconds(kind: str, tmp_path: Path) -> None:
    data, field, said = _beyond(kind)
    path = tmp_path / "big.yaml"
    path.write_text(data if isinstance(data, str) else yaml.dump(data, Dumper=yaml.CSafeDumper))
    started = time.monotonic()
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "o"), "--allow-large"])
    assert time.monotonic() - started < 30  # a guard against a hang, not a speed measurement
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and f"{field}:" in text and said in text, text
    assert not (tmp_path / "o").exists()


def test_a_scenario_at_its_limits_runs(tmp_path: Path) -> None:
    """100,000 empirical values, 500 study types and 1,000 shift entries in one file: accepted and run."""
    data = base_dict()
    data.update(horizon_days=2, warmup_days=0)
    study_type = data["study_types"]["chest_ct"]
    study_type.update(arrivals={"rate_per_hour": 0.01})
    data["study_types"] = {f"t{i}": dict(study_type) for i in range(500)}
    data["study_types"]["t0"]["read_minutes"] = {"dist": "empirical", "values": [float(i % 97 + 1) for i in range(100_000)]}
    data["pools"]["readers"].update(reads=["*"], shifts=[{"start": "00:00", "end": "24:00", "staff": 1}] * 1_000)
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper))
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output


def test_a_grid_past_its_limit_is_refused_before_it_is_planned(tmp_path: Path) -> None:
    started = time.monotonic()
    result = runner.invoke(app, ["sweep", "examples/mmc_ai_triage", "--grid", "pools.readers.shifts.0.staff=1:50",
                                 "--grid", "seed=1:100", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "a grid of 5,000 points: over the limit of 1,000" in " ".join(result.output.split())
    huge = runner.invoke(app, ["sweep", "examples/mmc_ai_triage", "--grid", "seed=1:1000", "--grid", "staff=1:1000"])
    assert huge.exit_code == 2 and "over the most a sweep can hold" in huge.output
    assert time.monotonic() - started < 30


# Messages show what the user wrote ----------------------------------------------------------------------
def test_messages_print_user_text_as_written(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "examples/mmc_ai_triage", "--set", "policy.triage=this:X"])
    assert result.exit_code == 2 and "policy.triage=this:X:" in result.output and "❌" not in result.output
    named = tmp_path / "[bold]:smile:.yaml"
    named.write_text("name: [1, 2\n")
    result = runner.invoke(app, ["run", str(named)])
    assert result.exit_code == 2 and "[bold]:smile:.yaml" in result.output and "😄" not in result.output


def test_a_closed_pipe_ends_quietly() -> None:
    """`radsim ... | head` : the reader went away; exit 141 as Unix tools, no 'internal error'."""
    reader, writer = os.pipe()
    os.close(reader)
    process = subprocess.run([sys.executable, "-m", "simulator", "scenarios"], stdout=writer, stderr=subprocess.PIPE,
                             text=True, timeout=60)
    os.close(writer)
    assert process.returncode == 141 and process.stderr == "", process.stderr


# Schema errors in the scenario's words -----------------------------------------------------------------
LIBRARY_PHRASES = re.compile(r"Input should|should have at (least|most)|valid dictionary|after validation|"
                             r"Field required|Value error|instance of|object to extract|Extra inputs|Unable to extract|"
                             r"Input tag", re.IGNORECASE)


def _leaves(data, path=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*path, key), value
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data[:2]):
            yield (*path, i), value
            yield from _leaves(value, (*path, i))


def test_every_schema_error_is_in_the_scenarios_words_never_the_validation_librarys() -> None:
    """Every field of three bundled scenarios that between them hold each kind of field (numbers, bounds,
    names, lists of fixed length, durations, distributions, shifts, devices, policies, ...) given a value
    of each wrong shape: each message names the field and none is pydantic's sentence."""
    import copy

    from simulator.loading import resolved_data

    wrong = [16, "abc", {"x": 1}, [1, 2], -5, None, True]
    seen = 0
    for name in ("moscow_reference_center", "examples/district_network_devices", "examples/stroke_two_ais"):
        base = resolved_data(prepare(name))
        for path, value in list(_leaves(base)):
            for bad in [*wrong, *([value[:-1]] if isinstance(value, list) and value else [])]:
                data = copy.deepcopy(base)
                node = data
                for part in path[:-1]:
                    node = node[part]
                node[path[-1]] = bad
                try:
                    parse_scenario(data, "s.yaml", allow_large=True)
                except ScenarioError as exc:
                    seen += 1
                    for line in str(exc).splitlines():
                        assert not LIBRARY_PHRASES.search(line), (path, bad, line)
    assert seen > 3000  # the walk reached the schema, not a handful of fields


@pytest.mark.parametrize("change, says", [
    ("study_types.chest_ct.read_minutes=16", "write a distribution of minutes: {dist: exponential, mean: 16}"),
    ("targets.stat=30", "write a duration in one unit: {minutes: 30}, {hours: 2} or {days: 1}, not 30"),
    ("pools.readers.shfts=[]", "unknown key (did you mean 'shifts'?"),
    ("policy.preemptive=yes", "true or false, not 'yes'"),
    ("horizon_days=-1", "more than 0, not -1"),
])
def test_natural_mistakes_are_told_what_to_write(change: str, says: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        prepare("examples/mmc_ai_triage", [change])
    assert says in str(caught.value), str(caught.value)


def test_hourly_weights_of_the_wrong_count_say_how_many_and_what_each_is() -> None:
    data = base_dict()
    data["study_types"]["chest_ct"]["arrivals"] = {"per_day": 200, "hourly": [1.0] * 23}
    with pytest.raises(ScenarioError, match=r"arrivals.hourly: exactly 24 entries, not 23 \(one weight per hour"):
        parse_scenario(data, "s.yaml")


@pytest.mark.parametrize("command", [["run", "examples/mmc_ai_triage", "-r", "1"],
                                     ["baseline", "check", "examples/mmc_ai_triage"]])
def test_a_bad_policy_option_is_blamed_on_the_option_the_user_wrote(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--policy", "nosuch"])
    assert result.exit_code == 2 and "--policy nosuch: policy.triage: unknown triage policy" in result.output, \
        result.output
    assert "--set" not in result.output


def test_a_validation_scenario_where_nothing_arrives_is_refused_naming_its_expectation() -> None:
    """Every closed form divides by an arrival rate: with every rate set to 0 (a user trying "no demand" on
    a validation scenario), the expectation is refused naming its field, exit 2, never an internal error
    (before: a ZeroDivisionError in five of the theories, exit 1)."""
    from simulator import load_scenario
    from simulator.loading import bundled_scenarios
    from simulator.scenario import TheoryValue

    checked = 0
    for name in [n for n in bundled_scenarios() if n.startswith("validation/")]:
        scenario = load_scenario(name)
        zero = [f"study_types.{t}.arrivals.{'rate_per_hour' if s.arrivals.rate_per_hour is not None else 'per_day'}=0"
                for t, s in scenario.study_types.items() if not s.bookings]
        if not any(isinstance(e.value, TheoryValue) for e in scenario.expect) or len(zero) < len(scenario.study_types):
            continue
        with pytest.raises(ScenarioError, match=r"expect\.\d+\.value: .*no study arrives"):
            load_scenario(name, ["warmup_days=0", *zero])
        checked += 1
    assert checked >= 20
