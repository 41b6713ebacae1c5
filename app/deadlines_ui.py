"""The month's calendar on the pages (docs/month-close.md): the Dashboard's deadline panel
(`show_deadline_panel`) and Settings' filing frequency and date overrides
(`show_calendar_settings`). The figures and rules are in core/calendar/panel.py and
core/calendar/store.py.
"""
from __future__ import annotations

import datetime as dt

import streamlit as st

from app import ui
from core.business import SettingsError
from core.calendar import (
    EVENTS,
    FREQUENCIES,
    add_months,
    day_text,
    days_text,
    deadline_panel,
    frequencies,
    month_of,
    overrides,
    pending_summary,
    relative_text,
    save_calendar_settings,
)
from core.clock import ClockError
from core.clock import today as business_today
from core.figures import axis_unit, count_words
from core.ims import SECTION_LABELS
from core.labels import date_words, period_words
from core.periods import period_of

SHOWN = 1000   # pending records listed in the expander, the earliest expiry first
GREY = {"delta_color": "off", "delta_arrow": "off", "border": True}
PENDING_COLUMNS = {"kind": "Kind", "section": "Section", "stin": "Supplier GSTIN",
                   "doc_no": "Document", "doc_date": "Date", "rtnprd": "Period", "tax": "Tax ₹",
                   "when": "Pending until", "then": "Then"}


def show_deadline_panel(gstins: list[str]) -> None:
    """Per business: next 2B and GSTR-3B, what silence will accept, pending limits, last
    GSTR-3B filed or not; the pending records in an expander (oldest expiry first)."""
    st.subheader("Deadlines")
    try:
        today = business_today()
    except ClockError as exc:
        st.error(str(exc))
        return
    for panel in ui.cached(panels_shown, gstins, today):
        with st.container(border=True, key=f"deadlines_{panel['gstin']}"):
            business_deadlines(panel, today)


def panels_shown(gstins: list[str], today: dt.date) -> list[dict]:
    """`deadline_panel`'s panels with only what the page shows of the pending records: the
    first SHOWN (earliest expiry first), how many there are, and each kind's count and first
    expiry. A business of a million records has a hundred thousand pending: kept whole in the
    cache, every session's Dashboard read them all back (issue 29)."""
    shown = []
    for panel in deadline_panel(gstins, today):
        pending = panel["pending"]
        shown.append({**panel, "pending": pending[:SHOWN], "pending_count": len(pending),
                      "pending_kinds": {kind: pending_summary(pending, kind)
                                        for kind in ("credit note", "invoice")}})
    return shown


def business_deadlines(panel: dict, today: dt.date) -> None:
    quarterly = panel["quarterly_day"]
    st.markdown(f"**{panel['name']}** · {panel['gstin']} · files GSTR-3B "
                + (f"quarterly (QRMP), due on the {quarterly}{'nd' if quarterly == 22 else 'th'}"
                   if quarterly else "monthly"))
    b2, b3, silence = panel["next_2b"], panel["next_3b"], panel["no_action"]
    c1, c2, c3, c4 = st.columns(4)
    dated(c1, f"GSTR-2B of {b2.label}", b2, today,
          "Generated on the 14th from the IMS actions held then; records with no action count "
          "as accepted.")
    dated(c2, f"GSTR-3B of {b3.label} due", b3, today,
          "The last IMS action before the return is filed wins.")
    last_filed(c3, panel, today)
    c4.metric("Silence will accept", short_rupees(silence["tax"]), **GREY,
              delta=f"{count_words(silence['count'])} record(s) with no action",
              help=f"Tax of {ui.rupees(silence['tax'])} on records with no action: they count "
                   "as accepted when the 2B is generated.")
    st.caption(f"{count_words(silence['unmatched'])} of the {count_words(silence['count'])} record(s) with no action "
               "are not matched to the books."
               + (f" {count_words(panel['kept_after_filing'])} record(s) left the portal's IMS with a "
                  "filed GSTR-3B; they stay here with their history."
                  if panel["kept_after_filing"] else ""))
    pending_list(panel, today)


def short_rupees(amount) -> str:
    """An amount that fits a metric: '₹14.36 lakh', '₹2.10 crore', else '₹45,000.00'."""
    divisor, unit = axis_unit([amount])
    if divisor == 1:
        return ui.rupees(amount)
    return f"{ui.rupees(float(amount) / divisor)} {unit.split()[-1]}"


def last_filed(column, panel: dict, today: dt.date) -> None:
    """The last GSTR-3B filed (its period and day), beside the one due: never 'not filed' for
    a return whose due date has not come (that one is the metric before)."""
    calendar = panel["calendar"]
    filed = sorted((p for p, f in calendar.filings.items() if f.filed), key=month_of)
    if not filed:
        asked = bool(calendar.filings)
        column.metric("Last GSTR-3B filed", "None found" if asked else "Unknown", **GREY,
                      delta="in the periods asked" if asked else "not read from the portal yet",
                      help="From the portal's filing status, read at each fetch.")
        return
    filing = calendar.filings[filed[-1]]
    column.metric("Last GSTR-3B filed", calendar.label(filed[-1]), **GREY,
                  delta=f"on {days_text(filing.filed_on, today)}" if filing.filed_on else None,
                  help=(f"Acknowledgement number (ARN) {filing.arn}. " if filing.arn else "")
                  + "From the portal's filing status, read at each fetch.")


def dated(column, label: str, event, today: dt.date, about: str) -> None:
    """A date as a metric: how far off it is, the date itself below ('20 Dec 2025 (in 5
    days)'), and why in the help (an override, a late GSTR-3B)."""
    column.metric(label, relative_text(event.day, today).capitalize() if event.day
                  else "Waiting", delta=days_text(event.day, today) or event.note, **GREY,
                  help=f"{event.note}. {about}" if event.note else about)


def pending_list(panel: dict, today: dt.date) -> None:
    pending, gstin = panel["pending"], panel["gstin"]
    notes, first_note = panel["pending_kinds"]["credit note"]
    invoices, first_invoice = panel["pending_kinds"]["invoice"]
    if not pending:
        st.caption("Nothing pending on the portal.")
        return
    title = (f"Pending: {count_words(notes)} credit note(s)"
             + (f", the first deemed accepted {days_text(first_note, today)}" if first_note else "")
             + f"; {count_words(invoices)} invoice(s)"
             + (f", the first loses its ITC {days_text(first_invoice, today)}"
                if first_invoice else ""))
    box = st.expander(title, key=f"pending_open_{gstin}", on_change="rerun")
    if not box.open:      # its list (up to 1,000 rows) drawn only when opened
        return
    with box:
        st.dataframe([{**{k: r[k] for k in PENDING_COLUMNS},
                       "section": SECTION_LABELS.get(r["section"], r["section"]),
                       "rtnprd": period_words(r["rtnprd"]) if r["rtnprd"] else "",
                       "doc_date": date_words(r["doc_date"]),
                       "tax": ui.rupees(r["tax"])} for r in pending[:SHOWN]],
                     hide_index=True, column_config=PENDING_COLUMNS, key=f"pending_{gstin}")
        if panel["pending_count"] > SHOWN:
            st.caption(f"The {count_words(SHOWN)} that expire first of {count_words(panel['pending_count'])}; all of them are "
                       "under IMS Invoices → Pending.")


def override_periods(back: int = 15, ahead: int = 3) -> list[str]:
    """'' (no override), then the months from `ahead` after the business day's month back to
    `back` before it, newest first (MMYYYY, shown in words)."""
    day = business_today()
    return [""] + [period_of(*add_months(day.year, day.month, -i))
                   for i in range(-ahead, back + 1)]


def show_calendar_settings(gstins: list[str], actor: str) -> None:
    """Settings: the filing frequency of each business and the dates overridden per period."""
    st.subheader("Return calendar")
    current = ui.cached(frequencies, gstins)
    if not current:
        return
    gstin = st.selectbox("Business", sorted(current), format_func=ui.label_business,
                         key="calendar_business")
    with st.form("calendar_settings"):
        frequency = st.radio("Files GSTR-3B", list(FREQUENCIES), format_func=FREQUENCIES.get,
                             horizontal=True, index=list(FREQUENCIES).index(current[gstin]))
        left, mid, right = st.columns(3)
        period = left.selectbox("Override a date of", override_periods(),
                                format_func=lambda p: period_words(p) if p else "No override",
                                help="A month; a quarterly filer's month names its quarter "
                                     "(Nov 2025: Oct-Dec 2025)")
        event = mid.selectbox("Date", list(EVENTS), format_func=EVENTS.get)
        day = right.date_input("New date (empty: back to the computed date)", value=None,
                               format="DD/MM/YYYY")
        if st.form_submit_button("Save calendar"):
            try:
                save_calendar_settings(gstin, frequency, actor, period, event, day)
                ui.after_write()
                ui.flash("success", "Calendar saved; the Dashboard counts from it.")
                st.rerun()
            except SettingsError as err:
                st.error(str(err))
    fixed = ui.cached(overrides, gstins)
    if fixed:
        st.dataframe([{"Business": ui.label_business(o["gstin"]),
                       "Period": period_words(o["ret_period"]),
                       "Date": EVENTS[o["event"]], "Overridden to": day_text(o["due_on"]),
                       "By": o["set_by"]} for o in fixed], hide_index=True)
    st.caption("The government often extends a due date: override it here for that period. "
               "A quarterly filer's override is kept on the quarter's last month (Dec 2025 for "
               "Oct-Dec 2025).")
