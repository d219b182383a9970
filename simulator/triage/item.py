"""The work item: what a worklist holds and what a triage policy sees."""
from __future__ import annotations

from dataclasses import dataclass, field

from .vocabulary import IMAGE_READS, Kind, Referral

__all__ = ["WorkItem", "IMAGE_READS"]


@dataclass(slots=True, eq=False)
class WorkItem:
    """One piece of reading work: a primary read, a second opinion or a teleconsultation.

    The fields a policy may look at come first; the rest is bookkeeping of the worklist (the reading
    station's own lives in its subclass, `simulator.network.readers.Read`).
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
    # The AI services that flagged it (of its study type's, in the type's order): `ai_positive` is any flag.
    ai_flags: tuple[str, ...] = ()
    lane: str = ""  # the worklist lane: which readers may take it (a routing matter, not for policies)
    exclude_reader: int = -1  # a reader who must not read it (the primary reader, for a second opinion)
    # Set by the worklist.
    label: str = ""
    cls: int = 0
    preempted: bool = False  # goes back to the head of its class (a read interrupted by pre-emption)
    entry: list | None = field(default=None, repr=False)
