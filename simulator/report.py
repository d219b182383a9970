"""`radsim report`: one self-contained HTML file of a run, made of the dashboard's figure functions."""
from __future__ import annotations

import html
import json
from pathlib import Path

import pyarrow.parquet as pq

from .errors import ScenarioError
from .experiment import Run
from .loading import load_scenario
from .output import atomic_file

__all__ = ["write_report"]


def read_run(run_dir: Path) -> Run:
    """A run back from its directory (studies.parquet, readers.parquet, summary.json, scenario.yaml)."""
    run_dir = Path(run_dir)
    needed = ["studies.parquet", "readers.parquet", "summary.json", "scenario.yaml"]
    missing = [name for name in needed if not (run_dir / name).is_file()]
    if missing:
        raise ScenarioError(str(run_dir), [("", f"not a run directory: no {', '.join(missing)} (see `radsim run`)")])
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    scenario = load_scenario(run_dir / "scenario.yaml")
    return Run(scenario, summary["seed"], summary["replications"], pq.read_table(run_dir / "studies.parquet"),
               pq.read_table(run_dir / "readers.parquet"), summary.get("wall_seconds", 0.0), summary["metrics"])


def write_report(run_dir: Path, out: Path | None = None) -> Path:
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
    parts = [figure.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, figure in enumerate(figures)]
    title = html.escape(f"radsim report: {run.scenario.name}")
    document = (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
                "<style>body{font-family:sans-serif;margin:2em}td{padding:2px 12px}</style></head><body>"
                f"<h1>{title}</h1><p>policy {html.escape(run.scenario.policy.triage)}, {run.replications} "
                f"replications, seed {run.seed}, {run.scenario.horizon_days:g} days</p>"
                f"<table>{rows}</table>" + "".join(parts) + "</body></html>")
    target = Path(out) if out is not None else Path(run_dir) / "report.html"
    atomic_file(target, document)
    return target
