"""What `pip install radsim` (not editable) puts in site-packages: every package and every bundled scenario.

An editable install finds any folder under `simulator/`, so the tests pass whatever pyproject.toml lists; a
wheel holds only what it lists. Checked against pyproject.toml here rather than by building a wheel (which
would need the build backend's own environment)."""
from __future__ import annotations

import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_folder(name: str) -> Path:
    """Where a package's files are: under the folder its nearest mapped parent is given (package-dir)."""
    mapped = SETUPTOOLS.get("package-dir", {})
    for parent, folder in mapped.items():
        if name == parent or name.startswith(parent + "."):
            return ROOT / folder / name[len(parent) + 1:].replace(".", "/")
    return ROOT / name.replace(".", "/")


def test_every_package_folder_is_listed() -> None:
    listed = set(SETUPTOOLS["packages"])
    tops = {name for name in listed if "." not in name}
    found = {".".join(init.parent.relative_to(ROOT).parts) for top in tops for init in (ROOT / top).rglob("__init__.py")
             if "__pycache__" not in init.parts}
    assert found - listed == set(), "packages a wheel would leave out"
    assert all(_package_folder(name).joinpath("__init__.py").is_file() for name in listed)


def test_every_bundled_scenario_is_package_data() -> None:
    folder = _package_folder("simulator.scenarios")
    scenarios = [path.relative_to(folder).parts for path in folder.rglob("*.yaml")]
    assert len(scenarios) > 40

    def covered(parts: tuple[str, ...]) -> bool:
        """By the patterns of the package whose folder holds the file (a glob's `*` stays in one folder)."""
        package = ".".join(("simulator.scenarios", *parts[:-1]))
        patterns = SETUPTOOLS["package-data"].get(package, [])
        return package in SETUPTOOLS["packages"] and any(fnmatchcase(parts[-1], p) for p in patterns)

    assert [Path(*parts).as_posix() for parts in scenarios if not covered(parts)] == []
