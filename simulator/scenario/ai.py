"""AI services: an operating point, an AUC or an ROC curve, latency, failures and outages, GPU workers."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from .durations import ZERO, Distribution
from .values import MAX_ENTRIES, Probability, Strict, Whole, _number
from .windows import Window

__all__ = ["AIService", "RocCurve", "UnitInterval"]


# AI, ingest -------------------------------------------------------------------------------------------
UnitInterval = Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=1.0)]


def _roc_file(data: Any) -> Any:
    """`roc: {file: roc.csv}`: the points (and thresholds) read from a CSV with a header row `fpf,tpf` and
    optionally `threshold` (one operating point a row), as vendors and papers publish them. The path is
    made absolute against the scenario file when it is loaded (simulator/loading.py)."""
    if not isinstance(data, dict) or not isinstance(data.get("file"), str):
        return data
    import csv

    path = Path(data["file"])
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"cannot read the ROC file {path}: {exc}") from None
    if not rows or not {"fpf", "tpf"} <= set(rows[0]):
        raise ValueError(f"{path}: needs a header row with fpf and tpf (and optionally threshold)")
    if len(rows) > 10_000:
        raise ValueError(f"{path}: more than 10,000 points")
    try:
        points = [[float(row["fpf"]), float(row["tpf"])] for row in rows]
        thresholds = [float(row["threshold"]) for row in rows] if "threshold" in rows[0] else None
    except (TypeError, ValueError):
        raise ValueError(f"{path}: fpf, tpf and threshold must be numbers on every row") from None
    for key, value in (("points", points), ("thresholds", thresholds)):
        if key in data and data[key] is not None and data[key] != value:
            raise ValueError(f"give the curve's {key} in the file or in the scenario, not both")
    return {**data, "points": points, **({"thresholds": thresholds} if thresholds is not None else {})}


class RocCurve(Strict):
    """An ROC curve as published: points (false-positive fraction, true-positive fraction), inline or from a
    CSV file, fitted as an unequal-variance binormal (simulator/ai.py). The service operates at the
    `sensitivity`, the `specificity` or the score `threshold` given beside it on the AI service (a
    threshold needs the curve's `thresholds`: the score cut-off of each point)."""

    file: str | None = None
    points: list[tuple[UnitInterval, UnitInterval]] = Field(min_length=2, max_length=10_000)
    thresholds: list[Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_file(cls, data: Any) -> Any:
        return _roc_file(data)

    @model_validator(mode="after")
    def _inside(self) -> "RocCurve":
        inside = [(f, t) for f, t in self.points if 0.0 < f < 1.0 and 0.0 < t < 1.0]
        if len({f for f, _ in inside}) < 2:
            raise ValueError("needs at least two points with distinct false-positive fractions strictly between "
                             "0 and 1 (the corners carry no information about the curve)")
        from ..roc import fit_binormal

        fit_binormal(self.points)  # a curve that does not rise is refused here, naming the field
        if self.thresholds is not None:
            if len(self.thresholds) != len(self.points):
                raise ValueError(f"{len(self.thresholds)} thresholds for {len(self.points)} points: one a point")
            ranked = sorted(zip(self.thresholds, (f for f, _ in self.points)))
            if any(b[1] > a[1] for a, b in zip(ranked, ranked[1:])) or len({t for t, _ in ranked}) != len(ranked):
                raise ValueError("thresholds must be distinct, and a higher threshold never flag more healthy studies "
                                 "(its fpf no higher)")
        return self

    def fpf_at(self, threshold: float) -> float:
        """The false-positive fraction at a score threshold, linear between the curve's points."""
        import numpy as np

        ranked = sorted(zip(self.thresholds or [], (f for f, _ in self.points)))
        return float(np.interp(threshold, [t for t, _ in ranked], [f for _, f in ranked]))


class AIService(Strict):
    """An AI service's operating point on a binormal ROC.

    Give sensitivity and specificity, or an AUC with one of them (equal-variance binormal); or an ROC curve
    (`roc: {points: ...}`, fitted as an unequal-variance binormal) with the sensitivity or the specificity
    to operate at.
    """

    sensitivity: Annotated[float, BeforeValidator(_number), Field(gt=0.0, lt=1.0)] | None = None
    specificity: Annotated[float, BeforeValidator(_number), Field(gt=0.0, lt=1.0)] | None = None
    auc: Annotated[float, BeforeValidator(_number), Field(gt=0.5, lt=1.0)] | None = None
    roc: RocCurve | None = None
    threshold: Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)] | None = None  # with roc
    # The conditions it looks for (of the study types it scores); default: any condition (any finding).
    targets: list[str] | None = None
    latency_minutes: Distribution = ZERO  # with workers: the result's way back, after inference
    failure_rate: Probability = 0.0  # share of studies it never scores
    # A compute service: `workers` GPU slots, each study taking `inference_minutes`; the study joins the
    # worklist at once and its result re-ranks it when it comes (simulator/network/ai_compute.py).
    workers: Annotated[Whole, Field(ge=1, le=100_000)] | None = None
    inference_minutes: Distribution | None = None
    outages: list[Window] = Field(default=[], max_length=MAX_ENTRIES)
    algorithm: str | None = None
    version: str | None = None

    @model_validator(mode="after")
    def _operating_point(self) -> "AIService":
        given = sum(v is not None for v in (self.sensitivity, self.specificity, self.auc, self.threshold))
        if self.threshold is not None and (self.roc is None or self.roc.thresholds is None):
            raise ValueError("a threshold needs an roc curve with the thresholds of its points")
        if self.roc is not None:
            if self.auc is not None or given != 1:
                raise ValueError("with an roc curve give the sensitivity, the specificity or the threshold to operate "
                                 "at (the curve sets the AUC)")
            if self.threshold is not None:
                low, high = min(self.roc.thresholds), max(self.roc.thresholds)  # type: ignore[arg-type]
                fpf = self.roc.fpf_at(self.threshold)
                if not low <= self.threshold <= high or not 0.0 < fpf < 1.0:
                    raise ValueError(f"threshold {self.threshold:g} is outside the curve's thresholds ({low:g} to "
                                     f"{high:g}) or at a corner of the curve")
        elif given != 2:
            raise ValueError("give two of sensitivity, specificity and auc (an operating point, or an AUC and one of them)")
        if (self.workers is None) != (self.inference_minutes is None):
            raise ValueError("give workers and inference_minutes together (a compute service), or neither")
        return self
