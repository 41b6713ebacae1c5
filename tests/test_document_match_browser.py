"""Match a GSTR-2A document by hand in Debian's chromium against the app as ./run.sh serves it
(issue 25): on the Reconciliation page, a GSTR-2A vs PR run's drill-down, pick the document,
search the business's books, pick one, give a reason and link it; the run shown is then the
one reconciled again, where the document is "Matched by hand" with that books document, in
the store and on screen; undo gives it back to the engine. Screenshots go to
tests/screenshots/manual_2a_*.png. Run with `pytest -m browser`."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from app.ims_grid import ROW_PX
from core import auth
from core.clock import utc_now
from core.ims.store import store_gstr2a
from core.ims.sync import apply_sync
from core.portal import payload as portal
from core.store import connect, transaction
from tests.fixtures import (
    ROOT,
    SAMPLES,
    logged_in_page,
    rows,
    running_app,
    settle,
    store_env,
    text_with,
)
from tests.test_sync import G, load_samples

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = ROOT / "tests" / "screenshots"
PW = "correct horse battery"
MARKER_PX = 16          # the row-selection column of a table that selects rows
GUJARAT = "24AAGPR9876N2ZO"


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[str]:
    """The samples with their GSTR-2A (5 documents) reconciled, 2A the sync source, and an
    analyst."""
    db = str(tmp_path_factory.mktemp("document_match") / "ims.duckdb")
    with store_env(db):
        load_samples("2a_vs_pr")
        records = portal.flatten_gstr2a(json.loads((SAMPLES / "gstr2a_b2b_sample.json")
                                                   .read_text()))
        with connect() as con, transaction(con):
            store_gstr2a(con, G, ["102025"], records, utc_now())
        apply_sync(G)
        auth.create_user("boss@example.com", PW, "admin")
        auth.create_user("ana@example.com", PW, "analyst", [G])
        with running_app(db, "app/serve.py") as url:
            yield url


@pytest.fixture(scope="module")
def page(chromium, app):
    with logged_in_page(chromium, app, "ana@example.com", PW, height=2600) as pg:
        yield pg


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"manual_2a_{name}.png"), full_page=True)


def latest_2a(doc_no: str) -> tuple:
    return rows("SELECT r.match_status, r.pr_doc_no FROM reco_results r WHERE r.run_id = "
                "(SELECT max(run_id) FROM reco_runs WHERE kind = '2a_vs_pr' AND finished_at "
                "IS NOT NULL) AND r.portal_doc_no = ?", [doc_no])[0]


def test_a_2a_document_matched_by_hand_from_the_reconciliation_page(page, app):
    assert latest_2a("GJ/555") == ("missing_in_pr", None)
    page.goto(f"{app}/reconciliation?business={G}&kind=gstr-2a&periods=all")
    page.get_by_text("Drill down").first.wait_for(timeout=45000)
    settle(page)
    page.get_by_role("textbox", name="Supplier GSTIN (empty = all)").fill(GUJARAT)
    page.keyboard.press("Enter")
    settle(page)
    grid = page.locator('[class*="st-key-drill_pick_"]').first
    grid.wait_for(timeout=20000)
    assert GUJARAT in text_with(grid, GUJARAT)     # its first columns: the rest scroll
    box = grid.bounding_box()
    page.mouse.click(box["x"] + MARKER_PX, box["y"] + ROW_PX * 1.5)      # its only row
    settle(page)
    page.get_by_text("GSTR-2A invoice GJ/555").first.wait_for(timeout=20000)
    page.get_by_role("textbox", name="Supplier GSTIN or name contains").fill("AAGPR9876N")
    page.get_by_role("textbox", name="Number contains").fill("rp-88")
    page.get_by_role("button", name="Search the books").click()
    settle(page)
    found = page.locator(".st-key-books_candidates")
    found.wait_for(timeout=20000)
    assert "RP-88" in text_with(found, "RP-88")
    box = found.bounding_box()
    page.mouse.click(box["x"] + MARKER_PX, box["y"] + ROW_PX * 1.5)
    settle(page)
    reason = page.get_by_role("textbox", name="Why link Invoice RP-88 to this document")
    reason.wait_for(timeout=20000)
    reason.fill("Booked under the Maharashtra GSTIN of the same supplier")
    shoot(page, "1_search_and_pick")
    page.get_by_role("button", name="Link Invoice RP-88").click()
    page.get_by_text("Linked Invoice RP-88 by hand.").wait_for(timeout=90000)
    settle(page)
    assert latest_2a("GJ/555") == ("manual", "RP-88")
    assert rows("SELECT source, kind, state, created_by FROM reco_overrides") == [
        ("2a", "link", "active", "ana@example.com")]
    grid = page.locator('[class*="st-key-drill_pick_"]').first
    assert "Matched by hand" in text_with(grid, "Matched by hand")
    assert page.locator('[data-testid="stException"]').count() == 0
    shoot(page, "2_matched_by_hand")
    box = grid.bounding_box()                      # the document again: its decision, undone
    page.mouse.click(box["x"] + MARKER_PX, box["y"] + ROW_PX * 1.5)
    settle(page)
    page.get_by_text("Matched by hand to invoice RP-88").first.wait_for(timeout=20000)
    page.get_by_role("button", name="Undo this decision").click()
    page.get_by_text("Decision undone: the engine decides again.").wait_for(timeout=90000)
    assert latest_2a("GJ/555") == ("missing_in_pr", None)
