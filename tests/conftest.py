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


def make(data: dict[str, Any] | None = None, **top: Any) -> Scenario:
    data = copy.deepcopy(data if data is not None else base_dict())
    data.update(top)
    return parse_scenario(data, "test.yaml")


@pytest.fixture
def scenario() -> Scenario:
    return make()
