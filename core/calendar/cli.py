"""The operator's calendar commands of `python worker.py` (docs/month-close.md):

    businesses set-frequency GSTIN monthly|quarterly     how often the business files GSTR-3B
    businesses set-date GSTIN PERIOD gstr2b|gstr3b DATE  override one date (DATE YYYY-MM-DD,
                                                         or `computed` to drop the override)
    calendar [--gstin G ...]                             each business's calendar and deadlines

Bad input raises `SettingsError` (worker.py prints it and exits with status 2).
"""
from __future__ import annotations

import argparse

from core.business import SettingsError, choose_businesses, describe_gstin
from core.business.cli import print_table
from core.calendar.deadlines import EVENTS, FREQUENCIES, day_text, days_text
from core.calendar.panel import business_panel, calendar_rows, filing_text, pending_summary
from core.calendar.store import set_frequency, set_override
from core.clock import ClockError, business_tz
from core.clock import today as business_today
from core.money import indian_amount
from core.store import connect


def add_commands(sub, businesses_sub) -> None:
    """Register the commands on worker.py's parser (`sub`) and its `businesses` group."""
    p = businesses_sub.add_parser("set-frequency", help="monthly or quarterly GSTR-3B filing")
    p.add_argument("gstin", metavar="GSTIN")
    p.add_argument("frequency", choices=list(FREQUENCIES))
    p.set_defaults(fn=cmd_set_frequency)
    p = businesses_sub.add_parser("set-date", help="override a GSTR-2B or GSTR-3B date of a "
                                                   "period (DATE 'computed' drops it)")
    p.add_argument("gstin", metavar="GSTIN")
    p.add_argument("period", metavar="PERIOD", help="MMYYYY")
    p.add_argument("event", choices=list(EVENTS))
    p.add_argument("date", metavar="DATE", help="YYYY-MM-DD, or computed")
    p.set_defaults(fn=cmd_set_date)
    p = sub.add_parser("calendar", help="each business's calendar: 2B and GSTR-3B dates, "
                                        "filings, pending limits",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gstin", action="append", metavar="G", help="a business GSTIN (repeatable)")
    p.set_defaults(fn=cmd_calendar)


def cmd_set_frequency(args) -> int:
    saved = set_frequency(args.gstin, args.frequency, actor="cli")
    print(f"business {describe_gstin(args.gstin.strip().upper())} files GSTR-3B {saved}")
    return 0


def cmd_set_date(args) -> int:
    day = "" if args.date.strip().lower() == "computed" else args.date
    period = set_override(args.gstin, args.period, args.event, day, actor="cli")
    what = EVENTS[args.event]
    print(f"{args.gstin.strip().upper()} {period}: {what} "
          f"{day or 'the computed date (override dropped)'}")
    return 0


def _rupees(value: float) -> str:
    return "Rs " + indian_amount(round(value * 100))


def cmd_calendar(args) -> int:
    try:
        today = business_today()
    except ClockError as exc:
        raise SettingsError(str(exc)) from None
    chosen = choose_businesses(args.gstin) if args.gstin else choose_businesses(None)
    if not chosen:
        print("no enabled businesses (add one with: python worker.py businesses add GSTIN "
              "--name NAME)")
        return 0
    print(f"today {day_text(today)} ({business_tz().key}); * = overridden")
    with connect(read_only=True) as con:
        for b in chosen:
            print_business(business_panel(con, b["gstin"], b["name"], today))
    return 0


def print_business(panel: dict) -> None:
    today = panel["today"]
    day = f", GSTR-3B on day {panel['quarterly_day']}" if panel["quarterly_day"] else ""
    print(f"\n{panel['name']} · {panel['gstin']} ({panel['frequency']}{day})")
    print_table(("period", "GSTR-2B", "GSTR-3B due", "GSTR-3B", "note"), [
        (r["label"], r["gstr2b"], r["gstr3b_due"], r["filed"], r["gstr2b_note"])
        for r in calendar_rows(panel["calendar"], today)])
    b2, b3, none = panel["next_2b"], panel["next_3b"], panel["no_action"]
    print(f"next GSTR-2B ({b2.label}): {days_text(b2.day, today) or b2.note}")
    print(f"next GSTR-3B ({b3.label}) due: {days_text(b3.day, today)}")
    print(f"last GSTR-3B ({panel['last_period']}): {filing_text(panel['last_filing'])}")
    print(f"no action (silence accepts at the 2B): {none['count']:,} records, "
          f"{_rupees(none['tax'])} tax, {none['unmatched']:,} not matched to the books")
    for kind in ("credit note", "invoice"):
        count, first = pending_summary(panel["pending"], kind)
        print(f"pending {kind}s: {count:,}"
              + (f", the first expires {days_text(first, today)}" if first else ""))
    if panel["kept_after_filing"]:
        print(f"kept after their GSTR-3B was filed (gone from the portal's IMS): "
              f"{panel['kept_after_filing']:,}")
