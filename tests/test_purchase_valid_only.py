"""A purchase register with some faulty lines, as a GST analyst meets it (issue 14): the problem
table's Value is the faulty field's own value and the document number has a column of its own,
errors come first; Import says why it is off; the valid lines can be imported alone into the
real DuckDB store (a document with a faulty line is left out whole, nothing else changes, a
write that fails stores nothing); the rejected lines come back in the file's own columns plus
Problem; the CLI's --valid-only does the same."""
from __future__ import annotations

import csv
import datetime as dt
import io

import polars as pl
import pytest

from core.purchase import (
    import_off_reason,
    import_purchase_file,
    main,
    problem_table,
    rejected_csv_bytes,
    valid_figures,
    valid_only_words,
    validate_purchase_file,
)
from core.store.database import connect
from tests.fixtures import KAVERI, SAHYADRI, line, rows, write_csv

TODAY = dt.date(2025, 11, 1)
BAD_GSTIN = "27AAPFU0939F1ZO"          # check character wrong
DOCS = "SELECT doc_no, txval FROM purchase_docs ORDER BY doc_no"
EVERYTHING = ("SELECT (SELECT count(*) FROM purchase_batches), (SELECT count(*) FROM "
              "purchase_docs), (SELECT count(*) FROM purchase_docs WHERE replaced_by_batch IS "
              "NULL), (SELECT coalesce(sum(txval), 0) FROM purchase_docs)")


def mixed_lines() -> list[str]:
    """Lines 1-2: document A (two lines, fine); 3-4: B, its second line's amount no number;
    5-6: C, its first line's date impossible (so it no longer shares C's date); 7: D, fine
    credit note written negative; 8: E, wrong supplier GSTIN; 9: F fine, from another
    supplier; 10: G, a formula in the supplier name and an unknown type; 11: H, fine, dated in
    the future (a warning)."""
    return [
        line(doc_no="A-1", txval="1000"), line(doc_no="A-1", txval="500", cgst="45", sgst="45"),
        line(doc_no="B-1", txval="2000"), line(doc_no="B-1", txval="12x"),
        line(doc_no="C-1", date="31/02/2025"), line(doc_no="C-1", txval="3000"),
        line(doc_no="D-1", doc_type="CRN", txval="-12000", cgst="-1080", sgst="-1080"),
        line(doc_no="E-1", stin=BAD_GSTIN),
        line(doc_no="F-1", stin=KAVERI, name="Kaveri Components", pos="27", cgst="0",
             sgst="0", igst="180"),
        line(doc_no="G-1", name="=HYPERLINK(\"http://x\")", doc_type="XYZ"),
        line(doc_no="H-1", date="2025-12-30"),
    ]


@pytest.fixture
def mixed(store, tmp_path):
    return write_csv(tmp_path, "mixed.csv", mixed_lines())


def test_the_value_is_the_faulty_fields_own_and_the_document_has_its_column(mixed):
    v = validate_purchase_file(mixed, today=TODAY, valid_only=True)
    table = problem_table(v).to_dicts()
    by_line = {r["Line of the file"]: r for r in table}     # the header is line 1
    assert by_line[5]["Value"] == "12x" and by_line[5]["Document"] == "B-1"
    assert by_line[6]["Value"] == "31/02/2025" and by_line[6]["Field"] == "Document date"
    assert by_line[9]["Value"] == BAD_GSTIN and by_line[9]["Document"] == "E-1"
    assert by_line[11]["Value"] == "XYZ" and by_line[11]["Document"] == "G-1"
    assert by_line[12]["Value"] == "2025-12-30" and by_line[12]["Document"] == "H-1"
    assert [r["Kind"] for r in table] == ["Error"] * 4 + ["Warning"]     # errors first
    assert [r["Line of the file"] for r in table] == [5, 6, 9, 11, 12]
    assert list(table[0]) == ["Line of the file", "Kind", "Field", "Value", "Document",
                              "Problem"]


def test_a_sign_problem_shows_the_amount_not_the_document_number(store, tmp_path):
    # an invoice below zero is refused (issue 24, item 8), its amount shown as the file has it
    path = write_csv(tmp_path, "neg.csv", [line(doc_no="INV-9", txval="-100", cgst="-9",
                                                sgst="-9")])
    row = problem_table(validate_purchase_file(path, today=TODAY)).to_dicts()[0]
    assert (row["Kind"], row["Field"], row["Value"], row["Document"]) == (
        "Error", "Taxable value", "-100.00", "INV-9")


def test_import_says_why_it_is_off_and_offers_the_valid_lines(mixed):
    v = validate_purchase_file(mixed, today=TODAY, valid_only=True)
    assert sorted(v.docs["doc_no"].to_list()) == ["A-1", "D-1", "F-1", "H-1"]
    assert v.valid_lines == 5 and v.invalid_lines == 4 and v.tied["line"].to_list() == [3, 6]
    reason = import_off_reason(v)
    assert reason.startswith("Import is off: 4 lines have errors. Fix them in the file and "
                             "upload again, or import the 5 valid lines alone."), reason
    assert "2 other lines of their documents are left out with them" in reason
    fig = valid_figures(v)
    # net, as the file adds up: 3,500 of invoices less D's credit note of 12,000
    assert (fig["lines"], fig["documents"], fig["taxable"]) == (5, 4, -8500.0)
    words = valid_only_words(v)
    assert "**5 lines** as **4 documents**: taxable **-₹8,500.00**" in words
    assert "(net: credit notes subtract)" in words
    assert "2 other lines of their documents" in words
    assert import_off_reason(validate_purchase_file(
        write_csv(mixed.parent, "ok.csv", [line()]), today=TODAY)) is None


def test_the_valid_lines_alone_land_and_nothing_else_changes(mixed, tmp_path):
    earlier = write_csv(tmp_path, "earlier.csv", [line(doc_no="OLD-1", txval="777")])
    assert import_purchase_file(earlier, today=TODAY).ok
    before = rows("SELECT * EXCLUDE (imported_at) FROM purchase_docs")
    refused = import_purchase_file(mixed, today=TODAY)
    assert not refused.ok and "--valid-only" in refused.refused
    assert rows(EVERYTHING)[0][:3] == (1, 1, 1)
    result = import_purchase_file(mixed, actor="ana@example.com", today=TODAY, valid_only=True)
    assert result.ok and result.imported == 4 and result.left_out == 6, result.summary()
    assert "6 lines left out" in result.summary()
    assert rows(DOCS) == [("A-1", 1500), ("D-1", 12000), ("F-1", 1000), ("H-1", 1000),
                          ("OLD-1", 777)]
    assert rows("SELECT * EXCLUDE (imported_at) FROM purchase_docs WHERE doc_no = 'OLD-1'"
                ) == before
    assert rows("SELECT doc_count, invalid_count, line_count, imported_by FROM "
                "purchase_batches WHERE batch_id = ?", [result.batch_id]) == [
        (4, 4, 11, "ana@example.com")]
    assert rows("SELECT line_count FROM purchase_docs WHERE doc_no = 'A-1'") == [(2,)]


def test_a_failed_valid_lines_import_stores_nothing(store, tmp_path):
    """The write fails after the batch row went in (a unique index, made here, refuses a second
    document of one batch): the one transaction leaves the store as it was."""
    assert import_purchase_file(write_csv(tmp_path, "first.csv", [line(doc_no="OLD-1")]),
                                today=TODAY).ok
    with connect() as con:
        con.execute("CREATE UNIQUE INDEX one_doc_per_batch ON purchase_docs (batch_id)")
    before = rows(EVERYTHING)
    path = write_csv(tmp_path, "two.csv", [line(doc_no="OK-1"), line(doc_no="OK-2"),
                                           line(doc_no="BAD-1", date="soon")])
    with pytest.raises(Exception, match="[Cc]onstraint"):
        import_purchase_file(path, today=TODAY, valid_only=True)
    assert rows(EVERYTHING) == before
    with connect() as con:
        con.execute("DROP INDEX one_doc_per_batch")
    nothing = write_csv(tmp_path, "nothing.csv", [line(doc_no="X-1", date="soon"),
                                                  line(doc_no="X-1", txval="50")])
    result = import_purchase_file(nothing, today=TODAY, valid_only=True)
    assert not result.ok and "every document has a line with errors" in result.refused
    assert rows(EVERYTHING) == before


def test_an_amount_too_large_for_one_line_is_an_error_naming_the_field(store, tmp_path):
    path = write_csv(tmp_path, "huge.csv", [line(doc_no="BIG-1", txval="900000000000000")])
    v = validate_purchase_file(path, today=TODAY)
    errors = v.problems.filter(pl.col("severity") == "error").to_dicts()
    assert [(e["line"], e["field"]) for e in errors] == [(1, "taxable_value")]
    assert "'900000000000000' is more than ₹1,00,000 crore" in errors[0]["message"]
    assert not import_purchase_file(path, today=TODAY).ok
    assert rows("SELECT count(*) FROM purchase_docs WHERE doc_no = 'BIG-1'") == [(0,)]


def test_the_rejected_lines_come_back_in_the_files_own_columns(mixed):
    v = validate_purchase_file(mixed, today=TODAY, valid_only=True)
    text = rejected_csv_bytes(v).decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header == mixed.read_text().splitlines()[0].split(",") + ["Problem"]
    got = list(csv.DictReader(io.StringIO(text)))
    assert [r["doc_no"] for r in got] == ["B-1", "B-1", "C-1", "C-1", "E-1", "G-1"]
    assert got[0]["Problem"].startswith("left out with line 5 of the file, of the same document")
    assert got[1]["Problem"] == "Taxable value: '12x' is not a number"
    assert got[3]["Problem"].startswith("left out with line 6 of the file")
    assert got[5]["supplier_name"].startswith("'=HYPERLINK")        # formula neutralised
    negative = write_csv(mixed.parent, "neg.csv", [line(doc_no="N-1", doc_type="CRN",
                                                        txval="-12000", date="never")])
    row = next(csv.DictReader(io.StringIO(rejected_csv_bytes(validate_purchase_file(
        negative, today=TODAY)).decode("utf-8-sig"))))
    assert row["taxable_value"] == "-12000"                         # a number, no quote
    raw = rejected_csv_bytes(validate_purchase_file(negative, today=TODAY)).decode("utf-8-sig")
    assert ",-12000," in raw and "'-12000" not in raw and '"-12000"' not in raw


def test_the_fixed_rejected_lines_import_as_a_file_of_their_own(mixed, tmp_path):
    assert import_purchase_file(mixed, today=TODAY, valid_only=True).ok
    text = rejected_csv_bytes(validate_purchase_file(mixed, today=TODAY)).decode("utf-8-sig")
    fixed = (text.replace("12x", "100").replace("31/02/2025", "03/10/2025")
             .replace(BAD_GSTIN, SAHYADRI).replace("XYZ", "INV"))
    path = tmp_path / "fixed.csv"
    path.write_text(fixed)
    result = import_purchase_file(path, today=TODAY)
    assert result.ok and result.imported == 4, result.summary()
    assert [d for (d, _) in rows(DOCS)] == ["A-1", "B-1", "C-1", "D-1", "E-1", "F-1", "G-1",
                                            "H-1"]


def test_the_cli_imports_the_valid_lines_alone_with_its_flag(mixed, capsys):
    assert main(["validate", str(mixed)]) == 2
    plain = capsys.readouterr().out
    assert "mixed.csv: 11 lines, 4 documents, 4 errors on 4 lines" in plain
    assert main(["import", str(mixed)]) == 2
    assert "or import the valid lines alone (--valid-only)" in capsys.readouterr().out
    assert rows(EVERYTHING)[0][0] == 0
    assert main(["import", str(mixed), "--valid-only"]) == 0
    out = capsys.readouterr().out
    assert "batch 1: 4 documents imported" in out and "6 lines left out" in out
    assert [d for (d, _) in rows(DOCS)] == ["A-1", "D-1", "F-1", "H-1"]
