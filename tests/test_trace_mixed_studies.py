"""Real studies mix images with other objects: a radiologist's report, a dose report, another
algorithm's measurement report, presentation states, key object selections, copies of the same file,
broken files. Whatever is mixed in, and in whatever order the files come, the trace gives the rows of
the clean folder (only `other_objects` counts the extra objects) and lists exactly the files it left out."""
from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from synthetic_dicom.generate import StudyWriter
from synthetic_dicom.trace import trace_folder

BASIC_TEXT_SR, DOSE_SR, COMPREHENSIVE_3D_SR = \
    "1.2.840.10008.5.1.4.1.1.88.11", "1.2.840.10008.5.1.4.1.1.88.67", "1.2.840.10008.5.1.4.1.1.88.34"
GSPS, KEY_OBJECTS = "1.2.840.10008.5.1.4.1.1.11.1", "1.2.840.10008.5.1.4.1.1.88.59"


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _object(image: Dataset, sop_class: str, modality: str, *, study: str | None = None,
            measurement: tuple[str, str] | None = None) -> bytes:
    """Another object of `image`'s study (or of `study`), as a Part-10 file."""
    ds = Dataset()
    ds.StudyInstanceUID = study or image.StudyInstanceUID
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid(entropy_srcs=[image.SOPInstanceUID, sop_class, ds.StudyInstanceUID])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[ds.StudyInstanceUID, sop_class])
    ds.Modality, ds.StationName, ds.InstitutionName = modality, "WORKSTATION-9", "Elsewhere"
    ds.StudyDate, ds.StudyTime, ds.ContentDate, ds.ContentTime = "20300101", "000000", "20300101", "000000"
    ds.BodyPartExamined = "ABDOMEN"  # a wrong body part: only images may say what was imaged
    if measurement is not None:  # another algorithm's TID 1500 report: not radsim's AI result
        ds.ConceptNameCodeSequence = [_code("126000", "DCM", "Imaging Measurement Report")]
        algorithm, number = Dataset(), Dataset()
        algorithm.ValueType, algorithm.TextValue = "TEXT", "volumetry"
        algorithm.ConceptNameCodeSequence = [_code("111001", "DCM", "Algorithm Name")]
        number.ValueType = "NUM"
        number.ConceptNameCodeSequence = [_code(*measurement, "Volume")]
        measured = Dataset()
        measured.NumericValue = "0.9"
        number.MeasuredValueSequence = [measured]
        ds.ContentSequence = [algorithm, number]
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def clean(dicom_records):
    """Two studies with images and an AI result (a chest X-ray, a CT), as {name: bytes}."""
    records = [next(r for r in dicom_records if r.modality == m and r.ai_score is not None) for m in ("DX", "CT")]
    writer, files = StudyWriter(), {}
    for record in records:
        for name, data in writer.files(record):
            files[f"{record.study_id[-6:]}-{name}"] = data
    return files


@pytest.fixture(scope="module")
def extras(clean):
    """What real folders add, by the reason it should be left out for (None: it is used, not a row)."""
    names = sorted(clean)
    image = pydicom.dcmread(io.BytesIO(clean[next(n for n in names if not n.split("-", 1)[1].startswith("SR"))]))
    report = next(n for n in names if n.split("-", 1)[1].startswith("SR"))
    return {
        "radiologist-report.dcm": (_object(image, BASIC_TEXT_SR, "SR"), None),
        "dose-report.dcm": (_object(image, DOSE_SR, "SR"), None),
        "volumetry.dcm": (_object(image, COMPREHENSIVE_3D_SR, "SR", measurement=("SCT", "118565006")), None),
        "gsps.dcm": (_object(image, GSPS, "PR"), None),
        "key-objects.dcm": (_object(image, KEY_OBJECTS, "KO"), None),
        "copy-of-image.dcm": (clean[names[0]], "duplicate"),
        "copy-of-report.dcm": (clean[report], "duplicate"),
        "cut-image.dcm": (clean[names[0]][:400], "truncated"),
        "notes.dcm": (b"scanned at the night shift\n" * 20, "not DICOM"),
        "report-only.dcm": (_object(image, BASIC_TEXT_SR, "SR", study="2.25.4242"), "no images"),
    }


def _rows(trace) -> dict[str, dict]:
    return {row.pop("study_id"): row for row in trace.studies.to_pylist()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_mix_in_any_order_gives_the_clean_rows(clean, extras, tmp_path_factory, data) -> None:
    chosen = data.draw(st.lists(st.sampled_from(sorted(extras)), unique=True), label="extras")
    files = {**clean, **{name: extras[name][0] for name in chosen}}
    order = data.draw(st.permutations(sorted(files)), label="order")
    folder = tmp_path_factory.mktemp("mixed")
    names = {}
    for rank, name in enumerate(order):  # the order files are read in is the order of their names
        path = folder / f"{rank // 4:02d}" / f"{rank:03d}.dcm"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(files[name])
        names[path.relative_to(folder).as_posix()] = name
    baseline = _rows(trace_folder(_clean_folder(clean, tmp_path_factory)))
    trace = trace_folder(folder)
    rows = _rows(trace)
    added = sum(1 for name in chosen if extras[name][1] is None)
    assert sum(row.pop("other_objects") for row in rows.values()) == \
        sum(row.pop("other_objects") for row in baseline.values()) + added
    assert rows == baseline
    left_out = {names[entry["file"]]: entry["code"] for entry in trace.quarantine}
    expected = {name: extras[name][1] for name in chosen if extras[name][1] is not None}
    if "copy-of-image.dcm" in chosen or "copy-of-report.dcm" in chosen:
        # Of two copies, the one read second is the duplicate: whichever name sorts later.
        for copy, original in (("copy-of-image.dcm", sorted(clean)[0]), ("copy-of-report.dcm", _report(clean))):
            if copy in chosen and order.index(copy) < order.index(original):
                expected[original] = expected.pop(copy)
    assert left_out == expected


def _report(clean) -> str:
    return next(n for n in sorted(clean) if n.split("-", 1)[1].startswith("SR"))


def _clean_folder(clean, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    for name, data in clean.items():
        (folder / name).write_bytes(data)
    return folder


def test_the_ai_result_is_the_latest_and_another_concept_can_be_named(clean, tmp_path: Path) -> None:
    """Two AI results in a study: the later one counts, whichever file comes first; a vendor's AI with its
    own probability concept is read when the trace is told its concept."""
    from synthetic_dicom.objects import AiConcepts

    report = pydicom.dcmread(io.BytesIO(clean[_report(clean)]))
    later = report.copy()
    later.SOPInstanceUID = generate_uid(entropy_srcs=["later"])
    later.ContentDate = str(int(report.ContentDate) + 1)
    for item in _walk(later):
        if "MeasuredValueSequence" in item:
            item.MeasuredValueSequence[0].NumericValue = "0.123"
    for first, second in (("a.dcm", "b.dcm"), ("b.dcm", "a.dcm")):
        folder = tmp_path / first
        folder.mkdir()
        for name, data in clean.items():
            (folder / name).write_bytes(data)
        report.save_as(folder / f"zz-{first}")
        later.save_as(folder / f"zz-{second}")
        row = next(r for r in trace_folder(folder).studies.to_pylist() if r["study_id"] == report.StudyInstanceUID)
        assert row["ai_score"] == pytest.approx(0.123)
    vendor = later.copy()
    for item in _walk(vendor):
        for code in item.get("ConceptNameCodeSequence", []):
            if code.CodeValue == "AI-PROB":
                code.CodingSchemeDesignator, code.CodeValue = "99VENDOR", "P-MALIGN"
    folder = tmp_path / "vendor"
    folder.mkdir()
    for name, data in clean.items():
        if name != _report(clean):
            (folder / name).write_bytes(data)
    vendor.save_as(folder / "vendor.dcm")
    row = lambda trace: next(r for r in trace.studies.to_pylist() if r["study_id"] == report.StudyInstanceUID)  # noqa: E731
    assert row(trace_folder(folder))["ai_score"] is None  # not radsim's concept: another report
    told = trace_folder(folder, ai=AiConcepts(("99VENDOR", "P-MALIGN"), None))
    assert row(told)["ai_score"] == pytest.approx(0.123) and row(told)["ai_positive"] is None


def _walk(ds: Dataset):
    for item in ds.get("ContentSequence", []):
        yield item
        yield from _walk(item)
