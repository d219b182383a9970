"""The dashboard in a real browser: Debian's chromium, headless, driven by Playwright, on a free local port.

Run by `.ci/run`, which installs chromium when it is missing; where no chromium is found the test is
skipped with that reason. The screenshots are kept under the test's output folder (pytest's tmp_path).
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dashboard_url():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true", "--browser.gatherUsageStats",
         "false", "--server.address", "127.0.0.1", "--server.port", str(port), "--client.toolbarMode", "viewer"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the dashboard did not start within a minute")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (.ci/run installs Debian's)")
def test_the_dashboard_runs_the_default_scenario_in_a_browser(dashboard_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, viewport={"width": 1400, "height": 1600},
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        page.goto(dashboard_url)
        page.get_by_role("button", name="Run").click(timeout=60_000)
        page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=120_000)
        page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
        metrics = page.locator('[data-testid="stMetric"]')
        assert metrics.count() >= 8
        text = page.inner_text("body")
        assert "p95 TAT, diseased" in text and "within target" in text
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        # A bad upload: the error is shown and the results of the previous scenario stay.
        bad = tmp_path / "bad.yaml"
        bad.write_text("name: bad\nstart: 2026-02-02T00:00\nhorizon_days: 7\nstudy_types: {}\npools: {}\n")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
        page.wait_for_selector('[data-testid="stAlert"]', timeout=60_000)
        page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)
        text = page.inner_text("body")
        assert "bad.yaml" in text and "study_types" in text
        assert "p95 TAT, diseased" in text
        page.screenshot(path=str(tmp_path / "bad-upload.png"), full_page=True)
        browser.close()
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
