"""Words for codes (core/labels.py), Indian figures (core/figures.py), and downloads that carry
the words first and the code columns after them (docs/interfaces.md)."""
from __future__ import annotations

import csv
import io

from core import labels
from core.export import to_csv_bytes
from core.figures import axis_unit, counted, indian, rupees
from core.ims.view import ImsFilter, export_frame
from core.reco.recommend import STEP_TOKENS
from tests.fixtures import BUSINESSES, seed_demo


def test_every_status_reason_and_action_has_words_and_help():
    for status in ("exact", "partial", "mismatch", "probable", "duplicate", "missing_in_pr",
                   "missing_in_portal", "not_in_2a"):
        assert labels.status_words(status) != status and labels.status_help(status)
        assert labels.STATUS_COLOURS[labels.status_words(status)]
    for token in ("DOC_NO", "DOC_DATE", "FY", "SUPPLIER_GSTIN", "POS", "RCM", "TAXABLE_VALUE",
                  "IGST", "CGST", "SGST", "CESS", "ROUNDING", "NO_TAX", *STEP_TOKENS):
        words, why = labels.REASONS[token]
        assert "_" not in words and why, token
    assert labels.reasons_words("TAXABLE_VALUE;CGST;SGST") == (
        "Taxable value differs, CGST differs, SGST differs")
    assert labels.reasons_words("NOT_FILED;PENDING_BLOCKED") == (
        "Supplier has not filed, Pending not allowed")
    assert [labels.action_words(c) for c in "ARPN"] == ["Accept", "Reject", "Pending",
                                                        "No action"]
    assert labels.status_words(None) == "Not reconciled yet"


def test_periods_and_dates_read_one_way():
    assert labels.period_words("102025") == "Oct 2025"
    assert labels.periods_words("092025,102025") == "Sep 2025, Oct 2025"
    assert labels.date_words("2025-09-20 00:00:00") == "20 Sep 2025"
    assert labels.period_words("132025") == "132025"   # not a period: shown as it is


def test_indian_grouping_and_chart_units():
    assert indian(1234567) == "12,34,567.00" and indian(999.5) == "999.50"
    assert indian(-12000) == "-12,000.00" and rupees(100000) == "₹1,00,000.00"
    assert indian(123456789012, 0) == "1,23,45,67,89,012"
    assert axis_unit([5_00_000, 20]) == (100_000, "₹ lakh")
    assert axis_unit([3_00_00_000]) == (10_000_000, "₹ crore")
    assert axis_unit([99_999]) == (1, "₹")
    assert counted(1, "record") == "1 record" and counted(0, "row") == "0 rows"
    assert counted(123456, "document") == "1,23,456 documents" and counted(None, "line") == "0 lines"


def test_the_ims_download_has_words_first_then_the_codes(db_file):
    seed_demo(n_per_business=10)
    data = to_csv_bytes(export_frame([BUSINESSES[0][0]], ImsFilter(), None)).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    header = next(csv.reader(io.StringIO(data)))
    assert header[:3] == ["Status", "Recommended action", "Reasons"]
    assert header.index("match_status") > header.index("Status")
    for row in rows:
        assert row["Status"] == labels.status_words(row["match_status"] or None)
        assert row["Return period"] == labels.period_words(row["return_period"])
        assert "_" not in row["Reasons"]
