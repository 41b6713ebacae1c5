"""The ITC summary from the store (docs/month-close.md, "The ITC summary"): the stored 2B of a
business and period, its documents reconciled (kind `2b_vs_pr`, the engine's settings) with
the current purchase register, and core.month_close.itc_summary's figures over them.

`itc_summary(gstin, period)` -> an ItcSummary, or None when no 2B of the period is stored
(`not_fetched_words` then says when the portal generates it).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import polars as pl

from core import clock
from core.calendar import QUARTERLY, add_months, calendars, day_text, month_of, period_label
from core.gstr2b import stored_2b, stored_2b_documents
from core.ims import books_frame, read_settings
from core.month_close.excel import itc_workbook
from core.month_close.itc_summary import (
    advisory_checks,
    entries_2b,
    entries_books,
    portal_figures,
    reclaimed_entries,
    summarise,
)
from core.reco import portal_frame_2b, reconcile_2b
from core.store import connect, query_frame


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
    unread: tuple[str, ...] = ()          # 2B sections no rule places, named
    checks: tuple[str, ...] = ()          # advisory_checks, in words


def build_summary(gstin: str, period: str, head: dict, docs: pl.DataFrame,
                  books: pl.DataFrame | None, first: dt.date, last: dt.date,
                  settings: dict | None = None,
                  earlier: pl.DataFrame | None = None) -> ItcSummary:
    """The summary from a 2B (head, flat documents) and a books frame (None: no books at all,
    the 2B as it is, nothing reversed for the books): the same steps for the page (from the
    store) and the file command (from files)."""
    portal = portal_frame_2b(docs, gstin, period)
    reco = None
    if books is not None and (portal.height or books.height):
        reco = reconcile_2b(portal, books, **(settings or {}))
    entries = pl.concat([entries_2b(portal, reco, books),
                         entries_books(books, reco, first, last, portal)
                         if books is not None else entries_2b(portal.clear())])
    if earlier is not None:
        entries = pl.concat([entries, reclaimed_entries(entries, earlier)])
    figures = summarise(entries, portal_figures(head.get("itcsumm")))
    return ItcSummary(gstin, period, head.get("version"), head.get("gendt"),
                      head.get("fetched_at"), first, last, entries, figures,
                      tuple(head.get("unread") or ()),
                      tuple(advisory_checks(figures, books_known=books is not None)))


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
        books = with_ineligible_reasons(con, books_frame(con, gstin, [period]))
        earlier = earlier_2b_documents(con, gstin, period)
        declared = declared_differently(con, gstin, period)
    summary = build_summary(gstin, period, head, docs, books, first, last, settings, earlier)
    return replace(summary, checks=summary.checks + declared)


def declared_differently(con, gstin: str, period: str) -> tuple[str, ...]:
    """Credit notes of this 2B accepted in IMS with an ITC-reduction answer of N or of partial
    amounts that differ from the 2B's figures: a warning naming them (the 2B counts the
    document's figures; the portal's exact treatment is to be confirmed on a real 2B)."""
    found = con.execute("""
        SELECT DISTINCT r.doc_no, r.itc_red_req
        FROM ims_records r JOIN gstr2b_documents d
          ON d.gstin = r.rtin AND d.rtnprd = ? AND NOT d.rejected_in_ims
         AND d.section = CASE r.section WHEN 'b2bcn' THEN 'cdnr' ELSE 'cdnra' END
         AND d.stin = r.stin AND d.doc_no_key = r.doc_no_key
        WHERE r.rtin = ? AND r.section IN ('b2bcn', 'b2bcna') AND r.portal_action = 'A'
          AND (r.itc_red_req = 'N' OR (r.itc_red_req = 'Y' AND (
               coalesce(r.decl_igst, d.igst) <> d.igst OR coalesce(r.decl_cgst, d.cgst) <> d.cgst
               OR coalesce(r.decl_sgst, d.sgst) <> d.sgst
               OR coalesce(r.decl_cess, d.cess) <> d.cess)))
        ORDER BY r.doc_no""", [period, gstin]).fetchall()
    if not found:
        return ()
    named = ", ".join(f"{no} ({'no ITC to reduce' if answer == 'N' else 'partly'})"
                      for no, answer in found)
    said = (f"Credit notes accepted in IMS with an ITC-reduction answer that differs from "
            f"their figures in this GSTR-2B: {named}. 4(A) counts the GSTR-2B's figures; "
            "compare with the answers given before filing (how the portal treats such "
            "answers in GSTR-2B is still to be confirmed on a real 2B).")
    return (said,)


def with_ineligible_reasons(con, books: pl.DataFrame) -> pl.DataFrame:
    """The books frame with each document's `itc_ineligible_reason` (pr_id = doc_id)."""
    reasons = query_frame(con, "SELECT doc_id AS pr_id, itc_ineligible_reason FROM "
                          "purchase_docs WHERE itc_ineligible_reason IS NOT NULL")
    if reasons.is_empty():
        return books.with_columns(pl.lit(None, pl.Utf8).alias("itc_ineligible_reason"))
    return books.join(reasons.cast({"pr_id": books.schema["pr_id"],
                                    "itc_ineligible_reason": pl.Utf8}), on="pr_id", how="left")


def earlier_2b_documents(con, gstin: str, period: str) -> pl.DataFrame:
    """The documents (stin, doc_type, doc_no) of the stored 2Bs of periods before `period`,
    not rejected in IMS and with ITC available: the kept history 4(D)(1) reads."""
    year, month = month_of(period)
    return query_frame(con, "SELECT DISTINCT stin, doc_type, doc_no FROM gstr2b_documents "
                       "WHERE gstin = ? AND NOT rejected_in_ims AND coalesce(itcavl, 'Y') <> 'N' "
                       "AND (right(rtnprd, 4) || left(rtnprd, 2)) < ?",
                       [gstin, f"{year:04d}{month:02d}"])


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
