"""`radsim sweep`: a scenario over a grid of settings x replications, locally or on a Dask cluster."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (
    BAD_INPUT,
    INTERNAL,
    AllowCode,
    AllowLarge,
    Progress,
    Replace,
    ScenarioArg,
    Seed,
    Sets,
    Workers,
    bad_input,
    err,
    fail,
    out,
    plain,
    styled,
)


def _client(address: str):  # -> distributed.Client
    """A Dask client, or exit 2 naming the address when it is malformed or nothing answers there."""
    import logging

    from simulator.extras import require

    with bad_input():
        require("cluster", "--cluster")
    try:
        from distributed import Client

        # The client's own reconnection logs (tracebacks included) would bury the one line radsim says;
        # distributed sets its loggers' levels when imported, so this comes after.
        logging.disable(logging.CRITICAL)

        return Client(address, timeout="10s")
    except Exception as exc:  # malformed (ValueError), nobody listening (OSError, TimeoutError), ...
        fail(f"--cluster {address}: cannot reach a Dask scheduler there ({type(exc).__name__}: {exc}); "
             "start one with `dask scheduler` (docs/sweeps.md)", BAD_INPUT)


def sweep(
    scenario: ScenarioArg,
    grid: Annotated[Optional[list[str]], typer.Option("--grid", metavar="KEY=VALUES", help="An axis: key.path=v1,v2,... or key.path=lo:hi "
                                                      "(repeatable; the product of the axes is swept).")] = None,
    grid_file: Annotated[Optional[Path], typer.Option(metavar="FILE", help="A YAML list of points {key.path: value}, for grids that "
                                                      "are not a product of axes.")] = None,
    replications: Annotated[int, typer.Option("--replications", "-r", metavar="R", min=1, max=10_000,
                                              help="Replications of every point (the same studies at every point).")] = 10,
    seed: Seed = None,
    set_: Sets = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="Sweep folder (default out/<scenario name>-sweep/); "
                                                    "run again to resume.")] = None,
    cluster: Annotated[Optional[str], typer.Option(metavar="ADDRESS", help="A Dask scheduler address (tcp://host:port) to run on.")] = None,
    workers: Workers = None,
    run_timeout: Annotated[Optional[float], typer.Option(metavar="SECONDS", min=0.1, help="Seconds one run may take; a run that takes "
                                                         "longer fails alone and the sweep goes on.")] = None,
    allow_large: AllowLarge = False,
    allow_code: AllowCode = None,
    replace: Replace = False,
) -> None:
    """Run a scenario over a grid x replications; resumable; one Parquet table of metrics per point and replication."""
    from simulator.errors import OutputError
    from simulator.loading import resolve_path, scenario_data
    from simulator.prepare import apply_overrides
    from simulator.sweep import SchedulerLost, parse_grid, plan, read_grid_file, run_sweep

    with bad_input():
        path = resolve_path(scenario)
        data = apply_overrides(scenario_data(path), set_ or [], str(path))
        points = parse_grid(grid or []) if grid else []
        if grid_file is not None:
            points += read_grid_file(grid_file)
        if not points:
            fail("give at least one --grid axis or a --grid-file", BAD_INPUT)
        planned = plan(data, str(path), points, allow_large)  # every point checked before anything runs
    name = next(iter(planned.scenarios.values())).name
    target = out_dir or Path("out") / f"{name}-sweep"
    for repeated, same in planned.duplicates:
        err.print(f"note: grid point {plain(str(repeated))} is the same scenario as {plain(str(same))}: "
                  "computed once, reported once", highlight=False)
    client = _client(cluster) if cluster else None
    progress = Progress(f"sweeping {name}", every=5.0)
    try:
        with progress, bad_input():
            result = run_sweep(data, str(path), points, replications, target, seed,
                               None if client is None else client.get_executor(), workers,
                               lambda done, failed, total: progress(done, total, f"{failed} failed" if failed else ""),
                               run_timeout, allow_large, planned, replace)
    except SchedulerLost as exc:
        fail(str(exc), INTERNAL)
    except (KeyboardInterrupt, OutputError) as exc:
        from simulator.stopping import keep

        finished = sum(1 for _ in (target / "runs").glob("*/r*.parquet")) if (target / "runs").is_dir() else 0
        note = f"{finished} finished run(s) are kept in {target}/; the same command resumes from them"
        if isinstance(exc, OutputError):
            exc.kept = note
        keep(note)
        raise
    finally:
        if client is not None:
            client.close(timeout=2)
    points_run = len(planned.points)
    out.print(f"wrote {target}/: results.parquet (every metric of every run) and summary.parquet (means and 95% "
              f"CIs per point): {points_run} point(s) x {replications} replication(s); {result.computed} run(s) "
              f"computed now, {result.reused} found done" +
              (f", {result.unreadable} unreadable run file(s) computed again" if result.unreadable else ""),
              highlight=False)
    if result.failures:
        for failure in result.failures[:10]:
            err.print(styled(f"[bold red]failed:[/] {plain(str(failure['point']))} replication "
                             f"{failure['replication']}: {plain(failure['error'])}"))
        err.print(f"{len(result.failures)} run(s) failed: see {target}/failures.json; run again to retry them")
        raise typer.Exit(INTERNAL)
