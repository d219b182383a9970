"""One DICOM Part-10 study per simulated study record, with modality-specific objects and, where the AI
scored the study, its result as a structured report (report.py).

UIDs are deterministic: the StudyInstanceUID is the record's `study_id`; series and instance UIDs are
derived from it (`generate_uid` with entropy sources), so the same records give the same files.
Patients are synthetic: an ID and a name made from the study's UID, never from anything real.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from .phantom import phantom

__all__ = ["StudyRecord", "study_datasets", "write_study", "SOP_CLASSES", "PRIORITY"]

SOP_CLASSES = {
    "DX": "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image Storage - For Presentation
    "CR": "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography Image Storage
    "CT": "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
    "MR": "1.2.840.10008.5.1.4.1.1.4",  # MR Image Storage
    "MG": "1.2.840.10008.5.1.4.1.1.1.2",  # Digital Mammography X-Ray Image Storage - For Presentation
}
PRIORITY = {"stat": "STAT", "urgent": "HIGH", "routine": "ROUTINE"}  # RequestedProcedurePriority (0040,1003)
IMPLEMENTATION_UID = "2.25.217405592437178347455153497296163839815"  # radsim's own, a fixed UUID-derived UID
SLICES = {"CT": 8, "MR": 6}


@dataclass(frozen=True)
class StudyRecord:
    """What a generated study needs from a row of studies.parquet and its scenario."""

    study_id: str
    study_type: str
    modality: str
    body_part: str | None
    site: str
    institution: str
    referral: str
    diseased: bool
    ai_score: float | None
    ai_positive: bool | None
    acquired: dt.datetime  # when acquisition finished (arrived_at on the calendar)
    patient_age: float | None = None
    algorithm: str | None = None  # the AI service that scored it: name and version for the SR
    algorithm_version: str | None = None


def _uid(record: StudyRecord, *parts: object) -> str:
    return generate_uid(entropy_srcs=[record.study_id, *map(str, parts)])


def _patient(record: StudyRecord) -> tuple[str, str]:
    digest = hashlib.sha256(record.study_id.encode()).hexdigest()
    return f"SYN{int(digest[:12], 16) % 10**10:010d}", f"SYNTHETIC^PATIENT{digest[:6].upper()}"


def _common(record: StudyRecord, series: int, instance: int, sop_class: str, sop_uid: str) -> Dataset:
    ds = Dataset()
    patient_id, patient_name = _patient(record)
    ds.PatientName, ds.PatientID, ds.PatientSex = patient_name, patient_id, "O"
    if record.patient_age is not None:
        birth = record.acquired.date() - dt.timedelta(days=int(record.patient_age * 365.25))
        ds.PatientBirthDate = birth.strftime("%Y%m%d")
    else:
        ds.PatientBirthDate = ""
    ds.StudyInstanceUID = record.study_id
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = record.acquired.strftime("%Y%m%d")
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = record.acquired.strftime("%H%M%S.%f")[:13]
    ds.AcquisitionDateTime = record.acquired.strftime("%Y%m%d%H%M%S.%f")
    ds.AccessionNumber = hashlib.sha256(record.study_id.encode()).hexdigest()[:16].upper()
    ds.StudyID = ds.AccessionNumber[:16]
    ds.StudyDescription = record.study_type.replace("_", " ")
    ds.ReferringPhysicianName = ""
    ds.SeriesInstanceUID = _uid(record, "series", series)
    ds.SeriesNumber = series
    ds.Modality = record.modality
    if record.body_part:
        ds.BodyPartExamined = record.body_part
    ds.Manufacturer = "radsim synthetic"
    ds.InstitutionName = record.institution
    ds.StationName = f"{record.site}-{record.modality}"[:16]
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
    ds.InstanceNumber = instance
    request = Dataset()
    request.RequestedProcedurePriority = PRIORITY.get(record.referral, "ROUTINE")
    request.RequestedProcedureDescription = ds.StudyDescription
    ds.RequestAttributesSequence = [request]
    ds.RequestedProcedurePriority = PRIORITY.get(record.referral, "ROUTINE")
    return ds


def _pixels(ds: Dataset, image: np.ndarray) -> None:
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = image.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = image.tobytes()
    ds["PixelData"].VR = "OW"


def _seed(record: StudyRecord, *parts: object) -> int:
    return int(hashlib.sha256("|".join([record.study_id, *map(str, parts)]).encode()).hexdigest()[:8], 16)


def study_datasets(record: StudyRecord, size: int = 64) -> list[Dataset]:
    """The image objects of one study: DX/CR one chest view, CT and MR a short series of slices with
    consistent geometry, MG four views (R/L x CC/MLO); any other modality one DX-like image."""
    modality = record.modality if record.modality in SOP_CLASSES else "DX"
    sop_class = SOP_CLASSES[modality]
    out = []
    if modality in ("CT", "MR"):
        frame = _uid(record, "frame")
        for k in range(SLICES[modality]):
            ds = _common(record, 1, k + 1, sop_class, _uid(record, "image", 1, k + 1))
            ds.FrameOfReferenceUID = frame
            ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.ImagePositionPatient = [-160.0, -160.0, -40.0 + 10.0 * k]
            ds.SliceThickness, ds.SliceLocation = 10.0, -40.0 + 10.0 * k
            ds.PixelSpacing = [5.0, 5.0]
            ds.PositionReferenceIndicator = ""
            if modality == "CT":
                ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType, ds.KVP = -1024, 1, "HU", 120
            else:
                ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions, ds.MRAcquisitionType = "SE", "NONE", "", "2D"
                ds.RepetitionTime, ds.EchoTime, ds.EchoTrainLength = 500.0, 15.0, 1
            fraction = (k + 0.5) / SLICES[modality]
            _pixels(ds, phantom(size, size, record.diseased, _seed(record, "lesion"), fraction))
            out.append(ds)
    elif modality == "MG":
        views = [("R", "CC"), ("L", "CC"), ("R", "MLO"), ("L", "MLO")]
        for k, (side, view) in enumerate(views):
            ds = _common(record, 1, k + 1, sop_class, _uid(record, "image", 1, k + 1))
            ds.ImageType = ["ORIGINAL", "PRIMARY"]
            ds.ImageLaterality, ds.Laterality, ds.ViewPosition = side, side, view
            ds.PresentationIntentType, ds.PixelIntensityRelationship = "FOR PRESENTATION", "LIN"
            ds.BodyPartExamined = "BREAST"
            ds.ImagerPixelSpacing = [1.0, 1.0]
            # Row and column directions of each standard view (PS3.3 C.8.11.7, mammography).
            ds.PatientOrientation = {("R", "CC"): ["P", "L"], ("L", "CC"): ["A", "R"],
                                     ("R", "MLO"): ["P", "F"], ("L", "MLO"): ["A", "F"]}[(side, view)]
            lesion_side = "R" if _seed(record, "side") % 2 == 0 else "L"
            _pixels(ds, phantom(size, size, record.diseased and side == lesion_side, _seed(record, "lesion", side)))
            out.append(ds)
    else:
        ds = _common(record, 1, 1, sop_class, _uid(record, "image", 1, 1))
        ds.Modality = modality
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.ViewPosition = "PA"
        ds.PatientOrientation = ["L", "F"]
        ds.ImagerPixelSpacing = [6.0, 6.0]  # a 64-pixel image of a 38 cm chest
        if modality == "DX":
            ds.PresentationIntentType, ds.PixelIntensityRelationship = "FOR PRESENTATION", "LIN"
        _pixels(ds, phantom(size, size, record.diseased, _seed(record, "lesion")))
        out.append(ds)
    return out


def write_study(record: StudyRecord, folder: Path, size: int = 64) -> list[Path]:
    """Write the study's files as Part-10 under folder/<StudyInstanceUID>/; returns their paths."""
    target = Path(folder) / record.study_id
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    images = study_datasets(record, size)
    for ds in images:
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
        meta.TransferSyntaxUID, meta.ImplementationClassUID = ExplicitVRLittleEndian, IMPLEMENTATION_UID
        ds.file_meta = meta
        path = target / f"{ds.Modality}{ds.SeriesNumber:02d}_{ds.InstanceNumber:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    if record.ai_score is not None:  # unscored studies (no AI, failure, outage) have no AI report
        from .report import ai_report

        report = ai_report(images, record.ai_score, bool(record.ai_positive), record.algorithm or "ai",
                           record.algorithm_version or "1", record.study_id)
        path = target / "SR99_001.dcm"
        report.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def records_from_run(studies: pa.Table, scenario: Any, limit: int | None = None) -> Iterator[StudyRecord]:
    """Study records of the image studies of a run (primary reads and audits of replication 0), in
    arrival order."""
    chosen = pc.and_(pc.equal(studies.column("replication"), 0),
                     pc.is_in(studies.column("kind"), value_set=pa.array(["primary", "audit"])))
    rows = studies.filter(chosen).sort_by("arrived_at").to_pylist()[:limit]
    body = {name: t.body_part for name, t in scenario.study_types.items()}
    services = {name: t.ai for name, t in scenario.study_types.items()}
    for row in rows:
        site, service = row["site"], services.get(row["study_type"])
        yield StudyRecord(
            study_id=row["study_id"], study_type=row["study_type"], modality=row["modality"],
            body_part=body.get(row["study_type"]), site=site, institution=(scenario.sites[site].name or site)[:64],
            referral=row["referral"], diseased=bool(row["diseased"]), ai_score=row["ai_score"],
            ai_positive=row["ai_positive"], acquired=scenario.start + dt.timedelta(minutes=row["arrived_at"]),
            patient_age=row.get("patient_age"),
            algorithm=None if service is None else (scenario.ai_services[service].algorithm or service),
            algorithm_version=None if service is None else (scenario.ai_services[service].version or "1"))
