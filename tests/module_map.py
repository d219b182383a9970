"""The module map of docs/model.md, made from the modules' own docstrings, so that the docs name every
module there is and none that is gone. Write it again after adding, removing or re-describing a module:

    python -m tests.module_map --write
"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
DOC = ROOT / "docs" / "model.md"
PACKAGES = ("simulator", "dashboard", "synthetic_dicom")
BEGIN = "<!-- module map: made by `python -m tests.module_map --write` from each module's docstring -->"
END = "<!-- end of module map -->"


def first_sentence(text: str) -> str:
    """The docstring's first sentence (of its first paragraph), on one line, for a table cell."""
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    match = re.search(r"(?<!e\.g)(?<!i\.e)(?<!\bvs)\.(\s|$)", paragraph)
    sentence = paragraph[: match.start()] if match else paragraph
    return sentence.rstrip(":.").replace("|", "\\|")


def module_map() -> str:
    rows = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__main__.py":
                continue
            docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
            shown = path.relative_to(ROOT).as_posix()
            shown = shown.removesuffix("__init__.py") if path.name == "__init__.py" else shown
            rows.append(f"| `{shown}` | {first_sentence(docstring) if docstring else '(no docstring)'} |")
    return "\n".join([BEGIN, "| module | what it is |", "|---|---|", *rows, END])


def current() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index(BEGIN): text.index(END) + len(END)]


def main() -> None:
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m tests.module_map --write")
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(text.replace(current(), module_map()), encoding="utf-8")
    print(f"wrote the module map of {DOC}")


if __name__ == "__main__":
    main()
