"""The dashboard in a real browser: Debian's chromium, headless, driven by Playwright, on a free local port.

Run by `.ci/run`, which installs chromium when it is missing; where no chromium is found the test is
skipped with that reason. Screenshots of each state go to the test's output folder (pytest's tmp_path).

It does what an administrator does: run the default; run again; A -> B -> A; two people at once; upload a
scenario of their own and check that what ran is what they uploaded; cut night readers in the roster and
see every high-risk card move the right way; see an overload as a banner; stop a long run.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from dashboard.server import CHROMIUM_ARGS, running

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (.ci/run installs Debian's)")


@pytest.fixture(scope="module")
def server():
    with running() as found:
        yield found


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1440, "height": 3000}).new_page()
    page.goto(url)
    run_button(page).wait_for(timeout=60_000)
    return page


def run_button(page):
    """The Run button (the last one: while a page reruns, Streamlit briefly keeps the old one beside it)."""
    return page.locator('[data-testid="stMain"]').get_by_role("button", name="Run", exact=True).last


def settle(page, timeout: float = 180_000) -> None:
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout)


def run(page) -> None:
    run_button(page).click()
    settle(page)
    page.get_by_text("Results:").first.wait_for(timeout=180_000)
    page.wait_for_selector('[data-testid="stMain"] [data-testid="stPlotlyChart"] .main-svg', timeout=180_000)
    settle(page)


MINUTES = {"min": 1.0, "h": 60.0, "d": 1440.0}


def cards(page) -> dict[str, float]:
    """Each high-risk card's 95th percentile of turnaround, in minutes."""
    text = page.inner_text('[data-testid="stMain"]')
    out = {}
    for title in ("Studies with a finding", "AI-flagged studies", "STAT orders", "All work"):
        block = text[text.index(title):]
        value, unit = re.search(r"95% within\s+([\d.]+) (min|h|d)", block).groups()
        out[title] = float(value) * MINUTES[unit]
    return out


def test_run_again_and_a_b_a(server, browser, tmp_path: Path) -> None:
    url, _ = server
    page = open_page(browser, url)
    run(page)
    first = cards(page)
    text = page.inner_text("body")
    assert "Against FIFO on the same studies" in text and "within target" in text
    page.screenshot(path=str(tmp_path / "default.png"), full_page=True)
    run(page)  # the same setting again: no crash, the same figures at once
    assert cards(page) == first and "Traceback" not in page.inner_text("body")
    policy = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1)
    for name, same in (("fifo", False), ("ai_priority", True)):  # B, then A again
        policy.click()
        page.get_by_role("option", name=name, exact=True).click()
        page.wait_for_timeout(500)
        settle(page)
        run(page)
        assert (cards(page) == first) == same
    assert "Exception" not in page.inner_text("body")


def test_two_people_at_once(server, browser) -> None:
    url, _ = server
    pages = [open_page(browser, url) for _ in range(2)]
    for page in pages:  # both press Run before either has results
        run_button(page).click()
    for page in pages:
        settle(page)
        page.get_by_text("Results:").first.wait_for(timeout=180_000)
        settle(page)
    assert cards(pages[0]) == cards(pages[1])


def upload(page, path: Path) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    settle(page)


def test_an_upload_runs_as_written_and_downloads_as_it_ran(server, browser, tmp_path: Path) -> None:
    url, _ = server
    mine = yaml.safe_load((Path(__file__).resolve().parents[1] / "scenarios" / "examples" /
                           "mmc_ai_triage.yaml").read_text())
    mine.update(name="mine", horizon_days=14, warmup_days=2)
    mine["policy"] = {"triage": "fifo", "preemptive": True}
    mine["ai_services"]["chest_ct_ai"].update(sensitivity=0.5, specificity=0.9)
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(mine))
    page = open_page(browser, url)
    assert "8MB per file" in page.inner_text("body")  # the box says the limit radsim reads, not Streamlit's 200MB
    upload(page, path)
    assert "Changed from the file" not in page.inner_text("body")
    run(page)
    page.screenshot(path=str(tmp_path / "upload.png"), full_page=True)
    with page.expect_download() as waiting:
        page.get_by_role("button", name="scenario (YAML)").click()
    ran = yaml.safe_load(Path(waiting.value.path()).read_text())
    assert ran["name"] == "mine" and ran["horizon_days"] == 14 and ran["warmup_days"] == 2
    assert ran["policy"]["triage"] == "fifo" and ran["policy"]["preemptive"] is True
    assert ran["ai_services"]["chest_ct_ai"]["sensitivity"] == 0.5
    assert ran["pools"] == mine["pools"] | {"readers": {**mine["pools"]["readers"], "shifts": [
        {**mine["pools"]["readers"]["shifts"][0], "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}],
        "absence_rate": 0.0}}


def test_cutting_night_readers_moves_every_high_risk_card_the_right_way(server, browser, tmp_path: Path) -> None:
    url, _ = server
    page = open_page(browser, url)
    run(page)
    before = cards(page)
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    for row, staff in ((1, "0"), (3, "1")):  # general night: nobody; CT/MR night: one reader instead of two
        for day in range(7):
            page.mouse.click(box["x"] + 40, box["y"] + 36 + 18)  # the first row's pool cell
            for _ in range(row):
                page.keyboard.press("ArrowDown")
            for _ in range(3 + day):  # past pool, shift and times to the weekday
                page.keyboard.press("ArrowRight")
            page.keyboard.type(staff)
            page.keyboard.press("Enter")
            page.wait_for_timeout(150)
    settle(page)
    text = page.inner_text("body")
    assert "Changed in the roster" in text and re.search(r"general night sun: 1 (->|→) 0", text), text[:3000]
    assert re.search(r"ct_mr night mon: 2 (->|→) 1", text)
    run(page)
    after = cards(page)
    page.screenshot(path=str(tmp_path / "fewer-nights.png"), full_page=True)
    assert all(after[title] >= before[title] - 0.5 for title in before), (before, after)
    assert after["Studies with a finding"] > before["Studies with a finding"]
    assert after["All work"] > before["All work"]


def test_an_overload_is_a_banner_and_stop_stops_the_workers(server, browser, tmp_path: Path) -> None:
    url, process = server
    overloaded = yaml.safe_load((Path(__file__).resolve().parents[1] / "scenarios" / "moscow_reference_center.yaml")
                                .read_text())
    overloaded.update(name="no-experts", horizon_days=14)
    for shift in overloaded["pools"]["experts"]["shifts"]:
        shift["staff"] = 0
    path = tmp_path / "no-experts.yaml"
    path.write_text(yaml.safe_dump(overloaded))
    page = open_page(browser, url)
    upload(page, path)
    run(page)
    text = page.inner_text("body")
    assert "Overloaded: pool experts: its backlog grows to the horizon" in text
    assert re.search(r"To keep up with its offered load: day 0 (->|→) about \d+", text)  # Streamlit draws -> as →
    page.screenshot(path=str(tmp_path / "overload.png"), full_page=True)
    days = page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"] input').first
    days.fill("365")
    days.press("Enter")
    settle(page)
    run_button(page).click()
    page.get_by_text("simulating:").first.wait_for(timeout=60_000)
    workers = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    assert workers, "a run in progress has workers"
    page.locator('[data-testid="stMain"]').get_by_role("button", name="Stop").click()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True,
                                                         text=True).stdout.split():
        time.sleep(0.3)
    assert not subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    settle(page)
    text = page.inner_text("body")  # the last finished run stays, marked as of the settings it ran with
    assert "Results of an earlier setting: no-experts" in text and "Not run yet with the settings on the page" in text


def test_a_network_scenario_shows_where_the_time_goes_and_its_bottleneck(server, browser, tmp_path: Path) -> None:
    url, _ = server
    district = yaml.safe_load((Path(__file__).resolve().parents[1] / "scenarios" / "examples" /
                               "district_network_devices.yaml").read_text())
    district.update(horizon_days=7, warmup_days=1)
    path = tmp_path / "district.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in district.items() if not k.startswith("x-")}))
    page = open_page(browser, url)
    upload(page, path)
    run(page)
    page.get_by_role("radio", name="Where the time goes").or_(page.get_by_text("Where the time goes", exact=True)).first.click()
    settle(page)
    page.get_by_text("Bottleneck:").wait_for(timeout=60_000)
    text = page.inner_text('[data-testid="stMain"]')
    assert re.search(r"Bottleneck: pool:centre \(\d+% busy\)", text), text[text.find("Bottleneck"):][:200]
    page.wait_for_selector('[data-testid="stMain"] [data-testid="stDataFrame"]', timeout=60_000)  # the stations
    page.wait_for_selector('[data-testid="stMain"] [data-testid="stPlotlyChart"] .main-svg', timeout=60_000)
    page.screenshot(path=str(tmp_path / "network.png"), full_page=True)
    # What if the south hospital had three CTs and the chest-CT AI one GPU worker? Run it as changed.
    page.get_by_text("Stations: GPU workers and devices").click()
    for label, value in (("hospital_south: CT devices", "3"), ("ct_ai: GPU workers", "1")):
        field = page.get_by_label(label)
        field.fill(value)
        field.press("Enter")
        settle(page)
    run(page)
    with page.expect_download() as waiting:
        page.get_by_role("button", name="scenario (YAML)").click()
    ran = yaml.safe_load(Path(waiting.value.path()).read_text())
    assert ran["sites"]["hospital_south"]["devices"]["CT"]["count"] == 3
    assert ran["ai_services"]["ct_ai"]["workers"] == 1 and ran["ai_services"]["cxr_ai"]["workers"] == 1


def test_a_scenario_with_conditions_shows_a_card_per_condition(server, browser, tmp_path: Path) -> None:
    """The stroke example uploaded: a card for each condition after the three groups, the one no AI looks
    for named, and its change against FIFO on the same studies."""
    url, _ = server
    stroke = yaml.safe_load((Path(__file__).resolve().parents[1] / "scenarios" / "examples" /
                             "stroke_two_ais.yaml").read_text())
    stroke.update(horizon_days=30, warmup_days=2)
    path = tmp_path / "stroke.yaml"
    path.write_text(yaml.safe_dump(stroke))
    page = open_page(browser, url)
    upload(page, path)
    run(page)
    text = page.inner_text('[data-testid="stMain"]')
    page.screenshot(path=str(tmp_path / "stroke.png"), full_page=True)
    for title in ("Studies with ich", "Studies with sah (no AI looks for it)", "Studies with lvo"):
        assert title in text, title
    assert text.index("STAT orders") < text.index("Studies with ich") < text.index("All work")
    assert "no AI looks for sah: it waits with the routine work" in text
