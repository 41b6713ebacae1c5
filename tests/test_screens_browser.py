"""The screens never mislead (issue 13), in Debian's chromium against the app served as
./run.sh serves it (`streamlit run app/serve.py`) with the bundled sandbox as the portal:
sorting over every filtered record, confirmations with counts and rupees, the upload's
in-flight state and the portal's answer in words, the books match kept under a GSTR-2A sync
source, times labelled in the business time zone, download names and a second click, the page
and its filters kept over a refresh, and the Business column. Screenshots go to
tests/screenshots/screens_*.png. Run with `pytest -m browser`."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.business.registry import save_business
from core.ims.actions import save_user_actions
from core.ims.fetch import fetch_business
from core.ims.sync import apply_sync
from core.purchase import import_purchase_file
from sandbox.generate import generate_files
from tests.fixtures import (
    ROOT,
    open_actions_editor,
    rows,
    running_app,
    seed_demo,
    settle,
    start_sandbox,
    stop_sandbox,
    store_env,
    temporary_env,
    text_with,
)

pytestmark = pytest.mark.browser
SHOTS = ROOT / "tests" / "screenshots"
G = "27AAACW1234K1ZD"
NOT_UPLOADED = "coalesce(portal_action, 'N') = 'N' AND coalesce(upload_state, '') NOT IN ('queued', 'sent')"


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[str]:
    """Demo businesses, plus one fetched from the sandbox with its books imported and synced
    and four of its actions waiting to be uploaded; `app/serve.py` on a free port."""
    work = tmp_path_factory.mktemp("screens")
    db = str(work / "ims.duckdb")
    sb = start_sandbox()
    try:
        with temporary_env(GSTN_API_URL=sb.url), store_env(db):
            seed_demo(n_per_business=60)
            save_business(G, "Western Agro", "test")
            fetch_business(G)
            books = generate_files(work / "books", records=300, seed=7, gstin=G)
            assert import_purchase_file(books["purchase_register"], actor="test",
                                        company_gstin=G).ok
            apply_sync(G)
            todo = rows("SELECT record_id FROM ims_records WHERE rtin = ? AND "
                        "recommended_action = 'A' AND coalesce(portal_action, 'N') = 'N' "
                        "AND section = 'b2b' ORDER BY record_id LIMIT 4", [G])
            assert save_user_actions([G], {r: {"action": "A"} for (r,) in todo}, "test").saved == 4
            with running_app(db, "app/serve.py") as url:
                yield url
    finally:
        stop_sandbox(sb)


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1600, "height": 2200}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def visit(page, url: str, path: str, wait_for: str) -> None:
    page.goto(f"{url}/{path}")
    page.get_by_text(wait_for).first.wait_for(timeout=45000)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"screens_{name}.png"), full_page=True)


def download(page, label: str) -> tuple[str, list[dict]]:
    with page.expect_download(timeout=30000) as info:
        page.get_by_role("button", name=label).first.click()
    body = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    return info.value.suggested_filename, list(csv.DictReader(io.StringIO(body)))


DEMO = "27AAPFU0939F1ZV,29AAGCB7383J1Z4"
DEMO_SQL = "rtin IN ('27AAPFU0939F1ZV', '29AAGCB7383J1Z4')"


def grid_text(page, *parts: str) -> str:
    """What the grid shows (its accessible table), once it holds `parts` (with none: any
    text): the grid fills its cells a moment after the run that drew it ends."""
    return text_with(page.locator('[data-testid="stDataFrame"]').first, *parts)


def test_sorting_covers_every_filtered_record_not_just_the_page(page, app):
    visit(page, app, f"ims_invoices?business={DEMO}&sort=txval&order=desc", "Download CSV")
    total = rows(f"SELECT count(*) FROM ims_records WHERE {DEMO_SQL} AND {NOT_UPLOADED}")[0][0]
    top = rows(f"SELECT doc_no FROM ims_records WHERE {DEMO_SQL} AND {NOT_UPLOADED} "
               "ORDER BY txval DESC, record_id LIMIT 1")[0][0]
    by_date = [d for (d,) in rows(f"SELECT doc_no FROM ims_records WHERE {DEMO_SQL} AND "
                                  f"{NOT_UPLOADED} ORDER BY doc_date DESC, record_id LIMIT 50")]
    assert total > 50 and top not in by_date          # the largest is beyond the first page by date
    page.get_by_text(f"sorted by Taxable ₹ (largest / latest first) over all {total:,} "
                     "filtered records").wait_for()
    assert top in grid_text(page, top)
    shoot(page, "1_sorted_by_taxable")
    _, lines = download(page, "Download CSV")
    amounts = [float(r["txval"]) for r in lines]
    assert lines[0]["doc_no"] == top and amounts == sorted(amounts, reverse=True)


def test_apply_to_all_filtered_asks_first_with_count_and_value(page, app):
    visit(page, app, "ims_invoices?business=29AAGCB7383J1Z4&section=b2bcn", "Download CSV")
    open_actions_editor(page)
    n, value = rows(f"SELECT count(*), sum(val) FROM ims_records WHERE rtin = '29AAGCB7383J1Z4' "
                    f"AND section = 'b2bcn' AND {NOT_UPLOADED}")[0]
    page.get_by_role("button", name=f"Apply to all {n:,} filtered").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(f"{n:,} record(s)").wait_for(timeout=15000)
    text = dialog.inner_text()
    assert "Apply recommendation" in text and "No action" in text
    assert re.search(r"document value ₹[\d,]+\.\d\d", text) and f"{value:,.2f}"[-6:] in text
    shoot(page, "2_confirm_apply_to_all")
    assert rows("SELECT count(*) FROM ims_records WHERE rtin = '29AAGCB7383J1Z4' AND "
                "section = 'b2bcn' AND user_action IS NOT NULL")[0][0] == 0   # nothing yet
    dialog.get_by_role("button", name="Cancel").click()
    settle(page)
    assert page.get_by_role("dialog").count() == 0
    page.get_by_role("button", name=f"Apply to all {n:,} filtered").click()
    page.get_by_role("dialog").get_by_role("button", name=f"Yes, apply to {n:,} records").click()
    page.get_by_text("record(s) saved").first.wait_for(timeout=30000)
    assert rows("SELECT count(*) FROM ims_records WHERE rtin = '29AAGCB7383J1Z4' AND "
                "section = 'b2bcn' AND user_action IS NOT NULL")[0][0] > 0


def test_rolling_back_a_purchase_register_asks_first(page, app):
    visit(page, app, "purchase_register", "Roll back batch")
    page.get_by_role("button", name="Roll back", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("removes").wait_for(timeout=15000)
    text = dialog.inner_text()
    assert re.search(r"removes [\d,]+ document\(s\)", text) and "taxable ₹" in text
    shoot(page, "2_confirm_rollback")
    dialog.get_by_role("button", name="Cancel").click()
    settle(page)
    assert rows("SELECT count(*) FROM purchase_batches WHERE rolled_back_at IS NOT NULL")[0][0] == 0


def test_update_to_gst_confirms_then_shows_records_in_flight_and_fresh_counts(page, app):
    visit(page, app, f"ims_invoices?business={G}", "Download CSV")
    value = rows("SELECT sum(val) FROM ims_records WHERE rtin = ? AND user_action = 'A'", [G])[0][0]
    page.get_by_text("4 record(s) with your action waiting to be uploaded").wait_for()
    page.get_by_role("button", name="Update to GST").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("4 record(s)").wait_for(timeout=15000)
    assert f"{value:,.2f}"[-6:] in dialog.inner_text()
    shoot(page, "3_confirm_update_to_gst")
    dialog.get_by_role("button", name="Yes, send 4 action(s)").click()
    page.get_by_text("Sent 4 action(s) to the portal").wait_for(timeout=60000)
    settle(page)
    page.get_by_text("0 record(s) with your action waiting to be uploaded").wait_for()
    page.get_by_text("Sent, awaiting the portal (4)").wait_for()
    page.get_by_text("To upload (0)").wait_for()
    shoot(page, "3_after_update_to_gst")
    page.get_by_text("Sent, awaiting the portal (4)").click()
    settle(page)
    assert "Sent to the portal, waiting for its answer" in grid_text(
        page, "Sent to the portal, waiting for its answer")
    shoot(page, "3_in_flight_bucket")
    page.get_by_role("button", name="Check upload status").click()
    settle(page)
    page.get_by_text("The portal's answers to the latest uploads").click()   # drawn once opened
    settle(page)
    answers = text_with(page.locator('[data-testid="stExpander"]').filter(
        has_text="The portal's answers").locator('[data-testid="stDataFrame"]'),
        pattern="Processed|In progress|Error")
    assert re.search(r"Processed|In progress|Error", answers) and "None" not in answers
    assert re.search(r"\d\d [A-Z][a-z]{2} \d{4}, \d\d:\d\d IST", answers)
    shoot(page, "3_portal_answer_in_words")


def test_a_2a_source_keeps_the_books_match_and_settings_explains(page, app):
    visit(page, app, "settings", "Sync now")
    page.get_by_text("Sync Action From decides only the recommendation").wait_for()
    shoot(page, "4_settings_sync_now")
    rows("UPDATE businesses SET sync_source = '2a_vs_pr' WHERE gstin = ?", [G])
    page.get_by_role("button", name="Sync now").click()
    page.get_by_text("Sync done.").wait_for(timeout=120000)
    kinds = {k for (k,) in rows("SELECT kind FROM reco_runs WHERE rtin = ?", [G])}
    assert kinds == {"ims_vs_pr", "2a_vs_pr"}
    _, books = rows("SELECT record_id, books_status FROM ims_records WHERE rtin = ? AND "
                      "counterpart_doc_id IS NOT NULL AND match_status = 'not_in_2a' "
                      "ORDER BY record_id LIMIT 1", [G])[0]
    assert books not in (None, "not_in_2a")


def test_times_are_labelled_in_the_business_time_zone(page, app):
    visit(page, app, "reconciliation", "Drill down")
    assert re.search(r"\d\d [A-Z][a-z]{2} \d{4}, \d\d:\d\d IST", page.content())
    shoot(page, "5_reconciliation_ist")
    visit(page, app, "purchase_register", "Roll back batch")
    assert "IST" in page.locator('[data-testid="stTable"]').first.inner_text()   # batches
    visit(page, app, "", "Job health")
    page.get_by_text(re.compile(r"Refreshed \d\d [A-Z][a-z]{2} \d{4}, \d\d:\d\d IST")).wait_for()
    shoot(page, "5_dashboard_ist")


def test_downloads_are_named_and_a_second_click_gives_a_file_again(page, app):
    visit(page, app, f"ims_invoices?business={G}&period=102025", "Download CSV")
    name, lines = download(page, "Download CSV")
    again, lines_again = download(page, "Download CSV")
    assert re.fullmatch(rf"ims_{G}_Oct2025_no-action-filtered_\d{{4}}-\d\d-\d\d\.csv", name)
    assert again == name and lines_again == lines and lines
    assert {"supplier_name", "document_value", "books_txval", "books_igst"} <= set(lines[0])
    assert any(r["supplier_name"] for r in lines) and any(r["books_txval"] for r in lines)
    full, _ = download(page, "Download all records (CSV)")
    assert re.fullmatch(rf"ims_{G}_allperiods_all_\d{{4}}-\d\d-\d\d\.csv", full)
    shoot(page, "6_downloads")


def test_a_refresh_keeps_the_page_and_its_filters(page, app):
    visit(page, app, "ims_invoices", "Download CSV")
    page.get_by_text("Rejected (").first.click()
    settle(page)
    page.get_by_role("textbox", name="Document number contains").fill("INV-29")
    page.keyboard.press("Enter")
    settle(page)
    assert "bucket=rejected" in page.url and "doc=INV-29" in page.url
    page.reload()
    page.get_by_text("Download CSV").first.wait_for(timeout=45000)
    settle(page)
    assert "/ims_invoices" in page.url and "bucket=rejected" in page.url
    assert page.get_by_role("textbox", name="Document number contains").input_value() == "INV-29"
    n = rows("SELECT count(*) FROM ims_records WHERE portal_action = 'R' AND doc_no LIKE 'INV-29%'")[0][0]
    page.get_by_text(f"{n:,} records · page 1").wait_for()
    shoot(page, "7_after_refresh")


def test_several_businesses_show_a_business_column(page, app):
    visit(page, app, "ims_invoices", "Download CSV")
    assert "Business" in grid_text(page, "Business")
    shoot(page, "8_business_column")
    visit(page, app, f"ims_invoices?business={G}", "Download CSV")
    assert "Business" not in grid_text(page).split("\n")[:3]
