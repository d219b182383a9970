"""Code a scenario names goes through the one resolver: only the fields marked as code paths can name code,
every one is checked (allow-list before import, "is it a policy class?" before any call), and no other text
in a scenario is ever imported."""
from __future__ import annotations

import copy
import importlib
import typing
from typing import Any

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from simulator import ScenarioError, run_scenario
from simulator.cli import app
from simulator.prepare import parse_scenario
from simulator.scenario import CODE_PATHS, CodeMarker, Scenario
from simulator.triage import PolicyError
from simulator.triage.resolver import ALLOW_ENV, resolve

from .conftest import base_dict

runner = CliRunner()


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation holds (inside unions, lists, dicts, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models(arg)]


def code_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> set[str]:
    """Dotted paths of every field marked as naming code, found by walking the schema."""
    out: set[str] = set()
    for name, field in model.model_fields.items():
        path = f"{prefix}{field.alias or name}"
        if any(isinstance(m, CodeMarker) for m in field.metadata):
            out.add(path)
        for inner in _models(field.annotation):
            out |= code_fields(inner, path + ".")
    return out


def text_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> set[str]:
    """Dotted paths of the plain-text fields of the schema's models that one can reach from a base scenario."""
    out: set[str] = set()
    for name, field in model.model_fields.items():
        path = f"{prefix}{field.alias or name}"
        if field.annotation in (str, typing.Optional[str], str | None):
            out.add(path)
        for inner in _models(field.annotation):
            out |= text_fields(inner, path + ".")
    return out


def test_the_schema_names_code_in_the_listed_fields_only() -> None:
    assert code_fields() == set(CODE_PATHS) == {"policy.triage", "policy.aging.base", "routing.router"}


def _set(data: dict, path: str, value: Any) -> bool:
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        if part == "study_types":
            node = node[part]["chest_ct"]
            continue
        if part == "ai_services":
            node = node[part]["ct_ai"]
            continue
        if part == "pools":
            node = node[part]["readers"]
            continue
        if part == "shifts":
            node = node[part][0]
            continue
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return False
    node[parts[-1]] = value
    return True


def test_no_other_text_of_a_scenario_is_ever_imported(monkeypatch) -> None:
    imported: list[str] = []
    real = importlib.import_module

    def spy(name: str, *args: Any, **kwargs: Any):
        imported.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", spy)
    accepted = 0
    for path in sorted(text_fields() - set(CODE_PATHS)):
        data = copy.deepcopy(base_dict())
        data["horizon_days"], data["warmup_days"] = 0.5, 0
        if not _set(data, path, "os:getpid"):
            continue
        try:
            scenario = parse_scenario(data, "walk.yaml")
        except ScenarioError:
            continue  # refused as text: not imported either
        run_scenario(scenario, 1, workers=1)
        accepted += 1
    assert accepted >= 5  # descriptions, names, modality codes, ... took the text and ran
    assert "os" not in imported


@pytest.mark.parametrize("path", CODE_PATHS)
def test_every_code_path_is_refused_under_an_allow_list_before_import(path: str, monkeypatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "")
    imported: list[str] = []
    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: imported.append(name) or real(name, *a))
    data = base_dict()
    code = "tests.policies_for_tests:ForgetsStat"
    if path == "policy.aging.base":
        data["policy"] = {"triage": "aging", "aging": {"base": code}}
    elif path == "routing.router":
        code = "tests.policies_for_tests:AlwaysCentral"
        data["routing"] = {"router": code}
    else:
        data["policy"] = {"triage": code}
    with pytest.raises(ScenarioError, match=rf"{path}: refused.*allow-list"):
        parse_scenario(data, "upload.yaml")
    assert "tests.policies_for_tests" not in imported
    monkeypatch.setenv(ALLOW_ENV, code)
    assert parse_scenario(data, "upload.yaml")


def test_the_resolver_checks_shape_and_class_before_calling() -> None:
    allowed = ["builtins", "collections", "tests"]
    with pytest.raises(PolicyError, match="not an import path"):
        resolve("os.getpid", ("rank",), "triage policy", allowed)
    with pytest.raises(PolicyError, match="is not a triage policy class"):
        resolve("builtins:exit", ("rank",), "triage policy", allowed)
    with pytest.raises(PolicyError, match="has no rank"):
        resolve("collections:OrderedDict", ("rank",), "triage policy", allowed)
    assert resolve("tests.policies_for_tests:ForgetsStat", ("rank",), "triage policy", allowed).name == "forgets-stat"


def test_set_cannot_make_radsim_call_exit() -> None:
    result = runner.invoke(app, ["run", "examples/mmc_ai_triage", "--set", "policy.triage=builtins:exit"])
    assert result.exit_code == 2 and "not on the allow-list" in " ".join(result.output.split())
    result = runner.invoke(app, ["run", "examples/mmc_ai_triage", "--set", "policy.triage=builtins:exit",
                                 "--allow-code", "builtins"])
    assert result.exit_code == 2 and "not a triage policy class" in " ".join(result.output.split())


ZEN = "import this  # its top level prints the Zen of Python\n"


@pytest.mark.parametrize("how", ["file", "set", "aging base", "router"])
def test_nothing_a_scenario_names_runs_without_permission(how: str, tmp_path, monkeypatch) -> None:
    """No allow-list and no --allow-code: a module a scenario names is never imported, so its top-level code
    never runs (it would write a file here), whether named in the file, a --set, an aging base or a router."""
    import subprocess
    import sys

    import yaml

    monkeypatch.delenv(ALLOW_ENV, raising=False)
    (tmp_path / "sneaky.py").write_text("open('ran', 'w').write('x')\nclass P:\n    name = 'p'\n"
                                        "    def rank(self, item, now): ...\n    def route(self, item, now): ...\n")
    data = base_dict()
    sets = []
    if how == "file":
        data["policy"] = {"triage": "sneaky:P"}
    elif how == "set":
        sets = ["--set", "policy.triage=sneaky:P"]
    elif how == "aging base":
        data["policy"] = {"triage": "aging", "aging": {"base": "sneaky:P"}}
    else:
        data["routing"] = {"router": "sneaky:P"}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    env = {k: v for k, v in __import__("os").environ.items() if k != ALLOW_ENV}
    env["PYTHONPATH"] = str(tmp_path)
    command = [sys.executable, "-m", "simulator", "run", "s.yaml", "--out", "o", *sets]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--allow-code sneaky" in " ".join(result.stderr.split()), result.stderr
    assert not (tmp_path / "ran").exists() and not (tmp_path / "o").exists()


def test_allow_code_and_a_named_policy_let_the_users_own_code_run(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(ALLOW_ENV, "")
    short = ["--set", "horizon_days=1", "--set", "warmup_days=0", "--no-against-fifo"]
    code = "tests.policies_for_tests:ForgetsStat"
    refused = runner.invoke(app, ["run", "examples/mmc_ai_triage", "--set", f"policy.triage={code}", *short,
                                  "--out", str(tmp_path / "a")])
    assert refused.exit_code == 2 and "--allow-code tests" in " ".join(refused.output.split())
    for extra in (["--set", f"policy.triage={code}", "--allow-code", "tests"],
                  ["--set", f"policy.triage={code}", "--allow-code", code],
                  ["--policy", code]):
        monkeypatch.setenv(ALLOW_ENV, "")
        result = runner.invoke(app, ["run", "examples/mmc_ai_triage", *extra, *short, "--out", str(tmp_path / "b")])
        assert result.exit_code == 0, (extra, result.output)
    monkeypatch.setenv(ALLOW_ENV, "")
    other = runner.invoke(app, ["run", "examples/mmc_ai_triage", "--set", f"policy.triage={code}", *short,
                                "--allow-code", "tests.policies_for_tests:Explodes", "--out", str(tmp_path / "c")])
    assert other.exit_code == 2  # one class allowed is not its module
    bad = runner.invoke(app, ["run", "examples/mmc_ai_triage", "--allow-code", "not a module"])
    assert bad.exit_code == 2 and "neither a module" in bad.output


def test_a_code_field_the_policy_does_not_use_is_refused() -> None:
    data = base_dict()
    data["policy"] = {"triage": "fifo", "aging": {"base": "os:system"}}
    with pytest.raises(ScenarioError, match="policy.aging.base: names code .* does not use it"):
        parse_scenario(data, "s.yaml")
    data["policy"] = {"triage": "fifo", "aging": {"base": "score"}}  # a built-in name is not code: ignored
    assert parse_scenario(data, "s.yaml")


@pytest.mark.parametrize("field, code, said", [
    ("policy.triage", "tests.policies_for_tests:Explodes", "tests.policies_for_tests:Explodes.rank raised RuntimeError: bug in the rules"),
    ("policy.triage", "tests.policies_for_tests:AnswersTuple", "tests.policies_for_tests:AnswersTuple.rank returned (0,"),
    ("policy.triage", "tests.policies_for_tests:FailsToStart", "tests.policies_for_tests:FailsToStart() raised KeyError"),
    ("policy.aging.base", "tests.policies_for_tests:Explodes", "tests.policies_for_tests:Explodes.rank raised"),
    ("routing.router", "tests.policies_for_tests:RoutesNowhere", "tests.policies_for_tests:RoutesNowhere.route returned"),
])
def test_a_users_code_that_fails_is_named_as_theirs(field: str, code: str, said: str, tmp_path) -> None:
    """A user's policy or router that raises or answers the wrong type is bad input (exit 2) naming the
    class and method, never radsim's internal error; nothing is written."""
    scenario = "examples/district_network" if field == "routing.router" else "examples/mmc_ai_triage"
    sets = [f"{field}={code}"] + (["policy.triage=aging"] if field == "policy.aging.base" else [])
    out_dir = tmp_path / "o"
    result = runner.invoke(app, ["run", scenario, *[a for s in sets for a in ("--set", s)], "--set", "horizon_days=1",
                                 "--set", "warmup_days=0", "--no-against-fifo", "--out", str(out_dir)])
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert said in text and "internal error" not in text and "please report" not in text
    assert not out_dir.exists()


def test_a_dashboard_upload_never_imports_what_it_names(monkeypatch) -> None:
    from dashboard.loading import load_upload

    monkeypatch.delenv(ALLOW_ENV, raising=False)
    imported: list[str] = []
    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: imported.append(name) or real(name, *a))
    for policy in ({"triage": "aging", "aging": {"base": "os:getpid"}}, {"triage": "os:abort"},
                   {"triage": "tests.policies_for_tests:ForgetsStat"}):
        data = base_dict()
        data["policy"] = policy
        import yaml

        with pytest.raises(ScenarioError, match="refused"):
            load_upload("up.yaml", yaml.safe_dump(data).encode())
    assert not {"os", "tests.policies_for_tests"} & set(imported)


def test_the_resolver_names_what_failed(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(ALLOW_ENV, "no_such_module_here,tests,broken_policy_module")
    with pytest.raises(PolicyError, match="cannot import triage policy module 'no_such_module_here'"):
        resolve("no_such_module_here:X", ("rank",), "triage policy")
    with pytest.raises(PolicyError, match="module 'tests.policies_for_tests' has no 'Nope'"):
        resolve("tests.policies_for_tests:Nope", ("rank",), "triage policy")
    broken = tmp_path / "broken_policy_module.py"
    broken.write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PolicyError, match="importing 'broken_policy_module' failed: RuntimeError: boom at import"):
        resolve("broken_policy_module:X", ("rank",), "triage policy")
    assert resolve("tests.policies_for_tests:ForgetsStat", ("rank",), "triage policy",
                   allowed=["tests.policies_for_tests:ForgetsStat"]).name == "forgets-stat"
    with pytest.raises(PolicyError, match="refused"):
        resolve("tests.policies_for_tests:ForgetsStat", ("rank",), "triage policy", allowed=[])
    monkeypatch.delenv(ALLOW_ENV)
    monkeypatch.setenv("RADSIM_ALLOWED_POLICIES", " tests.policies_for_tests:ForgetsStat , ")
    from simulator.triage.resolver import allowed_code

    assert allowed_code() == frozenset({"tests.policies_for_tests:ForgetsStat"})
