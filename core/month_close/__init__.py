"""The month's close: the ITC summary (GSTR-3B Table 4) from the GSTR-2B and the books."""
from __future__ import annotations

from core.month_close.excel import (
    net_rows,
    shown_documents,
    table4_rows,
    table_rows,
    unread_words,
)
from core.month_close.itc_store import (
    itc_summary,
    itc_workbook_for,
    not_fetched_words,
    stored_periods,
)
from core.month_close.itc_summary import (
    HEAD_WORDS,
    HEADS,
    ROWS,
    SOURCES,
    documents_behind,
    figure,
    portal_differences,
)

__all__ = ["HEADS", "HEAD_WORDS", "ROWS", "SOURCES", "documents_behind", "figure", "itc_summary", "itc_workbook_for", "net_rows", "not_fetched_words", "portal_differences", "shown_documents", "stored_periods", "table4_rows", "table_rows", "unread_words"]
