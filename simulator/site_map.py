"""Which site of a scenario a DICOM source is: a small YAML file naming, for station names, AE titles and
institution names, the scenario site they belong to.

Real headers do not say "site": StationName is at most 16 characters (so long site names are cut, and two
sites can look alike), AE titles are device names, and one institution may run several sites. The map is
the site's own list of its devices. A source is looked up by station first (one device), then by the AE
title that sent it, then by institution; letter case and surrounding spaces do not matter.

```yaml
stations: {PNA-DX-01: polyclinic_north_annex, PN-DX-01: polyclinic_north}
ae_titles: {PNA_DX1: polyclinic_north_annex}
institutions: {"City Polyclinic North": polyclinic_north}
```
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ScenarioError

__all__ = ["SiteMap", "load_site_map", "SOURCES"]

SOURCES = ("stations", "ae_titles", "institutions")  # the order sources are looked up in


def _key(text: str | None) -> str:
    return (text or "").strip().casefold()


@dataclass(frozen=True)
class SiteMap:
    source: str
    stations: Mapping[str, str] = field(default_factory=dict)
    ae_titles: Mapping[str, str] = field(default_factory=dict)
    institutions: Mapping[str, str] = field(default_factory=dict)

    def site(self, station: str | None, ae_title: str | None, institution: str | None) -> str | None:
        """The site of a source, or None if the map does not know it."""
        for names, value in zip((self.stations, self.ae_titles, self.institutions), (station, ae_title, institution)):
            if value and _key(value) in names:
                return names[_key(value)]
        return None

    def check_sites(self, sites: Iterable[str]) -> None:
        """Refuse a map naming a site the scenario does not have."""
        known = set(sites)
        problems = [(f"{group}.{name}", f"{site!r} is not a site of the scenario (sites: {', '.join(sorted(known))})")
                    for group in SOURCES for name, site in getattr(self, group).items() if site not in known]
        if problems:
            raise ScenarioError(self.source, problems[:10])


def load_site_map(path: str | Path) -> SiteMap:
    """The map in `path`; ScenarioError names the file and the entry that is wrong."""
    from .safe_yaml import load_text

    source = str(path)
    try:
        data = load_text(Path(path).read_bytes(), source)
    except OSError as exc:
        raise ScenarioError(source, [("", f"cannot read the site map: {exc.strerror or exc}")]) from None
    if not isinstance(data, Mapping) or not data:
        raise ScenarioError(source, [("", f"a site map is a mapping with any of {', '.join(SOURCES)}")])
    problems, groups = [], {}
    for group, names in data.items():
        if group not in SOURCES:
            problems.append((str(group), f"unknown key; a site map has {', '.join(SOURCES)}"))
            continue
        if not isinstance(names, Mapping):
            problems.append((group, "must map names to site keys"))
            continue
        groups[group] = {}
        for name, site in names.items():
            if not isinstance(name, str) or not name.strip() or not isinstance(site, str) or not site.strip():
                problems.append((f"{group}.{name}", "names and sites must be text"))
            elif _key(name) in groups[group] and groups[group][_key(name)] != site.strip():
                problems.append((f"{group}.{name}", f"named twice (letter case aside), for "
                                 f"{groups[group][_key(name)]!r} and {site.strip()!r}"))
            else:
                groups[group][_key(name)] = site.strip()
    if problems:
        raise ScenarioError(source, problems[:10])
    return SiteMap(source, **groups)
