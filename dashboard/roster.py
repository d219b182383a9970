"""The roster as a table an administrator edits: one row per pool and shift, one column per weekday.

A scenario writes a shift as times, days and one staff number; several entries may share the times (a
weekday and a weekend version). The table merges them (named after the scenario's own shift names); writing
it back makes one entry per distinct staff number, so the scenario stays as short as the roster allows.

Cells are read as text, so that what a person types is checked as typed: "2.5", "-1" or an empty cell is an
error naming the cell, never silently 25 or 1.
"""
from __future__ import annotations

import copy
from typing import Any

from simulator.scenario import DAYS, Scenario

__all__ = ["roster_rows", "apply_roster", "parse_cells", "changed_cells", "RosterError"]


class RosterError(ValueError):
    """A roster table that cannot be written back, naming the cell."""


def _times(shift: Any) -> str:
    return f"{shift.start}-{shift.end}" if shift.end else f"{shift.start}+{shift.hours:g}h"


def roster_rows(scenario: Scenario) -> list[dict[str, Any]]:
    """Rows {pool, shift, times, mon..sun}: staff on each weekday of each shift time of each pool. `shift` is
    the scenario's name of the first entry with those times, else the times."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for pool_name, pool in scenario.pools.items():
        for shift in pool.shifts:
            key = (pool_name, _times(shift))
            row = rows.setdefault(key, {"pool": pool_name, "shift": "", "times": key[1], **{d: 0 for d in DAYS}})
            if shift.name and not row["shift"]:  # the first entry's name stands for the times
                row["shift"] = shift.name
            for day in shift.days:
                row[day] += shift.staff
    for row in rows.values():
        row["shift"] = row["shift"] or row["times"]
    return list(rows.values())


def parse_cells(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table with every weekday cell a whole number >= 0, or a RosterError naming the first bad cell."""
    out = []
    for row in rows:
        clean = dict(row)
        for day in DAYS:
            value = row.get(day)
            text = "" if value is None else str(value).strip()
            if text.endswith(".0"):
                text = text[:-2]
            if not text.isdigit():
                shown = "an empty cell" if not text else repr(text)
                raise RosterError(f"{row['pool']} {row['shift']} {day}: {shown} is not a number of readers "
                                  "(a whole number, 0 or more)")
            clean[day] = int(text)
        out.append(clean)
    return out


def changed_cells(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """'general night sat: 1 -> 0' for every cell that differs."""
    old = {(r["pool"], r["times"]): r for r in before}
    changes = []
    for row in after:
        was = old.get((row["pool"], row["times"]))
        if was is None:
            continue
        changes += [f"{row['pool']} {row['shift']} {day}: {was[day]} -> {row[day]}" for day in DAYS
                    if was[day] != row[day]]
    return changes


def apply_roster(data: dict[str, Any], scenario: Scenario, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Scenario data with the pools' shifts rewritten from the table (other keys kept as they are). Shifts
    whose cells were not changed keep their entries exactly as the file wrote them; changed ones get one
    entry per distinct staff number, keeping the name of a file entry that covered the same days."""
    out = copy.deepcopy(data)
    entries: dict[tuple[str, str], list[tuple[int, Any]]] = {}  # (pool, times) -> [(index, shift)]
    for pool_name, pool in scenario.pools.items():
        for index, shift in enumerate(pool.shifts):
            entries.setdefault((pool_name, _times(shift)), []).append((index, shift))
    given = {(r["pool"], r.get("times", r["shift"])): r for r in parse_cells(rows)}
    for key in given:
        if key not in entries:
            raise RosterError(f"no shift {key[1]} in pool {key[0]}")
    for pool_name, pool in scenario.pools.items():
        written: list[dict[str, Any]] = []
        for index, shift in enumerate(pool.shifts):
            key = (pool_name, _times(shift))
            group = entries[key]
            if group[0][0] != index:
                continue  # the group is written at its first entry
            row = given.get(key)
            if row is None or all(row[d] == sum(s.staff for _, s in group if d in s.days) for d in DAYS):
                written += [out["pools"][pool_name]["shifts"][i] for i, _ in group]  # as the file wrote them
                continue
            names = {frozenset(s.days): s.name for _, s in group}
            staff_by_day: dict[int, list[str]] = {}
            for day in DAYS:
                staff_by_day.setdefault(row[day], []).append(day)
            for staff, days in staff_by_day.items():
                entry: dict[str, Any] = {"start": shift.start, "staff": staff, "days": days}
                entry.update({"end": shift.end} if shift.end else {"hours": shift.hours})
                # A shift split by weekday keeps the roster's name for each part ("night mon", "night tue-sun"),
                # so that the results say the shift the table shows, not "20:00-08:00+1#2".
                name = names.get(frozenset(days)) or (row["shift"] if len(staff_by_day) == 1 else
                                                      f"{row['shift']} {_day_ranges(days)}")
                if name:
                    entry["name"] = name
                written.append(entry)
        out["pools"][pool_name]["shifts"] = written
    return out


def _day_ranges(days: list[str]) -> str:
    """Weekdays as a roster writes them: 'mon', 'tue-sun', 'mon,wed-fri'."""
    runs: list[list[str]] = []
    for day in days:
        if runs and DAYS.index(day) == DAYS.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(r[0] if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
