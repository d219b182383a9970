"""`radsim validate`: scenarios with expectations, checked against theory or known volumes."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from .common import BAD_INPUT, FAILED, AllowCode, Workers, fail, out, plain, prepared, styled


def _number(value: float, digits: int = 4) -> str:
    """`digits` significant digits, or a whole number with thousands separators for large counts."""
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.{digits}g}"


def validate(
    scenarios: Annotated[Optional[list[str]], typer.Argument(metavar="[SCENARIO]...", help="Scenarios with expect: blocks (default: every "
                                                              "bundled one under scenarios/validation/).")] = None,
    replications: Annotated[int, typer.Option("--replications", "-r", metavar="R", min=2, help="Replications to start with; "
                                              "doubled until each CI is tight enough or --max-replications.")] = 10,
    max_replications: Annotated[int, typer.Option(metavar="R", min=2, help="The most replications a scenario gets.")] = 640,
    workers: Workers = None,
    allow_code: AllowCode = None,
) -> None:
    """Run scenarios that carry expectations; one row per expectation with estimate, CI and verdict."""
    from rich import box
    from rich.table import Table

    from simulator.loading import bundled_scenarios
    from simulator.validation import validate_scenario

    paths = scenarios or [str(p) for name, p in bundled_scenarios().items() if name.startswith("validation/")]
    loaded = []
    for path in paths:  # every file is checked before anything runs
        resolved = prepared(path)
        if not resolved.expect:
            fail(f"{path}: has no expect: block to validate", BAD_INPUT)
        loaded.append(resolved)
    failed = total = 0
    for resolved in loaded:
        table = Table(title=f"{resolved.name}: expectations", title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False)
        for header in ("expectation", "expected", "estimate ±99% CI", "tol", "R", "verdict"):
            table.add_column(header, no_wrap=True, justify="left" if header == "expectation" else "right",
                             min_width=24 if header == "expectation" else None)
        for check, expectation in zip(validate_scenario(resolved, replications, workers,
                                                        max(max_replications, replications)), resolved.expect):
            total += 1
            failed += not check.passed
            where = ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in check.where.items())
            source = getattr(expectation.value, "theory", None)
            what = plain(check.metric) + (f"\n  [dim]{plain(where)}[/]" if where else "") + \
                (f"\n  [dim]theory: {plain(source)}{'' if expectation.value.of is None else plain(f'({expectation.value.of})')}[/]"
                 if source else "")
            colour = "green" if check.passed else "red"
            table.add_row(styled(what), _number(check.expected),
                          styled(f"{_number(check.estimate)}[dim]±{_number(check.half_width, 3)}[/]"),
                          f"±{_number(check.tolerance, 3)}", str(check.replications),
                          styled(f"[{colour}]{check.verdict}[/]"))
        out.print(table)
    out.print(styled(f"{total - failed} of {total} expectations pass" + (f", [red]{failed} fail[/]" if failed
                                                                          else "")))
    raise typer.Exit(FAILED if failed else 0)
