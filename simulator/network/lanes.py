"""Worklist lanes: one per set of pools that may read an item, so a reader looks at a heap or two rather
than one per study type, and the order within a lane is the triage policy's alone."""
from __future__ import annotations

from ..scenario import AUDIT, SECOND_OPINION, Scenario
from ..triage import Worklist
from .readers import Pool

__all__ = ["Lanes"]

Choice = tuple[str, str, str]  # (local, central, both): the router chooses


class Lanes:
    """`table[study type][site]`: the lane of a study, or the three a router chooses between; the pools
    and which pools may take a lane's items (in the scenario's order: the first listed is asked first)."""

    def __init__(self, scenario: Scenario, worklist: Worklist) -> None:
        lanes_of = {name: scenario.lanes_of(pool) for name, pool in scenario.pools.items()}
        central = {lane: tuple(p for p, lanes in lanes_of.items() if scenario.pools[p].site is None and lane in lanes)
                   for lane in [*scenario.study_types, SECOND_OPINION, AUDIT]}
        pools_of: dict[str, tuple[str, ...]] = {}

        def group(pools: tuple[str, ...], suffix: str) -> str:
            name = "+".join(pools) + ":" + suffix
            pools_of[name] = pools
            return name

        self.second_opinion, self.audit = group(central[SECOND_OPINION], "so"), group(central[AUDIT], "audit")
        self.table: list[list[str | Choice]] = []
        for name in scenario.study_types:
            row: list[str | Choice] = []
            for site in scenario.sites:
                local = tuple(p for p, lanes in lanes_of.items() if scenario.pools[p].site == site and name in lanes)
                if local and central[name]:
                    row.append((group(local, "reads"), group(central[name], "reads"),
                                group(local + central[name], "reads")))
                else:
                    row.append(group(local or central[name], "reads"))
            self.table.append(row)
        self.pools = {name: Pool(name, tuple(worklist.lane(lane) for lane, pools in pools_of.items() if name in pools))
                      for name in scenario.pools}
        self.pools_for: dict[str, tuple[Pool, ...]] = {
            lane: tuple(self.pools[p] for p in pools) for lane, pools in pools_of.items()}
