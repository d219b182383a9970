"""DICOM over the network as a modality and an archive do it: C-STORE from a folder, and a small
receiving archive (a C-STORE SCP) that files what it gets by study. pynetdicom on loopback or a LAN.

Neither end decodes the datasets: the sender streams each file's encoded dataset as it is (pynetdicom's
chunked sending, so each file is sent in the transfer syntax it is written in), and the archive writes
the bytes it receives, reading only the header for the study's UID. Both ends switch off Nagle's
algorithm on their sockets: with it, each C-STORE waits ~40 ms for a delayed acknowledgement.

The archive is on a network: what it is sent is not trusted. UIDs name its folders and files only when
they are UIDs (digits and dots); anything else is filed under a hash of it, and said so. The sender
keeps going when the peer refuses a file or aborts the association (it connects again), and says at the
end what was sent, refused, unreadable and not attempted, and why.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import queue
import re
import socket
import ssl
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pynetdicom import AE, _config, evt
from pynetdicom.pdu import A_ABORT_RQ, A_ASSOCIATE_RJ

from .folders import INCOMING
from .header import SOP_INSTANCE, STUDY_UID, Header, HeaderError, header_of, read_header
from .trace import acquired_at

__all__ = ["Archive", "send_folder", "echo", "SendResult", "PaceError", "TRANSFER_SYNTAXES", "storage_classes",
           "safe_name"]

VERIFICATION = "1.2.840.10008.1.1"  # the Verification SOP Class: C-ECHO, the first test of a DICOM link

MAX_CONTEXTS = 128  # presentation contexts one association may propose (PS3.8)
# What the archive accepts: the uncompressed syntaxes, and the compressed ones modalities send. The bytes
# are filed as received, so none needs a codec here.
TRANSFER_SYNTAXES = {
    "1.2.840.10008.1.2": "Implicit VR Little Endian",
    "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
    "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
    "1.2.840.10008.1.2.2": "Explicit VR Big Endian (retired)",
    "1.2.840.10008.1.2.4.50": "JPEG Baseline (Process 1)",
    "1.2.840.10008.1.2.4.51": "JPEG Extended (Process 2 & 4)",
    "1.2.840.10008.1.2.4.57": "JPEG Lossless (Process 14)",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless, First-Order Prediction (Process 14, SV1)",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
    "1.2.840.10008.1.2.4.81": "JPEG-LS Near-Lossless",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 (Lossless Only)",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
    "1.2.840.10008.1.2.4.201": "High-Throughput JPEG 2000 (Lossless Only)",
    "1.2.840.10008.1.2.4.202": "High-Throughput JPEG 2000 with RPCL (Lossless Only)",
    "1.2.840.10008.1.2.4.203": "High-Throughput JPEG 2000",
    "1.2.840.10008.1.2.5": "RLE Lossless",
}
_UID = re.compile(r"[0-9]+(\.[0-9]+)*")


@lru_cache(maxsize=1)
def storage_classes() -> tuple[str, ...]:
    """Every storage SOP class of the standard, as pydicom knows it (radsim's own among them)."""
    from pydicom._uid_dict import UID_dictionary

    known = {uid for uid, (name, kind, *_) in UID_dictionary.items()
             if kind == "SOP Class" and "Storage" in name  # "... Storage - For Presentation" too
             and not any(word in name for word in ("Commitment", "Directory", "Management"))}
    return tuple(sorted(known))


def safe_name(uid: str | None) -> str | None:
    """The UID itself where it can name a file (digits and dots, at most 64 characters), else None."""
    return uid if uid and len(uid) <= 64 and _UID.fullmatch(uid) else None


def _no_delay(event: evt.Event) -> None:
    """Small PDUs go out at once (no Nagle), and what arrives is acknowledged at once: a peer that leaves
    Nagle's algorithm on (DCMTK's storescp by default) holds the second part of each C-STORE response until
    the first is acknowledged, and Linux's delayed ACK made that 40 ms a file (22 files a second).
    TCP_QUICKACK is not sticky, so it is set again before every read of the association's socket."""
    wrapper = getattr(event.assoc.dul, "socket", None)
    sock = getattr(wrapper, "socket", None)
    if sock is None:
        return
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if hasattr(socket, "TCP_QUICKACK"):
        read = wrapper.recv

        def recv(nr_bytes: int) -> bytearray:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            except OSError:  # closed under the association: the read says so
                pass
            return read(nr_bytes)

        wrapper.recv = recv


class Archive:
    """A C-STORE SCP writing each received object to directory/<StudyInstanceUID>/<SOPInstanceUID>.dcm,
    the dataset's bytes as received, behind a file meta that names the sender's AE title in (0002,0016) as
    DCMTK's storescp does; it answers C-ECHO. `require_called_ae`: refuse associations not addressed to
    `ae_title`. `tls`: listen over TLS only (`tls.TlsFiles.server_context`). `log` hears of each object
    filed under another name than its UIDs, and each object refused.

    An object whose SOPInstanceUID is already filed with other content (a clash: a bad UID generator, or
    another patient) is kept beside it as <SOPInstanceUID>.<n>.dcm, never written over; the same object
    sent again is filed once. `counts["filed"]` is the number of files on disk."""

    def __init__(self, directory: Path, port: int, host: str = "127.0.0.1", ae_title: str = "RADSIM_ARCHIVE",
                 require_called_ae: bool = False, log: Callable[[str], None] | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        self.directory, self.port, self.host, self.tls = Path(directory), port, host, tls
        self.ae = AE(ae_title=ae_title)
        self.ae.require_called_aet = require_called_ae
        for uid in storage_classes():
            self.ae.add_supported_context(uid, list(TRANSFER_SYNTAXES))
        self.ae.add_supported_context(VERIFICATION)
        self.server = None
        self.counts: Counter[str] = Counter()  # filed, renamed, refused
        self.log = log or (lambda message: None)
        self._lock = threading.Lock()  # associations are served on threads of their own

    @property
    def received(self) -> int:
        return self.counts["filed"]

    def _name(self, uid: str | None, what: str) -> str:
        name = safe_name(uid)
        if name is None:
            name = "not-a-uid-" + hashlib.sha256((uid or "").encode("utf-8", "replace")).hexdigest()[:16]
            with self._lock:
                self.counts["renamed"] += 1
            self.log(f"{what} {uid!r} is not a DICOM UID: filed as {name}")
        return name

    def _on_store(self, event: evt.Event) -> int:
        from pynetdicom.dsutils import encode_file_meta

        stream = event.encoded_dataset(include_meta=False)
        meta = event.file_meta
        meta.SourceApplicationEntityTitle = str(event.assoc.requestor.ae_title).strip()[:16]
        data = b"".join((b"\x00" * 128, b"DICM", encode_file_meta(meta), stream))
        try:
            header = header_of(data)
        except HeaderError as exc:
            with self._lock:
                self.counts["refused"] += 1
            self.log(f"refused an object from {event.assoc.requestor.ae_title}: {exc}")
            return 0xC000  # cannot understand
        study = self._name(header.text(STUDY_UID), "StudyInstanceUID")
        instance = self._name(header.text(SOP_INSTANCE) or str(event.request.AffectedSOPInstanceUID), "SOPInstanceUID")
        folder = self.directory / study
        folder.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(dir=folder, prefix=INCOMING)
        with os.fdopen(fd, "wb") as handle:  # a file appears whole or not at all
            handle.write(data)
        with self._lock:  # choosing the name and filing it are one step among the associations' threads
            target, n = folder / f"{instance}.dcm", 1
            while target.exists() and not _same_object(target, stream):
                n += 1
                target = folder / f"{instance}.{n}.dcm"
            again = target.exists()
            os.replace(staging, target)
            self.counts["again" if again else "filed"] += 1
        if n > 1 and not again:
            self.log(f"a second object with SOPInstanceUID {instance} and other content, from "
                     f"{meta.SourceApplicationEntityTitle}: kept beside the first as {target.name}")
        return 0x0000

    def start(self, block: bool = False):
        """Listen (the port is bound when this returns, unless `block`); OSError if the port is taken."""
        handlers = [(evt.EVT_C_STORE, self._on_store), (evt.EVT_CONN_OPEN, _no_delay)]
        self.server = self.ae.start_server((self.host, self.port), block=block, evt_handlers=handlers,
                                           ssl_context=self.tls)
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()


@dataclass
class SendResult:
    """What happened to each file: sent, refused by the peer (a failure status, or the association
    aborted while it was sent), unreadable (not sendable as DICOM), or not attempted (no association)."""

    sent: int = 0
    stored: list[str] = field(default_factory=list)  # the files the peer stored (success or warning), as given
    refused: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    not_attempted: list[tuple[str, str]] = field(default_factory=list)
    aborts: list[str] = field(default_factory=list)  # each association the peer aborted, closed or refused, and why
    # Paced sends: for each study started, (seconds after the start it was due, seconds after the start it began).
    paced: list[tuple[float, float]] = field(default_factory=list)

    @property
    def failed(self) -> list[tuple[str, str]]:
        return self.refused + self.unreadable + self.not_attempted

    def tally(self) -> str:
        return (f"{self.sent} sent, {len(self.refused)} refused by the peer, {len(self.unreadable)} unreadable, "
                f"{len(self.not_attempted)} not attempted")


@dataclass(frozen=True)
class _File:
    path: Path
    sop_class: str
    syntax: str
    whole: bool  # a Part-10 file whose meta says what pynetdicom needs to stream it as it is
    study: str = ""  # its StudyInstanceUID
    acquired: dt.datetime | None = None  # when its image was acquired (`trace.acquired_at`)


@dataclass
class _Study:
    """A study's files, sent over one association; a paced study is due `due` seconds after the start."""

    files: list[_File]
    due: float | None = None
    begun: bool = False


class PaceError(ValueError):
    """A paced send of a study with no acquisition time to pace it by."""


IDLE = 5.0  # seconds: a paced sender that would wait longer than this releases its association meanwhile


def _sendable(path: Path, result: SendResult) -> _File | None:
    try:
        header = read_header(path)
    except HeaderError as exc:
        result.unreadable.append((str(path), str(exc)))
        return None
    if not header.sop_class or not header.text(SOP_INSTANCE):
        result.unreadable.append((str(path), "no SOPClassUID or SOPInstanceUID: not an object to store"))
        return None
    return _File(path, header.sop_class, header.transfer_syntax, _streamable(path, header),
                 header.text(STUDY_UID) or "", acquired_at(header))


def _streamable(path: Path, header: Header) -> bool:
    with open(path, "rb") as handle:
        prefix = handle.read(132)
    return prefix[128:132] == b"DICM" and bool(header.media_class) and header.transfer_syntax != ""


EXTRA_ASSOCIATION_TIMEOUT = 5.0  # seconds a peer has to accept an association beyond the first


class _Peer:
    """Associations with one peer, each told why it ended (the peer's abort or rejection reason).

    The first association waits for the peer as long as pynetdicom's default; the others, opened once the
    first is up, only briefly: a peer that serves one association at a time (DCMTK's storescp without
    --fork) leaves them unanswered, and the first sends everything."""

    def __init__(self, host: str, port: int, ae_title: str, called: str, contexts: list[tuple[str, str]],
                 retry_for: float = 0.0, tls: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.called, self.retry_for = host, port, called, retry_for
        self.tls = None if tls is None else (tls, host)
        self.first, self.extra = AE(ae_title=ae_title), AE(ae_title=ae_title)
        self.extra.acse_timeout = EXTRA_ASSOCIATION_TIMEOUT
        for ae in (self.first, self.extra):
            for sop_class, syntax in contexts:
                ae.add_requested_context(sop_class, [syntax])
        self.tried = threading.Event()  # the first association was tried

    def associate_again(self):
        """A peer that went away (restarted, or its link dropped): asked again with growing pauses (0.5 s
        doubling to 5 s) for up to `retry_for` seconds. (association, None), or (None, why not)."""
        waited, pause = 0.0, 0.5
        assoc, why = self.associate(True)
        while assoc is None and waited < self.retry_for:
            pause = min(pause, self.retry_for - waited)
            time.sleep(pause)
            waited, pause = waited + pause, min(2 * pause, 5.0)
            assoc, why = self.associate(True)
        return assoc, why

    def associate(self, first: bool):
        """(association, None), or (None, why not)."""
        if not first:
            self.tried.wait()
        said: list[str] = []
        try:
            assoc = (self.first if first else self.extra).associate(
                self.host, self.port, ae_title=self.called, tls_args=self.tls,
                evt_handlers=[(evt.EVT_CONN_OPEN, _no_delay), (evt.EVT_PDU_RECV, _hearing(said))])
        finally:
            if first:
                self.tried.set()
        assoc.said = said  # type: ignore[attr-defined]
        if assoc.is_established:
            _keep_responses(assoc)
            return assoc, None
        return None, (said[-1] if said else _no_association(self.called, self.host, self.port, self.tls is not None))


def _hearing(said: list[str]) -> Callable[[evt.Event], None]:
    """A handler of received PDUs that notes why the peer aborted or rejected an association."""
    def heard(event: evt.Event) -> None:
        pdu = event.pdu
        if isinstance(pdu, A_ABORT_RQ):
            said.append(f"aborted by the peer ({pdu.source_str}; reason: {pdu.reason_str.strip('()')})")
        elif isinstance(pdu, A_ASSOCIATE_RJ):
            said.append(f"rejected by the peer ({pdu.source_str}; {pdu.result_str}: {pdu.reason_str})")

    return heard


def _same_object(path: Path, stream: bytes) -> bool:
    """Whether the file holds this very dataset (its file meta aside)."""
    size = path.stat().st_size
    if size < len(stream):
        return False
    with open(path, "rb") as handle:
        handle.seek(size - len(stream))
        return handle.read() == stream


def _no_association(called: str, host: str, port: int, tls: bool) -> str:
    return f"no association with {called} at {host}:{port}" + (
        " over TLS (no TLS there, or a certificate one side did not accept: the peer's against --tls-ca and "
        "its host name, or this side's)" if tls else "")


def echo(host: str, port: int, called: str = "RADSIM_ARCHIVE", ae_title: str = "RADSIM_MODALITY",
         timeout: float = 10.0, tls: ssl.SSLContext | None = None) -> str | None:
    """C-ECHO to a peer (over TLS with `tls`): None when it answers Success, else why not (no association,
    its status)."""
    ae = AE(ae_title=ae_title)
    ae.add_requested_context(VERIFICATION)
    ae.acse_timeout = ae.network_timeout = ae.dimse_timeout = timeout
    said: list[str] = []
    assoc = ae.associate(host, port, ae_title=called, tls_args=None if tls is None else (tls, host),
                         evt_handlers=[(evt.EVT_PDU_RECV, _hearing(said))])
    if not assoc.is_established:
        return said[-1] if said else _no_association(called, host, port, tls is not None)
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    code = getattr(status, "Status", None)
    if code is None:
        return "no answer to C-ECHO (the peer does not offer Verification, or timed out)"
    return None if code == 0x0000 else f"C-ECHO status 0x{code:04X}"


def _status(code: int) -> str:
    from pynetdicom.status import GENERAL_STATUS, STORAGE_SERVICE_CLASS_STATUS

    _, meaning = STORAGE_SERVICE_CLASS_STATUS.get(code) or GENERAL_STATUS.get(code) or ("", "")
    return f"C-STORE status 0x{code:04X}" + (f": {meaning}" if meaning else "")


def _keep_responses(assoc) -> None:
    """pynetdicom's association reactor can take a C-STORE response off the queue that send_c_store is
    about to wait on (its pause between two sends is racy against a fast peer such as storescp), and drop
    it as an "unexpected" message: the send then waits out the DIMSE timeout (30 s). Hand such a
    response back to the queue instead."""
    serve = assoc._serve_request

    def serve_or_return(msg, context_id: int) -> None:
        if msg is not None and not msg.is_valid_request and getattr(msg, "Status", None) is not None:
            assoc.dimse.msg_queue.put((context_id, msg))
        else:
            serve(msg, context_id)

    assoc._serve_request = serve_or_return


def _why_ended(assoc) -> str:
    said = getattr(assoc, "said", [])
    return said[-1] if said else "the peer closed the connection"


def _store(assoc, item: _File):
    # Each request of an association its own MessageID (PS3.7 9.3.1.1): 1, 2, ... 65535, 1, ...
    assoc.message_id = getattr(assoc, "message_id", 0) % 65535 + 1
    if item.whole:
        try:
            return assoc.send_c_store(item.path, msg_id=assoc.message_id)
        except AttributeError:  # file meta incomplete: send the dataset instead
            pass
    import pydicom
    from pydicom.dataset import FileMetaDataset

    ds = pydicom.dcmread(item.path, force=True)
    ds.file_meta = getattr(ds, "file_meta", None) or FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = item.syntax
    return assoc.send_c_store(ds, msg_id=assoc.message_id)


def _send_share(work: "queue.Queue[_Study]", peer: _Peer, result: SendResult, lock: threading.Lock,
                done: Callable[[], None], first: bool, stop: threading.Event, started: float) -> None:
    """Take studies off `work` and send them over one association, connecting again after an abort. An
    association the peer will not give (busy, or refusing) leaves the study to the other senders. Once
    `stop` is set (Ctrl-C, SIGTERM), no further file is started. A paced study is not begun before it is
    due (seconds after `started`, on the monotonic clock)."""
    assoc, opener, had_one = None, first, False
    retried: set[Path] = set()
    try:
        while True:
            try:
                study = work.get_nowait()
            except queue.Empty:
                return
            pending = study.files
            if study.due is not None and not study.begun:
                wait = study.due - (time.monotonic() - started)
                if wait > IDLE and assoc is not None:  # a long pause: a peer may time out an idle association
                    assoc.release()
                    assoc = None
                if wait > 0 and stop.wait(wait):
                    work.put(study)
                    return
                study.begun = True
                with lock:
                    result.paced.append((study.due, time.monotonic() - started))
            while pending:
                if stop.is_set():
                    work.put(study)
                    return
                if assoc is None:
                    assoc, why = peer.associate_again() if had_one else peer.associate(first)
                    first = True  # once this sender has had an association, it waits as the first did
                    had_one = had_one or assoc is not None
                    if assoc is None:
                        work.put(study)
                        with lock:
                            result.aborts.append(why)
                        return
                if not assoc.is_established:  # it went since the last file: never send on it (30 s of waiting)
                    assoc = None
                    continue
                item = pending.pop(0)
                status, problem, unsendable = None, None, None
                try:
                    status = _store(assoc, item)
                except ValueError as exc:
                    if "presentation context" in str(exc):  # the peer did not accept this kind of object
                        problem = f"not accepted by the peer: {exc}"
                    else:
                        unsendable = f"cannot be sent: {exc}"
                except (TypeError, AttributeError) as exc:  # a value pynetdicom cannot put in a request
                    unsendable = f"cannot be sent: {exc}"
                except (RuntimeError, OSError):  # the association went while it was sent
                    pass
                code, again = getattr(status, "Status", None), False
                with lock:
                    if unsendable is not None:
                        result.unreadable.append((str(item.path), unsendable))
                    elif code is not None and (code == 0 or code >> 12 == 0xB):  # success, or stored with a warning
                        result.sent += 1
                        result.stored.append(str(item.path))
                    elif problem is not None:
                        result.refused.append((str(item.path), problem))
                    elif code is not None:
                        result.refused.append((str(item.path), _status(code)))
                    else:
                        why = _why_ended(assoc)
                        result.aborts.append(why)
                        if not getattr(assoc, "said", []) and item.path not in retried:
                            # The connection went without a word from the peer: once more, on a new one.
                            retried.add(item.path)
                            pending.insert(0, item)
                            again = True
                        else:
                            result.refused.append((str(item.path), f"the association ended while it was sent ({why})"))
                if code is None and problem is None and unsendable is None and assoc.is_established:
                    assoc.abort()  # no answer: the abort may not have reached this side yet; do not reuse it
                if not assoc.is_established:
                    assoc = None  # connect again for the rest
                if not again:
                    done()
    finally:
        if opener:
            peer.tried.set()  # whatever happened, the others need not wait
        if assoc is not None and assoc.is_established:
            assoc.release()


def _schedule(studies: dict[tuple[Path, str], list[_File]], pace: float | None) -> list[_Study]:
    """The studies in the order they are sent: as found, or paced (in acquisition order, each due at its
    acquisition time after the first one's over `pace`)."""
    if pace is None:
        return [_Study(files) for files in studies.values()]
    if not pace > 0:
        raise PaceError(f"a pace of {pace}: give a speed above 0 (1 is real time)")
    when = {}
    for key, files in studies.items():
        times = [f.acquired for f in files if f.acquired is not None]
        if not times:
            raise PaceError(f"{files[0].path}: no acquisition time (AcquisitionDateTime, AcquisitionDate and "
                            "Time, or StudyDate and Time) to pace its study by")
        when[key] = max(times)
    order = sorted(studies, key=lambda key: (when[key], str(key[0]), key[1]))
    first = when[order[0]] if order else None
    return [_Study(studies[key], (when[key] - first).total_seconds() / pace) for key in order]


def send_folder(files: Iterable[Path], host: str, port: int, ae_title: str = "RADSIM_MODALITY",
                called: str = "RADSIM_ARCHIVE", progress: Callable[[int], None] | None = None,
                associations: int = 1, retry_for: float = 0.0, result: SendResult | None = None,
                pace: float | None = None, tls: ssl.SSLContext | None = None) -> SendResult:
    """C-STORE every file, each as it is encoded: over one association, as a modality sends, or several in
    parallel (each study's files over one). `progress` is called with the number of files done. A peer
    that goes away after granting an association (a restart) is asked again for up to `retry_for`
    seconds. `result`, when given, is filled as the files go (what was stored is known even if the send is
    stopped). ConnectionError when the peer gives no association at all.

    `pace`: the studies in the order they were acquired, each begun no sooner than its acquisition time
    (the latest of its images') after the first study's, divided by `pace` (1: real time; 60: an hour a
    minute); a study late because the peer is slow is begun at once. PaceError (before anything is sent)
    for a study with no acquisition time. `tls`: over TLS (`tls.TlsFiles.client_context`)."""
    result = SendResult() if result is None else result
    readable = [item for item in map(lambda p: _sendable(p, result), sorted(files)) if item is not None]
    contexts = sorted({(item.sop_class, item.syntax) for item in readable})[:MAX_CONTEXTS]
    kept = set(contexts)
    result.not_attempted += [(str(item.path), f"more than {MAX_CONTEXTS} kinds of object in one send (send the "
                              "rest separately)") for item in readable if (item.sop_class, item.syntax) not in kept]
    work: queue.Queue[_Study] = queue.Queue()
    studies: dict[tuple[Path, str], list[_File]] = {}  # a study: its files in one folder
    for item in readable:
        if (item.sop_class, item.syntax) in kept:
            studies.setdefault((item.path.parent, item.study), []).append(item)
    for study in _schedule(studies, pace):
        work.put(study)
    count, lock = [0], threading.Lock()

    def done() -> None:
        with lock:
            count[0] += 1
            if progress is not None:
                progress(count[0])

    peer = _Peer(host, port, ae_title, called, contexts, retry_for, tls)
    chunked = _config.STORE_SEND_CHUNKED_DATASET
    _config.STORE_SEND_CHUNKED_DATASET = True  # send the encoded files as they are, undecoded
    try:
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=associations) as pool:
            try:
                started = time.monotonic()
                list(pool.map(lambda k: _send_share(work, peer, result, lock, done, k == 0, stop, started),
                              range(min(associations, len(studies)))))
            except BaseException:  # stopped: the senders finish the file in hand and start no other
                stop.set()
                raise
    finally:
        _config.STORE_SEND_CHUNKED_DATASET = chunked
    left: list[_File] = []
    while not work.empty():
        left += work.get_nowait().files
    if left and result.sent == 0 and not result.refused:
        raise ConnectionError(f"{result.aborts[-1] if result.aborts else 'no association'} (is the archive running "
                              f"at {host}:{port}, and does it accept these SOP classes and the called AE {called}?)")
    why = result.aborts[-1] if result.aborts else "no association"
    result.not_attempted += [(str(item.path), f"no association to send it over ({why})") for item in left]
    return result
