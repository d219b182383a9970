"""Writing outputs safely: whole or not at all, durable, and never over anything radsim did not write.

- **Ownership.** A folder radsim writes (a run, a comparison, a roster, a sweep, generated DICOM) carries a
  marker file, `.radsim.json`, naming what kind of output it is and the files radsim put there. A folder is
  radsim's only by its marker: radsim replaces a folder only if it is empty, or its marker says it holds
  radsim's output of the same kind and it holds nothing else. A folder without the marker is refused (exit 2)
  naming its files, even when they carry radsim's names (`summary.json` may be anyone's notes); the user may
  then say `--replace`, which replaces an unmarked folder holding only files of radsim's names for that
  kind, and nothing else. A file where a folder should go, the current folder or one above it is refused.
  A single file is replaced only if radsim recognises it as its own kind of file by its content.
- **Atomic.** A folder is built in a hidden staging folder beside the target and swapped into place in one
  step (Linux `renameat2(RENAME_EXCHANGE)`), so the target is never missing; where the file system cannot
  exchange, two renames are used and a `.NAME.old-*` left by a crash between them is put back on the next
  start. A file is written beside the target and renamed over it.
- **Durable.** Files and folders are fsynced before the rename, and the parent after it.
- **Tidy.** Staging left by a killed process (its PID no longer runs) is removed on the next start.
- Files and folders get the permissions of the user's umask.
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from . import __version__
from .errors import OutputError, ScenarioError

__all__ = ["MARKER", "claim_directory", "write_directory", "add_file", "write_file", "write_text", "claim_file",
           "Recognise", "NAMES"]

MARKER = ".radsim.json"
Recognise = Callable[[Path], bool]  # whether an existing file is radsim's own, of the kind about to be written

# The names radsim gives the files of each kind of folder: an unmarked folder holding only these may be
# replaced when the user says `--replace` (a folder written before markers existed, or copied without its
# marker); never without.
NAMES = {
    "run": ("summary.json", "studies.parquet", "readers.parquet", "stations.parquet", "scenario.yaml", "report.html"),
    "comparison": ("comparison.json", "report.html"),
    "staffing": ("staffing.json", "roster.yaml"),
    "design": ("design.json", "roster.yaml"),
    "sweep": ("sweep.json", "runs", "results.parquet", "summary.parquet", "failures.json", "report.html"),
}


# Why a write fails that the user can mend (space, quota, permission), as opposed to a bug.
_MENDABLE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM, errno.EROFS}


def _mendable(exc: BaseException, path: Path) -> OutputError | None:
    """The OutputError naming `path` (not a staging name) for a write that failed for a mendable reason;
    pyarrow's errors carry the reason in their text only."""
    if not isinstance(exc, OSError):
        return None
    for code in _MENDABLE:
        if exc.errno == code or os.strerror(code) in str(exc):
            return OutputError(path, os.strerror(code))
    return None


def _refuse(path: Path, message: str) -> ScenarioError:
    return ScenarioError(str(path), [("", message)])


def _marker(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("written_by") == "radsim" else None


def _check_place(target: Path) -> Path:
    """The absolute target, refused where replacing it could only be a mistake."""
    target = Path(os.path.abspath(target))
    here = Path.cwd().resolve()
    resolved = target.resolve()
    if resolved == here or resolved in here.parents:
        raise _refuse(target, "is the current folder or one above it: give a new folder for the output")
    return target


def _shown(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def claim_directory(target: Path, kind: str, replace: bool = False) -> Path:
    """Check, before any work is done, that radsim may write the folder `target`; the absolute path, or a
    ScenarioError (exit 2) saying why not. `replace`: the user's `--replace`, for an unmarked folder of
    radsim's file names. A marker of `kind` that lists no files (a sweep's, written as it goes) owns the
    whole folder."""
    target = _check_place(target)
    _recover(target)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise _refuse(target, "is a file (or a link), not a folder: radsim writes a folder here; give another --out")
    if target.is_dir():
        try:
            entries = sorted(p.name for p in target.iterdir())
        except OSError as exc:
            raise _refuse(target, f"cannot be read: {exc.strerror or exc}") from None
        if entries:
            marker = _marker(target)
            if marker is not None:
                if marker.get("kind") != kind:
                    raise _refuse(target, f"holds radsim's {marker.get('kind')} output, not a {kind}: give another --out")
                owned = set(marker["files"]) | {MARKER} if isinstance(marker.get("files"), list) else set(entries)
                foreign = [name for name in entries if name not in owned]
                if foreign:
                    raise _refuse(target, f"holds files radsim did not write ({_shown(foreign)}) beside its {kind}; "
                                  "radsim replaces only its own output: give another --out, or move them")
            else:
                foreign = [name for name in entries if name not in NAMES.get(kind, ())]
                if foreign:
                    raise _refuse(target, f"holds files radsim did not write ({_shown(foreign)}); radsim replaces only "
                                  "its own output: give another --out, or move them")
                if not replace:
                    raise _refuse(target, f"holds {_shown(entries)} but no {MARKER} marker, so radsim cannot tell that "
                                  f"it wrote them; give another --out, or say --replace to replace this folder and "
                                  "everything in it")
    _parent(target)
    return target


def _parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _refuse(target, f"cannot create its parent folder: {exc.strerror or exc}") from None
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise _refuse(target, "its parent folder is not writable")


def write_directory(target: Path, kind: str, fill: Callable[[Path], None], replace: bool = False) -> Path:
    """Build the folder with `fill` in a staging folder, then put it in place of `target` in one step."""
    target = claim_directory(target, kind, replace)
    staging = target.parent / f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        staging.mkdir(0o777)  # the umask applies, as to any new folder
        fill(staging)
        files = sorted(p.name for p in staging.iterdir())
        _write(staging / MARKER, json.dumps({"written_by": "radsim", "version": __version__, "kind": kind,
                                             "files": files}, indent=1).encode(), sync=False)
        _sync_tree(staging)
        if target.exists():
            _swap(staging, target)
            shutil.rmtree(staging, ignore_errors=True)  # now holds the previous output
        else:
            os.rename(staging, target)
        _sync(target.parent)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        mendable = _mendable(exc, target)
        if mendable is not None:
            raise mendable from None
        raise
    return target


def add_file(folder: Path, name: str, payload: bytes, recognise: Recognise | None = None) -> Path:
    """Write one file into a folder radsim wrote (a report into a run, say), and list it in the folder's
    marker so that the folder stays radsim's own. An existing file of that name is replaced if the marker
    lists it, or `recognise` says by its content that it is radsim's."""
    folder = Path(folder)
    marker = _marker(folder)
    listed = name in (marker or {}).get("files", [])
    write_file(folder / name, payload, lambda path: listed or (recognise is not None and recognise(path)))
    if marker is not None and name not in marker.get("files", []):
        marker["files"] = sorted({*marker.get("files", []), name})
        write_file(folder / MARKER, json.dumps(marker, indent=1).encode(), lambda path: True)
    return folder / name


def claim_file(target: Path, recognise: Recognise | None = None) -> Path:
    """Check that radsim may write the file `target`: a new file, or one `recognise` says is radsim's."""
    target = _check_place(target)
    if target.is_dir():
        raise _refuse(target, "is a folder: give a file name")
    if target.exists() and (recognise is None or not _recognised(recognise, target)):
        raise _refuse(target, "exists and is not a file radsim wrote: radsim replaces only its own files; "
                      "give another name, or move it")
    _parent(target)
    return target


def _recognised(recognise: Recognise, target: Path) -> bool:
    try:
        return bool(recognise(target))
    except Exception:  # an unreadable or foreign file is simply not ours
        return False


def write_file(target: Path, payload: bytes, recognise: Recognise | None = None) -> Path:
    """Write a file so that it appears whole or not at all; an existing file is replaced only when
    `recognise` says it is radsim's own."""
    target = claim_file(target, recognise)
    _recover(target)
    staging = target.parent / f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        _write(staging, payload)
        os.replace(staging, target)
        _sync(target.parent)
    except BaseException as exc:
        staging.unlink(missing_ok=True)
        mendable = _mendable(exc, target)
        if mendable is not None:
            raise mendable from None
        raise
    return target


def write_text(target: Path, text: str, recognise: Recognise | None = None) -> Path:
    return write_file(target, text.encode("utf-8"), recognise)


def _write(path: Path, payload: bytes, sync: bool = True) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(payload)
        stream.flush()
        if sync:
            os.fsync(stream.fileno())


def _sync(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot sync folders; the data files were synced
    finally:
        os.close(descriptor)


def _sync_tree(root: Path) -> None:
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        _sync(Path(folder))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _swap(staging: Path, target: Path) -> None:
    """Exchange two folders in one step where the kernel and file system can; else two renames, with a
    `.old-*` name that `_recover` puts back if a crash falls between them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        renameat2 = None
    if renameat2 is not None:
        if renameat2(_AT_FDCWD, os.fsencode(staging), _AT_FDCWD, os.fsencode(target), _RENAME_EXCHANGE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise OSError(code, os.strerror(code), str(target))
    old = target.parent / f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
    os.rename(target, old)
    os.rename(staging, target)
    os.rename(old, staging)  # so the caller removes the previous output with the staging folder


def _recover(target: Path) -> None:
    """Tidy what a killed radsim left beside `target`: staging of processes that no longer run is removed;
    a previous output left under `.old-*` by a crash mid-swap is put back if the target is missing."""
    parent = target.parent
    if not parent.is_dir():
        return
    for prefix, restore in ((f".{target.name}.old-", True), (f".{target.name}.tmp-", False)):
        for path in _stale(parent, prefix):
            if restore and not target.exists() and path.is_dir():
                os.rename(path, target)
            elif path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _stale(parent: Path, prefix: str) -> Iterable[Path]:
    try:
        names = [p for p in parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return []
    stale = []
    for path in names:
        pid = path.name[len(prefix):].partition("-")[0]
        if pid.isdigit() and not _running(int(pid)):
            stale.append(path)
    return stale


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
