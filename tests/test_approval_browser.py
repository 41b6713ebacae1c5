"""Approval before upload in the real app server (Debian's chromium; app/serve.py with its
upload guard): an analyst loads a sheet of actions on IMS Invoices (the guard lets the file
through), the valid lines become proposals; the admin finds them on the Approvals page with
their value, recommendation and author and approves them all with a comment. Then two more
proposals: the author sees them in the bucket "Waiting for approval" of IMS Invoices with who
proposed them; the admin approves one chosen row and returns the other with a comment; the
author finds it under "Returned to you" with the comment. Screenshots:
tests/screenshots/approval_sheet_preview.png, approval_queue.png, approval_queue_approved.png,
approval_bucket_waiting.png, approval_chosen_returned.png, approval_returned_to_author.png.
Run with `pytest -m browser`."""
from __future__ import annotations

import pytest

from app.ims_grid import ROW_PX
from core.ims.actions import save_user_actions
from core.ims.approval import set_approval
from core.store import let_go_of_idle_files
from tests.fixtures import (
    BUSINESSES,
    DEMO_PASSWORD,
    ROOT,
    rows,
    settle,
    store_env,
    text_with,
)

pytestmark = pytest.mark.browser
PW = DEMO_PASSWORD
G1 = BUSINESSES[0][0]
SHOTS = ROOT / "tests" / "screenshots"
MARKER_PX = 16          # the row-selection column of a table that selects rows


@pytest.fixture(scope="module")
def app_url(demo_app):
    """The shared demo app (an admin, an analyst granted G1) with approval before upload on
    for G1; off again afterwards, which forgets the proposals (the log keeps them)."""
    with store_env(demo_app.db):
        set_approval(G1, True, "cli")
        let_go_of_idle_files()
        try:
            yield demo_app.url
        finally:
            set_approval(G1, False, "cli")
            let_go_of_idle_files()


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


def propose_two_as_ana() -> list[str]:
    """Two invoices of G1 with no action, proposed by the analyst (an accept, then a reject):
    the queue lists them in this order."""
    found = rows("SELECT record_id, doc_no FROM ims_records WHERE rtin = ? AND doc_type = 'INV' "
                 "AND ispendactblocked = 'N' AND user_action IS NULL ORDER BY record_id "
                 "LIMIT 2", [G1])
    save_user_actions([G1], {found[0][0]: {"action": "A"}}, "ana@example.com")
    save_user_actions([G1], {found[1][0]: {"action": "R", "supplier_remark": "rate differs"}},
                      "ana@example.com")
    let_go_of_idle_files()   # the app server opens the store next
    return [no for _, no in found]


def tick_first_row(page, table) -> None:
    box = table.bounding_box()
    page.mouse.click(box["x"] + MARKER_PX, box["y"] + ROW_PX * 1.5)
    settle(page)


def test_waiting_bucket_approve_chosen_return_chosen_and_the_author_reads_the_comment(
        chromium, app_url):
    accepted, rejected = propose_two_as_ana()
    context, page = logged_in(chromium, app_url, "ana@example.com")
    try:   # the author's own view: the bucket lists what waits, with who proposed it
        page.get_by_role("link", name="IMS Invoices").click()
        page.get_by_text("Waiting for approval (2)").wait_for(timeout=60000)
        settle(page)
        page.get_by_text("Waiting for approval (2)").click()
        page.get_by_role("link", name="Open the Approvals page").wait_for(timeout=60000)
        settle(page)
        listed = text_with(page.locator('[data-testid="stDataFrame"]').first, accepted, rejected,
                           "Proposed by")
        assert accepted in listed and rejected in listed and "ana@example.com" in listed
        assert "Proposed by" in listed and "IST" in listed
        page.screenshot(path=str(SHOTS / "approval_bucket_waiting.png"), full_page=True)
    finally:
        context.close()
    context, page = logged_in(chromium, app_url, "boss@example.com")
    try:
        page.get_by_role("link", name="Approvals").click()
        page.get_by_role("heading", name="Waiting for approval (2)").wait_for(timeout=60000)
        settle(page)
        tick_first_row(page, page.locator(".st-key-queue"))
        page.get_by_role("button", name="Approve chosen (1)").click()
        page.get_by_text("1 proposal(s) approved").wait_for(timeout=60000)
        page.get_by_role("heading", name="Waiting for approval (1)").wait_for(timeout=60000)
        settle(page)
        if page.get_by_role("button", name="Return chosen to their authors (0)").count():
            tick_first_row(page, page.locator(".st-key-queue"))
        page.get_by_role("textbox", name="Comment").fill("the rate is 12 %, not 18 %: accept it")
        page.get_by_role("button", name="Return chosen to their authors (1)").click()
        page.get_by_text("1 proposal(s) returned").wait_for(timeout=60000)
        page.get_by_role("heading", name="Waiting for approval (0)").wait_for(timeout=60000)
        settle(page)
        page.screenshot(path=str(SHOTS / "approval_chosen_returned.png"), full_page=True)
    finally:
        context.close()
    assert rows("SELECT doc_no, approval_state, approval_by, approval_comment FROM ims_records "
                "WHERE rtin = ? AND doc_no IN (?, ?) ORDER BY record_id",
                [G1, accepted, rejected]) == [
        (accepted, "approved", "boss@example.com", None),
        (rejected, "returned", "boss@example.com", "the rate is 12 %, not 18 %: accept it")]
    context, page = logged_in(chromium, app_url, "ana@example.com")
    try:   # the author finds it returned, with the comment
        page.get_by_role("link", name="Approvals").click()
        page.get_by_role("heading", name="Returned to you (1)").wait_for(timeout=60000)
        settle(page)
        returned = text_with(page.locator('[data-testid="stDataFrame"]').last,
                             "the rate is 12 %, not 18 %: accept it", rejected)
        assert "the rate is 12 %, not 18 %: accept it" in returned and rejected in returned
        assert "boss@example.com" in returned
        page.screenshot(path=str(SHOTS / "approval_returned_to_author.png"), full_page=True)
    finally:
        context.close()
