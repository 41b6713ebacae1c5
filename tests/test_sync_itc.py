"""Sync and the ITC-reduction answer (docs/reconciliation.md, "ITC-reduction declaration"):
the proposal from the books (full / partial / N, with its default remark) lands on the IMS
record (rec_*) and on the run's rows; a user's own answer and texts are never overwritten; an
amendment's portal row carries its original's tax from the store; the portal's flags and saved
answer are stored on fetch."""
from __future__ import annotations

import json
from decimal import Decimal

from core.clock import utc_now
from core.ims.store import incoming_frame, store_ims
from core.ims.sync import apply_sync, ims_frame
from core.portal import payload as portal
from core.purchase import import_purchase_file
from core.reco.view import results_export, results_page
from core.store.database import connect, transaction
from tests.fixtures import SAMPLES

G = "27AAACW1234K1ZD"
SUPPLIER = "27AABCS5678L1ZQ"
CN = "CN/25-26/007"


def load(tmp_path, claimed: tuple[str, str, str] | None = None) -> None:
    """The samples: IMS records through the fetch's store step, the purchase register through
    the real import; `claimed` = (itc_claimed, cgst, sgst) for the credit note's line."""
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, 'S', '27')", [G])
    records = portal.flatten_ims(json.loads((SAMPLES / "ims_getinv_sample.json").read_text()))
    with connect() as con, transaction(con):
        store_ims(con, G, incoming_frame(G, records), utc_now(), "test")
    lines = (SAMPLES / "purchase_register_sample.csv").read_text().splitlines()
    lines[0] += ",itc_claimed,itc_claimed_igst,itc_claimed_cgst,itc_claimed_sgst,itc_claimed_cess"
    for i, line in enumerate(lines[1:], start=1):
        extra = ",,,,,"
        if claimed and f",{CN}," in line:
            extra = f",{claimed[0]},,{claimed[1]},{claimed[2]},"
        lines[i] = line + extra
    books = tmp_path / "books.csv"
    books.write_text("\n".join(lines) + "\n")
    result = import_purchase_file(str(books), actor="test")
    assert result.ok, result.summary()


def proposal(doc_no: str = CN) -> tuple:
    with connect(read_only=True) as con:
        return con.execute("SELECT rec_itc_red_req, rec_decl_igst, rec_decl_cgst, rec_decl_sgst, "
                           "rec_decl_cess, rec_supplier_remark FROM ims_records "
                           "WHERE doc_no = ?", [doc_no]).fetchall()[0]


def run_rows(doc_no: str = CN) -> list[tuple]:
    with connect(read_only=True) as con:
        return con.execute("SELECT run_id, itc_red_req, decl_cgst, decl_sgst, supplier_remark "
                           "FROM reco_results WHERE portal_doc_no = ? ORDER BY run_id",
                           [doc_no]).fetchall()


def test_full_is_proposed_where_the_books_claimed_all_of_it(db_file, tmp_path):
    load(tmp_path)
    apply_sync(G)
    assert proposal() == ("Y", None, None, None, None, None)
    assert proposal("SI/2025-26/0101") == (None,) * 6        # an invoice: not asked
    assert [r[1:] for r in run_rows()] == [("Y", None, None, None)]


def test_no_is_proposed_with_its_remark_where_the_books_claimed_nothing(db_file, tmp_path):
    load(tmp_path, claimed=("N", "", ""))
    apply_sync(G)
    assert proposal() == ("N", None, None, None, None, "ITC not claimed on this credit note")
    assert [r[1:] for r in run_rows()] == [("N", None, None,
                                            "ITC not claimed on this credit note")]


def test_partial_is_proposed_with_the_claimed_amounts(db_file, tmp_path):
    load(tmp_path, claimed=("Y", "100", "100"))
    apply_sync(G)
    assert proposal() == ("Y", Decimal("0.00"), Decimal("100.00"), Decimal("100.00"),
                          Decimal("0.00"), "ITC claimed: CGST 100.00, SGST 100.00")
    assert [r[1:] for r in run_rows()] == [("Y", Decimal("100.00"), Decimal("100.00"),
                                            "ITC claimed: CGST 100.00, SGST 100.00")]


def test_a_users_answer_and_texts_are_never_overwritten_by_a_sync(db_file, tmp_path):
    load(tmp_path, claimed=("N", "", ""))
    apply_sync(G)
    with connect() as con:
        con.execute("UPDATE ims_records SET user_action = 'A', user_itc_red_req = 'Y', "
                    "user_supplier_remark = 'claimed in full after all', "
                    "internal_note = 'see ledger' WHERE doc_no = ?", [CN])
        con.execute("UPDATE purchase_docs SET itc_claimed = 'Y', itc_claimed_igst = NULL, "
                    "itc_claimed_cgst = NULL, itc_claimed_sgst = NULL, itc_claimed_cess = NULL "
                    "WHERE doc_no = ?", [CN])   # the books now say it was claimed in full
    apply_sync(G)
    assert proposal()[0] == "Y"            # the proposal follows the books ...
    with connect(read_only=True) as con:    # ... the user's own choice stays
        assert con.execute("SELECT user_action, user_itc_red_req, user_decl_cgst, "
                           "user_supplier_remark, internal_note FROM ims_records "
                           "WHERE doc_no = ?", [CN]).fetchall() == [
            ("A", "Y", None, "claimed in full after all", "see ledger")]
    assert [r[1] for r in run_rows()] == ["N", "Y"]
    run_id = run_rows()[-1][0]               # the drill-down and its download: texts apart
    page, _ = results_page(run_id, [G], ["exact"], 1)
    shown = {r["portal_doc_no"]: r for r in page.to_dicts()}[CN]
    assert (shown["itc_red_req"], shown["supplier_remark"], shown["user_supplier_remark"],
            shown["internal_note"]) == ("Y", None, "claimed in full after all", "see ledger")
    assert {"itc_red_req", "decl_cgst", "user_supplier_remark", "internal_note"} <= set(
        results_export(run_id, [G]).columns)


def note(no: str, date: str, cgst: float, **kw) -> dict:
    return {"stin": SUPPLIER, "nt_num": no, "nt_dt": date, "rtnprd": "102025", "val": 0,
            "txval": cgst * 10, "iamt": 0, "camt": cgst, "samt": cgst, "cess": 0,
            "srcform": "R1", "srcfilstatus": "Filed", "action": "N", "ispendactblocked": "N",
            "isItcRedReqBlocked": "N", "isRemarksBlocked": "Y", **kw}


def test_an_amendment_carries_its_originals_tax_from_the_store_and_the_flags_are_kept(db_file):
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, 'S', '27')", [G])
    first = {"b2bcn": [note("CN-1", "05-10-2025", 100.0, itcRedReq="N", remarks="not claimed",
                            action="A")]}
    amended = {"b2bcna": [note("CN-1A", "05-10-2025", 60.0, ont_num="cn-1", ont_dt="05-10-2025"),
                          note("CN-2A", "06-10-2025", 30.0, ont_num="CN-9",
                               ont_dt="06-10-2025")]}
    for payload in (first, amended):   # the original leaves the portal before the amendment
        with connect() as con, transaction(con):
            store_ims(con, G, incoming_frame(G, portal.flatten_ims(payload)), utc_now(), "t")
    with connect(read_only=True) as con:
        stored = con.execute("SELECT doc_no, removed_at IS NOT NULL, is_itc_red_req_blocked, "
                             "is_remarks_blocked, itc_red_req, portal_remarks FROM ims_records "
                             "ORDER BY record_id").fetchall()
        frame = ims_frame(con, G)
    assert stored == [("CN-1", True, "N", "Y", "N", "not claimed"),
                      ("CN-1A", False, "N", "Y", None, None),
                      ("CN-2A", False, "N", "Y", None, None)]
    got = {r["doc_no"]: r for r in frame.to_dicts()}
    assert set(got) == {"CN-1A", "CN-2A"}
    assert (got["CN-1A"]["orig_cgst"], got["CN-1A"]["orig_sgst"], got["CN-1A"]["orig_igst"]) == (
        10000, 10000, 0)
    assert got["CN-2A"]["orig_cgst"] is None            # the store lacks its original
    assert (got["CN-1A"]["is_itc_red_req_blocked"], got["CN-1A"]["is_remarks_blocked"]) == (
        "N", "Y")
