"""Small synthetic images: a body outline on a dark field, and a bright round lesion when diseased."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["phantom"]


@lru_cache(maxsize=8)
def _field(rows: int, columns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixel grid and the noiseless body of an image size (the same for every study)."""
    y, x = np.mgrid[0:rows, 0:columns]
    body = ((y - rows / 2.0) / (0.42 * rows)) ** 2 + ((x - columns / 2.0) / (0.38 * columns)) ** 2 <= 1.0
    return y, x, np.where(body, 900.0, 40.0)


def phantom(rows: int, columns: int, diseased: bool, seed: int, slice_fraction: float = 0.5) -> np.ndarray:
    """A 12-bit image (uint16). The lesion's place is drawn from `seed`; it shows on the middle slices."""
    rng = np.random.default_rng(seed)
    y, x, body = _field(rows, columns)
    image = body + rng.normal(0.0, 25.0, (rows, columns))
    if diseased and 0.25 <= slice_fraction <= 0.75:
        ly, lx = rows / 2.0 + rng.uniform(-0.2, 0.2) * rows, columns / 2.0 + rng.uniform(-0.2, 0.2) * columns
        radius = rng.uniform(0.04, 0.08) * min(rows, columns)
        image[(y - ly) ** 2 + (x - lx) ** 2 <= radius ** 2] += 1500.0
    return np.clip(image, 0, 4095).astype(np.uint16)
