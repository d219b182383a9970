"""The files of a folder, as DICOM tools take them: every file below it, in the order of their paths."""
from __future__ import annotations

from pathlib import Path

__all__ = ["folder_files"]


def folder_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file())
