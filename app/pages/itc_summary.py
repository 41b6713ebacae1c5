"""ITC Summary: GSTR-3B Table 4 of one business and period from its GSTR-2B and from the books,
side by side with the difference; the documents behind any figure; the Excel download
(docs/month-close.md, "The ITC summary")."""
from __future__ import annotations

import streamlit as st

from app import ui, url_state
from app.fetch_now import fetch_2b_button
from app.table4_grid import chosen_figure, show_table4
from core import clock, labels
from core.calendar import deadlines
from core.export import XLSX_MIME
from core.figures import count_words, indian, rupees
from core.ims import download_name
from core.ims.fetch_now import latest_generated_2b
from core.labels import date_words, period_words
from core.month_close import (
    HEAD_WORDS,
    HEADS,
    ROWS,
    SOURCES,
    documents_behind,
    figure,
    itc_summary,
    itc_workbook_for,
    net_rows,
    not_fetched_words,
    shown_documents,
    stored_periods,
    table4_rows,
    unread_words,
)
from core.month_close import portal_differences as differing
from core.timefmt import shown_time

RECENT = 6   # tax periods offered besides those with a stored 2B

st.title("ITC Summary")
gstins = ui.require_businesses()
st.caption("GSTR-3B Table 4 as the GSTR-2B gives it and as the books claim it, with the "
           "difference; every figure opens to the documents behind it.")


def offered_periods(gstin: str) -> list[str]:
    """Periods with a stored 2B and the last few that have ended, newest first."""
    last = deadlines.period_of(*deadlines.add_months(clock.today().year,
                                                     clock.today().month, -1))
    recent = {deadlines.period_of(*deadlines.add_months(*deadlines.month_of(last), -i))
              for i in range(RECENT)}
    every = recent | set(ui.cached(stored_periods, gstin))
    return sorted(every, key=deadlines.month_of, reverse=True)


with st.container(border=True):
    left, right = st.columns([3, 2])
    linked = url_state.asked("business", gstins)      # F5 or a shared link: the same view
    gstin = left.selectbox("Business", gstins, format_func=ui.label_business, key="itc_business",
                           index=gstins.index(linked[0]) if linked else 0)
    periods = offered_periods(gstin)
    stored = ui.cached(stored_periods, gstin)
    generated = ui.cached(latest_generated_2b, gstin)
    words = {p: url_state.url_word(period_words(p)) for p in periods}
    asked = url_state.asked("period", periods, words)
    start = periods.index(asked[0]) if asked else next(
        (i for i, p in enumerate(periods) if p in stored),
        periods.index(generated) if generated in periods else 0)
    period = right.selectbox("Tax period", periods, index=start, format_func=period_words,
                             key=f"itc_period_{gstin}",
                             help="Starts at the latest period whose GSTR-2B is fetched, else "
                                  "the latest the portal has generated")

if unseen := url_state.not_granted("business", gstins):
    st.warning(f"The link names {', '.join(unseen)}, which is not among the businesses you may "
               "see; showing another.")
st.query_params.from_dict({"business": gstin, "period": words[period]})
summary = ui.cached(itc_summary, gstin, period)
if summary is None:
    st.info(not_fetched_words(gstin, period))
    st.caption("The worker fetches it by itself on and after that day, with the day's IMS "
               "fetch (Dashboard, job health: \"Last GSTR-2B\"), or fetch it now:")
    fetch_2b_button(gstin, period, ui.current_actor())
    st.stop()

st.caption(f"GSTR-2B version {summary.version or 'not given'}, generated on "
           f"{date_words(summary.generated_on) or 'a date not given'}, fetched "
           f"{shown_time(summary.fetched_at, 'at a time not recorded')}. Books: purchase-register "
           f"documents dated {date_words(summary.first_day)} to "
           f"{date_words(summary.last_day)}, and earlier ones the reconciliation pairs with "
           "this GSTR-2B.")
fetch_2b_button(gstin, period, ui.current_actor(), again=True)
off = differing(summary.figures)
if off.height:
    rows = sorted({ROWS[r] for r in off["row"].to_list()}, key=list(ROWS.values()).index)
    st.warning("The GSTR-2B's own summary does not agree with its documents in: "
               f"{'; '.join(rows)}. The figures below add up its documents; the column "
               "\"GSTR-2B's own summary\" shows what the portal states.")

if summary.unread:
    st.warning(unread_words(list(summary.unread)).capitalize() + ".")
for said in summary.checks:
    st.warning(f"Before filing: {said}")
st.caption("Credit notes are netted inside 4(A) as GSTN does since the January 2023 period (a "
           "row may be negative); ISD credit notes reduce 4(A)(4); 4(D)(1) is part of 4(A)(5), "
           "shown again.")

show_table4(table4_rows(summary.figures))
st.subheader("Net ITC per tax head (₹)")
st.table(net_rows(summary.figures))

st.subheader("Documents behind a figure")
row, head, source = chosen_figure()
found = documents_behind(summary.entries, row, head, source)
amount = figure(summary.figures, row, head, source)
total = int(found["amount"].sum()) if found.height else 0
said = (("the 2B's own summary does not state it" if amount is None else
         "the 2B's own summary states " + rupees(amount / 100))
        + "; its documents add up to " + rupees(total / 100)) \
    if source == "portal" and amount != total else f"they add up to {rupees(total / 100)}"
st.markdown(f"**{ROWS[row]}, {HEAD_WORDS[head]}, {SOURCES[source]}**: "
            f"{count_words(found.height)} document line(s); {said}.")
documents = shown_documents(found)
amounts = [HEAD_WORDS[h] for h in HEADS] + (["Counted"] if "Counted" in documents.columns
                                            else [])
documents = documents.with_columns(   # Indian grouping, as every other figure of the page
    labels.each(documents[c], indian).alias(c) for c in amounts)
st.dataframe(documents, hide_index=True, width="stretch", key="itc_documents",
             column_config={c: st.column_config.TextColumn(f"{c} ₹", alignment="right")
                            for c in amounts})

st.download_button(
    "Download the ITC summary (Excel)", ui.cached(itc_workbook_for, gstin, period),
    file_name=download_name("itc-summary", [gstin], [period], "table4", "xlsx"),
    mime=XLSX_MIME, icon=":material/download:", key="itc_download",
    help="Sheets: Table 4, Net ITC, Documents (every line behind every figure), About")
st.caption(f"Shown {shown_time(clock.utc_now())}.")
