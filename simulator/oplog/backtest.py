"""Back-testing a fitted scenario against held-out weeks of its own log (`radsim backtest`).

The log is cut at `holdout_days` before its last exam: the scenario is fitted on the earlier part, then
simulated over the held-out weeks (after three days of warm-up), with the readers the log shows on duty
in those days, date by date (`roster="holdout"`), or the weekly roster fitted before them
(`roster="fitted"`), and compared with what happened: mean,
median and 90th percentile of turnaround (reported - exam end; work still open at the log's end counted at
its censored time, as in the model's metrics) for all primary reads, each order priority, the AI-flagged
(where the log has flags), each modality (where it has several) and the exams of each quarter of the day.
A check is "within" when the observed value lies inside the 99% prediction interval of a new replication
(mean ± t sd sqrt(1 + 1/R) over the replications, each replication simulating its own draw of the fitted
values: `uncertainty.py`), "outside" otherwise; the Kolmogorov-Smirnov distance of the observed and
simulated turnaround distributions is given beside.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Check", "Backtest", "backtest", "turnaround"]

WARMUP_DAYS = 3.0
DAY_PART_HOURS = 6  # the back-test's checks by time of day: exams of 00:00-06:00, 06:00-12:00, ...
STATISTICS = {"mean": np.mean, "median": np.median, "p90": lambda x: np.quantile(x, 0.9)}


@dataclass(frozen=True)
class Check:
    group: str
    statistic: str
    observed: float
    simulated: float  # mean over replications
    low: float  # 99% prediction interval of one replication
    high: float

    @property
    def within(self) -> bool:
        return self.low <= self.observed <= self.high


@dataclass(frozen=True)
class Backtest:
    checks: list[Check]
    ks: float  # Kolmogorov-Smirnov distance, all primary reads
    train_rows: int
    holdout_rows: int
    holdout_start: dt.datetime
    holdout_days: float
    replications: int
    # What the report draws: turnaround of every primary read observed and simulated (with its replication),
    # and the backlog (exams ended, not yet signed) at each hour of the held-out days.
    observed_tat: np.ndarray = field(default_factory=lambda: np.empty(0))
    simulated_tat: np.ndarray = field(default_factory=lambda: np.empty(0))
    simulated_replication: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    observed_backlog: np.ndarray = field(default_factory=lambda: np.empty(0))
    simulated_backlog: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))  # replication x hour

    @property
    def passed(self) -> bool:
        """Every check within; a back-test with nothing to check does not pass (it cannot tell)."""
        return bool(self.checks) and all(c.within for c in self.checks)


def turnaround(acquired: np.ndarray, reported: np.ndarray, end: float) -> np.ndarray:
    """Exam end to signing, minutes; work still open at `end` counted at its censored time (as the model's
    metrics count it)."""
    return np.where(np.isnan(reported), end - acquired, reported - acquired)


def _backlog(acquired: np.ndarray, reported: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Exams ended and not yet signed at each of `hours` (minutes)."""
    ended = np.searchsorted(np.sort(acquired), hours, side="right")
    signed = np.searchsorted(np.sort(reported[~np.isnan(reported)]), hours, side="right")
    return (ended - signed).astype(float)


def backtest(log: pa.Table, holdout_days: float, replications: int = 10, roster: str = "holdout",
             workers: int | None = None, seed: int = 0, policy: str = "fifo",
             duties: pa.Table | None = None, fit_uncertainty: bool = True) -> Backtest:
    """`policy`: the triage the log ran under (a log does not say), which the held-out days are simulated
    under; AI-flagged studies' turnaround tells a wrong one. `duties`: the roster as the RIS keeps it
    (`duties.read_roster`), where it has one. `fit_uncertainty`: each replication simulates its own draw of
    the fitted values (`uncertainty.drawn`), so the prediction interval holds what the training weeks do
    not pin down (False: every replication the fitted values, for comparison)."""
    import yaml
    from scipy import stats

    from ..experiment import run_variants
    from ..metrics import prediction_interval
    from ..prepare import parse_scenario
    from .columns import minutes_since
    from .fitting import fit
    from .uncertainty import draw_rng, drawn

    acquired = log.column("acquired_at")
    last = pc.max(acquired).as_py()
    cut = dt.datetime.combine((last - dt.timedelta(days=holdout_days)).date(), dt.time()) + dt.timedelta(days=1)
    before = pc.less(acquired, pa.scalar(cut, acquired.type))
    train, held = log.filter(before), log.filter(pc.invert(before))
    if train.num_rows == 0 or held.num_rows == 0:
        raise ValueError(f"a {holdout_days:g}-day hold-out leaves nothing to fit on or nothing to test")
    trained = fit(train, duties)
    fitted = yaml.safe_load(trained.yaml("backtest"))
    days = (last - cut).total_seconds() / 86400.0
    start = cut - dt.timedelta(days=WARMUP_DAYS)
    if roster == "holdout":  # the readers the log shows on duty, date by date, warm-up days included
        recent = log.filter(pc.greater_equal(acquired, pa.scalar(start, acquired.type)))
        fitted["pools"] = fit(recent, duties).dated_pools()
    fitted.update(start=start.strftime("%Y-%m-%dT%H:%M"), horizon_days=round(WARMUP_DAYS + days, 4),
                  warmup_days=WARMUP_DAYS, seed=seed, policy={"triage": policy})
    if fit_uncertainty:  # a draw of the fit per replication, each on a replication of its own
        variants = [parse_scenario(drawn(fitted, trained, draw_rng(seed, r)), "backtest") for r in range(replications)]
        runs = run_variants(variants, 1, workers=workers, summarise=False, offsets=range(replications))
    else:
        runs = run_variants([parse_scenario(fitted, "backtest")], replications, workers=workers, summarise=False)
    scenario = runs[0].scenario
    studies = pa.concat_tables([run.studies for run in runs])
    simulated = studies.filter(pc.equal(studies.column("kind"), "primary"))
    horizon = scenario.horizon_minutes
    sim_arrived = simulated.column("arrived_at").to_numpy()
    sim_reported = pc.fill_null(simulated.column("reported_at"), math.nan).to_numpy(zero_copy_only=False)
    sim_rep_all = simulated.column("replication").to_numpy()
    measured = ~simulated.column("in_warmup").to_numpy(zero_copy_only=False)
    sim_tat = turnaround(sim_arrived, sim_reported, horizon)[measured]
    sim_rep = sim_rep_all[measured]
    # Every primary read of the log, timed once: the held-out ones are checked, and the earlier ones still open
    # at the cut count in the observed backlog (the simulation's warm-up has its own).
    every = log.filter(pc.equal(log.column("kind"), "primary"))
    origin = np.datetime64(start, "us")
    all_acquired = minutes_since(every.column("acquired_at"), origin)
    all_reported = minutes_since(every.column("reported_at"), origin)
    in_holdout = all_acquired >= scenario.warmup_minutes  # the warm-up ends at the cut
    primary = every.filter(pa.array(in_holdout))
    obs_tat = turnaround(all_acquired[in_holdout], all_reported[in_holdout], horizon)

    def values(table: pa.Table, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        found = np.asarray(table.column(name).cast(pa.string()).to_pylist(), dtype=object)
        return found if rows is None else found[rows]

    obs_referral = np.asarray(pc.fill_null(primary.column("referral"), "routine").to_pylist(), dtype=object)
    sim_referral = values(simulated, "referral", measured)
    groups = [("all", np.ones(obs_tat.size, dtype=bool), np.ones(sim_tat.size, dtype=bool))]
    groups += [(r, obs_referral == r, sim_referral == r) for r in ("stat", "urgent", "routine")]
    if primary.column("ai_flag").null_count < primary.num_rows:
        groups.append(("AI-flagged", np.asarray(pc.fill_null(primary.column("ai_flag"), False).to_pylist(), bool),
                       np.asarray(pc.fill_null(simulated.column("ai_positive"), False).to_pylist(), bool)[measured]))
    obs_modality, sim_modality = values(primary, "modality"), values(simulated, "modality", measured)
    modalities = sorted({m for m in obs_modality if m is not None})
    if len(modalities) > 1:
        groups += [(m, obs_modality == m, sim_modality == m) for m in modalities]
    # By time of day of the exam: a roster that misses the quiet hours (a night reader seen only through the
    # odd study) shows there, not in the day's totals.
    obs_hour = all_acquired[in_holdout] // 60.0 % 24  # both from the same midnight
    sim_hour = sim_arrived[measured] // 60.0 % 24
    for first in range(0, 24, DAY_PART_HOURS):
        name = f"{first:02d}:00-{first + DAY_PART_HOURS:02d}:00"
        groups.append((name, (obs_hour >= first) & (obs_hour < first + DAY_PART_HOURS),
                       (sim_hour >= first) & (sim_hour < first + DAY_PART_HOURS)))
    checks = []
    for group, in_log, in_run in groups:
        observed = obs_tat[in_log]
        if observed.size < 30 or in_run.sum() < 30 * replications:
            continue  # too few to say anything
        for name, statistic in STATISTICS.items():
            per_rep = np.array([statistic(sim_tat[in_run & (sim_rep == r)]) for r in np.unique(sim_rep)])
            # A turnaround is never negative: the interval is clipped to what is possible.
            low, high = prediction_interval(per_rep, 0.99, (0.0, math.inf))
            checks.append(Check(group, name, float(statistic(observed)), float(per_rep.mean()), low, high))
    ks = float(stats.ks_2samp(obs_tat, sim_tat).statistic)
    hours = np.arange(scenario.warmup_minutes, horizon, 60.0)
    sim_backlog = np.array([_backlog(sim_arrived[sim_rep_all == r], sim_reported[sim_rep_all == r], hours)
                            for r in range(replications)])
    return Backtest(checks, ks, train.num_rows, held.num_rows, cut, days, replications, obs_tat, sim_tat, sim_rep,
                    _backlog(all_acquired, all_reported, hours), sim_backlog)
