"""Schema errors in the scenario's words: what was given, what belongs there and an example of it, never
the validation library's phrasing ("Input should be a valid dictionary or instance of Duration" becomes
"write a duration in one unit: {minutes: 30}, {hours: 2} or {days: 1}, not 30")."""
from __future__ import annotations

import datetime as dt
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Union

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .durations import Duration, Empirical, Exponential, Fixed, Gamma, Lognormal

__all__ = ["explain", "expected_at"]

DISTRIBUTIONS = (Exponential, Lognormal, Gamma, Fixed, Empirical)

# What to write, for the shapes a user most often gets wrong; any other model is described by its keys.
EXAMPLES: dict[type, str] = {
    Duration: "a duration in one unit: {minutes: 30}, {hours: 2} or {days: 1}",
    **{d: "a distribution of minutes: {dist: exponential, mean: 16} (dist: exponential, lognormal, gamma, fixed "
          "or empirical; docs/contract.md)" for d in DISTRIBUTIONS},
}


def explain(err: Mapping[str, Any], root: type[BaseModel]) -> str:
    """One validation error of `root`'s data, in plain words."""
    kind, ctx = err["type"], err.get("ctx") or {}
    expected, info = expected_at(root, tuple(err["loc"]))
    got = _got(err)
    if kind == "value_error" or kind == "assertion_error":  # radsim's own words already
        return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "extra_forbidden":
        parent, _ = expected_at(root, tuple(err["loc"])[:-1])
        if not _model(parent):
            return "unknown key (check the spelling; docs/contract.md lists the keys)"
        near = difflib.get_close_matches(str(err["loc"][-1]), list(parent.model_fields), n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        return f"unknown key ({hint}keys here: {', '.join(_keys(parent))}; docs/contract.md lists them)"
    if kind == "missing":
        return f"required key is missing: {_shape(expected)}"
    if kind in ("model_type", "model_attributes_type", "dict_type", "union_tag_not_found", "list_type",
                "string_type", "bool_type", "int_type", "int_parsing", "float_type", "float_parsing",
                "int_from_float", "finite_number", "datetime_type", "datetime_parsing", "datetime_from_date_parsing"):
        return f"{_shape(expected)}{got}"
    if kind == "union_tag_invalid":
        return f"dist: {ctx.get('tag')!r} is not a distribution; dist is one of {ctx.get('expected_tags')} " \
               f"(e.g. {{dist: exponential, mean: 16}})"
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}{got}"
    if kind in ("too_short", "too_long"):
        actual = ctx.get("actual_length")
        length = (ctx.get("min_length"), ctx.get("max_length")) if info is None else \
            (_bound(info, "min_length"), _bound(info, "max_length"))
        if kind == "too_long" and length[0] != length[1]:
            return f"at most {ctx['max_length']:,} entries (radsim's limit, docs/contract.md)" + \
                ("" if actual is None else f", not {actual:,}")
        wanted = f"exactly {length[0]:,}" if length[0] == length[1] and length[0] is not None else \
            f"at least {ctx.get('min_length', 1):,}"
        return f"{wanted} entries{'' if actual is None else f', not {actual:,}'}{_what_list(err)}"
    bounds = {"greater_than": ("more than", "gt"), "greater_than_equal": ("at least", "ge"),
              "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"{words} {_number(ctx.get(key))}{got}"
    # A kind not met above: the library's sentence, without its "Input should be" voice.
    return str(err["msg"]).replace("Input should be", "should be") + got


def expected_at(root: Any, loc: tuple) -> tuple[Any, FieldInfo | None]:
    """What the schema expects at a location of an error (a model class, a container type or a plain type)
    and the field that holds it; (None, None) where the location cannot be followed."""
    node, info = root, None
    for element in loc:
        node = _plain(node)
        if _model(node):
            fields = node.model_fields
            if element in fields:
                info = fields[element]
                node = info.annotation
            continue  # a union's tag in the location (a class name or a `dist`), not a key of the data
        origin = typing.get_origin(node)
        if origin in (dict, Mapping) or origin is typing.get_origin(Mapping[str, int]):
            node, info = typing.get_args(node)[1], None
        elif origin in (list, tuple):
            node, info = typing.get_args(node)[0], None
        elif _is_union(node):
            members = [m for m in typing.get_args(node) if m is not type(None)]
            chosen = [m for m in members if _model(_plain(m)) and element in (_plain(m).__name__, _tag(_plain(m)))]
            node = chosen[0] if chosen else node
        else:
            return None, None
    return _plain(node), info


def _plain(node: Any) -> Any:
    """An annotation without Annotated's metadata, and without None as an option."""
    while typing.get_origin(node) is Annotated:
        node = typing.get_args(node)[0]
    if _is_union(node):
        members = [m for m in typing.get_args(node) if m is not type(None)]
        if len(members) == 1:
            return _plain(members[0])
    return node


def _is_union(node: Any) -> bool:
    return typing.get_origin(node) in (Union, types.UnionType)


def _model(node: Any) -> bool:
    return isinstance(node, type) and issubclass(node, BaseModel)


def _tag(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("dist")
    args = typing.get_args(field.annotation) if field is not None else ()
    return args[0] if args and isinstance(args[0], str) else None


def _keys(model: type[BaseModel]) -> list[str]:
    """Its keys, the required ones first."""
    fields = model.model_fields
    return sorted(fields, key=lambda k: not fields[k].is_required())


def _shape(expected: Any) -> str:
    """What belongs here, with an example."""
    if _model(expected):
        if expected in EXAMPLES:
            return f"write {EXAMPLES[expected]}"
        keys = _keys(expected)
        shown = ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")
        return f"write a mapping of keys ({shown}; docs/contract.md)"
    if _is_union(expected):
        members = [_plain(m) for m in typing.get_args(expected) if m is not type(None)]
        if all(m in DISTRIBUTIONS for m in members):
            return f"write {EXAMPLES[Exponential]}"
        if Duration in members:
            return f"write {EXAMPLES[Duration]}"
        return "write " + " or ".join(_words(m) for m in members)
    return f"write {_words(expected)}"


def _words(expected: Any) -> str:
    origin = typing.get_origin(expected)
    if origin in (dict, Mapping):
        value = _plain(typing.get_args(expected)[1])
        inner = "its settings" if _model(value) else _words(value)
        return f"a mapping of names, each to {inner} (e.g. `north: ...`)"
    if origin in (list, tuple):
        entry = _plain(typing.get_args(expected)[0])
        return f"a list in [ ], each entry {_words(entry)}" + (" (e.g. [1, 2.5, 3])" if entry in (int, float) else "")
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(expected))
    if _model(expected) or _is_union(expected):
        return _shape(expected).removeprefix("write ")
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a text (in quotes if it looks "
            "like a number or a date)", dt.datetime: "a calendar time like 2026-02-02T08:00",
            dt.date: "a date like 2026-02-02"}.get(expected, "a value of the kind docs/contract.md gives")


def _number(value: Any) -> str:
    """A bound as people write it: 1,000,000 rather than 1e+06; 0.001 as it is."""
    if isinstance(value, (int, float)) and float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bound(info: FieldInfo, name: str) -> int | None:
    for meta in info.metadata:
        value = getattr(meta, name, None)
        if value is not None:
            return value
    return None


def _what_list(err: Mapping[str, Any]) -> str:
    """The hourly and weekday weights say what each entry is."""
    last = err["loc"][-1] if err["loc"] else None
    return {"hourly": " (one weight per hour of the day, 00:00 first: 24 numbers)",
            "weekday": " (one weight per weekday, Monday first: 7 numbers)"}.get(str(last), "")


def _got(err: Mapping[str, Any]) -> str:
    """What was given, shown short; nothing for a mapping or a list (they are long, and the path names them)."""
    if "input" not in err:
        return ""
    given = err["input"]
    if isinstance(given, dict):
        return ", not a mapping"
    if isinstance(given, list):
        return ", not a list"
    text = "null" if given is None else str(given).lower() if isinstance(given, bool) else repr(given)
    return f", not {text[:80] + '...' if len(text) > 80 else text}"
