"""A scenario fitted to a cleaned worklist event log (`radsim fit`, docs/calibration.md): what each value
was fitted from, and its interval, goes beside it in the YAML.

Fitted: per study type (one per description, or per modality where there is none), arrivals as per_day x
hourly x weekday (the model's separable form) with a 95% interval on per_day and the dispersion of counts
per hour of the week; the order-priority mix; the reading-time family chosen by AIC among exponential,
lognormal and gamma, with the Kolmogorov-Smirnov distance; double reading; the second-opinion share; the
ingest delay; pools by competency, each with its roster per weekday and hour from the readers the log shows
active (activity sessions). Not yet: AI operating points (they need the truth).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Fitted", "fit_log", "fit_duration", "fit_arrivals", "active_readers", "type_key"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SESSION_GAP_MINUTES = 120.0  # a reader's activity with a gap longer than this is two sessions


@dataclass
class Fitted:
    """A fitted value and where it came from (the YAML comment beside it)."""

    value: object
    note: str
    interval: tuple[float, float] | None = None  # 95%, of per_day or of the mean


def _minutes(column: pa.ChunkedArray, origin: np.datetime64) -> np.ndarray:
    values = column.to_numpy(zero_copy_only=False).astype("datetime64[us]")
    out = (values - origin) / np.timedelta64(1, "m")
    return np.where(column.is_null().to_numpy(zero_copy_only=False), np.nan, out.astype(float))


def fit_duration(minutes: np.ndarray, what: str) -> Fitted:
    """The family of exponential, lognormal and gamma with the lowest AIC (maximum likelihood), as a
    scenario distribution; its note gives n, the mean's 95% interval, the AICs and the KS distance."""
    from scipy import stats

    x = minutes[np.isfinite(minutes) & (minutes > 0)]
    n = x.size
    if n < 10:
        return Fitted(None, f"{what}: {n} values, too few to fit")
    mean = float(x.mean())
    half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
    candidates = {"exponential": stats.expon(scale=mean)}
    shape, _, scale = stats.lognorm.fit(x, floc=0)
    candidates["lognormal"] = stats.lognorm(shape, scale=scale)
    a, _, scale_g = stats.gamma.fit(x, floc=0)
    candidates["gamma"] = stats.gamma(a, scale=scale_g)
    parameters = {"exponential": 1, "lognormal": 2, "gamma": 2}
    aic = {name: 2 * parameters[name] - 2 * float(np.sum(d.logpdf(x))) for name, d in candidates.items()}
    best = min(aic, key=aic.__getitem__)
    chosen = candidates[best]
    ks = float(stats.kstest(x, chosen.cdf).statistic)
    if best == "exponential":
        value = {"dist": "exponential", "mean": round(mean, 3)}
    else:
        cv = float(chosen.std() / chosen.mean())
        value = {"dist": best, "mean": round(float(chosen.mean()), 3), "cv": round(cv, 3)}
    return Fitted(value, f"{what}: {best} by AIC ({', '.join(f'{k} {v:.0f}' for k, v in aic.items())}) from {n:,} "
                         f"values; mean {mean:.2f} (95% CI {mean - half:.2f}-{mean + half:.2f}); KS D {ks:.3f}",
                  (mean - half, mean + half))


def fit_arrivals(times: np.ndarray, start: dt.datetime, days: float) -> Fitted:
    """per_day x hourly x weekday from arrival times (minutes since `start`, a Monday 00:00 or not), with a
    95% interval on per_day and the dispersion of counts per hour of the week (about 1 when Poisson)."""
    stamps = np.datetime64(start.replace(tzinfo=None), "m") + times.astype("timedelta64[m]")
    weekday = ((stamps.astype("datetime64[D]").view("int64") - 4) % 7).astype(int)  # 1970-01-01 was a Thursday
    hour = ((stamps - stamps.astype("datetime64[D]")) // np.timedelta64(1, "h")).astype(int)
    calendar = np.arange(np.datetime64(start.replace(tzinfo=None), "D"),
                         np.datetime64(start.replace(tzinfo=None), "D") + int(math.ceil(days)))
    covered = np.bincount(((calendar.view("int64") - 4) % 7).astype(int), minlength=7).astype(float)
    per_weekday = np.bincount(weekday, minlength=7) / np.maximum(covered, 1.0)
    per_day = float(per_weekday[covered > 0].mean()) if (covered > 0).any() else 0.0
    variance = float(np.sum((np.bincount(weekday, minlength=7) / np.maximum(covered, 1.0) ** 2)[covered > 0]))
    variance /= max(int((covered > 0).sum()), 1) ** 2
    half = 1.96 * math.sqrt(variance)
    hourly = np.bincount(hour, minlength=24).astype(float)
    weeks = int(math.ceil(days / 7.0)) + 1
    cells = np.zeros((weeks, 168))
    day_index = (stamps.astype("datetime64[D]") - calendar[0]).astype(int)
    week = (day_index + int(calendar[0].view("int64") - 4) % 7) // 7
    np.add.at(cells, (week, weekday * 24 + hour), 1)
    full = cells[1:-2]  # whole weeks only: the first and the last may be partial
    means = full.mean(axis=0) if full.shape[0] else np.zeros(168)
    dispersion = (f"variance/mean {float(np.mean(full.var(axis=0, ddof=1)[means > 0] / means[means > 0])):.2f} "
                  "(1 for Poisson)") if full.shape[0] >= 2 and (means > 0).any() else "not checked (needs 4 weeks)"
    weekday_weights = np.where(covered > 0, per_weekday / max(per_day, 1e-12), 1.0)
    missing = [DAYS[d] for d in range(7) if covered[d] == 0]
    value = {"per_day": round(per_day, 3), "hourly": [round(float(h), 3) for h in hourly / max(hourly.sum(), 1.0) * 24],
             "weekday": [round(float(w), 4) for w in weekday_weights]}
    return Fitted(value, f"arrivals: {times.size:,} over {days:.1f} days; per_day {per_day:.2f} (95% CI "
                         f"{per_day - half:.2f}-{per_day + half:.2f}); counts per hour of the week: {dispersion}"
                         + (f"; no {', '.join(missing)} in the log: weight 1 (edit it)" if missing else ""),
                  (per_day - half, per_day + half))


def active_readers(readers: list, opened: np.ndarray, signed: np.ndarray, start: dt.datetime,
                   days: float) -> np.ndarray:
    """Readers on duty per weekday (Monday first) and hour: each reader's activity grouped into sessions
    (gaps under SESSION_GAP_MINUTES), a session covering from its first opening to its last signing, each
    hour by the share of it covered; averaged over the weeks of the log."""
    busy = np.zeros(int(math.ceil(days)) * 24 + 24)
    by_reader: dict[str, list[tuple[float, float]]] = {}
    for who, a, b in zip(readers, opened, signed):
        if who is not None and np.isfinite(b):
            by_reader.setdefault(who, []).append((a if np.isfinite(a) else b, b))
    for spans in by_reader.values():
        spans.sort()
        first, last = spans[0]
        for a, b in spans[1:] + [(math.inf, math.inf)]:
            if a - last > SESSION_GAP_MINUTES:
                # Each hour by the share of it the session covers: a reader finishing at 20:10 is not on
                # duty from 20:00 to 21:00. A session starts on the hour it began in: shifts start on the
                # hour, and a reader's first study of a quiet morning may come a while after they did.
                first = math.floor(first / 60.0) * 60.0
                for hour in range(max(int(first // 60), 0), min(int(last // 60) + 1, busy.size)):
                    busy[hour] += (min(last, hour * 60.0 + 60.0) - max(first, hour * 60.0)) / 60.0
                first = a
            last = max(last, b)
    offset = (start.weekday() * 24 + start.hour)
    grid = np.zeros(168)
    counts = np.zeros(168)
    for h in range(int(days * 24)):
        cell = (offset + h) % 168
        grid[cell] += busy[h]
        counts[cell] += 1
    return grid / np.maximum(counts, 1)


COMPETENCY_SHARE = 0.05  # a study type below this share of a reader's reads is an exception, not a competency


def competency_pools(readers: list, lanes: np.ndarray) -> list[tuple[list[str], set[str]]]:
    """Readers grouped by the lanes (study types, second opinions) they read: (lanes, readers) per pool, the
    largest first. A lane read only as an exception goes to the pool that read most of it, so every lane
    anyone read stays read."""
    by_reader: dict[str, dict[str, int]] = {}
    for who, lane in zip(readers, lanes):
        if who is not None:
            counts = by_reader.setdefault(who, {})
            counts[lane] = counts.get(lane, 0) + 1
    groups: dict[tuple[str, ...], set[str]] = {}
    for who, counts in by_reader.items():
        total = sum(counts.values())
        reads = tuple(sorted(lane for lane, n in counts.items() if n >= COMPETENCY_SHARE * total))
        groups.setdefault(reads, set()).add(who)
    read = {lane for reads in groups for lane in reads}
    for lane in sorted({lane for counts in by_reader.values() for lane in counts} - read):
        best = max(groups, key=lambda reads: sum(by_reader[w].get(lane, 0) for w in groups[reads]))
        groups[tuple(sorted({*best, lane}))] = groups.pop(best)
    return sorted(((list(reads), members) for reads, members in groups.items()), key=lambda p: -len(p[1]))


def pool_name(reads: list[str]) -> str:
    name = "_".join(reads)
    return name if len(name) <= 60 else f"{reads[0]}_and_{len(reads) - 1}_more"


def _roster(active: np.ndarray) -> list[dict]:
    """Shifts from readers on duty per weekday and hour: consecutive hours with the same (rounded) staff,
    the same shift on several days written once with those days (so that a round-the-clock roster is one
    continuous duty, not a handover at every midnight)."""
    shifts: dict[tuple[int, int, int], list[str]] = {}
    for d, day in enumerate(DAYS):
        staff = np.rint(active[d * 24:(d + 1) * 24]).astype(int)
        h = 0
        while h < 24:
            j = h
            while j < 24 and staff[j] == staff[h]:
                j += 1
            if staff[h] > 0:
                shifts.setdefault((h, j - h, int(staff[h])), []).append(day)
            h = j
    return [{"start": f"{h:02d}:00", "hours": hours, "staff": staff, "days": days}
            for (h, hours, staff), days in shifts.items()]


def type_key(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", text.strip()).strip("_").lower()
    return slug[:60] or "study"


def fit_log(log: pa.Table, name: str = "fitted") -> str:
    """A scenario fitted to a cleaned log, as commented YAML."""
    import yaml

    if log.num_rows == 0:
        raise ValueError("the log has no row left to fit on")
    acquired = log.column("acquired_at")
    first = pc.min(acquired).as_py()
    last = pc.max(acquired).as_py()
    start = dt.datetime.combine(first.date(), dt.time())
    days = max((last - start).total_seconds() / 86400.0, 1.0)
    origin = np.datetime64(start, "us")
    arrived = _minutes(acquired, origin)
    opened = _minutes(log.column("read_start"), origin)
    signed = _minutes(log.column("reported_at"), origin)
    kinds = np.asarray(log.column("kind").to_pylist(), dtype=object)
    description = log.column("description").to_pylist()
    modality = log.column("modality").to_pylist()
    referral = np.asarray(pc.fill_null(log.column("referral"), "routine").to_pylist(), dtype=object)
    types: dict[str, tuple[str, str]] = {}
    keys = []
    for d, m, k in zip(description, modality, kinds):
        key = type_key(d or m or "study") if k != "second_opinion" else None
        keys.append(key)
        if key is not None and key not in types and k in ("primary", "consultation"):
            types[key] = (m or "OT", "consultation" if k == "consultation" else "primary")
    keys = np.asarray(keys, dtype=object)
    # A study's own work items: its first read (or consultation) arrives; a second read of a double-read
    # study is not an arrival, and its first read is signed only when both are done, so its reading time is
    # taken from the second reads (the first read's own time is not in the log).
    arriving = np.isin(kinds, ["primary", "consultation"])
    second_reads = kinds == "double_read"
    doubled = set(log.column("of_study").filter(pa.array(second_reads)).to_pylist()) if second_reads.any() else set()
    # Set lookups: numpy's isin on object arrays compares every pair (a year of a centre did not fit in 300 s).
    is_doubled = np.fromiter((a in doubled for a in log.column("accession").to_pylist()), bool, log.num_rows)
    if not types:
        raise ValueError("no primary read or consultation in the log: nothing to fit study types on")
    lines = [f"# Fitted by radsim fit from a worklist event log of {log.num_rows:,} rows, {start:%Y-%m-%d} to "
             f"{last:%Y-%m-%d %H:%M} ({days:.1f} days). Each value says what it was fitted from.",
             yaml.safe_dump({"name": name, "start": start.strftime("%Y-%m-%dT%H:%M"),
                             "horizon_days": round(days, 2), "warmup_days": 0}, sort_keys=False).rstrip(),
             "study_types:"]
    for key, (mod, kind) in types.items():
        mine = (keys == key) & arriving
        arrivals = fit_arrivals(arrived[mine], start, days)
        shares = {r: float(np.mean(referral[mine] == r)) for r in ("stat", "urgent")}
        n = int(mine.sum())
        double = float(np.mean(is_doubled[mine])) if mine.any() else 0.0
        if double >= 0.5:  # a double-read type: both reads' time from the second reads
            reads = fit_duration((signed - opened)[(keys == key) & second_reads],
                                 f"reading time (of the second reads: {double:.0%} of the studies are double-read)")
        else:
            reads = fit_duration((signed - opened)[mine & ~is_doubled], "reading time")
        body = {"kind": kind, "modality": mod, "arrivals": arrivals.value,
                "referral": {r: round(v, 4) for r, v in shares.items()}}
        if reads.value is not None:
            body["read_minutes"] = reads.value
        else:
            body["read_minutes"] = {"dist": "exponential", "mean": 10}
        if double >= 0.5:
            body["double_reading"] = {"second_reader": "human"}
        lines += [f"  # {arrivals.note}", f"  # order priority: from {n:,} studies; " +
                  ", ".join(f"{r} {v:.3f} (95% CI ±{1.96 * math.sqrt(v * (1 - v) / max(n, 1)):.3f})"
                            for r, v in shares.items()),
                  f"  # {reads.note}" + ("" if reads.value is not None else "; a placeholder, edit it"),
                  f"  {key}:", *("    " + line for line in yaml.safe_dump(body, sort_keys=False,
                                                                          default_flow_style=None).splitlines())]
    primaries = int(np.sum(kinds == "primary"))
    seconds = kinds == "second_opinion"
    if seconds.any() and primaries:
        share = float(seconds.sum()) / primaries
        reads = fit_duration(signed[seconds] - opened[seconds], "second-opinion reading time")
        lines += [f"# second opinions: {int(seconds.sum()):,} of {primaries:,} primary reports ({share:.3f}); {reads.note}",
                  yaml.safe_dump({"second_opinions": {"fraction": round(share, 4), "read_minutes": reads.value or
                                                      {"dist": "exponential", "mean": 20}}},
                                 default_flow_style=None, sort_keys=False).rstrip()]
    ingest = fit_duration(_minutes(log.column("received_at"), origin) - arrived, "ingest delay")
    if ingest.value is not None:
        lines += [f"# {ingest.note}", yaml.safe_dump({"ingest": {"delay_minutes": ingest.value}},
                                                     default_flow_style=None).rstrip()]
    readers = log.column("reader").to_pylist()
    lanes = np.asarray([k if k is not None else "second_opinion" for k in keys], dtype=object)
    pools = competency_pools(readers, lanes)
    body = {}
    for reads, members in pools:
        mine = np.fromiter((r in members for r in readers), bool, len(readers))
        shifts = _roster(active_readers([r for r, m in zip(readers, mine) if m], opened[mine], signed[mine], start, days))
        body[pool_name(reads)] = {"reads": reads, "shifts": shifts or [{"start": "00:00", "end": "24:00", "staff": 1}]}
    lines += ["# pools: readers grouped by what they read (the study types that make at least "
              f"{COMPETENCY_SHARE:.0%} of a reader's reads); each pool's roster is its readers active per weekday and "
              f"hour (activity sessions from the hour they began, gaps over {SESSION_GAP_MINUTES:.0f} min split them, "
              f"each hour by the share covered), averaged over the log's weeks and rounded: {len(pools)} pool(s) "
              f"from {sum(len(m) for _, m in pools):,} readers",
              yaml.safe_dump({"pools": body}, default_flow_style=None, sort_keys=False).rstrip(),
              "policy: {triage: fifo}  # the policy the log ran under is not in it: say which it was"]
    return "\n".join(lines) + "\n"
