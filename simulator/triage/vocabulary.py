"""The words of the domain that code compares: kinds of reading work and clinical order priorities.

One copy, used by the scenario schema, the triage rules, routing, the model, the tables and the metrics,
so that a kind documented anywhere is accepted everywhere. The members are strings (`Kind.AUDIT ==
"audit"`), so plain strings from files and tables compare equal to them.
"""
from __future__ import annotations

from enum import StrEnum

__all__ = ["Kind", "Referral", "KINDS", "REFERRALS", "IMAGE_READS", "STUDY_TYPE_KINDS", "AI_POSITIVE"]


class Kind(StrEnum):
    """A kind of reading work. The order is that of the `kind` dictionary in studies.parquet."""

    PRIMARY = "primary"  # the first read of an imaging study
    CONSULTATION = "consultation"  # a clinic doctor's teleconsultation (a study type of this kind)
    SECOND_OPINION = "second_opinion"  # a second opinion on a signed report, by another reader
    AUDIT = "audit"  # the audit of an AI-normal study that skipped its primary read
    DOUBLE_READ = "double_read"  # the second independent read of a double-read study


class Referral(StrEnum):
    """The clinical order priority a study was requested with, before any AI."""

    STAT = "stat"
    URGENT = "urgent"
    ROUTINE = "routine"


KINDS: tuple[Kind, ...] = tuple(Kind)
REFERRALS: tuple[Referral, ...] = tuple(Referral)
# Work that reads a study's images: ranked by the study's referral and AI result. The other kinds are
# ranked, and given targets, as their kind.
IMAGE_READS = frozenset({Kind.PRIMARY, Kind.DOUBLE_READ})
# What a study type may be; the other kinds are made by the model (second opinions, audits, second reads).
STUDY_TYPE_KINDS = (Kind.PRIMARY, Kind.CONSULTATION)
# The name under which `targets` gives the turnaround target of a study the AI flagged.
AI_POSITIVE = "ai_positive"
