"""DICOM over the network as a modality and an archive do it: C-STORE from a folder, and a small
receiving archive (a C-STORE SCP) that files what it gets by study. pynetdicom on loopback or a LAN.

Both ends switch off Nagle's algorithm on their sockets: with it, each C-STORE waits ~40 ms for a delayed
acknowledgement (ECOSYSTEM.md).
"""
from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pynetdicom import AE, evt
from pynetdicom.presentation import StoragePresentationContexts

from .generate import SOP_CLASSES

__all__ = ["Archive", "send_folder", "SendResult"]

SR_CLASS = "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR
EXTRA_CLASSES = [SR_CLASS, *SOP_CLASSES.values()]


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

    def _on_store(self, event: evt.Event) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        target = self.directory / str(ds.StudyInstanceUID) / f"{ds.SOPInstanceUID}.dcm"
        target.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(target, enforce_file_format=True)
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


def send_folder(files: Iterable[Path], host: str, port: int, ae_title: str = "RADSIM_MODALITY",
                called: str = "RADSIM_ARCHIVE") -> SendResult:
    """C-STORE every file over one association; a file that cannot be read or stored is reported."""
    paths = sorted(files)
    datasets, failed = [], []
    for path in paths:
        try:
            datasets.append((path, pydicom.dcmread(path)))
        except Exception as exc:  # not DICOM: reported, the rest is sent
            failed.append((str(path), f"not readable: {exc}"))
    ae = AE(ae_title=ae_title)
    for uid in sorted({str(ds.SOPClassUID) for _, ds in datasets})[:128]:
        ae.add_requested_context(uid)
    assoc = ae.associate(host, port, ae_title=called, evt_handlers=[(evt.EVT_CONN_OPEN, _no_delay)])
    if not assoc.is_established:
        return SendResult(0, failed + [(str(p), "no association with the archive") for p, _ in datasets])
    sent = 0
    try:
        for path, ds in datasets:
            status = assoc.send_c_store(ds)
            if status and status.Status == 0x0000:
                sent += 1
            else:
                failed.append((str(path), f"C-STORE status {getattr(status, 'Status', 'none')}"))
    finally:
        assoc.release()
    return SendResult(sent, failed)
