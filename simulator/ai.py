"""AI scoring on a binormal ROC.

A non-diseased study's latent score is N(0, 1), a diseased one's N(d', s^2) (s = 1: the equal-variance
model a scenario's sensitivity, specificity and AUC describe); the service flags scores above a threshold
t. So specificity = Phi(t), sensitivity = 1 - Phi((t - d') / s), and AUC = Phi(d' / sqrt(1 + s^2)).
The score the worklist sees is the posterior probability of disease given the latent score and the
study type's prevalence (Bayes' rule with the two normal densities).

An ROC curve given as points (`roc: {points}`) is fitted the usual way for binormal curves: a straight
line through the points on normal-deviate axes, Phi^-1(TPF) = a + b Phi^-1(FPF), by least squares (Metz's
binormal model); then s = 1 / b and d' = a / b. With s != 1 the likelihood ratio is not monotone in the
score (the binormal "hook"), so a low score can carry a high posterior: the flag stays "score above t".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .roc import fit_binormal
from .scenario import AIService

__all__ = ["OperatingPoint", "operating_point", "fit_binormal", "score", "flag_of_posterior"]


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    separation: float  # d'
    threshold: float  # t, on the latent scale
    sensitivity: float
    specificity: float
    auc: float
    spread: float = 1.0  # s: the diseased scores' standard deviation (1: equal variance)


def operating_point(service: AIService) -> OperatingPoint:
    """The binormal (d', t) of a service given as (Se, Sp), (AUC, Sp) or (AUC, Se)."""
    # The standard normal's quantile and distribution functions, as scipy.stats.norm computes them, from
    # scipy.special: a third of the import time of scipy.stats, the same numbers.
    from scipy.special import ndtr, ndtri

    if service.roc is not None:
        a, b = fit_binormal(service.roc.points)
        spread, separation = 1.0 / b, a / b
        if service.threshold is not None:  # the score cut-off: its false-positive fraction on the curve
            threshold = ndtri(1.0 - service.roc.fpf_at(service.threshold))
        elif service.specificity is not None:
            threshold = ndtri(service.specificity)
        else:
            threshold = separation + spread * ndtri(1.0 - service.sensitivity)
        return OperatingPoint(separation=float(separation), threshold=float(threshold),
                              sensitivity=float(ndtr((separation - threshold) / spread)),
                              specificity=float(ndtr(threshold)),
                              auc=float(ndtr(a / math.sqrt(1.0 + b * b))), spread=float(spread))
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
    noise = rng.standard_normal(diseased.shape[0])
    if point.spread != 1.0:
        noise = np.where(diseased, noise * point.spread, noise)
    latent = noise + point.separation * diseased
    positive = latent > point.threshold
    if prevalence <= 0.0 or prevalence >= 1.0:
        return np.full(latent.shape, float(prevalence >= 1.0)), positive
    return _posterior(latent, point, prevalence), positive


def _posterior(latent: np.ndarray, point: OperatingPoint, prevalence: float) -> np.ndarray:
    from scipy.special import expit

    d, s = point.separation, point.spread
    if s != 1.0:  # log of the likelihood ratio of N(d, s^2) against N(0, 1)
        return expit(math.log(prevalence / (1.0 - prevalence)) - math.log(s) - (latent - d) ** 2 / (2.0 * s * s)
                     + latent * latent / 2.0)
    return expit(math.log(prevalence / (1.0 - prevalence)) + d * latent - d * d / 2.0)


def flag_of_posterior(posterior: np.ndarray, point: OperatingPoint, prevalence: float) -> np.ndarray:
    """The flag of studies known only by their posterior (e.g. from a trace): the posterior rises with the
    latent score, so the flag is the posterior above that of the threshold. (With an ROC-fitted service of
    unequal variance it rises only above the hook, far below any working threshold: the same rule.)"""
    if prevalence <= 0.0 or prevalence >= 1.0:
        return posterior > 0.5
    return posterior > _posterior(np.array([point.threshold]), point, prevalence)[0]
