"""The approval queue in the real app (Debian's chromium): an analyst's proposals wait on the
Approvals page with their value, recommendation and author; the admin approves them all with a
comment; the store and the history say so. Screenshot: tests/screenshots/approval_queue.png.
Run with `pytest -m browser`."""
from __future__ import annotations

import pytest

from core import auth
from core.ims.actions import save_user_actions
from core.ims.approval import set_approval
from tests.fixtures import BUSINESSES, ROOT, rows, running_app, seed_demo, settle, store_env

pytestmark = pytest.mark.browser
PW = "correct horse battery"
G1 = BUSINESSES[0][0]
SHOTS = ROOT / "tests" / "screenshots"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("approval_browser") / "ims.duckdb")
    with store_env(db):
        seed_demo(n_per_business=20)
        auth.create_user("boss@example.com", PW, "admin")
        auth.create_user("ana@example.com", PW, "analyst", [G1])
        set_approval(G1, True, "cli")
        ids = [r[0] for r in rows("SELECT record_id FROM ims_records WHERE rtin = ? AND "
                                  "doc_type = 'INV' AND ispendactblocked = 'N' "
                                  "ORDER BY record_id LIMIT 3", [G1])]
        save_user_actions([G1], {i: {"action": "A"} for i in ids}, "ana@example.com")
        with running_app(db) as url:
            yield url


def test_the_admin_approves_an_analysts_proposals_from_the_queue(chromium, app_url):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1500, "height": 1400})
    page = context.new_page()
    try:
        page.goto(app_url)
        page.get_by_role("textbox", name="Email").fill("boss@example.com")
        page.get_by_role("textbox", name="Password").fill(PW)
        page.get_by_role("button", name="Log in").click()
        page.get_by_text("Logged in as").wait_for(timeout=60000)
        page.get_by_role("link", name="Approvals").click()
        page.get_by_role("heading", name="Waiting for approval (3)").wait_for(timeout=60000)
        settle(page)
        body = page.locator("body").inner_text()
        assert "Approval before upload is on for Acme Fabrics" in body
        page.screenshot(path=str(SHOTS / "approval_queue.png"), full_page=True)
        page.get_by_role("textbox", name="Comment").fill("checked against the books")
        page.get_by_role("button", name="Approve all 3").click()
        page.get_by_text("3 proposal(s) approved").wait_for(timeout=60000)
        page.get_by_role("heading", name="Waiting for approval (0)").wait_for(timeout=60000)
        settle(page)
        page.screenshot(path=str(SHOTS / "approval_queue_approved.png"), full_page=True)
    finally:
        context.close()
    assert rows("SELECT approval_state, approval_by, approval_comment, count(*) "
                "FROM ims_records WHERE approval_state IS NOT NULL "
                "GROUP BY approval_state, approval_by, approval_comment") == [("approved", "boss@example.com",
                                     "checked against the books", 3)]
