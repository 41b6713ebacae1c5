"""Spreadsheet-safe CSV and Excel downloads (core/export.py)."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pandas as pd
import polars as pl
import pytest

from core.export import safe_cell, to_csv_bytes, to_excel_bytes, write_csv_file

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@x", "\tTAB", "\rCR", "=1+2"]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_starting_with_a_trigger_gets_a_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-5.0, Decimal("-5.00"), -2, 0, "INV-1", "", None, "a=b"])
def test_numbers_and_harmless_text_pass_unchanged(value):
    assert safe_cell(value) == value


def frame() -> pl.DataFrame:
    return pl.DataFrame({
        "doc_no": [*HOSTILE, "SI/1", None],
        "amount": [Decimal("-5.00")] * 7 + [Decimal("12.50"), None],
        "day": [dt.date(2025, 10, 3)] * 9,
        "name": ["Sahyadri Stéel"] * 9,
    }, schema_overrides={"amount": pl.Decimal(18, 2)})


def test_csv_has_bom_safe_text_and_plain_numbers():
    data = to_csv_bytes(frame())
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r["doc_no"] for r in rows[:7]] == ["'" + t for t in HOSTILE]
    assert rows[7]["doc_no"] == "SI/1" and rows[8]["doc_no"] == ""
    assert rows[0]["amount"] == "-5.00" and rows[7]["amount"] == "12.50"
    assert rows[0]["day"] == "2025-10-03" and rows[0]["name"] == "Sahyadri Stéel"


def test_csv_file_holds_the_same_bytes(tmp_path):
    write_csv_file(frame(), tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == to_csv_bytes(frame())


def test_csv_from_pandas_too():
    data = to_csv_bytes(pd.DataFrame({"x": ["-2-2", "ok"], "n": [-5.0, 1.0]}))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == {"x": "'-2-2", "n": "-5.0"}


@pytest.mark.parametrize("text", ["-12000", "+5.50", "-0.01"])
def test_a_plain_number_written_as_text_stays_a_number(text):
    """An amount read from a file as text ("-12000") needs no quote: only formulas do."""
    assert safe_cell(text) == text
    data = to_csv_bytes(pl.DataFrame({"amount": [text]})).decode("utf-8-sig")
    assert data.splitlines()[1] == text


def test_excel_writes_text_as_text_never_formulas():
    book = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frame(), "Reco [Oct]")))
    sheet = book["Reco _Oct_"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("doc_no", "amount", "day", "name")
    written = [r[0].replace("_x000D_", "\r") for r in rows[1:8]]  # xlsx escapes CR
    assert written == ["'" + t for t in HOSTILE]
    assert all(cell.data_type == "s" for cell in sheet["A"][1:8])
    assert rows[1][1] == -5.0 and rows[8][1] == 12.5
    assert rows[1][2] == dt.datetime(2025, 10, 3)
    assert rows[9][0] is None


def test_excel_never_drops_rows_beyond_one_sheet(monkeypatch):
    from core import export
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 4)   # 3 data rows per sheet
    book = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(pl.DataFrame({"n": range(8)}), "R")))
    assert book.sheetnames == ["R", "R_2", "R_3"]
    values = [r[0] for ws in book for r in ws.iter_rows(min_row=2, values_only=True)]
    assert values == list(range(8))


def test_excel_takes_time_zone_aware_timestamps():
    when = dt.datetime(2025, 10, 3, 9, 30, tzinfo=dt.UTC)
    frame = pl.DataFrame({"at": [when]})
    book = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frame)))
    assert book.active["A2"].value == dt.datetime(2025, 10, 3, 9, 30)
