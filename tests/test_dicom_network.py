"""DICOM over the network with peers nobody here wrote: DCMTK's storescu and storescp (Debian's dcmtk,
installed by .ci/run; those tests skip without it), pydicom's test files in every transfer syntax it has,
objects whose UIDs try to leave the archive's folder, a peer that aborts, a peer that serves one
association at a time. All on loopback."""
from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from synthetic_dicom.network import TRANSFER_SYNTAXES, Archive, send_folder

def _dcmtk(tool: str) -> str | None:
    """DCMTK's tool, not pynetdicom's script of the same name in this Python's bin folder (first on PATH
    in an activated virtual environment)."""
    ours = Path(sys.prefix, "bin").resolve()
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != ours)
    return shutil.which(tool, path=path)


STORESCU, STORESCP = _dcmtk("storescu"), _dcmtk("storescp")
DCMTK = STORESCU is not None and STORESCP is not None
needs_dcmtk = pytest.mark.skipif(not DCMTK, reason="DCMTK (Debian's dcmtk: storescp, storescu) is not installed; "
                                 ".ci/run installs it")
TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
# storescu's option proposing each transfer syntax (with the uncompressed ones).
STORESCU_PROPOSES = {"1.2.840.10008.1.2": "-xi", "1.2.840.10008.1.2.1": "-xe", "1.2.840.10008.1.2.2": "-xb",
                     "1.2.840.10008.1.2.1.99": "-xd", "1.2.840.10008.1.2.4.50": "-xy", "1.2.840.10008.1.2.4.51": "-xx",
                     "1.2.840.10008.1.2.4.70": "-xs", "1.2.840.10008.1.2.4.80": "-xt", "1.2.840.10008.1.2.4.81": "-xu",
                     "1.2.840.10008.1.2.4.90": "-xv", "1.2.840.10008.1.2.4.91": "-xw", "1.2.840.10008.1.2.5": "-xr"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read(path: Path) -> pydicom.Dataset | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path)
        except Exception:  # noqa: BLE001 - not a file to use here
            return None


@pytest.fixture(scope="module")
def by_syntax() -> dict[str, Path]:
    """One of pydicom's test files per transfer syntax: whole (no truncated file), a study, an object."""
    chosen: dict[str, Path] = {}
    for path in sorted(TEST_FILES.glob("*.dcm")):
        ds = _read(path)
        if ds is None or "truncated" in path.name or not {"StudyInstanceUID", "SOPInstanceUID", "SOPClassUID"} <= set(ds.dir()):
            continue
        if ds.file_meta.get("MediaStorageSOPInstanceUID") != ds.SOPInstanceUID:
            continue  # a file whose meta contradicts it: a peer refuses it, rightly (tested below)
        chosen.setdefault(str(ds.file_meta.TransferSyntaxUID), path)
    assert {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.2"} \
        <= set(chosen), chosen
    return chosen


def _same(received: Path, original: Path) -> None:
    """Every element equal, the (compressed) pixel data byte for byte, in the same transfer syntax. Group
    lengths (gggg,0000) and trailing padding (FFFC,FFFC) aside: they carry nothing, and DCMTK writes the
    one again and drops the other as it encodes."""
    theirs, ours = _read(original), _read(received)
    assert ours is not None, received
    assert ours.file_meta.TransferSyntaxUID == theirs.file_meta.TransferSyntaxUID, original.name
    assert _content(ours) == _content(theirs), original.name


def _content(ds: pydicom.Dataset) -> list:
    return [(int(e.tag), [_content(item) for item in e.value] if e.VR == "SQ" else e.value)
            for e in ds if e.tag.element != 0 and e.tag != 0xFFFCFFFC]


class _Running:
    """A radsim archive on a free port, stopped at the end."""

    def __init__(self, directory: Path, **options) -> None:
        self.port = free_port()
        self.log: list[str] = []
        self.archive = Archive(directory, self.port, log=self.log.append, **options)

    def __enter__(self) -> "_Running":
        self.archive.start()
        return self

    def __exit__(self, *exc) -> None:
        self.archive.stop()


def _filed(directory: Path, original: Path) -> Path:
    """Where the archive filed this file: <SOPInstanceUID>.dcm, or <SOPInstanceUID>.<n>.dcm when another
    object had that UID first (pydicom's test files share UIDs between the syntaxes of one image)."""
    ds = _read(original)
    copies = sorted((directory / ds.StudyInstanceUID).glob(f"{ds.SOPInstanceUID}*.dcm"))
    return next((c for c in copies if _read(c).file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID),
                directory / ds.StudyInstanceUID / f"{ds.SOPInstanceUID}.dcm")


@needs_dcmtk
def test_storescu_to_the_archive_in_every_transfer_syntax(by_syntax, tmp_path: Path) -> None:
    with _Running(tmp_path / "archive") as running:
        for syntax, path in by_syntax.items():
            option = STORESCU_PROPOSES.get(syntax)
            if option is None:
                continue
            result = subprocess.run([STORESCU, option, "-R", "-aec", "RADSIM_ARCHIVE", "127.0.0.1",
                                     str(running.port), str(path)], capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, (syntax, result.stderr)
            _same(_filed(tmp_path / "archive", path), path)
    assert running.archive.counts["filed"] == sum(s in STORESCU_PROPOSES for s in by_syntax) >= 10


@needs_dcmtk
def test_send_to_storescp_in_every_transfer_syntax_and_refusals_counted(by_syntax, tmp_path: Path) -> None:
    folder = tmp_path / "send"
    folder.mkdir()
    for path in by_syntax.values():
        shutil.copy(path, folder / path.name)
    for accept_all in (True, False):
        out = tmp_path / f"storescp-{accept_all}"
        out.mkdir()
        port = free_port()
        peer = subprocess.Popen([STORESCP, "+uf", *(["+xa"] if accept_all else []), "-od", str(out), str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for(port)
            result = send_folder(sorted(folder.iterdir()), "127.0.0.1", port, called="ANY-SCP")
        finally:
            peer.terminate()
            peer.wait(10)
        received = {_key(p): p for p in out.iterdir()}  # several test files are one image in other syntaxes
        if accept_all:
            # pydicom's deflated test file has an odd-length stream (PS3.5 A.5 pads it to even): DCMTK aborts
            # on it. Sent as it is encoded, it is refused, with the abort, and the rest still goes.
            odd = {folder / p.name for s, p in by_syntax.items() if s == "1.2.840.10008.1.2.1.99" and _odd_stream(p)}
            assert {Path(p) for p, _ in result.refused} == odd and not result.unreadable, result.failed
            assert all("aborted by the peer" in reason for _, reason in result.refused)
            assert result.sent == len(by_syntax) - len(odd) >= 10
            for path in by_syntax.values():
                if folder / path.name not in odd:
                    _same(received[_key(path)], path)
        else:  # storescp's default takes uncompressed data only: the rest is refused by the peer, and said so
            uncompressed = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"}
            assert result.sent == sum(s in uncompressed for s in by_syntax) == len(received)
            assert len(result.refused) == len(by_syntax) - result.sent
            assert all("No presentation context" in reason for _, reason in result.refused)


def _key(path: Path) -> tuple[str, str]:
    ds = _read(path)
    return str(ds.SOPInstanceUID), str(ds.file_meta.TransferSyntaxUID)


def _odd_stream(path: Path) -> bool:
    from synthetic_dicom.header import _meta

    data = path.read_bytes()
    return (len(data) - _meta(data)[1]) % 2 == 1


def _wait_for(port: int) -> None:
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


@needs_dcmtk
def test_send_goes_on_after_the_peer_aborts(tmp_path: Path) -> None:
    """storescp aborts the association on a file that ends inside its pixel data; radsim connects again
    and sends the rest, and says which file the abort came with and why."""
    folder = tmp_path / "study"
    folder.mkdir()
    for name, source in (("a.dcm", "CT_small.dcm"), ("b.dcm", "MR_truncated.dcm"), ("c.dcm", "MR_small.dcm"),
                         ("d.dcm", "MR_small_implicit.dcm")):
        shutil.copy(TEST_FILES / source, folder / name)
    out, port = tmp_path / "out", free_port()
    out.mkdir()
    peer = subprocess.Popen([STORESCP, "-od", str(out), str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for(port)
        started = time.monotonic()
        result = send_folder(sorted(folder.iterdir()), "127.0.0.1", port, called="ANY-SCP")
        seconds = time.monotonic() - started
    finally:
        peer.terminate()
        peer.wait(10)
    assert [Path(p).name for p, _ in result.refused] == ["b.dcm"] and result.sent == 3, result
    assert "aborted by the peer" in result.refused[0][1] and result.aborts
    assert seconds < 20  # not a timeout: the abort is heard and the association replaced at once


@needs_dcmtk
def test_parallel_associations_to_a_peer_that_serves_one_at_a_time(dicom_records, tmp_path: Path) -> None:
    from synthetic_dicom.generate import StudyWriter

    writer = StudyWriter()
    paths = [p for record in dicom_records[:8] for p in writer.write(record, tmp_path / "studies")]
    out, port = tmp_path / "out", free_port()
    out.mkdir()
    peer = subprocess.Popen([STORESCP, "-od", str(out), str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # no --fork: one association at a time
    try:
        _wait_for(port)
        result = send_folder(paths, "127.0.0.1", port, called="ANY-SCP", associations=4)
    finally:
        peer.terminate()
        peer.wait(10)
    assert result.sent == len(paths) and not result.failed, result.tally()
    assert len(list(out.iterdir())) == len(paths)


def _hostile(study: str, instance: str) -> bytes:
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID, ds.StudyInstanceUID = "1.2.840.10008.5.1.4.1.1.7", instance, study
    ds.SeriesInstanceUID, ds.Modality = "1.2.3.4", "OT"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, instance
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns that these are not UIDs: that is the point
        pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


HOSTILE = [("../../escaped_study", "1.2.3.4.5"), ("1.2.3", "../../../escaped_instance"), ("/tmp/absolute", "1.2.3.6"),
           ("1.2.3", "a/b/../c"), ("1.2.3", "1." + "9" * 80)]


@pytest.mark.parametrize("sender", ["radsim", pytest.param("storescu", marks=needs_dcmtk)])
def test_uids_cannot_steer_where_the_archive_writes(sender: str, tmp_path: Path) -> None:
    folder, archive = tmp_path / "send", tmp_path / "a" / "b" / "archive"
    folder.mkdir()
    for k, (study, instance) in enumerate(HOSTILE):
        (folder / f"{k}.dcm").write_bytes(_hostile(study, instance))
    before = {p for p in tmp_path.rglob("*")}
    with _Running(archive) as running:
        if sender == "radsim":
            result = send_folder(sorted(folder.iterdir()), "127.0.0.1", running.port)
            # pynetdicom will not put a UID over 64 characters in a request: that one is not sendable here.
            assert result.sent == len(HOSTILE) - 1 and "64 characters" in result.unreadable[0][1], result.tally()
        else:
            subprocess.run([STORESCU, "-aec", "RADSIM_ARCHIVE", "127.0.0.1", str(running.port),
                            *map(str, sorted(folder.iterdir()))], capture_output=True, timeout=60)
    written = {p for p in tmp_path.rglob("*")} - before
    assert all(archive in p.parents or p in archive.parents or p == archive for p in written), written
    assert not Path("/tmp/absolute").exists()
    filed = sorted(p.relative_to(archive).as_posix() for p in archive.rglob("*.dcm"))
    assert len(filed) == running.archive.counts["filed"] >= len(HOSTILE) - 1
    assert all(part == "1.2.3" or part.startswith("not-a-uid-") for name in filed for part in
               [name.split("/")[0]]) and any(name.startswith("not-a-uid-") for name in filed)
    assert any("is not a DICOM UID" in line for line in running.log)


def test_the_archive_can_refuse_associations_addressed_to_another_ae(dicom_records, tmp_path: Path) -> None:
    from synthetic_dicom.generate import StudyWriter

    paths = StudyWriter().write(dicom_records[0], tmp_path / "study")
    with _Running(tmp_path / "archive", ae_title="PACS_ONE", require_called_ae=True) as running:
        with pytest.raises(ConnectionError, match="rejected by the peer"):
            send_folder(paths, "127.0.0.1", running.port, called="SOMEONE_ELSE")
        assert send_folder(paths, "127.0.0.1", running.port, called="PACS_ONE").sent == len(paths)


def test_the_cli_says_listening_only_once_it_listens_and_tallies_a_send(dicom_records, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from simulator.cli import app
    from synthetic_dicom.generate import StudyWriter

    runner = CliRunner()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = runner.invoke(app, ["dicom", "archive", "--port", str(taken.getsockname()[1]),
                                     "--dir", str(tmp_path / "archive")])
    assert result.exit_code == 1 and "cannot listen" in result.output and "listening" not in result.output
    StudyWriter().write(dicom_records[0], tmp_path / "study")
    (tmp_path / "study" / "notes.txt").write_text("not DICOM")
    with _Running(tmp_path / "archive") as running:
        result = runner.invoke(app, ["dicom", "send", str(tmp_path / "study"), "--to", f"127.0.0.1:{running.port}"])
    said = " ".join(result.output.split())  # as read, not as wrapped
    assert result.exit_code == 1
    assert "sent, 0 refused by the peer, 1 unreadable, 0 not attempted" in said
    assert "unreadable:" in said and "notes.txt" in "".join(said.split())  # a long path wraps anywhere
    result = runner.invoke(app, ["dicom", "send", str(tmp_path / "study"), "--to", f"127.0.0.1:{free_port()}"])
    assert result.exit_code == 1 and "no association" in result.output.lower()


def test_the_archive_accepts_what_modalities_send(by_syntax) -> None:
    from synthetic_dicom.network import storage_classes

    classes = set(storage_classes())
    assert {"1.2.840.10008.5.1.4.1.1.13.1.4", "1.2.840.10008.5.1.4.1.1.13.1.5",  # breast projection X-ray
            "1.2.840.10008.5.1.4.1.1.88.67", "1.2.840.10008.5.1.4.1.1.11.1"} <= classes  # dose SR, GSPS
    assert set(by_syntax) <= set(TRANSFER_SYNTAXES) | {"1.2.840.10008.1.2.4.57"}


def test_a_file_whose_connection_drops_without_a_word_is_sent_again_once(dicom_records, tmp_path: Path) -> None:
    """A connection that goes without an abort from the peer (a network drop) costs no file: that file is
    sent once more over a new association. A peer that drops it every time gets it counted as refused."""
    from synthetic_dicom.generate import StudyWriter

    paths = [p for record in dicom_records[:3] for p in StudyWriter().write(record, tmp_path / "studies")]
    for drops in (1, 99):
        seen: list[str] = []

        class Dropping(Archive):
            def _on_store(self, event):
                seen.append(str(event.request.AffectedSOPInstanceUID))
                if seen[-1] == seen[0] and seen.count(seen[0]) <= drops:  # the first file, `drops` times
                    event.assoc.dul.socket.socket.shutdown(socket.SHUT_RDWR)  # no A-ABORT: just gone
                    return 0x0000
                return super()._on_store(event)

        port = free_port()
        archive = Dropping(tmp_path / f"archive{drops}", port)
        archive.start()
        try:
            result = send_folder(paths, "127.0.0.1", port)
        finally:
            archive.stop()
        if drops == 1:
            assert result.sent == len(paths) and not result.failed, result.tally()
        else:
            assert result.sent == len(paths) - 1 and len(result.refused) == 1, result.tally()
            assert "closed the connection" in result.refused[0][1]


def test_a_response_the_association_reactor_takes_is_handed_back() -> None:
    """pynetdicom's association reactor can take the C-STORE response send_c_store waits for and drop it
    as unexpected (a race against fast peers: one in a few thousand files against storescp, each a 30 s
    wait). The sender hands such a response back to the queue; requests still go to be served."""
    import queue
    from types import SimpleNamespace

    from pynetdicom.dimse_primitives import C_STORE

    from synthetic_dicom.network import _keep_responses

    served = []
    assoc = SimpleNamespace(dimse=SimpleNamespace(msg_queue=queue.Queue()),
                            _serve_request=lambda msg, context_id: served.append(msg))
    _keep_responses(assoc)
    response = C_STORE()
    response.MessageIDBeingRespondedTo, response.Status = 1, 0x0000
    assoc._serve_request(response, 3)
    assert assoc.dimse.msg_queue.get_nowait() == (3, response) and not served
    request = C_STORE()
    request.MessageID, request.AffectedSOPClassUID, request.AffectedSOPInstanceUID = 1, "1.2.3", "1.2.3.4"
    request.Priority, request.DataSet = 2, io.BytesIO(b"")
    assoc._serve_request(request, 3)
    assert served == [request] and assoc.dimse.msg_queue.empty()


# What a PACS engineer does first ------------------------------------------------------------------------
def test_generate_then_send_and_trace_take_the_folder_radsim_wrote_without_its_marker(dicom_records,
                                                                                     tmp_path: Path) -> None:
    """`dicom generate` writes its folder's .radsim.json marker: send and trace leave it out (it had been
    counted unreadable, and send exited 1, every time)."""
    from typer.testing import CliRunner

    from simulator.cli import app
    from simulator.files import MARKER
    from synthetic_dicom.folders import folder_files

    runner = CliRunner()
    folder = tmp_path / "generated"
    made = runner.invoke(app, ["dicom", "generate", "examples/mmc_ai_triage", "--studies", "3", "--out", str(folder)])
    assert made.exit_code == 0, made.output
    assert (folder / MARKER).is_file() and all(p.name != MARKER for p in folder_files(folder))
    with _Running(tmp_path / "archive") as running:
        sent = runner.invoke(app, ["dicom", "send", str(folder), "--to", f"127.0.0.1:{running.port}"])
    said = " ".join(sent.output.split())
    assert sent.exit_code == 0 and "0 unreadable" in said and "C-ECHO" not in said, said
    traced = runner.invoke(app, ["dicom", "trace", str(folder), "--out", str(tmp_path / "trace.parquet")])
    assert traced.exit_code == 0 and "left out" not in traced.output, traced.output


def test_c_echo_answers_and_says_why_not(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from simulator.cli import app
    from synthetic_dicom.network import echo

    runner = CliRunner()
    with _Running(tmp_path / "archive") as running:
        assert echo("127.0.0.1", running.port) is None
        answered = runner.invoke(app, ["dicom", "echo", f"127.0.0.1:{running.port}"])
        assert answered.exit_code == 0 and "Success" in answered.output
        if DCMTK and _dcmtk("echoscu"):  # the first test an engineer runs, with DCMTK's own tool
            done = subprocess.run([_dcmtk("echoscu"), "-aec", "RADSIM_ARCHIVE", "127.0.0.1", str(running.port)],
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
    silent = runner.invoke(app, ["dicom", "echo", f"127.0.0.1:{free_port()}"])
    assert silent.exit_code == 3 and "no association" in silent.output.lower()
    assert runner.invoke(app, ["dicom", "echo", "nohost"]).exit_code == 2


def test_the_archive_records_who_sent_each_file_and_trace_maps_the_sender_to_its_site(dicom_records,
                                                                                    tmp_path: Path) -> None:
    """(0002,0016) as storescp writes it: the calling AE title, read back by trace from the file (not from a
    table), so that a site map by AE title places each study; with DCMTK, storescp's files the same."""
    import pyarrow.parquet as pq

    from synthetic_dicom.generate import StudyWriter
    from synthetic_dicom.trace import trace_folder

    north = StudyWriter().write(dicom_records[0], tmp_path / "north")
    south = StudyWriter().write(dicom_records[1], tmp_path / "south")
    archives = [tmp_path / "archive"]
    with _Running(archives[0]) as running:
        assert send_folder(north, "127.0.0.1", running.port, ae_title="NORTH_CT").sent == len(north)
        assert send_folder(south, "127.0.0.1", running.port, ae_title="SOUTH_DX").sent == len(south)
    if DCMTK:
        archives.append(tmp_path / "storescp")
        archives[1].mkdir()
        port = free_port()
        receiver = subprocess.Popen([STORESCP, "-od", str(archives[1]), "--sort-on-study-uid", "st", str(port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            assert send_folder(north, "127.0.0.1", port, ae_title="NORTH_CT", called="ANY").sent == len(north)
            assert send_folder(south, "127.0.0.1", port, ae_title="SOUTH_DX", called="ANY").sent == len(south)
        finally:
            receiver.terminate()
            receiver.wait(10)
    sites = {"NORTH_CT": "north", "SOUTH_DX": "south"}
    for folder in archives:
        traced = trace_folder(folder, site_of=lambda station, ae, institution: sites.get(ae))
        rows = traced.studies.to_pylist()
        assert sorted(r["source_ae"] for r in rows) == ["NORTH_CT", "SOUTH_DX"], folder.name
        assert {r["source_ae"]: r["site"] for r in rows} == {"NORTH_CT": "north", "SOUTH_DX": "south"}


def test_a_clash_of_sop_instance_uids_keeps_both_objects_and_the_counts_are_the_files(tmp_path: Path) -> None:
    """Another object under a SOPInstanceUID already filed is kept beside it, never written over; the same
    object sent again is filed once; the archive's count is the files on disk; MessageIDs rise."""
    first = _tiny(tmp_path / "a.dcm", "1.2.3.4", "1.2.3.4.1", patient="ONE")
    other = _tiny(tmp_path / "b.dcm", "1.2.3.4", "1.2.3.4.1", patient="TWO")  # the same UIDs, another patient
    ids: list[int] = []
    from pynetdicom import evt

    with _Running(tmp_path / "archive") as running:
        running.archive.server.bind(evt.EVT_DIMSE_RECV, lambda event: ids.append(event.message.command_set.MessageID))
        assert send_folder([first, other, first], "127.0.0.1", running.port).sent == 3
        counts = dict(running.archive.counts)
    assert ids == [1, 2, 3]  # one association, each request its own MessageID
    files = sorted((tmp_path / "archive" / "1.2.3.4").glob("*.dcm"))
    assert [f.name for f in files] == ["1.2.3.4.1.2.dcm", "1.2.3.4.1.dcm"]
    assert {str(_read(f).PatientID) for f in files} == {"ONE", "TWO"}
    assert counts.get("filed") == len(files) == 2 and counts.get("again") == 1
    assert any("kept beside the first" in line for line in running.log)


def _tiny(path: Path, study: str, instance: str, patient: str) -> Path:
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", instance  # Secondary Capture
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = study, study + ".9", patient
    ds.Modality = "OT"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, instance
    ds.save_as(path, enforce_file_format=True)
    return path


def test_a_send_survives_the_archive_killed_and_restarted_mid_send(dicom_records, tmp_path: Path) -> None:
    """kill -9 of the receiving archive a few files into a send, back 1.5 s later on the same port: the
    sender asks again, and everything ends stored, with an exact tally."""
    import signal
    import threading

    from synthetic_dicom.folders import folder_files
    from synthetic_dicom.generate import StudyWriter

    writer = StudyWriter()
    for i, record in enumerate(dicom_records * 3):
        writer.write(record, tmp_path / "studies" / f"s{i}")
    paths = folder_files(tmp_path / "studies")
    port, archive = free_port(), tmp_path / "archive"

    def start() -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-m", "simulator", "dicom", "archive", "--port", str(port),
                                    "--dir", str(archive)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True)
        assert "listening" in process.stdout.readline()
        return process

    first = start()
    results = []
    sender = threading.Thread(target=lambda: results.append(send_folder(paths, "127.0.0.1", port, retry_for=30)))
    sender.start()
    deadline = time.monotonic() + 60
    while len(list(archive.rglob("*.dcm"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    time.sleep(1.5)
    second = start()
    try:
        sender.join(120)
    finally:
        second.terminate()
        second.wait(20)
    (result,) = results
    assert not result.failed and result.sent == len(paths), result.tally()
    assert len(list(archive.rglob("*.dcm"))) == len({_read(p).SOPInstanceUID for p in paths})
    assert result.aborts  # the kill was seen


def test_a_send_resumed_from_its_tally_sends_only_what_was_not_stored(dicom_records, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from simulator.cli import app
    from synthetic_dicom.folders import folder_files
    from synthetic_dicom.generate import StudyWriter

    runner = CliRunner()
    folder = tmp_path / "studies"
    for record in dicom_records[:4]:
        StudyWriter().write(record, folder)
    files = folder_files(folder)
    tally = tmp_path / "sent.json"
    with _Running(tmp_path / "first") as running:
        to = f"127.0.0.1:{running.port}"
        first = runner.invoke(app, ["dicom", "send", str(folder), "--to", to, "--tally", str(tally)])
        assert first.exit_code == 0, first.output
        document = json.loads(tally.read_text())
        assert len(document["stored"]) == len(files)
        nothing = runner.invoke(app, ["dicom", "send", str(folder), "--to", to, "--tally", str(tally), "--resume"])
        assert nothing.exit_code == 0 and "0 file(s)" in " ".join(nothing.output.split())
    # As if the first send had stopped 3 files short: only those 3 go, to a new archive.
    lost = document["stored"][-3:]
    document["stored"] = document["stored"][:-3]
    tally.write_text(json.dumps(document))
    with _Running(tmp_path / "second") as running:
        to = f"127.0.0.1:{running.port}"
        wrong = runner.invoke(app, ["dicom", "send", str(folder), "--to", to, "--tally", str(tally), "--resume"])
        assert wrong.exit_code == 2 and "the tally of a send" in wrong.output  # another peer: refused
        document["peer"] = f"RADSIM_ARCHIVE@127.0.0.1:{running.port}"
        tally.write_text(json.dumps(document))
        rest = runner.invoke(app, ["dicom", "send", str(folder), "--to", to, "--tally", str(tally), "--resume"])
        assert rest.exit_code == 0, rest.output
        assert running.archive.counts["filed"] == 3
    assert sorted(json.loads(tally.read_text())["stored"]) == sorted(document["stored"] + lost)
    mine = tmp_path / "mine.json"
    mine.write_text("{}")
    refused = runner.invoke(app, ["dicom", "send", str(folder), "--to", "127.0.0.1:1", "--tally", str(mine)])
    assert refused.exit_code == 2 and mine.read_text() == "{}"  # never written over, before anything is sent


def test_a_stopped_send_stops_at_once_keeps_an_exact_tally_and_resumes(dicom_records, tmp_path: Path) -> None:
    """SIGTERM a few files into a send: it stops after the file in hand (it had gone on to the end), exits 130,
    its tally lists exactly the files the archive holds, and --resume sends the rest."""
    import dataclasses
    import json
    import signal

    from synthetic_dicom.folders import folder_files
    from synthetic_dicom.generate import StudyWriter

    writer = StudyWriter()
    for i, record in enumerate(dicom_records * 4):
        writer.write(dataclasses.replace(record, study_id=f"{record.study_id}.{i}"), tmp_path / "studies")
    paths = folder_files(tmp_path / "studies")
    tally, archive = tmp_path / "sent.json", tmp_path / "archive"
    with _Running(archive) as running:
        command = [sys.executable, "-m", "simulator", "dicom", "send", str(tmp_path / "studies"), "--to",
                   f"127.0.0.1:{running.port}", "--tally", str(tally)]
        sender = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while running.archive.counts["filed"] < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        sender.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        output, _ = sender.communicate(timeout=60)
        assert sender.returncode == 130 and time.monotonic() - stopped < 10, output
        stored = json.loads(tally.read_text())["stored"]
        assert 20 <= len(stored) == running.archive.counts["filed"] < len(paths), output
        assert "send again with --resume" in " ".join(output.split())
        rest = subprocess.run(command + ["--resume"], capture_output=True, text=True, timeout=120)
        assert rest.returncode == 0, rest.stdout + rest.stderr
        assert running.archive.counts["filed"] == len(paths) == len(json.loads(tally.read_text())["stored"])


def _timed(path: Path, study: str, time_of_day: str | None) -> Path:
    """A one-image study acquired at `time_of_day` (HHMMSS) on one day; None: no time at all."""
    _tiny(path, study, study + ".1", patient="PACED")
    if time_of_day is not None:
        ds = pydicom.dcmread(path)
        ds.StudyDate, ds.StudyTime = "20260202", time_of_day
        ds.save_as(path, enforce_file_format=True)
    return path


def test_a_paced_send_replays_studies_in_acquisition_order_and_never_before_their_time(tmp_path: Path) -> None:
    """`--pace`: studies go in the order they were acquired (not the order of their files), each begun no
    sooner than its acquisition time after the first's over the speed; the archive receives them in that
    order. A study with no time to pace it by is bad input (exit 2, the file named), and nothing is sent."""
    from pynetdicom import evt
    from typer.testing import CliRunner

    from simulator.cli import app

    times = {"1.2.9.1": "100000", "1.2.9.2": "100200", "1.2.9.3": "100030", "1.2.9.4": "100100", "1.2.9.5": "100010"}
    folder = tmp_path / "studies"
    folder.mkdir()
    files = [_timed(folder / f"{k}.dcm", uid, t) for k, (uid, t) in enumerate(times.items())]
    received: list[str] = []
    speed = 100.0  # 120 s of acquisitions in 1.2 s
    with _Running(tmp_path / "archive") as running:
        running.archive.server.bind(evt.EVT_DIMSE_RECV, lambda event: received.append(
            event.message.command_set.AffectedSOPInstanceUID[:-2]))  # the study's one instance is <study>.1
        result = send_folder(files, "127.0.0.1", running.port, pace=speed)
    in_order = sorted(times, key=times.get)
    assert result.sent == 5 and received == in_order
    dues = [due for due, _ in result.paced]
    assert dues == sorted(dues) and dues[-1] == pytest.approx(120 / speed)
    assert all(began >= due for due, began in result.paced), result.paced  # never early
    lonely = tmp_path / "untimed"
    lonely.mkdir()
    _timed(lonely / "a.dcm", "1.2.9.6", "100000")
    _timed(lonely / "b.dcm", "1.2.9.7", None)
    with _Running(tmp_path / "archive2") as running:
        said = CliRunner().invoke(app, ["dicom", "send", str(lonely), "--to", f"127.0.0.1:{running.port}",
                                        "--pace", "60"])
        assert said.exit_code == 2 and "b.dcm" in said.output and "no acquisition time" in said.output, said.output
        assert running.archive.received == 0
        paced = CliRunner().invoke(app, ["dicom", "send", str(folder), "--to", f"127.0.0.1:{running.port}",
                                         "--pace", "600"])
    assert paced.exit_code == 0 and "paced at 600x real time: 5 studies" in " ".join(paced.output.split()), paced.output


OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="no openssl to make test certificates (.ci/run installs it)")


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A test CA, an archive's certificate for 127.0.0.1 and a modality's, signed by it; and a stranger
    CA's certificate for the archive (a certificate no one here trusts). Made by openssl, as a hospital's
    PKI would issue them."""
    folder = tmp_path_factory.mktemp("pki")

    def run(*args: str) -> None:
        subprocess.run([OPENSSL, *args], cwd=folder, check=True, capture_output=True)

    def issue(name: str, ca: str, extensions: str) -> None:
        (folder / f"{name}.ext").write_text(extensions + "\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,"
                                            "keyEncipherment\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")

    for ca in ("ca", "stranger_ca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2",
            "-subj", f"/CN={ca}")
    issue("archive", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth")
    issue("modality", "ca", "extendedKeyUsage=clientAuth")
    issue("impostor", "stranger_ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth")
    return {name: folder / name for name in ("ca", "archive", "modality", "impostor", "stranger_ca")}


@needs_openssl
def test_dicom_over_tls_sends_to_a_trusted_archive_and_refuses_an_impostor(dicom_records, pki, tmp_path: Path) -> None:
    """The archive over TLS, with mutual TLS (peers' certificates required): echo and send with the CA and
    the modality's certificate store everything; a sender without a certificate, one that does not trust
    the archive's CA, and an archive whose certificate a stranger signed are each refused with a reason,
    and nothing is filed. A plain (not TLS) sender gets no association. A key file that is not one is
    bad input (exit 2, the file named)."""
    from typer.testing import CliRunner

    from simulator.cli import app
    from synthetic_dicom.generate import StudyWriter
    from synthetic_dicom.tls import TlsFiles

    folder, writer = tmp_path / "studies", StudyWriter()
    files = sorted(path for record in dicom_records[:3] for path in writer.write(record, folder))
    pem = {name: str(path) + ".pem" for name, path in pki.items()}
    key = {name: str(path) + ".key" for name, path in pki.items()}
    runner = CliRunner()
    mutual = TlsFiles(Path(pem["archive"]), Path(key["archive"]), Path(pem["ca"])).server_context()
    with _Running(tmp_path / "archive", tls=mutual) as running:
        to = f"127.0.0.1:{running.port}"
        client = ["--tls-ca", pem["ca"], "--tls-cert", pem["modality"], "--tls-key", key["modality"]]
        echoed = runner.invoke(app, ["dicom", "echo", to, *client])
        assert echoed.exit_code == 0 and "Success" in echoed.output, echoed.output
        no_cert = runner.invoke(app, ["dicom", "echo", to, "--tls", "--tls-ca", pem["ca"]])
        assert no_cert.exit_code == 3 and "over TLS" in no_cert.output, no_cert.output
        distrust = runner.invoke(app, ["dicom", "echo", to, "--tls-ca", pem["stranger_ca"], "--tls-cert",
                                       pem["modality"], "--tls-key", key["modality"]])
        assert distrust.exit_code == 3 and "over TLS" in distrust.output, distrust.output
        with pytest.raises(ConnectionError, match="no association"):
            send_folder(files, "127.0.0.1", running.port)
        assert running.archive.received == 0
        sent = runner.invoke(app, ["dicom", "send", str(folder), "--to", to, *client])
        assert sent.exit_code == 0 and f"{len(files)} sent" in sent.output, sent.output
        assert running.archive.received == len(files)
    impostor = TlsFiles(Path(pem["impostor"]), Path(key["impostor"])).server_context()
    with _Running(tmp_path / "impostor", tls=impostor) as running:
        fooled = runner.invoke(app, ["dicom", "send", str(folder), "--to", f"127.0.0.1:{running.port}",
                                     "--tls", "--tls-ca", pem["ca"], "--retry-for", "0"])
        assert fooled.exit_code == 1 and running.archive.received == 0, fooled.output
    bad_key = tmp_path / "bad.key"
    bad_key.write_text("not a key\n")
    refused = runner.invoke(app, ["dicom", "archive", "--port", str(free_port()), "--tls-cert", pem["archive"],
                                  "--tls-key", str(bad_key)])
    assert refused.exit_code == 2 and "bad.key" in refused.output, refused.output


@needs_openssl
@needs_dcmtk
def test_dicom_over_tls_with_dcmtk_both_ways(dicom_records, pki, tmp_path: Path) -> None:
    """Peers nobody here wrote: DCMTK's storescu over TLS, with the modality's certificate, to radsim's
    archive (mutual TLS); radsim's send over TLS to DCMTK's storescp with the archive's certificate and
    peers' certificates required. Every file arrives both ways."""
    from synthetic_dicom.generate import StudyWriter
    from synthetic_dicom.tls import TlsFiles

    folder, writer = tmp_path / "studies", StudyWriter()
    files = sorted(path for record in dicom_records[:3] for path in writer.write(record, folder))
    pem = {name: str(path) + ".pem" for name, path in pki.items()}
    key = {name: str(path) + ".key" for name, path in pki.items()}
    mutual = TlsFiles(Path(pem["archive"]), Path(key["archive"]), Path(pem["ca"])).server_context()
    with _Running(tmp_path / "archive", tls=mutual) as running:
        done = subprocess.run([STORESCU, "-R", "+tls", key["modality"], pem["modality"], "+cf", pem["ca"], "-aec",
                               "RADSIM_ARCHIVE", "127.0.0.1", str(running.port), *map(str, files)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert running.archive.received == len(files)
    out = tmp_path / "storescp"
    out.mkdir()
    port = free_port()
    peer = subprocess.Popen([STORESCP, "+tls", key["archive"], pem["archive"], "+cf", pem["ca"], "-od", str(out),
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port)
        client = TlsFiles(Path(pem["modality"]), Path(key["modality"]), Path(pem["ca"])).client_context()
        result = send_folder(files, "127.0.0.1", port, called="ANY-SCP", tls=client)
    finally:
        peer.terminate()
        peer.wait(10)
    assert result.sent == len(files) and not result.failed, result.failed
    assert len(list(out.iterdir())) == len(files)
