"""The real triage logic: policies that rank reading work, the worklist they drive, and routing rules.

Pure Python: no simulation, no clock. Callers hand in `now` (minutes on any clock they like), so the same
code can order a production worklist.
"""
from .aging import Aging
from .deadline import SlaEdf
from .item import IMAGE_READS, WorkItem
from .policies import AiPriority, Fifo, Hierarchical, ScoreBands
from .policy import PolicyError, Rank, TriagePolicy
from .registry import BUILT_IN, make_policy
from .rules import Rules
from .targets import Targets
from .vocabulary import AI_POSITIVE, KINDS, REFERRALS, Kind, Referral
from .worklist import Worklist

__all__ = [
    "WorkItem",
    "IMAGE_READS",
    "Rank",
    "TriagePolicy",
    "Worklist",
    "Fifo",
    "AiPriority",
    "Hierarchical",
    "ScoreBands",
    "Aging",
    "SlaEdf",
    "Rules",
    "BUILT_IN",
    "make_policy",
    "PolicyError",
    "Targets",
    "Kind",
    "Referral",
    "KINDS",
    "REFERRALS",
    "AI_POSITIVE",
]
