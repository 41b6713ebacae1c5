"""Importing purchase registers into the real DuckDB file: batches, duplicates, rollback.
Every test runs on PostgreSQL too (team mode: the documents go in with COPY)."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from decimal import Decimal

import pytest

from core.purchase import (
    FileProblem,
    ImportRefused,
    import_purchase_file,
    list_batches,
    list_templates,
    problems_csv_bytes,
    rollback_batch,
    save_template,
    validate_purchase_file,
)
from core.store.database import connect
from tests.fixtures import COMPANY, STANDARD_SAMPLE, TALLY_SAMPLE, line, many_lines, write_csv

TODAY = dt.date(2025, 11, 1)
pytestmark = pytest.mark.usefixtures("store_engine")


def counts(db_file) -> tuple[int, int, int]:
    """(batches, documents, current documents) read straight from the file."""
    with connect(db_file, read_only=True) as con:
        return con.execute("SELECT (SELECT count(*) FROM purchase_batches), (SELECT count(*) FROM purchase_docs), "
                           "(SELECT count(*) FROM purchase_docs WHERE replaced_by_batch IS NULL)").fetchone()


def imp(source, **kw):
    return import_purchase_file(source, today=TODAY, **kw)


def test_sample_imports_as_one_batch_with_exact_amounts(store):
    result = imp(STANDARD_SAMPLE, actor="asha@example.com")
    assert result.ok and result.imported == 8
    assert counts(store) == (1, 8, 8)
    with connect() as con:
        batch = con.execute("SELECT file_name, sha256, template, line_count, doc_count, imported_by "
                            "FROM purchase_batches").fetchone()
        crn = con.execute("SELECT txval, cgst, doc_value, fy, doc_no_key, line_no FROM purchase_docs "
                          "WHERE doc_type = 'CRN'").fetchone()
    assert batch == ("purchase_register_sample.csv", hashlib.sha256(STANDARD_SAMPLE.read_bytes()).hexdigest(),
                     "standard", 8, 8, "asha@example.com")
    assert crn == (Decimal("2000.00"), Decimal("180.00"), Decimal("2360.00"), "2025-26", "CN/25-26/007", 7)


def test_both_sample_layouts_store_the_same_documents(store, tmp_path):
    cols = "rtin, stin, supplier_name, doc_type, doc_no, doc_date, pos, rcm, txval, igst, cgst, sgst, cess, doc_value, no_tax, line_no"
    first = imp(STANDARD_SAMPLE)
    with connect() as con:
        standard = con.execute(f"SELECT {cols} FROM purchase_docs ORDER BY line_no").fetchall()
    rollback_batch(first.batch_id, "test")
    assert imp(TALLY_SAMPLE, template="tally", company_gstin=COMPANY).ok
    with connect() as con:
        tally = con.execute(f"SELECT {cols} FROM purchase_docs ORDER BY line_no").fetchall()
    assert tally == standard and len(tally) == 8


def test_reupload_needs_force(store):
    imp(STANDARD_SAMPLE)
    again = imp(STANDARD_SAMPLE)
    assert not again.ok and "already imported as batch 1" in again.refused
    assert "--force" not in again.refused
    assert '"Import again" on the Purchase Register page' in again.refused
    assert " IST by " in again.refused                   # the time in the business zone
    assert again.validation is None                       # refused before reading the file
    assert counts(store) == (1, 8, 8)
    forced = imp(STANDARD_SAMPLE, force=True, on_duplicate="replace")
    assert forced.ok and forced.replaced == 8 and counts(store) == (2, 16, 8)


def test_a_file_failing_at_its_last_line_imports_nothing(store, tmp_path):
    path = write_csv(tmp_path, "pr.csv", many_lines(3000) + [line(doc_no="LAST", txval="\"12,000.00.5\"")])
    result = imp(path)
    assert not result.ok and result.errors == 1 and "1 error on 1 line" in result.refused
    assert result.validation.messages(1) == [
        "pr.csv, line 3002 of the file, field taxable_value: error: '12,000.00.5' is not a number"]
    assert counts(store) == (0, 0, 0)


@pytest.mark.parametrize("content", [b"", b"company_gstin,supplier_gstin\n", b"a|b\n1|2\n",
                                     "company_gstin;Café\n1;2\n".encode("cp1252")])
def test_unusable_files_raise_and_write_nothing(store, tmp_path, content):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(FileProblem, match="bad.csv"):
        imp(path)
    assert counts(store) == (0, 0, 0)


def test_unconfigured_company_blocks_the_import(store, tmp_path):
    path = write_csv(tmp_path, "pr.csv", [line(), line(doc_no="X", company="29AAGCB7383J1Z4")])
    result = imp(path)
    assert not result.ok and "not a configured business" in result.validation.messages()[0]
    assert counts(store) == (0, 0, 0)


def test_duplicates_of_stored_documents_are_skipped(store, tmp_path):
    imp(STANDARD_SAMPLE)
    path = write_csv(tmp_path, "nov.csv", [line(doc_no="si/2025-26/0101", date="2025-10-30"), line(doc_no="NEW-1")])
    preview = validate_purchase_file(path, today=TODAY)
    assert preview.docs["doc_no"].to_list() == ["NEW-1"]
    dup = preview.duplicates.row(0, named=True)
    assert (dup["kind"], dup["action"], dup["existing_batch_id"], dup["line_no"]) == ("stored", "skipped", 1, 1)
    result = imp(path)
    assert (result.imported, result.skipped) == (1, 1) and counts(store) == (2, 9, 9)


def test_replace_then_rollback_restores_the_replaced_documents(store, tmp_path):
    imp(STANDARD_SAMPLE)
    path = write_csv(tmp_path, "fix.csv", [line(doc_no="SI/2025-26/0101", date="2025-10-03", txval="10001")])
    result = imp(path, on_duplicate="replace")
    assert (result.imported, result.replaced) == (1, 1) and counts(store) == (2, 9, 8)
    with connect() as con:
        assert con.execute("SELECT txval FROM current_purchase_docs WHERE doc_no_key = 'SI/2025-26/0101'").fetchall() \
            == [(Decimal("10001.00"),)]
    with pytest.raises(ImportRefused, match="replaced by batch 2; roll that back first"):
        rollback_batch(1, "asha")
    assert rollback_batch(2, "asha") == {"batch_id": 2, "removed": 1, "restored": 1}
    assert counts(store) == (2, 8, 8)
    with connect() as con:
        assert con.execute("SELECT txval FROM current_purchase_docs WHERE doc_no_key = 'SI/2025-26/0101'").fetchall() \
            == [(Decimal("10000.00"),)]
    batches = {b["batch_id"]: b for b in list_batches()}
    assert batches[2]["rolled_back_by"] == "asha" and batches[1]["current_docs"] == 8
    with pytest.raises(ImportRefused, match="already rolled back"):
        rollback_batch(2, "asha")
    assert imp(path, on_duplicate="replace").ok           # a rolled-back file may come again


def test_problems_csv_lists_invalid_and_duplicate_lines_with_reasons(store, tmp_path):
    path = write_csv(tmp_path, "pr.csv", [line(doc_no="=HYPERLINK(1)"), line(doc_no="A-1", stin="27AAPFU0939F1ZO"),
                                          line(doc_no="B-1"), line(doc_no="b-1", date="2025-10-04")])
    v = validate_purchase_file(path, today=TODAY)
    rows = list(csv.DictReader(io.StringIO(problems_csv_bytes(v).decode("utf-8-sig"))))
    assert [(r["line of the file"], r["kind"]) for r in rows] == [("3", "error"),
                                                                  ("5", "duplicate")]
    assert "check character O, expected V" in rows[0]["reason"] and rows[0]["supplier_gstin"] == "27AAPFU0939F1ZO"
    assert "as the document at line 4 of the file" in rows[1]["reason"]
    with_warnings = problems_csv_bytes(v, include_warnings=True).decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in with_warnings                # spreadsheet-safe


def test_user_template_with_its_own_dates_and_sign_convention(store, tmp_path):
    header = "Bill No;Bill Date;Vendor GSTIN;Vendor;Type;Taxable;IGST;CGST;SGST"
    rows = ["B-1;03.10.2025;27AABCS5678L1ZQ;Sahyadri;Purchase;1000;0;90;90",
            "R-1;04.10.2025;27AABCS5678L1ZQ;Sahyadri;Return;-500;0;-45;-45",
            "R-2;05.10.2025;27AABCS5678L1ZQ;Sahyadri;Return;200;0;18;18"]
    path = write_csv(tmp_path, "erp.csv", rows, header=header)
    mapping = {"doc_no": "Bill No", "doc_date": "Bill Date", "supplier_gstin": "Vendor GSTIN",
               "supplier_name": "Vendor", "doc_type": "Type", "taxable_value": "Taxable", "igst": "IGST",
               "cgst": "CGST", "sgst": "SGST"}
    save_template("erp", mapping, date_format="%d.%m.%Y", cn_sign="negative",
                  doc_types={"Purchase": "INV", "Return": "CRN"}, actor="asha")
    assert "erp" in [t["name"] for t in list_templates()]
    result = imp(path, template="erp")
    assert result.ok and result.imported == 3
    assert result.validation.messages() == [
        ("erp.csv, line 4 of the file, field taxable_value: warning: credit note with positive amounts; "
        "this template expects negative")]
    with connect() as con:
        assert con.execute("SELECT doc_type, txval, rtin FROM purchase_docs ORDER BY line_no").fetchall() == [
            ("INV", Decimal("1000.00"), COMPANY), ("CRN", Decimal("500.00"), COMPANY), ("CRN", Decimal("200.00"), COMPANY)]
    with pytest.raises(ValueError, match="built-in"):
        save_template("tally", mapping)


def test_bytes_upload_with_a_file_name(store):
    result = imp(TALLY_SAMPLE.read_bytes(), template="tally", file_name="tally-oct.csv")
    assert result.ok and result.imported == 8 and list_batches()[0]["file_name"] == "tally-oct.csv"


def test_documents_stored_by_another_import_meanwhile_are_not_written_twice(store):
    from core.purchase.batches import write_batch
    preview = validate_purchase_file(STANDARD_SAMPLE, today=TODAY)      # validated, not yet written
    imp(TALLY_SAMPLE, template="tally")                                  # someone else imports the same docs
    batch = {"file_name": "late.csv", "sha256": preview.sha256, "template": "standard", "line_count": 8,
             "invalid_count": 0, "duplicate_count": 0, "warning_count": 0, "duplicate_mode": "skip",
             "imported_by": "late"}
    with pytest.raises(ImportRefused, match="8 of these documents were stored by another import meanwhile"):
        write_batch(batch, preview.docs, [])
    assert counts(store) == (1, 8, 8)


def test_bills_of_entry_are_stored_and_found_again_as_duplicates(store, tmp_path):
    boe = lambda no, port="": line(doc_type="Bill of Entry", stin=port, doc_no=no, igst="180", cgst="0",
                                   sgst="0", name="Customs")
    first = imp(write_csv(tmp_path, "imports.csv", [boe("4001234"), boe("4001235", port="INNSA1")]))
    assert first.ok and first.imported == 2
    with connect() as con:
        assert con.execute("SELECT stin, doc_type, doc_no, igst FROM purchase_docs ORDER BY line_no").fetchall() == [
            ("", "BOE", "4001234", Decimal("180.00")), ("INNSA1", "BOE", "4001235", Decimal("180.00"))]
    # a BOE number is unique per port: the same number at another port is another document
    again = imp(write_csv(tmp_path, "more.csv", [boe("4001235", port="innsa1"), boe("4001235", port="INMAA1")]))
    assert (again.imported, again.skipped) == (1, 1) and counts(store) == (2, 3, 3)


def test_user_template_may_map_a_voucher_type_to_bill_of_entry(store, tmp_path):
    mapping = {f: f for f in ("supplier_gstin", "doc_type", "doc_no", "doc_date", "taxable_value", "igst")}
    tpl = save_template("imports", mapping, doc_types={"Purchase": "INV", "Import": "BOE"})
    assert tpl.doc_types == {"PURCHASE": "INV", "IMPORT": "BOE"}
    with pytest.raises(ValueError, match="map to INV, CRN, DBN, BOE, not XYZ"):
        save_template("bad", mapping, doc_types={"Import": "XYZ"})
