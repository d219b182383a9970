"""An ROC curve's binormal fit: the straight line through its points on normal-deviate axes. Used where a
scenario is checked (a curve that does not rise is refused) and where the AI's operating point is made."""
from __future__ import annotations

import numpy as np

__all__ = ["fit_binormal"]


def fit_binormal(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(a, b) of Phi^-1(TPF) = a + b Phi^-1(FPF), least squares over the points strictly inside the unit
    square."""
    from scipy.special import ndtri

    inside = np.array([(f, t) for f, t in points if 0.0 < f < 1.0 and 0.0 < t < 1.0])
    x, y = ndtri(inside[:, 0]), ndtri(inside[:, 1])
    b, a = np.polyfit(x, y, 1)
    if not b > 0:
        raise ValueError(f"the points do not rise: fitted slope {b:.3g} on normal-deviate axes")
    return float(a), float(b)
