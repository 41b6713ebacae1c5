"""The purchase import speaks plainly: a field is named once (with the file's column only when
it is named otherwise), a date written in an accepted shape that does not exist is not told
to use that shape, and the problems file writes negative amounts as numbers."""
from __future__ import annotations

import csv
import datetime as dt
import io

from core.purchase import problems_csv_bytes, validate_purchase_file
from tests.fixtures import line, write_csv

TODAY = dt.date(2025, 11, 1)


def problems_of(tmp_path, lines: list[str]) -> list[dict]:
    v = validate_purchase_file(write_csv(tmp_path, "pr.csv", lines), today=TODAY)
    data = problems_csv_bytes(v, include_warnings=True).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(data)))


def test_the_field_is_named_once_in_words(store, tmp_path):
    rows = problems_of(tmp_path, [line(doc_no="A-1", stin="27AAPFU0939F1ZO")])
    reason = rows[0]["reason"]
    assert reason.startswith("Supplier GSTIN: ") and "supplier_gstin" not in reason, reason


def test_an_impossible_date_is_not_told_to_use_its_own_format(store, tmp_path):
    rows = problems_of(tmp_path, [line(doc_no="A-1", date="31/02/2025")])
    reason = rows[0]["reason"]
    assert "does not exist" in reason and "use DD/MM/YYYY" not in reason, reason
    rows = problems_of(tmp_path, [line(doc_no="A-1", date="Feb the 3rd")])
    assert "use YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY" in rows[0]["reason"]


def test_negative_amounts_are_numbers_in_the_problems_file(store, tmp_path):
    rows = problems_of(tmp_path, [line(doc_no="CN-1", doc_type="CRN", txval="-12000",
                                       cgst="-1080", sgst="-1080", stin="27AAPFU0939F1ZO")])
    row = rows[0]
    amounts = [v for k, v in row.items() if v in ("-12000", "'-12000")]
    assert amounts == ["-12000"], row
