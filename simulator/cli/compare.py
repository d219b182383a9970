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

def _variant(scenario: str, variant: str, sets: list[str], allow_large: bool) -> tuple[str, "Scenario"]:
    """A compared variant: a policy name or `module:Class`, or a scenario fragment file laid over the scenario."""
    if variant.endswith((".yaml", ".yml")):
        return Path(variant).stem, prepared(scenario, sets, fragments=(variant,), allow_large=allow_large,
                                            expectations=False)
    return variant, prepared(scenario, sets, variant, allow_large=allow_large, expectations=False)


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
    as_json: Annotated[bool, typer.Option("--json", help="Print comparison.json's document instead of the tables "
                                          "(for scripts).")] = False,
    allow_large: AllowLarge = False,
    allow_code: AllowCode = None,
    replace: Replace = False,
) -> None:
    """B against A on the same random numbers: paired differences B - A with 95% CIs, per subgroup."""
    import json

    from simulator.comparison import COMPARISON, summary_counts
    from simulator.comparison import compare as compared
    from simulator.files import claim_directory

    if len(policy) != 2:
        fail("give exactly two variants: --policy A --policy B", BAD_INPUT)
    (name_a, a), (name_b, b) = (_variant(scenario, p, set_ or [], allow_large) for p in policy)
    if out_dir is not None:
        with bad_input():
            claim_directory(out_dir, COMPARISON, replace)
    with Progress("comparing") as progress:
        result = compared(a, b, (name_a, name_b), replications, workers, seed, progress.fraction)
    if as_json:
        out.print_json(json.dumps(result.document(), default=str))
    else:
        _print(result, all_rows)
    if out_dir is not None:
        with bad_input():
            result.write(out_dir, replace)
    if not as_json:
        from simulator.comparison import BETTER_, NO_CLEAR_CHANGE, WORSE

        counts = summary_counts(result.differences)
        out.print(styled(f"B is [green]better[/] in {counts[BETTER_]}, [red]worse[/] in {counts[WORSE]}, "
                         f"{counts[NO_CLEAR_CHANGE]} with no clear change, of {len(result.differences)} metric x "
                         "subgroup pairs" + ("" if all_rows else " (--all shows every row)")))


def _print(result, all_rows: bool) -> None:
    """The two tables, made to fit 80 columns: what is compared on its own lines, each change above its CI."""
    from rich import box
    from rich.table import Table

    from simulator.comparison import BETTER_, WORSE
    from simulator.groups import GROUPS
    from simulator.metrics import key_of
    from simulator.story import shown_value

    table = Table(title=f"{result.scenario}: B = {result.b} against A = {result.a}, {result.replications} paired "
                        "replications", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  caption="B - A with its 95% CI below; better or worse only where the CI excludes 0 and the change "
                          "passes its threshold (1 min or 1% for times, 0.5 points for shares, 1 item or 1% for "
                          "counts)")
    table.add_column("metric, subgroup", overflow="fold", ratio=1)
    for header in ("A", "B", "B - A"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("B is", no_wrap=True)
    colours = {BETTER_: "green", WORSE: "red"}
    for d in result.differences:
        if not all_rows and d.verdict not in (BETTER_, WORSE) and d.where:
            continue
        where = ", ".join(f"{k} {shown_value(k, v)}" for k, v in d.where.items()) or "all"
        ci = "" if d.ci_low is None else f"\n({d.ci_low:+.3g}..{d.ci_high:+.3g})"
        table.add_row(f"{d.metric.removesuffix('_minutes')}\n  {where}", _fmt(d.a), _fmt(d.b), _fmt(d.diff, "+") + ci,
                      styled(f"[{colours.get(d.verdict, 'dim')}]{d.verdict}[/]"))
    out.print(table)
    titles = {(): "all studies", **{key_of(g.where): g.title for g in GROUPS}}
    per_study = Table(title="per study: each study's turnaround under B minus under A (minutes)", title_justify="left",
                      box=box.SIMPLE_HEAD, pad_edge=False,
                      caption="pooled over replications; 95% of the studies changed by between the two bounds; "
                              "faster or slower by a minute or more")
    per_study.add_column("group", overflow="fold", ratio=1)
    for header in ("studies", "mean", "median", "95% of studies", "faster", "slower"):
        per_study.add_column(header, justify="right", no_wrap=True)
    for c in result.per_study:
        if not c.studies:
            continue
        per_study.add_row(titles[key_of(c.where)], f"{c.studies:,}", f"{c.mean:+.1f}", f"{c.median:+.1f}",
                          f"{c.low:+.0f}..{c.high:+.0f}", f"{c.faster:.0%}", f"{c.slower:.0%}")
    out.print(per_study)
