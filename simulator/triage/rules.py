"""Declarative triage rules: ordered `when` conditions, first match wins, a required `else`.

For people who do not write Python. A rule is plain data (what a scenario file or a production
configuration holds):

    {"when": {"referral": "stat"}, "class": "stat"}
    {"when": {"study_type": ["chest_ct", "ldct"], "ai_score": {"ge": 0.5}}, "class": "high"}
    {"when": {"patient_age": {"ge": 65}, "ai_positive": True}, "class": "elderly_flagged"}

Classes rank in the order they first appear (the first rule's class is read first, `else` last unless it
reuses an earlier class); within a class, by ready time. Turnaround targets are not the rules' business:
they come from what a study is (`targets.py`), so a rules policy is judged like any other.

Each condition is written twice, side by side: for an item, and for a block of items as columns
(`rank_block`, which the reading station asks a block of studies at a time; tests/test_block_ranks.py
checks that the two agree on generated items).
"""
from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .columns import BlockRanks, Columns, ranks_as
from .item import WorkItem
from .policy import PolicyError, Rank

if TYPE_CHECKING:  # numpy is imported where a block is ranked: the triage package stays plain Python
    import numpy as np

__all__ = ["Rules", "CHOICE_FIELDS", "RANGE_FIELDS", "FLAG_FIELDS"]

CHOICE_FIELDS = ("referral", "study_type", "modality", "site", "kind", "ai_service")  # a value or a list of values
RANGE_FIELDS = ("ai_score", "patient_age")  # {lt, le, gt, ge}: all given bounds must hold; unknown -> no match
FLAG_FIELDS = ("ai_positive", "scored")  # true / false; ai_positive is false for unscored studies
COMPARISONS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}


class Test(NamedTuple):
    """A condition: whether an item meets it, and which items of a block (as columns) do."""

    item: Callable[[WorkItem], bool]
    block: Callable[[Columns], "np.ndarray"]


def _choice(field: str, value: Any) -> Test:
    allowed = frozenset(value) if isinstance(value, (list, tuple, set, frozenset)) else frozenset([value])

    def block(columns: Columns) -> np.ndarray:
        import numpy as np

        values = getattr(columns, field)
        if isinstance(values, list):  # (ai_service: a list, None where a type has no AI)
            return np.array([v in allowed for v in values], dtype=bool)
        distinct, at = np.unique(values, return_inverse=True)  # each value asked once, as Python asks it
        return np.array([v in allowed for v in distinct.tolist()], dtype=bool)[at.reshape(-1)]

    return Test(lambda item: getattr(item, field) in allowed, block)


def _range(field: str, bounds: Mapping[str, float], where: str) -> Test:
    if not isinstance(bounds, Mapping) or not bounds or set(bounds) - set(COMPARISONS):
        raise PolicyError(f"{where}: give bounds as {{lt, le, gt, ge}}: numbers, e.g. {{ge: 0.5}}")
    checks = [(COMPARISONS[op], float(limit)) for op, limit in bounds.items()]

    def test(item: WorkItem) -> bool:
        value = getattr(item, field)
        return value is not None and all(compare(value, limit) for compare, limit in checks)

    def block(columns: Columns) -> np.ndarray:
        import numpy as np

        values = getattr(columns, field)  # NaN where the item's is None: no bound holds for it
        met = np.ones(values.shape[0], dtype=bool)
        for compare, limit in checks:
            met &= compare(values, limit)
        return met

    return Test(test, block)


def _flag(field: str, value: Any, where: str) -> Test:
    if not isinstance(value, bool):
        raise PolicyError(f"{where}: must be true or false")
    if field == "scored":
        return Test(lambda item: (item.ai_score is not None) == value, lambda columns: columns.scored == value)
    return Test(lambda item: bool(item.ai_positive) == value, lambda columns: columns.ai_positive == value)


def compile_when(when: Mapping[str, Any], where: str) -> Test:
    """One test from a `when` mapping: every condition must hold (an empty mapping always holds)."""
    tests: list[Test] = []
    for field, value in when.items():
        path = f"{where}.{field}"
        if field in CHOICE_FIELDS:
            tests.append(_choice(field, value))
        elif field in RANGE_FIELDS:
            tests.append(_range(field, value, path))
        elif field in FLAG_FIELDS:
            tests.append(_flag(field, value, path))
        else:
            known = ", ".join(CHOICE_FIELDS + RANGE_FIELDS + FLAG_FIELDS)
            raise PolicyError(f"{path}: unknown condition; known: {known}")

    def block(columns: Columns) -> np.ndarray:
        import numpy as np

        met = np.ones(len(columns), dtype=bool)
        for test in tests:
            met &= test.block(columns)
        return met

    return Test(lambda item: all(test.item(item) for test in tests), block)


class Rules:
    """First matching rule's class; `otherwise` (the `else` of the scenario) when none matches."""

    name = "rules"

    def __init__(self, rules: Sequence[Mapping[str, Any]], otherwise: Mapping[str, Any] | None) -> None:
        if not otherwise or "class" not in otherwise:
            raise PolicyError("rules need an else: {class: ...} for studies no rule matches")
        self.order: dict[str, int] = {}
        self._rules: list[tuple[Test, str]] = []
        for position, rule in enumerate(rules):
            where = f"rules.{position}"
            if "class" not in rule:
                raise PolicyError(f"{where}: a rule needs a class")
            self._rules.append((compile_when(rule.get("when") or {}, f"{where}.when"), self._class(rule, where)))
        self._else = self._class(otherwise, "else")

    def _class(self, rule: Mapping[str, Any], where: str) -> str:
        if "target" in rule:
            raise PolicyError(f"{where}.target: a rule sets no target; targets come from what a study is "
                              "(the scenario's `targets`: stat, urgent, routine, ai_positive, a kind or a study type)")
        label = str(rule["class"])
        self.order.setdefault(label, len(self.order))
        return label

    def classify(self, item: WorkItem) -> str:
        for test, label in self._rules:
            if test.item(item):
                return label
        return self._else

    def rank(self, item: WorkItem, now: float) -> Rank:
        label = self.classify(item)
        return Rank(self.order[label], item.ready_at, label)

    @ranks_as(rank)
    def rank_block(self, columns: Columns) -> BlockRanks:
        import numpy as np

        cls = np.full(len(columns), self.order[self._else])  # a class is its label's place in `order`
        left = np.ones(len(columns), dtype=bool)  # matched by no rule before
        for test, label in self._rules:
            first = left & test.block(columns)
            cls[first] = self.order[label]
            left &= ~first
        return BlockRanks(cls, columns.ready_at, np.array(list(self.order), dtype=str)[cls])
