"""A scenario fitted to a cleaned worklist event log (`radsim fit`, docs/calibration.md): what each value
was fitted from, and its interval, goes beside it in the YAML.

Fitted: per study type (one per description, or per modality where there is none), arrivals as per_day x
hourly x weekday (the model's separable form) with a 95% interval on per_day and the dispersion of counts
per hour of the week; the order-priority mix; the reading-time family chosen by AIC among exponential,
lognormal and gamma, with the Kolmogorov-Smirnov distance; double reading; the second-opinion share; the
ingest delay; the AI per study type (flag rate, failures, latency, and its operating point and the
prevalence where the log carries the report's finding, the truth); pools by competency, each with its roster
per weekday and hour from the readers the log shows on duty (`duties.py`).

`fit(log)` gives the values with their intervals and the data they came from (what the coverage tests and
the fit's report read); `fit_log(log)` writes them as commented YAML.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .columns import minutes_since
from .duties import DUTY_GAP_MINUTES, busy_by_hour, duties_from_work, given_duties, read_by_spacing, reads_in_progress

__all__ = ["Fitted", "LogFit", "TypeFit", "AIFit", "PoolFit", "fit", "fit_log", "fit_duration", "fit_between",
           "fit_arrivals", "fit_share", "active_readers", "dated_roster", "type_key"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class Fitted:
    """A fitted value and where it came from (the YAML comment beside it)."""

    value: object
    note: str
    interval: tuple[float, float] | None = None  # 95%: of per_day, of the mean, or of the share
    estimate: str = ""  # where the value is not measured but estimated: how (the console lists it)


CLOCK_NOISE_MINUTES = 0.01  # 0.6 s: a shorter duration is the clocks' rounding, not time spent
OPENED_FIRST = 0.5  # above this share of reads opened before the AI's result, `fit` says the model differs


def fit_share(hits: int, n: int, what: str) -> Fitted:
    """A share with its 95% Wilson interval (sound near 0 and 1, where most shares here live)."""
    if n == 0:
        return Fitted(None, f"{what}: no study to count on")
    p, z = hits / n, 1.959964
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Fitted(round(p, 4), f"{what}: {hits:,} of {n:,}, {p:.3f} (95% CI {centre - half:.3f}-{centre + half:.3f})",
                  (centre - half, centre + half))


def whole_minutes(times: np.ndarray) -> bool:
    """Times given to the minute only (every known one a whole minute, at least 10): many RIS exports are."""
    known = times[np.isfinite(times)]
    return known.size >= 10 and bool(np.all(known == np.round(known)))


def fit_between(start: np.ndarray, end: np.ndarray, what: str) -> Fitted:
    """`fit_duration` of end - start, told which of the two columns are given to the minute only."""
    both = np.isfinite(start) & np.isfinite(end)
    return fit_duration(end - start, what, (whole_minutes(start[both]), whole_minutes(end[both])))


def fit_duration(minutes: np.ndarray, what: str, to_the_minute: tuple[bool, bool] = (False, False)) -> Fitted:
    """The family of exponential, lognormal and gamma with the lowest AIC (maximum likelihood), as a
    scenario distribution; its note gives n, the mean's 95% interval, the AICs and the KS distance.

    `to_the_minute`: whether the start and the end times were cut to the whole minute (a clock that prints
    12:07 from 12:07:00 to 12:07:59). A duration is then known only to within a minute or two, and short
    ones read as 0: those are kept, and each family's likelihood is that of the observed whole minutes
    (`_rounded_fit`), not of the durations themselves, so short delays are not biased up."""
    from scipy import stats

    if any(to_the_minute):
        return _rounded_fit(minutes, what, to_the_minute)
    # Under CLOCK_NOISE_MINUTES a duration is two clocks' rounding (a log cut to milliseconds beside one in
    # microseconds), not time spent: a delay of none, which a scenario's distribution cannot be.
    x = minutes[np.isfinite(minutes) & (minutes >= CLOCK_NOISE_MINUTES)]
    n = x.size
    if n < 10:
        return Fitted(None, f"{what}: {n} values, too few to fit")
    mean = float(x.mean())
    if float(np.ptp(x)) == 0.0:  # every value the same (a clock that prints whole minutes, a fixed step)
        return Fitted({"dist": "fixed", "value": round(mean, 3)}, f"{what}: {n:,} values, all {mean:.2f}: fixed",
                      (mean, mean))
    low, high = mean_interval(x)
    candidates = {"exponential": stats.expon(scale=mean)}
    for family, law in (("lognormal", stats.lognorm), ("gamma", stats.gamma)):
        try:
            shape, _, scale = law.fit(x, floc=0)
        except (ValueError, RuntimeError, FloatingPointError):  # a sample the family cannot be fitted to
            continue
        if np.isfinite(shape) and np.isfinite(scale) and shape > 0 and scale > 0:
            candidates[family] = law(shape, scale=scale)
    aic = {name: 2 * _FAMILIES[name] - 2 * float(np.sum(d.logpdf(x))) for name, d in candidates.items()}
    best = min(aic, key=aic.__getitem__)
    chosen = candidates[best]
    ks = float(stats.kstest(x, chosen.cdf).statistic)
    if best == "exponential":
        value = {"dist": "exponential", "mean": round(mean, 3)}
    else:
        cv = float(chosen.std() / chosen.mean())
        value = {"dist": best, "mean": round(float(chosen.mean()), 3), "cv": round(cv, 3)}
    return Fitted(value, f"{what}: {best} by AIC ({', '.join(f'{k} {v:.0f}' for k, v in aic.items())}) from {n:,} "
                         f"values; mean {mean:.2f} (95% CI {low:.2f}-{high:.2f}); KS D {ks:.3f}",
                  (low, high))


_FAMILIES = {"exponential": 1, "lognormal": 2, "gamma": 2}  # and their parameters' count, for the AIC


def _law(family: str, shape: float, scale: float):
    from scipy import stats

    if family == "exponential":
        return stats.expon(scale=scale)
    return (stats.lognorm if family == "lognormal" else stats.gamma)(shape, scale=scale)


def _below(family: str, shape: float, scale: float, x: np.ndarray) -> np.ndarray:
    """E[X; X <= x] of the family, in closed form (lognormal: the mean times Phi(z - s); gamma with shape k:
    k scale F_{k+1}(x); the exponential is the gamma of shape 1)."""
    from scipy import stats

    x = np.maximum(x, 0.0)
    if family == "lognormal":
        with np.errstate(divide="ignore"):
            z = (np.log(x) - math.log(scale)) / shape
        return scale * math.exp(shape * shape / 2) * stats.norm.cdf(z - shape)
    k = 1.0 if family == "exponential" else shape
    return k * scale * stats.gamma.cdf(x, k + 1, scale=scale)


def _rounded_likelihood(family: str, shape: float, scale: float, d: np.ndarray, cut: tuple[bool, bool]) -> np.ndarray:
    """The chance of each observed whole-minute duration d. With the start cut to the minute the true
    duration is in (d - 1, d]; with the end cut, in [d, d + 1); with both, d plus the difference of two
    uniform phases, a triangle on (d - 1, d + 1), whose chance is G(d+1) - 2 G(d) + G(d-1) with
    G(x) = x F(x) - E[X; X <= x] (the integral of the distribution function)."""
    law = _law(family, shape, scale)
    if cut == (True, False):
        return law.cdf(d) - law.cdf(d - 1)
    if cut == (False, True):
        return law.cdf(d + 1) - law.cdf(d)

    def g(x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, np.maximum(x, 0) * law.cdf(x) - _below(family, shape, scale, x), 0.0)

    return g(d + 1) - 2 * g(d) + g(d - 1)


def _rounded_fit(minutes: np.ndarray, what: str, cut: tuple[bool, bool]) -> Fitted:
    """`fit_duration` for durations between times cut to the minute: each family by maximum likelihood of
    the whole minutes observed; the mean's interval from the durations shifted by the cut's mean bias
    (none when both ends are cut: the phases cancel on average)."""
    from scipy import optimize

    x = minutes[np.isfinite(minutes) & (minutes > (-1.0 if cut == (False, True) else -1e-9))]
    n = x.size
    if n < 10:
        return Fitted(None, f"{what}: {n} values, too few to fit")
    centred = x + {(True, False): -0.5, (False, True): 0.5, (True, True): 0.0}[cut]
    mean = float(centred.mean())
    if mean <= 0:
        return Fitted(None, f"{what}: {n:,} values given to the minute, mean {mean:.2f}: too short to fit")
    if float(np.ptp(x)) == 0.0:  # every duration the same whole minutes: a fixed step, as `fit_duration` says
        return Fitted({"dist": "fixed", "value": round(mean, 3)}, f"{what}: {n:,} values, all {mean:.2f}: fixed",
                      (mean, mean))
    low, high = mean_interval(centred)
    sides = " and ".join(side for side, c in zip(("start", "end"), cut) if c)
    fitted: dict[str, tuple[float, float, float]] = {}  # family -> shape, scale, log-likelihood
    for family in _FAMILIES:
        def nll(p: np.ndarray, family: str = family) -> float:
            shape, scale = math.exp(p[0]), math.exp(p[1])
            chance = _rounded_likelihood(family, shape, scale, x, cut)
            return float(-np.sum(np.log(np.maximum(chance, 1e-300))))

        start = {"exponential": (0.0, math.log(mean)), "lognormal": (math.log(0.7), math.log(mean) - 0.25),
                 "gamma": (0.0, math.log(mean))}[family]
        if family == "exponential":
            best = optimize.minimize_scalar(lambda q: nll(np.array([0.0, q])), bracket=(start[1] - 1, start[1] + 1))
            fitted[family] = (1.0, math.exp(best.x), -best.fun)
            continue
        best = optimize.minimize(nll, np.array(start), method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-6})
        if np.isfinite(best.fun):
            fitted[family] = (math.exp(best.x[0]), math.exp(best.x[1]), -best.fun)
    aic = {f: 2 * _FAMILIES[f] - 2 * ll for f, (_, _, ll) in fitted.items()}
    chosen = min(aic, key=aic.__getitem__)
    shape, scale, _ = fitted[chosen]
    law = _law(chosen, shape, scale)
    value = {"dist": "exponential", "mean": round(float(law.mean()), 3)} if chosen == "exponential" else \
        {"dist": chosen, "mean": round(float(law.mean()), 3), "cv": round(float(law.std() / law.mean()), 3)}
    return Fitted(value, f"{what}: {chosen} by AIC ({', '.join(f'{k} {v:.0f}' for k, v in aic.items())}) from {n:,} "
                         f"values with the {sides} to the minute only (fitted to the whole minutes, short ones "
                         f"kept); mean {mean:.2f} (95% CI {low:.2f}-{high:.2f})", (low, high))


def mean_interval(x: np.ndarray) -> tuple[float, float]:
    """The 95% interval of the mean of positive durations: Student's t, or where that would reach zero or
    below (a few values, one of them far out) a percentile bootstrap of the mean (2,000 resamples, seeded:
    the fit is a function of the log), which stays within what a mean of these values can be."""
    from scipy import stats

    n, mean = x.size, float(x.mean())
    half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
    if mean - half > 0:
        return mean - half, mean + half
    means = np.random.default_rng(0).choice(x, size=(2000, n), replace=True).mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


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


def active_readers(busy: np.ndarray, start: dt.datetime, days: float) -> np.ndarray:
    """Readers on duty per weekday (Monday first) and hour, from `duties.busy_by_hour`, averaged over the log's
    weeks."""
    offset = (start.weekday() * 24 + start.hour)
    grid = np.zeros(168)
    counts = np.zeros(168)
    for h in range(int(days * 24)):
        cell = (offset + h) % 168
        grid[cell] += busy[h]
        counts[cell] += 1
    return grid / np.maximum(counts, 1)


COMPETENCY_SHARE = 0.05  # a study type below this share of a reader's reads is an exception, not a competency
EXCEPTION_READS = 3  # a pool also reads the lanes its members read at least this often, as exceptions


def competency_pools(readers: list, lanes: np.ndarray) -> list[tuple[list[str], set[str]]]:
    """Readers grouped by the lanes (study types, second opinions) they read: (lanes, readers) per pool, the
    largest first. Readers are grouped by their competencies (the lanes of at least COMPETENCY_SHARE of their
    reads); a pool then also reads the lanes its members read as exceptions (EXCEPTION_READS or more), since
    they did: a night reader who reads the odd fluorography that comes at night keeps it from waiting for the
    day (on the reference centre's log the simulated mean radiography turnaround was 19% long without it).
    A lane nobody read often enough goes to the pool that read most of it, so every lane anyone read stays
    read."""
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
    pools = []
    for reads, members in groups.items():
        seen: dict[str, int] = {}
        for who in members:
            for lane, n in by_reader[who].items():
                seen[lane] = seen.get(lane, 0) + n
        pools.append((sorted({*reads, *(lane for lane, n in seen.items() if n >= EXCEPTION_READS)}), members))
    return sorted(pools, key=lambda p: -len(p[1]))


def pool_name(reads: list[str]) -> str:
    name = "_".join(reads)
    return name if len(name) <= 60 else f"{reads[0]}_and_{len(reads) - 1}_more"


def _runs(staff: np.ndarray) -> list[tuple[int, int, int]]:
    """(start hour, hours, staff) of a day's staff per hour, in layers: the k-th reader is on duty in the hours
    with at least k, so that the readers who stay stay on one duty (3 readers 08:00-20:00 and 1 round the clock
    is 1 from 00:00 for 24 hours and 2 from 08:00 for 12, with no handover of the one at 08:00 or 20:00)."""
    found: dict[tuple[int, int], int] = {}
    for level in range(1, int(staff.max(initial=0)) + 1):
        h = 0
        while h < 24:
            if staff[h] < level:
                h += 1
                continue
            j = h
            while j < 24 and staff[j] >= level:
                j += 1
            found[(h, j - h)] = found.get((h, j - h), 0) + 1
            h = j
    return [(h, hours, n) for (h, hours), n in found.items()]


def _roster(active: np.ndarray) -> list[dict]:
    """Shifts from readers on duty per weekday and hour (rounded), in layers (`_runs`), the same shift on
    several days written once with those days (so that a round-the-clock roster is one continuous duty, not
    a handover at every midnight)."""
    shifts: dict[tuple[int, int, int], list[str]] = {}
    for d, day in enumerate(DAYS):
        for run in _runs(np.rint(active[d * 24:(d + 1) * 24]).astype(int)):
            shifts.setdefault(run, []).append(day)
    return [{"start": f"{h:02d}:00", "hours": hours, "staff": staff, "days": days}
            for (h, hours, staff), days in shifts.items()]


def dated_roster(busy: np.ndarray, start: dt.datetime, days: float) -> list[dict]:
    """Shifts of given dates from readers on duty hour by hour (`duties.busy_by_hour`): the log's own capacity, date
    by date, as `radsim replay` and `radsim backtest` replay it."""
    shifts: dict[tuple[int, int, int], list[str]] = {}
    for d in range(int(math.ceil(days))):
        date = (start + dt.timedelta(days=d)).date().isoformat()
        for run in _runs(np.rint(busy[d * 24:(d + 1) * 24]).astype(int)):
            shifts.setdefault(run, []).append(date)
    return [{"start": f"{h:02d}:00", "hours": hours, "staff": staff, "dates": dates}
            for (h, hours, staff), dates in shifts.items()]


@lru_cache(maxsize=4096)  # a log's descriptions are few and repeated on every row
def type_key(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", text.strip()).strip("_").lower()
    return slug[:60] or "study"


AI_NO_TRUTH = 0.999  # the operating point written when the log has no finding: the AI flags what it is meant to
MIN_TYPE_STUDIES = 30  # a description with fewer studies (a typo, a one-off code) is read as its modality's main type


@dataclass
class AIFit:
    """A study type's AI as the log shows it: its flag rate, how often it gave nothing, how long its result
    took from the archive, and, where the report's finding (the truth) is in the log, its operating point."""

    flagged: Fitted  # share flagged of the studies it scored
    failure: Fitted  # share of studies it never scored (among those a day or more before the log's end)
    latency: Fitted  # ai_at - received_at
    prevalence: Fitted | None = None  # share with a finding
    # Share of the scored studies whose read was opened before the AI's result: the fitted service holds a
    # study until its result (a service without workers), so a large share says the model reads later.
    opened_first: Fitted | None = None
    peak: int = 0  # the most studies awaiting its result at once
    sensitivity: Fitted | None = None
    specificity: Fitted | None = None


@dataclass
class TypeFit:
    key: str
    modality: str
    kind: str  # primary | consultation
    studies: int
    arrivals: Fitted
    referral: dict[str, Fitted]  # stat, urgent shares
    reads: Fitted
    double: float  # share of the studies double-read
    ai: AIFit | None
    arrived: np.ndarray  # minutes since the fit's start: the data behind the arrivals (the report's figure)
    read_values: np.ndarray  # the reading times fitted on
    folded: dict[str, int] = field(default_factory=dict)  # rare descriptions read as this type: their studies
    ingest: Fitted | None = None  # this type's own ingest delay (None: too few values; the pooled one stands)


@dataclass
class PoolFit:
    name: str
    reads: list[str]
    members: set[str]
    busy: np.ndarray  # readers on duty in each hour from the fit's start, before rounding
    active: np.ndarray  # the same per hour of the week (Monday 00:00 first), averaged over the weeks
    shifts: list[dict]

    @property
    def roster(self) -> np.ndarray:
        """Readers on duty per hour of the week as the fitted scenario has them (a pool the log shows on duty
        in no hour is written with one reader round the clock)."""
        return np.rint(self.active) if self.shifts else np.ones(168)


@dataclass
class LogFit:
    rows: int
    start: dt.datetime
    last: dt.datetime
    days: float
    types: dict[str, TypeFit]
    second_opinions: tuple[Fitted, Fitted] | None  # share of signed primary reports, reading time
    ingest: Fitted
    pools: list[PoolFit]
    folded: dict[str, str] = field(default_factory=dict)  # a rare description's key -> the type it is read as
    duties: str = ""  # where the readers' duties came from (the work seen, or a roster given)
    activity: tuple = ()  # (readers, opened, signed) of every row: what `reading` draws from, when asked
    # Per row, the time its study held its reader (`read_by_spacing`): the reading and any pause before it,
    # what a replay gives each study so that its readers keep the log's pace.
    occupied: np.ndarray = field(default_factory=lambda: np.empty(0))

    def reading(self, pool: PoolFit) -> np.ndarray:
        """The pool's readers reading (opened to signed), per hour of the week, averaged over the log's weeks:
        the work itself, which the fit's page draws against the roster (made only when a page is)."""
        readers, opened, signed = self.activity
        mine = [r in pool.members for r in readers]
        spans = reads_in_progress([r for r, m in zip(readers, mine) if m], opened[mine], signed[mine])
        return active_readers(busy_by_hour(spans, self.days), self.start, self.days)

    def type_of(self, description: str | None, modality: str | None) -> str:
        """The fitted study type of a row (its description's key, or the type a rare one was folded into)."""
        key = type_key(description or modality or "study")
        return self.folded.get(key, key)

    def guesses(self) -> list[str]:
        """Each value the YAML holds that the log did not give (a placeholder to edit, or the truth of an AI the
        log cannot judge), said where it goes: none of them may pass for fitted."""
        found = []
        for t in self.types.values():
            if t.reads.value is None:
                found.append(f"study_types.{t.key}.read_minutes: {t.reads.note}; a placeholder of 10 minutes")
            elif t.reads.estimate:
                found.append(f"study_types.{t.key}.read_minutes: {t.reads.estimate}")
            ai = t.ai
            if ai is not None and not (ai.sensitivity is not None and ai.sensitivity.value is not None
                                       and ai.specificity is not None and ai.specificity.value is not None):
                found.append(f"ai_services.{t.key}_ai: sensitivity and specificity {AI_NO_TRUTH} (the log's findings "
                             "do not tell the operating point)")
        if self.second_opinions is not None and self.second_opinions[1].value is None:
            found.append(f"second_opinions.read_minutes: {self.second_opinions[1].note}; a placeholder of 20 minutes")
        elif self.second_opinions is not None and self.second_opinions[1].estimate:
            found.append(f"second_opinions.read_minutes: {self.second_opinions[1].estimate}")
        return found

    @staticmethod
    def unheld(ai: AIFit) -> bool:
        """Most of the type's scored reads were opened before the AI's result: the reads did not wait for it."""
        first = ai.opened_first
        return first is not None and first.value is not None and first.value > OPENED_FIRST

    def cautions(self) -> list[str]:
        """What the fitted model does because of what the log shows, said where it goes: here, an AI whose
        results most reads did not wait for, fitted as a compute service that holds no study."""
        found = []
        for t in self.types.values():
            ai = t.ai
            if ai is not None and ai.opened_first is not None and self.unheld(ai):
                found.append(f"ai_services.{t.key}_ai: {ai.opened_first.value:.0%} of the scored {t.key} reads were "
                             "opened before the AI's result: fitted as a compute service (`workers`: the most "
                             f"studies the log shows awaiting a result at once, plus one: {ai.peak + 1}), whose "
                             "studies join the worklist unscored and are re-ranked when the result comes, not held")
        return found

    def dated_pools(self) -> dict[str, dict]:
        """The pools with the readers on duty date by date over the log (not a weekly average): the log's own
        capacity, for a replay of its history."""
        return {p.name: {"reads": p.reads, "shifts": dated_roster(p.busy, self.start, self.days) or
                         [{"start": "00:00", "end": "24:00", "staff": 1}]} for p in self.pools}

    def yaml(self, name: str = "fitted", policy: str | None = None) -> str:
        """The fitted scenario as YAML, each value commented with what it came from."""
        import yaml

        def dump(data: dict, indent: str = "", flow: bool | None = None) -> list[str]:
            return [indent + line for line in yaml.safe_dump(data, sort_keys=False, default_flow_style=flow)
                    .splitlines()]

        lines = [f"# Fitted by radsim fit from a worklist event log of {self.rows:,} rows, {self.start:%Y-%m-%d} "
                 f"to {self.last:%Y-%m-%d %H:%M} ({self.days:.1f} days). Each value says what it was fitted from.",
                 *dump({"name": name, "start": self.start.strftime("%Y-%m-%dT%H:%M"),
                        "horizon_days": round(self.days, 2), "warmup_days": 0}, flow=False), "study_types:"]
        services: dict[str, dict] = {}
        for t in self.types.values():
            body: dict = {"kind": t.kind, "modality": t.modality, "arrivals": t.arrivals.value,
                          "referral": {r: f.value or 0.0 for r, f in t.referral.items()},
                          "read_minutes": t.reads.value or {"dist": "exponential", "mean": 10}}
            if t.double >= 0.5:
                body["double_reading"] = {"second_reader": "human"}
            if t.ingest is not None and t.ingest.value is not None:
                body["ingest_minutes"] = t.ingest.value
            if t.folded:
                lines.append(f"  # includes {sum(t.folded.values()):,} studies of {len(t.folded):,} rare descriptions "
                             f"(fewer than {MIN_TYPE_STUDIES} studies each), read as this type: "
                             + ", ".join(sorted(t.folded)[:5]) + (" ..." if len(t.folded) > 5 else ""))
            lines += [f"  # {t.arrivals.note}", f"  # order priority: {'; '.join(f.note for f in t.referral.values())}",
                      f"  # {t.reads.note}" + ("" if t.reads.value is not None else "; a placeholder, edit it")]
            if t.ingest is not None and t.ingest.value is not None:
                lines.append(f"  # {t.ingest.note} (this type's own: ingest_minutes)")
            if t.ai is not None:
                ai = t.ai
                service = f"{t.key}_ai"[:60]
                known = ai.sensitivity is not None and ai.sensitivity.value is not None \
                    and ai.specificity is not None and ai.specificity.value is not None
                prevalence = ai.prevalence.value if known and ai.prevalence is not None else ai.flagged.value
                body["prevalence"] = prevalence
                body["ai"] = service
                clip = lambda v: min(max(float(v), 0.001), 0.999)  # noqa: E731  the schema's open interval
                services[service] = {
                    "sensitivity": clip(ai.sensitivity.value) if known else AI_NO_TRUTH,  # type: ignore[union-attr]
                    "specificity": clip(ai.specificity.value) if known else AI_NO_TRUTH,  # type: ignore[union-attr]
                    "failure_rate": ai.failure.value or 0.0}
                if ai.latency.value is not None and self.unheld(ai):
                    # Reads did not wait for this AI: a compute service, whose studies join the worklist
                    # unscored and are re-ranked when the result comes; workers enough never to queue.
                    services[service].update(workers=ai.peak + 1, inference_minutes=ai.latency.value)
                elif ai.latency.value is not None:
                    services[service]["latency_minutes"] = ai.latency.value
                lines.append(f"  # AI ({service}): {ai.flagged.note}; {ai.failure.note}; {ai.latency.note}"
                             + ("" if ai.opened_first is None else f"; {ai.opened_first.note}"))
                if known:
                    truth = (ai.prevalence, ai.sensitivity, ai.specificity)
                    lines.append("  # " + "; ".join(f.note for f in truth if f is not None))
                else:
                    lines.append("  # the log's findings (the truth) do not tell the operating point (none, or no "
                                 "positive or no negative among the scored studies); written as prevalence = the "
                                 f"flag rate and an AI at {AI_NO_TRUTH} / "
                                 f"{AI_NO_TRUTH}, so the flag rate is the log's (edit it where the AI's is known)")
            lines += [f"  {t.key}:", *dump(body, "    ")]
        if services:
            lines += ["ai_services:  # one per study type whose studies carry AI results in the log",
                      *dump(services, "  ")]
        if self.second_opinions is not None:
            share, reads = self.second_opinions
            lines += [f"# second opinions: {share.note}; {reads.note}",
                      *dump({"second_opinions": {"fraction": share.value, "read_minutes": reads.value or
                                                 {"dist": "exponential", "mean": 20}}})]
        if self.ingest.value is not None:
            own = sum(t.ingest is not None and t.ingest.value is not None for t in self.types.values())
            lines += [f"# {self.ingest.note}, pooled over every type: it stands for a type without its own "
                      f"ingest_minutes ({own} of {len(self.types)} types have their own)",
                      *dump({"ingest": {"delay_minutes": self.ingest.value}})]
        lines += ["# pools: readers grouped by what they read (the study types that make at least "
                  f"{COMPETENCY_SHARE:.0%} of a reader's reads; a pool also reads the types its readers read "
                  f"{EXCEPTION_READS} times or more as exceptions); each pool's roster is its readers active per "
                  f"weekday and hour ({self.duties}; each hour by the share covered), averaged over the log's "
                  "weeks and rounded: "
                  f"{len(self.pools)} pool(s) from {sum(len(p.members) for p in self.pools):,} readers",
                  *dump({"pools": {p.name: {"reads": p.reads, "shifts": p.shifts or
                                            [{"start": "00:00", "end": "24:00", "staff": 1}]} for p in self.pools}}),
                  "# policy: the one the log ran under, as given" if policy else
                  "# policy: the one the log ran under is not in it: say which it was (fifo written)",
                  *dump({"policy": {"triage": policy or "fifo"}})]
        return "\n".join(lines) + "\n"


def _reads(opened: np.ndarray, signed: np.ndarray, spaced: np.ndarray, mask: np.ndarray, what: str) -> Fitted:
    """A reading time from the log's openings and signings, or, where it has no openings, estimated from the
    readers' spacing of signings (`read_by_spacing`), said to be an estimate."""
    measured = fit_between(opened[mask], signed[mask], what)
    if measured.value is not None or not np.isfinite(spaced[mask]).any():
        return measured
    # As the span from each read's estimated beginning to its signing, so that whole-minute times are fitted
    # as whole minutes (`fit_between`), short reads that round to 0 kept.
    begun = np.round(signed - spaced, 9)  # the subtraction's rounding would hide a whole minute
    estimated = fit_between(begun[mask], signed[mask], f"{what} estimated from each reader's spacing of signings")
    if estimated.value is None:
        return measured
    estimated.estimate = ("estimated from each reader's spacing of signings (the log has no read_start): the time a "
                          "busy reader spends per study, any pause before the next included (exact where readers "
                          "take the next study at once; +5% on 14-minute reads with 1-minute pauses)")
    return estimated


def fit_log(log: pa.Table, name: str = "fitted", roster: pa.Table | None = None) -> str:
    """A scenario fitted to a cleaned log, as commented YAML."""
    return fit(log, roster).yaml(name)


def _fit_ai(log: pa.Table, mine: np.ndarray, arrived: np.ndarray, received: np.ndarray, scored_at: np.ndarray,
            end: float, opened: np.ndarray | None = None) -> AIFit | None:
    # The flag is the AI's result as the worklist used it (a score alone does not say where it was cut).
    flag_column = log.column("ai_flag")
    result = mine & flag_column.is_valid().to_numpy(zero_copy_only=False)
    if not result.any():
        return None
    flag = np.asarray(pc.fill_null(flag_column, False).to_numpy(zero_copy_only=False), dtype=bool)
    flagged = fit_share(int((flag & result).sum()), int(result.sum()), "flagged")
    # Studies too close to the log's end may still be waiting for their result: not counted as failures.
    settled = mine & (arrived <= end - 1440.0)
    failure = fit_share(int((settled & ~result).sum()), int(settled.sum()), "never scored")
    latency = fit_between(np.where(np.isnan(received), arrived, received)[result], scored_at[result],
                          "latency from the archive")
    fitted = AIFit(flagged, failure, latency)
    # The most studies the log shows awaiting their result at once: the workers a compute service needs
    # to give each result after its latency, with no queue of its own.
    since = np.where(np.isnan(received), arrived, received)[result]
    events = np.concatenate([np.stack([since, np.ones(since.size)], 1),
                             np.stack([scored_at[result], -np.ones(since.size)], 1)])
    events = events[np.isfinite(events[:, 0])]
    events = events[np.lexsort((events[:, 1], events[:, 0]))]  # a result before an arrival at the same time
    fitted.peak = int(np.cumsum(events[:, 1]).max(initial=0))
    if opened is not None:
        timed = result & np.isfinite(opened) & np.isfinite(scored_at)
        fitted.opened_first = fit_share(int((timed & (opened < scored_at)).sum()), int(timed.sum()),
                                        "reads opened before the AI's result")
    truth_column = log.column("finding")
    known = truth_column.is_valid().to_numpy(zero_copy_only=False) & mine
    if known.sum() >= 30:
        truth = np.asarray(pc.fill_null(truth_column, False).to_numpy(zero_copy_only=False), dtype=bool)
        judged = known & result
        fitted.prevalence = fit_share(int((truth & known).sum()), int(known.sum()), "finding (prevalence)")
        fitted.sensitivity = fit_share(int((judged & truth & flag).sum()), int((judged & truth).sum()), "sensitivity")
        fitted.specificity = fit_share(int((judged & ~truth & ~flag).sum()), int((judged & ~truth).sum()),
                                       "specificity")
    return fitted


def fit(log: pa.Table, roster: pa.Table | None = None) -> LogFit:
    """Every fitted value of a cleaned log, with its interval and the data it came from. `roster`: the duties
    as the RIS keeps them (`duties.read_roster`), which replace what the work shows for the readers named."""
    if log.num_rows == 0:
        raise ValueError("the log has no row left to fit on")
    acquired = log.column("acquired_at")
    first = pc.min(acquired).as_py()
    last = pc.max(acquired).as_py()
    start = dt.datetime.combine(first.date(), dt.time())
    days = max((last - start).total_seconds() / 86400.0, 1.0)
    origin = np.datetime64(start, "us")
    arrived = minutes_since(acquired, origin)
    opened = minutes_since(log.column("read_start"), origin)
    signed = minutes_since(log.column("reported_at"), origin)
    received = minutes_since(log.column("received_at"), origin)
    scored_at = minutes_since(log.column("ai_at"), origin)
    kinds = np.asarray(log.column("kind").to_pylist(), dtype=object)
    description = log.column("description").to_pylist()
    modality = log.column("modality").to_pylist()
    # A priority the log does not give (or gives as no known one) is left out of the mix: the shares are of
    # the studies whose priority is known, not diluted by the unknown ones as if they were routine.
    referral = np.asarray(pc.fill_null(log.column("referral"), "").to_pylist(), dtype=object)
    found: dict[str, tuple[str, str]] = {}
    keys = []
    for d, m, k in zip(description, modality, kinds):
        key = type_key(d or m or "study") if k != "second_opinion" else None
        keys.append(key)
        if key is not None and key not in found and k in ("primary", "consultation"):
            found[key] = (m or "OT", "consultation" if k == "consultation" else "primary")
    keys = np.asarray(keys, dtype=object)
    if not found:
        raise ValueError("no primary read or consultation in the log: nothing to fit study types on")
    studies = int(np.isin(kinds, ["primary", "consultation"]).sum())
    if studies < MIN_TYPE_STUDIES:
        raise ValueError(f"only {studies} studies left to fit on: too few for any value (at least "
                         f"{MIN_TYPE_STUDIES}; `radsim log` says which rules dropped the rest: a key that is not "
                         "one, every row a duplicate of another, shows there)")
    arriving = np.isin(kinds, ["primary", "consultation"])
    # A description too rare to fit (a typo, a one-off code) is read as the main type of its modality and
    # kind, where there is one; the type's comment lists them.
    counted = dict(zip(*np.unique(keys[arriving].astype(str), return_counts=True)))
    folded: dict[str, str] = {}
    for key, (mod, kind) in found.items():
        if counted.get(key, 0) < MIN_TYPE_STUDIES:
            main = [k for k, (m, c) in found.items() if (m, c) == (mod, kind) and counted.get(k, 0) >= MIN_TYPE_STUDIES]
            if main:
                folded[key] = max(main, key=lambda k: counted[k])
    if folded:
        keys = np.asarray([folded.get(k, k) for k in keys], dtype=object)
        found = {k: v for k, v in found.items() if k not in folded}
    # A study's own work items: its first read (or consultation) arrives; a second read of a double-read
    # study is not an arrival, and its first read is signed only when both are done, so its reading time is
    # taken from the second reads (the first read's own time is not in the log).
    second_reads = kinds == "double_read"
    doubled = set(log.column("of_study").filter(pa.array(second_reads)).to_pylist()) if second_reads.any() else set()
    # Set lookups: numpy's isin on object arrays compares every pair (a year of a centre did not fit in 300 s).
    is_doubled = np.fromiter((a in doubled for a in log.column("accession").to_pylist()), bool, log.num_rows)
    end = float(np.nanmax(arrived))
    # Where the log has no openings, reading times from each reader's spacing of signings: a study is there
    # to read from its archive time (and AI result), a second opinion from its primary's signing.
    readers = log.column("reader").to_pylist()
    # An AI result the read did not wait for (it came after the opening, or, where openings are unknown,
    # after the signing) does not make the study later to read: it was there from the archive.
    waited = scored_at <= np.where(np.isfinite(opened), opened, signed)
    available = np.fmax(np.where(np.isnan(received), arrived, received), np.where(waited, scored_at, np.nan))
    primaries_signed = dict(zip(log.column("accession").to_pylist(), np.where(kinds == "primary", signed, np.nan)))
    of_study = log.column("of_study").to_pylist()
    available = np.where(kinds == "second_opinion",
                         np.array([primaries_signed.get(o, np.nan) for o in of_study], dtype=float), available)
    duties = duties_from_work(readers, opened, signed)
    occupied = read_by_spacing(readers, signed, available, duties)  # the time each study held its reader
    spaced, began = np.full(signed.size, np.nan), opened
    if not np.isfinite(opened).any():
        # No openings: reading times from the spacing, and each read's beginning from it, so a duty ends at the
        # last read begun, not at the last signing (which had a night reader on duty into the morning).
        spaced, began = occupied, signed - occupied
        duties = duties_from_work(readers, began, signed)
    types = {}
    for key, (mod, kind) in found.items():
        mine = (keys == key) & arriving
        n = int(mine.sum())
        double = float(np.mean(is_doubled[mine])) if n else 0.0
        if double >= 0.5:  # a double-read type: both reads' time from the second reads
            timed = (keys == key) & second_reads
            what = f"reading time (of the second reads: {double:.0%} of the studies are double-read)"
        else:
            timed = mine & ~is_doubled
            what = "reading time"
        values = (signed - opened)[timed]
        known = int(np.sum(referral[mine] != ""))
        shares = {r: fit_share(int(np.sum(referral[mine] == r)), known, r) for r in ("stat", "urgent")}
        types[key] = TypeFit(key, mod, kind, n, fit_arrivals(arrived[mine], start, days), shares,
                             _reads(opened, signed, spaced, timed, what), double,
                             _fit_ai(log, mine, arrived, received, scored_at, end, opened), arrived[mine],
                             values[np.isfinite(values) & (values > 0)],
                             {k: int(counted.get(k, 0)) for k, into in folded.items() if into == key},
                             fit_between(arrived[mine], received[mine], "ingest delay"))
    seconds = kinds == "second_opinion"
    reported = int(np.sum((kinds == "primary") & np.isfinite(signed)))
    second_opinions = None
    if seconds.any() and reported:
        # A second opinion is asked for when a primary report is signed: its share is of the signed reports.
        second_opinions = (fit_share(int(seconds.sum()), reported, "second opinions of the signed primary reports"),
                           _reads(opened, signed, spaced, seconds, "second-opinion reading time"))
    ingest = fit_between(arrived, received, "ingest delay")
    duty_note = (f"each reader's work in duties (gaps over {DUTY_GAP_MINUTES / 60:.0f} h split them), each widened "
                 "to the reader's usual shift of its kind")
    if roster is not None:
        given = given_duties(roster, origin)
        seen = {r for r in readers if r is not None}
        duty_note = (f"the roster given for {len(seen & set(given))} of the log's {len(seen)} readers"
                     + (f" (the other {len(seen - set(given))} from their work: {duty_note})"
                        if seen - set(given) else "")
                     + (f"; {len(set(given) - seen)} reader(s) of the roster read nothing in the log and are in no "
                        f"pool: {', '.join(sorted(set(given) - seen)[:5])}" if set(given) - seen else ""))
        duties.update(given)
    lanes = np.asarray([k if k is not None else "second_opinion" for k in keys], dtype=object)
    pools: list[PoolFit] = []
    for reads, members in competency_pools(readers, lanes):
        name = pool_name(reads)
        if any(p.name == name for p in pools):  # pools of other competencies may read the same lanes
            name = f"{name}_{sum(p.name.startswith(name) for p in pools) + 1}"
        mine = np.fromiter((r in members for r in readers), bool, len(readers))
        busy = busy_by_hour({who: duties[who] for who in members if who in duties}, days)
        active = active_readers(busy, start, days)
        pools.append(PoolFit(name, reads, members, busy, active, _roster(active)))
    if not pools:
        raise ValueError("no signed read names its reader: no roster can be fitted (a log needs the reader column "
                         "on its signed reads)")
    return LogFit(log.num_rows, start, last, days, types, second_opinions, ingest, pools, folded, duty_note,
                  (readers, began, signed), occupied)
