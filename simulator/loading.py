"""From a YAML file (plus `--set` overrides) to a validated `Scenario`, or a `ScenarioError`."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import ScenarioError
from .scenario import Scenario, check_references
from .triage import BUILT_IN, PolicyError
from .trace_arrivals import trace_arrivals, trace_digest
from .triage_config import policy_of
from .expectations import TheoryShapeError, expected_value

__all__ = ["load_scenario", "parse_scenario", "apply_overrides", "bundled_scenarios", "scenario_hash", "dump_scenario",
           "read_yaml", "merge_fragment", "with_base"]

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader


def bundled_scenarios() -> dict[str, Path]:
    """Scenarios shipped with the package, by name (e.g. 'moscow_reference_center', 'examples/mmc_ai_triage')."""
    root = resources.files("simulator.scenarios")
    found: dict[str, Path] = {}
    base = Path(str(root))
    if base.is_dir():
        for path in sorted(base.rglob("*.yaml")):
            found[path.relative_to(base).with_suffix("").as_posix()] = path
    return found


def resolve_path(name: str | Path) -> Path:
    """A path as given, or the bundled scenario of that name when no such file exists."""
    path = Path(name)
    if path.exists() or (path.suffix in (".yaml", ".yml") and path.parent != Path(".")):
        return path
    bundled = bundled_scenarios()
    key = path.with_suffix("").as_posix() if path.suffix in (".yaml", ".yml") else path.as_posix()
    if key in bundled:
        return bundled[key]
    by_stem = [p for name, p in bundled.items() if name.rsplit("/", 1)[-1] == key]
    return by_stem[0] if len(by_stem) == 1 else path


def read_yaml(path: str | Path) -> Any:
    """The parsed YAML of a file, or a ScenarioError naming the file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(source, [("", "no such file (bundled scenarios: " + ", ".join(bundled_scenarios()) + ")")]) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, [("", f"cannot read: {exc}")]) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ScenarioError(source, [("", f"not valid YAML: {exc}")]) from None


def merge_fragment(data: Mapping[str, Any], fragment: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with a scenario fragment laid over it: mappings merge key by key, anything else is replaced."""
    merged = dict(data)
    for key, value in fragment.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_fragment(merged[key], value)
        else:
            merged[key] = value
    return merged


def _anchored(data: Any, path: Path) -> Any:
    """Data whose `arrivals.trace` (a path relative to the file it is written in) is made absolute."""
    arrivals = data.get("arrivals") if isinstance(data, Mapping) else None
    if isinstance(arrivals, Mapping) and isinstance(arrivals.get("trace"), str):
        trace = Path(arrivals["trace"]).expanduser()
        if not trace.is_absolute():
            trace = (path.parent / trace).resolve()
        data = {**data, "arrivals": {**arrivals, "trace": str(trace)}}
    return data


def with_base(data: Any, path: Path, seen: tuple[Path, ...] = ()) -> Any:
    """A scenario that `extends: other.yaml` (a path relative to it) is that scenario with this one laid over."""
    data = _anchored(data, path)
    if not isinstance(data, Mapping) or "extends" not in data:
        return data
    base_path = path.parent / str(data["extends"])
    if base_path.resolve() in seen:
        raise ScenarioError(str(path), [("extends", f"{base_path} extends itself in a loop")])
    base = with_base(read_yaml(base_path), base_path, (*seen, path.resolve()))
    if not isinstance(base, Mapping):
        raise ScenarioError(str(base_path), [("", "the scenario it extends must be a mapping of keys")])
    return merge_fragment(base, {k: v for k, v in data.items() if k != "extends"})


def load_scenario(path: str | Path, overrides: Iterable[str] = (), fragments: Iterable[str | Path] = ()) -> Scenario:
    """Read, override and validate a scenario file. Raises ScenarioError naming the file and the field.

    A scenario may start from another (`extends: base.yaml`, relative to its own file). Each fragment (a
    YAML file holding part of a scenario, e.g. a `policy:` section) is laid over the scenario in turn,
    before the `key.path=value` overrides.
    """
    path = resolve_path(path)
    data = with_base(read_yaml(path), path, ())
    source = str(path)
    for fragment in fragments:
        part = _anchored(read_yaml(fragment), Path(fragment))
        if not isinstance(part, Mapping):
            raise ScenarioError(str(fragment), [("", "a scenario fragment must be a mapping of keys (e.g. policy: ...)")])
        if isinstance(data, Mapping):
            data = merge_fragment(data, part)
        source = f"{source} + {fragment}"
    return parse_scenario(data, source, overrides)


def parse_scenario(data: Any, source: str = "<scenario>", overrides: Iterable[str] = ()) -> Scenario:
    """Validate already-parsed YAML data (a mapping), after applying `key.path=value` overrides."""
    if not isinstance(data, Mapping):
        raise ScenarioError(source, [("", "a scenario must be a mapping of keys (name, start, study_types, ...)")])
    # Top-level keys starting with "x-" hold YAML anchors for reuse (as in compose files); they are not data.
    data = {key: value for key, value in apply_overrides(data, overrides, source).items()
            if not str(key).startswith("x-")}
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, [(_dotted(data, err["loc"]), _message(err)) for err in exc.errors()]) from None
    problems = check_references(scenario)
    if problems:
        raise ScenarioError(source, problems)
    problems = []
    for i, expectation in enumerate(scenario.expect):
        try:
            expected_value(scenario, expectation)
        except (TheoryShapeError, ValueError) as exc:
            problems.append((f"expect.{i}.value", f"{getattr(expectation.value, 'theory', '')}: {exc}"))
    if problems:
        raise ScenarioError(source, problems)
    if scenario.arrivals is not None:  # a bad trace is bad input too: found now, not mid-run
        trace_arrivals(scenario)
    if scenario.policy.triage in BUILT_IN:  # user policies are imported by the command that runs them
        try:
            policy_of(scenario)
        except PolicyError as exc:
            raise ScenarioError(source, [(f"policy.{scenario.policy.triage}", str(exc))]) from None
    return scenario


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[str], source: str = "--set") -> dict[str, Any]:
    """A deep copy of `data` with each 'dotted.path=value' applied; values are parsed as YAML."""
    result = json.loads(json.dumps(data, default=str))
    for override in overrides:
        key, sep, raw = override.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(source, [("--set", f"{override!r} is not key.path=value")])
        try:
            value = yaml.load(raw, Loader=_Loader)
        except yaml.YAMLError as exc:
            raise ScenarioError(source, [(key, f"--set value {raw!r} is not valid YAML: {exc}")]) from None
        parts = key.strip().split(".")
        node: Any = result
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            where = ".".join(parts[: depth + 1])
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ScenarioError(source, [(where, f"--set: no item {part} (the list has {len(node)})")])
                index = int(part)
                if last:
                    node[index] = value
                else:
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                raise ScenarioError(source, [(where, "--set: the value above this key is not a mapping or list")])
    return result


def _dotted(data: Any, loc: tuple) -> str:
    """The dotted path of an error location, leaving out what pydantic adds that is not in the data
    (union tags such as 'lognormal', type names such as 'int')."""
    parts, node = [], data
    for element in loc:
        if isinstance(node, Mapping) and element in node:
            node = node[element]
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            node = node[element]
        elif _is_tag(element, node):
            continue
        else:
            node = None
        parts.append(str(element))
    return ".".join(parts)


_TYPE_NAMES = {"bool", "int", "float", "str", "list", "dict", "none", "literal"}


def _is_tag(element: Any, node: Any) -> bool:
    if not isinstance(element, str):
        return False
    if isinstance(node, Mapping) and node.get("dist") == element:
        return True
    return element in _TYPE_NAMES or element[:1].isupper() or "[" in element or element.startswith("function-")


def _message(err: Mapping[str, Any]) -> str:
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see CONTRACT.md for the keys)"
    if err["type"] == "missing":
        return "required key is missing"
    if "input" in err and err["type"] not in ("model_type", "dict_type") and not isinstance(err["input"], (dict, list)):
        message += f" (got {err['input']!r})"
    return message


def dump_scenario(scenario: Scenario) -> str:
    """The fully resolved scenario as YAML: defaults filled in, overrides applied."""
    return yaml.safe_dump(_plain(scenario), sort_keys=False, allow_unicode=True, width=120)


def _plain(value: Any) -> Any:
    """JSON-like data of a model, leaving out None where None is the default anyway (keeping an explicit
    null that switches a default off, such as `aging.max_wait: null`)."""
    if isinstance(value, BaseModel):
        out = {}
        dumped = value.model_dump(mode="json", by_alias=True)
        for name, field in type(value).model_fields.items():
            key = field.alias or name
            inner = getattr(value, name)
            if inner is None and field.default is None:
                continue
            out[key] = _plain(inner) if isinstance(inner, (BaseModel, list, dict)) else dumped[key]
        return out
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return json.loads(json.dumps(value, default=str))


def scenario_hash(scenario: Scenario) -> str:
    """A short fingerprint of what is simulated (the resolved scenario)."""
    data = scenario.model_dump(mode="json", by_alias=True)
    if scenario.arrivals is not None:
        data["arrivals"]["content"] = trace_digest(scenario.arrivals.trace)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
