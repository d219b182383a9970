"""One DICOM Part-10 study per simulated study record, with modality-specific objects and, where the AI
scored the study, its result as a structured report (report.py).

A study is two things: its shape (modality, body part, how many images, whether and how the AI reported)
and its values (UIDs, patient, times, site, priority, score, pixels: `study_values`). `study_datasets`
builds the pydicom datasets of a record; `StudyWriter` writes the same bytes fast, from a template per
shape (template.py).

UIDs are deterministic: the StudyInstanceUID is the record's `study_id`; series and instance UIDs are
derived from it (`generate_uid` with entropy sources), so the same records give the same files.
Patients are synthetic: an ID and a name made from the study's UID, never from anything real.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pydicom.valuerep import DS

from simulator.body_parts import BODY_PARTS, PAIRED, SIDED

from .phantom import phantom
from .template import Template, file_meta, part10, undefined_lengths

__all__ = ["StudyRecord", "StudyWriter", "Shape", "shape_of", "study_datasets", "study_values", "write_study",
           "SOP_CLASSES", "PRIORITY", "records_from_run", "encode_reference"]

SOP_CLASSES = {
    "DX": "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image Storage - For Presentation
    "CR": "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography Image Storage
    "CT": "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
    "MR": "1.2.840.10008.5.1.4.1.1.4",  # MR Image Storage
    "MG": "1.2.840.10008.5.1.4.1.1.1.2",  # Digital Mammography X-Ray Image Storage - For Presentation
    "US": "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image Storage
    "NM": "1.2.840.10008.5.1.4.1.1.20",  # Nuclear Medicine Image Storage
    "PT": "1.2.840.10008.5.1.4.1.1.128",  # Positron Emission Tomography Image Storage
    "XA": "1.2.840.10008.5.1.4.1.1.12.1",  # X-Ray Angiographic Image Storage
    "RF": "1.2.840.10008.5.1.4.1.1.12.2",  # X-Ray Radiofluoroscopic Image Storage
    # Any other modality: a Secondary Capture Image of that modality, so that it is never written, and
    # traced back, as another modality's object.
    "SC": "1.2.840.10008.5.1.4.1.1.7",
}
# Modality codes (PS3.3 C.7.3.1.1.1) a Secondary Capture carries as it is; anything else is OT (other).
MODALITY_CODES = {"US", "NM", "PT", "XA", "RF", "ES", "XC", "OP", "SM", "IO", "PX", "GM", "OT", "BMD", "DG",
                  "RG", "TG", "OCT", "OPM", "IVUS", "ECG", "EPS", "HD", "IVOCT", "LS", "BDUS", "BI", "DOC"}
PRIORITY = {"stat": "STAT", "urgent": "HIGH", "routine": "ROUTINE"}  # RequestedProcedurePriority (0040,1003)
SLICES = {"CT": 8, "MR": 6}
NATIVE = ("US", "NM", "PT", "XA", "RF")  # one image of the modality's own IOD (`_native`)
EIGHT_BIT = ("US",)  # IODs whose monochrome pixels are 8 bits; NM and PET store 16 of 16
MG_VIEWS = [("R", "CC"), ("L", "CC"), ("R", "MLO"), ("L", "MLO")]
# Codes for what was imaged (CID 4031 via BODY_PARTS, 4010, 4014): shown by viewers, required by the DX and
# MG IODs.
VIEW_CODES = {"PA": ("399348003", "postero-anterior"), "CC": ("399162004", "cranio-caudal"),
              "MLO": ("399368009", "medio-lateral oblique")}


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
    ai_reported: dt.datetime | None = None  # when the AI result was ready (default: at acquisition)


@dataclass(frozen=True)
class Shape:
    """What two studies written from one template have in common."""

    modality: str  # the object written: a key of SOP_CLASSES
    body_part: str | None
    scored: bool
    positive: bool
    size: int
    code: str = ""  # the Modality attribute, where it is not `modality` (a Secondary Capture's)

    @property
    def images(self) -> int:
        return SLICES.get(self.modality, 4 if self.modality == "MG" else 1)


def shape_of(record: StudyRecord, size: int) -> Shape:
    if record.modality in SOP_CLASSES and record.modality != "SC":
        return Shape(record.modality, record.body_part, record.ai_score is not None, bool(record.ai_positive), size)
    code = (record.modality or "").upper()
    return Shape("SC", record.body_part, record.ai_score is not None, bool(record.ai_positive), size,
                 code if code in MODALITY_CODES else "OT")


def _digest(record: StudyRecord) -> str:
    return hashlib.sha256(record.study_id.encode()).hexdigest()


def _seed(record: StudyRecord, *parts: object) -> int:
    return int(hashlib.sha256("|".join([record.study_id, *map(str, parts)]).encode()).hexdigest()[:8], 16)


def study_values(record: StudyRecord, size: int = 64) -> dict[str, Any]:
    """Everything that differs between two studies of one shape: text values, the score, the pixels."""
    shape = shape_of(record, size)
    digest = _digest(record)

    def uid(*parts: object) -> str:
        return generate_uid(entropy_srcs=[record.study_id, *map(str, parts)])

    when = record.acquired
    birth = "" if record.patient_age is None else \
        (when.date() - dt.timedelta(days=int(record.patient_age * 365.25))).strftime("%Y%m%d")
    values: dict[str, Any] = {
        "patient_name": f"SYNTHETIC^PATIENT{digest[:6].upper()}",
        "patient_id": f"SYN{int(digest[:12], 16) % 10**10:010d}",
        "birth_date": birth, "study_uid": record.study_id, "study_date": when.strftime("%Y%m%d"),
        "study_time": when.strftime("%H%M%S.%f"), "acquired": when.strftime("%Y%m%d%H%M%S.%f"),
        "accession": digest[:16].upper(), "study_number": digest[16:24].upper(),
        "study_description": record.study_type.replace("_", " ")[:64], "institution": record.institution[:64],
        "station": f"{record.site}-{shape.code or shape.modality}"[:16],
        "priority": PRIORITY.get(record.referral, "ROUTINE"),
        "series_uid": uid("series", 1),
    }
    if shape.modality in SLICES or shape.modality == "PT":
        values["frame_uid"] = uid("frame")
    for k in range(shape.images):
        values[f"image_uid_{k}"] = uid("image", 1, k + 1)
    anatomy = "chest" if (record.body_part or "").upper() == "CHEST" else "body"
    if shape.modality in SLICES:
        for k in range(shape.images):
            values[f"pixels_{k}"] = phantom(size, size, record.diseased, _seed(record, "lesion"),
                                            (k + 0.5) / shape.images, anatomy)
    elif shape.modality == "MG":
        lesion_side = "R" if _seed(record, "side") % 2 == 0 else "L"
        for k, (side, _) in enumerate(MG_VIEWS):
            values[f"pixels_{k}"] = phantom(size, size, record.diseased and side == lesion_side,
                                            _seed(record, "lesion", side), anatomy=f"breast_{side}")
    else:
        values["pixels_0"] = phantom(size, size, record.diseased, _seed(record, "lesion"), anatomy=anatomy)
        if shape.modality in EIGHT_BIT:  # 12 bits to the 8 the IOD stores
            values["pixels_0"] = (values["pixels_0"] >> 4).astype(np.uint8)
    if shape.scored:
        algorithm = record.algorithm or "ai"
        reported = record.ai_reported or when
        values.update(
            ai_series_uid=uid("ai-series"), ai_uid=uid("ai-report"), ai_tracking_uid=uid("ai-tracking"),
            ai_device_uid=generate_uid(entropy_srcs=["ai-device", algorithm]), algorithm=algorithm[:64],
            algorithm_version=(record.algorithm_version or "1")[:64], ai_score=round(float(record.ai_score), 6),
            ai_date=reported.strftime("%Y%m%d"), ai_time=reported.strftime("%H%M%S.%f"),
            ai_datetime=reported.strftime("%Y%m%d%H%M%S.%f"))
    return values


def _common(shape: Shape, values: Mapping[str, Any], instance: int) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: site names may be in any script
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.SOPClassUID, ds.SOPInstanceUID = SOP_CLASSES[shape.modality], values[f"image_uid_{instance - 1}"]
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = values["study_date"]
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = values["study_time"]
    ds.AcquisitionDateTime = values["acquired"]
    ds.AccessionNumber = values["accession"]
    ds.Modality = shape.code or shape.modality
    ds.Manufacturer = "radsim synthetic"
    ds.InstitutionName = values["institution"]
    ds.ReferringPhysicianName = ""
    ds.StationName = values["station"]
    ds.StudyDescription = values["study_description"]
    ds.PatientName, ds.PatientID = values["patient_name"], values["patient_id"]
    ds.PatientBirthDate, ds.PatientSex = values["birth_date"], "O"
    if shape.body_part and shape.modality != "MG":
        ds.BodyPartExamined = shape.body_part
    elif shape.modality == "CR":
        ds.BodyPartExamined = ""  # type 2 in the CR Series: present, empty when the record does not say
    ds.StudyInstanceUID, ds.SeriesInstanceUID = values["study_uid"], values["series_uid"]
    ds.StudyID, ds.SeriesNumber, ds.AcquisitionNumber, ds.InstanceNumber = values["study_number"], 1, 1, instance
    request = Dataset()
    request.RequestedProcedureDescription = values["study_description"]
    request.RequestedProcedurePriority = values["priority"]
    ds.RequestAttributesSequence = [request]
    return ds


def _pixels(ds: Dataset, image: np.ndarray, stored: int = 12) -> None:
    """Monochrome pixels: 8 bits where the image is 8-bit, else 16 allocated and `stored` of them used."""
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = image.shape
    bits = 8 if image.dtype == np.uint8 else 16
    stored = 8 if bits == 8 else stored
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, stored, stored - 1, 0
    ds.PixelData = image.tobytes()
    ds["PixelData"].VR = "OB" if bits == 8 else "OW"


def _native(ds: Dataset, shape: Shape, values: Mapping[str, Any]) -> None:
    """What the US, NM, PET, XA and RF image IODs require beyond what every image has (PS3.3 A.6, A.5,
    A.21, A.14, A.16): a single-frame image of each, its pixels as the IOD allows them."""
    modality = shape.modality
    if shape.body_part is None or shape.body_part in SIDED:
        ds.Laterality = ""  # type 2C where the part may be sided; the record does not say which side
    if modality != "PT":  # a projection (PET gives its plane's orientation instead)
        ds.PatientOrientation = ["L", "F"]
    if modality == "US":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "ABDOMINAL" if shape.body_part == "ABDOMEN" else "SMALL PARTS", ""]
        ds.LossyImageCompression = "00"
    elif modality in ("XA", "RF"):
        ds.ImageType = ["ORIGINAL", "PRIMARY", "SINGLE PLANE"]
        ds.ImagerPixelSpacing = [6.0, 6.0]
        ds.PixelIntensityRelationship, ds.RadiationSetting = "LIN", "GR"
        ds.KVP, ds.XRayTubeCurrent, ds.ExposureTime, ds.Exposure = 80, 400, 100, 40
        if modality == "XA":
            ds.PositionerPrimaryAngle, ds.PositionerSecondaryAngle = 0, 0
    elif modality == "NM":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "STATIC", "EMISSION"]
        ds.NumberOfFrames, ds.FrameIncrementPointer = 1, [0x00540010, 0x00540020]  # energy window, detector
        ds.NumberOfEnergyWindows, ds.EnergyWindowVector = 1, [1]
        ds.NumberOfDetectors, ds.DetectorVector = 1, [1]
        ds.PixelSpacing, ds.CountsAccumulated, ds.ActualFrameDuration = [6.0, 6.0], "", 60000
        ds.EnergyWindowInformationSequence = ds.RadiopharmaceuticalInformationSequence = []
        ds.DetectorInformationSequence = []
    elif modality == "PT":
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.Units, ds.CountsSource, ds.SeriesType = "CNTS", "EMISSION", ["STATIC", "IMAGE"]
        ds.NumberOfSlices, ds.ImageIndex, ds.CorrectedImage = 1, 1, []
        ds.DecayCorrection, ds.CollimatorType = "NONE", ""
        ds.RadiopharmaceuticalInformationSequence = []
        ds.FrameOfReferenceUID, ds.PositionReferenceIndicator = values["frame_uid"], ""
        ds.PixelSpacing, ds.SliceThickness = [6.0, 6.0], 6.0
        ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [-192.0, -192.0, 0.0]
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        ds.FrameReferenceTime, ds.ActualFrameDuration = 0, 60000
        ds.AcquisitionDate, ds.AcquisitionTime = values["study_date"], values["study_time"]
    if modality in ("NM", "PT"):
        ds.PatientOrientationCodeSequence = ds.PatientGantryRelationshipCodeSequence = []


def _code(value: str, meaning: str, scheme: str = "SCT") -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _projection(ds: Dataset, body_part: str | None, view: str, positioner: str) -> None:
    """What the DX and MG IODs require of a projection X-ray for presentation."""
    ds.PresentationIntentType, ds.PixelIntensityRelationship, ds.PixelIntensityRelationshipSign = \
        "FOR PRESENTATION", "LIN", 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "US"
    ds.WindowCenter, ds.WindowWidth = 1200, 2400
    ds.PresentationLUTShape, ds.BurnedInAnnotation, ds.LossyImageCompression = "IDENTITY", "NO", "00"
    ds.DetectorType, ds.PositionerType = "SCINTILLATOR", positioner
    ds.AcquisitionContextSequence = []
    ds.AnatomicRegionSequence = [] if body_part is None else [_code(*BODY_PARTS[body_part])]
    ds.ViewCodeSequence = [_code(*VIEW_CODES[view])]


def image_datasets(shape: Shape, values: Mapping[str, Any]) -> list[Dataset]:
    """The image objects of one study: DX/CR one chest view, CT and MR a short series of slices with
    consistent geometry, MG four views (R/L x CC/MLO), US, NM, PET, XA and RF one image of their own IOD;
    any other modality a Secondary Capture of it."""
    out = []
    if shape.modality in SLICES:
        for k in range(shape.images):
            ds = _common(shape, values, k + 1)
            ds.FrameOfReferenceUID, ds.PositionReferenceIndicator = values["frame_uid"], ""
            ds.PatientPosition = "HFS"
            if not shape.body_part or shape.body_part in SIDED:
                ds.Laterality = ""  # type 2C where the part may be sided (or it is not known): side not said
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.ImagePositionPatient = [-160.0, -160.0, -40.0 + 10.0 * k]
            ds.SliceThickness, ds.SliceLocation = 10.0, -40.0 + 10.0 * k
            ds.PixelSpacing = [5.0, 5.0]
            if shape.modality == "CT":
                ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
                ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType, ds.KVP = -1024, 1, "HU", 120
            else:
                ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
                ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions, ds.MRAcquisitionType = "SE", "NONE", "", "2D"
                ds.RepetitionTime, ds.EchoTime, ds.EchoTrainLength = 500.0, 15.0, 1
            _pixels(ds, values[f"pixels_{k}"])
            out.append(ds)
    elif shape.modality == "MG":
        for k, (side, view) in enumerate(MG_VIEWS):
            ds = _common(shape, values, k + 1)
            ds.BodyPartExamined, ds.OrganExposed = "BREAST", "BREAST"
            ds.ImageLaterality, ds.ViewPosition = side, view
            _projection(ds, "BREAST", view, "MAMMOGRAPHIC")
            ds.ViewCodeSequence[0].ViewModifierCodeSequence = []  # type 2 in the mammography view
            ds.ImagerPixelSpacing = [1.0, 1.0]
            # Row and column directions of each standard view (PS3.3 C.8.11.7, mammography).
            ds.PatientOrientation = {("R", "CC"): ["P", "L"], ("L", "CC"): ["A", "R"],
                                     ("R", "MLO"): ["P", "F"], ("L", "MLO"): ["A", "F"]}[(side, view)]
            _pixels(ds, values[f"pixels_{k}"])
            out.append(ds)
    elif shape.modality in NATIVE:
        ds = _common(shape, values, 1)
        _native(ds, shape, values)
        _pixels(ds, values["pixels_0"], 16 if shape.modality in ("NM", "PT") else 12)
        out.append(ds)
    else:
        ds = _common(shape, values, 1)
        ds.ViewPosition, ds.PatientOrientation = "PA", ["L", "F"]
        ds.ImagerPixelSpacing = [6.0, 6.0]  # a 64-pixel image of a 38 cm chest
        if shape.modality == "DX":
            # A paired part is imaged on both sides (a bilateral view); the side of one is not in the record.
            ds.ImageLaterality = "B" if shape.body_part in PAIRED else "U"
            _projection(ds, shape.body_part, "PA", "COLUMN")
        else:  # CR, or a Secondary Capture of another modality
            # Laterality (R or L only) is type 2C where the part may be paired: the record does not say which
            # side, so it is present and empty (as DX says "both" where its enumeration allows it).
            if shape.body_part is None or shape.body_part in SIDED:
                ds.Laterality = ""
            if shape.modality == "SC":
                ds.ConversionType = "WSD"  # workstation: what the SC Equipment module asks of a synthetic image
                del ds.ViewPosition, ds.ImagerPixelSpacing
        _pixels(ds, values["pixels_0"])
        out.append(ds)
    return out


def report_dataset(images: list[Dataset], shape: Shape, values: Mapping[str, Any]) -> Dataset:
    from .report import ai_report

    return ai_report(images, values["ai_score"], shape.positive, values["algorithm"], values["algorithm_version"],
                     series_uid=values["ai_series_uid"], sop_uid=values["ai_uid"], device_uid=values["ai_device_uid"],
                     tracking_uid=values["ai_tracking_uid"], date=values["ai_date"], time=values["ai_time"],
                     date_time=values["ai_datetime"])


def study_datasets(record: StudyRecord, size: int = 64) -> list[Dataset]:
    """The pydicom datasets of a study: its images, then its AI report where it has one."""
    shape, values = shape_of(record, size), study_values(record, size)
    images = image_datasets(shape, values)
    return [*images, report_dataset(images, shape, values)] if shape.scored else images


def file_name(ds: Dataset) -> str:
    return f"{ds.Modality}{ds.SeriesNumber:02d}_{ds.InstanceNumber:03d}.dcm"


# Sentinels: values no real study has, one per slot, none part of another (template.py checks).
_TEXT_SENTINELS = {"patient_name": "ZSLOTNAME^Z", "patient_id": "ZSLOTPIDZ", "birth_date": "19010102",
                   "study_uid": "1.2.3.4.990001", "study_date": "19010101", "study_time": "060701.987654",
                   "acquired": "18500102030405.987654", "accession": "ZSLOTACCZ", "study_number": "ZSLOTSIDZ",
                   "study_description": "ZSLOTDESCZ", "institution": "ZSLOTINSTZ", "station": "ZSLOTSTATZ",
                   "priority": "ZSLOTPRIZ", "series_uid": "1.2.3.4.990002", "frame_uid": "1.2.3.4.990003",
                   "ai_series_uid": "1.2.3.4.990004", "ai_uid": "1.2.3.4.990005", "ai_tracking_uid": "1.2.3.4.990006",
                   "ai_device_uid": "1.2.3.4.990007", "algorithm": "ZSLOTALGZ", "algorithm_version": "ZSLOTVERZ",
                   "ai_date": "19010103", "ai_time": "060702.987654", "ai_datetime": "18500203040506.987654"}
_SCORE_SENTINEL = 0.987654321


def _sentinel_values(shape: Shape) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in _TEXT_SENTINELS.items()
                              if (shape.scored or not k.startswith(("ai", "alg")))
                              and (shape.modality in SLICES or shape.modality == "PT" or k != "frame_uid")}
    eight = shape.modality in EIGHT_BIT
    for k in range(shape.images):
        values[f"image_uid_{k}"] = f"1.2.3.4.9901{k:02d}"
        values[f"pixels_{k}"] = np.random.default_rng(1000 + k).integers(
            0, 256 if eight else 4096, (shape.size, shape.size), dtype=np.uint8 if eight else np.uint16)
    if shape.scored:
        values["ai_score"] = _SCORE_SENTINEL
    return values


def _slot_bytes(values: Mapping[str, Any]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for name, value in values.items():
        if name == "ai_score":  # an SR numeric value is written twice: as decimal text and as a double
            out["ai_score_text"] = str(DS(value, auto_format=True)).encode()
            out["ai_score_binary"] = struct.pack("<d", value)
        elif isinstance(value, np.ndarray):
            out[name] = value.tobytes()
        else:
            out[name] = value.encode()
    return out


@dataclass(frozen=True)
class _File:
    name: str
    sop_class: str
    uid_slot: str  # the slot holding this file's SOPInstanceUID
    body: Template


class StudyWriter:
    """Writes studies as `study_datasets` would encode them, from one template per shape."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._templates: dict[Shape, list[_File]] = {}

    def _compile(self, shape: Shape) -> list[_File]:
        sentinels = _sentinel_values(shape)
        slots = _slot_bytes(sentinels)
        images = image_datasets(shape, sentinels)
        files = [(ds, f"image_uid_{k}") for k, ds in enumerate(images)]
        if shape.scored:
            files.append((report_dataset(images, shape, sentinels), "ai_uid"))
        compiled = [_File(file_name(ds), str(ds.SOPClassUID), uid, Template(ds, slots)) for ds, uid in files]
        unused = set(slots) - set().union(*(f.body.names for f in compiled))
        if unused:
            raise ValueError(f"{shape}: values no file of the study holds: {sorted(unused)}")
        return compiled

    def files(self, record: StudyRecord) -> list[tuple[str, bytes]]:
        """(file name, Part-10 bytes) of each file of the study."""
        shape = shape_of(record, self.size)
        template = self._templates.get(shape)
        if template is None:
            template = self._templates[shape] = self._compile(shape)
        slots = _slot_bytes(study_values(record, self.size))
        return [(f.name, part10(f.sop_class, slots[f.uid_slot].decode(), f.body.render(slots))) for f in template]

    def write(self, record: StudyRecord, folder: Path) -> list[Path]:
        """Write the study's files under folder/<StudyInstanceUID>/; returns their paths."""
        target = Path(folder) / record.study_id
        target.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, data in self.files(record):
            path = target / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            paths.append(path)
        return paths


_WRITER = StudyWriter()


def write_study(record: StudyRecord, folder: Path, size: int = 64) -> list[Path]:
    """Write the study's files as Part-10 under folder/<StudyInstanceUID>/; returns their paths."""
    return (_WRITER if size == _WRITER.size else StudyWriter(size)).write(record, folder)


def encode_reference(ds: Dataset) -> bytes:
    """A dataset as pydicom writes it with generated files' file meta: what StudyWriter must match."""
    from pydicom.filebase import DicomBytesIO

    ds = undefined_lengths(ds)
    ds.file_meta = file_meta(str(ds.SOPClassUID), str(ds.SOPInstanceUID))
    fp = DicomBytesIO()
    ds.save_as(fp, enforce_file_format=True)
    return fp.getvalue()


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
        scored = row["ai_score"] is not None
        yield StudyRecord(
            study_id=row["study_id"], study_type=row["study_type"], modality=row["modality"],
            body_part=body.get(row["study_type"]), site=site, institution=(scenario.sites[site].name or site)[:64],
            referral=row["referral"], diseased=bool(row["diseased"]), ai_score=row["ai_score"],
            ai_positive=row["ai_positive"], acquired=scenario.start + dt.timedelta(minutes=row["arrived_at"]),
            patient_age=row.get("patient_age"),
            algorithm=None if service is None else (scenario.ai_services[service].algorithm or service),
            algorithm_version=None if service is None else (scenario.ai_services[service].version or "1"),
            # A study whose AI result came after the horizon has no ready time: dated at acquisition.
            ai_reported=scenario.start + dt.timedelta(minutes=row["ready_at"])
            if scored and row["ready_at"] is not None else None)
