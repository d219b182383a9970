"""The figures and tables of docs/validation.md, from fresh runs.

    pip install -e ".[docs]"
    python docs/figures/make_figures.py          # writes docs/figures/*.png, prints the tables

Every number comes from the same functions the tests use: `validate_scenario` for the theory checks and
`run_scenario` with common random numbers for the published effects.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from simulator import Scenario, bundled_scenarios, load_scenario, run_scenario  # noqa: E402
from simulator.expectations import expected_value  # noqa: E402
from simulator.metrics import StudyColumns, confidence_interval, replication_values  # noqa: E402
from simulator.validation import validate_scenario  # noqa: E402

HERE = Path(__file__).resolve().parent
WORKERS = 2


def with_policy(scenario: Scenario, triage: str) -> Scenario:
    return scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"triage": triage})})


def plot_deviations(labels: list[str], expected: list[float], estimate: list[float], half: list[float],
                    tolerance: list[float], value_error: list[float], passed: list[bool]) -> None:
    """Each check as the simulation's relative deviation from theory with its 99% CI; the grey band is the
    check's tolerance (the widest half-width that can tell), the orange one an approximation's own error."""
    expected, estimate, half = np.array(expected), np.array(estimate), np.array(half)
    tolerance, value_error = np.array(tolerance), np.array(value_error)
    y = np.arange(len(labels))[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.19 * len(labels) + 1.2))
    ax.barh(y, 2 * tolerance / expected * 100, left=-tolerance / expected * 100, height=0.7, color="0.9", zorder=0)
    shown = value_error > 0
    ax.barh(y[shown], 2 * value_error[shown] / expected[shown] * 100, left=-value_error[shown] / expected[shown] * 100,
            height=0.35, color="tab:orange", alpha=0.35, zorder=1)
    deviation = (estimate / expected - 1.0) * 100
    ax.errorbar(deviation, y, xerr=half / expected * 100, fmt="none", ecolor="grey", elinewidth=1, zorder=2)
    ax.scatter(deviation, y, c=["tab:green" if p else "tab:red" for p in passed], s=14, zorder=3)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(y, labels, fontsize=6.5)
    ax.set(xlabel="(estimate - theory) / theory, % (99% CI)", ylim=(-1, len(labels)),
           title=f"{sum(passed)} of {len(passed)} mean-wait expectations pass")
    fig.tight_layout()
    fig.savefig(HERE / "theory_vs_simulation.png", dpi=110)


def theory_against_simulation() -> None:
    rows = []
    for name, path in bundled_scenarios().items():
        if not name.startswith("validation/"):
            continue
        scenario = load_scenario(path)
        for check in validate_scenario(scenario, 10, WORKERS, 640):
            if check.metric == "mean_wait_minutes":
                rows.append((scenario.name, check))
    plot_deviations([f"{name} {', '.join(f'{k}={v}' for k, v in c.where.items()) or 'all'}" for name, c in rows],
                    [c.expected for _, c in rows], [c.estimate for _, c in rows], [c.half_width for _, c in rows],
                    [c.tolerance for _, c in rows], [c.value_error for _, c in rows], [c.passed for _, c in rows])
    print("| scenario | subgroup | theory | estimate ± 99% CI | tolerance | R | verdict |")
    print("|---|---|---|---|---|---|---|")
    for name, c in rows:
        where = ", ".join(f"{k}={v}" for k, v in c.where.items()) or "all"
        band = f" (± {c.value_error:.3f} approx.)" if c.value_error else ""
        print(f"| {name} | {where} | {c.expected:.3f}{band} | {c.estimate:.3f} ± {c.half_width:.3f} | "
              f"±{c.tolerance:.3f} | {c.replications} | {c.verdict} |")


def stroke_conditions(replications: int = 20) -> None:
    """Each condition's mean wait in the stroke example under three policies: simulation against theory."""
    from simulator.class_theory import class_waits, condition_wait, priority_classes

    print("\n| policy | condition | theory | simulation ± 99% CI |")
    print("|---|---|---|---|")
    for triage in ("fifo", "ai_priority", "hierarchical"):
        scenario = load_scenario("examples/stroke_two_ais", [f"policy.triage={triage}"])
        classes = priority_classes(scenario)
        waits, _ = class_waits(classes, 1, scenario.policy.preemptive)
        run = run_scenario(scenario, replications, workers=WORKERS, summarise=False)
        cols = StudyColumns(run.studies, scenario)
        for condition in ("lvo", "ich", "sah", "none"):
            values = replication_values(cols, [{"condition": condition}], ("mean_wait_minutes",),
                                        range(replications))[("mean_wait_minutes", (("condition", condition),))]
            ci = confidence_interval(values, 0.99)
            print(f"| {triage} | {condition} | {condition_wait(classes, waits, condition):.2f} | "
                  f"{ci['mean']:.2f} ± {ci['mean'] - ci['ci_low']:.2f} |")


def triage_effects(replications: int = 10) -> None:
    worklist = load_scenario("examples/cxr_day_night")
    groups = [{"diseased": True}, {"diseased": False}]
    results = {}
    for triage in ("fifo", "ai_priority", "aging"):
        scenario = with_policy(worklist, triage)
        run = run_scenario(scenario, replications, workers=WORKERS, summarise=False)
        cols = StudyColumns(run.studies, scenario)
        results[triage] = replication_values(cols, groups, ("mean_tat_minutes", "max_tat_minutes"), range(replications))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
    panels = [("mean_tat_minutes", True, "mean TAT, diseased"), ("mean_tat_minutes", False, "mean TAT, healthy"),
              ("max_tat_minutes", True, "max TAT, diseased")]
    print("\n| policy | mean TAT diseased | mean TAT healthy | max TAT diseased |")
    print("|---|---|---|---|")
    table = {t: [] for t in results}
    for ax, (metric, diseased, title) in zip(axes, panels):
        key = (metric, (("diseased", diseased),))
        for x, (triage, values) in enumerate(results.items()):
            ci = confidence_interval(values[key])
            ax.bar(x, ci["mean"], color=["tab:grey", "tab:blue", "tab:orange"][x])
            ax.errorbar(x, ci["mean"], yerr=ci["mean"] - ci["ci_low"], color="black", capsize=4)
            table[triage].append(f"{ci['mean']:.1f} ± {ci['mean'] - ci['ci_low']:.1f}")
        ax.set_xticks(range(3), list(results), fontsize=9)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("minutes")
    for triage, cells in table.items():
        print(f"| {triage} | " + " | ".join(cells) + " |")
    fig.suptitle(f"Chest X-ray worklist, day/night shifts: {replications} paired replications, 95% CI", fontsize=10)
    fig.tight_layout()
    fig.savefig(HERE / "ai_triage_effects.png", dpi=110)


def saving_against_readers(replications: int = 10) -> None:
    readers, theory, simulated, halves = [1, 2, 5], [], [], []
    for c in readers:
        scenario = load_scenario(f"validation/ai_triage_{c}_readers_nonpreemptive")
        diseased = next(e for e in scenario.expect if e.where == {"diseased": True})
        fifo_expect = diseased.model_copy(update={"value": diseased.value.model_copy(update={"of": "fifo"})})
        theory.append(expected_value(scenario, fifo_expect) - expected_value(scenario, diseased))
        per = {}
        for triage in ("fifo", "ai_priority"):
            variant = with_policy(scenario, triage)
            run = run_scenario(variant, replications, workers=WORKERS, summarise=False)
            cols = StudyColumns(run.studies, variant)
            per[triage] = replication_values(cols, [{"diseased": True}], ("mean_wait_minutes",),
                                             range(replications))[("mean_wait_minutes", (("diseased", True),))]
        ci = confidence_interval(per["fifo"] - per["ai_priority"])
        simulated.append(ci["mean"])
        halves.append(ci["mean"] - ci["ci_low"])
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    ax.plot(readers, theory, "o-", color="black", label="theory (Cobham)")
    ax.errorbar(readers, simulated, yerr=halves, fmt="s", color="tab:blue", capsize=4, label="simulation, 95% CI")
    ax.set(xlabel="readers (load 0.8 each)", ylabel="FIFO wait - AI-priority wait, diseased (min)",
           xticks=readers, title="The saving for diseased patients shrinks with readers")
    ax.legend()
    fig.tight_layout()
    fig.savefig(HERE / "saving_vs_readers.png", dpi=110)
    print("\n| readers | theory saving (min) | simulated saving ± 95% CI |")
    print("|---|---|---|")
    for c, t, s, h in zip(readers, theory, simulated, halves):
        print(f"| {c} | {t:.2f} | {s:.2f} ± {h:.2f} |")


if __name__ == "__main__":
    theory_against_simulation()
    stroke_conditions()
    triage_effects()
    saving_against_readers()
