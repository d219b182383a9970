"""Baselines: a run's metrics, per subgroup and replication, kept in a small file in the user's repository,
and a check of later code against it with per-metric tolerances.

`check` reruns the scenario with the baseline's seed and replications, so the studies, AI scores and
reading times are the baseline's own (common random numbers): only the code and the scenario's policy or
staffing may differ, and the per-replication differences are paired. A metric regressed when its mean got
worse by more than its tolerance and the paired 95% CI of the change lies wholly on the worse side (with
one replication there is no CI, and the mean alone decides).
"""
from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError, model_validator

from . import __version__
from .comparison import COMPARED_SPLITS
from .errors import ScenarioError
from .experiment import Run, run_scenario
from .loading import read_yaml, scenario_hash
from .metrics import BETTER, StudyColumns, confidence_interval, key_of, replication_values, subgroups
from .files import write_text
from .scenario import Scenario
from .triage import KINDS, REFERRALS

__all__ = ["Tolerance", "Tolerances", "Finding", "baseline_document", "save_baseline", "load_baseline",
           "load_tolerances", "check_run", "check_baseline", "subgroup_label", "world_hash", "FORMAT"]

FORMAT = "radsim-baseline/1"
CHECKED = tuple(BETTER)


class Tolerance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rel_tol: float | None = Field(default=None, ge=0.0)
    abs_tol: float | None = Field(default=None, ge=0.0)
    ignore: bool = False

    @model_validator(mode="after")
    def _one(self) -> "Tolerance":
        if not self.ignore and (self.rel_tol is None) == (self.abs_tol is None):
            raise ValueError("give exactly one of rel_tol or abs_tol (or ignore: true)")
        return self

    def allowed(self, baseline: float) -> float:
        return self.abs_tol if self.abs_tol is not None else self.rel_tol * abs(baseline)  # type: ignore[operator]


DEFAULT_METRICS = {
    "sla_met_fraction": Tolerance(abs_tol=0.01), "reported_fraction": Tolerance(abs_tol=0.005),
    "max_tat_minutes": Tolerance(rel_tol=0.25),  # one study's fate: noisy by nature
}


class Tolerances(BaseModel):
    """How much worse each metric may get. The most specific entry wins: `subgroups` (keyed like
    'p95_tat_minutes[ai_positive=true]'), then `metrics`, then `default`.

    A file is laid over the defaults: its `default` replaces the default's 5%, its `metrics` entries replace
    those of the same metric and leave the others (`DEFAULT_METRICS`) as they are."""

    model_config = ConfigDict(extra="forbid")

    default: Tolerance = Tolerance(rel_tol=0.05)
    metrics: dict[str, Tolerance] = dict(DEFAULT_METRICS)
    subgroups: dict[str, Tolerance] = {}

    def of(self, metric: str, where: dict[str, Any]) -> Tolerance:
        return self.subgroups.get(subgroup_label(metric, where)) or self.metrics.get(metric) or self.default


def subgroup_label(metric: str, where: dict[str, Any]) -> str:
    """'metric[split=value,...]', or the metric alone for all items; booleans as true/false."""
    if not where:
        return metric
    inner = ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in sorted(where.items()))
    return f"{metric}[{inner}]"


@dataclass(frozen=True)
class Finding:
    metric: str
    where: dict[str, Any]
    baseline: float | None
    current: float | None
    change: float | None  # mean of current - baseline over paired replications
    ci_low: float | None
    ci_high: float | None
    allowed: float | None  # how much worse it may get, in the metric's unit
    verdict: str  # ok | regression | improved | missing | ignored

    @property
    def label(self) -> str:
        return subgroup_label(self.metric, self.where)

    @property
    def failed(self) -> bool:
        return self.verdict in ("regression", "missing")


def _values(run: Run) -> dict[tuple[str, tuple], np.ndarray]:
    cols = StudyColumns(run.studies, run.scenario)
    return replication_values(cols, subgroups(cols, COMPARED_SPLITS, informative=True), CHECKED, range(run.replications))


def _json_value(v: float) -> float | None:
    return None if math.isnan(v) else round(float(v), 9)


def baseline_document(run: Run) -> dict[str, Any]:
    entries = []
    for (metric, where), values in _values(run).items():
        ci = confidence_interval(values)
        entries.append({"metric": metric, "where": dict(where), "mean": ci["mean"],
                        "values": [_json_value(v) for v in values]})
    return {
        "format": FORMAT, "scenario": run.scenario.name, "scenario_hash": scenario_hash(run.scenario),
        "world_hash": world_hash(run.scenario),
        "policy": run.scenario.policy.triage, "seed": run.seed, "replications": run.replications,
        "radsim_version": __version__, "saved": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "metrics": entries,
    }


def world_hash(scenario: Scenario) -> str:
    """A fingerprint of the scenario apart from its policy: what a policy change leaves alone."""
    return scenario_hash(scenario, policy=False)


def claim_baseline(path: Path) -> None:
    """Check before running that `path` is new or an earlier baseline (exit 2 otherwise)."""
    from .files import claim_file

    claim_file(path, _is_baseline)


def save_baseline(run: Run, path: Path) -> None:
    write_text(path, json.dumps(baseline_document(run), indent=1) + "\n", _is_baseline)


def _is_baseline(path: Path) -> bool:
    return json.loads(Path(path).read_text(encoding="utf-8")).get("format") == FORMAT


class _Entry(BaseModel):
    """One metric of a subgroup in a baseline file, as `baseline_document` writes it."""

    metric: str
    where: dict[str, StrictBool | StrictStr] = {}
    mean: float | None = None
    values: list[float | None]


class _Document(BaseModel):
    """What a check reads of a baseline file: a file edited by hand or damaged is refused naming the field,
    not read into a crash."""

    seed: StrictInt = Field(ge=0, le=2**63 - 1)
    replications: StrictInt = Field(ge=2, le=10_000)
    metrics: list[_Entry]


def load_baseline(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(str(path), [("", "no such baseline file (make one with `radsim baseline save`)")]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioError(str(path), [("", f"not a baseline file: {exc}")]) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ScenarioError(str(path), [("format", f"not a {FORMAT} file")])
    try:
        checked = _Document.model_validate(document)
    except ValidationError as exc:
        from .scenario.words import explain

        raise ScenarioError(str(path), [(".".join(str(p) for p in err["loc"]), explain(err, _Document))
                                        for err in exc.errors()]) from None
    problems = []
    for i, entry in enumerate(checked.metrics):
        if entry.metric not in CHECKED:
            problems.append((f"metrics.{i}.metric", f"not a metric a baseline checks: {entry.metric!r}"))
        if len(entry.values) != checked.replications:
            problems.append((f"metrics.{i}.values", f"{len(entry.values)} values for {checked.replications} "
                                                    "replications"))
    if problems:
        raise ScenarioError(str(path), problems)
    return {**document, **checked.model_dump()}  # (what a check reads, as validated: defaults filled in)


def load_tolerances(path: Path | None) -> Tolerances:
    """Tolerances from a YAML file laid over the defaults; an unknown metric or subgroup key is bad input
    (exit 2, naming the file and the entry), never silently ignored."""
    if path is None:
        return Tolerances()
    data = read_yaml(path)
    try:
        given = Tolerances.model_validate(data or {})
    except ValidationError as exc:
        from .scenario.words import explain

        problems = [(".".join(str(p) for p in err["loc"]), explain(err, Tolerances)) for err in exc.errors()]
        raise ScenarioError(str(path), problems) from None
    problems = []
    for name in given.metrics:
        if name not in CHECKED:
            problems.append((f"metrics.{name}", f"not a metric a baseline checks; these are: {', '.join(CHECKED)}"))
    for label in given.subgroups:
        metric, where, problem = _parse_label(label)
        if problem:
            problems.append((f"subgroups.{label}", problem))
    if problems:
        raise ScenarioError(str(path), problems)
    fields = (data or {}) if isinstance(data, dict) else {}
    return Tolerances(default=given.default, subgroups=given.subgroups,
                      metrics={**DEFAULT_METRICS, **(given.metrics if "metrics" in fields else {})})


def _parse_label(label: str) -> tuple[str, dict[str, str], str | None]:
    """'metric[split=value,...]' -> (metric, where, None), or a problem in words."""
    metric, bracket, rest = label.partition("[")
    if metric not in CHECKED:
        return metric, {}, f"unknown metric {metric!r}; a baseline checks: {', '.join(CHECKED)}"
    if not bracket:
        return metric, {}, None
    if not rest.endswith("]"):
        return metric, {}, "write a subgroup as metric[split=value] (a closing ] is missing)"
    where = {}
    for part in filter(None, rest[:-1].split(",")):
        key, eq, value = part.partition("=")
        if not eq or key.strip() not in COMPARED_SPLITS:
            return metric, {}, f"{part.strip()!r}: split by one of {', '.join(COMPARED_SPLITS)} as split=value"
        key, value = key.strip(), value.strip()
        allowed = _SPLIT_VALUES.get(key)
        if allowed is not None and value not in allowed:
            return metric, {}, f"{key}={value}: {key} is one of {', '.join(allowed)}"
        where[key] = value
    return metric, where, None


_SPLIT_VALUES = {"diseased": ("true", "false"), "ai_positive": ("true", "false"),
                 "referral": tuple(r.value for r in REFERRALS), "kind": tuple(k.value for k in KINDS)}


def check_run(baseline: dict[str, Any], run: Run, tolerances: Tolerances) -> list[Finding]:
    """Every baseline metric and subgroup against the run, worst first."""
    current = _values(run)
    findings = []
    for entry in baseline["metrics"]:
        metric, where = entry["metric"], entry["where"]
        base = np.array([math.nan if v is None else v for v in entry["values"]], dtype=float)
        now = current.get((metric, key_of(where)))
        tolerance = tolerances.of(metric, where)
        if now is None:
            findings.append(Finding(metric, where, entry["mean"], None, None, None, None, None,
                                    "ignored" if tolerance.ignore else "missing"))
            continue
        paired = ~np.isnan(base) & ~np.isnan(now)
        if not paired.any():
            continue
        ci = confidence_interval(now[paired] - base[paired])
        base_mean, now_mean = float(base[paired].mean()), float(now[paired].mean())
        change = float(ci["mean"])  # type: ignore[arg-type]
        worse = -change if BETTER[metric] == "higher" else change  # > 0: got worse
        if tolerance.ignore:
            findings.append(Finding(metric, where, base_mean, now_mean, change, ci["ci_low"], ci["ci_high"], None,
                                    "ignored"))
            continue
        allowed = tolerance.allowed(base_mean)
        if ci["ci_low"] is None:
            beyond_noise = True
        else:
            beyond_noise = not (ci["ci_low"] <= 0.0 <= ci["ci_high"])  # type: ignore[operator]
        if worse > allowed + 1e-12 and beyond_noise:
            verdict = "regression"
        elif worse < -allowed - 1e-12 and beyond_noise:
            verdict = "improved"
        else:
            verdict = "ok"
        findings.append(Finding(metric, where, base_mean, now_mean, change, ci["ci_low"], ci["ci_high"], allowed,
                                verdict))
    order = {"regression": 0, "missing": 1, "improved": 2, "ok": 3, "ignored": 4}
    return sorted(findings, key=lambda f: order[f.verdict])


def check_baseline(scenario: Scenario, baseline: dict[str, Any], tolerances: Tolerances | None = None,
                   workers: int | None = None) -> list[Finding]:
    """Run `scenario` on the baseline's seed and replications and check it against the baseline."""
    run = run_scenario(scenario, int(baseline["replications"]), int(baseline["seed"]), workers=workers,
                       summarise=False)
    return check_run(baseline, run, tolerances or Tolerances())

