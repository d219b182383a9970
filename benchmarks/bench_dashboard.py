"""The dashboard as an administrator waits for it: the default reference-centre run (28 days x 5 replications,
with FIFO on the same studies) from the click on Run to the high-risk cards on the page, in headless
chromium against a local server; then the same setting again (from the cache). Targets: <= 5 s and <= 1 s
on 2 cores.

Without chromium, the same work is timed without a browser (the run, the cards and the figures).

    python benchmarks/bench_dashboard.py
"""
from __future__ import annotations

import json
import shutil
import time

from dashboard.server import CHROMIUM_ARGS, running


def in_a_browser(chromium: str) -> dict:
    from playwright.sync_api import sync_playwright

    with running() as (url, _):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 2400})
            page.goto(url)
            page.get_by_role("button", name="Run").wait_for(timeout=60_000)
            cards, pages = [], []
            for _ in range(2):  # the first run, then the same setting from the cache
                started = time.perf_counter()
                page.get_by_role("button", name="Run").click()
                page.locator("text=off target").or_(page.locator("text=on target")).first.wait_for(timeout=120_000)
                cards.append(time.perf_counter() - started)
                page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
                pages.append(time.perf_counter() - started)
            browser.close()
        return {"click_to_cards_s": round(cards[0], 2), "click_to_whole_page_s": round(pages[0], 2),
                "cached_cards_s": round(cards[1], 2), "cached_whole_page_s": round(pages[1], 2), "browser": True}


def without_a_browser() -> dict:
    from dashboard import runner
    from simulator import load_scenario
    from simulator.figures import high_risk_cards, tat_ecdf, wait_heatmap, worklist_over_week

    scenario = load_scenario("moscow_reference_center")
    started = time.perf_counter()
    result = runner.simulate(scenario, 5)
    high_risk_cards(result.run, result.fifo)
    tat_ecdf(result.run.studies, "diseased"), worklist_over_week(result.run.studies, scenario)
    wait_heatmap(result.run.studies, scenario)
    first = time.perf_counter() - started
    started = time.perf_counter()
    runner.simulate(scenario, 5)
    return {"click_to_cards_s": round(first, 2), "cached_cards_s": round(time.perf_counter() - started, 3),
            "browser": False}


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    result = in_a_browser(chromium) if chromium else without_a_browser()
    print(json.dumps({"benchmark": "dashboard-reference-centre-28d-5r-with-fifo", **result,
                      "targets_s": {"click_to_cards": 5, "cached": 1}}))


if __name__ == "__main__":
    main()
