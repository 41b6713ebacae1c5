"""GSTR-2B in the store: fetched per business and period, regenerated, scheduled, shown on the Dashboard."""
from __future__ import annotations

from core.gstr2b.job import PeriodFiled
from core.gstr2b.panel import (
    LATE_SHOWN,
    gstr2b_panel,
    late_count,
    late_record_rows,
    regenerate_from_dashboard,
)
from core.gstr2b.schedule import due_2b_jobs, fetch_due_2b, last_2b_words
from core.gstr2b.store import (
    documents_of_periods,
    late_actions,
    late_records,
    store_2b,
    stored_2b,
    stored_2b_documents,
)

__all__ = ["LATE_SHOWN", "PeriodFiled", "documents_of_periods", "due_2b_jobs", "fetch_due_2b", "gstr2b_panel", "last_2b_words", "late_actions", "late_count", "late_record_rows", "late_records", "regenerate_from_dashboard", "store_2b", "stored_2b", "stored_2b_documents"]
