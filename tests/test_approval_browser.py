"""Approval before upload in the real app server (Debian's chromium; app/serve.py with its
upload guard): an analyst loads a sheet of actions on IMS Invoices (the guard lets the file
through), the valid lines become proposals; the admin finds them on the Approvals page with
their value, recommendation and author and approves them all with a comment. Screenshots:
tests/screenshots/approval_sheet_preview.png, approval_queue.png, approval_queue_approved.png.
Run with `pytest -m browser`."""
from __future__ import annotations

import pytest

from core import auth
from core.ims.approval import set_approval
from core.store import let_go_of_idle_files
from tests.fixtures import BUSINESSES, ROOT, rows, running_app, seed_demo, settle, store_env

pytestmark = pytest.mark.browser
PW = "correct horse battery"
G1 = BUSINESSES[0][0]
SHOTS = ROOT / "tests" / "screenshots"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("approval_browser")
    db = str(folder / "ims.duckdb")
    with store_env(db):
        seed_demo(n_per_business=20)
        auth.create_user("boss@example.com", PW, "admin")
        auth.create_user("ana@example.com", PW, "analyst", [G1])
        set_approval(G1, True, "cli")
        let_go_of_idle_files()
        with running_app(db, entry="app/serve.py", IMS_REQUIRE_LOGIN="1") as url:
            yield url


def a_sheet(path) -> str:
    """Three invoices to accept and one line naming no record."""
    found = rows("SELECT stin, doc_no FROM ims_records WHERE rtin = ? AND doc_type = 'INV' "
                 "AND ispendactblocked = 'N' ORDER BY record_id LIMIT 3", [G1])
    lines = ["Supplier GSTIN,Document type,Document number,Action,Remark to supplier"]
    lines += [f"{stin},Invoice,{no},Accept," for stin, no in found]
    lines.append(f"{found[0][0]},Invoice,NO-SUCH-9,Accept,")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def logged_in(chromium, url: str, email: str):
    context = chromium.new_context(viewport={"width": 1500, "height": 1400})
    page = context.new_page()
    page.goto(url)
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PW)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Logged in as").wait_for(timeout=60000)
    return context, page


def test_an_analysts_sheet_becomes_proposals_the_admin_approves_from_the_queue(
        chromium, app_url, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = logged_in(chromium, app_url, "ana@example.com")
    try:
        page.get_by_role("link", name="IMS Invoices").click()
        page.get_by_text("Actions from a sheet").wait_for(timeout=60000)
        settle(page)
        page.get_by_text("Actions from a sheet").click()
        settle(page)
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            a_sheet(tmp_path / "october.csv"))
        page.get_by_text("3 ready to save, 1 refused").wait_for(timeout=60000)
        settle(page)
        page.screenshot(path=str(SHOTS / "approval_sheet_preview.png"), full_page=True)
        page.get_by_role("button", name="Save the 3 valid line(s)").click()
        page.get_by_text("3 proposed").wait_for(timeout=60000)
    finally:
        context.close()
    context, page = logged_in(chromium, app_url, "boss@example.com")
    try:
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
    assert rows("SELECT approval_state, approval_by, approval_comment, user_action_by, "
                "count(*) FROM ims_records WHERE approval_state IS NOT NULL GROUP BY "
                "approval_state, approval_by, approval_comment, user_action_by") == [
        ("approved", "boss@example.com", "checked against the books", "ana@example.com", 3)]
    assert rows("SELECT count(*) FROM action_log WHERE kind = 'sheet_import'") == [(3,)]
