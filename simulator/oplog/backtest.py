"""Back-testing a fitted scenario against held-out weeks of its own log (`radsim backtest`).

The log is cut at `holdout_days` before its last exam: the scenario is fitted on the earlier part, then
simulated over the held-out weeks (after three days of warm-up), with the readers the log shows on duty
in those days, date by date (`roster="holdout"`), or the weekly roster fitted before them
(`roster="fitted"`), and compared with what happened: mean,
median and 90th percentile of turnaround (reported - exam end; work still open at the log's end counted at
its censored time, as in the model's metrics) for all primary reads and each order priority. A check is
"within" when the observed value lies inside the 99% prediction interval of a new replication
(mean ± t sd sqrt(1 + 1/R) over the replications), "outside" otherwise; the Kolmogorov-Smirnov distance
of the observed and simulated turnaround distributions is given beside.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Check", "Backtest", "backtest"]

WARMUP_DAYS = 3.0
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

    @property
    def passed(self) -> bool:
        """Every check within; a back-test with nothing to check does not pass (it cannot tell)."""
        return bool(self.checks) and all(c.within for c in self.checks)


def _tat(acquired: np.ndarray, reported: np.ndarray, end: float) -> np.ndarray:
    return np.where(np.isnan(reported), end - acquired, reported - acquired)


def backtest(log: pa.Table, holdout_days: float, replications: int = 10, roster: str = "holdout",
             workers: int | None = None, seed: int = 0) -> Backtest:
    import yaml
    from scipy import stats

    from ..experiment import run_scenario
    from ..prepare import parse_scenario
    from .fitting import fit, fit_log

    acquired = log.column("acquired_at")
    last = pc.max(acquired).as_py()
    cut = dt.datetime.combine((last - dt.timedelta(days=holdout_days)).date(), dt.time()) + dt.timedelta(days=1)
    before = pc.less(acquired, pa.scalar(cut, acquired.type))
    train, held = log.filter(before), log.filter(pc.invert(before))
    if train.num_rows == 0 or held.num_rows == 0:
        raise ValueError(f"a {holdout_days:g}-day hold-out leaves nothing to fit on or nothing to test")
    fitted = yaml.safe_load(fit_log(train, "backtest"))
    days = (last - cut).total_seconds() / 86400.0
    start = cut - dt.timedelta(days=WARMUP_DAYS)
    if roster == "holdout":  # the readers the log shows on duty, date by date, warm-up days included
        fitted["pools"] = fit(log.filter(pc.greater_equal(acquired, pa.scalar(start, acquired.type)))).dated_pools()
    fitted.update(start=start.strftime("%Y-%m-%dT%H:%M"), horizon_days=round(WARMUP_DAYS + days, 4),
                  warmup_days=WARMUP_DAYS, seed=seed)
    scenario = parse_scenario(fitted, "backtest")
    run = run_scenario(scenario, replications, workers=workers, summarise=False)
    studies = run.studies
    keep = pc.and_(pc.equal(studies.column("kind"), "primary"), pc.invert(studies.column("in_warmup")))
    simulated = studies.filter(keep)
    horizon = scenario.horizon_minutes
    sim_tat = _tat(simulated.column("arrived_at").to_numpy(), pc.fill_null(simulated.column("reported_at"), math.nan)
                   .to_numpy(zero_copy_only=False), horizon)
    sim_rep = simulated.column("replication").to_numpy()
    sim_referral = np.asarray(simulated.column("referral").cast(pa.string()).to_pylist(), dtype=object)
    primary = held.filter(pc.equal(held.column("kind"), "primary"))
    origin = np.datetime64(start, "us")

    def minutes(name: str) -> np.ndarray:
        column = primary.column(name)
        values = (column.to_numpy(zero_copy_only=False).astype("datetime64[us]") - origin) / np.timedelta64(1, "m")
        return np.where(column.is_null().to_numpy(zero_copy_only=False), np.nan, values.astype(float))

    obs_tat = _tat(minutes("acquired_at"), minutes("reported_at"), horizon)
    obs_referral = np.asarray(pc.fill_null(primary.column("referral"), "routine").to_pylist(), dtype=object)
    checks = []
    t = stats.t.ppf(0.995, max(replications - 1, 1))
    for group in ("all", "stat", "urgent", "routine"):
        observed = obs_tat if group == "all" else obs_tat[obs_referral == group]
        mine = np.ones(sim_tat.shape[0], dtype=bool) if group == "all" else sim_referral == group
        if observed.size < 30 or mine.sum() < 30 * replications:
            continue  # too few to say anything
        for name, statistic in STATISTICS.items():
            values = np.array([statistic(sim_tat[mine & (sim_rep == r)]) for r in np.unique(sim_rep)])
            spread = t * values.std(ddof=1) * math.sqrt(1.0 + 1.0 / values.size)
            checks.append(Check(group, name, float(statistic(observed)), float(values.mean()),
                                float(values.mean() - spread), float(values.mean() + spread)))
    ks = float(stats.ks_2samp(obs_tat, sim_tat).statistic)
    return Backtest(checks, ks, train.num_rows, held.num_rows, cut, days, replications)
