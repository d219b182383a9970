"""A large replication's arrays for the whole horizon in temporary files mapped into memory, so that the
process needs no more memory than the part of the horizon it works on.

What a mapped array holds is the file's: the kernel keeps the pages touched in memory while it has room,
writes them to the file and drops them when it has not (a machine, or a container, with less memory than
the horizon's arrays), and reads them back when touched again. `let_go` tells it that the pages touched
so far are not needed now (`madvise(MADV_DONTNEED)`: nothing is lost, a page touched again is read back
from the file), which the reading station does as each block of time begins and the studies table as
each row group is written: what the process holds at once is a block's pages, not the horizon's.

Only for arrays of `MAPPED_FROM` values or more (a replication of some 10 M studies: a city year and a
half); below, arrays are the process's own, as always. The files have no name (nothing to clean up, gone
with the process however it ends), in the system's temporary directory (`TMPDIR`): five city years' are
some 4 GB. The values are the same either way (tests/test_mapped.py; every bundled scenario was run mapped,
md5-identical: docs/performance-history.md).
"""
from __future__ import annotations

import errno
import mmap
import os
import tempfile
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .errors import OutputError
from .memory import trim

__all__ = ["MAPPED_FROM", "Spool", "array", "column_of", "let_go", "mapped", "parts", "room"]

MAPPED_FROM = 10_000_000

_LIVE: "weakref.WeakSet[mmap.mmap]" = weakref.WeakSet()  # every mapping some array still holds


def array(n: int, dtype: Any, fill: Any = None) -> np.ndarray:
    """An array of `n` values of `dtype` (each `fill`; else zeros where mapped, anything where not): mapped
    from `MAPPED_FROM` values, else the process's own."""
    if n < MAPPED_FROM:
        return np.empty(n, dtype=dtype) if fill is None else np.full(n, fill, dtype=dtype)
    values = _mapping(tempfile.TemporaryFile(), n * np.dtype(dtype).itemsize, dtype)
    if fill is not None and fill != 0:
        for lo in range(0, n, PART):  # (a chunk at a time, not a whole array's worth of the process's own)
            values[lo:lo + PART] = fill
        _let_go(values)  # (written, not needed now)
    return values


def mapped(values: np.ndarray) -> np.ndarray:
    """`values` as a mapped array from `MAPPED_FROM` values (a copy), else as they are."""
    if values.shape[0] < MAPPED_FROM:
        return values
    copy = array(values.shape[0], values.dtype)
    for lo in range(0, values.shape[0], PART):
        copy[lo:lo + PART] = values[lo:lo + PART]
    _let_go(copy)
    return copy


def let_go() -> None:
    """The pages of every mapped array out of the process's memory (each read back from its file when
    touched again), and where any is mapped (a large replication's), the C library's free pages too: what
    a part of the horizon's work made and freed (arrays of a row group, say) stays in its heap otherwise,
    measured at some 400 MB by a summary's end."""
    mappings = list(_LIVE)
    for mapping in mappings:
        _advise(mapping)
    if mappings:
        trim()


@contextmanager
def room() -> Iterator[None]:
    """Writes to the temporary directory: one that found no room is an `OutputError` naming the directory
    (exit 4), not the run's output folder (pyarrow's errors say why in their text only)."""
    try:
        yield
    except OSError as exc:
        full = next((code for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
                     if exc.errno == code or os.strerror(code) in str(exc)), None)
        if full is None:
            raise
        raise OutputError(tempfile.gettempdir(), f"{os.strerror(full)}: a replication of {MAPPED_FROM:,} "
                          "studies or more keeps its arrays for the whole horizon and its summary's columns in "
                          "unnamed files there (five city years: some 4 GB at once); free space there, or set "
                          "TMPDIR to a folder with room", "the run's outputs were not written") from None


def _let_go(values: np.ndarray) -> None:
    """One mapped array's pages out of the process's memory."""
    _advise(values.base.obj)  # (the array's base: a view of its mapping)


def _advise(mapping: mmap.mmap) -> None:
    if hasattr(mapping, "madvise"):  # (not on every system: there the kernel alone decides)
        mapping.madvise(mmap.MADV_DONTNEED)


def parts(table: Any, columns: list[str] | None = None) -> Iterator[tuple[int, Any]]:
    """A table (of `columns`; None: all) whole, or from `MAPPED_FROM` rows a part at a time (a file's row
    groups, where the table reads them: `summaries.KeptColumns`' file; else slices), each with where its rows
    begin: what is worked out of a large replication's rows, a part at a time, into mapped arrays."""
    n = table.num_rows
    if n < MAPPED_FROM:
        yield 0, table if columns is None else _select(table, columns)
        return
    lo = 0
    for part in table.row_groups(columns) if hasattr(table, "row_groups") else (
            table.slice(at, PART) for at in range(0, n, PART)):
        yield lo, part if columns is None else _select(part, columns)
        lo += part.num_rows


PART = 1 << 20  # rows (values) worked on at a time


def column_of(table: Any, columns: list[str], made: Callable[[Any], np.ndarray], dtype: Any = None) -> np.ndarray:
    """A column `made` of each part of a table (`parts`, of `columns`): the whole table's at once where it is
    one part, else each part's written into a mapped array (of `dtype`; None: the first part's), its pages
    let go of as each is."""
    whole = None
    for lo, part in parts(table, columns):
        values = made(part)
        if lo == 0 and part.num_rows == table.num_rows:
            return values
        if whole is None:
            whole = array(table.num_rows, values.dtype if dtype is None else dtype)
        whole[lo:lo + part.num_rows] = values
        let_go()
    return made(table) if whole is None else whole  # (no rows: no parts)


def _select(table: Any, columns: list[str]) -> Any:
    return table.select(columns) if hasattr(table, "select") else table


class Spool:
    """Columns made a piece at a time (a year's) and taken whole at the end. `to_files` (a large
    replication's): each piece written to its column's file as it comes, the column mapped whole at the
    end, so that the pieces are never held together, nor the column in the process's own memory; else the
    pieces held, and joined as each column is taken (one piece: itself, no copy)."""

    def __init__(self, to_files: bool = True) -> None:
        self.to_files = to_files
        self._files: dict[str, tuple[Any, np.dtype, int]] = {}
        self._pieces: dict[str, list[np.ndarray]] = {}

    def append(self, name: str, values: np.ndarray) -> None:
        if not self.to_files:
            pieces = self._pieces.setdefault(name, [])
            if pieces and values.dtype != pieces[0].dtype:
                raise TypeError(f"{name}: {values.dtype} after {pieces[0].dtype}")
            pieces.append(values)
            return
        file, dtype, n = self._files.get(name) or (tempfile.TemporaryFile(), values.dtype, 0)
        if values.dtype != dtype:
            raise TypeError(f"{name}: {values.dtype} after {dtype}")
        with room():
            file.write(np.ascontiguousarray(values).data)
            file.flush()
        self._files[name] = (file, dtype, n + values.shape[0])

    def column(self, name: str) -> np.ndarray:
        """The column whole (mapped: its file closed here, the mapping keeps it), let go of here."""
        if not self.to_files:
            pieces = self._pieces.pop(name)
            return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        file, dtype, n = self._files.pop(name)
        if not n:
            file.close()
            return np.zeros(0, dtype=dtype)
        file.flush()
        return _mapping(file, n * dtype.itemsize, dtype)


def _mapping(file: Any, size: int, dtype: Any) -> np.ndarray:
    with file:
        file.truncate(size)  # (a file's new bytes read as zeros)
        if hasattr(os, "posix_fallocate"):
            # Its room taken on the disk now: a page written later with no room behind it would stop the
            # process with SIGBUS, not an error anyone can read.
            with room():
                os.posix_fallocate(file.fileno(), 0, size)
        mapping = mmap.mmap(file.fileno(), size)
    _LIVE.add(mapping)
    return np.frombuffer(mapping, dtype=dtype)
