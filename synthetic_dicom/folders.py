"""The files of a folder, as DICOM tools take them: every file below it, in the order of their paths,
except radsim's own (an output folder's marker, an archive's file still being received)."""
from __future__ import annotations

from pathlib import Path

from simulator.files import MARKER

__all__ = ["folder_files", "is_own", "INCOMING"]

INCOMING = ".incoming-"  # the archive's file of an object being received, renamed once whole


def is_own(path: Path) -> bool:
    """A file radsim writes beside DICOM files, never one to send or trace."""
    return path.name == MARKER or path.name.startswith(INCOMING)


def folder_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and not is_own(p))
