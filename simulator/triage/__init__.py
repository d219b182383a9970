"""The real triage logic: policies that rank reading work, and the worklist they drive.

Pure Python: no simulation, no clock. Callers hand in `now` (minutes on any clock they like), so the same
code can order a production worklist.
"""
from .item import WorkItem
from .policies import BUILT_IN, AiPriority, Fifo, Hierarchical, PolicyError, make_policy
from .policy import Rank, TriagePolicy
from .worklist import Worklist

__all__ = [
    "WorkItem",
    "Rank",
    "TriagePolicy",
    "Worklist",
    "Fifo",
    "AiPriority",
    "Hierarchical",
    "BUILT_IN",
    "make_policy",
    "PolicyError",
]
