"""A supplier's name beside its GSTIN (core/business/supplier_names.py) on a real store: the books'
name first, else the GSTR-2B trade name, else for import of goods the port; never an empty
label; and the IMS download carries the 2B trade name where the books have none."""
from __future__ import annotations

import datetime as dt

from core.business.supplier_names import NOT_NAMED, supplier_labels, supplier_names
from core.gstr2b.store import store_2b
from core.ims.sync import apply_sync
from core.ims.view import ImsFilter, export_frame
from core.portal.payload.gstr2b import rows_frame
from core.purchase import import_purchase_file
from core.reco.view import export_with_words, results_export
from core.store.database import connect
from tests.fixtures import COMPANY, KAVERI, SAHYADRI, add_business, line, rows, write_csv

ONLY_2B = "33GSPTN0791G1Z5"
NOBODY = "24AAQCA8719H1ZW"
OTHER = "29AAGCB7383J1Z4"
PORT = "INNSA1"


def two_b(stin: str, name: str | None, doc_no: str, section: str = "b2b") -> dict:
    return {"section": section, "stin": stin, "trdnm": name, "doc_type": "INV",
            "doc_no": doc_no, "doc_date": dt.date(2025, 10, 3), "pos": "27", "rcm": "N",
            "val": 118000, "txval": 100000, "igst": 18000, "cgst": 0, "sgst": 0, "cess": 0,
            "itcavl": "Y", "rejected_in_ims": False, "line": 1}


def ims_record(con, rtin: str, stin: str, doc_no: str, section: str = "b2b") -> None:
    con.execute(
        "INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, doc_no_key, doc_date, "
        "fy, rtnprd, val, txval, igst, cgst, sgst, cess, srcform, srcfilstatus, portal_action, "
        "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, DATE '2025-10-03', '2025-26', '102025', "
        "1180, 1000, 180, 0, 0, 0, 'R1', 'Filed', 'N', current_timestamp, current_timestamp)",
        [rtin, section, stin, "BOE" if section == "impg" else "INV", doc_no, doc_no])


def test_books_then_2b_then_port_and_never_an_empty_label(store, tmp_path):
    books = write_csv(tmp_path, "pr.csv", [
        line(doc_no="S-1", stin=SAHYADRI, name="Sahyadri Steel"),
        line(doc_no="K-1", stin=KAVERI, name="", igst="180", cgst="0", sgst="0", pos="29")])
    assert import_purchase_file(books, actor="test", company_gstin=COMPANY).ok
    store_2b(COMPANY, "102025", {"version": "1"}, rows_frame([
        two_b(SAHYADRI, "Sahyadri Steel Industries (2B)", "S-1"),   # the books' name wins
        two_b(KAVERI, "Kaveri Traders", "K-1"),                     # books blank: 2B's name
        two_b(ONLY_2B, "Chennai Polymers", "C-1")]))
    add_business(OTHER, "Bengal Tools Ltd")
    store_2b(OTHER, "102025", {"version": "1"}, rows_frame([two_b(NOBODY, "Not this one",
                                                                  "X-1")]))

    names = supplier_names(COMPANY)
    assert names == {SAHYADRI: "Sahyadri Steel", KAVERI: "Kaveri Traders",
                     ONLY_2B: "Chennai Polymers"}          # the other business's names stay out
    labels = supplier_labels(COMPANY, [SAHYADRI, KAVERI, NOBODY, PORT])
    assert labels == {SAHYADRI: f"Sahyadri Steel · {SAHYADRI}",
                      KAVERI: f"Kaveri Traders · {KAVERI}",
                      NOBODY: f"{NOT_NAMED} · {NOBODY}",
                      PORT: "Import of goods (port INNSA1)"}
    assert all(label.strip() for label in labels.values())
    assert supplier_names(OTHER, [NOBODY]) == {NOBODY: "Not this one"}


def test_the_ims_download_names_the_supplier_from_the_2b_when_the_books_do_not(store):
    store_2b(COMPANY, "102025", {"version": "1"}, rows_frame([two_b(KAVERI, "Kaveri Traders",
                                                                    "K-9")]))
    with connect() as con:
        ims_record(con, COMPANY, KAVERI, "K-9")
        ims_record(con, COMPANY, NOBODY, "N-1")
        ims_record(con, COMPANY, PORT, "BE-1", section="impg")
    frame = export_frame([COMPANY], ImsFilter(), None)
    shown = dict(zip(frame["supplier_gstin"].to_list(), frame["supplier_name"].to_list()))
    assert shown == {KAVERI: "Kaveri Traders", NOBODY: None,
                     PORT: "Import of goods (port INNSA1)"}


def test_the_reconciliation_download_names_each_supplier(store, tmp_path):
    books = write_csv(tmp_path, "pr.csv", [line(doc_no="S-1", stin=SAHYADRI,
                                                name="Sahyadri Steel")])
    assert import_purchase_file(books, actor="test", company_gstin=COMPANY).ok
    store_2b(COMPANY, "102025", {"version": "1"}, rows_frame([two_b(KAVERI, "Kaveri Traders",
                                                                    "K-9")]))
    with connect() as con:
        ims_record(con, COMPANY, KAVERI, "K-9")
        ims_record(con, COMPANY, PORT, "BE-1", section="impg")
    apply_sync(COMPANY)
    [run_id] = [r[0] for r in rows("SELECT run_id FROM reco_runs WHERE kind = 'ims_vs_pr'")]
    download = export_with_words(results_export(run_id, [COMPANY]), [COMPANY])
    named = dict(zip(download["supplier_gstin"].to_list(), download["Supplier name"].to_list()))
    assert named == {SAHYADRI: "Sahyadri Steel", KAVERI: "Kaveri Traders",
                     PORT: "Import of goods (port INNSA1)"}
    words = download.columns[:download.columns.index("Supplier name")]
    assert "Status" in words and "match_status" in download.columns   # words, then codes
