"""Independent random streams, one per (replication, purpose, name).

A stream depends on nothing but the seed, the replication, its purpose and the name of what it draws for
(a study type, a pool), so two policies run on one seed see the same studies, scores and reading times
(common random numbers), and adding a study type leaves the others' draws alone. New purposes go at the end:
a purpose's position is part of its key.

A study's random numbers come from the streams of the year it arrives in (`YEAR`: 365 days from the start),
each year's streams their own: a run longer than a year draws its second year as a stream of its own
rather than on from the first, so that a year's studies can be drawn, and go through the stations, without
the years before them held (and the first year of a longer run is a run of one year).
"""
from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

__all__ = ["PURPOSES", "YEAR", "stream", "years_of", "by_year"]

YEAR = 365 * 1440.0  # minutes: the draws' year (a multiple of the arrivals' hour bins)

PURPOSES = ("arrivals", "sites", "referral", "truth", "ai", "ingest", "reading", "second_opinion", "absences",
            "age", "double_reading", "audit", "exam", "failures", "size", "inference", "delivery",
            "bookings")


def stream(seed: int, replication: int, purpose: str, name: str = "", year: int = 0) -> np.random.Generator:
    """The generator for one purpose (of the studies arriving in `year`); raises ValueError for an unknown
    purpose. The first year's key is the key streams had before years: a run of a year or less draws as
    it did."""
    key = (replication, PURPOSES.index(purpose), zlib.crc32(name.encode("utf-8"))) + ((year,) if year else ())
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def years_of(arrived: np.ndarray) -> np.ndarray | None:
    """The draws' year of each arrival time (None: all in the first, as in every run of a year or less)."""
    if arrived.shape[0] == 0 or not (arrived >= YEAR).any():
        return None
    return np.floor_divide(arrived, YEAR).astype(np.int64)


def by_year(years: np.ndarray | None, n: int, draw: Callable[[int, int], np.ndarray]) -> np.ndarray:
    """`n` values, one per job in the jobs' order, drawn a year at a time: `draw(year, count)` gives the
    values of that year's jobs (`years`, None: all in the first), in their order."""
    if years is None:
        return draw(0, n)
    out = None
    for year in np.unique(years).tolist():
        at = np.flatnonzero(years == year)
        values = draw(int(year), at.shape[0])
        if out is None:
            out = np.empty(n, dtype=values.dtype)
        out[at] = values
    return draw(0, 0) if out is None else out
