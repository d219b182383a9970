"""The work item: what a worklist holds and what a triage policy sees."""
from __future__ import annotations

from dataclasses import dataclass, field

from .vocabulary import IMAGE_READS, Kind, Referral

__all__ = ["WorkItem", "IMAGE_READS"]


@dataclass(slots=True, eq=False)
class WorkItem:
    """One piece of reading work: a primary read, a second opinion or a teleconsultation.

    The fields a policy may look at come first; the rest is bookkeeping of the worklist and the model.
    Times are minutes since the scenario start; a production service would pass its own clock's minutes.
    """

    index: int
    study_type: str
    kind: str = Kind.PRIMARY  # a Kind: primary | double_read | second_opinion | consultation | audit
    referral: str = Referral.ROUTINE  # a Referral: stat | urgent | routine
    modality: str = ""
    site: str = ""
    ai_service: str | None = None
    ai_score: float | None = None  # posterior probability of pathology; None when not scored
    ai_positive: bool | None = None
    arrived_at: float = 0.0
    ready_at: float = 0.0
    patient_age: float | None = None
    lane: str = ""  # the worklist lane: which readers may take it (a routing matter, not for policies)
    exclude_reader: int = -1  # a reader who must not read it (the primary reader, for a second opinion)
    # Set by the worklist and the model.
    label: str = ""
    cls: int = 0
    remaining: float = 0.0
    preempted: bool = False
    entry: list | None = field(default=None, repr=False)
    partner: "WorkItem | None" = field(default=None, repr=False)  # the other read of a double-read study
    holder: object | None = field(default=None, repr=False)  # the reader it is assigned to or read by
    units: float = 0.0  # workload units counted against the holder (push routing)
