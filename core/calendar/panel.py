"""The Dashboard's deadline panel and `python worker.py calendar`, per business
(docs/month-close.md, "What the Dashboard shows"): days to the next GSTR-2B and GSTR-3B due
date, what silence will accept (records with no action, count and tax), the pending credit
notes and invoices with the date each one expires (oldest first), and whether the last
GSTR-3B is filed. Every date counts from the one business day (`core.clock.today`).
"""
from __future__ import annotations

import datetime as dt

from core.calendar.deadlines import (
    FREQUENCIES,
    QUARTERLY,
    Calendar,
    day_text,
    days_text,
    section_16_4_limit,
    step,
)
from core.calendar.period_2b import first_2b_period, periods_join, periods_with
from core.calendar.store import business_calendar
from core.clock import today as business_today
from core.matched import matched_sql
from core.store import connect

TAX = "coalesce(igst, 0) + coalesce(cgst, 0) + coalesce(sgst, 0) + coalesce(cess, 0)"
IN_IMS = "removed_at IS NULL AND left_ims_at IS NULL"
# A credit note, a credit-note amendment, or a downward amendment (the ITC-reduction
# question applies to it): pending for one tax period at most.
CREDIT_LIKE = "(section IN ('b2bcn', 'b2bcna') OR is_itc_red_req_blocked = 'N')"
PERIODS_SHOWN = 4


def deadline_panel(gstins: list[str], today: dt.date | None = None) -> list[dict]:
    """One dict per business (by name): see `business_panel`."""
    today = today or business_today()
    with connect(read_only=True) as con:
        names = con.execute("SELECT gstin, name FROM businesses WHERE "
                            "list_contains(?::VARCHAR[], gstin) ORDER BY name, gstin",
                            [list(gstins)]).fetchall()
        return [business_panel(con, g, name, today) for g, name in names]


def business_panel(con, gstin: str, name: str, today: dt.date) -> dict:
    """{gstin, name, calendar, frequency, quarterly_day, today, next_2b, next_3b (core.calendar.deadlines.Dated), last_period,
    last_filing (Filing or None: not asked yet), no_action {count, tax, unmatched},
    pending [rows, oldest expiry first], kept_after_filing}."""
    calendar = business_calendar(con, gstin)
    count, tax, unmatched = con.execute(f"""
        SELECT count(*), coalesce(sum({TAX}), 0)::DOUBLE,
               count(*) FILTER (WHERE NOT {matched_sql()})
        FROM ims_records WHERE rtin = ? AND {IN_IMS} AND coalesce(portal_action, 'N') = 'N'""",
                                        [gstin]).fetchall()[0]
    kept = con.execute("SELECT count(*) FROM ims_records WHERE rtin = ? "
                       "AND left_ims_at IS NOT NULL", [gstin]).fetchall()[0][0]
    last = calendar.last_period(today)
    return {"gstin": gstin, "name": name, "calendar": calendar,
            "frequency": FREQUENCIES[calendar.frequency],
            "quarterly_day": calendar.quarterly_day() if calendar.frequency == QUARTERLY
            else None, "today": today, "next_2b": calendar.next_2b(today),
            "next_3b": calendar.next_3b(today), "last_period": calendar.label(last),
            "last_filing": calendar.filing(last),
            "no_action": {"count": count, "tax": tax, "unmatched": unmatched},
            "pending": pending_records(con, gstin, calendar, today), "kept_after_filing": kept}


def pending_records(con, gstin: str, calendar: Calendar, today: dt.date) -> list[dict]:
    """Records kept pending on the portal with the date each stops being pending: credit
    notes (deemed accepted then; counted from the record's first 2B period, not its return
    period: core.calendar.period_2b), invoices and debit notes (section 16(4): ITC lost)."""
    pending = "SELECT record_id FROM ims_records WHERE rtin = ? AND portal_action = 'P'"
    cur = con.execute(f"""
        {periods_with(pending)}
        SELECT r.record_id, {CREDIT_LIKE} AS credit, section, stin, doc_no, doc_date, rtnprd, fy,
               ({TAX})::DOUBLE AS tax, {first_2b_period()} AS period_2b
        FROM ims_records r {periods_join('r')}
        WHERE rtin = ? AND {IN_IMS} AND portal_action = 'P'""", [gstin, gstin])
    names = [d[0] for d in cur.description]
    limits: dict[tuple, dt.date | None] = {}
    out = []
    for row in (dict(zip(names, r)) for r in cur.fetchall()):
        key = ("cn", row["period_2b"]) if row["credit"] else ("inv", row["fy"])
        if key not in limits:
            limits[key] = _limit(calendar, *key)
        expires = limits[key]
        out.append({**row, "kind": "credit note" if row["credit"] else "invoice",
                    "expires": expires, "when": days_text(expires, today) or "unknown",
                    "then": ("deemed accepted" if row["credit"] else
                             invoice_then(calendar, expires))})
    return sorted(out, key=lambda r: (r["expires"] or dt.date.max, r["doc_date"] or dt.date.max,
                                      r["record_id"]))


def invoice_then(calendar: Calendar, limit: dt.date | None) -> str:
    """What the pending limit of an invoice means: 'accept before filing the GSTR-3B of Oct
    2026 (section 16(4): 30 Nov 2026, or the annual return if filed earlier); then ITC is
    lost'."""
    if limit is None:
        return "ITC lost under section 16(4)"
    last = calendar.last_chance(limit)
    return (f"accept before filing the GSTR-3B of {last.label} (due {day_text(last.day)}; "
            f"section 16(4) limit {day_text(limit)}, or the annual return if filed earlier); "
            "after that the ITC is lost")


def _limit(calendar: Calendar, kind: str, value: str | None) -> dt.date | None:
    try:
        return calendar.credit_note_limit(value) if kind == "cn" else section_16_4_limit(value)
    except ValueError:
        return None   # no period or year on the record: shown as unknown


def pending_summary(pending: list[dict], kind: str) -> tuple[int, dt.date | None]:
    """How many pending records of a kind, and the first date one of them expires."""
    mine = [r for r in pending if r["kind"] == kind]
    return len(mine), min((r["expires"] for r in mine if r["expires"]), default=None)


def calendar_rows(calendar: Calendar, today: dt.date) -> list[dict]:
    """The last tax periods and the current one: 2B date, GSTR-3B due date, filed or not."""
    current = step(calendar.last_period(today), calendar.frequency, 1)
    rows = []
    for back in range(PERIODS_SHOWN - 1, -1, -1):
        period = step(current, calendar.frequency, -back)
        b2, b3 = calendar.gstr2b_date(period, today), calendar.gstr3b_due(period)
        filing = calendar.filing(period)
        rows.append({"period": period, "label": calendar.label(period),
                     "gstr2b": (day_text(b2.day) if b2.day else "-")
                     + (" *" if b2.overridden else ""), "gstr2b_note": b2.note,
                     "gstr3b_due": day_text(b3.day) + (" *" if b3.overridden else ""),
                     "filed": filing_text(filing)})
    return rows


def filing_text(filing) -> str:
    if filing is None:
        return "not known yet"
    if not filing.filed:
        return "not filed"
    return f"filed on {day_text(filing.filed_on)}" if filing.filed_on else "filed"
