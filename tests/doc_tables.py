"""Tables in the docs made from the code, so that the docs name every module and every bundled scenario
there is and none that is gone: docs/model.md's module map (from each module's docstring) and README.md's
scenario list (from each bundled scenario's `description`, as `radsim scenarios` prints it). Write them
again after adding, removing or re-describing a module or a scenario:

    python -m tests.doc_tables --write
"""
from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = ("simulator", "dashboard", "synthetic_dicom")


@dataclass(frozen=True)
class Table:
    doc: Path
    begin: str
    end: str
    make: Callable[[], list[str]]  # the rows between the markers

    def made(self) -> str:
        return "\n".join([self.begin, *self.make(), self.end])

    def current(self) -> str:
        text = self.doc.read_text(encoding="utf-8")
        return text[text.index(self.begin): text.index(self.end) + len(self.end)]

    def write(self) -> None:
        text = self.doc.read_text(encoding="utf-8")
        self.doc.write_text(text.replace(self.current(), self.made()), encoding="utf-8")


def first_sentence(text: str) -> str:
    """The docstring's first sentence (of its first paragraph), on one line, for a table cell."""
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    match = re.search(r"(?<!e\.g)(?<!i\.e)(?<!\bvs)\.(\s|$)", paragraph)
    sentence = paragraph[: match.start()] if match else paragraph
    return sentence.rstrip(":.").replace("|", "\\|")


def module_rows() -> list[str]:
    rows = ["| module | what it is |", "|---|---|"]
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__main__.py":
                continue
            docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
            shown = path.relative_to(ROOT).as_posix()
            shown = shown.removesuffix("__init__.py") if path.name == "__init__.py" else shown
            rows.append(f"| `{shown}` | {first_sentence(docstring) if docstring else '(no docstring)'} |")
    return rows


def scenario_rows() -> list[str]:
    """Every bundled scenario by the name `radsim run` takes, with its description; the validation cases
    (many, alike) in one row by name."""
    from simulator.cli.scenarios import _description
    from simulator.loading import bundled_scenarios

    rows = ["| name | what |", "|---|---|"]
    checks = []
    for name, path in bundled_scenarios().items():
        if name.startswith("validation/"):
            checks.append(f"`{name.removeprefix('validation/')}`")
        else:
            rows.append(f"| `{name}` | {_description(path).replace('|', chr(92) + '|')} |")
    rows.append(f"| `validation/...` | queueing cases with an `expect:` block, run by `radsim validate` "
                f"(docs/validation.md): {', '.join(checks)} |")
    return rows


MODULE_MAP = Table(ROOT / "docs" / "model.md",
                   "<!-- module map: made by `python -m tests.doc_tables --write` from each module's docstring -->",
                   "<!-- end of module map -->", module_rows)
SCENARIO_LIST = Table(ROOT / "README.md",
                      "<!-- scenario list: made by `python -m tests.doc_tables --write` from `radsim scenarios` -->",
                      "<!-- end of scenario list -->", scenario_rows)
TABLES = (MODULE_MAP, SCENARIO_LIST)


def main() -> None:
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m tests.doc_tables --write")
    for table in TABLES:
        table.write()
        print(f"wrote {table.doc.relative_to(ROOT)}: {table.begin}")


if __name__ == "__main__":
    main()
