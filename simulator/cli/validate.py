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
    """Run scenarios that carry expectations; per expectation its verdict, the expected value and the estimate
    with its CI."""
    from rich.padding import Padding

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
    # Each expectation on a line of its own and its figures on the next: fits 80 columns with every number whole.
    for resolved in loaded:
        out.print(styled(f"\n[bold]{plain(resolved.name)}[/]: expectations (estimate ± its 99% CI against the "
                         "expected value ± the tolerance; R replications)"))
        for check, expectation in zip(validate_scenario(resolved, replications, workers,
                                                        max(max_replications, replications)), resolved.expect):
            total += 1
            failed += not check.passed
            where = ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in check.where.items())
            source = getattr(expectation.value, "theory", None)
            of = "" if source is None or expectation.value.of is None else f" ({expectation.value.of})"
            colour = "green" if check.passed else "red"
            out.print(styled(f"  [{colour}]{check.verdict}[/]  " + plain(check.metric + (f"[{where}]" if where else "")) +
                             (f"  [dim]theory: {plain(source + of)}[/]" if source else "")))
            out.print(Padding(f"expected {_number(check.expected)} ± {_number(check.tolerance, 3)}, estimate "
                              f"{_number(check.estimate)} ± {_number(check.half_width, 3)}, "
                              f"R = {check.replications}", (0, 0, 0, 6)), highlight=False)
    out.print(styled(f"{total - failed} of {total} expectations pass" + (f", [red]{failed} fail[/]" if failed
                                                                          else "")))
    raise typer.Exit(FAILED if failed else 0)
