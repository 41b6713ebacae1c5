"""Match by hand in Debian's chromium against the app as ./run.sh serves it (issue 25): from a
record's side-by-side view, search the business's books, pick a document, give a reason and
link it; the record is then "Matched by hand" with that document beside it, in the store and on
screen, and in the record's history; undo gives it back to the engine. Screenshots go to tests/screenshots/manual_*.png.
Run with `pytest -m browser`."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.ims_grid import ROW_PX
from core import auth
from core.ims.sync import apply_sync
from tests.fixtures import ROOT, logged_in_page, rows, running_app, settle, store_env, text_with
from tests.test_sync import G, load_samples

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = ROOT / "tests" / "screenshots"
PW = "correct horse battery"
MARKER_PX = 16          # the row-selection column of a table that selects rows


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[str]:
    """The samples (10 IMS records, 8 books documents) reconciled, and an analyst."""
    db = str(tmp_path_factory.mktemp("manual_match") / "ims.duckdb")
    with store_env(db):
        load_samples()
        apply_sync(G)
        auth.create_user("boss@example.com", PW, "admin")
        auth.create_user("ana@example.com", PW, "analyst", [G])
        with running_app(db, "app/serve.py") as url:
            yield url


@pytest.fixture(scope="module")
def page(chromium, app):
    with logged_in_page(chromium, app, "ana@example.com", PW, height=2400) as pg:
        yield pg


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"manual_{name}.png"), full_page=True)


def stored(record_id: int) -> tuple:
    return rows("SELECT r.match_status, d.doc_no FROM ims_records r LEFT JOIN purchase_docs d "
                "ON d.doc_id = r.counterpart_doc_id WHERE r.record_id = ?", [record_id])[0]


def test_a_books_document_found_and_linked_from_the_record_view(page, app):
    (record,) = rows("SELECT record_id FROM ims_records WHERE doc_no = 'GJ/560'")[0]
    assert stored(record) == ("missing_in_pr", None)
    page.goto(f"{app}/ims_invoices?business={G}&record={record}")
    page.get_by_text("Download CSV").first.wait_for(timeout=45000)
    settle(page)
    view = page.locator(".st-key-record_view")
    assert "GJ/560" in view.inner_text()
    view.get_by_text("Match by hand: link a books document").click()
    view.get_by_role("textbox", name="Supplier GSTIN or name contains").fill("AAGPR9876N")
    view.get_by_role("textbox", name="Number contains").fill("rp-88")
    view.get_by_role("button", name="Search the books").click()
    settle(page)
    found = view.locator(".st-key-books_candidates")
    found.wait_for(timeout=20000)
    shown = text_with(found, "RP-88", "Rann Polymers")
    assert "RP-88" in shown and "Rann Polymers" in shown
    box = found.bounding_box()
    page.mouse.click(box["x"] + MARKER_PX, box["y"] + ROW_PX * 1.5)   # its first row
    settle(page)
    reason = view.get_by_role("textbox", name="Why link Invoice RP-88 to this record")
    reason.wait_for(timeout=20000)
    reason.fill("Booked under the Maharashtra GSTIN of the same supplier")
    shoot(page, "1_search_and_pick")
    view.get_by_role("button", name="Link Invoice RP-88").click()
    page.get_by_text("Linked Invoice RP-88 by hand.").wait_for(timeout=60000)
    settle(page)
    assert stored(record) == ("manual", "RP-88")
    text = view.inner_text()
    assert "Matched by hand to invoice RP-88" in text and "Maharashtra GSTIN" in text
    assert "status of the sync source: Matched by hand" in text
    assert page.locator('[data-testid="stException"]').count() == 0
    shoot(page, "2_matched_by_hand")
    # the record's history tells who linked what, when and why (issue 25, "Record history")
    view.get_by_text("History of this record").first.click()
    history = view.locator('[data-testid="stExpander"]').filter(has_text="History of this record")
    history.get_by_text("Matched by hand").first.wait_for(state="attached", timeout=20000)
    settle(page)
    told = " ".join(history.locator('[role="gridcell"]').all_text_contents())
    assert "ana@example.com" in told and "RP-88" in told and "Maharashtra GSTIN" in told
    assert " IST" in told
    shoot(page, "3_history")
    view.get_by_role("button", name="Undo this decision").click()
    page.get_by_text("Decision undone: the engine decides again.").wait_for(timeout=60000)
    assert stored(record) == ("missing_in_pr", None)
