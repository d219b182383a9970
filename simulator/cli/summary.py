"""The summary `radsim run` prints: the high-risk story in plain words first, overload warnings, then
turnaround by kind of work, order priority, finding and AI flag, and the readers' pools."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table

from simulator.experiment import Run, summaries_of
from simulator.story import Story, minutes_text, shown_value
from simulator.summaries import Summaries

from .common import out, plain, styled

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["print_summary", "cell"]


def cell(row: dict | None, kind: str = "minutes", spread: bool = True) -> str | Text:
    """A value with its 95% CI half-width (dim) where there is one; CIs were clipped to the possible range."""
    if row is None or row.get("mean") is None:
        return "-"
    mean, low, high = row["mean"], row.get("ci_low"), row.get("ci_high")
    half = None if low is None or not spread else (high - low) / 2
    if kind == "share":
        return f"{mean:.1%}" if half is None else styled(f"{mean:.1%}[dim]±{half * 100:.1f}[/]")
    if kind == "count":
        return f"{mean:,.0f}" if half is None else styled(f"{mean:,.0f}[dim]±{half:,.0f}[/]")
    value, unit = minutes_text(mean).split()
    if half is None:
        return f"{value} {unit}"
    scale = {"min": 1.0, "h": 60.0, "d": 1440.0}[unit]
    return styled(f"{value}[dim]±{half / scale:.{0 if half / scale >= 10 else 1}f}[/] {unit}")


def _targets_of(summaries: Summaries, where: dict) -> str:
    values = list(summaries.targets(where))
    if not values:
        return "-"
    return minutes_text(float(values[0])) if len(values) == 1 else "mixed"


def print_summary(run: Run, story: Story) -> None:
    scenario = run.scenario
    observed = scenario.horizon_days - scenario.warmup_days
    out.print(styled(f"[bold]{plain(scenario.name)}[/]: policy {plain(scenario.policy.triage)}"
                     f"{' (pre-emptive)' if scenario.policy.preemptive else ''}, {observed:g} days observed after "
                     f"{scenario.warmup_days:g} of warm-up, {run.replications} replication(s), seed {run.seed}"))
    for line in story.lines():
        out.print(f"  {line}", highlight=False)
    for warning in story.warnings:
        out.print(styled(f"  [bold red]overloaded:[/] {plain(warning)}"))
    get = run.summary.get

    single = run.replications < 2
    caption = ("one replication: no confidence intervals (use -r 2 or more)" if single else
               f"turnaround; mean ±95% CI half-width over {run.replications} replications") + \
        "; unfinished work counts at its censored turnaround; mean waits and more in summary.json"
    table = Table(title="turnaround", caption=caption, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("work", "items", "median", "95% within", "in target", "target"):
        table.add_column(header, justify="left" if header == "work" else "right", no_wrap=True)
    summaries = summaries_of(run)
    present = {split: run.summary.subgroups(split) for split in ("kind", "referral", "diseased", "condition",
                                                                 "ai_positive")}
    sections: list[tuple[str, list[dict[str, Any]]]] = [("", [{}])]
    titles = {"kind": "kind of work", "referral": "order priority", "diseased": "finding", "condition": "condition",
              "ai_positive": "AI flag"}
    for split, values in present.items():
        if len(values) > 1 or split == "kind":
            order = {"stat": 0, "urgent": 1, "routine": 2, True: 0, False: 1, "none": 10}
            sections.append((titles[split], [{split: v} for v in sorted(values, key=lambda v: order.get(v, 9))]))
    for title, groups in sections:
        if title:
            table.add_row(styled(f"[bold]{plain(title)}[/]"))
        for where in groups:
            name = "all work" if not where else "  " + shown_value(*next(iter(where.items())))
            count = get("count", where)
            table.add_row(name, "-" if count is None else f"{count['mean']:,.0f}",
                          cell(get("p50_tat_minutes", where), spread=False), cell(get("p95_tat_minutes", where)),
                          cell(get("sla_met_fraction", where), "share"), _targets_of(summaries, where))
    out.print(table)
    pools = Table(title="readers", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("pool", "utilisation", "overtime h"):
        pools.add_column(header, justify="left" if header == "pool" else "right", no_wrap=True)
    for pool in scenario.pools:
        pools.add_row(pool, cell(get("utilization", {"pool": pool}), "share"),
                      cell(get("overtime_hours", {"pool": pool}), "count"))
    pools.add_row("all", cell(get("utilization", {}), "share"), cell(get("overtime_hours", {}), "count"))
    out.print(pools)
    _print_network(run)
    backlog, not_ready = get("backlog_at_horizon", {}), get("not_ready_at_horizon", {})
    if backlog is not None and backlog["mean"]:
        out.print(f"work left at the horizon: {cell(backlog, 'count')} item(s), of which "
                  f"{cell(not_ready, 'count')} not yet on the worklist", highlight=False)


def _print_network(run: Run) -> None:
    """The upstream stations, busiest first, and the bottleneck of the whole chain."""
    from simulator.network.figures import stations_summary

    network = stations_summary(run.stations, run.summary)
    if network is None:
        return
    table = Table(title="stations upstream of the worklist", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, caption="means over replications; a link serves everyone at once (no wait)")
    for header in ("station", "studies", "wait", "in service", "utilisation"):
        table.add_column(header, justify="left" if header == "station" else "right", no_wrap=True)

    def minutes(value: float | None) -> str:
        return "-" if value is None else minutes_text(value) if value >= 1 else f"{value * 60:.0f} s"

    for row in sorted(network["stations"], key=lambda r: -(r["utilization"] or 0.0)):
        table.add_row(row["station"], f"{row['studies']:,.0f}", minutes(row["mean_wait_minutes"]),
                      minutes(row["mean_service_minutes"]),
                      "-" if row["utilization"] is None else f"{row['utilization']:.1%}")
    out.print(table)
    bottleneck = network["bottleneck"]
    if bottleneck is not None:
        out.print(f"bottleneck: {bottleneck['station']} ({bottleneck['utilization']:.1%} busy)", highlight=False)
