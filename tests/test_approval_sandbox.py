"""Approval before upload end to end over HTTP with the real sandbox: an analyst proposes, the
upload refuses the proposal, a second person approves, the upload sends it, and the portal's
answer is in the record's history after the proposal and the approval."""
from __future__ import annotations

import pytest

from core.ims.actions import save_user_actions
from core.ims.approval import approve_actions, set_approval
from core.ims.fetch import fetch_business
from core.ims.history import record_history
from core.ims.upload import poll_uploads, upload_actions
from core.store import connect
from tests.fixtures import start_sandbox, stop_sandbox, store_env, temporary_env

pytestmark = pytest.mark.slow
G = "27AAACW1234K1ZD"
ANA, BOSS = "ana@example.com", "boss@example.com"


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    """A business fetched from a fresh sandbox, approval before upload on."""
    sb = start_sandbox()
    try:
        with store_env(str(tmp_path_factory.mktemp("approval_sandbox") / "ims.duckdb")), \
                temporary_env(GSTN_API_URL=sb.url):
            with connect() as con:
                con.execute("INSERT INTO businesses (gstin, name, state_code) "
                            "VALUES (?, 'Western Agro', '27')", [G])
            fetch_business(G)
            set_approval(G, True, "cli")
            yield sb
    finally:
        stop_sandbox(sb)


def one_invoice() -> int:
    with connect(read_only=True) as con:
        return con.execute("SELECT record_id FROM ims_records WHERE rtin = ? AND section = 'b2b' "
                           "AND coalesce(portal_action, 'N') = 'N' AND ispendactblocked = 'N' "
                           "AND removed_at IS NULL ORDER BY record_id LIMIT 1",
                           [G]).fetchall()[0][0]


def test_propose_approve_upload_and_the_portals_answer_in_the_history(fetched):
    record = one_invoice()
    assert save_user_actions([G], {record: {"action": "R", "supplier_remark": "not ours"}},
                             ANA).proposed == 1
    refused = upload_actions(G, [record], ANA)
    assert refused["queued"] == 0 and "waiting for approval" in refused["refused"][0][1]
    assert approve_actions([G], [record], ANA).done == 0        # not their own
    assert approve_actions([G], [record], BOSS, "no such purchase").done == 1
    sent = upload_actions(G, [record], ANA)
    assert sent["queued"] == 1 and sent["sent"] == 1
    for _ in range(10):
        poll_uploads(G)
        with connect(read_only=True) as con:
            state = con.execute("SELECT upload_state, portal_action FROM ims_records "
                                "WHERE record_id = ?", [record]).fetchall()[0]
        if state[0] not in ("queued", "sent"):
            break
    assert state == ("done", "R")
    history = record_history([G], record)
    what = history["What"].to_list()
    assert what[:3] == ["Action saved by a person", "Proposed for approval",
                        "Sent to the portal / the portal's answer"]   # refused: not approved
    assert "Approved for upload" in what
    after_approval = history.slice(what.index("Approved for upload"))
    assert after_approval["Who"].to_list()[0] == BOSS
    answer = after_approval.filter(after_approval["What"] ==
                                   "Sent to the portal / the portal's answer")["Details"]
    assert answer[0] == "queued for upload" and answer[1].startswith("sent (SAVE, request ")
    assert answer[-1].startswith("saved on the portal (request ")
