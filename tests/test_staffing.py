"""The staffing optimiser: targets, the analytic start, a case whose answer Erlang C knows, and the
reference centre (slow): the roster meets its targets and removing any one reader breaks one."""
from __future__ import annotations

import math

import pytest
from typer.testing import CliRunner

from simulator import ScenarioError, load_scenario, run_scenario
from simulator.cli import app
from simulator.staffing import analytic_start, optimise, parse_target, slots
from simulator.theory import mmc_mean_wait

from .conftest import base_dict, make


def desk(rate_per_hour: float = 30.0):
    data = base_dict()
    data.update(horizon_days=20, warmup_days=2, policy={"triage": "fifo"})
    data["study_types"]["chest_ct"].update(arrivals={"rate_per_hour": rate_per_hour}, ai=None)
    return make(data)


def test_targets_parse_and_bad_ones_are_named() -> None:
    target = parse_target("p95_tat_minutes[ai_positive=true, referral=routine] <= 60")
    assert target.metric == "p95_tat_minutes" and target.where == (("ai_positive", True), ("referral", "routine"))
    assert target.met(40.0, 59.9) and not target.met(40.0, 60.1)
    assert parse_target("sla_met_fraction >= 0.95").met(0.951, 0.99)
    for bad in ("p95 <= 3", "mean_wait_minutes < 3", "mean_wait_minutes[diseased] <= 3"):
        with pytest.raises(ScenarioError):
            parse_target(bad)


@pytest.mark.parametrize("impossible, said", [
    ("p95_tat_minutes <= -5", "p95_tat_minutes is 0 or more"),
    ("sla_met_fraction >= 2", "sla_met_fraction is 0 to 1"),
    ("utilization[pool=readers] >= 1.5", "utilization is 0 to 1"),
    ("p95_tat_minutes[ai_positive=true,ai_positive=false] <= 60", "'ai_positive' is given twice"),
])
def test_a_target_no_roster_can_meet_is_refused_before_any_search(impossible: str, said: str) -> None:
    with pytest.raises(ScenarioError, match=said):
        parse_target(impossible)
    assert parse_target("sla_met_fraction >= 1").value == 1.0  # the edge is possible
    assert parse_target("p95_tat_minutes <= 0").value == 0.0


def test_the_analytic_start_is_square_root_staffing_of_the_offered_load() -> None:
    scenario = desk(30.0)  # a = 5 erlangs, round the clock
    assert analytic_start(scenario) == [math.ceil(5 + math.sqrt(5))]
    assert slots(scenario)[0].hours_per_week == 24 * 7


def test_the_answer_is_erlang_cs_on_a_single_round_the_clock_desk() -> None:
    """M/M/c, 30 studies an hour, 10-minute reads: the smallest c with an Erlang C mean wait <= 3 minutes."""
    scenario = desk(30.0)
    expected = next(c for c in range(6, 20) if mmc_mean_wait(c, 0.5, 0.1) <= 3.0)
    # The target sits far from the waits of expected and expected - 1 (1.6 and 5.9 minutes), so 95%
    # confidence from 5 replications separates them.
    assert mmc_mean_wait(expected, 0.5, 0.1) < 2.0 < 3.0 < 5.0 < mmc_mean_wait(expected - 1, 0.5, 0.1)
    result = optimise(scenario, [parse_target("mean_wait_minutes <= 3")], replications=5, workers=2)
    assert result.feasible and result.staff == [expected]
    assert result.binding["mean_wait_minutes <= 3"] == ["readers/00:00-24:00"]


def test_the_cli_writes_the_roster_and_refuses_bad_targets(tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["staff", "examples/mmc_ai_triage", "--target", "mean_wait <= 3"])
    assert result.exit_code == 2 and "mean_wait" in result.output
    result = runner.invoke(app, ["staff", "examples/mmc_ai_triage", "--target", "mean_wait_minutes <= 10", "-r", "3",
                                 "--set", "horizon_days=15", "--workers", "2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    roster = load_scenario(tmp_path / "roster.yaml")
    assert roster.pools["readers"].shifts[0].staff == 3  # 2 readers wait ~17.8 min (Erlang C), 3 wait ~2
    assert (tmp_path / "staffing.json").is_file()


@pytest.mark.slow
def test_the_reference_centre_roster_meets_its_targets_and_every_reader_counts() -> None:
    scenario = load_scenario("moscow_reference_center", ["horizon_days=14"])
    targets = [parse_target("p95_tat_minutes[ai_positive=true] <= 60"),
               parse_target("sla_met_fraction[referral=routine] >= 0.95"),
               parse_target("p95_tat_minutes[kind=consultation] <= 180")]
    result = optimise(scenario, targets, replications=3, workers=2)
    assert result.feasible and result.evaluation.met(targets)
    # Independently of the optimiser's own bookkeeping: one reader less on any staffed shift breaks a target.
    base = result.scenario
    for slot, n in zip(result.slots, result.staff):
        if n == 0:
            continue
        shifts = [s.model_copy(update={"staff": s.staff - 1}) if i == slot.index else s
                  for i, s in enumerate(base.pools[slot.pool].shifts)]
        pools = {**base.pools, slot.pool: base.pools[slot.pool].model_copy(update={"shifts": shifts})}
        run = run_scenario(base.model_copy(update={"pools": pools}), 3, workers=2)
        index = {(r["metric"], tuple(sorted(r["where"].items()))): r for r in run.summary}
        broken = [t for t in targets if not t.met(*(lambda r: (r["ci_low"], r["ci_high"]) if r else (None, None))(
            index.get((t.metric, tuple(sorted(t.where))))))]
        assert broken, f"{slot.pool}/{slot.label} could lose a reader"


def test_a_roster_that_is_one_of_several_of_the_same_cost_says_so() -> None:
    """Day and night alike (0.7 erlangs each): one reader on each misses the mean wait, one more on either
    meets it, so day 2 / night 1 and day 1 / night 2 are both the smallest roster, and the answer names the
    other one."""
    data = base_dict()
    data.update(horizon_days=20, warmup_days=2, policy={"triage": "fifo"})
    data["study_types"]["chest_ct"].update(arrivals={"rate_per_hour": 4.2}, ai=None)
    data["pools"]["readers"]["shifts"] = [{"start": "08:00", "end": "20:00", "staff": 2},
                                          {"start": "20:00", "end": "08:00+1", "staff": 2}]
    result = optimise(make(data), [parse_target("mean_wait_minutes <= 17")], replications=5, workers=2)
    assert result.feasible and sum(result.staff) == 3, result.staff
    other = [2, 1] if result.staff == [1, 2] else [1, 2]
    assert result.alternatives == [other] and result.alternatives_checked
    assert result.alternative_moves() == ["; ".join(f"readers/{s.label} {n}" for s, n in zip(result.slots, other))]
    assert result.document(5)["same_cost_rosters"][0] == [
        {"pool": "readers", "shift": s.label, "staff": n} for s, n in zip(result.slots, other)]


def test_the_staff_answer_fits_80_columns_with_every_target_whole_and_prints_its_document_for_scripts(
        tmp_path) -> None:
    import json
    import os
    import subprocess
    import sys

    args = ["staff", "examples/mmc_ai_triage", "--target", "mean_wait_minutes[ai_positive=true] <= 10", "-r", "3",
            "--set", "horizon_days=15", "--workers", "2"]
    shown = subprocess.run([sys.executable, "-m", "simulator", *args, "--out", str(tmp_path / "a")],
                           capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"}, timeout=300)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "…" not in shown.stdout and max(map(len, lines)) <= 80
    written = json.loads((tmp_path / "a" / "staffing.json").read_text())
    for row in written["targets"]:  # each target on a line of its own, never cut
        assert any(line.strip().startswith(row["target"]) for line in lines), row["target"]
    printed = CliRunner().invoke(app, [*args, "--json", "--out", str(tmp_path / "b")])
    assert printed.exit_code == 0, printed.output
    document = json.loads(printed.output)
    assert document["roster"] == written["roster"] and document["targets"] == written["targets"]
    assert (tmp_path / "b" / "roster.yaml").is_file()


@pytest.mark.parametrize("phase", ["finding what binds", "looking for rosters as cheap"])
def test_a_stop_after_the_search_keeps_the_roster_it_found(phase: str) -> None:
    """Ctrl-C while finding what binds or looking for rosters of the same cost: the roster found (minimal,
    at full size) is kept as the answer, marked interrupted, with what binds left unknown."""
    data = base_dict()
    data.update(horizon_days=20, warmup_days=2, policy={"triage": "fifo"})
    data["study_types"]["chest_ct"].update(arrivals={"rate_per_hour": 4.2}, ai=None)
    data["pools"]["readers"]["shifts"] = [{"start": "08:00", "end": "20:00", "staff": 2},
                                          {"start": "20:00", "end": "08:00+1", "staff": 2}]
    targets = [parse_target("mean_wait_minutes <= 17")]
    whole = optimise(make(data), targets, replications=5, workers=2)

    def stop_at(text: str) -> None:
        if text.startswith(phase):
            raise KeyboardInterrupt

    cut = optimise(make(data), targets, replications=5, workers=2, progress=stop_at)
    assert cut.interrupted and cut.proven_minimal and cut.feasible and cut.staff == whole.staff
    assert not any(cut.binding.values()) and not cut.alternatives_checked
    assert cut.document(5)["interrupted"] and not whole.interrupted


def test_a_validation_scenario_s_theory_neither_refuses_a_roster_searched_nor_leaves_the_one_written() -> None:
    """Rosters searched leave the file's expectations out: one reader is overloaded, so the M/M/c priority
    theory of `mmc_three_classes` does not exist for it, and the search started there had ended "no work in
    this scenario matches it" (every roster refused by the file's own checks). The roster written keeps them,
    so `validate` checks it as it checks the file."""
    scenario = load_scenario("validation/mmc_three_classes", ["horizon_days=20", "warmup_days=2"])
    result = optimise(scenario, [parse_target("reported_fraction_before_last_day >= 0.9")], replications=2,
                      workers=1, start=[1])
    assert result.feasible and result.staff[0] >= 3  # the offered load is 2.4 readers
    assert len(result.scenario.expect) == len(scenario.expect) == 3


def test_a_first_roster_the_scenario_refuses_is_said_so_not_taken_for_a_target_no_work_matches(monkeypatch) -> None:
    from simulator import staffing

    refusal = ScenarioError("desk", [("pools.readers", "a refusal of the scenario's own")])

    def refused(self, staff, expectations=False):
        raise refusal

    monkeypatch.setattr(staffing._Evaluator, "variant", refused)
    with pytest.raises(ScenarioError, match="first roster tried") as caught:
        optimise(desk(), [parse_target("mean_wait_minutes <= 3")], replications=2, workers=1)
    assert caught.value.problems == refusal.problems
