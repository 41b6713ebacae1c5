"""The month's calendar of each business: deadlines, filings, pending limits, the deadline panel."""
from __future__ import annotations

from core.calendar.deadlines import (
    EVENTS,
    FREQUENCIES,
    Calendar,
    add_months,
    day_text,
    days_text,
    month_of,
    period_label,
    relative_text,
    step,
)
from core.calendar.panel import QUARTERLY, deadline_panel, pending_summary
from core.calendar.period_2b import (
    first_2b_period,
    month_index,
    periods_join,
    periods_with,
    record_periods,
)
from core.calendar.store import (
    FILED,
    RETURN,
    business_calendar,
    calendars,
    frequencies,
    overrides,
    save_calendar_settings,
    store_filings,
)

__all__ = ["EVENTS", "FILED", "FREQUENCIES", "QUARTERLY", "RETURN", "Calendar", "add_months", "business_calendar", "calendars", "day_text", "days_text", "deadline_panel", "first_2b_period", "frequencies", "month_index", "month_of", "overrides", "pending_summary", "period_label", "periods_join", "periods_with", "record_periods", "relative_text", "save_calendar_settings", "step", "store_filings"]
