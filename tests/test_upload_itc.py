"""End to end over HTTP with the real sandbox: the ITC-reduction answer and the remark to the
supplier (docs/reconciliation.md, docs/portal-api.md). Accepted credit notes with each answer (Full,
Partial, No) reach the portal and come back on the next fetch; a blocked declaration and a
blocked remark are never sent; the sandbox refuses an accepted credit note without its answer
(IMSSAV0054) and the project never builds such a payload; bad answers are refused locally with
the user's action kept; bills of entry of all four sections are fetched and uploaded."""
from __future__ import annotations

import time
from decimal import Decimal

import pytest

from core.ims.actions import ActionError, bulk_action, save_user_actions
from core.ims.fetch import fetch_business
from core.ims.sync import apply_sync
from core.ims.upload import poll_uploads, upload_actions
from core.ims.upload_payload import SECTION_CALL, invdata, triage
from core.ims.upload_queue import BATCH_SIZE, _next_batch, _portal_now, queue_uploads
from core.ims.view import BUCKETS, ImsFilter
from core.portal.client import GstnClient
from core.purchase import import_purchase_file
from core.reco.itc_answer import question_applies
from core.store.database import connect
from sandbox.generate import generate_files

G = "27AAACW1234K1ZD"
USER = "analyst@example.com"
CN_ASKED = ("section = 'b2bcn' AND portal_action = 'N' AND is_itc_red_req_blocked = 'N' "
            "AND ispendactblocked = 'N'")


@pytest.fixture
def synced(db_file, sandbox, tmp_path):
    """A business fetched from the sandbox, its purchase register imported, synced."""
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code) "
                    "VALUES (?, 'Western Agro', '27')", [G])
    fetch_business(G)
    files = generate_files(tmp_path / "books", records=300, seed=7, gstin=G)
    imported = import_purchase_file(files["purchase_register"], actor="test", company_gstin=G)
    assert imported.ok, imported.summary()
    apply_sync(G)
    return sandbox


def pick(where: str, n: int) -> list[dict]:
    with connect(read_only=True) as con:
        cur = con.execute(f"SELECT * FROM ims_records WHERE rtin = ? AND removed_at IS NULL "
                          f"AND {where} ORDER BY record_id LIMIT {n}", [G])
        cols = [d[0] for d in cur.description]
        found = [dict(zip(cols, r)) for r in cur.fetchall()]
    assert len(found) == n, f"the sandbox data has fewer than {n} records where {where}"
    return found


def stored(record_id: int, columns: str) -> tuple:
    with connect(read_only=True) as con:
        return con.execute(f"SELECT {columns} FROM ims_records WHERE record_id = ?",
                           [record_id]).fetchall()[0]


def on_portal(record: dict) -> dict:
    """The record as the sandbox's GETINV shows it now."""
    raw = GstnClient().get_ims_raw(G, SECTION_CALL[record["section"]])
    for rec in raw.get(record["section"], []):
        party = rec.get("stin") or rec.get("portcode") or ""
        number = rec.get("inum") or rec.get("nt_num") or rec.get("boenum")
        if party == (record["stin"] or "") and number == record["doc_no"] \
                and rec.get("rtnprd") == record["rtnprd"]:
            return rec
    raise AssertionError(f"{record['doc_no']} not on the portal")


def upload_all() -> dict:
    """Upload every pending action and poll until the portal has answered them all."""
    summary = upload_actions(G, None, USER)
    for _ in range(10):
        poll_uploads(G)
        with connect(read_only=True) as con:
            busy = con.execute("SELECT count(*) FROM upload_requests WHERE status = 'IP'"
                               ).fetchall()[0][0]
            queued = con.execute("SELECT count(*) FROM ims_records WHERE upload_state = 'queued'"
                                 ).fetchall()[0][0]
        if not busy and not queued:
            return summary
    raise AssertionError("uploads still in flight after 10 polls")


def test_accepted_credit_notes_with_each_answer_reach_the_portal_and_come_back(synced):
    full, partial, no = pick(CN_ASKED + " AND is_remarks_blocked = 'N'", 3)
    half = (Decimal(partial["cgst"]) / 2).quantize(Decimal("0.01"))
    half_igst = (Decimal(partial["igst"]) / 2).quantize(Decimal("0.01"))
    saved = save_user_actions([G], {
        full["record_id"]: {"action": "A", "itc": "full"},
        partial["record_id"]: {"action": "A", "itc": "partial", "decl_igst": half_igst,
                               "decl_cgst": half, "decl_sgst": half, "decl_cess": 0,
                               "supplier_remark": "half the ITC was claimed",
                               "internal_note": "per AP ledger, do not send"},
        no["record_id"]: {"action": "A", "itc": "no", "supplier_remark": "ITC not claimed"},
    }, USER)
    assert saved.saved == 3 and saved.skipped == []
    summary = upload_all()
    assert summary["refused"] == [] and summary["sent"] == 3
    with connect(read_only=True) as con:
        assert con.execute("SELECT status, err_cnt FROM upload_requests").fetchall() == [("P", 0)]
    getinv = [on_portal(r) for r in (full, partial, no)]
    assert [g["action"] for g in getinv] == ["A", "A", "A"]
    assert [g.get("itcRedReq") for g in getinv] == ["Y", "Y", "N"]
    assert "declCgst" not in getinv[0] and "declCgst" not in getinv[2]
    assert (getinv[1]["declCgst"], getinv[1]["declSgst"]) == (float(half), float(half))
    assert getinv[1]["remarks"] == "half the ITC was claimed"
    assert "do not send" not in str(getinv)            # the internal note never leaves
    fetch_business(G)                                    # what the portal holds, fetched again
    assert stored(full["record_id"], "portal_action, itc_red_req, decl_cgst") == ("A", "Y", None)
    assert stored(partial["record_id"], "itc_red_req, decl_cgst, decl_sgst, portal_remarks, "
                  "internal_note") == ("Y", half, half, "half the ITC was claimed",
                                       "per AP ledger, do not send")
    assert stored(no["record_id"], "itc_red_req, portal_remarks") == ("N", "ITC not claimed")


def test_a_blocked_declaration_is_neither_saved_nor_sent(synced):
    older = pick("section = 'b2bcn' AND portal_action = 'N' AND is_itc_red_req_blocked = 'Y'",
                 1)[0]   # a credit note of a period before the question existed
    with pytest.raises(ActionError, match="does not apply to this record"):
        save_user_actions([G], {older["record_id"]: {"action": "A", "itc": "no",
                                                     "supplier_remark": "x"}}, USER)
    assert stored(older["record_id"], "user_action, user_itc_red_req") == (None, None)
    save_user_actions([G], {older["record_id"]: {"action": "A"}}, USER)
    with connect() as con:   # a script writes an answer anyway: the upload still never sends it
        con.execute("UPDATE ims_records SET user_itc_red_req = 'N' WHERE record_id = ?",
                    [older["record_id"]])
    assert upload_all()["refused"] == []
    assert stored(older["record_id"], "upload_state, portal_action") == ("done", "A")
    getinv = on_portal(older)
    assert getinv["action"] == "A" and "itcRedReq" not in getinv


def test_a_blocked_remark_is_refused_on_save_and_never_sent(synced):
    cn = pick(CN_ASKED + " AND is_remarks_blocked = 'Y'", 1)[0]
    with pytest.raises(ActionError, match="takes no remark for this record"):
        save_user_actions([G], {cn["record_id"]: {"action": "A", "itc": "no",
                                                  "supplier_remark": "not claimed"}}, USER)
    # No needs no remark where the portal takes none; the team's note is fine
    saved = save_user_actions([G], {cn["record_id"]: {"action": "A", "itc": "no",
                                                      "internal_note": "checked 3B"}}, USER)
    assert saved.saved == 1
    assert upload_all()["refused"] == []
    getinv = on_portal(cn)
    assert (getinv["action"], getinv["itcRedReq"]) == ("A", "N") and "remarks" not in getinv


def test_partial_or_no_without_a_remark_is_refused_locally_keeping_the_users_action(synced):
    cn = pick(CN_ASKED + " AND is_remarks_blocked = 'N'", 1)[0]
    with pytest.raises(ActionError, match="needs a remark to the supplier"):
        save_user_actions([G], {cn["record_id"]: {"action": "A", "itc": "no"}}, USER)
    with pytest.raises(ActionError, match="CGST to reduce .* must equal SGST"):
        save_user_actions([G], {cn["record_id"]: {"action": "A", "itc": "partial",
                                                  "decl_cgst": 1, "decl_sgst": 2,
                                                  "supplier_remark": "x"}}, USER)
    # answered No while Pending (allowed), then accepted in bulk: the upload refuses it
    save_user_actions([G], {cn["record_id"]: {"action": "P", "itc": "no"}}, USER)
    assert bulk_action([G], ImsFilter(record_ids=(cn["record_id"],)), None, "A", USER).saved == 1
    summary = upload_actions(G, [cn["record_id"]], USER)
    assert summary["queued"] == 0 and summary["sent"] == 0
    why = dict(summary["refused"])[cn["record_id"]]
    assert why == "Not sent: ITC to be reduced 'No' needs a remark to the supplier saying why"
    assert stored(cn["record_id"], "user_action, user_itc_red_req, upload_state, upload_error"
                  ) == ("A", "N", "error", why)
    assert on_portal(cn)["action"] == "N"


def raw_save(client: GstnClient, invdata_: dict) -> dict:
    """SAVE a payload as given, then REQSTS until the portal has processed it."""
    reference = client.save_actions(G, invdata_)
    for _ in range(20):
        answer = client.request_status(G, reference)
        if answer.get("status_cd") != "IP":
            return answer
        time.sleep(0.05)
    raise AssertionError("REQSTS still IP")


def test_the_sandbox_refuses_an_accept_without_its_answer_and_the_project_never_sends_one(
        synced):
    cn = pick(CN_ASKED, 1)[0]
    on = on_portal(cn)
    bare = {k: on[k] for k in ("stin", "nt_num", "nt_dt", "rtnprd", "hash", "val", "txval",
                               "iamt", "camt", "samt", "cess") if k in on}
    answer = raw_save(GstnClient(), {"b2bcn": [{**bare, "action": "A", "prev_status": "N"}]})
    assert answer["status_cd"] == "ER" and answer["err_cnt"] == 1
    assert answer["error_report"]["b2bcn"][0]["error_cd"] == "IMSSAV0054"
    assert on_portal(cn)["action"] == "N"

    # every record the portal asks about, accepted in bulk: each payload carries its answer
    with connect(read_only=True) as con:
        asked = [r[0] for r in con.execute(
            "SELECT record_id FROM ims_records WHERE rtin = ? AND removed_at IS NULL "
            "AND is_itc_red_req_blocked = 'N' AND portal_action = 'N'", [G]).fetchall()]
        others = [r[0] for r in con.execute(
            "SELECT record_id FROM ims_records WHERE rtin = ? AND removed_at IS NULL "
            "AND is_itc_red_req_blocked = 'Y' AND portal_action = 'N' AND doc_type = 'CRN'",
            [G]).fetchall()]
    assert len(asked) >= 10 and others
    bulk_action([G], ImsFilter(record_ids=tuple(asked + others)), None, "A", USER)
    summary = queue_uploads(G, None, USER)
    with connect(read_only=True) as con:
        batch = _next_batch(con, G)
    assert batch.height == summary["queued"] <= BATCH_SIZE
    checked = triage(batch, _portal_now(GstnClient(), G, sorted(set(batch["section"]))))
    assert set(checked["outcome"]) == {"send"}     # what send_next_batch then sends
    sent = {row["record_id"]: rec for row in checked.to_dicts()
            for rec in invdata([row])[row["section"]]}
    assert summary["refused"] == []   # proposals of Partial / No come with their remark
    for rid in asked:
        assert sent[rid]["itcRedReq"] in ("Y", "N"), rid
    for rid in others:
        assert "itcRedReq" not in sent[rid] and "declIgst" not in sent[rid]
    assert all(question_applies(row) for row in batch.to_dicts() if row["record_id"] in asked)
    upload_all()
    with connect(read_only=True) as con:
        codes = con.execute("SELECT DISTINCT error_cd FROM upload_items "
                            "WHERE error_cd IS NOT NULL").fetchall()
        done = con.execute("SELECT count(*) FROM upload_items WHERE result = 'ok'").fetchall()
    assert codes == [] and done[0][0] == len(sent)


def test_bills_of_entry_of_all_four_sections_are_fetched_and_uploaded(synced):
    with connect(read_only=True) as con:
        sections = dict(con.execute("SELECT section, count(*) FROM ims_records WHERE rtin = ? "
                                    "AND doc_type = 'BOE' GROUP BY 1", [G]).fetchall())
    assert set(sections) == {"impg", "impga", "impgsez", "impgseza"}
    port, sez = pick("section = 'impga' AND portal_action = 'N'", 1)[0], pick(
        "section = 'impgsez' AND portal_action = 'N' AND ispendactblocked = 'N'", 1)[0]
    save_user_actions([G], {port["record_id"]: {"action": "A"},
                            sez["record_id"]: {"action": "P"}}, USER)
    assert upload_all()["sent"] == 2
    assert (on_portal(port)["action"], on_portal(sez)["action"]) == ("A", "P")
    assert stored(port["record_id"], "upload_state, portal_action") == ("done", "A")


def test_a_changed_answer_or_remark_on_an_accepted_record_is_sent_again_and_only_once(synced):
    first, second = pick(CN_ASKED + " AND is_remarks_blocked = 'N'", 2)
    saved = save_user_actions([G], {first["record_id"]: {"action": "A", "itc": "full"},
                                    second["record_id"]: {"action": "A", "itc": "full"}}, USER)
    assert saved.saved == 2
    assert upload_all()["sent"] == 2
    fetch_business(G)
    assert upload_actions(G, None, USER)["queued"] == 0          # nothing left to send
    half = (Decimal(first["cgst"]) / 2).quantize(Decimal("0.01"))
    igst = (Decimal(first["igst"]) / 2).quantize(Decimal("0.01"))
    saved = save_user_actions([G], {
        first["record_id"]: {"action": "A", "itc": "partial", "decl_igst": igst,
                             "decl_cgst": half, "decl_sgst": half, "decl_cess": 0,
                             "supplier_remark": "half was claimed"},
        second["record_id"]: {"action": "A", "itc": "full",
                              "supplier_remark": "checked with the supplier"}}, USER)
    assert saved.saved == 2 and saved.skipped == []
    with connect(read_only=True) as con:   # the IMS page's "To upload" bucket shows them
        waiting = con.execute(f"SELECT record_id FROM ims_records WHERE rtin = ? AND "
                              f"{BUCKETS['to_upload'][1]} ORDER BY record_id", [G]).fetchall()
    assert [r[0] for r in waiting] == sorted([first["record_id"], second["record_id"]])
    assert upload_all()["sent"] == 2
    one, two = on_portal(first), on_portal(second)
    assert (one["action"], one["itcRedReq"], one["declCgst"], one["remarks"]) == \
        ("A", "Y", float(half), "half was claimed")
    assert (two["action"], two["itcRedReq"], two["remarks"]) == \
        ("A", "Y", "checked with the supplier")
    assert upload_actions(G, None, USER)["queued"] == 0          # not sent a second time
    fetch_business(G)
    assert upload_actions(G, None, USER)["queued"] == 0
    assert stored(first["record_id"], "itc_red_req, decl_cgst, portal_remarks") == \
        ("Y", half, "half was claimed")
