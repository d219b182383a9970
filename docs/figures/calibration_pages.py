"""The figures of docs/calibration.md: the reference centre's log (a run of `moscow_reference_center` over
120 days under AI priority, written as a RIS export), fitted and back-tested on its last 4 weeks with the
HTML pages of
`radsim fit --report` and `radsim backtest --report`, and a picture of each page's figures taken in
headless chromium.

    python docs/figures/calibration_pages.py    # writes docs/figures/calibration_*.png, prints the checks
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

from simulator import load_scenario, run_scenario
from simulator.oplog import log_of_run

HERE = Path(__file__).resolve().parent


def picture(page: Path, out: Path, top: int | None, height: int) -> None:
    """A stretch of an HTML page from `top` (None: its first figure), as PNG (Debian's chromium driven by
    Playwright, nothing downloaded)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1200, "height": 900})
        tab.goto(page.as_uri())
        tab.wait_for_timeout(2500)
        if top is None:
            top = int(tab.locator(".plotly-graph-div").first.bounding_box()["y"])
        tab.screenshot(path=str(out), full_page=True, clip={"x": 0, "y": top, "width": 1200, "height": height})
        browser.close()


def main() -> None:
    scenario = load_scenario("moscow_reference_center", ["horizon_days=120", "warmup_days=0"])
    studies = run_scenario(scenario, 1, workers=1, summarise=False).studies
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "reference_centre.parquet"
        pq.write_table(log_of_run(scenario, studies), log)
        radsim = [sys.executable, "-m", "simulator"]
        subprocess.run([*radsim, "fit", str(log), "--out", str(Path(folder) / "fitted.yaml"),
                        "--observed-policy", "ai_priority", "--report",
                        str(Path(folder) / "fit.html")], check=True)
        checked = subprocess.run([*radsim, "backtest", str(log), "--holdout", "28", "-w", "2",
                                  "--observed-policy", "ai_priority", "--report",
                                  str(Path(folder) / "backtest.html")], env={"COLUMNS": "120", "PATH": ""})
        print("backtest exit code", checked.returncode)
        picture(Path(folder) / "fit.html", HERE / "calibration_fit.png", None, 1100)
        picture(Path(folder) / "backtest.html", HERE / "calibration_backtest.png", 0, 1700)


if __name__ == "__main__":
    main()
