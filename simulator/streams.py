"""Independent random streams, one per (replication, purpose, name).

A stream depends on nothing but the seed, the replication, its purpose and the name of what it draws for
(a study type, a pool), so two policies run on one seed see the same studies, scores and reading times
(common random numbers), and adding a study type leaves the others' draws alone. New purposes go at the end:
a purpose's position is part of its key.
"""
from __future__ import annotations

import zlib

import numpy as np

__all__ = ["PURPOSES", "stream"]

PURPOSES = ("arrivals", "sites", "referral", "truth", "ai", "ingest", "reading", "second_opinion", "absences",
            "age", "double_reading", "audit", "exam", "failures", "size", "inference", "delivery",
            "bookings")


def stream(seed: int, replication: int, purpose: str, name: str = "") -> np.random.Generator:
    """The generator for one purpose; raises ValueError for an unknown purpose."""
    key = (replication, PURPOSES.index(purpose), zlib.crc32(name.encode("utf-8")))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
