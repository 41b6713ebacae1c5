"""Negative amounts in a purchase register as a tax professional reads them (issue 24, item 8;
docs/reconciliation.md, "Inputs"): a negative line reduces its document; an invoice or debit
note whose lines net below zero is refused, naming file, line and field; and what an import
or a rollback says it moves is net, as the file adds up (credit notes subtract)."""
from __future__ import annotations

import datetime as dt

from core.purchase import (
    duplicate_table,
    import_purchase_file,
    rollback_figures,
    valid_figures,
    validate_purchase_file,
)
from tests.fixtures import line, rows, write_csv

TODAY = dt.date(2025, 11, 1)
NETTING = [line(doc_no="INV-1", txval="30000", cgst="2700", sgst="2700"),
           line(doc_no="INV-1", txval="10000", cgst="900", sgst="900"),
           line(doc_no="INV-2", txval="8000", cgst="720", sgst="720"),
           line(doc_no="INV-2", txval="-3000", cgst="-270", sgst="-270"),   # a discount line
           line(doc_no="CN-1", doc_type="CRN", txval="-10000", cgst="-900", sgst="-900")]


def test_a_negative_line_reduces_its_document_and_the_figures_are_net(store, tmp_path):
    path = write_csv(tmp_path, "net.csv", NETTING)
    v = validate_purchase_file(path, today=TODAY, valid_only=True)
    assert v.ok and v.warning_count == 0
    fig = valid_figures(v)
    assert (fig["taxable"], fig["tax"]) == (35000, 6300)     # 40,000 + 5,000 - 10,000
    result = import_purchase_file(path, today=TODAY)
    assert result.ok, result.summary()
    stored = dict(rows("SELECT doc_no, txval FROM purchase_docs ORDER BY doc_no"))
    assert {k: float(v) for k, v in stored.items()} == {"CN-1": 10000, "INV-1": 40000,
                                                      "INV-2": 5000}
    fig = rollback_figures(result.batch_id)
    assert (fig["documents"], fig["taxable"], fig["tax"]) == (3, 35000, 6300)


def test_an_invoice_netting_below_zero_is_refused_by_file_line_and_field(store, tmp_path):
    path = write_csv(tmp_path, "below.csv", [
        line(doc_no="INV-9", txval="5000"), line(doc_no="INV-9", txval="-8000", cgst="-720",
                                                   sgst="-720"),
        line(doc_no="INV-10", txval="1000")])
    v = validate_purchase_file(path, today=TODAY, valid_only=True)
    assert not v.ok and v.docs["doc_no"].to_list() == ["INV-10"]
    (said,) = v.messages(severity="error")
    assert said.startswith("below.csv, line 2 of the file, field taxable_value: error:"), said
    assert "a document below zero is a credit note" in said
    assert v.tied["line"].to_list() == [2]                  # its other line goes with it
    assert float(v.problems["value"][0]) == -3000
    refused = import_purchase_file(path, today=TODAY)
    assert not refused.ok and rows("SELECT count(*) FROM purchase_docs") == [(0,)]


def test_duplicates_are_listed_in_words_by_their_line_of_the_file(store, tmp_path):
    path = write_csv(tmp_path, "twice.csv", [line(doc_no="INV-1"),
                                             line(doc_no="inv-1", date="2025-10-04")])
    (row,) = duplicate_table(validate_purchase_file(path, today=TODAY)).to_dicts()
    assert row == {"Line of the file": 3, "Supplier GSTIN": "27AABCS5678L1ZQ",
                   "Document": "Invoice inv-1", "Date": "04 Oct 2025",
                   "Repeats": "an earlier line of this file", "Import": "skipped",
                   "Why": "same supplier, type and number in FY 2025-26 as the document at line "
                          "2 of the file"}
