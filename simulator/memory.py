"""Memory a large replication freed, given back to the system where the C library would keep it.

glibc's malloc keeps what a process frees inside its heap for the process's next allocations. After a city
year's reading station (millions of small blocks: ranks asked a block at a time, lists made and let go of)
some 370 MB of it stayed resident, measured, while the tables and the summary that come next make their
own: `malloc_trim` gives those pages back (18 ms on that heap). Elsewhere (another C library, another
system) nothing is done: the memory is the process's to reuse, as before.
"""
from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

__all__ = ["give_back", "trim", "LARGE"]

# Studies from which a replication gives back what it freed: below, the heap is small and the call (under a
# millisecond) is a share of the replication worth saving (validation's and `staff`'s thousands).
LARGE = 100_000


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc's; absent from musl
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def give_back(studies: int) -> bool:
    """After a replication of `studies` studies let go of a stage's arrays: the heap's free pages back to the
    system, if the replication is large and the C library can. Whether it was done."""
    if studies < LARGE:
        return False
    return trim()


def trim() -> bool:
    """The heap's free pages back to the system, if the C library can. Whether it was done."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
