"""Excel purchase registers: dates as cells, formulas, merged header cells, named sheets."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
import xlsxwriter

from core.purchase import FileProblem, read_purchase_documents
from tests.fixtures import HEADER, STANDARD_SAMPLE

TODAY = dt.date(2025, 11, 1)
COLUMNS = HEADER.split(",")


def sample_rows() -> list[list]:
    """The standard sample as typed cells: dates as dates, amounts as numbers."""
    rows = []
    for text in STANDARD_SAMPLE.read_text().splitlines()[1:]:
        cells = text.split(",")
        cells[5] = dt.date.fromisoformat(cells[5])
        cells[8:] = [float(c) for c in cells[8:]]
        rows.append(cells)
    return rows


def write_merged_workbook(path, sheet="Purchases", with_notes_sheet=False) -> None:
    """Title and group rows with merged cells above the header; doc_value as a calculated formula."""
    book = xlsxwriter.Workbook(path)
    if with_notes_sheet:
        book.add_worksheet("Notes").write(0, 0, "nothing here")
    ws = book.add_worksheet(sheet)
    date_fmt = book.add_format({"num_format": "dd-mmm-yy"})
    ws.merge_range(0, 0, 0, 13, "Purchase register October 2025")
    ws.merge_range(1, 3, 1, 5, "Document")
    ws.merge_range(1, 9, 1, 12, "Tax")
    ws.write_row(2, 0, COLUMNS)
    for r, cells in enumerate(sample_rows(), start=3):
        ws.write_row(r, 0, cells[:5])
        ws.write_datetime(r, 5, dt.datetime.combine(cells[5], dt.time()), date_fmt)
        ws.write_row(r, 6, cells[6:13])
        ws.write_formula(r, 13, f"=SUM(I{r + 1}:M{r + 1})", None, cells[13])
    book.close()


def test_workbook_with_merged_headers_and_formulas_reads_like_the_csv(tmp_path):
    path = tmp_path / "pr.xlsx"
    write_merged_workbook(path)
    v = read_purchase_documents(path, today=TODAY)
    assert v.ok, v.messages()
    assert v.docs.equals(read_purchase_documents(STANDARD_SAMPLE, today=TODAY).docs)
    assert v.problems.height == 0


def test_a_named_sheet_is_read_and_a_missing_one_named(tmp_path):
    path = tmp_path / "pr.xlsx"
    write_merged_workbook(path, sheet="PR", with_notes_sheet=True)
    assert read_purchase_documents(path, sheet="PR", today=TODAY).docs.height == 8
    with pytest.raises(FileProblem, match=r"has no sheet named 'Oct' \(sheets: Notes, PR\)"):
        read_purchase_documents(path, sheet="Oct", today=TODAY)


def test_formulas_never_calculated_are_refused_with_the_cell(tmp_path):
    path = tmp_path / "uncalculated.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(COLUMNS)
    for r, cells in enumerate(sample_rows(), start=2):
        ws.append(cells[:13] + [f"=SUM(I{r}:M{r})"])
    book.save(path)
    with pytest.raises(FileProblem) as info:
        read_purchase_documents(path, today=TODAY)
    assert "uncalculated.xlsx" in str(info.value) and "cell N2, N3, N4, N5, N6 and 3 more" in str(info.value)
    assert "no saved result" in str(info.value)


def test_excel_serial_dates_and_text_amounts(tmp_path):
    path = tmp_path / "pr.xlsx"
    book = xlsxwriter.Workbook(path)
    ws = book.add_worksheet()
    ws.write_row(0, 0, COLUMNS)
    row = sample_rows()[0]
    ws.write_row(1, 0, row[:5] + [45933] + row[6:])                   # 45933 = 2025-10-03, no date format
    ws.write_row(2, 0, row[:4] + ["X-2", 45934, "27", "N", "ten"] + row[9:])
    book.close()
    v = read_purchase_documents(path, today=TODAY)
    assert v.docs["doc_date"].to_list() == [dt.date(2025, 10, 3)]
    assert v.problems.select("line", "row", "field", "message").rows() == [(2, 3, "taxable_value", "'ten' is not a number")]


def test_a_file_named_xlsx_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"company_gstin,supplier_gstin\n")
    with pytest.raises(FileProblem, match="fake.xlsx: this is not an .xlsx workbook"):
        read_purchase_documents(path)


def test_a_blank_supplier_gstin_cell_is_an_error_not_a_lost_line(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(COLUMNS)
    for cells in sample_rows()[:2]:
        book.active.append(cells)
    book.active["B3"] = None                     # second data line: supplier GSTIN left empty
    path = tmp_path / "pr.xlsx"
    book.save(path)
    v = read_purchase_documents(path, today=TODAY)
    assert v.problems.select("line", "field", "message").rows() == [(2, "supplier_gstin", "GSTIN is empty")]
    assert v.docs["line_no"].to_list() == [1]
