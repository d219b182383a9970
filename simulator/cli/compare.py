"""`radsim compare`: B against A on the same random numbers, with verdicts that mean something."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .common import (
    BAD_INPUT,
    AllowCode,
    AllowLarge,
    Progress,
    Replace,
    ScenarioArg,
    Seed,
    Sets,
    Workers,
    bad_input,
    fail,
    grant_named,
    out,
    plain,
    prepared,
    styled,
)

if TYPE_CHECKING:
    from simulator.scenario import Scenario

COMPARISON = "comparison"  # the kind of output folder


def _variant(scenario: str, variant: str, sets: list[str], allow_large: bool) -> tuple[str, "Scenario"]:
    """A compared variant: a policy name or `module:Class`, or a scenario fragment file laid over the scenario."""
    if variant.endswith((".yaml", ".yml")):
        return Path(variant).stem, prepared(scenario, sets, fragments=(variant,), allow_large=allow_large)
    return variant, prepared(scenario, sets, variant, allow_large=allow_large)


def _fmt(value: float | None, sign: str = "") -> str:
    return "-" if value is None else f"{value:{sign}.3g}"


def compare(
    scenario: ScenarioArg,
    policy: Annotated[list[str], typer.Option("--policy", metavar="POLICY", callback=grant_named, help="Two variants, A then B: a policy name, "
                                              "'package.module:Class', or a scenario fragment file (.yaml).")],
    replications: Annotated[int, typer.Option("--replications", "-r", metavar="R", min=2, max=10_000,
                                              help="Paired replications (each A and B on the same studies).")] = 10,
    seed: Seed = None,
    set_: Sets = None,
    workers: Workers = None,
    all_rows: Annotated[bool, typer.Option("--all", help="Show every subgroup, not only where B differs.")] = False,
    out_dir: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="Also write DIR/comparison.json (for `radsim "
                                                    "report DIR`).")] = None,
    allow_large: AllowLarge = False,
    allow_code: AllowCode = None,
    replace: Replace = False,
) -> None:
    """B against A on the same random numbers: paired differences B - A with 95% CIs, per subgroup."""
    import dataclasses
    import json

    from rich import box
    from rich.table import Table

    from simulator.comparison import (
        BETTER_,
        NO_CLEAR_CHANGE,
        WORSE,
        columns_of,
        compare_runs,
        paired_runs,
        study_changes,
        summary_counts,
    )
    from simulator.files import claim_directory, write_directory
    from simulator.metrics import key_of
    from simulator.story import GROUPS, shown_value

    if len(policy) != 2:
        fail("give exactly two variants: --policy A --policy B", BAD_INPUT)
    (name_a, a), (name_b, b) = (_variant(scenario, p, set_ or [], allow_large) for p in policy)
    if out_dir is not None:
        with bad_input():
            claim_directory(out_dir, COMPARISON, replace)
    with Progress("comparing") as progress:
        run_a, run_b = paired_runs(a, b, replications, workers, seed, progress.fraction)
    columns = columns_of(a, run_a, run_b)
    differences = compare_runs(a, run_a, run_b, columns=columns)
    titles = {(): "all studies", **{key_of(g.where): g.title for g in GROUPS}}
    changes = study_changes(a, run_a, run_b, [{}] + [g.where for g in GROUPS], columns)
    table = Table(title=f"{a.name}: B = {name_b} against A = {name_a}, {replications} paired replications",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  caption="B - A with 95% CI; better or worse only where the CI excludes 0 and the change passes "
                          "its threshold (1 min or 1% for times, 0.5 points for shares, 1 item or 1% for counts)")
    for header in ("metric", "subgroup", "A", "B", "B - A", "95% CI", "B is"):
        table.add_column(header, no_wrap=True)
    colours = {BETTER_: "green", WORSE: "red"}
    for d in differences:
        if not all_rows and d.verdict not in (BETTER_, WORSE) and d.where:
            continue
        where = ", ".join(f"{k} {shown_value(k, v)}" for k, v in d.where.items()) or "all"
        table.add_row(d.metric.removesuffix("_minutes"), where, _fmt(d.a), _fmt(d.b), _fmt(d.diff, "+"),
                      "-" if d.ci_low is None else f"{d.ci_low:+.3g}..{d.ci_high:+.3g}",
                      styled(f"[{colours.get(d.verdict, 'dim')}]{d.verdict}[/]"))
    out.print(table)
    per_study = Table(title="per study: each study's turnaround under B minus under A (minutes)", title_justify="left",
                      box=box.SIMPLE_HEAD, pad_edge=False,
                      caption="pooled over replications; 95% of the studies changed by between the two bounds; "
                              "faster or slower by a minute or more")
    for header in ("group", "studies", "mean", "median", "95% of studies", "faster", "slower"):
        per_study.add_column(header, no_wrap=header == "group")
    for c in changes:
        if not c.studies:
            continue
        per_study.add_row(titles[key_of(c.where)], f"{c.studies:,}", f"{c.mean:+.1f}",
                          f"{c.median:+.1f}", f"{c.low:+.0f}..{c.high:+.0f}", f"{c.faster:.0%}", f"{c.slower:.0%}")
    out.print(per_study)
    if out_dir is not None:
        document = json.dumps({"scenario": a.name, "a": name_a, "b": name_b, "replications": replications,
                               "differences": [dataclasses.asdict(d) for d in differences],
                               "per_study": [dataclasses.asdict(c) for c in changes]}, indent=1, default=str)

        def fill(folder: Path) -> None:
            (folder / "comparison.json").write_text(document)

        with bad_input():
            write_directory(out_dir, COMPARISON, fill, replace)
    counts = summary_counts(differences)
    out.print(styled(f"B is [green]better[/] in {counts[BETTER_]}, [red]worse[/] in {counts[WORSE]}, "
                     f"{counts[NO_CLEAR_CHANGE]} with no clear change, of {len(differences)} metric x subgroup pairs"
                     + ("" if all_rows else " (--all shows every row)")))
