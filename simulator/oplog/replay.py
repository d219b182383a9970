"""History under another policy (`radsim replay`): the log's own studies replayed, with their own arrival
times, order priorities, AI results and reading times, by the readers the log shows on duty hour by hour,
date by date (a capacity replay, as Annarumma et al. replayed the observed daily reporting capacity),
under the policy the log ran under and under another one, on the same studies.

Each group's mean turnaround is reported three ways: what was observed, the replay under the observed
policy (the difference between these two is the model's own error), and the replay under the new policy
(its difference from the replay under the observed policy is the policy's effect, paired replication by
replication).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from ..scenario import Scenario

__all__ = ["GroupReplay", "replay", "replay_scenarios", "trace_of_log"]

LOG_AI = "log_ai"  # the AI whose results the log holds (its operating point is never used: every result is given)
LOG_AI_UNHELD = "log_ai_unheld"  # the same, for types whose reads did not wait for its result


@dataclass(frozen=True)
class GroupReplay:
    group: str
    studies: int
    observed: float  # mean turnaround in the log, minutes
    as_run: float  # the replay under the observed policy (mean over replications)
    policy: float  # the replay under the new policy
    effect_low: float  # 95% CI of policy - as_run, paired by replication
    effect_high: float


def trace_of_log(log: pa.Table, study_type: Callable[[str | None, str | None], str],
                 occupied: np.ndarray | None = None) -> pa.Table:
    """The log's primary reads as a study trace (docs/dicom.md's columns): arrival, modality, study type,
    referral, AI result, and the observed reading time, ingest delay and AI latency; where the log has second
    opinions, whether each study's report went for one and that opinion's reading time (a log without any
    leaves them drawn: its export may not hold them). `occupied` (per row of the log, `LogFit.occupied`):
    the time each study held its reader, pauses before it included, given as its reading time so that the
    replay's readers keep the log's pace (the model's readers do not pause); else signed - opened."""
    is_primary = pc.equal(log.column("kind"), "primary")
    primary = log.filter(is_primary)
    read = _held(occupied, is_primary, _minutes(primary.column("read_start"), primary.column("reported_at")))
    # A double-read study is signed when both reads are done: its first read's own time is not in the log.
    doubled = log.filter(pc.equal(log.column("kind"), "double_read")).column("of_study")
    read = pc.if_else(pc.is_in(primary.column("accession"), doubled.combine_chunks()), pa.scalar(None, pa.float64()),
                      pc.cast(read, pa.float64()))
    types = [study_type(d, m) for d, m in zip(primary.column("description").to_pylist(),
                                              primary.column("modality").to_pylist())]
    acquired, received = primary.column("acquired_at"), primary.column("received_at")
    # Where the log has them, the study's own ingest delay and AI latency (from the archive, or from the
    # exam where the archive's time is missing), so that only what the log lacks is drawn.
    ingest = _minutes(acquired, received)
    latency = _minutes(pc.coalesce(received, acquired), primary.column("ai_at"))
    is_opinion = pc.equal(log.column("kind"), "second_opinion")
    opinions = log.filter(is_opinion)
    if opinions.num_rows:
        read_of = _held(occupied, is_opinion, _minutes(opinions.column("read_start"), opinions.column("reported_at")))
        minutes = dict(zip(opinions.column("of_study").to_pylist(), read_of.to_pylist()))
        accessions = primary.column("accession").to_pylist()
        asked = pa.array([a in minutes for a in accessions], pa.bool_())
        opinion_minutes = pa.array([minutes.get(a) for a in accessions], pa.float64())
    else:
        asked, opinion_minutes = pa.nulls(primary.num_rows, pa.bool_()), pa.nulls(primary.num_rows, pa.float64())
    return pa.table({"arrived": acquired, "modality": primary.column("modality"),
                     "study_type": pa.array(types, pa.string()), "referral": primary.column("referral"),
                     "ai_score": primary.column("ai_score"), "ai_positive": primary.column("ai_flag"),
                     "read_minutes": pc.cast(read, pa.float64()), "ingest_minutes": ingest, "ai_minutes": latency,
                     "second_opinion": asked, "second_opinion_minutes": opinion_minutes})


def _held(occupied: np.ndarray | None, rows: pa.ChunkedArray, fallback: pa.Array) -> pa.Array:
    """The time each of the log's `rows` (a mask) held its reader where `occupied` knows it, else `fallback`."""
    if occupied is None:
        return fallback
    held = pa.array(occupied[rows.to_numpy(zero_copy_only=False)], pa.float64(), from_pandas=True)
    return pc.if_else(pc.is_valid(held), held, fallback)


def _minutes(start: pa.ChunkedArray, end: pa.ChunkedArray) -> pa.Array:
    """end - start in minutes; null where either is unknown or the end comes first (a clock's error)."""
    minutes = pc.divide(pc.cast(pc.cast(pc.subtract(end, start), pa.duration("us")), pa.int64()), 60e6)
    return pc.if_else(pc.less(minutes, 0.0), pa.scalar(None, pa.float64()), minutes)


def replay_scenarios(log: pa.Table, policies: list[str], folder: Path, roster: str = "dated",
                     duties: pa.Table | None = None, draws: int = 0) -> list["Scenario"]:
    """The log's studies as a scenario under each policy: the fitted scenario, arrivals from the log's
    trace (written to `folder`), the log's AI results. `roster`: "dated", the readers on duty date by date
    as the log shows them, or "weekly", the weekly roster fitted to the log (what a scenario would plan);
    `duties`: the roster as the RIS keeps it, where it has one. `draws`: that many draws of the fitted
    values (`uncertainty.drawn`), each under every policy: [draw 0 under each policy, draw 1, ...]
    (0: the fitted values, once per policy)."""
    if roster not in ("dated", "weekly"):
        raise ValueError(f"roster {roster!r}: dated or weekly")
    import yaml

    from ..prepare import parse_scenario
    from .fitting import fit
    from .uncertainty import draw_rng, drawn

    fitted = fit(log, duties)
    data = yaml.safe_load(fitted.yaml("replay"))
    if roster == "dated":
        data["pools"] = fitted.dated_pools()  # the capacity the log shows, date by date
    trace = trace_of_log(log, fitted.type_of, fitted.occupied)
    path = Path(folder) / "replay_trace.parquet"
    pq.write_table(trace, path)
    # The log's AI results stand for an AI on the types whose studies carry one; a type the log never shows
    # scored has no AI (given one, it would score that type's studies at random).
    scored = pc.or_(pc.is_valid(trace.column("ai_score")), pc.is_valid(trace.column("ai_positive")))
    types = set(trace.column("study_type").filter(scored).to_pylist())
    # A type whose reads did not wait for the AI (as `fit` found) gets a service that holds no study: a
    # compute service with workers enough never to queue and no time of its own, the result coming after the
    # log's latency; the others' is held until the result, as the log shows.
    unheld = {t for t in types if t in fitted.types and fitted.types[t].ai is not None
              and fitted.unheld(fitted.types[t].ai)}
    if types:
        data["ai_services"] = {LOG_AI: {"sensitivity": 0.9, "specificity": 0.9}}
        if unheld:
            data["ai_services"][LOG_AI_UNHELD] = {
                "sensitivity": 0.9, "specificity": 0.9, "inference_minutes": {"dist": "fixed", "value": 0.001},
                "workers": sum(fitted.types[t].ai.peak for t in unheld) + 1}  # type: ignore[union-attr]
        for name, study_type in data["study_types"].items():
            if name in types:
                study_type["ai"] = LOG_AI_UNHELD if name in unheld else LOG_AI
            else:
                study_type.pop("ai", None)
    data["horizon_days"] = float(data["horizon_days"]) + 1.0 / 1440.0  # the last exam inside the horizon
    data["arrivals"] = {"trace": str(path), "unmatched": "drop"}
    seed = int(data.get("seed", 0))
    each = [drawn(data, fitted, draw_rng(seed, r)) for r in range(draws)] or [data]
    return [parse_scenario({**one, "policy": {"triage": name}}, f"replay ({name})")
            for one in each for name in policies]


def replay(log: pa.Table, policy: str, folder: Path, observed_policy: str = "fifo", replications: int = 5,
           workers: int | None = None, roster: str = "dated", duties: pa.Table | None = None) -> list[GroupReplay]:
    """Each group's observed, replayed-as-run and replayed-under-`policy` mean turnaround (`replay_scenarios`
    for `roster`). Replication r runs its own draw of the fitted values under both policies, on the same
    random numbers. The effect's interval is `_effect_interval`'s: days of the log resampled, each resample
    with a replication of its own."""
    from ..experiment import run_variants
    from .backtest import turnaround
    from .columns import minutes_since

    variants = replay_scenarios(log, [observed_policy, policy], folder, roster, duties, draws=replications)
    runs = run_variants(variants, 1, workers=workers, summarise=False,
                        offsets=[r for r in range(replications) for _ in range(2)])  # both policies on replication r
    used = ["kind", "arrived_at", "reported_at", "replication", "referral", "ai_positive"]
    by_policy = [pa.concat_tables([run.studies.select(used) for run in runs[p::2]]) for p in (0, 1)]
    horizon = variants[0].horizon_minutes
    primary = log.filter(pc.equal(log.column("kind"), "primary"))
    start = np.datetime64(variants[0].start, "us")
    observed = turnaround(minutes_since(primary.column("acquired_at"), start),
                          minutes_since(primary.column("reported_at"), start), horizon)
    observed_referral = np.asarray(pc.fill_null(primary.column("referral"), "routine").to_pylist(), dtype=object)
    observed_flag = np.asarray(pc.fill_null(primary.column("ai_flag"), False).to_pylist(), dtype=bool)
    # Each policy's primary reads once as arrays; a group is a mask of them.
    runs_of = []
    for studies in by_policy:
        studies = studies.filter(pc.equal(studies.column("kind"), "primary"))
        arrived = studies.column("arrived_at").to_numpy()
        masks = {r: pc.fill_null(pc.equal(studies.column("referral"), r), False).to_numpy(zero_copy_only=False)
                 for r in ("stat", "urgent", "routine")}
        masks["AI-flagged"] = pc.fill_null(studies.column("ai_positive"), False).to_numpy(zero_copy_only=False)
        runs_of.append((turnaround(arrived, pc.fill_null(studies.column("reported_at"), math.nan)
                                   .to_numpy(zero_copy_only=False), horizon), arrived,
                        studies.column("replication").to_numpy(), masks))
    out = []
    for group, in_log in (("all", np.ones(observed.shape[0], dtype=bool)), ("stat", observed_referral == "stat"),
                          ("urgent", observed_referral == "urgent"), ("routine", observed_referral == "routine"),
                          ("AI-flagged", observed_flag)):
        if not in_log.any():
            continue
        means, days = [], []
        for tat, arrived, reps, masks in runs_of:
            mine = masks.get(group, np.ones(tat.size, dtype=bool))
            tat, reps = tat[mine], reps[mine]
            means.append(np.array([tat[reps == r].mean() for r in range(replications)]))
            days.append(_by_day(tat, arrived[mine], reps, replications, horizon))
        low, high = _effect_interval(days[0], days[1], variants[0].seed)
        out.append(GroupReplay(group, int(in_log.sum()), float(observed[in_log].mean()), float(means[0].mean()),
                               float(means[1].mean()), low, high))
    return out


BOOTSTRAP = 2000  # resamples of the log's days behind the effect's interval


def _by_day(tat: np.ndarray, arrived: np.ndarray, reps: np.ndarray, replications: int,
            horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """(sum of turnaround, studies) per replication and day of arrival (replication x day)."""
    days = int(math.ceil(horizon / 1440.0))
    cell = reps * days + np.minimum((arrived // 1440.0).astype(int), days - 1)
    size = replications * days
    return (np.bincount(cell, tat, size).reshape(replications, days),
            np.bincount(cell, minlength=size).reshape(replications, days).astype(float))


def _effect_interval(before: tuple[np.ndarray, np.ndarray], after: tuple[np.ndarray, np.ndarray],
                     seed: int) -> tuple[float, float]:
    """A 95% percentile interval of the policy's effect on the mean turnaround of weeks like the log's: the
    log's days resampled with replacement, each resample read in a replication of its own (so the interval
    holds what varies from day to day, what the replay draws, and the fit's draws), BOOTSTRAP times, seeded
    from the scenario's seed. A confidence interval over replications alone holds only the replay's draws:
    a replay that draws nothing (the log gives every value) would have said the effect to the minute."""
    (sum_a, n_a), (sum_b, n_b) = before, after
    rng = np.random.default_rng([seed, 0xDA75])
    replications, days = sum_a.shape
    rep = rng.integers(0, replications, BOOTSTRAP)[:, None]
    day = rng.integers(0, days, (BOOTSTRAP, days))
    with np.errstate(invalid="ignore", divide="ignore"):
        effect = sum_b[rep, day].sum(1) / n_b[rep, day].sum(1) - sum_a[rep, day].sum(1) / n_a[rep, day].sum(1)
    effect = effect[np.isfinite(effect)]
    if effect.size < BOOTSTRAP / 2:  # a group on a handful of days: no interval to speak of
        return math.nan, math.nan
    low, high = np.percentile(effect, [2.5, 97.5])
    return float(low), float(high)
