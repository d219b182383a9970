"""One vocabulary: every kind of work and order priority the docs name is accepted everywhere that takes
one (rules, targets, metric filters, tolerance files, the staffing optimiser's waivers), from one module."""
from __future__ import annotations

from pathlib import Path

import pytest

from simulator.baseline import _parse_label
from simulator.metrics import check_metric
from simulator.staffing import WAIVABLE
from simulator.triage import KINDS, REFERRALS, Rules, WorkItem

from .conftest import base_dict, make

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("kind", [k.value for k in KINDS])
def test_every_kind_is_accepted_everywhere(kind: str) -> None:
    data = base_dict()
    data["policy"] = {"triage": "rules", "rules": [{"when": {"kind": kind}, "class": "k"}], "else": {"class": "r"}}
    data["targets"][kind] = {"hours": 48}
    scenario = make(data)
    assert scenario.targets[kind].in_minutes == 2880
    assert Rules([{"when": {"kind": kind}, "class": "k"}], {"class": "r"}).classify(
        WorkItem(index=0, study_type="t", kind=kind)) == "k"
    check_metric("count", {"kind": kind})
    assert _parse_label(f"p95_tat_minutes[kind={kind}]")[2] is None
    assert kind in WAIVABLE
    for doc in ("contract.md", "metrics.md", "policies.md"):
        assert f"`{kind}`" in (DOCS / doc).read_text(encoding="utf-8"), (doc, kind)


@pytest.mark.parametrize("referral", [r.value for r in REFERRALS])
def test_every_order_priority_is_accepted_everywhere(referral: str) -> None:
    data = base_dict()
    data["policy"] = {"triage": "rules", "rules": [{"when": {"referral": referral}, "class": "k"}],
                      "else": {"class": "r"}}
    data["targets"][referral] = {"minutes": 30}
    assert make(data).targets[referral].in_minutes == 30
    check_metric("count", {"referral": referral})
    assert _parse_label(f"p95_tat_minutes[referral={referral}]")[2] is None
    assert referral in WAIVABLE
