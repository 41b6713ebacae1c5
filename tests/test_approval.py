"""Approval before upload on a real store (docs/approval.md): with the setting on, a saved
action is a proposal; nobody approves their own; only approved actions are queued for the
portal; a returned proposal goes back to its author with the comment; a change after approval
is a proposal again; a bulk approval of 10,000 proposals is one transaction."""
from __future__ import annotations

import pytest

from core import auth
from core.auth import PermissionDenied
from core.ims.actions import save_user_actions
from core.ims.approval import (
    ApprovalError,
    approval_queue,
    approval_words,
    approve_actions,
    propose_again,
    queue_ids,
    return_actions,
    returned_to,
    set_approval,
    unapproved_to_upload,
)
from core.ims.history import record_history
from core.ims.upload_queue import queue_uploads
from core.ims.view import ImsFilter, record_with_counterpart
from tests.fixtures import BUSINESSES, rows

A, B = BUSINESSES[0][0], BUSINESSES[1][0]
ASHA, RAVI = "asha@firm.in", "ravi@firm.in"
PW = "correct horse battery"


def invoices(gstin: str, n: int = 2) -> list[int]:
    """Invoices with no action on the portal that may take any action."""
    return [r[0] for r in rows(
        "SELECT record_id FROM ims_records WHERE rtin = ? AND doc_type = 'INV' "
        "AND coalesce(portal_action, 'N') = 'N' AND coalesce(ispendactblocked, 'N') = 'N' "
        "ORDER BY record_id LIMIT ?", [gstin, n])]


def state(record: int) -> tuple:
    return rows("SELECT user_action, approval_state, approval_by, approval_comment "
                "FROM ims_records WHERE record_id = ?", [record])[0]


@pytest.fixture
def approving(demo_store):
    set_approval(A, True, "cli")
    return demo_store


def test_a_saved_action_is_a_proposal_and_nobody_approves_their_own(approving):
    first, second = invoices(A)
    result = save_user_actions([A], {first: {"action": "A"}, second: {"action": "P"}}, ASHA)
    assert result.proposed == 2 and "wait for a second person's approval" in result.summary()
    assert state(first) == ("A", "proposed", None, None)
    queue = approval_queue([A])
    assert queue.filter(queue["record_id"] == first)["user_action_by"].to_list() == [ASHA]
    mine = approve_actions([A], [first, second], ASHA)
    assert (mine.done, mine.refused) == (0, 2)
    assert all("you proposed it: someone else must approve" in line for line in mine.lines)
    assert state(first)[1] == "proposed"
    assert approve_actions([A], [first], RAVI, "rate checked").done == 1
    assert state(first) == ("A", "approved", RAVI, "rate checked")
    again = approve_actions([A], [first], "meera@firm.in")
    assert again.done == 0 and "already approved" in again.lines[0]
    history = record_history([A], first)
    assert history.select("Who", "What").rows() == [
        (ASHA, "Action saved by a person"), (ASHA, "Proposed for approval"),
        (RAVI, "Approved for upload")]
    assert history["Details"][-1] == "rate checked"


def test_the_upload_sends_approved_actions_only_and_says_why_not_the_rest(approving):
    approved, waiting = invoices(A)
    save_user_actions([A], {approved: {"action": "A"}, waiting: {"action": "A"}}, ASHA)
    approve_actions([A], [approved], RAVI)
    assert unapproved_to_upload([A], ImsFilter(record_ids=(approved, waiting))) == 1
    outcome = queue_uploads(A, [approved, waiting], RAVI)
    assert outcome["queued"] == 1
    assert outcome["refused"] == [
        (waiting, "Not sent: waiting for approval: a second person must approve it first")]
    queued = rows("SELECT record_id, approval_state, upload_state FROM ims_records "
                  "WHERE record_id IN (?, ?) ORDER BY record_id", [approved, waiting])
    assert {r[0]: r[1:] for r in queued} == {approved: ("approved", "queued"),
                                                   waiting: ("proposed", None)}
    assert "waiting for approval" in record_history([A], waiting)["Details"][-1]


def test_a_returned_proposal_goes_back_to_its_author_with_the_comment(approving):
    (record,) = invoices(A, 1)
    save_user_actions([A], {record: {"action": "R", "supplier_remark": "wrong rate"}}, ASHA)
    with pytest.raises(ApprovalError, match="Say why in the comment"):
        return_actions([A], [record], RAVI, "  ")
    assert return_actions([A], [record], RAVI, "the rate is right; accept it").done == 1
    back = returned_to([A], ASHA)
    assert back.select("record_id", "approval_by", "approval_comment").rows() == [
        (record, RAVI, "the rate is right; accept it")]
    assert returned_to([A], RAVI).is_empty() and approval_queue([A]).is_empty()
    assert queue_uploads(A, [record], ASHA)["refused"][0][1].startswith(
        f"Not sent: returned by {RAVI} (the rate is right; accept it)")
    assert f"returned to {ASHA}: the rate is right; accept it" in record_history(
        [A], record)["Details"].to_list()
    shown = record_with_counterpart([A], record)["portal"]
    assert approval_words(shown) == (f"Returned to {ASHA} by {RAVI}: the rate is right; "
                                     "accept it.")
    assert propose_again([A], [record], RAVI) == 0          # only its author sends it back
    save_user_actions([A], {record: {"action": "A"}}, ASHA)  # put right: a new proposal
    assert state(record) == ("A", "proposed", None, None)


def test_nobody_returns_their_own_proposal_even_an_admin(approving):
    admin = auth.create_user("admin@firm.in", PW, "admin", actor="cli")
    (record,) = invoices(A, 1)
    save_user_actions([A], {record: {"action": "R", "supplier_remark": "wrong rate"}},
                      admin.email)
    logged = len(record_history([A], record))
    own = return_actions([A], [record], admin, "changed my mind")
    assert (own.done, own.refused) == (0, 1)
    assert own.lines[0].startswith("Not returned: ") and own.lines[0].endswith(
        "you proposed it: someone else must approve or return it")
    assert state(record) == ("R", "proposed", None, None)
    assert returned_to([A], admin.email).is_empty() and len(record_history([A], record)) == logged
    assert return_actions([A], [record], RAVI, "check the rate").done == 1


def test_changing_an_approved_action_makes_it_a_proposal_again(approving):
    (record,) = invoices(A, 1)
    save_user_actions([A], {record: {"action": "A"}}, ASHA)
    approve_actions([A], [record], RAVI)
    save_user_actions([A], {record: {"internal_note": "called the supplier"}}, ASHA)
    assert state(record)[1] == "approved"      # a note is never sent: nothing to approve
    save_user_actions([A], {record: {"action": "P"}}, ASHA)
    assert state(record) == ("P", "proposed", None, None)
    assert queue_uploads(A, [record], ASHA)["queued"] == 0


def test_turning_approval_on_makes_waiting_actions_proposals_and_off_forgets_them(demo_store):
    (record,) = invoices(A, 1)
    save_user_actions([A], {record: {"action": "A"}}, ASHA)
    assert state(record)[1] is None
    assert set_approval(A, True, "cli") >= 1
    assert state(record)[1] == "proposed"
    set_approval(A, False, "cli")
    assert state(record)[1] is None and queue_uploads(A, [record], ASHA)["queued"] == 1


def test_who_may_approve_is_a_grant_per_user_and_gstin(approving):
    auth.create_user("admin@firm.in", PW, "admin", actor="cli")
    analyst = auth.create_user(RAVI, PW, "analyst", [A, B], actor="cli")
    auditor = auth.create_user("audit@firm.in", PW, "auditor", [A], actor="cli")
    (record,) = invoices(A, 1)
    save_user_actions([A], {record: {"action": "A"}}, ASHA)
    with pytest.raises(PermissionDenied):
        approve_actions([A], [record], auditor)
    with pytest.raises(auth.AuthError, match="only analysts and admins"):
        auth.grant_approvals(auditor.email, [A], "cli")
    refused = approve_actions([A], [record], analyst)
    assert refused.done == 0 and "may not approve the actions of this business" in refused.lines[0]
    auth.grant_approvals(RAVI, [A], "admin@firm.in")
    assert auth.approval_gstins(analyst) == [A]
    assert approve_actions([A], [record], analyst).done == 1
    assert any(e["event"] == "approvals_granted" for e in auth.audit_entries(20))


def test_a_bulk_approval_of_10000_proposals_is_one_transaction(approving):
    rows("""INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, doc_no_key, doc_date,
                                     fy, rtnprd, val, txval, igst, cgst, sgst, cess,
                                     portal_action, user_action, user_action_by, user_action_at,
                                     approval_state, first_seen, last_seen)
            SELECT ?, 'b2b', '27AABCS5678L1ZQ', 'INV', 'BULK-' || i, 'BULK-' || i,
                   DATE '2025-10-01', '2025-26', '102025', 118, 100, 18, 0, 0, 0, 'N', 'A', ?,
                   current_timestamp, 'proposed', current_timestamp, current_timestamp
            FROM range(10000) t(i)""", [A, ASHA])
    ids = queue_ids([A])
    assert len(ids) == 10_000
    done = approve_actions([A], ids, RAVI, "checked against the books")
    assert (done.done, done.refused) == (10_000, 0)
    # one moment for every decision and its log row: all written by one transaction
    assert rows("SELECT count(*), count(DISTINCT approval_at) FROM ims_records "
                "WHERE approval_state = 'approved'") == [(10_000, 1)]
    assert rows("SELECT count(*), count(DISTINCT logged_at) FROM action_log "
                "WHERE kind = 'approved'") == [(10_000, 1)]
    assert approval_queue([A]).is_empty()
