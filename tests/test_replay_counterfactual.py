"""The replay against the truth (issue 32): a centre simulated without any of radsim's code
(`tests/independent_centre.py`) writes a log under FIFO, with each study's archive and AI times; the same
studies under AI priority are the true counterfactual. The replay under AI priority must come within 5% of
it, and its effect interval hold the true effect."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from simulator.oplog import LOG_COLUMNS, read_log
from simulator.oplog.replay import replay
from tests.independent_centre import Study, log_rows, run, studies

GROUPS = ("all", "stat", "AI-flagged")


def _means(done: list[Study], end: float) -> dict[str, float]:
    """Mean turnaround by group, work open at `end` counted to it (as the replay counts it)."""
    tat = np.array([min(s.signed, end) - s.acquired if s.signed == s.signed else end - s.acquired for s in done])
    stat = np.array([s.referral == "stat" for s in done])
    flagged = np.array([s.ai and s.flag for s in done])
    return {"all": tat.mean(), "stat": tat[stat].mean(), "AI-flagged": tat[flagged].mean()}


def test_the_replay_comes_within_five_percent_of_a_centre_radsim_did_not_simulate(tmp_path: Path) -> None:
    """Four logs (seeds not looked at before the bars were set; measured on three others: levels within
    1.0%, 9 of 9 effects held): each group's level under AI priority within 5% of the truth, the replay as
    run within 5% of what was observed, and the true effect inside the replay's interval in at least 10 of
    the 12. Found on the way: the replay gave the log's AI to every type, so it flagged radiographs the log
    never scored (the AI-flagged group 19% off); and a log's flags without scores were ignored, the
    scenario's AI flagging studies at random (3-5% off)."""
    schema = pa.schema(list(LOG_COLUMNS.items()))
    held, said = 0, []
    for seed in range(10, 14):
        plan = studies(seed, per_day=200.0)
        observed, truth = run(plan, "fifo"), run(plan, "ai_priority")
        end = max(s.acquired for s in plan) + 1.0
        path = tmp_path / f"log{seed}.parquet"
        pq.write_table(pa.Table.from_pylist(log_rows(observed, end), schema=schema), path)
        groups = {g.group: g for g in replay(read_log(path).table, "ai_priority", tmp_path, replications=3,
                                             workers=2)}
        was, would = _means(observed, end), _means(truth, end)
        for group in GROUPS:
            g = groups[group]
            assert abs(g.policy / would[group] - 1) < 0.05, (seed, group, g.policy, would[group])
            assert abs(g.as_run / was[group] - 1) < 0.05, (seed, group, g.as_run, was[group])
            inside = g.effect_low <= would[group] - was[group] <= g.effect_high
            held += inside
            said.append((seed, group, round(would[group] - was[group], 2), round(g.effect_low, 2),
                         round(g.effect_high, 2)))
    assert held >= 10, said


def test_a_log_of_readers_who_rest_replays_as_it_ran_with_or_without_openings(tmp_path: Path) -> None:
    """Readers who rest half a minute on average after each signing, the log's times in whole minutes, with
    and without openings: the replay as run comes within 2% of what was observed (measured -0.5% each way).
    Before, the replay gave each study its opened-to-signed time, which holds no rest (-12%), and without
    openings it drew them and counted every reader on duty until the last signing (-19%); each study now
    holds its reader for the time the log shows it did (`read_by_spacing`)."""
    import pyarrow.compute as pc

    plan = studies(31, days=28, per_day=200.0)
    observed = run(plan, "fifo", pause_minutes=0.5)
    rows = log_rows(observed, max(s.acquired for s in plan) + 1.0)
    table = pa.Table.from_pylist(rows, schema=pa.schema(list(LOG_COLUMNS.items())))
    for name in ("acquired_at", "received_at", "ai_at", "read_start", "reported_at"):  # a RIS printing minutes
        table = table.set_column(table.column_names.index(name), name,
                                 pc.floor_temporal(table.column(name), unit="minute"))
    blind = table.set_column(table.column_names.index("read_start"), "read_start",
                             pa.nulls(table.num_rows, table.schema.field("read_start").type))
    for label, log in (("with openings", table), ("without", blind)):
        path = tmp_path / f"{label}.parquet"
        pq.write_table(log, path)
        (everyone, *_) = replay(read_log(path).table, "fifo", tmp_path, replications=2, workers=2)
        assert abs(everyone.as_run / everyone.observed - 1) < 0.02, (label, everyone)
