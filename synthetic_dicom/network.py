"""DICOM over the network as a modality and an archive do it: C-STORE from a folder, and a small
receiving archive (a C-STORE SCP) that files what it gets by study. pynetdicom on loopback or a LAN.

Neither end decodes the datasets: the sender streams each file's encoded dataset as it is (pynetdicom's
chunked sending, so each file is sent in the transfer syntax it is written in), and the archive writes
the encoded bytes it receives, reading only the header for the study's UID. Both ends switch off Nagle's
algorithm on their sockets: with it, each C-STORE waits ~40 ms for a delayed acknowledgement
(ECOSYSTEM.md).
"""
from __future__ import annotations

import os
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pynetdicom import AE, _config, evt
from pynetdicom.presentation import StoragePresentationContexts

from .generate import SOP_CLASSES
from .header import SOP_CLASS, SOP_INSTANCE, STUDY_UID, HeaderError, header_of, read_header

__all__ = ["Archive", "send_folder", "SendResult"]

SR_CLASS = "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR
EXTRA_CLASSES = [SR_CLASS, *SOP_CLASSES.values()]
MAX_CONTEXTS = 128  # presentation contexts one association may propose (PS3.8)


def _no_delay(event: evt.Event) -> None:
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Archive:
    """A C-STORE SCP writing each received object to directory/<StudyInstanceUID>/<SOPInstanceUID>.dcm."""

    def __init__(self, directory: Path, port: int, host: str = "127.0.0.1", ae_title: str = "RADSIM_ARCHIVE") -> None:
        self.directory, self.port, self.host = Path(directory), port, host
        self.ae = AE(ae_title=ae_title)
        self.ae.supported_contexts = StoragePresentationContexts
        for uid in EXTRA_CLASSES:
            if uid not in {c.abstract_syntax for c in self.ae.supported_contexts}:
                self.ae.add_supported_context(uid)
        self.server = None
        self.received = 0
        self._lock = threading.Lock()  # associations are served on threads of their own

    def _on_store(self, event: evt.Event) -> int:
        data = event.encoded_dataset(include_meta=True)
        try:
            header = header_of(data)
        except HeaderError:
            return 0xC000  # cannot understand
        study = header.text(STUDY_UID) or "no-study"
        instance = header.text(SOP_INSTANCE) or str(event.request.AffectedSOPInstanceUID)
        target = self.directory / study / f"{instance}.dcm"
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(fd, "wb") as handle:  # a file appears whole or not at all
            handle.write(data)
        os.replace(staging, target)
        with self._lock:
            self.received += 1
        return 0x0000

    def start(self, block: bool = False):
        handlers = [(evt.EVT_C_STORE, self._on_store), (evt.EVT_CONN_OPEN, _no_delay)]
        self.server = self.ae.start_server((self.host, self.port), block=block, evt_handlers=handlers)
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()


@dataclass
class SendResult:
    sent: int
    failed: list[tuple[str, str]]  # (file, reason)


def _readable(files: Iterable[Path], failed: list[tuple[str, str]]) -> list[tuple[Path, tuple[str, str]]]:
    """(file, (SOP class, transfer syntax)) of each file whose header reads; the others go to `failed`."""
    readable = []
    for path in sorted(files):
        try:
            header = read_header(path)
        except HeaderError as exc:
            failed.append((str(path), f"not readable: {exc}"))
            continue
        sop_class = header.text(SOP_CLASS)
        if not sop_class:
            failed.append((str(path), "no SOPClassUID"))
            continue
        readable.append((path, (sop_class, header.transfer_syntax)))
    return readable


def _send_over_one(files: list[Path], contexts: list[tuple[str, str]], host: str, port: int, ae_title: str,
                   called: str, done: Callable[[], None]) -> tuple[int, list[tuple[str, str]]]:
    ae = AE(ae_title=ae_title)
    for sop_class, syntax in contexts:
        ae.add_requested_context(sop_class, [syntax])
    assoc = ae.associate(host, port, ae_title=called, evt_handlers=[(evt.EVT_CONN_OPEN, _no_delay)])
    if not assoc.is_established:
        raise ConnectionError(f"no association with {called} at {host}:{port} (is the archive running, and does "
                              "it accept these SOP classes?)")
    sent, failed = 0, []
    try:
        for path in files:
            try:
                status = assoc.send_c_store(path)
            except (ValueError, RuntimeError, OSError) as exc:  # no accepted context, dropped association
                failed.append((str(path), f"not sent: {exc}"))
                continue
            if status and status.Status == 0x0000:
                sent += 1
            else:
                failed.append((str(path), f"C-STORE status {getattr(status, 'Status', 'none')}"))
            done()
    finally:
        assoc.release()
    return sent, failed


def send_folder(files: Iterable[Path], host: str, port: int, ae_title: str = "RADSIM_MODALITY",
                called: str = "RADSIM_ARCHIVE", progress: Callable[[int], None] | None = None,
                associations: int = 1) -> SendResult:
    """C-STORE every file, each as it is encoded; a file that cannot be read or stored is reported, the
    rest is sent. One association, as a modality sends, or several in parallel (each study's files over
    one). `progress` is called with the number of files done. ConnectionError when the archive does not
    take an association."""
    failed: list[tuple[str, str]] = []
    readable = _readable(files, failed)
    contexts = sorted({context for _, context in readable})[:MAX_CONTEXTS]
    failed += [(str(p), f"more than {MAX_CONTEXTS} kinds of object in one send") for p, c in readable
               if c not in contexts]
    studies: dict[Path, list[Path]] = {}
    for path, context in readable:
        if context in contexts:
            studies.setdefault(path.parent, []).append(path)
    shares = [[f for folder in list(studies)[k::associations] for f in studies[folder]] for k in range(associations)]
    count, lock = [0], threading.Lock()

    def done() -> None:
        with lock:
            count[0] += 1
            if progress is not None:
                progress(count[0])

    chunked = _config.STORE_SEND_CHUNKED_DATASET
    _config.STORE_SEND_CHUNKED_DATASET = True  # send the encoded files as they are, undecoded
    try:
        with ThreadPoolExecutor(max_workers=associations) as pool:
            outcomes = list(pool.map(lambda share: _send_over_one(share, contexts, host, port, ae_title, called, done),
                                     [share for share in shares if share]))
    finally:
        _config.STORE_SEND_CHUNKED_DATASET = chunked
    return SendResult(sum(sent for sent, _ in outcomes), failed + [f for _, more in outcomes for f in more])
