"""The real app in Debian's chromium: `streamlit run app/main.py` on a free port against a
prepared DuckDB file; every page opened and photographed, an action changed and saved, a
purchase file uploaded and imported, the CSV downloaded and read back.

Screenshots go to tests/screenshots/ (git-ignored). Run with `pytest -m browser`
(the README's test command installs chromium when missing).
"""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from core.db import connect
from tests.conftest import free_port
from tests.demo_store import seed_demo

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SAMPLE_PR = ROOT.parent / "shared" / "samples" / "purchase_register_sample.csv"
PAGES = {"": "Dashboard", "ims_invoices": "IMS Invoices", "reconciliation": "Reconciliation",
         "purchase_register": "Purchase Register", "settings": "Settings"}
LAST_ON_PAGE = {"": "Job health", "ims_invoices": "Download CSV", "reconciliation": "Drill down",
                "purchase_register": "Batches", "settings": "Test connection"}

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                "(./test.sh installs it: apt-get install chromium)", allow_module_level=True)


def query(sql: str, params: list | None = None) -> list[tuple]:
    with connect() as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """A prepared store and `streamlit run` on a free port; stopped after the module."""
    db = str(tmp_path_factory.mktemp("browser") / "ims.duckdb")
    before = os.environ.get("IMS_DB_PATH")
    os.environ["IMS_DB_PATH"] = db   # this module's queries read the same file
    seed_demo()
    from core.business import save_business
    save_business("27AAACW1234K1ZD", "Sample Co (purchase sample)", "test")
    port = free_port()
    env = {**os.environ, "IMS_DB_PATH": db}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port",
                             str(port), "--server.headless", "true", "--server.address", "127.0.0.1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"streamlit did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    if before is None:
        os.environ.pop("IMS_DB_PATH", None)
    else:
        os.environ["IMS_DB_PATH"] = before


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/_stcore/health", timeout=1).ok
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 2000}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def open_page(page, app_url: str, path: str):
    page.goto(f"{app_url}/{path}")
    page.get_by_role("heading", name=PAGES[path]).first.wait_for(timeout=30000)
    page.get_by_text(LAST_ON_PAGE[path]).first.wait_for(timeout=30000)
    _settle(page)


def _settle(page, timeout: float = 30.0) -> None:
    """Wait until Streamlit has finished running the script and drawn its elements."""
    page.wait_for_timeout(300)
    deadline = time.monotonic() + timeout
    busy = '[data-testid="stSkeleton"], [data-testid="stStatusWidget"]'
    while page.locator(busy).count() and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    page.wait_for_timeout(800)


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_opens_without_error(page, app_url, path):
    open_page(page, app_url, path)
    assert page.locator('[data-testid="stException"]').count() == 0
    shoot(page, path or "dashboard")


def test_change_an_action_in_the_grid_and_save(page, app_url):
    open_page(page, app_url, "ims_invoices")
    first_doc = query("SELECT doc_no FROM ims_records WHERE coalesce(portal_action, 'N') = 'N' "
                      "ORDER BY doc_date DESC NULLS LAST, record_id LIMIT 1")[0][0]
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    box = grid.bounding_box()
    grid.click(position={"x": 20, "y": 55})          # first data row, the ✓ column
    for _ in range(9):                               # over to "My action"
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    page.keyboard.type("Accept")
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    shoot(page, "ims_invoices_edit")
    page.get_by_role("button", name="Save changes").click()
    _settle(page)
    page.get_by_text("record(s) saved").first.wait_for(timeout=15000)
    assert query("SELECT user_action, user_action_by FROM ims_records WHERE doc_no = ?", [first_doc]) == \
        [("A", "local")]
    assert query("SELECT new_value FROM action_log l JOIN ims_records r USING (record_id) "
                 "WHERE r.doc_no = ? AND l.kind = 'user_action'", [first_doc]) == [("A",)]
    assert box["height"] > 100


def test_upload_a_purchase_register(page, app_url):
    open_page(page, app_url, "purchase_register")
    page.locator('input[type="file"]').set_input_files(str(SAMPLE_PR))
    page.get_by_text("Documents to import").wait_for(timeout=30000)
    _settle(page)
    shoot(page, "purchase_register_preview")
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("documents imported").wait_for(timeout=30000)
    _settle(page)      # the batch list below the message is drawn after it
    shoot(page, "purchase_register_imported")
    assert query("SELECT count(*) FROM purchase_docs WHERE rtin = '27AAACW1234K1ZD'")[0][0] > 0


def test_download_the_csv(page, app_url):
    open_page(page, app_url, "ims_invoices")
    expected = query("SELECT count(*) FROM ims_records WHERE coalesce(portal_action, 'N') = 'N'")[0][0]
    with page.expect_download(timeout=30000) as info:
        page.get_by_role("button", name="Download CSV").click()
    body = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == expected
    assert {"company_gstin", "supplier_gstin", "doc_no", "match_status", "recommended_action",
            "portal_action", "user_action"} <= set(rows[0])
    assert {r["portal_action"] for r in rows} <= {"N", ""}
