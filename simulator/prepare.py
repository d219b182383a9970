"""The one way in: from a scenario source (a file, a bundled name, or parsed data), fragments, a policy
and `--set` overrides to a checked `Scenario`, or a `ScenarioError` that names the file (or the `--set`)
and the dotted path of each bad field.

Every command, the sweep planner, the staffing optimiser and the dashboard come through `prepare`, so a
check added here holds everywhere:
1. the YAML is read by `safe_yaml` (bounded, YAML 1.2 values, no duplicate keys);
2. `extends:` and fragments are laid over, then the policy and the overrides (an override may not invent a
   pool, study type, site or AI service by misspelling one: it is told which exist);
3. the schema and the cross-references are checked; a problem a `--set` caused is blamed on that `--set`;
4. code the scenario names goes through the resolver (allow-list, then "is it a policy class?") before
   anything of it runs;
5. the work the scenario asks for is estimated, and refused above `MAX_ITEMS` work items or
   `MAX_READER_DUTIES` reader duties per replication unless `allow_large` (nothing may exhaust the machine).
"""
from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ScenarioError
from .loading import _anchored, merge_fragment, read_yaml, resolve_path, scenario_data
from .safe_yaml import load_text
from .scenario.words import explain
from .scenario import (DAYS, MAX_DEVICE_GROUPS, MAX_SHIFTS, MAX_WINDOWS, DeviceOutage, Devices, Scenario, Shift,
                       Slowdown, Span, Window, check_references)

__all__ = ["prepare", "load_scenario", "parse_scenario", "with_overrides", "apply_overrides", "estimate", "Estimate",
           "MAX_ITEMS",
           "MAX_READER_DUTIES", "NAMED"]

MAX_ITEMS = 25_000_000  # work items per replication: a city year is ~7.3 M (~2 GB)
MAX_READER_DUTIES = 2_000_000  # readers x shift instances per replication
# Mappings whose keys the user names: an override may not create an entry by descending into a missing one.
NAMED = {"pools": "pool", "study_types": "study type", "sites": "site", "ai_services": "AI service"}


def prepare(source: str | Path | Mapping[str, Any], overrides: Iterable[str] = (), *,
            fragments: Iterable[str | Path] = (), policy: str | None = None, name: str | None = None,
            allow_large: bool = False, expectations: bool = True) -> Scenario:
    """A checked scenario from a file path or bundled name (or parsed data, labelled `name` in messages).

    `policy` replaces `policy.triage` (the `--policy` option); `allow_large` lifts the size limits. Code is
    checked against the allow-list of the environment (`triage/resolver.py`). `expectations=False`: a variant
    radsim makes only to compare with, to search or to look at (another policy, a roster, a day of a run),
    which nothing validates: the file's expectations (`expect:`, what theory gives its own policy and staff)
    are left out, not held against the variant (FIFO has none of the classes a priority expectation names;
    fewer readers may be overloaded). So are they where `policy` names another policy than the file's.
    """
    if isinstance(source, Mapping):
        data: Any = source
        label = name or "<scenario>"
    else:
        data = scenario_data(source)
        label = str(resolve_path(source))
    for fragment in fragments:
        part = _anchored(read_yaml(fragment), Path(fragment))
        if not isinstance(part, Mapping):
            raise ScenarioError(str(fragment), [("", "a scenario fragment must be a mapping of keys (e.g. policy: ...)")])
        if isinstance(data, Mapping):
            data = merge_fragment(data, part)
        label = f"{label} + {fragment}"
    if not isinstance(data, Mapping):
        raise ScenarioError(label, [("", "a scenario must be a mapping of keys (name, start, study_types, ...)")])
    given = [(override, f"--set {override}") for override in overrides]
    if policy is not None:
        given.append((f"policy.triage={policy}", f"--policy {policy}"))
        own = data.get("policy")
        if not (isinstance(own, Mapping) and own.get("triage") == policy):  # expectations are of the file's own
            expectations = False
    overrides = [override for override, _ in given]
    blame = _Blame(label, given)
    data = apply_overrides(data, overrides, label)
    # Top-level keys starting with "x-" hold YAML anchors for reuse (as in compose files); they are not data.
    data = {key: value for key, value in data.items() if not str(key).startswith("x-")
            and (expectations or key != "expect")}
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise blame.error([(_dotted(data, err["loc"]), _message(err)) for err in exc.errors()]) from None
    _check_structure(scenario, blame)
    problems = check_references(scenario)
    if problems:
        raise blame.error(problems)
    _check_expectations(scenario, blame)
    if scenario.arrivals is not None:  # a bad trace is bad input too: found now, not mid-run
        from .trace_arrivals import trace_arrivals

        trace_arrivals(scenario)
    _check_code(scenario, blame)
    if not allow_large:
        _check_size(scenario, blame)
    return scenario


def load_scenario(path: str | Path, overrides: Iterable[str] = (), fragments: Iterable[str | Path] = (),
                  **options: Any) -> Scenario:
    """Read, override and validate a scenario file (or bundled name): `prepare` for a path."""
    return prepare(path, overrides, fragments=fragments, **options)


def parse_scenario(data: Any, source: str = "<scenario>", overrides: Iterable[str] = (), **options: Any) -> Scenario:
    """Validate already-parsed data (a mapping), after applying `key.path=value` overrides."""
    if not isinstance(data, Mapping):
        raise ScenarioError(source, [("", "a scenario must be a mapping of keys (name, start, study_types, ...)")])
    return prepare(data, overrides, name=source, **options)


def policy_variant(scenario: Scenario, triage: str) -> Scenario:
    """The scenario under another triage policy, to compare with on the same studies (the FIFO comparison of
    `run` and the dashboard, the policies compared): without the file's expectations (`prepare`)."""
    return with_overrides(scenario, [f"policy.triage={triage}"], expectations=False)


def with_overrides(scenario: Scenario, overrides: Iterable[str], *, allow_large: bool = True,
                   expectations: bool = True) -> Scenario:
    """A change of a checked scenario, checked as a file is: its resolved data with `key.path=value`
    overrides applied, through `prepare` (the schema, the cross-checks, the code checks), so that nothing a
    command derives from a scenario (a FIFO variant, a roster of the search, a shorter horizon) skips a rule.
    A bad value is a ScenarioError naming the override. The size limits guard what users give; a change
    made by radsim's own code is held to them only when `allow_large` is False; `expectations` as `prepare`'s."""
    from .loading import resolved_data

    return prepare(resolved_data(scenario), list(overrides), name=scenario.name, allow_large=allow_large,
                   expectations=expectations)


# Overrides -----------------------------------------------------------------------------------------------
def apply_overrides(data: Mapping[str, Any], overrides: Iterable[str], source: str = "--set") -> dict[str, Any]:
    """A deep copy of `data` with each 'dotted.path=value' applied; values are read as YAML (safely)."""
    result = copy.deepcopy(dict(data))
    for override in overrides:
        key, sep, raw = override.partition("=")
        key = key.strip()
        blamed = f"--set {override}"
        if not sep or not key:
            raise ScenarioError("--set", [("", f"{override!r} is not key.path=value")])
        value = load_text(raw, blamed)
        parts = key.split(".")
        node: Any = result
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            where = ".".join(parts[: depth + 1])
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ScenarioError(blamed, [(where, f"no item {part} (the list has {len(node)}: 0 to {len(node) - 1})")])
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                    continue
                if part not in node:
                    collection = ".".join(parts[:depth])
                    if collection in NAMED:
                        known = ", ".join(map(str, node)) or "none"
                        raise ScenarioError(blamed, [(where, f"no {NAMED[collection]} {part!r} "
                                                      f"({collection}: {known})")])
                    node[part] = {}
                node = node[part]
            else:
                raise ScenarioError(blamed, [(where, "the value above this key is not a mapping or list")])
    return result


class _Blame:
    """Which input a problem at a dotted path comes from: the `--set` (or `--policy`) that wrote there,
    else the file."""

    def __init__(self, label: str, given: Sequence[tuple[str, str]]) -> None:
        """`given`: each override (key.path=value) and the option the user wrote it as."""
        self.label = label
        self.keys = [(override.partition("=")[0].strip(), shown) for override, shown in given]

    def source_of(self, path: str) -> str:
        for key, shown in reversed(self.keys):
            if path == key or path.startswith(key + ".") or key.startswith(path + "."):
                return shown
        return self.label

    def error(self, problems: list[tuple[str, str]]) -> ScenarioError:
        sources = {self.source_of(path) for path, _ in problems}
        if len(sources) == 1:
            return ScenarioError(sources.pop(), problems)
        return ScenarioError(self.label, [(path, message if self.source_of(path) == self.label else
                                           f"{message} (from {self.source_of(path)})") for path, message in problems])


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
    return explain(err, Scenario)


# Checks beyond the schema --------------------------------------------------------------------------------
def _check_expectations(scenario: Scenario, blame: _Blame) -> None:
    if not scenario.expect:
        return
    from .expectations import TheoryShapeError, expected_value
    from .metrics import UnknownMetric, check_metric

    problems = []
    for i, expectation in enumerate(scenario.expect):
        try:
            check_metric(expectation.metric, expectation.where)
            expected_value(scenario, expectation)
        except UnknownMetric as exc:
            problems.append((f"expect.{i}", str(exc)))
        except (TheoryShapeError, ValueError) as exc:
            problems.append((f"expect.{i}.value", f"{getattr(expectation.value, 'theory', '')}: {exc}"))
    if problems:
        raise blame.error(problems)


def _check_code(scenario: Scenario, blame: _Blame) -> None:
    """Every policy and router the scenario names is built once here, user code through the resolver (and
    its allow-list), so a bad or refused path is bad input before anything runs."""
    from .triage import PolicyError
    from .triage.resolver import is_import_path
    from .triage_config import policy_of, router_of

    triage, base = scenario.policy.triage, scenario.policy.aging.base
    if triage != "aging" and is_import_path(base):  # never imported; refused so that nothing is silently ignored
        raise blame.error([("policy.aging.base", f"names code ({base!r}) but policy.triage is {triage!r}, which does "
                            "not use it: remove it, or set policy.triage: aging")])
    if scenario.routing.router != "local_first":
        try:
            router_of(scenario)
        except PolicyError as exc:
            raise blame.error([("routing.router", str(exc))]) from None
    try:
        policy_of(scenario)
    except PolicyError as exc:
        # A built-in's options live in its own section (policy.score, ...); user code is named by a path.
        path = "policy.triage" if ":" in triage else \
            "policy.aging.base" if triage == "aging" and ":" in scenario.policy.aging.base else f"policy.{triage}"
        raise blame.error([(path, str(exc))]) from None


class Estimate:
    """What one replication of a scenario will hold, before it runs: expected work items and reader duties,
    and the field that contributes most of each."""

    def __init__(self, scenario: Scenario) -> None:
        days = scenario.horizon_days
        per_type = {name: sum(map(sum, t.arrivals.hourly_rates())) / 7.0 * days +
                    sum(span.length_minutes / b.every_minutes * len(span.days) / 7.0 * days * (1.0 - b.no_show)
                        for b in t.bookings for span in b.slots)
                    for name, t in scenario.study_types.items()}
        if scenario.arrivals is not None:
            from .trace_arrivals import trace_arrivals

            for name, trace in trace_arrivals(scenario).items():
                per_type[name] = float(trace.arrived_at.shape[0])
        primaries = sum(per_type.values())
        second = scenario.second_opinions.fraction if scenario.second_opinions is not None else 0.0
        doubled = sum(n for name, n in per_type.items() if scenario.study_types[name].double_reading is not None)
        self.items = primaries * (1.0 + second) + doubled
        self.biggest_type = max(per_type, key=per_type.get) if per_type else None
        duties: dict[str, float] = {}
        for pool_name, pool in scenario.pools.items():
            for i, shift in enumerate(pool.shifts):
                instances = days * len(shift.days) / len(DAYS) + 1
                duties[f"pools.{pool_name}.shifts.{i}.staff"] = shift.staff * instances
        self.reader_duties = sum(duties.values())
        self.biggest_shift = max(duties, key=duties.get) if duties else None
        self.stations = scenario.has_stations()

    @property
    def gigabytes(self) -> float:
        """Rough peak memory of the process that runs one replication, never below it (the workers' fit
        relies on it): ~160 bytes a work item, ~245 where studies pass upstream stations (their pass holds
        more a study), ~1 kB a reader duty, and ~0.35 GB of its own (the libraries). Measured peaks, one
        replication in one process: the city year 1.55 GB (this says 1.61), the network city year 2.14 GB
        (2.24); five city years 1.96 GB (6.67: a replication of 10 M studies or more maps its horizon's
        arrays from temporary files, `simulator/mapped.py`, and holds a week of it: the estimate is far above
        it there, and safe); docs/performance.md."""
        per_item = 245.0 if self.stations else 160.0
        return (self.items * per_item + self.reader_duties * 1000.0) / 1e9 + 0.35


def estimate(scenario: Scenario) -> Estimate:
    return Estimate(scenario)


def _instances(value: Any, kinds: tuple[type, ...], counts: dict[type, int]) -> None:
    """Instances of `kinds` anywhere in a scenario's models, lists and mappings."""
    if isinstance(value, kinds):
        counts[type(value)] = counts.get(type(value), 0) + 1
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            inner = getattr(value, name)
            if isinstance(inner, (BaseModel, list, dict)):
                _instances(inner, kinds, counts)
    elif isinstance(value, list) and value and isinstance(value[0], (BaseModel, list, dict)):
        for inner in value:
            _instances(inner, kinds, counts)
    elif isinstance(value, dict):
        for inner in value.values():
            if isinstance(inner, (BaseModel, list, dict)):
                _instances(inner, kinds, counts)


def _check_structure(scenario: Scenario, blame: _Blame) -> None:
    """The limits on the whole scenario's structure (each list is bounded by the schema; together, here)."""
    counts: dict[type, int] = {}
    _instances(scenario, (Shift, Span, Window, DeviceOutage, Slowdown, Devices), counts)
    shifts = counts.get(Shift, 0)
    windows = sum(n for kind, n in counts.items() if kind not in (Shift, Devices))
    problems = []
    if shifts > MAX_SHIFTS:
        problems.append(("pools", f"{shifts:,} shift entries in all pools: over the limit of {MAX_SHIFTS:,} "
                         "(docs/contract.md, Limits); give a shift's days or dates in one entry"))
    if windows > MAX_WINDOWS:
        problems.append(("sites", f"{windows:,} time windows (opening hours, booking slots, outages, slowdowns) in "
                         f"all: over the limit of {MAX_WINDOWS:,} (docs/contract.md, Limits)"))
    if counts.get(Devices, 0) > MAX_DEVICE_GROUPS:
        problems.append(("sites", f"{counts[Devices]:,} groups of devices (a site's devices of one modality): over "
                         f"the limit of {MAX_DEVICE_GROUPS:,} (docs/contract.md, Limits)"))
    if problems:
        raise blame.error(problems)


def _check_size(scenario: Scenario, blame: _Blame) -> None:
    size = Estimate(scenario)
    problems = []
    if size.items > MAX_ITEMS:
        where = f"study_types.{size.biggest_type}.arrivals" if size.biggest_type else "study_types"
        problems.append((where, f"about {_count(size.items)} work items per replication (~{size.gigabytes:.0f} GB of "
                         f"memory) over {scenario.horizon_days:g} days: over the limit of {_count(MAX_ITEMS)}; check "
                         "the rates, or pass --allow-large to run it anyway"))
    if size.reader_duties > MAX_READER_DUTIES:
        problems.append((size.biggest_shift or "pools", f"about {_count(size.reader_duties)} reader duties per "
                         f"replication: over the limit of {_count(MAX_READER_DUTIES)}; check the staff numbers, "
                         "or pass --allow-large to run it anyway"))
    if problems:
        raise blame.error(problems)


def _count(n: float) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.1f} billion"
    if n >= 1e6:
        return f"{n / 1e6:.1f} M"
    return f"{math.ceil(n):,}"
