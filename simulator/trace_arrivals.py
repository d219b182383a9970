"""Arrivals replayed from a study trace (`arrivals: {trace: trace.parquet}`), e.g. one that
`radsim dicom trace` made from a folder of real, de-identified studies.

Each trace row is one imaging study. It is given a study type of the scenario, in this order: the row's
`study_type` column if it has one; a `study_description` equal to a type's `description`, its name, or
its name with spaces for underscores; else the one primary type with the row's modality and body part;
else the one primary type with its modality. Rows no type takes are an error naming how many and of what
kind, unless the scenario says `unmatched: drop`. Rows outside the horizon are left out, and so are rows
without an arrival time unless the scenario says `undated: error` (both counted).

What the trace does not say is drawn as usual, per replication and with the usual random streams: the
site where neither the row's site nor its institution is a site of the scenario (by key or name), the
referral, the truth, the AI, the reading time (`read_minutes`), the ingest delay (`ingest_minutes`: from
the exam's end to the archive, standing for the drawn `ingest.delay_minutes`) and the AI's latency
(`ai_minutes`: from the archive to the first AI's result). A negative duration is bad input. Where the trace has AI scores for a study type, it is taken to hold that type's AI results:
its studies without a score were not scored, and a score without a flag is flagged where it lies above the
posterior at the service's threshold; where it has none, the scenario's AI scores them as usual. A study
with a traced score is diseased with that probability: the score is the posterior probability of
pathology, which is exactly what that draw needs.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import ScenarioError
from .scenario import Scenario

__all__ = ["TraceArrivals", "trace_arrivals", "replay_counts", "trace_digest", "read_trace", "or_drawn",
           "REQUIRED_COLUMNS"]

REQUIRED_COLUMNS = ("arrived", "modality")
_OPTIONAL = {"study_type": pa.string(), "study_description": pa.string(), "body_part": pa.string(),
             "site": pa.string(), "institution": pa.string(), "station": pa.string(), "source_ae": pa.string(),
             "referral": pa.string(), "ai_score": pa.float64(),
             "ai_positive": pa.bool_(), "diseased": pa.bool_(), "read_minutes": pa.float64(),
             "patient_age": pa.float64(), "ingest_minutes": pa.float64(), "ai_minutes": pa.float64(),
             "second_opinion": pa.bool_(), "second_opinion_minutes": pa.float64()}
# Durations: none may be negative.
_DELAYS = ("read_minutes", "ingest_minutes", "ai_minutes", "second_opinion_minutes")
_REFERRALS = ("stat", "urgent", "routine")


@dataclass(frozen=True)
class TraceArrivals:
    """The trace rows of one study type, in arrival order; values the trace lacks are NaN or -1."""

    arrived_at: np.ndarray  # minutes since the scenario start
    site: np.ndarray  # index into the scenario's sites, -1 where drawn
    referral: np.ndarray  # index into stat/urgent/routine, -1 where drawn
    ai_score: np.ndarray  # NaN where the trace has none
    ai_positive: np.ndarray  # bool, meaningful where ai_positive_given
    ai_positive_given: np.ndarray  # bool: the trace has the flag (else it follows from the score)
    diseased: np.ndarray  # int8: 1, 0, or -1 where drawn
    read_minutes: np.ndarray  # NaN where drawn
    patient_age: np.ndarray  # NaN where drawn
    ingest_minutes: np.ndarray  # from the exam's end to the archive (the drawn ingest delay), NaN where drawn
    ai_minutes: np.ndarray  # from the archive to the (first) AI's result (its drawn latency), NaN where drawn
    second_opinion: np.ndarray  # int8: 1 the signed report went for a second opinion, 0 it did not, -1 drawn
    second_opinion_minutes: np.ndarray  # that opinion's reading time, NaN where drawn


def or_drawn(drawn: np.ndarray, given: np.ndarray | None) -> np.ndarray:
    """The trace's value where it gives one (not NaN), the draw elsewhere: drawn all the same, so that
    every other draw of the study keeps its random numbers."""
    return drawn if given is None else np.where(np.isnan(given), drawn, given)


def read_trace(path: Path) -> pa.Table:
    """A trace file, checked (bad input naming the file and the column); its times local wall times."""
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise ScenarioError(str(path), [("", "no such trace file")]) from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise ScenarioError(str(path), [("", f"not a Parquet trace: {exc}")]) from None
    problems = [(column, "missing column (a trace needs arrived and modality)")
                for column in REQUIRED_COLUMNS if column not in table.column_names]
    if not problems and not pa.types.is_timestamp(table.schema.field("arrived").type):
        problems.append(("arrived", f"must be a timestamp, not {table.schema.field('arrived').type}"))
    for column, kind in _OPTIONAL.items():
        if column in table.column_names and not table.schema.field(column).type.equals(kind) \
                and not pa.types.is_null(table.schema.field(column).type):
            try:
                table = table.set_column(table.column_names.index(column), column, table.column(column).cast(kind))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                problems.append((column, f"must be {kind}, not {table.schema.field(column).type}"))
    for column in _DELAYS:
        if not problems and column in table.column_names:
            negative = pc.fill_null(pc.less(table.column(column), 0.0), False)
            if pc.any(negative).as_py():
                first = pc.index(negative, True).as_py()
                problems.append((f"{column}[{first}]", f"{table.column(column)[first].as_py()} minutes: a duration "
                                 "cannot be negative"))
    if problems:
        raise ScenarioError(str(path), problems)
    if getattr(table.schema.field("arrived").type, "tz", None):  # the scenario's calendar is local time
        table = table.set_column(table.column_names.index("arrived"), "arrived",
                                 pc.local_timestamp(table.column("arrived")))
    if "referral" in table.column_names:
        # A null referral (no order priority in the headers) is drawn from the scenario's mix.
        referral = table.column("referral")
        bad = pc.and_(pc.is_valid(referral), pc.invert(pc.is_in(referral, pa.array(_REFERRALS))))
        if pc.any(bad).as_py():
            first = pc.index(bad, True).as_py()
            raise ScenarioError(str(path), [(f"referral[{first}]", f"{table.column('referral')[first].as_py()!r} "
                                             "is not one of stat, urgent, routine")])
    return table


@lru_cache(maxsize=8)
def _cached(path: str, stamp: tuple[int, int]) -> pa.Table:
    return read_trace(Path(path))


def trace_digest(path: str) -> str:
    """A fingerprint of the trace's content, so that a cache keyed by the scenario sees a changed trace."""
    stat = Path(path).stat()
    return _digest(path, (stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=8)
def _digest(path: str, stamp: tuple[int, int]) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _column(table: pa.Table, name: str) -> list:
    return table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows


def _stamped(path: str | None) -> tuple[str, tuple[int, int]] | None:
    if path is None:
        return None
    try:
        stat = Path(path).stat()
    except OSError:
        raise ScenarioError(path, [("", "no such site map (arrivals.site_map)")]) from None
    return path, (stat.st_mtime_ns, stat.st_size)


def _sites(spec: "_Spec", table: pa.Table) -> np.ndarray:
    """Per row, the index of its site in `spec.sites`, or -1 where it is to be drawn: the site map's
    answer for the row's station, sending AE title and institution; else a `site` that is a site's key;
    else an institution that is one site's name (or key); else a `site` that is one site's name."""
    keys = {key: i for i, (key, _) in enumerate(spec.sites)}
    names: dict[str, list[int]] = {}
    for i, (_, name) in enumerate(spec.sites):
        if name:
            names.setdefault(name, []).append(i)
    by_name = {name: found[0] for name, found in names.items() if len(found) == 1}
    mapped = None
    if spec.site_map is not None:
        from .site_map import load_site_map

        mapped = load_site_map(spec.site_map[0])
        mapped.check_sites(keys)
    out = np.full(table.num_rows, -1, dtype=np.int32)
    columns = zip(_column(table, "site"), _column(table, "institution"), _column(table, "station"),
                  _column(table, "source_ae"))
    for row, (site, institution, station, ae) in enumerate(columns):
        found = mapped.site(station, ae, institution) if mapped is not None else None
        if found is None:
            found = site if site in keys else None
        index = keys[found] if found is not None else \
            keys.get(institution, by_name.get(institution, by_name.get(site, -1)))
        out[row] = index
    return out


@dataclass(frozen=True)
class _Spec:
    """What the assignment of trace rows depends on: a cache key, so that replications reuse it."""

    name: str
    start: dt.datetime
    horizon_minutes: float
    unmatched: str
    undated: str
    types: tuple[tuple[str, str, str | None, str | None], ...]  # primary types: name, modality, body part, description
    sites: tuple[tuple[str, str | None], ...]  # key, name
    site_map: tuple[str, tuple[int, int]] | None  # path, and its stamp so that an edited map is read again

    @classmethod
    def of(cls, scenario: Scenario) -> "_Spec":
        assert scenario.arrivals is not None
        return cls(scenario.name, scenario.start, scenario.horizon_minutes, scenario.arrivals.unmatched,
                   scenario.arrivals.undated,
                   tuple((name, t.modality, t.body_part, t.description) for name, t in scenario.study_types.items()
                         if t.kind == "primary"),
                   tuple((key, site.name) for key, site in scenario.sites.items()),
                   _stamped(scenario.arrivals.site_map))


def _study_types(spec: _Spec, table: pa.Table) -> np.ndarray:
    """Per row, the index of its study type in `spec.types`, or -1."""
    names = [name for name, *_ in spec.types]
    by_description: dict[str, int] = {}
    by_kind: dict[tuple, list[int]] = {}
    for k, (name, modality, body_part, description) in enumerate(spec.types):
        for text in (description, name, name.replace("_", " ")):
            if text:
                by_description.setdefault(text.casefold(), k)
        by_kind.setdefault((modality, (body_part or "").upper()), []).append(k)
        by_kind.setdefault((modality, None), []).append(k)
    memo: dict[tuple, int] = {}  # rows repeat a few kinds many times

    def assign(given: str | None, description: str | None, modality: str | None, body: str | None) -> int:
        if given in names:
            return names.index(given)
        if description and description.casefold() in by_description:
            return by_description[description.casefold()]
        same = by_kind.get((modality, (body or "").upper()), []) if body else []
        same = same if len(same) == 1 else by_kind.get((modality, None), [])
        return same[0] if len(same) == 1 else -1

    keys = zip(_column(table, "study_type"), _column(table, "study_description"), _column(table, "modality"),
               _column(table, "body_part"))
    return np.array([memo[key] if key in memo else memo.setdefault(key, assign(*key)) for key in keys],
                    dtype=np.int64)


def trace_arrivals(scenario: Scenario) -> dict[str, TraceArrivals]:
    """Per primary study type, its trace rows (an empty set where the trace has none)."""
    return _replay(scenario)[0]


def replay_counts(scenario: Scenario) -> dict[str, int]:
    """How the trace's rows were used: `rows` in the file, `replayed`, `outside` the horizon, `unmatched`
    (dropped because no study type takes them), `undated` (dropped for want of an arrival time). For the
    user to check a replay before trusting it."""
    return _replay(scenario)[1]


def _replay(scenario: Scenario) -> tuple[dict[str, TraceArrivals], dict[str, int]]:
    assert scenario.arrivals is not None
    path = scenario.arrivals.trace
    try:
        stat = Path(path).stat()
    except OSError:
        raise ScenarioError(path, [("", "no such trace file (arrivals.trace)")]) from None
    return _assign(path, (stat.st_mtime_ns, stat.st_size), _Spec.of(scenario))


@lru_cache(maxsize=4)
def _assign(path: str, stamp: tuple[int, int], spec: _Spec) -> tuple[dict[str, TraceArrivals], dict[str, int]]:
    table = _cached(path, stamp)
    dated = np.asarray(pc.is_valid(table.column("arrived")).to_numpy(zero_copy_only=False), dtype=bool)
    if not dated.all() and spec.undated == "error":
        first = int(np.flatnonzero(~dated)[0])
        raise ScenarioError(path, [(f"arrived[{first}]", f"no arrival time ({int((~dated).sum())} rows without "
                                    "one); set arrivals.undated: drop to leave them out")])
    types = _study_types(spec, table)
    unmatched = np.flatnonzero((types < 0) & dated)
    if unmatched.size and spec.unmatched == "error":
        kinds: dict[tuple, int] = {}
        described = list(zip(_column(table, "modality"), _column(table, "body_part"),
                             _column(table, "study_description")))
        for i in unmatched:
            kinds[described[i]] = kinds.get(described[i], 0) + 1
        listed = "; ".join(f"{n} x modality {m!r} body part {b!r} description {d!r}"
                           for (m, b, d), n in sorted(kinds.items(), key=lambda kv: -kv[1])[:5])
        raise ScenarioError(path, [(f"row {unmatched[0]}", f"{unmatched.size} studies match no primary study type "
                                    f"of {spec.name} ({listed}); add a study_type column, or set "
                                    "arrivals.unmatched: drop")])
    start = spec.start
    arrived = np.array([np.nan if when is None else (when - start) / dt.timedelta(minutes=1)
                        for when in _column(table, "arrived")], dtype=float)
    site = _sites(spec, table)
    referral = np.array([_REFERRALS.index(r) if r else -1 for r in _column(table, "referral")], dtype=np.int8)
    score = np.array([np.nan if s is None else s for s in _column(table, "ai_score")], dtype=float)
    flags = _column(table, "ai_positive")
    positive = np.array([bool(p) for p in flags], dtype=bool)
    flagged = np.array([p is not None for p in flags], dtype=bool)
    diseased = np.array([-1 if d is None else int(d) for d in _column(table, "diseased")], dtype=np.int8)
    read, ingest, ai_latency, opinion_minutes = (
        np.array([np.nan if r is None else r for r in _column(table, column)], dtype=float) for column in _DELAYS)
    opinion = np.array([-1 if o is None else int(o) for o in _column(table, "second_opinion")], dtype=np.int8)
    age = np.array([np.nan if a is None else a for a in _column(table, "patient_age")], dtype=float)
    inside = dated & (arrived >= 0.0) & (arrived < spec.horizon_minutes)
    if dated.any() and not inside.any():
        times = [when for when in _column(table, "arrived") if when is not None]
        first, last = min(times), max(times)
        raise ScenarioError(path, [("arrived", f"no study falls within the scenario's horizon: the trace runs from "
                                    f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M}, {spec.name} from "
                                    f"{start:%Y-%m-%d %H:%M} for {spec.horizon_minutes / 1440:g} days (set start)")])
    out: dict[str, TraceArrivals] = {}
    for k, (name, *_) in enumerate(spec.types):
        rows = np.flatnonzero((types == k) & inside)
        rows = rows[np.argsort(arrived[rows], kind="stable")]
        columns = [c[rows] for c in (arrived, site, referral, score, positive, flagged, diseased, read, age, ingest,
                                     ai_latency, opinion, opinion_minutes)]
        for column in columns:  # shared by every replication through the cache
            column.setflags(write=False)
        out[name] = TraceArrivals(*columns)
    counts = {"rows": int(table.num_rows), "replayed": sum(len(t.arrived_at) for t in out.values()),
              "outside": int(np.sum(~inside & dated & (types >= 0))), "unmatched": int(unmatched.size),
              "undated": int(np.sum(~dated))}
    return out, counts
