"""Small synthetic images: a body outline on a dark field, and a bright round lesion when diseased."""
from __future__ import annotations

import numpy as np

__all__ = ["phantom"]


def phantom(rows: int, columns: int, diseased: bool, seed: int, slice_fraction: float = 0.5) -> np.ndarray:
    """A 12-bit image (uint16). The lesion's place is drawn from `seed`; it shows on the middle slices."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:columns]
    cy, cx = rows / 2.0, columns / 2.0
    body = ((y - cy) / (0.42 * rows)) ** 2 + ((x - cx) / (0.38 * columns)) ** 2 <= 1.0
    image = np.where(body, 900.0, 40.0) + rng.normal(0.0, 25.0, (rows, columns))
    if diseased and 0.25 <= slice_fraction <= 0.75:
        ly, lx = cy + rng.uniform(-0.2, 0.2) * rows, cx + rng.uniform(-0.2, 0.2) * columns
        radius = rng.uniform(0.04, 0.08) * min(rows, columns)
        image[(y - ly) ** 2 + (x - lx) ** 2 <= radius ** 2] += 1500.0
    return np.clip(image, 0, 4095).astype(np.uint16)
