"""The benchmarks' own yardstick (benchmarks/mmc_reference.py) is the shared reference loop's algorithm:
the same customers, classes and waits for the same seed, where the shared folder exists beside a clone."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench" / "mmc_reference.py"


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"yardstick_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_yardstick_agrees_with_cobham() -> None:
    own = load(ROOT / "benchmarks" / "mmc_reference.py")
    served = own.simulate(3, 60_000, 4, 1.0, 3.2, 0.3)
    waits = [sum(w for a, c, w in served if c == k and a > 500) / max(1, sum(1 for a, c, _ in served if c == k and a > 500))
             for k in (0, 1)]
    theory = own.cobham_waits(4, 1.0, [0.3 * 3.2, 0.7 * 3.2])
    assert abs(waits[0] - theory[0]) / theory[0] < 0.15 and abs(waits[1] - theory[1]) / theory[1] < 0.15


@pytest.mark.skipif(not SHARED.is_file(), reason="no ../shared/bench/mmc_reference.py beside this clone")
def test_the_yardstick_is_the_shared_reference_loop() -> None:
    own, shared = load(ROOT / "benchmarks" / "mmc_reference.py"), load(SHARED)
    for seed in (1, 2):
        assert own.simulate(seed, 20_000, 10, 1.0, 8.5, 0.2) == shared.simulate(seed, 20_000, 10, 1.0, 8.5, 0.2)
    assert own.cobham_waits(10, 1.0, [1.7, 6.8]) == shared.cobham_waits(10, 1.0, [1.7, 6.8])
