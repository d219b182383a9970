"""Sampling the duration distributions of the scenario schema, in numpy blocks."""
from __future__ import annotations

import math

import numpy as np

from .scenario import Distribution, Empirical, Exponential, Fixed, Gamma, Lognormal

__all__ = ["sample", "mean_of", "scv_of"]


def sample(dist: Distribution, rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` independent draws in minutes."""
    if isinstance(dist, Exponential):
        return rng.exponential(dist.mean, n)
    if isinstance(dist, Lognormal):
        sigma2 = math.log1p(dist.cv**2)
        return rng.lognormal(math.log(dist.mean) - sigma2 / 2.0, math.sqrt(sigma2), n)
    if isinstance(dist, Gamma):
        shape = 1.0 / dist.cv**2
        return rng.gamma(shape, dist.mean / shape, n)
    if isinstance(dist, Fixed):
        return np.full(n, dist.value, dtype=float)
    if isinstance(dist, Empirical):
        return rng.choice(np.asarray(dist.values, dtype=float), n)
    raise TypeError(f"unknown distribution {dist!r}")


def mean_of(dist: Distribution) -> float:
    """The distribution's mean in minutes."""
    if isinstance(dist, Fixed):
        return dist.value
    if isinstance(dist, Empirical):
        return float(np.mean(dist.values))
    return dist.mean


def scv_of(dist: Distribution) -> float:
    """Squared coefficient of variation (1 for exponential, 0 for fixed), as queueing formulas want it."""
    if isinstance(dist, Exponential):
        return 1.0
    if isinstance(dist, (Lognormal, Gamma)):
        return dist.cv**2
    if isinstance(dist, Fixed):
        return 0.0
    values = np.asarray(dist.values, dtype=float)
    return float(values.var() / values.mean() ** 2) if values.mean() > 0 else 0.0
