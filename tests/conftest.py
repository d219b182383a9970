"""Shared helpers: small scenarios built in code, so each test states the few values it depends on."""
from __future__ import annotations

import copy
import os
from typing import Any

import pytest
from hypothesis import settings

from simulator import Scenario, parse_scenario


# CI explores the same examples on every run, so a red build always means a change, never a new draw;
# local runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def base_dict() -> dict[str, Any]:
    """An M/M/2 chest-CT desk with an AI, like the CONTRACT example but shorter."""
    return {
        "name": "test",
        "start": "2026-02-02T00:00",
        "horizon_days": 10,
        "warmup_days": 1,
        "seed": 7,
        "study_types": {
            "chest_ct": {
                "modality": "CT",
                "arrivals": {"rate_per_hour": 9.6},
                "prevalence": 0.1,
                "read_minutes": {"dist": "exponential", "mean": 10},
                "ai": "ct_ai",
            }
        },
        "ai_services": {"ct_ai": {"sensitivity": 0.9, "specificity": 0.9}},
        "pools": {"readers": {"reads": ["chest_ct"], "shifts": [{"start": "00:00", "end": "24:00", "staff": 2}]}},
        "policy": {"triage": "ai_priority"},
        "targets": {"stat": {"minutes": 15}, "ai_positive": {"minutes": 60}, "routine": {"hours": 24}},
    }


def column(cohort: Any, name: str) -> Any:
    """A cohort's column by its name in studies.parquet's words, wherever its record keeps it (the draws'
    arrivals, truth or reading, or the upstream stations' result)."""
    for record in (cohort.upstream, cohort.draws.arrivals, cohort.draws.truth, cohort.draws.reading, cohort.draws):
        if name in getattr(record, "__dataclass_fields__", {}):
            return getattr(record, name)
    raise AttributeError(name)


def make(data: dict[str, Any] | None = None, **top: Any) -> Scenario:
    data = copy.deepcopy(data if data is not None else base_dict())
    data.update(top)
    return parse_scenario(data, "test.yaml")


def assert_refused(data: dict[str, Any], path: str, message: str) -> None:
    """Parsing `data` is bad input naming the dotted `path` and saying `message`."""
    from simulator import ScenarioError

    with pytest.raises(ScenarioError) as caught:
        make(data)
    assert path in str(caught.value) and message in str(caught.value), str(caught.value)


@pytest.fixture(autouse=True)
def tests_code_allowed(monkeypatch) -> None:
    """The tests' own policies and routers (tests/policies_for_tests.py, ...) are allowed, as `--allow-code tests`
    would allow them; each test starts from this list, whatever an earlier one granted. Tests of refusals
    set the variable themselves."""
    from simulator.triage.resolver import ALLOW_ENV

    monkeypatch.setenv(ALLOW_ENV, "tests")
    monkeypatch.delenv("RADSIM_ALLOWED_POLICIES", raising=False)


@pytest.fixture
def scenario() -> Scenario:
    return make()


@pytest.fixture(scope="session")
def dicom_records():
    """Study records for DICOM tests: a few of each modality of the reference centre's first day (scored
    and not, flagged and not), and the variants it lacks: a patient age, CR, a site name in Cyrillic, a
    modality with no object of its own."""
    import dataclasses

    from simulator import load_scenario, run_scenario
    from synthetic_dicom.generate import records_from_run

    scenario = load_scenario("moscow_reference_center", ["horizon_days=1", "warmup_days=0"])
    run = run_scenario(scenario, 1, workers=1)
    chosen = []
    for record in records_from_run(run.studies, scenario):
        if sum(r.modality == record.modality and (r.ai_score is None) == (record.ai_score is None) and
               r.ai_positive == record.ai_positive for r in chosen) < 2:
            chosen.append(record)
    assert {"DX", "CT", "MG", "MR"} <= {r.modality for r in chosen}
    assert any(r.ai_score is None for r in chosen) and any(r.ai_positive for r in chosen)
    dx = next(r for r in chosen if r.modality == "DX" and r.ai_score is not None)
    chosen += [dataclasses.replace(dx, study_id=dx.study_id + "1", patient_age=63.5),
               dataclasses.replace(dx, study_id=dx.study_id + "2", modality="CR", ai_score=None, ai_positive=None),
               dataclasses.replace(dx, study_id=dx.study_id + "3", institution="Поликлиника № 5"),
               dataclasses.replace(dx, study_id=dx.study_id + "4", modality="OT", body_part=None)]
    return chosen
