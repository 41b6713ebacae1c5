"""Sync: recommendations onto IMS records from the store (the files in tests/data/samples/).

The IMS sample goes in through the fetch's own store step, the purchase register through
the real import, the GSTR-2A sample through the fetch's 2A store step.
"""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from core.clock import utc_now
from core.ims.store import incoming_frame, store_gstr2a, store_ims
from core.ims.sync import SyncError, apply_sync, run_reconciliation
from core.portal import payload as portal
from core.purchase import import_purchase_file
from core.store.database import connect, put_setting, transaction
from tests.fixtures import BOTH_ENGINES, SAMPLES

G = "27AAACW1234K1ZD"
# tests/data/samples/README.md, default settings (doc_no -> status, action), in record order
EXPECTED_IMS = [
    ("SI/2025-26/0101", "exact", "A"), ("si-102", "partial", "A"), ("SI/2025-26/0103", "exact", "A"),
    ("KA-7781", "mismatch", "P"), ("KA-7790", "exact", "P"), ("GJ/555", "missing_in_pr", "P"),
    ("GJ/555", "duplicate", "R"), ("GJ/560", "missing_in_pr", "R"), ("KA-7795", "probable", "P"),
    ("CN/25-26/007", "exact", "A"),
]


def load_samples(sync_source: str = "ims_vs_pr") -> None:
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code, sync_source) VALUES (?, 'Sample', '27', ?)",
                    [G, sync_source])
    records = portal.flatten_ims(json.loads((SAMPLES / "ims_getinv_sample.json").read_text()))
    with connect() as con, transaction(con):
        store_ims(con, G, incoming_frame(G, records), utc_now(), "test")
    assert import_purchase_file(str(SAMPLES / "purchase_register_sample.csv"), actor="test").ok


def ims_rows() -> list[tuple]:
    with connect() as con:
        return con.execute("SELECT doc_no, match_status, recommended_action, prev_recommended_action, "
                           "reasons, counterpart_doc_id, user_action, reco_run_id FROM ims_records "
                           "ORDER BY record_id").fetchall()


def recommendation_log() -> list[tuple]:
    with connect() as con:
        return con.execute("SELECT record_id, old_value, new_value, note FROM action_log "
                           "WHERE kind = 'recommendation' ORDER BY log_id").fetchall()


@BOTH_ENGINES
def test_ims_vs_pr_writes_the_sample_recommendations(db_file):
    load_samples()
    counts = apply_sync(G)
    assert counts["records"] == 10 and counts["changed"] == 10
    rows = ims_rows()
    assert [(r[0], r[1], r[2]) for r in rows] == EXPECTED_IMS
    by_no = {r[0]: r for r in rows}
    assert "DOC_NO" in by_no["si-102"][4] and "ROUNDING" in by_no["SI/2025-26/0103"][4]
    assert by_no["KA-7781"][4] == "TAXABLE_VALUE;IGST"
    assert all(r[5] is not None for r in rows if r[1] in ("exact", "partial", "mismatch", "probable"))
    assert all(r[7] == counts["reco_run_id"] for r in rows)
    with connect() as con:
        run = con.execute("SELECT kind, policy, tolerance, date_window, counts FROM reco_runs").fetchall()
        results = con.execute("SELECT match_status, portal_doc_no, pr_doc_no, portal_txval, pr_txval, diff_txval "
                              "FROM reco_results ORDER BY portal_id NULLS LAST").fetchall()
    assert run == [("ims_vs_pr", "balanced", Decimal("1.00"), 10, run[0][4])]
    assert json.loads(run[0][4])["missing_in_portal"] == 1
    assert results[2][3:] == (Decimal("12000.50"), Decimal("12000.00"), Decimal("0.50"))  # money back to DECIMAL
    assert results[-1][:3] == ("missing_in_portal", None, "RP-88")
    assert len(recommendation_log()) == 10


def test_a_changed_setting_changes_recommendations_keeps_user_actions_and_logs_only_changes(db_file):
    load_samples()
    apply_sync(G)
    with connect() as con:
        con.execute("UPDATE ims_records SET user_action = 'A', user_action_by = 'analyst' WHERE doc_no = 'KA-7781'")
        put_setting(con, "policy", "strict")
    before = len(recommendation_log())
    counts = apply_sync(G)
    assert counts["changed"] == 2
    changed = recommendation_log()[before:]
    assert [(old, new) for _, old, new, _ in changed] == [("P", "R"), ("P", "R")]
    by_no = {r[0]: r for r in ims_rows()}
    assert by_no["KA-7781"][2:4] == ("R", "P") and by_no["KA-7781"][6] == "A"  # user's action kept
    assert by_no["KA-7795"][2:4] == ("R", "P")
    assert by_no["SI/2025-26/0101"][2:4] == ("A", None)   # unchanged: not written again
    assert apply_sync(G)["changed"] == 0
    assert len(recommendation_log()) == before + 2
    # the previous recommendation is the one before the last change, not the last sync's
    assert {r[0]: r for r in ims_rows()}["KA-7781"][2:4] == ("R", "P")


def test_records_no_longer_on_the_portal_are_not_reconciled(db_file):
    load_samples()
    with connect() as con:
        con.execute("UPDATE ims_records SET removed_at = current_timestamp WHERE doc_no = 'KA-7795'")
    counts = apply_sync(G)
    assert counts["records"] == 9
    removed = next(r for r in ims_rows() if r[0] == "KA-7795")
    assert removed[1] is None and removed[2] is None
    with connect() as con:
        # its books document is now unmatched
        assert con.execute("SELECT match_status FROM reco_results WHERE pr_doc_no = 'KA-7759'").fetchone() \
            == ("missing_in_portal",)


def test_source_off_writes_nothing(db_file):
    load_samples("off")
    assert apply_sync(G) == {"source": "off", "records": 0, "changed": 0}
    assert all(r[1] is None for r in ims_rows())
    with connect() as con:
        assert con.execute("SELECT count(*) FROM reco_runs").fetchone()[0] == 0


def test_2a_vs_pr_projects_2a_statuses_onto_ims_records(db_file):
    load_samples("2a_vs_pr")
    records = portal.flatten_gstr2a(json.loads((SAMPLES / "gstr2a_b2b_sample.json").read_text()))
    with connect() as con, transaction(con):
        store_gstr2a(con, G, ["102025"], records, utc_now())
    counts = apply_sync(G)
    assert counts["source"] == "2a_vs_pr" and counts["records"] == 10
    got = {(r[0], r[1], r[2]) for r in ims_rows()}   # GJ/560: Pending blocked, not filed -> A
    for expected in [("SI/2025-26/0101", "exact", "A"), ("si-102", "partial", "A"),
                     ("KA-7781", "mismatch", "P"), ("KA-7790", "not_in_2a", "P"),
                     ("GJ/560", "not_in_2a", "A"), ("GJ/555", "duplicate", "R")]:
        assert expected in got
    with connect() as con:
        linked = con.execute("SELECT count(*) FROM reco_results JOIN reco_runs USING (run_id) "
                             "WHERE kind = '2a_vs_pr' AND ims_record_id IS NOT NULL").fetchone()[0]
        kinds = [k for (k,) in con.execute("SELECT kind FROM reco_runs ORDER BY run_id").fetchall()]
        written = con.execute("SELECT DISTINCT r.kind FROM ims_records i JOIN reco_runs r "
                              "ON r.run_id = i.reco_run_id").fetchall()
    assert kinds == ["ims_vs_pr", "2a_vs_pr"] and linked == 5  # each 2A document points at its IMS record
    assert written == [("2a_vs_pr",)] and counts["reco_run_ids"]["2a_vs_pr"] == counts["reco_run_id"]


def test_a_2a_source_keeps_the_books_match_of_ims_vs_pr(db_file):
    load_samples("ims_vs_pr")
    records = portal.flatten_gstr2a(json.loads((SAMPLES / "gstr2a_b2b_sample.json").read_text()))
    with connect() as con, transaction(con):
        store_gstr2a(con, G, ["102025"], records, utc_now())
    apply_sync(G)
    books_sql = ("SELECT doc_no, counterpart_doc_id, books_status FROM ims_records "
                 "ORDER BY doc_no, record_id")   # two records share GJ/555
    with connect() as con:
        by_ims = con.execute(books_sql).fetchall()
        con.execute("UPDATE businesses SET sync_source = '2a_vs_pr' WHERE gstin = ?", [G])
    counts = apply_sync(G)
    with connect() as con:
        by_2a = con.execute(books_sql).fetchall()
        statuses = dict(con.execute("SELECT doc_no, match_status FROM ims_records").fetchall())
    assert counts["source"] == "2a_vs_pr" and statuses["KA-7790"] == "not_in_2a"
    assert by_2a == by_ims and any(doc for _, doc, _ in by_2a)
    assert {d: s for d, _, s in by_2a}["KA-7790"] not in (None, "not_in_2a")


def test_run_reconciliation_keeps_a_run_for_chosen_periods_without_touching_records(db_file):
    load_samples()
    run_id = run_reconciliation(G, "ims_vs_pr", ["102025"], actor="analyst@example.com")
    with connect() as con:
        run = con.execute("SELECT periods, triggered_by FROM reco_runs WHERE run_id = ?", [run_id]).fetchone()
        n = con.execute("SELECT count(*) FROM reco_results WHERE run_id = ?", [run_id]).fetchone()[0]
    assert run == ("102025", "analyst@example.com") and n == 11
    assert all(r[1] is None for r in ims_rows())
    assert run_reconciliation(G, "ims_vs_pr", ["092025"]) > run_id  # nothing in that period: still a run
    with pytest.raises(SyncError, match="not MMYYYY"):
        run_reconciliation(G, "ims_vs_pr", ["2025-10"])


@BOTH_ENGINES
def test_a_sync_that_fails_writes_nothing(db_file):
    load_samples()
    with connect() as con:
        put_setting(con, "policy", "lenient")
    with pytest.raises(ValueError, match="policy"):
        apply_sync(G)
    assert all(r[1] is None for r in ims_rows())
    with connect() as con:
        assert con.execute("SELECT count(*) FROM reco_runs").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM action_log WHERE kind = 'recommendation'").fetchone()[0] == 0


@BOTH_ENGINES
def test_a_sync_over_unchanged_data_writes_no_record(db_file):
    load_samples()
    apply_sync(G)
    before = ims_rows()
    with connect() as con:
        synced = con.execute("SELECT record_id, synced_at FROM ims_records ORDER BY record_id"
                             ).fetchall()
    counts = apply_sync(G)
    assert counts["changed"] == 0 and counts["records"] == 10
    with connect() as con:
        assert con.execute("SELECT record_id, synced_at FROM ims_records ORDER BY record_id"
                           ).fetchall() == synced
        runs = con.execute("SELECT count(*) FROM reco_runs WHERE finished_at IS NOT NULL"
                           ).fetchall()
    assert ims_rows() == before and runs == [(2,)]     # the second run is kept all the same


@BOTH_ENGINES
def test_a_sync_written_in_parts_writes_every_record_once(db_file, monkeypatch):
    monkeypatch.setattr("core.store.dialect.SHORT_WRITE_ROWS", 3)   # PostgreSQL: 4 parts of 10
    load_samples()
    counts = apply_sync(G)
    assert counts["changed"] == 10
    assert [(r[0], r[1], r[2]) for r in ims_rows()] == EXPECTED_IMS
    assert len(recommendation_log()) == 10
    with connect() as con:
        assert con.execute("SELECT count(*) FROM reco_runs WHERE finished_at IS NULL"
                           ).fetchall() == [(0,)]
    assert apply_sync(G)["changed"] == 0
