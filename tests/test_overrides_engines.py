"""Decisions by hand on both store engines (the DuckDB file and, in team mode, PostgreSQL): the
same SQL takes, reviews, confirms and undoes a decision, searches the books and fills the
"Decisions to review" bucket. The books come in through the real import; the IMS record is
written as a fetch leaves it (the sync's own SQL is checked on DuckDB by test_overrides.py)."""
from __future__ import annotations

import pytest

from core.ims import document_overrides, overrides
from core.ims.view import ImsFilter, bucket_counts
from core.purchase import import_purchase_file
from core.store import connect
from tests.fixtures import COMPANY, SAHYADRI, add_business, line, write_csv

pytestmark = pytest.mark.usefixtures("store_engine")
G = COMPANY


def a_record(doc_no: str = "SI-9") -> int:
    with connect() as con:
        return con.execute(
            "INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, doc_no_key, "
            "doc_date, fy, txval, igst, cgst, sgst, cess, rtnprd, first_seen, last_seen, "
            "portal_fp) VALUES (?, 'b2b', ?, 'INV', ?, ?, DATE '2025-10-03', '2025-26', 1000, "
            "0, 90, 90, 0, '102025', current_timestamp, current_timestamp, 11) "
            "RETURNING record_id", [G, SAHYADRI, doc_no, doc_no]).fetchall()[0][0]


@pytest.fixture
def books(db_file, tmp_path) -> dict[str, int]:
    add_business(G, "Western Works")
    path = write_csv(tmp_path, "books.csv", [line("INV-1"), line("INV-2", txval="2000"),
                                             line("RC-3", rcm="Y")])
    assert import_purchase_file(str(path), actor="test").ok
    with connect() as con:
        return dict(con.execute("SELECT doc_no, doc_id FROM purchase_docs").fetchall())


def test_a_decision_taken_reviewed_confirmed_and_undone(books):
    rid = a_record()
    assert overrides.find_candidates([G], rid)["doc_no"].to_list() == ["INV-1", "INV-2"]
    with pytest.raises(overrides.DecisionError, match="RC-3 is under reverse charge"):
        overrides.link_record([G], rid, books["RC-3"], "same supply", "asha@firm.in")
    oid = overrides.link_record([G], rid, books["INV-1"], "same supply", "asha@firm.in")
    with connect() as con:
        assert overrides.decisions_in_force(con, G).rows() == [(rid, books["INV-1"], "link")]
    assert overrides.review_decisions(G) == 0
    with connect() as con:            # the supplier edits the record: a new portal version
        con.execute("UPDATE ims_records SET portal_fp = 12 WHERE record_id = ?", [rid])
    assert overrides.review_decisions(G) == 1
    with connect() as con:
        assert overrides.decisions_in_force(con, G).is_empty()
    assert bucket_counts([G], ImsFilter())["needs_review"] == 1
    assert overrides.decisions_to_review([G])["What changed"].to_list() == [
        overrides.SUPPLIER_CHANGED]
    overrides.confirm_decision([G], oid, "ravi@firm.in")
    assert overrides.review_decisions(G) == 0          # confirmed on the version as it is now
    overrides.undo_decision([G], oid, "ravi@firm.in")
    broken = overrides.break_pair([G], rid, "not ours", "asha@firm.in", books["INV-2"])
    with connect() as con:
        assert overrides.decisions_in_force(con, G).rows() == [(rid, books["INV-2"], "break")]
        log = con.execute("SELECT kind, actor FROM action_log WHERE record_id = ? "
                          "ORDER BY log_id", [rid]).fetchall()
    assert log == [("manual_link", "asha@firm.in"), ("override_review", "worker"),
                   ("override_confirmed", "ravi@firm.in"), ("override_undone", "ravi@firm.in"),
                   ("unlink", "asha@firm.in")]
    assert [d["override_id"] for d in overrides.record_decisions([G], rid)] == [broken]


def test_a_document_linked_to_another_record_leaves_the_first(books):
    first, second = a_record("SI-9"), a_record("SI-10")
    overrides.link_record([G], first, books["INV-1"], "same supply", "asha@firm.in")
    overrides.link_record([G], second, books["INV-1"], "no, this one", "ravi@firm.in")
    with connect() as con:
        assert overrides.decisions_in_force(con, G).rows() == [(second, books["INV-1"], "link")]
        log = con.execute("SELECT record_id, kind FROM action_log ORDER BY log_id").fetchall()
    assert log == [(first, "manual_link"), (first, "override_undone"), (second, "manual_link")]


def a_2a_document(doc_no: str = "SI-9", txval: int = 1000) -> None:
    with connect() as con:
        con.execute("INSERT INTO gstr2a_docs (rtin, ret_period, section, stin, doc_type, doc_no, "
                    "doc_date, pos, txval, igst, cgst, sgst, cess, fetched_at) VALUES "
                    "(?, '102025', 'b2b', ?, 'INV', ?, DATE '2025-10-03', '27', ?, 0, 90, 90, "
                    "0, current_timestamp)", [G, SAHYADRI, doc_no, txval])


def test_a_2a_decision_taken_reviewed_confirmed_and_undone(books):
    a_2a_document()
    shown = {"stin": SAHYADRI, "doc_type": "INV", "doc_no": "si-9 "}   # as typed: same key
    oid = document_overrides.link_document([G], G, "2a", shown, books["INV-2"], "same supply",
                                           "asha@firm.in")
    with connect() as con:
        assert document_overrides.document_decisions_in_force(con, G, "2a").rows() == [
            (SAHYADRI, "INV", 2025, "SI-9", books["INV-2"], "link")]
        assert overrides.decisions_in_force(con, G).is_empty()     # not an IMS decision
    assert overrides.review_decisions(G) == 0
    with connect() as con:            # the supplier edits the document: a re-fetch
        con.execute("UPDATE gstr2a_docs SET txval = 1100 WHERE doc_no = 'SI-9'")
    assert overrides.review_decisions(G) == 1
    assert overrides.decisions_to_review([G])["What changed"].to_list() == [
        overrides.SUPPLIER_CHANGED]
    overrides.confirm_decision([G], oid, "ravi@firm.in")
    assert overrides.review_decisions(G) == 0
    assert [d["override_id"] for d in document_overrides.document_decisions(
        [G], G, "2a", shown)] == [oid]
    overrides.undo_decision([G], oid, "ravi@firm.in")
    with connect() as con:
        assert document_overrides.document_decisions_in_force(con, G, "2a").is_empty()
        log = con.execute("SELECT kind, note FROM action_log ORDER BY log_id").fetchall()
    assert [k for k, _ in log] == ["manual_link", "override_review", "override_confirmed",
                                   "override_undone"]
    assert all(n.startswith("GSTR-2A invoice SI-9: ") for _, n in log)
