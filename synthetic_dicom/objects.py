"""What a DICOM object is, for a trace: an image to read, an AI result, or another object of the study
(a radiologist's or a dose report, a presentation state, a key object selection, a segmentation, ...).

Real studies mix them. Only images say what was acquired (the modality, the body part, when); an AI
result is recognised by its content, never by being an SR: a TID 1500 measurement report with an
algorithm identification that holds the probability concept (radsim's own, or one configured for a
vendor's AI).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .header import Elements, Header

__all__ = ["IMAGE", "kind_of", "AiConcepts", "AiResult", "ai_result", "RADSIM_AI"]

IMAGE = "image"
_SR_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
_PR_PREFIX = "1.2.840.10008.5.1.4.1.1.11."
_KEY_OBJECTS = "1.2.840.10008.5.1.4.1.1.88.59"
_DOSE_REPORTS = {"1.2.840.10008.5.1.4.1.1.88.67", "1.2.840.10008.5.1.4.1.1.88.68", "1.2.840.10008.5.1.4.1.1.88.76"}
# Storage classes of acquired images whose names do not say "Image" (PS3.4 B.5).
_IMAGES_UNNAMED = {"1.2.840.10008.5.1.4.1.1.6.2"}  # Enhanced US Volume Storage
# Modalities of objects that are not acquired images (PS3.3 C.7.3.1.1.1), for SOP classes no dictionary knows.
_NOT_IMAGES = {"SR", "PR", "KO", "DOC", "REG", "SEG", "RTPLAN", "RTSTRUCT", "RTDOSE", "RTRECORD", "PLAN", "FID",
               "ECG", "HD", "AU", "RWV", "REGISTRATION", "OT-DOC", "M3D", "RESP", "EPS", "BI"}

# Concepts read from a structured report (group << 16 | element).
CONTENT, CONCEPT_NAME, CODE_VALUE, SCHEME, MEASURED, NUMERIC, CONCEPT_CODE = \
    0x0040A730, 0x0040A043, 0x00080100, 0x00080102, 0x0040A300, 0x0040A30A, 0x0040A168
CONTENT_DATE, CONTENT_TIME, SOP_INSTANCE = 0x00080023, 0x00080033, 0x00080018
MEASUREMENT_REPORT, ALGORITHM_NAME = ("DCM", "126000"), ("DCM", "111001")
YES, NO = ("SCT", "373066001"), ("SCT", "373067005")


@lru_cache(maxsize=512)
def kind_of(sop_class: str, modality: str | None) -> str:
    """`image`, or what else the object is, in words for a person (`structured report`, `dose report`,
    `presentation state`, `key object selection`, or the SOP class's name)."""
    from pydicom.uid import UID

    if sop_class == _KEY_OBJECTS:
        return "key object selection"
    if sop_class in _DOSE_REPORTS:
        return "dose report"
    if sop_class.startswith(_SR_PREFIX):
        return "structured report"
    if sop_class.startswith(_PR_PREFIX):
        return "presentation state"
    if sop_class in _IMAGES_UNNAMED:
        return IMAGE
    name = UID(sop_class).name if sop_class else ""
    if name and name != sop_class:  # a SOP class the dictionary knows
        return IMAGE if "Image Storage" in name else name.removesuffix(" Storage")
    return f"{modality} object" if (modality or "").upper() in _NOT_IMAGES else IMAGE


@dataclass(frozen=True)
class AiConcepts:
    """The coded concepts (scheme designator, code value) of an AI result's probability and flag. radsim's
    generated reports use its private scheme; another AI's reports name theirs (`dicom trace --ai-score`)."""

    probability: tuple[str, str] = ("99RADSIM", "AI-PROB")
    flag: tuple[str, str] | None = ("99RADSIM", "AI-FLAG")


RADSIM_AI = AiConcepts()


@dataclass(frozen=True)
class AiResult:
    score: float | None
    positive: bool | None
    made: str  # ContentDate + ContentTime, to keep the latest of several results
    instance: str  # SOPInstanceUID, to break ties the same way whatever the order of the files


def _code(item: Elements, sequence: int) -> tuple[str, str] | None:
    items = item.get(sequence)
    if isinstance(items, list) and items and isinstance(items[0].get(CODE_VALUE), bytes):
        scheme = items[0].get(SCHEME)
        return ((scheme.rstrip(b" \0").decode("ascii", "replace") if isinstance(scheme, bytes) else ""),
                items[0][CODE_VALUE].rstrip(b" \0").decode("ascii", "replace"))
    return None


def ai_result(header: Header, concepts: AiConcepts = RADSIM_AI) -> AiResult | None:
    """The AI result a structured report holds, or None if it is not an AI result (another report, a dose
    report, a measurement report without the probability concept or without an algorithm). ValueError
    when it is one but its probability cannot be read."""
    elements = header.elements
    if _code(elements, CONCEPT_NAME) != MEASUREMENT_REPORT:
        return None
    score = flag = None
    algorithm = found = False
    stack = list(elements.get(CONTENT) or [])
    while stack:
        item = stack.pop()
        name = _code(item, CONCEPT_NAME)
        if name == ALGORITHM_NAME:
            algorithm = True
        elif name == concepts.probability:
            found = True
            measured = item.get(MEASURED)
            if isinstance(measured, list) and measured and isinstance(measured[0].get(NUMERIC), bytes):
                score = float(measured[0][NUMERIC].decode("ascii"))
        elif concepts.flag is not None and name == concepts.flag:
            value = _code(item, CONCEPT_CODE)
            flag = True if value == YES else False if value == NO else None
        stack.extend(item.get(CONTENT) or [])
    if not (algorithm and found):
        return None
    if score is not None and not 0.0 <= score <= 1.0:
        raise ValueError(f"AI probability {score} is not within [0, 1]")
    made = f"{header.text(CONTENT_DATE) or ''}{header.text(CONTENT_TIME) or ''}"
    return AiResult(score, flag, made, header.text(SOP_INSTANCE) or "")
