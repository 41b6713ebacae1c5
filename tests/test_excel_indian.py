"""The Excel downloads show figures in Indian grouping (issue 24, item 6): amounts and counts
carry Excel number formats that group by crore, lakh and thousand (1,23,45,678.90), so the
IMS and reconciliation workbooks read as the pages do."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import polars as pl

from core.export import INDIAN_AMOUNT, INDIAN_COUNT, to_excel_bytes


def test_amounts_and_counts_carry_the_indian_number_format():
    frame = pl.DataFrame({"Document": ["INV-1"], "Taxable ₹": [1234567.5],
                          "Tax ₹": [Decimal("222222.10")], "Lines": [1748],
                          "Date": [dt.date(2025, 10, 1)]})
    sheet = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frame, "IMS"))).active
    row = {sheet.cell(1, c).value: sheet.cell(2, c) for c in range(1, 6)}
    assert row["Taxable ₹"].value == 1234567.5
    assert row["Taxable ₹"].number_format == INDIAN_AMOUNT
    assert float(row["Tax ₹"].value) == 222222.1 and row["Tax ₹"].number_format == INDIAN_AMOUNT
    assert row["Lines"].value == 1748 and row["Lines"].number_format == INDIAN_COUNT
    assert row["Document"].value == "INV-1" and row["Document"].number_format == "General"
    assert "##\\,##\\,##0" in INDIAN_AMOUNT      # lakh grouping from 1,00,000


def test_a_negative_amount_reads_with_its_sign_before_the_rupee_symbol():
    from core.figures import rupees
    from core.reco.itc_answer import inr
    assert rupees(-8500) == "-₹8,500.00"
    assert rupees(1234567.891) == "₹12,34,567.89"
    assert rupees(None) == "₹0.00"
    assert inr(-306000) == "-₹3,060.00"
