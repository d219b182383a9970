"""The header of a Part-10 file (every element before the pixel data) as nested dicts of raw values.

A trace reads thousands of files for a handful of attributes each; pydicom builds a full object model per
file and per sequence item, which caps it at a few hundred files a second. This walks the bytes instead:
explicit and implicit VR little endian (the header of every compressed transfer syntax is explicit VR
little endian too), deflated explicit VR, defined and undefined lengths, nested sequences. It reads the
first part of a file and more only when the header runs past it. What it does not handle is handed to
pydicom: big endian files (retired), datasets without a Part-10 prefix, headers it finds malformed
(pydicom forgives more); a file that ends inside its header is truncated, whoever reads it. Tests check
what it reads against pydicom for every generated object and for pydicom's own test files.
"""
from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Union

from pydicom.charset import convert_encodings, decode_bytes
from pydicom.datadict import dictionary_VR

__all__ = ["Header", "HeaderError", "read_header", "header_of", "Elements", "SOP_CLASS", "SOP_INSTANCE", "STUDY_UID",
           "SERIES_UID", "DICOMDIR"]

Elements = dict[int, Union[bytes, list["Elements"]]]  # tag -> raw value, or the items of a sequence

PIXEL_DATA = 0x7FE00010
# Tags read by name across the package (group << 16 | element).
SOP_CLASS, SOP_INSTANCE, STUDY_UID, SERIES_UID = 0x00080016, 0x00080018, 0x0020000D, 0x0020000E
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
_IMPLICIT, _EXPLICIT, _DEFLATED, _BIG_ENDIAN = \
    "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"
DICOMDIR = "1.2.840.10008.1.3.10"  # Media Storage Directory Storage
_FIRST_READ = 65536


class HeaderError(Exception):
    """Why a file's header cannot be read (for the quarantine list), with the kind of problem as `code`:
    not DICOM, truncated, malformed, unreadable."""

    def __init__(self, reason: str, code: str = "malformed") -> None:
        super().__init__(reason)
        self.code = code


class _Short(Exception):
    """The buffer ends before the header does."""


class _NotPart10(Exception):
    """No DICM prefix: maybe a dataset without preamble and file meta, maybe not DICOM at all."""


class _Foreign(Exception):
    """Big endian: left to pydicom."""


@lru_cache(maxsize=4096)
def _implicit_vr(tag: int) -> bytes:
    try:
        return dictionary_VR(tag).split(" or ")[0].encode()
    except KeyError:
        return b"UN"  # private or unknown: kept as bytes


@dataclass
class Header:
    transfer_syntax: str
    elements: Elements
    media_class: str = ""  # MediaStorageSOPClassUID of the file meta (DICOMDIR for a media directory)

    @property
    def sop_class(self) -> str:
        return self.text(SOP_CLASS) or self.media_class

    def text(self, tag: int, elements: Elements | None = None) -> str | None:
        """A string attribute without its padding, decoded with the file's character set."""
        value = (self.elements if elements is None else elements).get(tag)
        if not isinstance(value, bytes):
            return None
        value = value.rstrip(b" \0")
        if not value:
            return None
        if value.isascii():
            return value.decode("ascii")
        charset = self.elements.get(0x00080005)
        encodings = [c.strip() or "ISO_IR 6" for c in charset.decode("ascii", "replace").split("\\")] \
            if isinstance(charset, bytes) else ["ISO_IR 6"]
        return decode_bytes(value, convert_encodings(encodings), set())


def _parse(buf: bytes, pos: int, end: int, explicit: bool, top: bool) -> tuple[Elements, int]:
    """Elements from `pos` up to `end`, an item delimiter, or (at the top) the pixel data."""
    out: Elements = {}
    unpack, size = struct.unpack_from, len(buf)
    while pos < end:
        if pos + 8 > size:
            raise _Short
        if explicit:
            group, element, vr, length = unpack("<HH2sH", buf, pos)
            if vr in _LONG_VRS:
                if pos + 12 > size:
                    raise _Short
                length, pos = unpack("<I", buf, pos + 8)[0], pos + 12
            else:
                pos += 8
        else:
            group, element, length = unpack("<HHI", buf, pos)
            pos += 8
            vr = _implicit_vr(group << 16 | element)
        tag = group << 16 | element
        if tag == _ITEM_END:
            return out, pos
        if top and tag == PIXEL_DATA:
            return out, pos - (12 if explicit else 8)
        if vr == b"SQ" or (length == _UNDEFINED and vr == b"UN"):
            # An undefined-length UN is a sequence in implicit VR (PS3.5 6.2.2).
            out[tag], pos = _sequence(buf, pos, length, explicit and vr == b"SQ")
            continue
        if length == _UNDEFINED:
            raise HeaderError(f"element ({group:04X},{element:04X}) has undefined length outside a sequence")
        if pos + length > size:
            raise _Short
        out[tag] = buf[pos:pos + length]
        pos += length
    return out, pos


def _sequence(buf: bytes, pos: int, length: int, explicit: bool) -> tuple[list[Elements], int]:
    items: list[Elements] = []
    end = len(buf) if length == _UNDEFINED else pos + length
    if length != _UNDEFINED and end > len(buf):
        raise _Short
    while pos < end:
        if pos + 8 > len(buf):
            raise _Short
        tag, item_length = struct.unpack_from("<II", buf, pos)
        tag = (tag & 0xFFFF) << 16 | tag >> 16
        pos += 8
        if tag == _SEQUENCE_END:
            return items, pos
        if tag != _ITEM:
            raise HeaderError(f"expected a sequence item at byte {pos - 8}")
        if item_length == _UNDEFINED:
            item, pos = _parse(buf, pos, len(buf), explicit, False)
        else:
            item, _ = _parse(buf, pos, pos + item_length, explicit, False)
            pos += item_length
        items.append(item)
    if length == _UNDEFINED:
        raise _Short
    return items, pos


def _explicit(buf: bytes, pos: int, declared: bool) -> bool:
    """Whether the dataset at `pos` is in explicit VR. Some writers say one and write the other; like
    pydicom, believe the bytes: an explicit VR element has two upper-case letters after its tag."""
    if pos + 6 > len(buf):
        return declared
    vr = buf[pos + 4:pos + 6]
    return vr.isalpha() and vr.isupper()


def _meta(buf: bytes) -> tuple[Elements, int]:
    """The file meta information (group 0002, always explicit VR little endian) and where it ends."""
    if len(buf) < 132 or buf[128:132] != b"DICM":
        raise _NotPart10
    meta: Elements = {}
    pos = 132
    while pos + 8 <= len(buf) and struct.unpack_from("<H", buf, pos)[0] == 0x0002:
        group, element = struct.unpack_from("<HH", buf, pos)
        if buf[pos + 4:pos + 6] in _LONG_VRS:
            length, start = struct.unpack_from("<I", buf, pos + 8)[0], pos + 12
        else:
            length, start = struct.unpack_from("<H", buf, pos + 6)[0], pos + 8
        if start + length > len(buf):
            raise _Short
        meta[group << 16 | element] = buf[start:start + length]
        pos = start + length
    if pos + 8 > len(buf):
        raise _Short
    return meta, pos


_SOURCE_AE = 0x00020016  # SourceApplicationEntityTitle, of the file meta


def _uid(value: bytes | list | None) -> str:
    return value.rstrip(b"\0 ").decode("ascii", "replace") if isinstance(value, bytes) else ""


def _from_bytes(buf: bytes) -> Header:
    meta, pos = _meta(buf)
    syntax, media_class = _uid(meta.get(0x00020010)), _uid(meta.get(0x00020002))
    if media_class == DICOMDIR:
        return Header(syntax, {}, media_class)  # its records name other files; nothing to read here
    if syntax == _BIG_ENDIAN:
        raise _Foreign
    if syntax == _DEFLATED:
        buf, pos = zlib.decompress(buf[pos:], -zlib.MAX_WBITS), 0
    explicit = _explicit(buf, pos, syntax != _IMPLICIT)
    elements, _ = _parse(buf, pos, len(buf), explicit, True)
    # The file meta's elements are the header's too: (0002,0016) says which AE title sent the file.
    return Header(syntax or (_EXPLICIT if explicit else _IMPLICIT), {**meta, **elements}, media_class)


def _read(first: bytes, rest: Callable[[], bytes] | None, source: Callable[[], BinaryIO]) -> Header:
    """The header from the first bytes, asking `rest` for the remainder if the header runs past them;
    what this reader does not handle (big endian, no Part-10 prefix, a header it finds malformed) is
    read by pydicom from `source`."""
    try:
        try:
            return _from_bytes(first)
        except _Short:
            if rest is None:
                raise
            return _from_bytes(first + rest())
    except _Short:
        raise HeaderError("truncated: the file ends inside its header", "truncated") from None
    except _NotPart10:
        return _through_pydicom(source, HeaderError("not a DICOM file: no Part-10 prefix (DICM), and pydicom "
                                                    "finds no DICOM dataset in it either", "not DICOM"))
    except _Foreign:
        return _through_pydicom(source, HeaderError("big endian file that pydicom cannot read", "malformed"))
    except (HeaderError, struct.error, zlib.error, UnicodeDecodeError, LookupError) as exc:
        return _through_pydicom(source, HeaderError(f"malformed header: {exc}", "malformed"))


def header_of(data: bytes) -> Header:
    """The header of a Part-10 file held in memory."""
    return _read(data, None, lambda: io.BytesIO(data))


def read_header(path: Path) -> Header:
    """The header of one file; HeaderError says why it cannot be read (not DICOM, truncated, ...)."""
    try:
        with open(path, "rb") as handle:
            first = handle.read(_FIRST_READ)
            return _read(first, handle.read if len(first) == _FIRST_READ else None, lambda: open(path, "rb"))
    except OSError as exc:
        raise HeaderError(f"cannot read: {exc}", "unreadable") from None


def _through_pydicom(source: Callable[[], BinaryIO], failure: HeaderError) -> Header:
    """A file this reader leaves to pydicom (rare enough not to need speed): pydicom reads it, forgiving
    what it can, and writes the header again in explicit VR little endian for this reader to take in.
    Only a dataset that names its object or study counts as read; else `failure` is raised."""
    import warnings

    import pydicom
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    try:
        with warnings.catch_warnings(), source() as handle:
            warnings.simplefilter("ignore")  # what pydicom forgives, it warns about
            ds = pydicom.dcmread(handle, stop_before_pixels=True, force=True)
            if not any(tag in ds for tag in (SOP_CLASS, SOP_INSTANCE, STUDY_UID)):
                raise failure
            meta = getattr(ds, "file_meta", None) or {}
            implicit, little = ds.original_encoding
            syntax = str(meta.get("TransferSyntaxUID") or "") or \
                (_IMPLICIT if implicit else _EXPLICIT if little else _BIG_ENDIAN)
            media_class = str(meta.get("MediaStorageSOPClassUID") or "")
            source_ae = str(meta.get("SourceApplicationEntityTitle") or "").encode("ascii", "replace")
            buffer = DicomBytesIO()
            buffer.is_little_endian, buffer.is_implicit_VR = True, False
            write_dataset(buffer, _without_meta(ds))
    except HeaderError:
        raise
    except Exception as exc:  # pydicom raises many kinds on bad input; all mean "cannot read"
        raise HeaderError(f"{failure}; pydicom: {type(exc).__name__}: {exc}", failure.code) from None
    data = buffer.getvalue()
    elements, _ = _parse(data, 0, len(data), True, True)
    return Header(syntax, {**({_SOURCE_AE: source_ae} if source_ae else {}), **elements}, media_class)


def _without_meta(ds: "pydicom.Dataset") -> "pydicom.Dataset":
    for tag in [tag for tag in ds.keys() if tag.group == 0x0002]:
        del ds[tag]
    return ds
