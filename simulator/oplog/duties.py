"""Readers' duties: when each reader was on duty, from their work in the log or from a roster the RIS keeps.

A log shows a reader only while they read. A quiet night reader (a study an hour) leaves gaps of hours
between reads, and the hours of those gaps, read as nobody on duty, make a roster with holes: work that
was read at once in the log waits for the morning in the model. So a reader's work is grouped into
duties (gaps under DUTY_GAP_MINUTES), and each duty is widened to the reader's usual shift of that kind:
the start hour most of their duties of that kind begin at, and the shortest of its usual lengths (whole
hours) that holds the duty. A duty runs to the last read the reader opened: the model's readers,
like real ones, finish the study in hand after their shift, so a late signing is not more duty. A duty
longer than every usual shift keeps its own ends; a reader's duties that fall in one shift are one duty,
never two readers.

Where the RIS has the roster, `read_roster` takes it as given (reader, start, end per duty): it replaces
what the work suggests for the readers it names. `read_by_spacing` gives the time each study held its
reader (pauses before it included), from the spacing of the reader's signings within these duties.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Duties", "duties_from_work", "reads_in_progress", "read_by_spacing", "read_roster", "given_duties",
           "busy_by_hour", "DUTY_GAP_MINUTES"]

DUTY_GAP_MINUTES = 360.0  # a reader idle longer than this has gone off duty (a quiet night has gaps of hours)
KIND_HOURS = 3  # duties starting within this many hours of each other are one kind of shift (day, night, ...)
USUAL_SHARE = 0.1  # a length at least this share of a kind's duties run to is one of its usual lengths
GRACE_MINUTES = 5.0  # a read opened this soon after the hour is the hour before's work (clocks, a last click)

Duties = dict[str, list[tuple[float, float]]]  # reader -> (start, end) minutes from the fit's origin, sorted


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping or touching spans as one: a reader is on duty once, however many ways it was seen."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _work_spans(readers: list, opened: np.ndarray, signed: np.ndarray) -> Duties:
    """Each reader's activity grouped into stretches with gaps under DUTY_GAP_MINUTES, from the hour the first
    read began (shifts start on the hour, and a quiet morning's first study may come a while after the
    reader did) to the last read opened: a reader finishes the study in hand after the shift's end, as the
    model's readers do, so a signing after it is not more duty (a log without openings: the signing)."""
    names = pa.array(readers, pa.string()).dictionary_encode()
    code = names.indices.to_numpy(zero_copy_only=False)
    keep = names.indices.is_valid().to_numpy(zero_copy_only=False) & np.isfinite(signed)
    if not keep.any():
        return {}
    code, b = code[keep].astype(np.int64), signed[keep]
    a = np.where(np.isfinite(opened[keep]), opened[keep], b)
    order = np.lexsort((b, a, code))
    code, a, b = code[order], a[order], b[order]
    # Each reader's running latest signing: one cumulative maximum over the readers laid end to end.
    lift = float(b.max() - b.min() + 1.0)
    busy_until = np.maximum.accumulate(b + code * lift) - code * lift
    new = np.ones(code.size, dtype=bool)
    new[1:] = (code[1:] != code[:-1]) | (a[1:] - busy_until[:-1] > DUTY_GAP_MINUTES)
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, code.size - 1)
    duties: Duties = {}
    who = names.dictionary.to_pylist()
    for f, l in zip(first, last):
        duties.setdefault(who[code[f]], []).append((math.floor(a[f] / 60.0) * 60.0, float(a[l])))
    return duties


def _usual_shifts(spans: list[tuple[float, float]]) -> list[tuple[int, list[int]]]:
    """(start hour of day, usual lengths in hours) of each kind of shift a reader works: the commonest start
    hour among the duties not yet placed, the duties starting within KIND_HOURS of it, and the lengths from
    that hour (in whole hours, `_hours`) that at least USUAL_SHARE of them (and two) run to (a weekday's 12
    hours and a Saturday's 6 are both usual; 11 beside 12 is a 12 that ended quietly). Duties of a day or
    longer say nothing of a shift's length."""
    todo = [(a, b) for a, b in spans if b - a < 24 * 60]
    kinds = []
    while todo:
        hours = [int(a // 60) % 24 for a, _ in todo]
        usual = max(set(hours), key=lambda h: (hours.count(h), -h))
        mine = [(a, b) for (a, b), h in zip(todo, hours) if abs(_apart(h, usual)) <= KIND_HOURS]
        lengths = [_hours(b - _instance(a, usual)) for a, b in mine]
        often = {n for n in lengths if lengths.count(n) >= max(2, USUAL_SHARE * len(mine))}
        # Lengths an hour apart are one shift ended more or less quietly (its last study opened before its
        # last hour), not shifts of their own: rosters' lengths differ by more than an hour. A run of such
        # lengths is its longest.
        kinds.append((usual, sorted(n for n in often if n + 1 not in often)))
        todo = [span for span in todo if span not in mine]
    return kinds


def _hours(minutes: float) -> int:
    """The whole hours a duty that has run `minutes` from its shift's start fills: a reader who opened a read at
    19:20 was on duty until 20:00."""
    return max(int(math.ceil((minutes - GRACE_MINUTES) / 60.0)), 1)


def _apart(hour: int, other: int) -> int:
    """Hours from `other` o'clock to `hour` o'clock the short way round the clock (-12..11): 01 is 2 after 23."""
    return (hour - other + 12) % 24 - 12


def _instance(start: float, hour: int) -> float:
    """The time (minutes) of the nearest `hour` o'clock to `start`, the shift's own start for a duty that began
    at `start`."""
    return math.floor(start / 60.0) * 60.0 - _apart(int(start // 60) % 24, hour) * 60.0


def duties_from_work(readers: list, opened: np.ndarray, signed: np.ndarray) -> Duties:
    """Each reader's duties as the log's work shows them, widened to the reader's usual shifts."""
    duties: Duties = {}
    for who, spans in _work_spans(readers, opened, signed).items():
        kinds = _usual_shifts(spans)
        widened = []
        for a, b in spans:
            if b - a < 24 * 60:
                # The kind it is of, then the shortest usual length that holds it (none: it stays as seen).
                hour, lengths = min(kinds, key=lambda k: abs(_apart(int(a // 60) % 24, k[0])))
                shift = _instance(a, hour)
                hours = next((n for n in lengths if n >= _hours(b - shift)), None)
                if hours is not None:
                    a, b = min(a, shift), max(b, shift + hours * 60.0)
            widened.append((a, b))
        duties[who] = _merged(widened)
    return duties


def reads_in_progress(readers: list, opened: np.ndarray, signed: np.ndarray) -> Duties:
    """Each reader's reads (opened to signed), as spans `busy_by_hour` counts: the work itself, which the fit's
    page draws against the duties."""
    spans: Duties = {}
    for who, a, b in zip(readers, opened, signed):
        if who is not None and np.isfinite(a) and np.isfinite(b) and b > a:
            spans.setdefault(who, []).append((float(a), float(b)))
    return {who: _merged(reads) for who, reads in spans.items()}


def read_by_spacing(readers: list, signed: np.ndarray, available: np.ndarray, duties: Duties) -> np.ndarray:
    """The time each study held its reader, from the spacing of the reader's signings: from the latest of
    the reader's previous signing, the study's being there to read (`available`) and the start of the
    reader's duty (a study waiting overnight is not read overnight) to its signing. A reader who took the
    study at once read it in exactly that time; one who paused first took less: the time a busy reader
    spends per study, pauses included. NaN where there is no reader or signing, or the signing comes
    before the study was there (a clock's error)."""
    names = pa.array(readers, pa.string()).dictionary_encode()
    code = names.indices.to_numpy(zero_copy_only=False)
    out = np.full(signed.size, np.nan)
    rows = np.flatnonzero(names.indices.is_valid().to_numpy(zero_copy_only=False) & np.isfinite(signed))
    if rows.size == 0:
        return out
    rows = rows[np.lexsort((signed[rows], code[rows]))]
    mine, when = code[rows].astype(np.int64), signed[rows]
    previous = np.full(rows.size, -np.inf)
    same = mine[1:] == mine[:-1]
    previous[1:][same] = when[:-1][same]
    # The duty each signing falls in: readers and times laid end to end, one sorted search.
    index = {name: i for i, name in enumerate(names.dictionary.to_pylist())}
    starts = sorted((index[who], a) for who, spans in duties.items() if who in index for a, _ in spans)
    began = np.full(rows.size, -np.inf)
    if starts:
        duty_code = np.array([c for c, _ in starts], dtype=np.int64)
        duty_start = np.array([a for _, a in starts])
        low = min(float(duty_start.min()), float(when.min()))
        lift = max(float(duty_start.max()), float(when.max())) - low + 1.0
        k = np.searchsorted(duty_code * lift + (duty_start - low), mine * lift + (when - low), side="right") - 1
        found = (k >= 0) & (duty_code[np.maximum(k, 0)] == mine)
        began[found] = duty_start[k[found]]
    held = when - np.fmax(np.fmax(previous, available[rows]), began)
    out[rows] = np.where(held >= 0.0, held, np.nan)
    return out


def busy_by_hour(duties: Duties, days: float) -> np.ndarray:
    """Readers on duty in each hour from the fit's origin (a midnight), each hour by the share of it a duty
    covers (a reader who signs off at 20:10 is not on duty from 20:00 to 21:00)."""
    busy = np.zeros(int(math.ceil(days)) * 24 + 24)
    for spans in duties.values():
        for a, b in spans:
            for hour in range(max(int(a // 60), 0), min(int(math.ceil(b / 60.0)), busy.size)):
                busy[hour] += max(min(b, hour * 60.0 + 60.0) - max(a, hour * 60.0), 0.0) / 60.0
    return busy


def read_roster(path: Path) -> pa.Table:
    """A roster as a RIS keeps it: a CSV with a row per duty (reader, start, end: dates and times as a log's
    are read, a duty through midnight ending on the next date; the separator and the headers' case as a
    log's). Bad input names the file, the column and the row."""
    from ..errors import InputError
    from .cleaning import GIVEN_TWICE, given_twice, read_text_csv, text_time

    try:
        table = read_text_csv(path, ("reader", "start", "end"))
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"{path}: not a roster CSV: {str(exc).splitlines()[0]}") from exc
    missing = [c for c in ("reader", "start", "end") if c not in table.column_names]
    twice = given_twice(table.column_names, ("reader", "start", "end"))
    if twice:
        raise InputError(f"{path}: {', '.join(twice)}: given twice {GIVEN_TWICE}")
    if missing:
        raise InputError(f"{path}: {', '.join(missing)}: missing (found {', '.join(table.column_names)}; "
                         "a roster has a row per duty: reader, start, end)")
    columns = {"reader": table.column("reader")}
    for column in ("start", "end"):
        try:
            columns[column] = text_time(table.column(column))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InputError(f"{path}: {column}: not a date and time (ISO 8601 like 2026-03-02T20:00, or day "
                             f"first): {str(exc).splitlines()[0]}") from exc
    table = pa.table(columns)
    for column in ("reader", "start", "end"):
        if table.column(column).null_count:
            raise InputError(f"{path}: {column}: empty on {table.column(column).null_count} row(s)")
    if table.num_rows == 0:
        raise InputError(f"{path}: no duty in the roster")
    wrong = np.flatnonzero(pc.less_equal(table.column("end"), table.column("start")).to_numpy(zero_copy_only=False))
    if wrong.size:
        raise InputError(f"{path}: end: not after start on line {int(wrong[0]) + 2} ({wrong.size} row(s) so; "
                         "a duty through midnight ends on the next date)")
    return table


def given_duties(roster: pa.Table, origin: np.datetime64) -> Duties:
    """A roster read by `read_roster` as duties in minutes from `origin`."""
    from .columns import minutes_since

    duties: Duties = {}
    start, end = minutes_since(roster.column("start"), origin), minutes_since(roster.column("end"), origin)
    for who, a, b in zip(roster.column("reader").to_pylist(), start, end):
        duties.setdefault(who, []).append((float(a), float(b)))
    return {who: _merged(spans) for who, spans in duties.items()}
