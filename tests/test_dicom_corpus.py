"""Traces of DICOM files nobody on this project wrote: pydicom's own test files and the pydicom-data
package (compressed syntaxes, big endian, files without a preamble, DICOMDIRs, SRs, RT objects, broken
files). What the trace says is checked against pydicom reading each file on its own."""
from __future__ import annotations

import shutil
import warnings
from collections import Counter
from pathlib import Path

import pydicom
import pytest

from synthetic_dicom.objects import IMAGE, kind_of
from synthetic_dicom.trace import trace_folder


def corpus_sources() -> list[Path]:
    sources = [Path(pydicom.__file__).parent / "data" / "test_files"]
    try:
        import data_store  # the pydicom-data package (a test dependency)
    except ImportError:
        pass
    else:
        sources.append(Path(data_store.__file__).parent / "data")
    return sources


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for k, source in enumerate(corpus_sources()):
        shutil.copytree(source, folder / f"{k}-{source.parent.name}", ignore=shutil.ignore_patterns("*.py"))
    return folder


def _pydicom(path: Path) -> pydicom.Dataset | None:
    """What pydicom reads from a file, forgiving all it can; None if it finds no DICOM in it (no file meta,
    no element it knows: forced, it reads any text as one odd element)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - any failure means pydicom cannot read it
            return None
    return ds if len(getattr(ds, "file_meta", {})) or any(element.keyword for element in ds) else None


@pytest.fixture(scope="module")
def traced(corpus: Path):
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    return files, {p.relative_to(corpus).as_posix(): _pydicom(p) for p in files}, trace_folder(corpus)


def test_every_study_pydicom_finds_is_a_row_or_listed_as_having_no_image(traced) -> None:
    files, theirs, trace = traced
    assert len(files) >= 200  # pydicom's test files alone are over 200
    studies = {str(ds.StudyInstanceUID) for ds in theirs.values() if ds is not None and ds.get("StudyInstanceUID")}
    rows = set(trace.studies.column("study_id").to_pylist())
    without_images = {entry["reason"].split()[1] for entry in trace.quarantine if entry["code"] == "no images"}
    assert not rows & without_images
    assert rows | without_images == studies
    used = len(files) - len(trace.quarantine)
    assert sum(trace.studies.column("files").to_pylist()) + sum(trace.studies.column("other_objects").to_pylist()) \
        == used


def test_each_left_out_file_has_the_right_reason(traced) -> None:
    files, theirs, trace = traced
    listed = {entry["file"]: entry for entry in trace.quarantine}
    assert len(listed) == len(trace.quarantine)  # each file once
    codes = Counter(entry["code"] for entry in trace.quarantine)
    assert {"not DICOM", "DICOMDIR", "duplicate", "no study", "no images", "truncated"} <= set(codes), codes
    kept = {}  # objects read into a study (a row, or a study listed for having no image)
    for name, ds in theirs.items():
        if ds is not None and (name not in listed or listed[name]["code"] == "no images"):
            kept[str(ds.SOPInstanceUID)] = str(ds.StudyInstanceUID)
    for name, entry in listed.items():
        ds = theirs[name]
        code = entry["code"]
        if code == "not DICOM":
            assert ds is None, name
        elif code == "DICOMDIR":
            assert ds is not None and "DirectoryRecordSequence" in ds, name
        elif code == "no study":
            assert ds is not None and not ds.get("StudyInstanceUID"), name
        elif code == "duplicate":
            assert kept[str(ds.SOPInstanceUID)] == str(ds.StudyInstanceUID), name
        elif code == "no images":
            assert kind_of(str(ds.SOPClassUID), ds.get("Modality")) != IMAGE, name
            study = str(ds.StudyInstanceUID)
            assert not [n for n, other in theirs.items() if other is not None and n not in listed
                        and str(other.get("StudyInstanceUID", "")) == study], name
        elif code == "truncated":
            assert "truncated" in name, name  # the corpus names its truncated files so
        else:
            pytest.fail(f"{name}: unexpected reason {entry}")


def test_rows_say_what_pydicom_reads_from_the_images(traced) -> None:
    files, theirs, trace = traced
    listed = {entry["file"] for entry in trace.quarantine}
    images: dict[str, list[pydicom.Dataset]] = {}
    for name, ds in theirs.items():
        if name not in listed and ds is not None and kind_of(str(ds.SOPClassUID), ds.get("Modality")) == IMAGE:
            images.setdefault(str(ds.StudyInstanceUID), []).append(ds)
    for row in trace.studies.to_pylist():
        mine = images[row["study_id"]]
        assert row["files"] == len(mine)
        assert row["modality"] in {ds.get("Modality") or None for ds in mine}
        assert row["body_part"] in {ds.get("BodyPartExamined") or None for ds in mine}
        assert row["institution"] in {ds.get("InstitutionName") or None for ds in mine}


def test_the_corpus_trace_replays(traced, tmp_path: Path) -> None:
    """A trace of real headers (no order priority, some without a date, modalities no study type takes)
    replays: referrals drawn, undated and unmatched rows left out and counted."""
    import pyarrow.parquet as pq

    from simulator import load_scenario, run_scenario
    from simulator.trace_arrivals import replay_counts

    _, _, trace = traced
    pq.write_table(trace.studies, tmp_path / "corpus.parquet")
    (tmp_path / "scenario.yaml").write_text(f"""
name: corpus_replay
start: "2003-01-01T00:00"
horizon_days: 3650
warmup_days: 0
study_types:
  ct: {{modality: CT, arrivals: {{rate_per_hour: 0}}, read_minutes: {{dist: exponential, mean: 10}}}}
  mr: {{modality: MR, arrivals: {{rate_per_hour: 0}}, read_minutes: {{dist: exponential, mean: 15}}}}
  us: {{modality: US, arrivals: {{rate_per_hour: 0}}, read_minutes: {{dist: exponential, mean: 8}}}}
pools:
  readers: {{reads: ["*"], shifts: [{{start: "08:00", end: "20:00", staff: 1}}]}}
arrivals: {{trace: corpus.parquet, unmatched: drop}}
""")
    scenario = load_scenario(str(tmp_path / "scenario.yaml"))
    counts = replay_counts(scenario)
    rows = trace.studies.to_pylist()
    undated = sum(r["arrived"] is None for r in rows)
    assert counts["rows"] == len(rows) and counts["undated"] == undated > 0
    assert counts["replayed"] > 0 and counts["unmatched"] > 0
    assert sum(counts[k] for k in ("replayed", "outside", "unmatched", "undated")) == len(rows)
    studies = run_scenario(scenario, 1, workers=1).studies
    assert studies.num_rows == counts["replayed"]
    assert set(studies.column("referral").to_pylist()) <= {"stat", "urgent", "routine"}
