"""Fingerprints of the model's outputs, so that a rewrite of the model is proven not to change it: every
column of studies.parquet, readers.parquet and stations.parquet, replication by replication, for every
bundled scenario (three days, two replications) and variants that switch on each dispatch path (pull,
push, pre-emption, routing rules, double reads, audits, second opinions, absences).

The stored fingerprints (`tests/model_digests.json`) are a regression lock, not a validation: they say
"the same as before", never "right". Write them again only for a change meant to change the model:

    python -m tests.model_digests --write
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

STORED = Path(__file__).with_name("model_digests.json")
SHORT = ["horizon_days=3", "warmup_days=0.5"]
CASES: dict[str, tuple[str, list[str], int]] = {  # name -> (scenario, overrides, replications)
    "reference_center": ("moscow_reference_center", SHORT, 2),
    "reference_center_preemptive": ("moscow_reference_center", [*SHORT, "policy.preemptive=true"], 1),
    "city_day": ("moscow_city", ["horizon_days=1", "warmup_days=0"], 1),
    "district_pull": ("examples/district_network", SHORT, 2),
    "district_push": ("examples/district_network", [*SHORT, "routing.mode=push"], 2),
    "district_push_preemptive": ("examples/district_network",
                                 [*SHORT, "routing.mode=push", "policy.triage=ai_priority",
                                  "policy.preemptive=true"], 1),
    "cxr_day_night": ("examples/cxr_day_night", SHORT, 2),
    "mmc_ai_triage": ("examples/mmc_ai_triage", SHORT, 2),
    "mm1_preemptive": ("validation/mm1_preemptive", SHORT, 2),
    "mmc_three_classes": ("validation/mmc_three_classes", SHORT, 1),
    "shifts_day_night_psa": ("validation/shifts_day_night_psa", SHORT, 1),
}


def _bundled() -> dict[str, tuple[str, list[str], int]]:
    from simulator.loading import bundled_scenarios

    return {f"bundled/{name}": (name, ["horizon_days=3", "warmup_days=0"], 2) for name in bundled_scenarios()}


CASES.update(_bundled())


def _column_digest(column: pa.ChunkedArray) -> str:
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        values = np.ascontiguousarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
        values = np.where(np.isnan(values), -7.0e300, values)  # one NaN whatever its bits
        data = values.tobytes()
    else:
        data = "\x1f".join(map(repr, column.to_pylist())).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def _digests(table: pa.Table) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for replication in sorted(set(table.column("replication").to_pylist())):
        part = table.filter(pc.equal(table.column("replication"), replication))
        out[str(replication)] = {name: _column_digest(part.column(name)) for name in part.column_names}
    return out


def case_digests(name: str) -> dict[str, dict]:
    from simulator import load_scenario, run_scenario

    scenario_name, overrides, replications = CASES[name]
    run = run_scenario(load_scenario(scenario_name, overrides), replications, workers=1, summarise=False)
    tables = {"studies": _digests(run.studies), "readers": _digests(run.duties)}  # readers.parquet: the duties
    if run.stations is not None:
        tables["stations"] = _digests(run.stations)
    return tables


def main() -> None:
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m tests.model_digests --write  (only for a change meant to change the model)")
    STORED.write_text(json.dumps({name: case_digests(name) for name in CASES}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {STORED}")


if __name__ == "__main__":
    main()
