"""Synthetic DICOM: generated studies carry the required attributes per IOD (strict pydicom checks here,
dciodvfy in test_dicom_validator.py), generate -> trace gives back the same studies and times, bad files
are quarantined, and a trace keeps nothing that identifies a patient."""
from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pydicom
import pytest

from synthetic_dicom.generate import SOP_CLASSES, shape_of, study_datasets, write_study
from synthetic_dicom.header import read_header
from synthetic_dicom.objects import ai_result
from synthetic_dicom.trace import TRACE_COLUMNS, trace_folder

REQUIRED = {  # a strict subset of the type 1 and 2 attributes of each IOD's modules
    "all": ["PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
            "StudyTime", "AccessionNumber", "ReferringPhysicianName", "StudyID", "SeriesInstanceUID", "Modality",
            "SeriesNumber", "SOPClassUID", "SOPInstanceUID", "InstanceNumber", "Manufacturer", "Rows", "Columns",
            "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "PhotometricInterpretation",
            "SamplesPerPixel", "PixelData"],
    "SC": ["ConversionType"],
    "CT": ["FrameOfReferenceUID", "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness",
           "RescaleIntercept", "RescaleSlope", "ImageType", "KVP"],
    "MR": ["FrameOfReferenceUID", "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness",
           "ScanningSequence", "SequenceVariant", "MRAcquisitionType", "EchoTrainLength"],
    "MG": ["ImageLaterality", "ViewPosition", "PresentationIntentType", "BodyPartExamined"],
    "DX": ["ViewPosition", "PresentationIntentType", "ImageType"],
}


@pytest.fixture(scope="module")
def records(dicom_records):
    return dicom_records


def test_generated_objects_have_what_their_iod_requires(records, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydicom warns on bad values: here they are errors
        for record in records:
            paths = write_study(record, tmp_path)
            expected = {"CT": 8, "MR": 6, "MG": 4}.get(record.modality, 1) + (record.ai_score is not None)
            assert len(paths) == expected
            reports = [pydicom.dcmread(p) for p in paths if p.name.startswith("SR")]
            assert len(reports) == (record.ai_score is not None)
            for report in reports:
                assert report.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR
                assert report.StudyInstanceUID == record.study_id
                result = ai_result(read_header(Path(report.filename)))
                assert (result.score, result.positive) == (
                    pytest.approx(record.ai_score, abs=1e-6), bool(record.ai_positive))
                evidence = report.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
                assert len(evidence.ReferencedSOPSequence) == expected - 1  # every image it read
            datasets = [pydicom.dcmread(p) for p in paths if not p.name.startswith("SR")]
            written = shape_of(record, 64)
            for ds in datasets:
                assert ds.file_meta.TransferSyntaxUID and ds.SOPClassUID == SOP_CLASSES[written.modality]
                assert ds.Modality == (written.code or written.modality)  # a Secondary Capture keeps its modality
                for keyword in REQUIRED["all"] + REQUIRED.get(written.modality, []):
                    assert keyword in ds, (ds.Modality, keyword)
                assert ds.StudyInstanceUID == record.study_id and len(ds.SOPInstanceUID) <= 64
                assert ds.pixel_array.shape == (ds.Rows, ds.Columns)
            assert len({ds.SOPInstanceUID for ds in datasets}) == len(datasets)
            if record.modality == "MG":
                assert {(ds.ImageLaterality, ds.ViewPosition) for ds in datasets} == {
                    ("R", "CC"), ("L", "CC"), ("R", "MLO"), ("L", "MLO")}
            if record.modality == "CT":
                z = [float(ds.ImagePositionPatient[2]) for ds in datasets]
                assert z == sorted(z) and len({ds.FrameOfReferenceUID for ds in datasets}) == 1


def test_uids_are_deterministic(records) -> None:
    first = [ds.SOPInstanceUID for ds in study_datasets(records[0])]
    assert first == [ds.SOPInstanceUID for ds in study_datasets(records[0])]


def test_generate_then_trace_gives_back_the_studies(records, tmp_path: Path) -> None:
    for record in records:
        write_study(record, tmp_path)
    trace = trace_folder(tmp_path)
    assert not trace.quarantine and trace.studies.column_names == TRACE_COLUMNS
    rows = {r["study_id"]: r for r in trace.studies.to_pylist()}
    assert set(rows) == {r.study_id for r in records}
    for record in records:
        row = rows[record.study_id]
        shape = shape_of(record, 64)
        modality = shape.code or shape.modality
        assert row["modality"] == modality and row["institution"] == record.institution
        # The site from StationName `<site>-<modality>`, unless StationName's 16 characters cut it (then
        # the institution, or a site map, says where: test_sites_are_found_when_station_names_are_cut).
        assert row["site"] == (record.site if len(f"{record.site}-{modality}") < 16 else None)
        assert row["referral"] == record.referral
        assert abs(row["arrived"] - record.acquired) < dt.timedelta(milliseconds=1)
        if record.ai_score is None:
            assert row["ai_score"] is None and row["ai_positive"] is None
        else:
            assert row["ai_score"] == pytest.approx(record.ai_score, abs=1e-6)
            assert row["ai_positive"] == bool(record.ai_positive)


def test_bad_files_are_quarantined_and_the_rest_is_read(records, tmp_path: Path) -> None:
    good = [p for p in write_study(records[0], tmp_path / "good") if not p.name.startswith("SR")]
    (tmp_path / "notes.txt").write_text("not dicom")
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(good[0].read_bytes()[:200])
    no_study = pydicom.dcmread(good[0])
    del no_study.StudyInstanceUID
    no_study.save_as(tmp_path / "no_study.dcm")
    clash = pydicom.dcmread(good[0])
    clash.StudyInstanceUID = "2.25.1"
    clash.SOPInstanceUID = "2.25.2"
    clash.save_as(tmp_path / "zz_clash.dcm")
    trace = trace_folder(tmp_path)
    reasons = {Path(q["file"]).name: q["reason"] for q in trace.quarantine}
    assert set(reasons) == {"notes.txt", "truncated.dcm", "no_study.dcm", "zz_clash.dcm"}, reasons
    assert "also in study" in reasons["zz_clash.dcm"] and "StudyInstanceUID" in reasons["no_study.dcm"]
    assert trace.studies.num_rows == 1
    # Paths relative to the traced folder (never where it lies), or hashed: folder names may name patients.
    assert set(reasons) == {q["file"] for q in trace.quarantine}
    hashed = trace_folder(tmp_path, hash_paths=True).quarantine
    assert sorted(q["code"] for q in hashed) == sorted(q["code"] for q in trace.quarantine)
    assert all(len(q["file"]) == 16 and set(q["file"]) <= set("0123456789abcdef") for q in hashed)
    assert not any(str(tmp_path) in q["reason"] or "good" in q["reason"] for q in hashed)


def test_a_trace_keeps_nothing_that_identifies_a_patient(records, tmp_path: Path) -> None:
    write_study(records[0], tmp_path)
    ds = pydicom.dcmread(next(tmp_path.rglob("*.dcm")))
    table = trace_folder(tmp_path).studies
    text = str(table.to_pylist())
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "StudyID"):
        value = str(ds.get(keyword, ""))
        assert not value or value not in text, keyword
    assert not {"patient_name", "patient_id", "birth_date"} & set(table.column_names)


def test_the_cli_generates_from_a_run_and_traces_the_folder(tmp_path: Path) -> None:
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from simulator.cli import app

    runner = CliRunner()
    run = tmp_path / "run"
    assert runner.invoke(app, ["run", "moscow_reference_center", "--set", "horizon_days=1", "--set", "warmup_days=0",
                               "--workers", "1", "--out", str(run)]).exit_code == 0
    result = runner.invoke(app, ["dicom", "generate", str(run), "--out", str(tmp_path / "dcm"), "--limit", "12"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["dicom", "trace", str(tmp_path / "dcm"), "--out", str(tmp_path / "trace.parquet")])
    assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "trace.parquet").num_rows == 12
    assert runner.invoke(app, ["dicom", "generate", str(tmp_path), "--out", str(tmp_path / "x")]).exit_code == 2


def test_send_to_the_archive_over_loopback_gives_back_the_same_content(records, tmp_path: Path) -> None:
    import socket as sockets

    from synthetic_dicom.network import Archive, send_folder

    with sockets.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    archive = Archive(tmp_path / "archive", port)
    archive.start()
    try:
        record = next(r for r in records if r.ai_score is not None and r.modality == "CT")
        paths = write_study(record, tmp_path / "modality")
        result = send_folder(paths, "127.0.0.1", port)
        others = [r for r in records if r.modality in ("MG", "DX")][:4]  # then four studies over two associations
        more = [p for r in others for p in write_study(r, tmp_path / "modality")]
        parallel = send_folder(more, "127.0.0.1", port, associations=2)
    finally:
        archive.stop()
    assert result.sent == len(paths) and not result.failed
    assert parallel.sent == len(more) and not parallel.failed and archive.received == len(paths) + len(more)
    for path in paths + more:
        original = pydicom.dcmread(path)
        stored = pydicom.dcmread(tmp_path / "archive" / original.StudyInstanceUID / f"{original.SOPInstanceUID}.dcm")
        assert stored == original  # every data element equal (the file meta may differ: the archive wrote it)


def through_dicom(settings: list[str], folder: Path):
    """The reference centre run with `settings`, written as DICOM files and traced: its studies table, the
    trace, and the trace's Parquet file."""
    import pyarrow.parquet as pq

    from simulator import load_scenario, run_scenario
    from synthetic_dicom.generate import StudyWriter, records_from_run

    scenario = load_scenario("moscow_reference_center", settings)
    studies = run_scenario(scenario, 1, workers=1).studies
    writer = StudyWriter()
    for record in records_from_run(studies, scenario):
        writer.write(record, folder / "dicom")
    trace = trace_folder(folder / "dicom")
    pq.write_table(trace.studies, folder / "trace.parquet")
    return studies, trace, folder / "trace.parquet"


def test_a_run_replayed_from_its_own_dicom_gives_back_its_studies(tmp_path: Path) -> None:
    """run -> DICOM -> trace -> run: the same image studies, at the same times, with the same AI results."""
    import pyarrow.compute as pc

    from simulator import load_scenario, run_scenario

    settings = ["horizon_days=0.5", "warmup_days=0"]
    studies, trace, traced = through_dicom(settings, tmp_path)
    assert not trace.quarantine
    replayed = run_scenario(load_scenario("moscow_reference_center", [*settings, f"arrivals.trace={traced}", "seed=3"]),
                            1, workers=1).studies

    def primaries(table):
        rows = table.filter(pc.equal(table.column("kind"), "primary")).to_pylist()
        return sorted(rows, key=lambda r: r["arrived_at"])

    before, after = primaries(studies), primaries(replayed)
    assert len(before) == len(after) > 300
    for a, b in zip(before, after):
        assert (a["study_type"], a["site"], a["referral"]) == (b["study_type"], b["site"], b["referral"])
        assert b["arrived_at"] == pytest.approx(a["arrived_at"], abs=1e-6)
        if a["ai_score"] is None:
            assert b["ai_score"] is None
        else:
            assert b["ai_score"] == pytest.approx(a["ai_score"], abs=1e-6) and b["ai_positive"] == a["ai_positive"]


def test_the_cli_generates_from_a_scenario_and_a_count(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from simulator.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["dicom", "generate", "moscow_reference_center", "--studies", "40",
                                 "--out", str(tmp_path / "dcm")])
    assert result.exit_code == 0, result.output
    folders = [p for p in (tmp_path / "dcm").iterdir() if p.is_dir()]
    assert len(folders) == 40 and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    again = runner.invoke(app, ["dicom", "generate", "moscow_reference_center", "--studies", "40",
                                "--out", str(tmp_path / "again")])
    assert again.exit_code == 0
    for folder in folders:  # a pure function of (scenario, seed): the same bytes
        for path in folder.iterdir():
            assert path.read_bytes() == (tmp_path / "again" / folder.name / path.name).read_bytes()
    result = runner.invoke(app, ["dicom", "generate", "no_such_scenario", "--studies", "3", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and not (tmp_path / "x").exists()


def test_sites_are_found_when_station_names_are_cut(tmp_path: Path) -> None:
    """StationName holds 16 characters: `polyclinic_north_annex-DX` is cut to `polyclinic_north`, another
    site's key. The trace does not take a cut name for a site; the replay finds the site by its
    institution, or by a site map (station, AE title, institution -> site)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from simulator import ScenarioError, load_scenario, run_scenario
    from simulator.cli import app

    annex = ["horizon_days=0.25", "warmup_days=0", "sites.polyclinic_north_annex={kind: polyclinic, weight: 3}"]
    studies, trace, traced = through_dicom(annex, tmp_path)
    stations = set(trace.studies.column("station").to_pylist())
    assert "polyclinic_north" in stations  # the annex's cut name: no site is taken from it
    assert "polyclinic_north" not in trace.studies.column("site").to_pylist()
    replayed = run_scenario(load_scenario("moscow_reference_center", [*annex, f"arrivals.trace={traced}"]),
                            1, workers=1).studies

    def sites(table):
        rows = table.filter(pc.equal(table.column("kind"), "primary")).to_pylist()
        return sorted((round(r["arrived_at"], 5), r["site"]) for r in rows)

    assert sites(replayed) == sites(studies) and "polyclinic_north_annex" in dict(sites(studies)).values()

    # Real station names say nothing of the site: a site map does, at trace time or at replay time.
    (tmp_path / "sites.yaml").write_text("stations: {PNA-DX-01: polyclinic_north_annex}\n"
                                         "ae_titles: {PN_DX: polyclinic_north}\n"
                                         "institutions: {City Hospital One: hospital_1}\n")
    import pyarrow as pa

    table = trace.studies.slice(0, 3)
    table = table.set_column(table.column_names.index("station"), "station",
                                pa.array(["pna-dx-01 ", "X", "Y"])) \
        .set_column(table.column_names.index("source_ae"), "source_ae", pa.array([None, "PN_DX", None])) \
        .set_column(table.column_names.index("institution"), "institution", pa.array(["Z", "Z", "City Hospital One"])) \
        .set_column(table.column_names.index("site"), "site", pa.array([None, None, None], pa.string()))
    pq.write_table(table, tmp_path / "mapped.parquet")
    mapped = run_scenario(load_scenario("moscow_reference_center", [
        *annex, f"arrivals.trace={tmp_path / 'mapped.parquet'}", f"arrivals.site_map={tmp_path / 'sites.yaml'}"]),
        1, workers=1).studies
    primaries = mapped.filter(pc.equal(mapped.column("kind"), "primary")).sort_by("arrived_at")
    assert primaries.column("site").to_pylist() == ["polyclinic_north_annex", "polyclinic_north", "hospital_1"]
    (tmp_path / "wrong.yaml").write_text("stations: {PNA-DX-01: polyclinic_nowhere}\n")
    with pytest.raises(ScenarioError, match=r"wrong.yaml: stations.pna-dx-01: 'polyclinic_nowhere' is not a site"):
        load_scenario("moscow_reference_center", [
            *annex, f"arrivals.trace={tmp_path / 'mapped.parquet'}", f"arrivals.site_map={tmp_path / 'wrong.yaml'}"])
    result = CliRunner().invoke(app, ["dicom", "trace", str(tmp_path / "dicom"), "--out", str(tmp_path / "t2.parquet"),
                                      "--site-map", str(tmp_path / "wrong.yaml")])
    assert result.exit_code == 0, result.output  # a trace knows no scenario: any site name goes
    (tmp_path / "bad.yaml").write_text("station: {A: b}\n")
    result = CliRunner().invoke(app, ["dicom", "trace", str(tmp_path / "dicom"), "--out", str(tmp_path / "t3.parquet"),
                                      "--site-map", str(tmp_path / "bad.yaml")])
    assert result.exit_code == 2 and "bad.yaml: station: unknown key" in result.output
