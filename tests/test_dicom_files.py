"""The bytes of generated DICOM files: the template writer writes exactly what pydicom writes for the
same datasets, the header reader reads what pydicom reads, and dciodvfy (Debian's dicom3tools, installed
by .ci/run) finds no error in any kind of object generated."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, ImplicitVRLittleEndian

from synthetic_dicom.generate import StudyWriter, encode_reference, file_name, shape_of, study_datasets
from synthetic_dicom.header import Elements, HeaderError, read_header


def test_the_template_writer_writes_what_pydicom_writes(dicom_records) -> None:
    writer = StudyWriter()
    for record in dicom_records:
        fast = writer.files(record)
        reference = [(file_name(ds), encode_reference(ds)) for ds in study_datasets(record)]
        assert [name for name, _ in fast] == [name for name, _ in reference], record.modality
        for (name, ours), (_, theirs) in zip(fast, reference):
            assert ours == theirs, (record.modality, name)
    assert len(writer._templates) == len({shape_of(r, 64) for r in dicom_records})  # one template per shape


def _same(elements: Elements, ds: pydicom.Dataset) -> None:
    """Every element pydicom reads before the pixel data is in `elements` with the same value."""
    for element in ds:
        if element.tag == 0x7FE00010:
            continue
        assert int(element.tag) in elements, element.keyword
        ours = elements[int(element.tag)]
        if element.VR == "SQ":
            assert len(ours) == len(element.value), element.keyword
            for item, theirs in zip(ours, element.value):
                _same(item, theirs)
        else:
            raw = ds.get_item(element.tag).value if not isinstance(ds.get_item(element.tag), pydicom.DataElement) \
                else None
            if isinstance(raw, bytes):
                assert ours.rstrip(b" \0") == raw.rstrip(b" \0"), element.keyword


def test_the_header_reader_reads_what_pydicom_reads(dicom_records, tmp_path: Path) -> None:
    writer = StudyWriter()
    paths = [p for record in dicom_records for p in writer.write(record, tmp_path / "explicit")]
    # The same objects as other writers may send them: implicit VR, deflated, defined-length sequences.
    for syntax in (ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian):
        for path in paths[:12]:
            ds = pydicom.dcmread(path)
            ds.file_meta.TransferSyntaxUID = syntax
            target = tmp_path / str(syntax) / path.name
            target.parent.mkdir(exist_ok=True)
            ds.save_as(target, enforce_file_format=True)
            paths.append(target)
    for path in paths:
        ours = read_header(path)
        theirs = pydicom.dcmread(path, stop_before_pixels=True)
        assert ours.transfer_syntax == theirs.file_meta.TransferSyntaxUID
        _same(ours.elements, theirs)
        assert ours.text(0x00080080) == theirs.InstitutionName  # decoded with the file's character set


def test_a_file_cut_anywhere_in_its_header_is_reported_not_misread(dicom_records, tmp_path: Path) -> None:
    record = next(r for r in dicom_records if r.modality == "CT" and r.ai_score is not None)
    report = [p for p in StudyWriter().write(record, tmp_path) if p.name.startswith("SR")][0]
    data = report.read_bytes()
    cut = tmp_path / "cut.dcm"
    for length in range(0, len(data) - 1, 97):
        cut.write_bytes(data[:length])
        with pytest.raises(HeaderError):
            read_header(cut)


def _dciodvfy_errors(path: Path) -> list[str]:
    result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    return [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")]


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (Debian's dicom3tools) is not installed; "
                    ".ci/run installs it")
def test_dciodvfy_finds_no_error_in_any_kind_of_object(dicom_records, tmp_path: Path) -> None:
    writer, checked = StudyWriter(), set()
    for record in dicom_records:
        for path in writer.write(record, tmp_path):
            kind = (record.modality, path.name[:2], record.patient_age is not None, record.ai_positive)
            if kind in checked:
                continue
            checked.add(kind)
            assert _dciodvfy_errors(path) == [], (record.modality, path.name)
    assert {"DX", "CR", "CT", "MR", "MG", "SR"} <= {name for _, name, _, _ in checked} | {m for m, *_ in checked}


def test_dciodvfy_does_find_errors(dicom_records, tmp_path: Path) -> None:
    """The check above can fail: a DX object without a required attribute is an error."""
    if shutil.which("dciodvfy") is None:
        pytest.skip("dciodvfy is not installed")
    ds = study_datasets(next(r for r in dicom_records if r.modality == "DX"))[0]
    del ds.PresentationLUTShape
    path = tmp_path / "broken.dcm"
    path.write_bytes(encode_reference(ds))
    assert any("PresentationLUTShape" in line for line in _dciodvfy_errors(path))


def test_no_corruption_stops_a_trace(dicom_records, tmp_path_factory) -> None:
    """Bytes overwritten anywhere in an image or a report: the trace still finishes, each bad file is
    quarantined once, and no file is counted both ways."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from synthetic_dicom.trace import trace_folder

    record = next(r for r in dicom_records if r.modality == "MG" and r.ai_score is not None)
    folder = tmp_path_factory.mktemp("clean")
    originals = [p.read_bytes() for p in StudyWriter().write(record, folder)]

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.integers(0, len(originals) - 1), st.floats(0, 1), st.binary(min_size=1, max_size=8)),
                    min_size=1, max_size=4))
    def check(damage):
        target = tmp_path_factory.mktemp("damaged")
        files = [bytearray(data) for data in originals]
        for which, where, junk in damage:
            at = int(where * (len(files[which]) - len(junk)))
            files[which][at:at + len(junk)] = junk
        for k, data in enumerate(files):
            (target / f"{k}.dcm").write_bytes(bytes(data))
        trace = trace_folder(target)  # must not raise
        quarantined = [q["file"] for q in trace.quarantine]
        assert len(set(quarantined)) == len(quarantined)
        assert set(quarantined) <= {f"{k}.dcm" for k in range(len(files))}
        assert sum(trace.studies.column("files").to_pylist()) <= len(files) - len(quarantined)

    check()


def test_every_body_part_has_its_code_from_the_standard() -> None:
    from pydicom.sr.codedict import codes

    from simulator.body_parts import BODY_PARTS, SCHEME

    region = {(c.value, c.meaning) for c in (getattr(codes.cid4031, name) for name in codes.cid4031.dir())}
    assert {term: code for term, code in BODY_PARTS.items() if code not in region} == {}
    assert all(len(term) <= 16 and term.isupper() for term in BODY_PARTS) and SCHEME == "SCT"


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (Debian's dicom3tools) is not installed; "
                    ".ci/run installs it")
def test_dciodvfy_finds_no_error_in_a_dx_of_any_body_part(dicom_records, tmp_path: Path) -> None:
    """Before, only CHEST had a code: a DX of any other body part had an empty AnatomicRegionSequence."""
    import dataclasses

    from simulator.body_parts import BODY_PARTS

    chest = next(r for r in dicom_records if r.modality == "DX")
    writer = StudyWriter()
    for term in BODY_PARTS:
        record = dataclasses.replace(chest, body_part=term, study_id=f"{chest.study_id}{len(term)}{ord(term[0])}")
        path = next(p for p in writer.write(record, tmp_path) if p.name.startswith("DX"))
        assert _dciodvfy_errors(path) == [], term
        ds = pydicom.dcmread(path)
        assert (ds.AnatomicRegionSequence[0].CodeValue, ds.BodyPartExamined) == (BODY_PARTS[term][0], term)


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (Debian's dicom3tools) is not installed; "
                    ".ci/run installs it")
def test_every_modality_is_its_own_valid_object_and_traces_back_as_itself(dicom_records, tmp_path: Path) -> None:
    """CR with and without a body part, a paired one among them; US, NM, PT, XA and RF each in its own image
    IOD (Ultrasound, Nuclear Medicine, PET, X-Ray Angiographic, Radiofluoroscopic: they had been Secondary
    Captures of their modality), with a body part, a paired one and none, with and without an AI report
    that references them (measured over every body part, with CR, CT and MR too: no error in any); an unknown code as a Secondary Capture of OT: dciodvfy finds no error in any, and
    the trace gives each study its own modality."""
    import dataclasses

    import pydicom

    from synthetic_dicom.trace import trace_folder

    IOD = {"CR": "Computed Radiography Image Storage", "US": "Ultrasound Image Storage",
           "NM": "Nuclear Medicine Image Storage", "PT": "Positron Emission Tomography Image Storage",
           "XA": "X-Ray Angiographic Image Storage", "RF": "X-Ray Radiofluoroscopic Image Storage"}
    dx = next(r for r in dicom_records if r.modality == "DX" and r.ai_score is not None)
    # Parts where dciodvfy's sided list and the anatomy's pairs part ways (a sacrum, a rib; the ilium).
    cases = [("CR", None, False), ("CR", "KNEE", False), ("CR", "SACRUM", False), ("CR", "ILIUM", False),
             ("US", "RIB", False), ("PT", "ILIUM", False), ("XA", "SELLA", False), ("ZZ", None, False)]
    cases += [(m, part, scored) for m in ("US", "NM", "PT", "XA", "RF") for part, scored in
              (("ABDOMEN", True), ("KNEE", False), (None, True), ("CHEST", False))]
    writer = StudyWriter()
    for i, (modality, part, scored) in enumerate(cases):
        record = dataclasses.replace(dx, study_id=f"{dx.study_id}9{i}", modality=modality, body_part=part,
                                     **({} if scored else {"ai_score": None, "ai_positive": None}))
        for path in writer.write(record, tmp_path / "studies"):
            assert _dciodvfy_errors(path) == [], (modality, part, path.name)
            if not path.name.startswith("SR"):
                name = pydicom.dcmread(path, stop_before_pixels=True).SOPClassUID.name
                assert name == IOD.get(modality, "Secondary Capture Image Storage"), (modality, path.name)
    traced = {row["study_id"]: row["modality"] for row in trace_folder(tmp_path / "studies").studies.to_pylist()}
    assert sorted(traced.values()) == sorted("OT" if m == "ZZ" else m for m, _, _ in cases)
