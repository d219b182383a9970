"""The AI result of a study as a DICOM Structured Report (TID 1500 Measurement Report, highdicom), in the
same study: the probability of pathology, the flag at the operating point, the algorithm's name and
version, and references to the images it read (the report's evidence)."""
from __future__ import annotations

from collections.abc import Sequence

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import generate_uid

__all__ = ["ai_report", "PROBABILITY", "FLAG", "read_ai_result"]

# Private coding scheme of radsim for the two observations (no standard code says "probability of
# significant pathology" for a triage AI); the scheme designator follows DICOM's 99 prefix rule.
SCHEME = "99RADSIM"
PROBABILITY = Code("AI-PROB", SCHEME, "Probability of significant pathology")
FLAG = Code("AI-FLAG", SCHEME, "Flagged at the operating point")


def ai_report(images: Sequence[Dataset], score: float, positive: bool, algorithm: str, version: str,
              study_id: str) -> Dataset:
    """A Comprehensive 3D SR of the AI result over `images` (one study), with deterministic UIDs."""
    device = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=generate_uid(entropy_srcs=[study_id, "ai-device", algorithm]), name=algorithm))
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(entropy_srcs=[study_id, "ai-tracking"]),
                                                     identifier="AI triage result"),
        algorithm_id=hd.sr.AlgorithmIdentification(name=algorithm, version=version),
        measurements=[hd.sr.Measurement(name=PROBABILITY, value=round(float(score), 6),
                                        unit=codes.UCUM.NoUnits)],
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(
            name=FLAG, value=codes.SCT.Yes if positive else codes.SCT.No)])
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=device),
        procedure_reported=Code("RID10321", "RADLEX", "imaging procedure"),
        imaging_measurements=[group], referenced_images=list(images))
    first = images[0]
    return hd.sr.Comprehensive3DSR(
        evidence=list(images), content=report[0],
        series_instance_uid=generate_uid(entropy_srcs=[study_id, "ai-series"]), series_number=99,
        sop_instance_uid=generate_uid(entropy_srcs=[study_id, "ai-report"]), instance_number=1,
        manufacturer=algorithm, institution_name=first.get("InstitutionName"), is_complete=True, is_final=True)


def read_ai_result(ds: Dataset) -> tuple[float | None, bool | None]:
    """(probability, flag) from a report made by `ai_report`, or (None, None) if it holds none."""
    score = flag = None
    stack = list(ds.get("ContentSequence", []))
    while stack:
        item = stack.pop()
        name = item.get("ConceptNameCodeSequence")
        code = name[0].CodeValue if name else None
        if code == PROBABILITY.value and "MeasuredValueSequence" in item:
            score = float(item.MeasuredValueSequence[0].NumericValue)
        elif code == FLAG.value and "ConceptCodeSequence" in item:
            flag = item.ConceptCodeSequence[0].CodeValue == codes.SCT.Yes.value
        stack.extend(item.get("ContentSequence", []))
    return score, flag
