"""Decisions by hand on GSTR-2A and GSTR-2B documents, on a real store (the samples of
tests/data/samples/ through the fetch's own store steps and the real import): a link and a
broken pair of a 2A document survive a re-fetch and a re-sync, and the broken pair is never
paired again; a supplier's edit of the 2A document puts the decision in "needs review" (the
engine's answer until someone confirms); a GSTR-2B run honours a link; undo and permissions
as for IMS decisions."""
from __future__ import annotations

import copy
import json

import pytest

from core.auth import PermissionDenied, User
from core.clock import utc_now
from core.gstr2b.store import store_2b
from core.ims import document_overrides as docs
from core.ims import overrides
from core.ims.history import record_history
from core.ims.store import store_gstr2a
from core.ims.sync import apply_sync, run_reconciliation
from core.portal import payload as portal
from core.portal.payload.gstr2b import flatten_2b
from core.store import connect, transaction
from tests.fixtures import SAMPLES
from tests.test_sync import load_samples

G = "27AAACW1234K1ZD"
ASHA = "asha@firm.in"
GJ555 = {"stin": "24AAGPR9876N2ZO", "doc_type": "INV", "doc_no": "GJ/555"}
SI101 = {"stin": "27AABCS5678L1ZQ", "doc_type": "INV", "doc_no": "SI/2025-26/0101"}


def records_2a() -> list[dict]:
    return portal.flatten_gstr2a(json.loads((SAMPLES / "gstr2a_b2b_sample.json").read_text()))


def fetch_2a(records: list[dict]) -> None:
    with connect() as con, transaction(con):
        store_gstr2a(con, G, ["102025"], records, utc_now())


def doc_id(doc_no: str) -> int:
    with connect() as con:
        return con.execute("SELECT doc_id FROM purchase_docs WHERE doc_no = ?",
                           [doc_no]).fetchall()[0][0]


def row_2a(doc_no: str, kind: str = "2a_vs_pr") -> tuple:
    """(status, books doc id, action) of the document in the latest run of `kind`."""
    with connect() as con:
        return con.execute(
            "SELECT r.match_status, r.pr_doc_id, r.recommended_action FROM reco_results r "
            "WHERE r.run_id = (SELECT max(run_id) FROM reco_runs WHERE kind = ?) "
            "AND r.portal_doc_no = ?", [kind, doc_no]).fetchall()[0]


def states() -> list[tuple]:
    with connect() as con:
        return con.execute("SELECT source, kind, state, review_why FROM reco_overrides "
                           "ORDER BY override_id").fetchall()


@pytest.fixture
def synced_2a(db_file):
    load_samples("2a_vs_pr")
    fetch_2a(records_2a())
    apply_sync(G)
    return db_file


def test_a_2a_link_and_broken_pair_survive_refetch_and_resync(synced_2a):
    assert row_2a("SI/2025-26/0101")[:2] == ("exact", doc_id("SI/2025-26/0101"))
    assert row_2a("GJ/555")[1] is None
    docs.link_document([G], G, "2a", GJ555, doc_id("RP-88"), "booked under our MH GSTIN", ASHA)
    docs.break_document([G], G, "2a", SI101, doc_id("SI/2025-26/0101"), "a different supply",
                        ASHA)
    for _ in range(2):              # the sync after the decisions, then re-fetch + sync again
        apply_sync(G)
        status, books, action = row_2a("GJ/555")
        assert (status, books, action) == ("manual", doc_id("RP-88"), "P")  # amounts differ
        assert row_2a("SI/2025-26/0101")[:2] == ("missing_in_pr", None)   # never re-paired
        with connect() as con:      # the source is 2A: the IMS records take the 2A answer
            onto = dict(con.execute("SELECT doc_no, match_status FROM ims_records "
                                    "WHERE doc_no IN ('SI/2025-26/0101')").fetchall())
        assert onto == {"SI/2025-26/0101": "missing_in_pr"}
        fetch_2a(records_2a())
    run_reconciliation(G, "2a_vs_pr")                # a run of its own honours them too
    assert row_2a("GJ/555")[:2] == ("manual", doc_id("RP-88"))
    assert row_2a("SI/2025-26/0101")[:2] == ("missing_in_pr", None)
    assert [s[:3] for s in states()] == [("2a", "link", "active"), ("2a", "break", "active")]
    with connect() as con:          # logged on the IMS record of the same document
        rid = con.execute("SELECT min(record_id) FROM ims_records WHERE doc_no = "
                          "'SI/2025-26/0101'").fetchall()[0][0]
    history = record_history([G], rid)
    assert ("Pair broken by hand", "invoice SI/2025-26/0101") in \
        history.select("What", "Before").rows()
    assert "GSTR-2A invoice SI/2025-26/0101: a different supply" in history["Details"].to_list()


def test_a_supplier_edit_of_the_2a_document_needs_review(synced_2a):
    oid = docs.link_document([G], G, "2a", GJ555, doc_id("RP-88"), "same supply", ASHA)
    apply_sync(G)
    assert row_2a("GJ/555")[0] == "manual"
    edited = copy.deepcopy(records_2a())
    for r in edited:
        if r["doc_no"] == "GJ/555":
            r["txval"] += 100_000            # the supplier corrects the taxable value
    fetch_2a(edited)
    apply_sync(G)
    assert states() == [("2a", "link", "needs_review", overrides.SUPPLIER_CHANGED)]
    assert row_2a("GJ/555")[0] != "manual"           # the engine's own answer meanwhile
    waiting = overrides.decisions_to_review([G])
    assert waiting["Portal document"].to_list() == ["GSTR-2A invoice GJ/555"]
    overrides.confirm_decision([G], oid, "ravi@firm.in")
    apply_sync(G)
    assert states()[0][2] == "active" and row_2a("GJ/555")[0] == "manual"
    assert overrides.review_decisions(G) == 0          # confirmed on the document as it is
    overrides.undo_decision([G], oid, "ravi@firm.in")
    apply_sync(G)
    assert row_2a("GJ/555")[0] != "manual" and states()[0][2] == "undone"


def test_a_2b_run_honours_a_link_and_2a_decisions_stay_out_of_it(synced_2a):
    head, rows = flatten_2b(json.loads((SAMPLES / "gstr2b_sample.json").read_text()))
    store_2b(G, "102025", head, rows)
    gj570 = {"stin": "24AAHFG1357P1Z5", "doc_type": "INV", "doc_no": "GJ/570"}
    run_reconciliation(G, "2b_vs_pr", ["102025"])
    assert row_2a("GJ/570", "2b_vs_pr")[0] == "missing_in_pr"
    docs.link_document([G], G, "2a", SI101, doc_id("RP-88"), "2A only", ASHA)
    docs.link_document([G], G, "2b", gj570, doc_id("RP-88"), "same supply", ASHA)
    run_reconciliation(G, "2b_vs_pr", ["102025"])
    assert row_2a("GJ/570", "2b_vs_pr")[:2] == ("manual", doc_id("RP-88"))
    assert row_2a("SI/2025-26/0101", "2b_vs_pr")[:2] == ("exact", doc_id("SI/2025-26/0101"))
    with connect() as con:
        advice = con.execute("SELECT itc_advice FROM reco_results WHERE portal_doc_no = "
                             "'GJ/570' ORDER BY run_id DESC LIMIT 1").fetchall()[0][0]
    assert advice == "claim"                         # a pair made by hand counts as matched


def test_only_people_who_may_act_on_that_business_decide(synced_2a):
    viewer = User(user_id=8, email="v@firm.in", role="auditor")
    with pytest.raises(PermissionDenied):
        docs.link_document([G], G, "2a", GJ555, doc_id("RP-88"), "why not", viewer)
    with pytest.raises(overrides.DecisionError, match="not one of the businesses you may see"):
        docs.link_document(["29AAGCB7383J1Z4"], G, "2a", GJ555, doc_id("RP-88"), "x", ASHA)
    with pytest.raises(overrides.DecisionError, match="GSTR-2A invoice NOPE-1 of .* is not in"):
        docs.link_document([G], G, "2a", {**GJ555, "doc_no": "NOPE-1"}, doc_id("RP-88"), "x",
                           ASHA)
    with pytest.raises(overrides.DecisionError, match="Say why"):
        docs.break_document([G], G, "2a", SI101, doc_id("SI/2025-26/0101"), "  ", ASHA)
    assert states() == []
