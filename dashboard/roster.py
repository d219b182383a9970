"""The roster as a table an administrator edits: one row per pool and shift time, one column per weekday.

A scenario writes a shift as times, days and one staff number; several entries may share the times (a
weekday and a weekend version). The table merges them; writing it back makes one entry per distinct staff
number, so the scenario stays as short as the roster allows.
"""
from __future__ import annotations

import copy
from typing import Any

from simulator.scenario import DAYS, Scenario

__all__ = ["roster_rows", "apply_roster", "RosterError"]


class RosterError(ValueError):
    """A roster table that cannot be written back (a negative or fractional staff number, say)."""


def _times(shift: Any) -> str:
    return f"{shift.start}-{shift.end}" if shift.end else f"{shift.start}+{shift.hours:g}h"


def roster_rows(scenario: Scenario) -> list[dict[str, Any]]:
    """Rows {pool, shift, mon..sun}: staff on each weekday of each shift time of each pool."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for pool_name, pool in scenario.pools.items():
        for shift in pool.shifts:
            key = (pool_name, _times(shift))
            row = rows.setdefault(key, {"pool": pool_name, "shift": key[1], **{d: 0 for d in DAYS}})
            for day in shift.days:
                row[day] += shift.staff
    return list(rows.values())


def apply_roster(data: dict[str, Any], scenario: Scenario, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Scenario data with the pools' shifts rewritten from the table (other keys kept as they are)."""
    out = copy.deepcopy(data)
    by_pool: dict[str, list[dict[str, Any]]] = {name: [] for name in scenario.pools}
    templates: dict[tuple[str, str], Any] = {}
    shared: set[tuple[str, str]] = set()  # times written as several entries: their names would mislead
    for pool_name, pool in scenario.pools.items():
        for shift in pool.shifts:
            key = (pool_name, _times(shift))
            if key in templates:
                shared.add(key)
            templates.setdefault(key, shift)
    for row in rows:
        template = templates.get((row["pool"], row["shift"]))
        if template is None:
            raise RosterError(f"no shift {row['shift']} in pool {row['pool']}")
        staff_by_day: dict[int, list[str]] = {}
        for day in DAYS:
            value = row[day]
            if value is None or value != value or int(value) != value or value < 0:
                raise RosterError(f"{row['pool']} {row['shift']} {day}: staff must be a whole number >= 0, not {value!r}")
            staff_by_day.setdefault(int(value), []).append(day)
        for staff, days in staff_by_day.items():
            entry = {"start": template.start, "staff": staff, "days": days}
            entry.update({"end": template.end} if template.end else {"hours": template.hours})
            if template.name and (row["pool"], row["shift"]) not in shared:
                entry["name"] = template.name
            by_pool[row["pool"]].append(entry)
    for name, shifts in by_pool.items():
        out["pools"][name]["shifts"] = shifts
    return out
