"""The real app in Debian's chromium: `streamlit run app/main.py` on a free port against a
prepared DuckDB file; every page opened and photographed, an action changed and saved, a
purchase file uploaded and imported, the CSV downloaded and read back.

Screenshots go to tests/screenshots/ (git-ignored). Run with `pytest -m browser`
(the README's test command installs chromium when missing).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from core.business.registry import save_business
from tests.fixtures import (
    ROOT,
    STANDARD_SAMPLE,
    open_actions_editor,
    rows,
    running_app,
    seed_demo,
    settle,
    store_env,
)

pytestmark = pytest.mark.browser
SHOTS = ROOT / "tests" / "screenshots"
PAGES = {"": "Dashboard", "ims_invoices": "IMS Invoices", "reconciliation": "Reconciliation",
         "purchase_register": "Purchase Register", "settings": "Settings"}
LAST_ON_PAGE = {"": "Job health", "ims_invoices": "Download CSV", "reconciliation": "Drill down",
                "purchase_register": "Batches", "settings": "Test connection"}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """A prepared store and `streamlit run` on a free port; stopped after the module."""
    db = str(tmp_path_factory.mktemp("browser") / "ims.duckdb")
    with store_env(db):   # this module's queries read the same file
        seed_demo()
        save_business("27AAACW1234K1ZD", "Sample Co (purchase sample)", "test")
        with running_app(db) as url:
            yield url


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1500, "height": 2000}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def open_page(page, app_url: str, path: str):
    page.goto(f"{app_url}/{path}")
    page.get_by_role("heading", name=PAGES[path]).first.wait_for(timeout=30000)
    page.get_by_text(LAST_ON_PAGE[path]).first.wait_for(timeout=30000)
    settle(page)


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
    open_actions_editor(page)           # drawn only once its expander is opened
    first_doc = rows("SELECT doc_no FROM ims_records WHERE coalesce(portal_action, 'N') = 'N' "
                      "ORDER BY doc_date DESC NULLS LAST, record_id LIMIT 1")[0][0]
    grid = page.locator('[data-testid="stForm"] [data-testid="stDataFrame"]').first  # editor
    grid.wait_for()
    box = grid.bounding_box()
    grid.click(position={"x": 20, "y": 55})          # first data row, the ✓ column
    for _ in range(11):                              # over to "My action"
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    page.keyboard.type("Accept")
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    shoot(page, "ims_invoices_edit")
    page.get_by_role("button", name="Save changes").click()
    settle(page)
    page.get_by_text("record(s) saved").first.wait_for(timeout=15000)
    assert rows("SELECT user_action, user_action_by FROM ims_records WHERE doc_no = ?", [first_doc]) == \
        [("A", "local")]
    assert rows("SELECT new_value FROM action_log l JOIN ims_records r USING (record_id) "
                 "WHERE r.doc_no = ? AND l.kind = 'user_action'", [first_doc]) == [("A",)]
    assert box["height"] > 100


def test_upload_a_purchase_register(page, app_url):
    open_page(page, app_url, "purchase_register")
    page.locator('input[type="file"]').set_input_files(str(STANDARD_SAMPLE))
    page.get_by_text("Documents to import").wait_for(timeout=30000)
    settle(page)
    shoot(page, "purchase_register_preview")
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("documents imported").wait_for(timeout=30000)
    settle(page)      # the batch list below the message is drawn after it
    shoot(page, "purchase_register_imported")
    assert rows("SELECT count(*) FROM purchase_docs WHERE rtin = '27AAACW1234K1ZD'")[0][0] > 0


def test_download_the_csv(page, app_url):
    open_page(page, app_url, "ims_invoices")
    expected = rows("SELECT count(*) FROM ims_records WHERE coalesce(portal_action, 'N') = 'N'")[0][0]
    with page.expect_download(timeout=30000) as info:
        page.get_by_role("button", name="Download CSV").click()
    body = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    lines = list(csv.DictReader(io.StringIO(body)))
    assert len(lines) == expected
    assert {"company_gstin", "supplier_gstin", "doc_no", "match_status", "recommended_action",
            "portal_action", "user_action"} <= set(lines[0])
    assert {r["portal_action"] for r in lines} <= {"N", ""}
