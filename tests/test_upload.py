"""End to end with the real sandbox: fetch, sync, the user's actions, upload, REQSTS polling,
and the portal's own GETINV showing the actions. Also: a supplier edit between sync and
upload (held back, flagged), a PE answer (per-record errors, user action kept), local
refusals, and a busy portal (IMSSAV0015 -> retried later)."""
from __future__ import annotations

import pytest

from core.ims.actions import save_user_actions
from core.ims.fetch import fetch_business
from core.ims.sync import apply_sync
from core.ims.upload import poll_uploads, upload_actions
from core.ims.upload_payload import SECTION_CALL
from core.portal.client import GstnClient
from core.purchase import import_purchase_file
from core.store.database import connect
from sandbox.generate import generate_files
from tests.fixtures import BOTH_ENGINES

G = "27AAACW1234K1ZD"
USER = "analyst@example.com"


@pytest.fixture
def synced(db_file, sandbox, tmp_path):
    """A business fetched from the sandbox, its purchase register imported, synced."""
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, 'Western Agro', '27')", [G])
    fetch_business(G)
    files = generate_files(tmp_path / "books", records=300, seed=7, gstin=G)
    imported = import_purchase_file(files["purchase_register"], actor="test", company_gstin=G)
    assert imported.ok, imported.summary()
    counts = apply_sync(G)
    assert counts["records"] == 300
    return sandbox


def pick(where: str, n: int) -> list[dict]:
    with connect() as con:
        cur = con.execute(f"""SELECT record_id, section, stin, doc_no, rtnprd, doc_type, portal_action,
                                     recommended_action FROM ims_records
                              WHERE rtin = ? AND removed_at IS NULL AND {where}
                              ORDER BY record_id LIMIT {n}""", [G])
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    assert len(rows) == n, f"the sandbox data has fewer than {n} records where {where}"
    return rows


def act(records: list[dict], action: str | None = None, remark: str | None = None) -> None:
    """The user takes the recommendation (or `action`) on these records, as the app does,
    with a remark to the supplier when one is given."""
    extra = {"supplier_remark": remark} if remark else {}
    result = save_user_actions([G], {r["record_id"]: {"action": action or r["recommended_action"],
                                                      **extra} for r in records}, USER)
    assert result.saved == len(records), result.skipped


def state(record_id: int) -> tuple:
    with connect() as con:
        return con.execute("SELECT user_action, portal_action, upload_state, upload_error FROM ims_records "
                           "WHERE record_id = ?", [record_id]).fetchall()[0]


def on_portal(record: dict) -> dict:
    client = GstnClient()
    for rec in client.get_ims_raw(G, SECTION_CALL[record["section"]]).get(record["section"], []):
        number = rec.get("inum") or rec.get("nt_num") or rec.get("boenum")
        if rec.get("stin", "") == (record["stin"] or "") and number == record["doc_no"] \
                and rec.get("rtnprd") == record["rtnprd"]:
            return rec
    raise AssertionError(f"{record['doc_no']} not on the portal")


def poll_until_final(max_polls: int = 6) -> list[dict]:
    answers = []
    for _ in range(max_polls):
        answers.append(poll_uploads(G))
        with connect() as con:
            left = con.execute("SELECT count(*) FROM upload_requests WHERE status = 'IP'").fetchall()[0][0]
            queued = con.execute("SELECT count(*) FROM ims_records WHERE upload_state = 'queued'").fetchall()[0][0]
        if not left and not queued:
            return answers
    raise AssertionError(f"uploads still in flight after {max_polls} polls: {answers}")


def upload_log(record_id: int) -> list[tuple]:
    with connect() as con:
        return con.execute("SELECT actor, old_value, new_value, note FROM action_log WHERE kind = 'upload' "
                           "AND record_id = ? ORDER BY log_id", [record_id]).fetchall()


@BOTH_ENGINES
def test_actions_reach_the_portal_and_getinv_shows_them(synced):
    invoices = pick("portal_action = 'N' AND doc_type = 'INV' AND recommended_action = 'A'", 3)
    rejects = pick("portal_action = 'N' AND doc_type = 'INV' AND ispendactblocked = 'N' "
                   "AND recommended_action = 'P' AND is_remarks_blocked = 'N'", 1)
    credit_note = pick("portal_action = 'N' AND doc_type = 'CRN' AND recommended_action = 'A' "
                       "AND is_itc_red_req_blocked = 'N' AND coalesce(rec_itc_red_req, 'Y') = 'Y' "
                       "AND rec_decl_igst IS NULL AND rec_decl_cgst IS NULL", 1)
    to_reset = pick("portal_action IN ('A', 'R') AND section NOT LIKE 'impg%'", 1)
    act(invoices + credit_note)
    act(rejects, "R", remark="checked")
    act(to_reset, "N")
    summary = upload_actions(G, None, USER)
    assert summary["queued"] == 6 and summary["refused"] == []
    assert summary["sent"] == 5 and summary["waiting"]  # SAVE first; the RESET waits its turn
    assert state(invoices[0]["record_id"])[2] == "sent"
    assert state(to_reset[0]["record_id"])[2] == "queued"
    answers = poll_until_final()
    assert answers[0]["finished"] == 0  # REQSTS answers IP first
    with connect() as con:
        requests = con.execute("SELECT reqtyp, status, proc_cnt, err_cnt, actor FROM upload_requests "
                               "ORDER BY request_id").fetchall()
    assert requests == [("SAVE", "P", 5, 0, USER), ("RESET", "P", 1, 0, USER)]
    for rec, expected in [(r, "A") for r in invoices + credit_note] + [(rejects[0], "R"), (to_reset[0], "N")]:
        assert state(rec["record_id"])[:3] == (expected, expected, "done")
        assert on_portal(rec)["action"] == expected  # the sandbox's own GETINV
    assert on_portal(credit_note[0])["itcRedReq"] == "Y"
    assert on_portal(rejects[0])["remarks"] == "checked"
    log = upload_log(invoices[0]["record_id"])
    assert [n.split(" ")[0] for _, _, _, n in log] == ["queued", "sent", "saved"]
    assert all(actor == USER and (old, new) == ("N", "A") for actor, old, new, _ in log)
    assert upload_actions(G, None, USER)["queued"] == 0  # nothing left to send


def test_a_supplier_edit_between_sync_and_upload_is_held_back_and_flagged(synced):
    records = pick("portal_action = 'N' AND doc_type = 'INV' AND recommended_action = 'A'", 3)
    act(records)
    edited = records[1]
    synced.control("edit_record", gstin=G, section=edited["section"], stin=edited["stin"],
                   doc_no=edited["doc_no"], rtnprd=edited["rtnprd"])
    summary = upload_actions(G, None, USER)
    assert summary["sent"] == 2 and summary["held"] == 1
    assert state(edited["record_id"]) == ("A", "N", "held", "changed on portal, review")
    assert "held: changed on portal, review" in [n for *_, n in upload_log(edited["record_id"])]
    poll_until_final()
    assert [state(r["record_id"])[2] for r in records] == ["done", "held", "done"]
    assert [on_portal(r)["action"] for r in records] == ["A", "N", "A"]
    with connect() as con:
        assert con.execute("SELECT err_cnt FROM upload_requests").fetchall() == [(0,)]  # no IMSSAV0010
    assert upload_actions(G, None, USER)["queued"] == 0  # held records wait for the user's review


def test_a_pe_answer_shows_per_record_errors_and_keeps_the_user_action(synced):
    records = pick("portal_action = 'N' AND doc_type = 'INV' AND recommended_action = 'A'", 3)
    act(records)
    assert upload_actions(G, None, USER)["sent"] == 3
    assert poll_uploads(G)["finished"] == 0  # IP
    late = records[2]  # the supplier edits it while the portal is processing
    synced.control("edit_record", gstin=G, section=late["section"], stin=late["stin"],
                   doc_no=late["doc_no"], rtnprd=late["rtnprd"])
    assert poll_uploads(G)["finished"] == 1
    with connect() as con:
        assert con.execute("SELECT status, proc_cnt, err_cnt FROM upload_requests").fetchall() == [("PE", 2, 1)]
        items = con.execute("SELECT record_id, result, error_cd FROM upload_items ORDER BY record_id").fetchall()
    assert items == [(records[0]["record_id"], "ok", None), (records[1]["record_id"], "ok", None),
                     (late["record_id"], "error", "IMSSAV0010")]
    user_action, portal_action, upload_state, error = state(late["record_id"])
    assert (user_action, portal_action, upload_state) == ("A", "N", "error")
    assert error.startswith("IMSSAV0010: Previous action incorrect")
    assert upload_log(late["record_id"])[-1][3].startswith("portal error IMSSAV0010")
    assert state(records[0]["record_id"])[:3] == ("A", "A", "done")


def test_what_the_portal_would_refuse_is_refused_locally(synced):
    blocked = pick("portal_action = 'N' AND ispendactblocked = 'Y' AND doc_type <> 'BOE'", 1)[0]
    boe = pick("portal_action = 'N' AND section = 'impg'", 1)[0]
    with connect() as con:  # the app refuses these too; a script might not
        con.execute("UPDATE ims_records SET user_action = 'P' WHERE record_id = ?", [blocked["record_id"]])
        con.execute("UPDATE ims_records SET user_action = 'R' WHERE record_id = ?", [boe["record_id"]])
    summary = upload_actions(G, None, USER)
    refused = dict(summary["refused"])
    assert "Pending is not allowed" in refused[blocked["record_id"]]
    assert "cannot be rejected" in refused[boe["record_id"]]
    assert summary["queued"] == 0 and summary["sent"] == 0
    assert state(blocked["record_id"])[:3] == ("P", "N", "error")
    assert on_portal(blocked)["action"] == "N"


def test_a_busy_portal_leaves_the_batch_queued_until_the_next_poll(synced):
    records = pick("portal_action = 'N' AND doc_type = 'INV' AND recommended_action = 'A'", 2)
    act(records)
    synced.control("fault", kind="save_in_progress", times=1)
    summary = upload_actions(G, None, USER, client=GstnClient(busy_attempts=0))
    assert summary["queued"] == 2 and summary["sent"] == 0 and summary["waiting"]
    assert [state(r["record_id"])[2] for r in records] == ["queued", "queued"]
    with connect() as con:
        assert con.execute("SELECT count(*) FROM upload_requests").fetchall()[0][0] == 0
    poll_until_final()
    assert [state(r["record_id"])[:3] for r in records] == [("A", "A", "done")] * 2
