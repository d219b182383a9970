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
    mapped = SETUPTOOLS.get("package-dir", {})
    return ROOT / mapped[name] if name in mapped else ROOT / name.replace(".", "/")


def test_every_package_folder_is_listed() -> None:
    listed = set(SETUPTOOLS["packages"])
    tops = {name for name in listed if "." not in name}
    found = {".".join(init.parent.relative_to(ROOT).parts) for top in tops for init in (ROOT / top).rglob("__init__.py")
             if "__pycache__" not in init.parts}
    assert found - listed == set(), "packages a wheel would leave out"
    assert all(_package_folder(name).joinpath("__init__.py").is_file() for name in listed)


def test_every_bundled_scenario_is_package_data() -> None:
    patterns = SETUPTOOLS["package-data"]["simulator.scenarios"]
    folder = _package_folder("simulator.scenarios")
    scenarios = [path.relative_to(folder).parts for path in folder.rglob("*.yaml")]
    assert len(scenarios) > 40

    def covered(parts: tuple[str, ...]) -> bool:  # a glob's `*` stays within one folder, as setuptools reads it
        return any(len(p.split("/")) == len(parts) and all(map(fnmatchcase, parts, p.split("/"))) for p in patterns)

    assert [Path(*parts).as_posix() for parts in scenarios if not covered(parts)] == []
