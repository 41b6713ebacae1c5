"""Decisions by hand on a real store (the samples of tests/data/samples/ through the fetch's own
store step and the real import): a link and a broken pair survive a re-fetch and a re-sync; a
supplier's edit or a books rollback puts the decision in "needs review" and the record falls
back to the engine's answer until someone confirms or drops it; undo; permissions; history."""
from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from core.auth import PermissionDenied, User
from core.calendar.panel import business_panel
from core.clock import utc_now
from core.ims import overrides
from core.ims.dashboard import action_counts
from core.ims.history import record_history
from core.ims.store import incoming_frame, store_gstr2a, store_ims
from core.ims.sync import apply_sync
from core.ims.view import ImsFilter, bucket_counts
from core.matched import agrees
from core.portal import payload as portal
from core.purchase import list_batches, rollback_batch
from core.reco.view import top_suppliers_at_risk
from core.store import connect, transaction
from core.suppliers import worklist
from tests.fixtures import SAMPLES
from tests.fixtures import rows as rows_of
from tests.test_sync import load_samples

G = "27AAACW1234K1ZD"
ASHA = "asha@firm.in"


def sample_records() -> list[dict]:
    return portal.flatten_ims(json.loads((SAMPLES / "ims_getinv_sample.json").read_text()))


def fetch_again(records: list[dict]) -> None:
    with connect() as con, transaction(con):
        store_ims(con, G, incoming_frame(G, records), utc_now(), "worker")


def record(doc_no: str) -> dict:
    with connect() as con:
        cur = con.execute("SELECT record_id, match_status, counterpart_doc_id, recommended_action, "
                          "reasons FROM ims_records WHERE doc_no = ? ORDER BY record_id LIMIT 1",
                          [doc_no])
        return dict(zip([d[0] for d in cur.description], cur.fetchall()[0]))


def doc_id(doc_no: str) -> int:
    with connect() as con:
        return con.execute("SELECT doc_id FROM purchase_docs WHERE doc_no = ?",
                           [doc_no]).fetchall()[0][0]


def states() -> list[tuple]:
    with connect() as con:
        return con.execute("SELECT kind, state, review_why FROM reco_overrides "
                           "ORDER BY override_id").fetchall()


@pytest.fixture
def synced(db_file):
    load_samples()
    apply_sync(G)
    return db_file


def test_a_link_and_a_broken_pair_survive_refetch_and_resync(synced):
    engine_pair = record("KA-7795")
    assert (engine_pair["match_status"], engine_pair["counterpart_doc_id"]) == \
        ("probable", doc_id("KA-7759"))
    overrides.link_record([G], record("GJ/555")["record_id"], doc_id("RP-88"),
                          "booked under the Maharashtra GSTIN", ASHA)
    overrides.break_pair([G], engine_pair["record_id"], "a different invoice", ASHA)
    for _ in range(2):                 # the sync after the decisions, then fetch + sync again
        apply_sync(G)
        linked, broken = record("GJ/555"), record("KA-7795")
        assert (linked["match_status"], linked["counterpart_doc_id"]) == ("manual",
                                                                          doc_id("RP-88"))
        assert "SUPPLIER_GSTIN" in linked["reasons"] and linked["recommended_action"] == "P"
        assert broken["counterpart_doc_id"] is None
        assert broken["match_status"] == "missing_in_pr"
        fetch_again(sample_records())
    with connect() as con:
        kept = con.execute("SELECT match_status, match_pass, pr_doc_no FROM reco_results r "
                           "JOIN reco_runs u USING (run_id) WHERE r.match_pass = 'manual' "
                           "ORDER BY run_id DESC LIMIT 1").fetchall()
    assert kept == [("manual", "manual", "RP-88")]
    assert states() == [("link", "active", None), ("break", "active", None)]
    history = record_history([G], record("GJ/555")["record_id"])
    assert ("Matched by hand", "invoice RP-88") in history.select("What", "After").rows()
    assert "booked under the Maharashtra GSTIN" in history["Details"].to_list()


def test_a_manual_link_that_agrees_is_accept(synced):
    # KA-7790's books twin is unpaired after a break of the key pair; a link makes it manual
    rid, books = record("SI/2025-26/0101")["record_id"], doc_id("SI/2025-26/0101")
    overrides.break_pair([G], rid, "checking", ASHA)
    apply_sync(G)
    assert record("SI/2025-26/0101")["counterpart_doc_id"] is None
    overrides.link_record([G], rid, books, "it is the same after all", ASHA)
    apply_sync(G)
    assert [(k, s) for k, s, _ in states()] == [("break", "undone"), ("link", "active")]
    now = record("SI/2025-26/0101")
    assert (now["match_status"], now["recommended_action"], now["counterpart_doc_id"]) == \
        ("manual", "A", books)


def matched_figures() -> dict:
    """What the screens count as matched: the Dashboard's matched records, the deadline
    panel's unmatched records with no action, the latest run's records and tax at risk."""
    with connect() as con:
        panel = business_panel(con, G, "Sample", dt.date(2025, 11, 5))
        run_id = con.execute("SELECT max(run_id) FROM reco_runs").fetchall()[0][0]
    at_risk = top_suppliers_at_risk(run_id, [G], limit=100)
    return {"matched": action_counts([G])["matched"].to_list(),
            "unmatched_no_action": panel["no_action"]["unmatched"],
            "at_risk": (at_risk["records"].sum(), round(at_risk["value_at_risk"].sum(), 2))}


def test_a_pair_made_by_hand_counts_as_matched_on_every_screen(synced):
    rid, books = record("SI/2025-26/0101")["record_id"], doc_id("SI/2025-26/0101")
    assert record("SI/2025-26/0101")["match_status"] in ("exact", "partial")
    by_engine = matched_figures()
    overrides.break_pair([G], rid, "checking", ASHA)
    apply_sync(G)
    broken = matched_figures()
    assert broken["matched"][0] == by_engine["matched"][0] - 1
    assert broken["unmatched_no_action"] == by_engine["unmatched_no_action"] + 1
    assert broken["at_risk"][0] > by_engine["at_risk"][0]
    overrides.link_record([G], rid, books, "it is the same after all", ASHA)
    apply_sync(G)
    assert record("SI/2025-26/0101")["match_status"] == "manual"
    assert matched_figures() == by_engine     # the same pair, by hand: the same figures


def test_a_pair_made_by_hand_that_differs_is_still_chased_with_the_supplier(synced):
    (rid, doc_no, books) = rows_of("SELECT record_id, doc_no, counterpart_doc_id FROM ims_records "
                                   "WHERE match_status = 'mismatch' ORDER BY record_id LIMIT 1")[0]
    chased = worklist(G).filter(pl.col("record_id") == rid)
    assert chased["kind"].to_list() == ["mismatch"]
    overrides.break_pair([G], rid, "checking", ASHA)
    apply_sync(G)
    overrides.link_record([G], rid, books, "the same invoice; the supplier must amend", ASHA)
    apply_sync(G)
    now = record(doc_no)
    assert now["match_status"] == "manual" and not agrees("manual", now["reasons"])
    again = worklist(G).filter(pl.col("record_id") == rid)
    assert again.select("kind", "to_fix").rows() == chased.select("kind", "to_fix").rows()
    assert agrees("manual", "DOC_NO;ROUNDING") and not agrees("mismatch", "")


def test_a_supplier_edit_puts_the_link_in_review_and_the_engine_answers(synced):
    rid = record("GJ/560")["record_id"]
    overrides.link_record([G], rid, doc_id("RP-88"), "same supply", ASHA)
    apply_sync(G)
    edited = [dict(r, txval=r["txval"] + 100) if r["doc_no"] == "GJ/560" else r
              for r in sample_records()]
    fetch_again(edited)
    apply_sync(G)
    assert states() == [("link", "needs_review", overrides.SUPPLIER_CHANGED)]
    fallback = record("GJ/560")
    assert (fallback["match_status"], fallback["counterpart_doc_id"]) == ("missing_in_pr", None)
    assert bucket_counts([G], ImsFilter())["needs_review"] == 1
    assert overrides.decisions_to_review([G])["What changed"].to_list() == \
        [overrides.SUPPLIER_CHANGED]
    (oid,) = [d["override_id"] for d in overrides.record_decisions([G], rid)]
    overrides.confirm_decision([G], oid, ASHA)
    apply_sync(G)
    assert record("GJ/560")["match_status"] == "manual"
    assert bucket_counts([G], ImsFilter())["needs_review"] == 0
    assert [w for w in record_history([G], rid)["What"] if "hand" in w] == [
        "Matched by hand", "Decision by hand needs review (something changed)",
        "Decision by hand confirmed after a change"]


def test_a_books_rollback_puts_the_link_in_review_until_dropped(synced):
    rid = record("GJ/560")["record_id"]
    overrides.link_record([G], rid, doc_id("RP-88"), "same supply", ASHA)
    apply_sync(G)
    rollback_batch(list_batches()[0]["batch_id"], actor=ASHA)
    apply_sync(G)
    assert states() == [("link", "needs_review", overrides.BOOKS_CHANGED)]
    assert record("GJ/560")["match_status"] == "missing_in_pr"
    (oid,) = overrides.decisions_to_review([G])["override_id"].to_list()
    with pytest.raises(overrides.DecisionError, match="invoice RP-88 was edited, replaced or "
                                                      "rolled back: drop"):
        overrides.confirm_decision([G], oid, ASHA)
    overrides.drop_decision([G], oid, ASHA)
    assert states() == [("link", "dropped", None)]
    assert overrides.decisions_to_review([G]).is_empty()


def test_undo_gives_the_pair_back_to_the_engine_and_is_logged(synced):
    rid = record("KA-7795")["record_id"]
    oid = overrides.break_pair([G], rid, "a different invoice", ASHA)
    apply_sync(G)
    overrides.undo_decision([G], oid, "ravi@firm.in")
    apply_sync(G)
    assert record("KA-7795")["counterpart_doc_id"] == doc_id("KA-7759")
    history = record_history([G], rid)
    assert history.filter(history["What"] == "Decision by hand undone")["Who"].to_list() == \
        ["ravi@firm.in"]
    with pytest.raises(overrides.DecisionError, match="undone already"):
        overrides.undo_decision([G], oid, ASHA)


def test_decisions_need_the_act_permission_the_business_and_a_reason_and_search(synced):
    rid, books = record("GJ/560")["record_id"], doc_id("RP-88")
    auditor = User(user_id=9, email="audit@firm.in", role="auditor")
    with pytest.raises(PermissionDenied, match="may not act"):
        overrides.link_record([G], rid, books, "same supply", auditor)
    with pytest.raises(overrides.DecisionError, match="not one of the records you may see"):
        overrides.link_record(["29AAGCB7383J1Z4"], rid, books, "same supply", ASHA)
    with pytest.raises(overrides.DecisionError, match="Say why"):
        overrides.link_record([G], rid, books, "   ", ASHA)
    with pytest.raises(overrides.DecisionError, match="no pair to break"):
        overrides.break_pair([G], rid, "no", ASHA)
    analyst = User(user_id=3, email="ana@firm.in", role="analyst")
    overrides.link_record([G], rid, books, "same supply", analyst)
    assert states() == [("link", "active", None)]
    # the books search: closest in value to the record first
    rid = record("KA-7795")["record_id"]
    found = overrides.find_candidates([G], rid, supplier="29AAFCK")
    assert found["doc_no"].to_list()[0] == "KA-7759"     # same taxable value as the record
    assert set(found["doc_no"]) == {"KA-7759", "KA-7781", "KA-7790"}
    assert overrides.find_candidates([G], rid, number="7781")["doc_no"].to_list() == ["KA-7781"]
    assert overrides.find_candidates([G], rid, amount=8000)["doc_no"].to_list() == ["KA-7790"]
    shown = overrides.candidates_in_words(found)
    assert shown["Paired now with"][0] == "KA-7795" and shown["Taxable ₹"][0] == "9,000.00"


def test_with_gstr2a_as_the_source_a_link_by_hand_still_stands(db_file):
    load_samples("2a_vs_pr")
    records = portal.flatten_gstr2a(json.loads((SAMPLES / "gstr2a_b2b_sample.json").read_text()))
    with connect() as con, transaction(con):
        store_gstr2a(con, G, ["102025"], records, utc_now())
    apply_sync(G)
    assert record("GJ/560")["match_status"] != "manual"
    overrides.link_record([G], record("GJ/560")["record_id"], doc_id("RP-88"), "same", ASHA)
    assert apply_sync(G)["source"] == "2a_vs_pr"
    linked = record("GJ/560")
    assert (linked["match_status"], linked["counterpart_doc_id"]) == ("manual", doc_id("RP-88"))


def test_a_link_to_an_original_moves_to_its_amendment(synced):
    original = record("GJ/560")["record_id"]
    overrides.link_record([G], original, doc_id("RP-88"), "same supply", ASHA)
    records = sample_records()
    (gj,) = [r for r in records if r["doc_no"] == "GJ/560"]
    amendment = dict(gj, section="b2ba", doc_no="GJ/560A", orig_doc_no="GJ/560",
                     orig_doc_date=gj["doc_date"], rtnprd="112025", ispendactblocked="N",
                     txval=600_000, igst=108_000, line=1)
    fetch_again([*records, amendment])        # the supplier amends the original
    apply_sync(G)
    latest = record("GJ/560A")
    assert (latest["match_status"], latest["counterpart_doc_id"]) == ("manual",
                                                                      doc_id("RP-88"))
    assert record("GJ/560")["match_status"] == "amended"
    assert states() == [("link", "active", None)]      # the original itself did not change
    (shown,) = overrides.record_decisions([G], latest["record_id"])
    assert (shown["record_id"], shown["on_record"]) == (original, "GJ/560")
