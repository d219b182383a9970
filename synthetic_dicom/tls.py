"""DICOM over TLS (PS3.15 Annex B, the secure transport connection profiles): the contexts the archive
listens with and a sender or C-ECHO connects with, from PEM files a hospital's PKI issues.

The archive needs its certificate and key; with `ca`, it also asks each peer for a certificate that CA
signed (mutual TLS, as a PACS that admits only its own modalities does). A sender checks the peer's
certificate against `ca` (else the system's trusted CAs) and its host name; with a certificate and key of
its own, it shows them when asked. TLS 1.2 at least, as BCP 195 asks. Python's `ssl` does the work.
"""
from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from simulator.errors import InputError

__all__ = ["TlsFiles", "TlsError"]


class TlsError(InputError):
    """A certificate, key or CA file that cannot be used, naming the file and why."""


@dataclass(frozen=True)
class TlsFiles:
    cert: Path | None = None  # this side's certificate (PEM), the archive's or a sender's own
    key: Path | None = None  # its private key (PEM, unencrypted)
    ca: Path | None = None  # the CA (PEM) the other side's certificate must be signed by

    def server_context(self) -> ssl.SSLContext:
        """The archive's: its certificate and key; with `ca`, every peer must show a certificate it signed."""
        if self.cert is None or self.key is None:
            raise TlsError("TLS: the archive needs --tls-cert and --tls-key (PEM files)")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._own(context)
        if self.ca is not None:
            self._trust(context)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def client_context(self) -> ssl.SSLContext:
        """A sender's: the peer's certificate checked against `ca` (else the system's CAs) and its name."""
        if (self.cert is None) != (self.key is None):
            raise TlsError("TLS: give both --tls-cert and --tls-key for a certificate of this side, or neither")
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.ca is not None:
            self._trust(context)
        if self.cert is not None:
            self._own(context)
        return context

    def _own(self, context: ssl.SSLContext) -> None:
        for path in (self.cert, self.key):
            if not Path(path).is_file():  # type: ignore[arg-type]
                raise TlsError(f"{path}: no such file")
        try:
            context.load_cert_chain(str(self.cert), str(self.key))
        except (ssl.SSLError, ValueError) as exc:
            raise TlsError(f"{self.cert}, {self.key}: not a certificate and its private key in PEM ({exc})") from None

    def _trust(self, context: ssl.SSLContext) -> None:
        if not Path(self.ca).is_file():  # type: ignore[arg-type]
            raise TlsError(f"{self.ca}: no such file")
        try:
            context.load_verify_locations(cafile=str(self.ca))
        except (ssl.SSLError, ValueError) as exc:
            raise TlsError(f"{self.ca}: not a CA certificate in PEM ({exc})") from None
