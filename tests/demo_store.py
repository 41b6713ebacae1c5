"""Demo data for the app tests, written straight into the store with SQL.

Two businesses, `n` IMS records each across sections, portal actions, match statuses and
recommendations; a purchase batch whose documents are the counterparts of the matched
records; one reconciliation run per business; and finished fetch/sync job runs.
"""
from __future__ import annotations

import datetime as dt

from core.db import connect, transaction
from core.documents import fy_of
from core.gstin import make_gstin

BUSINESSES = [("27AAPFU0939F1ZV", "Acme Fabrics Pvt Ltd"), ("29AAGCB7383J1Z4", "Bengal Tools Ltd")]
SUPPLIERS = [make_gstin(s, p) for s, p in
             [("27", "AABCS5678L"), ("29", "AAFCK4321M"), ("24", "AAQCA8719H"), ("33", "GSPTN0791G")]]
SECTIONS = ["b2b", "b2b", "b2b", "b2bcn", "b2bdn", "b2ba", "impg"]
STATUSES = ["exact", "exact", "partial", "mismatch", "probable", "missing_in_pr", "duplicate", None]
ACTION_FOR = {"exact": "A", "partial": "A", "mismatch": "P", "probable": "P", "missing_in_pr": "P",
              "duplicate": "R", None: None}
PORTAL_ACTIONS = ["N", "N", "N", "A", "R", "P"]


def ims_rows(rtin: str, n: int, run_id: int) -> list[tuple]:
    rows = []
    for i in range(n):
        section = SECTIONS[i % len(SECTIONS)]
        status = STATUSES[i % len(STATUSES)]
        day = dt.date(2025, 9 + (i % 2), 1 + i % 28)
        doc_type = {"b2bcn": "CRN", "b2bdn": "DBN", "impg": "BOE"}.get(section, "INV")
        txval = 1000 + 37 * i
        igst = round(txval * 0.18, 2)
        rec = ACTION_FOR[status]
        if doc_type == "BOE" and rec == "R":
            rec = "P"
        rows.append((rtin, section, SUPPLIERS[i % len(SUPPLIERS)], doc_type, f"INV-{rtin[:2]}-{i:04d}",
                     f"INV-{rtin[:2]}-{i:04d}", day, fy_of(day), f"{day.month:02d}{day.year}",
                     txval + igst, txval, igst, 0, 0, 0, "R1",
                     "Not Filed" if i % 11 == 0 else "Filed", PORTAL_ACTIONS[i % len(PORTAL_ACTIONS)],
                     "Y" if i % 13 == 0 else "N", status, "DOC_NO" if status == "partial" else None,
                     rec, run_id if status else None))
    return rows


def seed_demo(n_per_business: int = 60, with_jobs: bool = True) -> None:
    """Fill the store at IMS_DB_PATH with the demo data set."""
    now = dt.datetime(2025, 11, 12, 6, 0)
    with connect() as con, transaction(con):
        for gstin, name in BUSINESSES:
            con.execute("INSERT INTO businesses (gstin, name, state_code, fetch_time, sync_source) "
                        "VALUES (?, ?, ?, '06:00', 'ims_vs_pr')", [gstin, name, gstin[:2]])
        batch_id = con.execute("INSERT INTO purchase_batches (file_name, sha256, template, line_count, "
                               "doc_count, invalid_count, duplicate_count, warning_count, imported_by) "
                               "VALUES ('demo.csv', 'x', 'standard', 0, 0, 0, 0, 0, 'demo') "
                               "RETURNING batch_id").fetchall()[0][0]
        for gstin, _ in BUSINESSES:
            run_id = con.execute("SELECT nextval('reco_run_seq')").fetchall()[0][0]
            con.executemany(
                "INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, doc_no_key, doc_date, "
                "fy, rtnprd, val, txval, igst, cgst, sgst, cess, srcform, srcfilstatus, portal_action, "
                "ispendactblocked, match_status, reasons, recommended_action, reco_run_id, "
                "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, ?, ?, current_timestamp, current_timestamp)",
                ims_rows(gstin, n_per_business, run_id))
            _seed_books_and_reco(con, gstin, run_id, batch_id, now)
            if with_jobs:
                _seed_jobs(con, gstin, now)
        docs = con.execute("SELECT count(*) FROM purchase_docs WHERE batch_id = ?", [batch_id]).fetchall()[0][0]
        con.execute("UPDATE purchase_batches SET line_count = ?, doc_count = ? WHERE batch_id = ?",
                    [docs, docs, batch_id])


def _seed_books_and_reco(con, gstin: str, run_id: int, batch_id: int, now: dt.datetime) -> None:
    """Books counterparts for matched records (mismatches 10% lower) and a reco run."""
    con.execute("""
        INSERT INTO purchase_docs (batch_id, rtin, stin, supplier_name, doc_type, doc_no, doc_no_key,
               doc_date, fy, pos, rcm, txval, igst, cgst, sgst, cess, doc_value, line_no, line_count)
        SELECT ?, rtin, stin, 'Supplier ' || right(stin, 4), doc_type, doc_no, doc_no_key, doc_date, fy,
               '27', 'N', CASE WHEN match_status = 'mismatch' THEN txval * 0.9 ELSE txval END,
               igst, cgst, sgst, cess, val, record_id::INTEGER, 1
        FROM ims_records WHERE rtin = ? AND match_status IN ('exact', 'partial', 'mismatch', 'probable')
        ORDER BY record_id""", [batch_id, gstin])
    con.execute("""UPDATE ims_records SET counterpart_doc_id = p.doc_id, synced_at = ?
                   FROM purchase_docs p WHERE p.line_no = ims_records.record_id AND ims_records.rtin = ?""",
                [now, gstin])
    con.execute("INSERT INTO reco_runs (run_id, rtin, kind, periods, policy, tolerance, date_window, "
                "started_at, finished_at, counts, triggered_by) VALUES (?, ?, 'ims_vs_pr', '', "
                "'balanced', 1.00, 10, ?, ?, '{}', 'demo')", [run_id, gstin, now, now])
    con.execute("""
        INSERT INTO reco_results (run_id, portal_id, ims_record_id, pr_doc_id, match_status, match_pass,
               recommended_action, reasons, company_gstin, supplier_gstin, doc_type, rtnprd,
               portal_doc_no, portal_doc_date, pr_doc_no, pr_doc_date, pr_line, portal_txval, pr_txval,
               portal_tax, pr_tax, diff_txval, diff_tax)
        SELECT ?, r.record_id, r.record_id, p.doc_id, r.match_status, 'key', r.recommended_action,
               r.reasons, r.rtin, r.stin, r.doc_type, r.rtnprd, r.doc_no, r.doc_date, p.doc_no,
               p.doc_date, p.line_no, r.txval, p.txval, r.igst, p.igst, r.txval - p.txval, r.igst - p.igst
        FROM ims_records r LEFT JOIN purchase_docs p ON p.doc_id = r.counterpart_doc_id
        WHERE r.rtin = ? AND r.match_status IS NOT NULL""", [run_id, gstin])


def _seed_jobs(con, gstin: str, now: dt.datetime) -> None:
    for job, minutes, ok, error in [("fetch_ims", 0, True, None), ("sync", 5, True, None),
                                    ("fetch_ims", -1440, False, "HTTP 503 from GSP")]:
        started = now + dt.timedelta(minutes=minutes)
        con.execute("INSERT INTO job_runs (job, gstin, slot, started_at, finished_at, ok, error, "
                    "counts, triggered_by) VALUES (?, ?, ?, ?, ?, ?, ?, '{}', 'schedule')",
                    [job, gstin, started, started, started + dt.timedelta(seconds=20), ok, error])
