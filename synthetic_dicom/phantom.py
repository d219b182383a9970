"""Small synthetic images: an outline of the anatomy on a dark field, and a bright round lesion inside
the organ read when the study is diseased. Chest: body, two darker lung fields and the mediastinum
between them; breast: a half ellipse against the chest wall (on the image's left for a right breast,
as views are hung); anything else: a body outline."""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np

__all__ = ["phantom", "Anatomy"]

Anatomy = Literal["body", "chest", "breast_R", "breast_L"]


@lru_cache(maxsize=16)
def _field(rows: int, columns: int, anatomy: Anatomy) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pixel grid, the noiseless image and where a lesion may sit (the same for every study)."""
    y, x = np.mgrid[0:rows, 0:columns]
    v, u = (y + 0.5) / rows, (x + 0.5) / columns  # 0..1 down and across
    if anatomy.startswith("breast"):
        wall = 0.0 if anatomy == "breast_R" else 1.0
        tissue = ((u - wall) / 0.62) ** 2 + ((v - 0.5) / 0.45) ** 2 <= 1.0
        image = np.where(tissue, 700.0 + 300.0 * (1.0 - np.abs(u - wall)), 40.0)
        return y, x, image, tissue
    body = ((v - 0.5) / 0.42) ** 2 + ((u - 0.5) / 0.38) ** 2 <= 1.0
    image = np.where(body, 900.0, 40.0)
    if anatomy == "chest":
        lungs = (((v - 0.47) / 0.3) ** 2 + ((np.abs(u - 0.5) - 0.16) / 0.11) ** 2 <= 1.0) & body
        image = np.where(lungs, 350.0, image)
        return y, x, image, lungs
    return y, x, image, body


def phantom(rows: int, columns: int, diseased: bool, seed: int, slice_fraction: float = 0.5,
            anatomy: Anatomy = "body") -> np.ndarray:
    """A 12-bit image (uint16). The lesion's place is drawn from `seed` inside the organ; it shows on the
    middle slices."""
    rng = np.random.default_rng(seed)
    y, x, base, organ = _field(rows, columns, anatomy)
    image = base + rng.normal(0.0, 25.0, (rows, columns))
    if diseased and 0.25 <= slice_fraction <= 0.75:
        inside = np.flatnonzero(organ)
        centre = inside[rng.integers(inside.size)]
        ly, lx = divmod(int(centre), columns)
        radius = rng.uniform(0.04, 0.08) * min(rows, columns)
        image[(y - ly) ** 2 + (x - lx) ** 2 <= radius ** 2] += 1500.0
    return np.clip(image, 0, 4095).astype(np.uint16)
