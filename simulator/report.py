"""`radsim report`: one self-contained HTML file of a run, made of the dashboard's figure functions."""
from __future__ import annotations

import html
import json
from pathlib import Path

import pyarrow.parquet as pq

from .errors import ScenarioError
from .experiment import Run
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
              pq.read_table(run_dir / "readers.parquet"), summary.get("wall_seconds", 0.0), summary["metrics"])
    run.overloaded = [Overload(**o) for o in summary.get("overloaded", [])]
    return run


def _story_html(run_dir: Path, run: Run) -> str:
    """The high-risk story first, as `radsim run` told it (with its FIFO comparison), and any overload."""
    from .overload import describe
    from .story import tell

    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    lines = (summary.get("story") or {}).get("lines") or tell(run).lines()
    warnings = "".join(f"<p style='color:#b00020'><b>Overloaded:</b> {html.escape(describe(o))}</p>"
                       for o in run.overloaded)
    return warnings + "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """report.html for a run directory (`radsim run`), a comparison (`radsim compare --out`) or a sweep
    (`radsim sweep`)."""
    run_dir = Path(run_dir)
    if (run_dir / "sweep.json").is_file():
        title, body = _sweep_page(run_dir)
    elif (run_dir / "comparison.json").is_file():
        title, body = _comparison_page(run_dir)
    else:
        title, body = _run_page(run_dir)
    document = (f"<!doctype html><html><head><meta charset='utf-8'>{GENERATOR}<title>{html.escape(title)}</title>"
                "<style>body{font-family:sans-serif;margin:2em}td{padding:2px 12px}</style></head><body>"
                f"<h1>{html.escape(title)}</h1>{body}</body></html>")
    if out is None:
        return add_file(run_dir, "report.html", document.encode("utf-8"))
    return write_text(Path(out), document, is_report)


GENERATOR = "<meta name='generator' content='radsim'>"


def is_report(path: Path) -> bool:
    """Whether a file is a report radsim wrote (so writing another over it loses nothing of the user's)."""
    with open(path, "rb") as stream:
        head = stream.read(4096).decode("utf-8", "replace")
    return GENERATOR in head or (head.startswith("<!doctype html>") and "<title>radsim " in head)


def _figures_html(figures: list) -> str:
    return "".join(f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figures))


def _run_page(run_dir: Path) -> tuple[str, str]:
    from dashboard.figures import tat_ecdf, utilisation_bars, wait_heatmap, worklist_over_week
    from dashboard.kpis import kpis

    run = read_run(run_dir)
    figures = [tat_ecdf(run.studies, "priority"), tat_ecdf(run.studies, "diseased"),
               worklist_over_week(run.studies, run.scenario), wait_heatmap(run.studies, run.scenario),
               utilisation_bars(run.duties, run.scenario)]
    cards = kpis(run)
    rows = "".join(f"<tr><td>{html.escape(k)} within target</td><td>{v:.1%}</td></tr>"
                   for k, v in cards.within_target.items())
    for label, value, unit in (("p95 TAT, AI-positive", cards.p95_tat_ai_positive, " min"),
                               ("p95 TAT, diseased", cards.p95_tat_diseased, " min"),
                               ("mean wait at night (20-08)", cards.night_mean_wait, " min"),
                               ("backlog at shift change", cards.backlog_at_shift_change, ""),
                               ("overtime hours", cards.overtime_hours, "")):
        rows += f"<tr><td>{label}</td><td>{'-' if value is None else f'{value:.1f}{unit}'}</td></tr>"
    if cards.utilisation is not None:
        rows += f"<tr><td>reader utilisation</td><td>{cards.utilisation:.1%}</td></tr>"
    head = (f"<p>policy {html.escape(run.scenario.policy.triage)}, {run.replications} replications, seed "
            f"{run.seed}, {run.scenario.horizon_days:g} days</p>{_story_html(run_dir, run)}<table>{rows}</table>")
    return f"radsim report: {run.scenario.name}", head + _figures_html(figures)


def _comparison_page(run_dir: Path) -> tuple[str, str]:
    from dashboard.figures import comparison_chart
    from .comparison import COMPARED, Difference

    data = json.loads((run_dir / "comparison.json").read_text(encoding="utf-8"))
    differences = [Difference(**d) for d in data["differences"]]
    figures = [comparison_chart(differences, metric, data["a"], data["b"]) for metric in COMPARED]
    head = (f"<p>B = {html.escape(data['b'])} against A = {html.escape(data['a'])}, {data['replications']} paired "
            "replications (common random numbers); green: B better, red: B worse (the CI excludes 0)</p>")
    return f"radsim comparison: {data['scenario']}", head + _figures_html(figures)


def _sweep_page(run_dir: Path) -> tuple[str, str]:
    from dashboard.figures import sweep_chart

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
    return f"radsim sweep: {spec['scenario'].get('name', '')}", head + _figures_html(figures)
