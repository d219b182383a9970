"""The AI result of a study as a DICOM Structured Report (TID 1500 Measurement Report, highdicom), in the
same study: the probability of pathology, the flag at the operating point, the algorithm's name and
version, and references to the images it read (the report's evidence)."""
from __future__ import annotations

from collections.abc import Sequence

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.valuerep import DA, TM

__all__ = ["ai_report", "PROBABILITY", "FLAG"]

# Private coding scheme of radsim for the two observations (no standard code says "probability of
# significant pathology" for a triage AI); the scheme designator follows DICOM's 99 prefix rule.
SCHEME = "99RADSIM"
PROBABILITY = Code("AI-PROB", SCHEME, "Probability of significant pathology")
FLAG = Code("AI-FLAG", SCHEME, "Flagged at the operating point")


def ai_report(images: Sequence[Dataset], score: float, positive: bool, algorithm: str, version: str, *,
              series_uid: str, sop_uid: str, device_uid: str, tracking_uid: str, date: str, time: str,
              date_time: str) -> Dataset:
    """A Comprehensive 3D SR of the AI result over `images` (one study), made at `date` `time` (also as one
    `date_time`), when the result was ready: the report carries no clock time of its own, so the same
    study gives the same file."""
    device = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(uid=device_uid, name=algorithm))
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=tracking_uid, identifier="AI triage result"),
        algorithm_id=hd.sr.AlgorithmIdentification(name=algorithm, version=version),
        measurements=[hd.sr.Measurement(name=PROBABILITY, value=float(score), unit=codes.UCUM.NoUnits)],
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(
            name=FLAG, value=codes.SCT.Yes if positive else codes.SCT.No)])
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=device),
        procedure_reported=Code("RID10321", "RADLEX", "imaging procedure"),
        imaging_measurements=[group], referenced_images=list(images))
    first = images[0]
    sr = hd.sr.Comprehensive3DSR(
        evidence=list(images), content=report[0], series_instance_uid=series_uid, series_number=99,
        sop_instance_uid=sop_uid, instance_number=1, manufacturer=algorithm,
        institution_name=first.get("InstitutionName"), is_complete=True, is_final=True,
        content_date=DA(date), content_time=TM(time), series_date=DA(date), series_time=TM(time))
    sr.InstanceCreationDate, sr.InstanceCreationTime = date, time
    for equipment in sr.get("ContributingEquipmentSequence", []):  # highdicom stamps its own clock here
        equipment.ContributionDateTime = date_time
    return sr
