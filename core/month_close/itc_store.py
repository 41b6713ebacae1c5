"""The ITC summary from the store (docs/month-close.md, "The ITC summary"): the stored 2B of a
business and period, its documents reconciled (kind `2b_vs_pr`, the engine's settings) with
the current purchase register, and core.month_close.itc_summary's figures over them.

`itc_summary(gstin, period)` -> an ItcSummary, or None when no 2B of the period is stored
(`not_fetched_words` then says when the portal generates it).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from core import clock
from core.calendar import QUARTERLY, add_months, calendars, day_text, month_of, period_label
from core.gstr2b import stored_2b, stored_2b_documents
from core.ims import books_frame, read_settings
from core.month_close.excel import itc_workbook
from core.month_close.itc_summary import entries_2b, entries_books, portal_figures, summarise
from core.reco import portal_frame_2b, reconcile_2b
from core.store import connect


@dataclass(frozen=True)
class ItcSummary:
    gstin: str
    period: str
    version: str | None
    generated_on: dt.date | None
    fetched_at: dt.datetime | None        # naive UTC, as stored
    first_day: dt.date                    # the books' period
    last_day: dt.date
    entries: pl.DataFrame                 # core.month_close.itc_summary entries
    figures: pl.DataFrame                 # core.month_close.itc_summary.summarise


def period_days(period: str, frequency: str = "monthly") -> tuple[dt.date, dt.date]:
    """The first and last day of a tax period (a quarter for a quarterly filer)."""
    year, month = month_of(period)
    first = add_months(year, month, -2) if frequency == QUARTERLY else (year, month)
    after = add_months(year, month, 1)
    return dt.date(*first, 1), dt.date(*after, 1) - dt.timedelta(days=1)


def itc_summary(gstin: str, period: str) -> ItcSummary | None:
    """The summary of the stored 2B of (gstin, period); None when none is stored."""
    head = stored_2b(gstin, period)
    if head is None:
        return None
    frequency = calendars([gstin])[gstin].frequency
    first, last = period_days(period, frequency)
    docs = stored_2b_documents(gstin, period)
    with connect(read_only=True) as con:
        settings = read_settings(con)
        books = books_frame(con, gstin, [period])
    portal = portal_frame_2b(docs, gstin, period)
    reco = reconcile_2b(portal, books, **settings) if portal.height or books.height else None
    entries = pl.concat([entries_2b(portal, reco, books),
                         entries_books(books, reco, first, last, portal)])
    return ItcSummary(gstin, period, head["version"], head["gendt"], head["fetched_at"], first,
                      last, entries, summarise(entries, portal_figures(head["itcsumm"])))


def not_fetched_words(gstin: str, period: str, today: dt.date | None = None) -> str:
    """Why there is no summary: 'GSTR-2B for Oct 2025 is not fetched yet; it is generated on
    14 Nov 2025' (or 'was generated on ...', or what it waits for)."""
    today = today or clock.today()
    calendar = calendars([gstin])[gstin]
    dated = calendar.gstr2b_date(period, today)
    label = period_label(period)
    if dated.day is None:
        return f"GSTR-2B for {label} is not fetched yet; it {dated.note}."
    verb = "is generated" if dated.day >= today else "was generated"
    return f"GSTR-2B for {label} is not fetched yet; it {verb} on {day_text(dated.day)}."


def stored_periods(gstin: str) -> list[str]:
    """The periods of a business with a stored 2B."""
    with connect(read_only=True) as con:
        rows = con.execute("SELECT rtnprd FROM gstr2b_returns WHERE gstin = ?",
                           [gstin]).fetchall()
    return [r[0] for r in rows]


def itc_workbook_for(gstin: str, period: str) -> bytes | None:
    """The Excel download of the summary of (gstin, period); None when no 2B is stored."""
    summary = itc_summary(gstin, period)
    return None if summary is None else itc_workbook(summary)
