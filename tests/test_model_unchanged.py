"""The model's outputs are what they were: every column of studies.parquet, readers.parquet and
stations.parquet, replication by replication, for every case in tests/model_digests.py (every bundled
scenario among them) (a regression lock: a change meant
to change the model writes the fingerprints again, and says so)."""
from __future__ import annotations

import json

import pytest

from tests.model_digests import CASES, STORED, case_digests


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_are_unchanged(name: str) -> None:
    stored = json.loads(STORED.read_text())[name]
    now = case_digests(name)
    assert set(now) == set(stored), f"{name}: tables {sorted(now)} against stored {sorted(stored)}"
    for table in stored:
        for replication, columns in stored[table].items():
            changed = sorted(column for column, digest in columns.items()
                             if now[table][replication].get(column) != digest)
            assert not changed, f"{name}: {table}.parquet replication {replication}: changed columns {changed}"
