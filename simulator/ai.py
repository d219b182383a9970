"""AI scoring on an equal-variance binormal ROC.

A non-diseased study's latent score is N(0, 1), a diseased one's N(d', 1); the service flags scores above
a threshold t. So specificity = Phi(t), sensitivity = 1 - Phi(t - d'), and AUC = Phi(d' / sqrt 2).
The score the worklist sees is the posterior probability of disease given the latent score and the
study type's prevalence (Bayes' rule with the two normal densities).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .scenario import AIService

__all__ = ["OperatingPoint", "operating_point", "score", "flag_of_posterior"]


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    separation: float  # d'
    threshold: float  # t, on the latent scale
    sensitivity: float
    specificity: float
    auc: float


def operating_point(service: AIService) -> OperatingPoint:
    """The binormal (d', t) of a service given as (Se, Sp), (AUC, Sp) or (AUC, Se)."""
    # The standard normal's quantile and distribution functions, as scipy.stats.norm computes them, from
    # scipy.special: a third of the import time of scipy.stats, the same numbers.
    from scipy.special import ndtr, ndtri

    if service.auc is None:
        threshold = ndtri(service.specificity)
        separation = threshold + ndtri(service.sensitivity)
    else:
        separation = math.sqrt(2.0) * ndtri(service.auc)
        if service.specificity is not None:
            threshold = ndtri(service.specificity)
        else:
            threshold = separation - ndtri(service.sensitivity)
    return OperatingPoint(
        separation=float(separation),
        threshold=float(threshold),
        sensitivity=float(ndtr(-(threshold - separation))),
        specificity=float(ndtr(threshold)),
        auc=float(ndtr(separation / math.sqrt(2.0))),
    )


def score(
    diseased: np.ndarray, point: OperatingPoint, prevalence: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(posterior probability of disease, flag) for each study, given its ground truth."""
    latent = rng.standard_normal(diseased.shape[0]) + point.separation * diseased
    positive = latent > point.threshold
    if prevalence <= 0.0 or prevalence >= 1.0:
        return np.full(latent.shape, float(prevalence >= 1.0)), positive
    return _posterior(latent, point, prevalence), positive


def _posterior(latent: np.ndarray, point: OperatingPoint, prevalence: float) -> np.ndarray:
    from scipy.special import expit

    d = point.separation
    return expit(math.log(prevalence / (1.0 - prevalence)) + d * latent - d * d / 2.0)


def flag_of_posterior(posterior: np.ndarray, point: OperatingPoint, prevalence: float) -> np.ndarray:
    """The flag of studies known only by their posterior (e.g. from a trace): the posterior rises with the
    latent score, so the flag is the posterior above that of the threshold."""
    if prevalence <= 0.0 or prevalence >= 1.0:
        return posterior > 0.5
    return posterior > _posterior(np.array([point.threshold]), point, prevalence)[0]
