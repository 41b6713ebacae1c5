"""Fetch now, on the pages (core/ims/fetch_now.py): the Dashboard's "Fetch from the portal
now" per business (IMS, GSTR-2A, GSTR-2B) and the ITC Summary's "Fetch the GSTR-2B now". Each
step is a recorded job; the progress shows while it runs, and the outcome stays next to the
button, in words, after the page has reloaded with the new data."""
from __future__ import annotations

import streamlit as st

from app import ui
from core.calendar import period_label
from core.ims.fetch_now import IMS, PARTS, TWO_B, fetch_now, latest_generated_2b
from core.suppliers import review_cases

FAILED = (" not fetched", " not refreshed")


def fetch_now_panel(gstins: list[str], actor: str) -> None:
    """Choose a business and what to fetch; "Fetch now" runs it with its progress shown."""
    with st.container(border=True, key="fetch_now"):
        st.markdown("**Fetch from the portal now**")
        st.caption("The worker fetches every business each day at its fetch time. Fetch here to "
                   "see the portal's latest at once; each fetch is recorded like the worker's own runs.")
        c1, c2 = st.columns([3, 1])
        gstin = c1.selectbox("Business", gstins, format_func=ui.label_business,
                             key="fetch_business")
        latest = ui.cached(latest_generated_2b, gstin)
        parts = st.pills("What", list(PARTS), format_func=PARTS.get, selection_mode="multi",
                         default=list(PARTS), key="fetch_parts")
        c2.text_input("GSTR-2B of", period_label(latest) if latest else "none generated yet",
                      disabled=True, key=f"fetch_2b_{gstin}",
                      help="The latest tax period whose GSTR-2B the portal has generated")
        clicked = st.button("Fetch now", icon=":material/cloud_download:",
                            disabled=not ui.can("reconcile") or not parts, key="fetch_now_button")
        ui.read_only_note("reconcile", "fetch from the portal")
        show_outcome("fetch_now_outcome")
    if clicked and ui.permitted("reconcile", "fetch from the portal"):
        run_fetch(gstin, list(parts), actor, latest, "fetch_now_outcome")


def fetch_2b_button(gstin: str, period: str, actor: str, again: bool = False) -> None:
    """The ITC Summary's button: fetch this GSTR-2B now (no shell command needed)."""
    label = period_label(period)
    key = f"fetch_2b_outcome_{gstin}_{period}"
    show_outcome(key)
    if not st.button(f"Fetch the GSTR-2B of {label} {'again' if again else 'now'}",
                     icon=":material/cloud_download:", disabled=not ui.can("reconcile"),
                     key=f"fetch_2b_button_{gstin}_{period}"):
        ui.read_only_note("reconcile", "fetch a GSTR-2B")
        return
    if ui.permitted("reconcile", "fetch a GSTR-2B"):
        run_fetch(gstin, [TWO_B], actor, period, key)


def run_fetch(gstin: str, parts: list[str], actor: str, period_2b: str | None, key: str) -> None:
    """Run the fetch with its progress, keep the outcome for the next run, reload the page."""
    business = ui.label_business(gstin)
    lines = []
    with st.status(f"Fetching for {business} ...", expanded=True) as status:
        for line in fetch_now(gstin, parts, actor, period_2b, sync=IMS in parts):
            st.write(line)
            lines.append(line)
        if IMS in parts:
            reviewed = review_cases(gstin, actor)
            if reviewed["fixed"]:
                line = (f"Supplier cases: {reviewed['fixed']} record(s) seen fixed, "
                        f"{reviewed['resolved']} case(s) resolved.")
                st.write(line)
                lines.append(line)
        failed = any(f in line for line in lines for f in FAILED)
        status.update(label=f"Fetch for {business} " + ("done, with problems." if failed
                                                          else "done."),
                      state="error" if failed else "complete")
    st.session_state[key] = {"business": business, "lines": lines, "failed": failed}
    ui.after_write()
    st.rerun()


def show_outcome(key: str) -> None:
    """The last fetch's outcome, where its button is."""
    done = st.session_state.pop(key, None)
    if not done:
        return
    text = f"Fetched for {done['business']}:\n" + "\n".join(f"- {line}" for line in done["lines"])
    (st.warning if done["failed"] else st.success)(text, icon=":material/cloud_done:")

