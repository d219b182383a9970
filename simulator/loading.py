"""Scenario files: where a name is found (bundled scenarios), reading one safely, `extends:` and fragments,
and writing a resolved scenario back. `prepare.py` turns what is read here into a checked `Scenario`."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ScenarioError
from .safe_yaml import MAX_BYTES, load_text

if TYPE_CHECKING:
    from .scenario import Scenario

__all__ = ["bundled_scenarios", "resolve_path", "scenario_data", "scenario_hash", "dump_scenario", "resolved_data", "read_yaml",
           "merge_fragment",
           "with_base"]


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
    """The parsed YAML of a file (read by `safe_yaml`: bounded, no surprises), or a ScenarioError naming it."""
    source = str(path)
    try:
        with open(path, "rb") as stream:
            payload = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(source, [("", "no such file (bundled scenarios: " + ", ".join(bundled_scenarios()) + ")")]) from None
    except IsADirectoryError:
        kept = Path(path) / "scenario.yaml"
        said = f"; a run folder keeps its scenario in {kept}" if kept.is_file() else ""
        raise ScenarioError(source, [("", f"a folder, not a YAML file{said}")]) from None
    except OSError as exc:
        raise ScenarioError(source, [("", f"cannot read: {exc.strerror or exc}")]) from None
    if payload.startswith(b"PAR1"):
        raise ScenarioError(source, [("", "a Parquet table (rows radsim wrote), not a YAML file")])
    return load_text(payload, source)


def merge_fragment(data: Mapping[str, Any], fragment: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with a scenario fragment laid over it: mappings merge key by key, anything else is replaced."""
    merged = dict(data)
    for key, value in fragment.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_fragment(merged[key], value)
        else:
            merged[key] = value
    return merged


def _absolute(file: str, path: Path) -> str:
    """A path relative to the file it is written in, made absolute."""
    resolved = Path(file).expanduser()
    return str(resolved if resolved.is_absolute() else (path.parent / resolved).resolve())


def _anchored(data: Any, path: Path) -> Any:
    """Data whose `arrivals.trace`, `arrivals.site_map` and `ai_services.*.roc.file` (paths relative to the
    file they are written in) are made absolute."""
    services = data.get("ai_services") if isinstance(data, Mapping) else None
    if isinstance(services, Mapping):
        anchored = {name: {**service, "roc": {**service["roc"], "file": _absolute(service["roc"]["file"], path)}}
                    if isinstance(service, Mapping) and isinstance(service.get("roc"), Mapping)
                    and isinstance(service["roc"].get("file"), str) else service
                    for name, service in services.items()}
        data = {**data, "ai_services": anchored}
    arrivals = data.get("arrivals") if isinstance(data, Mapping) else None
    for key in ("trace", "site_map"):
        if isinstance(arrivals, Mapping) and isinstance(arrivals.get(key), str):
            arrivals = {**arrivals, key: _absolute(arrivals[key], path)}
            data = {**data, "arrivals": arrivals}
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


def scenario_data(source: str | Path) -> Any:
    """The data of a scenario file or bundled name as every reader of scenarios takes it: read safely, with
    what it `extends:` laid under it and its relative paths made absolute (not yet checked: `prepare`)."""
    path = resolve_path(source)
    data = read_yaml(path)
    _not_a_scenario(data, path)
    return with_base(data, path, ())


def _not_a_scenario(data: Any, path: Path) -> None:
    """A file radsim wrote that is not a scenario, named as what it is (not as a scenario missing its keys)."""
    if not isinstance(data, Mapping):
        return
    software = data.get("software")
    if data.get("format") == "radsim-baseline/1":
        what = ("a baseline (`radsim baseline save`), not a scenario: `radsim baseline check SCENARIO --baseline "
                f"{path}` checks a run against it")
    elif isinstance(software, Mapping) and software.get("name") == "radsim" and "metrics" in data:
        what = f"a run's summary, not a scenario: the run keeps its scenario in {path.parent / 'scenario.yaml'}"
    else:
        return
    raise ScenarioError(str(path), [("", what)])


def dump_scenario(scenario: "Scenario") -> str:
    """The fully resolved scenario as YAML: defaults filled in, overrides applied."""
    import yaml

    # libyaml's emitter where PyYAML has it: the same text (every bundled scenario compared), ~10x faster on
    # a scenario of 100,000 empirical values.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(resolved_data(scenario), Dumper=dumper, sort_keys=False, allow_unicode=True, width=120)


def resolved_data(scenario: "Scenario") -> dict[str, Any]:
    """The scenario as plain data that validates back to the same scenario (what scenario.yaml holds)."""
    return _plain(scenario)


def _plain(value: Any) -> Any:
    """JSON-like data of a model, leaving out None where None is the default anyway (keeping an explicit
    null that switches a default off, such as `aging.max_wait: null`)."""
    from pydantic import BaseModel

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


# Optional fields added since fingerprints were first stored (baselines, sweeps): left out while unset, so
# that a new version does not change the fingerprint of every scenario that does not use them.
_NEWER_UNSET = {"dates": None, "ingest_minutes": None}


def _without_newer_unset(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_newer_unset(v) for k, v in value.items()
                if not (k in _NEWER_UNSET and v == _NEWER_UNSET[k])}
    if isinstance(value, list):
        return [_without_newer_unset(v) for v in value]
    return value


def scenario_hash(scenario: "Scenario", policy: bool = True) -> str:
    """A short fingerprint of what is simulated (the resolved scenario); without `policy`, of everything
    but the policy (what a policy change leaves alone: the default policy stands in for it)."""
    data = _without_newer_unset(scenario.model_dump(mode="json", by_alias=True))
    if not policy:
        data["policy"] = type(scenario.policy)().model_dump(mode="json", by_alias=True)
    if scenario.arrivals is not None:
        from .trace_arrivals import trace_digest

        data["arrivals"]["content"] = trace_digest(scenario.arrivals.trace)
        if scenario.arrivals.site_map is not None:
            data["arrivals"]["site_map_content"] = trace_digest(scenario.arrivals.site_map)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
