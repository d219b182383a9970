"""The modalities: a site's devices of one modality, where patients wait for their exam.

Patients (the studies drawn by the arrival process) queue at their site for a device of their study's
modality: STAT first, then urgent, then routine, each by arrival. An exam takes its drawn duration; the
study is acquired at its end and starts its way to the archive. Devices start exams only while open
(`open`; an exam under way at closing time is finished) and while not out (`outages`: that many devices
of the group are out in the window, again after the exam under way).

Breakdowns (`failures`) strike during exams, at a rate per busy minute (their clock runs while a device
examines, as wear does): the exam stops for the repair and resumes after it. So an exam's time at the
device is its duration plus the repairs that fall in it, drawn up front: C = S + R_1 + ... + R_N with
N ~ Poisson(S / mean busy time between failures) (`repair_sums`). Its mean is E[S] (1 + E[R] / mean
between), the completion time of queueing with active breakdowns (Gaver 1962; Avi-Itzhak & Naor 1963).

Patients still waiting after `overflow.after` go to the named site's devices of the same modality and
stay there (they join its queue then, in their class; the study is then that site's: its uplink, its
readers). Patients never come back, so the sites are passed in sending order (`in_sending_order`) and a
circle of overflows is refused.
"""
from __future__ import annotations

import numpy as np

from ..calendar import span_windows
from ..distributions import mean_of, sample, scv_of
from ..scenario import Devices, Distribution, Exponential, Fixed, Gamma, Scenario
from .queues import Capacity

__all__ = ["devices_of", "capacity", "exam_times", "repair_sums", "in_sending_order"]


def devices_of(scenario: Scenario) -> dict[tuple[str, str], Devices]:
    """Every device group, by (site, modality)."""
    return {(site_name, modality): group for site_name, site in scenario.sites.items()
            for modality, group in site.devices.items()}


def capacity(scenario: Scenario, group: Devices) -> Capacity:
    """Devices able to start an exam, from moment to moment: the count, less those out, while open."""
    out = [(scenario.minutes_at(o.start), scenario.minutes_at(o.start) + o.hours * 60.0, float(o.devices))
           for o in group.outages]
    level = Capacity.of(group.count, out)
    if group.open is None:
        return level
    windows = sorted(w for span in group.open for w in span_windows(scenario, span))
    opening = Capacity.of(0.0, [(a, b, -1.0) for a, b in windows])  # 0, less -1 while open: 1 while open
    return level.times_open(opening)


def exam_times(group: Devices, n: int, rng_exam: np.random.Generator, rng_failures: np.random.Generator) -> np.ndarray:
    """Each exam's time at the device: its duration and the repairs of breakdowns during it."""
    exam = sample(group.exam_minutes, rng_exam, n)
    if group.failures is None or n == 0:
        return exam
    breakdowns = rng_failures.poisson(exam / (group.failures.busy_hours_between * 60.0))
    return exam + repair_sums(group.failures.repair_minutes, breakdowns, rng_failures)


def repair_sums(repair: Distribution, counts: np.ndarray, rng: np.random.Generator, block: int = 1 << 20) -> np.ndarray:
    """The sum of `counts[k]` independent repair times, for each k, without drawing them one by one where
    the family's sums are known (fixed: a product; exponential and gamma: a gamma), so that absurd inputs
    (a breakdown every few seconds of a months-long exam) cannot fill the memory. Lognormal and empirical
    repairs are drawn one by one, a block at a time; an exam with more than 1,000 of them gets the normal
    approximation of their sum (central limit), which is exact to well under a per cent there."""
    counts = np.asarray(counts)
    if isinstance(repair, Fixed):
        return counts * repair.value
    out = np.zeros(counts.shape[0])
    some = counts > 0
    if isinstance(repair, (Exponential, Gamma)):
        shape = 1.0 if isinstance(repair, Exponential) else 1.0 / repair.cv**2
        out[some] = rng.gamma(counts[some] * shape, repair.mean / shape)
        return out
    many = counts > 1000
    if many.any():
        mean, var = mean_of(repair), mean_of(repair) ** 2 * scv_of(repair)
        out[many] = np.maximum(rng.normal(counts[many] * mean, np.sqrt(counts[many] * var)), 0.0)
    few = np.flatnonzero(some & ~many)
    start = 0
    while start < few.shape[0]:  # blocks of about `block` draws
        stop = start + max(1, int(np.searchsorted(np.cumsum(counts[few[start:]]), block)))
        chosen = few[start:stop]
        draws = sample(repair, rng, int(counts[chosen].sum()))
        ends = np.cumsum(counts[chosen])
        total = np.concatenate([[0.0], np.cumsum(draws)])
        out[chosen] = total[ends] - total[ends - counts[chosen]]
        start = stop
    return out


def in_sending_order(groups: dict[tuple[str, str], Devices]) -> list[tuple[str, str]]:
    """Device groups, each after every group that sends it patients (the overflow graph has no circle)."""
    senders = {key: [k for k, g in groups.items() if g.overflow is not None and (g.overflow.to, k[1]) == key]
               for key in groups}
    done: list[tuple[str, str]] = []
    while len(done) < len(groups):
        done += [key for key in groups if key not in done and all(k in done for k in senders[key])]
    return done
