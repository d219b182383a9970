"""Reading YAML that anyone may have written: scenario files, uploads, grid and tolerance files, `--set`.

- **Plain values read as people mean them** (YAML 1.2's core schema): only `true`/`false` are yes/no values
  and only decimal numbers are numbers, so `staff: yes`, `end: 20:00` or `0x10` stay text (and a number field
  then says so) instead of becoming True, 1200 or 16 as YAML 1.1 has it; `010` is ten; `1e-3` is a number.
  Dates are text too: the scenario's schema reads them.
- **Duplicate keys are refused**, naming the line: YAML would keep the last silently.
- **Bounded**: a file over `MAX_BYTES` is refused before it is parsed, and a document of more than
  `MAX_NODES` values, counting each alias as what it stands for (a "billion laughs" of a few kilobytes), or
  that refers to itself, is refused once parsed, before any value of it is built (building is the slow
  part: tens of microseconds a value).
"""
from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.resolver import BaseResolver

from .errors import ScenarioError

__all__ = ["load_text", "top_level_text", "MAX_BYTES", "MAX_NODES"]

MAX_BYTES = 8 * 1024 * 1024
MAX_NODES = 250_000  # values in the document once every alias is expanded (100,000 empirical values fit)

try:
    from yaml.cyaml import CParser as _Parser  # libyaml: ~10x faster
except ImportError:  # PyYAML built without libyaml
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)


class _CoreResolver(BaseResolver):
    """YAML 1.2 core schema for plain scalars."""


_CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))
_CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_CoreResolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"])


class _Constructor(SafeConstructor):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # SafeConstructor reports unhashable keys itself
            if key in seen:
                raise ConstructorError("while reading a mapping", node.start_mark,
                                       f"the key {key!r} is given twice (first on line "
                                       f"{seen[key].line + 1}); YAML would keep only the last",
                                       key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        return float(self.construct_scalar(node).replace(".inf", "inf").replace(".Inf", "inf").replace(
            ".INF", "inf").replace(".nan", "nan").replace(".NaN", "nan").replace(".NAN", "nan"))


    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        return int(self.construct_scalar(node), 10)  # "010" is ten, as in YAML 1.2, not eight


_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)
_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)


class _Loader(_Parser, _Constructor, _CoreResolver):
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _Constructor.__init__(self)
        _CoreResolver.__init__(self)


def load_text(text: str | bytes, source: str, where: str = "") -> Any:
    """The data of one YAML document, or a ScenarioError naming `source` (and `where` in it)."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise ScenarioError(source, [(where, f"{len(text):,} bytes: over the limit of {MAX_BYTES:,} for a file of radsim")])
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ScenarioError(source, [(where, f"not a UTF-8 text file: {exc}")]) from None
    if len(text) > MAX_BYTES:
        raise ScenarioError(source, [(where, f"{len(text):,} characters: over the limit of {MAX_BYTES:,}")])
    _counted(text, source, where)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _bounded(node, source, where)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ScenarioError(source, [(where, f"not valid YAML: {exc}")]) from None
    except RecursionError:
        raise ScenarioError(source, [(where, "nested too deeply to read")]) from None
    finally:
        loader.dispose()
    return data


def top_level_text(text: str | bytes, key: str) -> str | None:
    """The plain text of one top-level `key` of a mapping document, read only as far as that key (a listing
    of many files wants one line of each, not their data), or None: absent, not text, or not valid YAML up
    to there. Nothing is built but that one value, so neither size nor aliases matter."""
    parser = _Loader(text)
    depth = 0  # of collections open; the document's mapping is depth 1
    expect_key = True  # at depth 1: a key comes next (otherwise its value)
    found = False
    try:
        for kind in (yaml.StreamStartEvent, yaml.DocumentStartEvent, yaml.MappingStartEvent):
            if not isinstance(parser.get_event(), kind):
                return None
        depth = 1
        while depth:
            event = parser.get_event()
            if depth == 1:
                if found:
                    return event.value if isinstance(event, yaml.ScalarEvent) else None
                if expect_key and isinstance(event, yaml.ScalarEvent) and event.value == key:
                    found = True
                    continue
                if not isinstance(event, yaml.CollectionEndEvent):
                    expect_key = not expect_key
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return None
    except yaml.YAMLError:
        return None
    finally:
        parser.dispose()


def _too_many(source: str, where: str) -> ScenarioError:
    return ScenarioError(source, [(where, f"holds over {MAX_NODES:,} values (counting what its aliases stand for): "
                                  "over radsim's limit for a file (docs/contract.md, Limits)")])


def _counted(text: str, source: str, where: str) -> None:
    """Refuse a document of more than `MAX_NODES` values as its events are read, stopping there: a file of
    millions of tiny values is refused in a fraction of a second, before a node of it is built. (Aliases
    count once here; what they stand for is counted by `_bounded`.)"""
    parser = _Parser(text)
    try:
        count = 0
        while parser.check_event():
            if isinstance(parser.get_event(), (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
                count += 1
                if count > MAX_NODES:
                    raise _too_many(source, where)
    except yaml.YAMLError:
        return  # reported, with its line, when the document is read
    finally:
        parser.dispose()


def _bounded(root: yaml.Node, source: str, where: str) -> None:
    """Refuse documents with too many values, counting what aliases expand to, or that contain themselves,
    without expanding or building anything: the expanded size of each shared node is counted once and
    reused (an alias is the very node it names)."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(node: yaml.Node) -> int:
        if isinstance(node, yaml.ScalarNode):
            return 1
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_:
            raise ScenarioError(source, [(where, "a YAML alias refers to the value that holds it (a loop)")])
        open_.add(key)
        children = [v for pair in node.value for v in pair] if isinstance(node, yaml.MappingNode) else node.value
        total = 1 + sum(size(child) for child in children)
        open_.discard(key)
        if total > MAX_NODES:
            raise _too_many(source, where)
        sizes[key] = total
        return total

    try:
        size(root)
    except RecursionError:
        raise ScenarioError(source, [(where, "nested too deeply to read")]) from None
