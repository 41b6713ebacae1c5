"""The demo lives on one day (issue 24, item 1): started as a newcomer starts it (the README's
run command, `python -m scripts.run_demo` as ./run.sh runs it, on a fresh data folder with
nothing exported), the app, the worker and the sandbox share the sandbox's day (12 Nov 2025),
the earlier returns are filed, a GSTR-2B is stored and the month to close is October 2025. In
Debian's chromium: the Dashboard's deadline panel, the ITC Summary's periods and the
Reconciliation's periods are those of that day, not of the machine's date, and so are the
times things happened (job health, a run's start). Then the month from
the app (issue 24, items 2 to 5): "Fetch now" on the Dashboard; Reconciliation shows the kind,
business and period chosen (GSTR-2B vs books starts at the latest 2B's period) and runs it; a
bulk action on IMS Invoices says record by record, by its buttons, what it saved; the address
carries words. Screenshots: tests/screenshots/demo_day_*.png."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.fixtures import ROOT, free_port, open_actions_editor, settle, wait_for_session_cookie

pytestmark = pytest.mark.browser
SHOTS = ROOT / "tests" / "screenshots"
EMAIL = "admin@demo.local"


def newcomer_env() -> dict:
    """The environment of someone who exported nothing of ours."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("IMS_", "GSTN_")) and k != "PYTHONPATH"} | {
        "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[tuple[str, str, str]]:
    """The demo on a fresh data folder -> (app URL, the admin's password, the banner)."""
    data = tmp_path_factory.mktemp("demo") / "data"
    port = free_port()
    cmd = [sys.executable, "-m", "scripts.run_demo", "--data-dir", str(data), "--port",
           str(port), "--sandbox-port", str(free_port()), "--scale", "200"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=newcomer_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    banner: list[str] = []
    try:
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            banner.append(line)
            if line.startswith("  Logs:"):
                break
        text = "".join(banner)
        found = re.search(r"with password\s+(\S+)", text)
        assert found, f"the demo did not start:\n{text[-3000:]}"
        yield f"http://127.0.0.1:{port}", found.group(1), text
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)


def log_in(page, url: str, password: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Email").fill(EMAIL)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Logged in as").wait_for(timeout=60000)
    wait_for_session_cookie(page)       # the next address opened keeps the login


def open_page(page, url: str, path: str, wait_for: str) -> str:
    page.goto(f"{url}/{path}")
    page.get_by_text(wait_for).first.wait_for(timeout=120000)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    return page.locator('[data-testid="stMain"]').inner_text()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"demo_day_{name}.png"), full_page=True)


def test_the_demo_tells_the_month_of_its_one_day(demo, chromium):
    url, password, banner = demo
    assert "The demo's day: 12 Nov 2025" in banner
    assert "OTP 575757" in banner and "westagro.mh" in banner     # the sandbox's logins
    context = chromium.new_context(viewport={"width": 1440, "height": 2000})
    page = context.new_page()
    try:
        log_in(page, url, password)
        dashboard = open_page(page, url, "", "Deadlines")
        shoot(page, "dashboard")
        deadlines = dashboard.split("Deadlines", 1)[1].split("Records by action", 1)[0]
        # the demo's day, 12 Nov 2025: October's 2B in 2 days, its GSTR-3B in 8, September filed
        assert deadlines.count("14 Nov 2025 (in 2 days)") == 3, deadlines
        assert deadlines.count("20 Nov 2025 (in 8 days)") == 3, deadlines
        assert deadlines.count("GSTR-3B of Oct 2025 due") == 3, deadlines
        assert deadlines.count("Last GSTR-3B filed") == 3 and "Not filed" not in deadlines
        assert deadlines.count("Sep 2025") == 3 and "18 Oct 2025" in deadlines, deadlines
        assert "Waiting" not in deadlines, deadlines
        assert "in 38 days" in deadlines      # the first credit note deemed accepted 20 Dec 2025
        assert "needs regeneration:" not in dashboard
        # the times things happened are on the demo's day too (issue 24, item 8): the first
        # fetch and sync ran on 12 Nov 2025, at the machine's time of day
        health = dashboard.split("Job health", 1)[1]
        assert "12 Nov 2025, " in health and "2026" not in health, health[:1500]

        # the month from the app: fetch IMS, GSTR-2A and GSTR-2B now, the outcome by the button
        page.get_by_role("button", name="Fetch now").click()
        panel = page.locator(".st-key-fetch_now")
        panel.get_by_text("Fetched for").wait_for(timeout=120000)
        settle(page)
        said = panel.inner_text()
        panel.screenshot(path=str(SHOTS / "demo_day_fetch_now.png"))
        assert "IMS fetched:" in said and "GSTR-2A fetched:" in said, said
        assert "GSTR-2B of Sep 2025 fetched" in said and "14 Oct 2025" in said, said

        itc = open_page(page, url, "itc_summary", "Tax period")
        shoot(page, "itc_summary")
        assert "Sep 2025" in itc and "generated on 14 Oct 2025" in itc, itc[:1500]
        page.get_by_role("combobox").nth(1).click()   # the tax periods offered
        page.wait_for_timeout(800)
        offered = page.locator('[data-testid="stSelectboxVirtualDropdown"]').inner_text()
        page.keyboard.press("Escape")
        assert "Oct 2025" in offered and "Sep 2025" in offered, offered
        assert "2026" not in offered, offered

        reco = open_page(page, url, "reconciliation", "Kind")
        shoot(page, "reconciliation")
        # periods, dates and the times things happened (a run's start) are the demo's day
        shown = reco.split("Drill down", 1)[0]
        assert "2026" not in shown, shown[:2000]
        assert re.search(r"12 Nov 2025, \d\d:\d\d IST", shown), shown[:2000]
        page.get_by_role("tab", name="Trend by period").click()    # its chart drawn when opened
        page.locator(".st-key-trend").get_by_text("Oct 2025").first.wait_for(timeout=60000)
        settle(page)
        shown = page.locator('[data-testid="stMain"]').inner_text().split("Drill down", 1)[0]
        assert "2026" not in shown and "Oct 2025" in shown, shown[:2000]

        # the run shown is the kind, business and period chosen; GSTR-2B vs books: the 2B's
        page.get_by_text("GSTR-2B vs Purchase Register").first.click()
        settle(page)
        periods = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Periods")
        assert "Sep 2025" in periods.inner_text(), periods.inner_text()
        heading = page.locator('[data-testid="stHeading"]').filter(
            has_text="GSTR-2B vs Purchase Register · ")
        assert heading.count() == 1 and "· Sep 2025" in heading.inner_text()
        page.get_by_role("button", name="Run now").click()
        page.get_by_text("Drill down").wait_for(timeout=120000)
        settle(page)
        shoot(page, "reconciliation_2b")
        run = page.locator('[data-testid="stSelectbox"]').filter(has_text="Run").last
        shown = (run.text_content() or "") + " ".join(
            run.locator("input").evaluate_all("els => els.map(e => e.value + ' ' + "
                                              "(e.getAttribute('aria-label') || ''))"))
        assert re.search(r"Run \d+ · GSTR-2B vs Purchase Register · Sep 2025 · ", shown), shown

        # a bulk action's outcome by its buttons, record by record, in words
        open_page(page, url, "ims_invoices", "Edit actions of")
        assert "bucket=no-action" in page.url, page.url
        open_actions_editor(page)
        page.get_by_role("button", name=re.compile(r"^Apply to all .* filtered$")).click()
        page.get_by_role("button", name=re.compile(r"^Yes, apply to")).click()
        outcome = page.locator('[data-testid="stAlert"]').filter(has_text="Apply recommendation")
        outcome.wait_for(timeout=120000)
        settle(page)
        outcome.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "demo_day_bulk_outcome.png"))
        said = outcome.inner_text()
        assert "record(s) saved" in said and re.search(r"Saved: .+, invoice \S+, accepted", said)
        assert not re.search(r"\brecord \d+\b", said) and "ispendactblocked" not in said
        buttons = page.get_by_role("button", name="Save changes").bounding_box()
        box = outcome.bounding_box()
        assert 0 < box["y"] - buttons["y"] < 400, (buttons, box)   # just under the buttons
    finally:
        context.close()
