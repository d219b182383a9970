"""`radsim report`: one self-contained HTML file of a run, a comparison or a sweep, from `simulator.figures`."""
from __future__ import annotations

import html
import json
from pathlib import Path

import pyarrow.parquet as pq

from .comparison import Difference
from .errors import ScenarioError
from .experiment import Run
from .summaries import Summary
from .prepare import load_scenario
from .files import add_file, write_text

__all__ = ["write_report"]


def read_run(run_dir: Path) -> Run:
    """A run back from its directory (studies.parquet, readers.parquet, summary.json, scenario.yaml)."""
    run_dir = Path(run_dir)
    needed = ["studies.parquet", "readers.parquet", "summary.json", "scenario.yaml"]
    missing = [name for name in needed if not (run_dir / name).is_file()]
    if missing:
        raise ScenarioError(str(run_dir), [("", f"not a run directory: no {', '.join(missing)} (see `radsim run`)")])
    from .overload import Overload

    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    scenario = load_scenario(run_dir / "scenario.yaml")
    run = Run(scenario, summary["seed"], summary["replications"], pq.read_table(run_dir / "studies.parquet"),
              pq.read_table(run_dir / "readers.parquet"), summary.get("wall_seconds", 0.0),
              Summary.from_json(summary["metrics"]))
    run.overloaded = [Overload(**o) for o in summary.get("overloaded", [])]
    return run





def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """report.html for a run directory (`radsim run`), a comparison (`radsim compare --out`) or a sweep
    (`radsim sweep`)."""
    from .extras import require

    require("report", "radsim report")
    run_dir = Path(run_dir)
    if (run_dir / "sweep.json").is_file():
        title, body = _sweep_page(run_dir)
    elif (run_dir / "comparison.json").is_file():
        title, body = _comparison_page(run_dir)
    else:
        title, body = _run_page(run_dir)
    document = page(title, body)
    if out is None:
        return add_file(run_dir, "report.html", document.encode("utf-8"), is_report)
    return write_text(Path(out), document, is_report)


GENERATOR = "<meta name='generator' content='radsim'>"


def page(title: str, body: str) -> str:
    """A whole self-contained HTML page."""
    return (f"<!doctype html><html><head><meta charset='utf-8'>{GENERATOR}<title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 12px;text-align:left}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>{body}</body></html>")


def is_report(path: Path) -> bool:
    """Whether a file is a report radsim wrote (so writing another over it loses nothing of the user's)."""
    with open(path, "rb") as stream:
        head = stream.read(4096).decode("utf-8", "replace")
    return GENERATOR in head or (head.startswith("<!doctype html>") and "<title>radsim " in head)


def figures_html(figures: list) -> str:
    return "".join(f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figures))


def _run_page(run_dir: Path) -> tuple[str, str]:
    run = read_run(run_dir)
    story = json.loads((run_dir / "summary.json").read_text(encoding="utf-8")).get("story") or {}
    changes = {g["group"]: g["against_fifo"]["p95_tat_minutes"] for g in story.get("groups", [])
               if "p95_tat_minutes" in g.get("against_fifo", {})}
    return f"radsim report: {run.scenario.name}", run_html(run, story.get("lines"), fifo_p95=changes)


def run_html(run: Run, story: list[str] | None = None, fifo: Run | None = None,
             fifo_p95: dict[str, dict] | None = None) -> str:
    """The body of a run's report: the story, overload, the high-risk cards, operations and the figures.
    The dashboard exports its results through this too."""
    from .figures import (breakdown_bars, describe_change, operations, stages_bars, tat_ecdf, utilisation_bars,
                          wait_heatmap, worklist_over_week)
    from .overload import describe
    from .story import minutes_text, tell

    told = tell(run, fifo)  # the cards are its chapters: one set of figures for the words and the table
    lines = story or told.lines()
    parts = [f"<p>policy {html.escape(run.scenario.policy.triage)}, {run.replications} replications, seed "
             f"{run.seed}, {run.scenario.horizon_days:g} days</p>"]
    parts += [f"<p style='color:#b00020'><b>Overloaded:</b> {html.escape(describe(o))}</p>" for o in run.overloaded]
    parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>")
    colours = {"green": "#2ca02c", "amber": "#ff7f0e", "red": "#d62728", "grey": "#7f7f7f"}
    rows = ""
    for card in told.chapters:
        within = card.within
        change = card.against_fifo.get("p95_tat_minutes")
        if change is None and card.title in (fifo_p95 or {}):  # as `radsim run` measured it
            kept = fifo_p95[card.title]  # type: ignore[index]
            change = Difference("p95_tat_minutes", card.group.where, kept["fifo"], kept["this"], kept["change"],
                                kept["ci_low"], kept["ci_high"])
        rows += (f"<tr><td style='border-left:6px solid {colours[card.status]}'>{html.escape(card.title)}</td>"
                 f"<td>{card.count:,.0f}</td><td>{minutes_text(card.median)}</td><td>{minutes_text(card.p95)}</td>"
                 f"<td>{'-' if within is None else f'{within:.1%}'}</td><td>{card.target_text}</td>"
                 f"<td>{'-' if change is None else html.escape(describe_change(change))}</td>"
                 f"<td>{html.escape('; '.join(card.why))}</td></tr>")
    parts.append("<table><tr><th>who</th><th>studies</th><th>median</th><th>95% within</th><th>within target</th>"
                 "<th>target</th><th>p95 against FIFO</th><th>why</th></tr>" + rows + "</table>")
    ops = operations(run)
    facts = [("mean wait at night (20-08)", minutes_text(ops.night_mean_wait)),
             ("backlog at shift change", "-" if ops.backlog_at_shift_change is None else
              f"{ops.backlog_at_shift_change:.1f} studies"),
             ("reader utilisation", "-" if ops.utilisation is None else f"{ops.utilisation:.1%}"),
             ("overtime", "-" if ops.overtime_hours is None else f"{ops.overtime_hours:.1f} h"),
             ("reader-hours a week", f"{ops.reader_hours_per_week:,.0f}")]
    if ops.cost_per_week is not None:
        facts.append(("roster cost a week", f"{ops.cost_per_week:,.0f}"))
    parts.append("<table>" + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in facts) + "</table>")
    figures = [tat_ecdf(run.studies, "diseased"), tat_ecdf(run.studies, "priority"),
               worklist_over_week(run.studies, run.scenario), wait_heatmap(run.studies, run.scenario),
               utilisation_bars(run.duties, run.scenario), breakdown_bars(run.studies, "site"),
               breakdown_bars(run.studies, "modality"), stages_bars(run.studies)]
    return "".join(parts) + figures_html([f for f in figures if f is not None])


def _comparison_page(run_dir: Path) -> tuple[str, str]:
    from .figures import comparison_chart
    from .comparison import COMPARED, Difference

    data = json.loads((run_dir / "comparison.json").read_text(encoding="utf-8"))
    differences = [Difference(**d) for d in data["differences"]]
    figures = [comparison_chart(differences, metric, data["a"], data["b"]) for metric in COMPARED]
    head = (f"<p>B = {html.escape(data['b'])} against A = {html.escape(data['a'])}, {data['replications']} paired "
            "replications (common random numbers); green: B better, red: B worse (the CI excludes 0)</p>")
    rows = "".join(
        f"<tr><td>{html.escape(', '.join(f'{k}={v}' for k, v in c['where'].items()) or 'all studies')}</td>"
        f"<td>{c['studies']:,}</td><td>{c['mean']:+.1f}</td><td>{c['median']:+.1f}</td>"
        f"<td>{c['low']:+.0f} .. {c['high']:+.0f}</td><td>{c['faster']:.0%}</td><td>{c['slower']:.0%}</td></tr>"
        for c in data.get("per_study", []) if c["studies"])
    if rows:
        head += ("<h2>Per study: each study's turnaround under B minus under A (minutes)</h2><table><tr><th>group</th>"
                 "<th>studies</th><th>mean</th><th>median</th><th>95% of studies</th><th>faster</th><th>slower</th>"
                 "</tr>" + rows + "</table>")
    return f"radsim comparison: {data['scenario']}", head + figures_html(figures)


def _sweep_page(run_dir: Path) -> tuple[str, str]:
    from .figures import sweep_chart

    if not (run_dir / "summary.parquet").is_file():
        raise ScenarioError(str(run_dir), [("", "the sweep has no summary.parquet yet (run it to the end)")])
    summary = pq.read_table(run_dir / "summary.parquet")
    spec = json.loads((run_dir / "sweep.json").read_text(encoding="utf-8"))
    axes = sorted({k for p in spec["points"] for k in p["overrides"]})
    shown = [("mean_tat_minutes", "", ""), ("p95_tat_minutes", "diseased", "true"), ("sla_met_fraction", "", ""),
             ("utilization", "", "")]
    figures = [sweep_chart(summary, axis, metric, split, value) for axis in axes for metric, split, value in shown]
    head = (f"<p>{len(spec['points'])} grid points x {spec['replications']} replications, seed {spec['seed']}; "
            f"axes: {html.escape(', '.join(axes))}</p>")
    return f"radsim sweep: {spec['scenario'].get('name', '')}", head + figures_html(figures)
