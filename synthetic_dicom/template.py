"""Part-10 files from a template: a dataset encoded once by pydicom, with slots where studies differ.

Writing a small dataset element by element through pydicom costs milliseconds, and building an AI report
with highdicom tens of them; a study is the same few hundred bytes of structure again and again with
other UIDs, names, times, scores and pixels. So a study's shape is built once with sentinel values, encoded
by pydicom, and cut at the sentinels; a study is then the template's fixed bytes with its own values
spliced in, each slot with its new length. This is sound because every sequence and item is written with
undefined length (delimiters), so no length outside a slot's own element depends on a slot's value. Tests
check the bytes against pydicom's own encoding of the same study.

Explicit VR little endian only (the transfer syntax of every generated file).
"""
from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import ExplicitVRLittleEndian

__all__ = ["Template", "undefined_lengths", "file_meta", "part10"]

IMPLEMENTATION_UID = "2.25.217405592437178347455153497296163839815"  # radsim's own, a fixed UUID-derived UID
IMPLEMENTATION_VERSION = "RADSIM_1"
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
_NUL_PADDED = {b"UI", b"OB", b"UN"}


def undefined_lengths(ds: Dataset) -> Dataset:
    """Mark every sequence and item of `ds` for writing with undefined length (in place; returns ds)."""
    for element in ds:
        if element.VR == "SQ":
            element.is_undefined_length = True
            for item in element.value:
                item.is_undefined_length_sequence_item = True
                undefined_lengths(item)
    return ds


def _encode(ds: Dataset) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_dataset(fp, ds)
    return fp.getvalue()


@dataclass(frozen=True)
class _Slot:
    name: str
    header: bytes  # tag and VR (and the two reserved bytes of a long VR)
    long: bool
    pad: bytes


class Template:
    """The encoded body (no file meta) of `ds`, whose slot values are `sentinels` (name -> the bytes of the
    value as encoded, before padding). A sentinel found must be a whole element value, and no sentinel
    may be part of another; `names` says which were found."""

    def __init__(self, ds: Dataset, sentinels: Mapping[str, bytes]) -> None:
        for a, b in ((a, b) for a in sentinels.values() for b in sentinels.values() if a is not b):
            if a in b:
                raise ValueError(f"sentinel {a!r} is part of sentinel {b!r}")
        body = _encode(undefined_lengths(ds))
        found: list[tuple[int, int, _Slot]] = []  # (start of element, end of element, slot)
        for name, raw in sentinels.items():
            start = body.find(raw)
            while start >= 0:
                found.append(self._slot_at(body, start, name, raw))
                start = body.find(raw, start + len(raw))
        found.sort(key=lambda f: f[0])
        self.pieces: list[bytes | _Slot] = []
        cursor = 0
        for begin, end, slot in found:
            self.pieces += [body[cursor:begin], slot]
            cursor = end
        self.pieces.append(body[cursor:])
        self.names = frozenset(slot.name for _, _, slot in found)  # the slots this dataset has

    @staticmethod
    def _slot_at(body: bytes, start: int, name: str, raw: bytes) -> tuple[int, int, _Slot]:
        padded = len(raw) + len(raw) % 2
        if body[start - 4:start - 2] not in _LONG_VRS and \
                struct.unpack_from("<H", body, start - 2)[0] == padded:
            header, long = body[start - 8:start - 2], False
        elif body[start - 8:start - 6] in _LONG_VRS and struct.unpack_from("<I", body, start - 4)[0] == padded:
            header, long = body[start - 12:start - 4], True
        else:
            raise ValueError(f"slot {name}: its sentinel is not a whole element value")
        vr = header[4:6]
        pad = b"\0" if vr in _NUL_PADDED or vr == b"OW" else b" "
        return start - len(header) - (4 if long else 2), start + padded, _Slot(name, header, long, pad)

    def render(self, values: Mapping[str, bytes]) -> bytes:
        """The body with each slot's value (encoded, unpadded) spliced in."""
        out = []
        for piece in self.pieces:
            if isinstance(piece, bytes):
                out.append(piece)
                continue
            value = values[piece.name]
            if len(value) % 2:
                value += piece.pad
            out += [piece.header, struct.pack("<I" if piece.long else "<H", len(value)), value]
        return b"".join(out)


def file_meta(sop_class: str, sop_instance: str) -> FileMetaDataset:
    """The file meta information of a generated file."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID, meta.ImplementationVersionName = IMPLEMENTATION_UID, IMPLEMENTATION_VERSION
    return meta


def _element(tag: int, vr: bytes, value: bytes, pad: bytes) -> bytes:
    if len(value) % 2:
        value += pad
    group, element = tag >> 16, tag & 0xFFFF
    if vr in _LONG_VRS:
        return struct.pack("<HH2sHI", group, element, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, element, vr, len(value)) + value


def part10(sop_class: str, sop_instance: str, body: bytes) -> bytes:
    """A Part-10 file: preamble, prefix, the file meta of `file_meta` (as pydicom writes it), and body."""
    meta = b"".join([
        _element(0x00020001, b"OB", b"\0\1", b"\0"),
        _element(0x00020002, b"UI", sop_class.encode(), b"\0"),
        _element(0x00020003, b"UI", sop_instance.encode(), b"\0"),
        _element(0x00020010, b"UI", ExplicitVRLittleEndian.encode(), b"\0"),
        _element(0x00020012, b"UI", IMPLEMENTATION_UID.encode(), b"\0"),
        _element(0x00020013, b"SH", IMPLEMENTATION_VERSION.encode(), b" "),
    ])
    return b"\0" * 128 + b"DICM" + _element(0x00020000, b"UL", struct.pack("<I", len(meta)), b"\0") + meta + body
