"""The Dashboard's GSTR-2B panel (docs/month-close.md, "Regenerating GSTR-2B"): per business,
"GSTR-2B needs regeneration" with the count of IMS records whose action now disagrees with the
2B, per period with the 2B's generation date; a "Regenerate GSTR-2B" button for users with
permission `upload`, asked for with a confirmation stating the count; and the stored 2Bs.
The figures and the job are in core/gstr2b/panel.py.
"""
from __future__ import annotations

import streamlit as st

from app import confirm, ui
from core.figures import count_words
from core.gstr2b import (
    LATE_SHOWN,
    PeriodFiled,
    gstr2b_panel,
    late_count,
    late_record_rows,
    regenerate_from_dashboard,
)
from core.portal import GstnError

STORED_COLUMNS = {"label": "Period", "version": "Version", "generated": "Generated on",
                  "fetched": "Fetched", "documents": "Documents"}


def show_gstr2b_panel(gstins: list[str]) -> None:
    """The panel, one bordered box per business."""
    st.subheader("GSTR-2B")
    ui.show_flash()   # what the last regeneration did (the Dashboard shows no other flash)
    may = ui.can("upload")
    for panel in ui.cached(gstr2b_panel, gstins):
        with st.container(border=True, key=f"gstr2b_{panel['gstin']}"):
            business_2b(panel, may)
    asked = confirm.asked("gstr2b")
    if asked and may:
        confirm_regeneration(*asked)


def business_2b(panel: dict, may: bool) -> None:
    st.markdown(f"**{panel['name']}** · {panel['gstin']}")
    if not panel["late"]:
        st.caption(":material/check_circle: GSTR-2B needs no regeneration: every stored 2B "
                   "agrees with the IMS actions as last fetched." if panel["stored"] else
                   "No GSTR-2B fetched yet: the worker fetches it on and after its generation "
                   "date (the 14th after the period).")
    for late in panel["late"]:
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.warning(f"**GSTR-2B needs regeneration** for {late['label']}: "
                     f"{count_words(late['count'])} IMS record(s) now have an action that the 2B generated "
                     f"on {late['generated']} does not reflect.", icon=":material/sync_problem:")
        if may and right.button("Regenerate GSTR-2B",
                                key=f"regen_{panel['gstin']}_{late['period']}",
                                help="Asks the portal to rebuild this 2B from the IMS actions "
                                     "held now, then fetches it"):
            confirm.ask("gstr2b", (panel["gstin"], late["period"], late["label"]))
        late_records_list(panel["gstin"], late)
    if not may and panel["late"]:
        ui.read_only_note("upload", "regenerate GSTR-2B")
    if panel["stored"]:
        st.dataframe(panel["stored"], hide_index=True, column_order=list(STORED_COLUMNS),
                     column_config={**STORED_COLUMNS,
                                    "fetched": "Fetched (business time zone)"},
                     key=f"stored_2b_{panel['gstin']}")


def late_records_list(gstin: str, late: dict) -> None:
    """The records that make this 2B need regeneration: supplier, document, value, why."""
    box = st.expander(f"The {count_words(late['count'])} record(s) the GSTR-2B of "
                      f"{late['label']} does not reflect", key=f"late_open_{gstin}_{late['period']}",
                      on_change="rerun")
    if not box.open:      # the list drawn (and read) only when opened
        return
    with box:
        rows = ui.cached(late_record_rows, gstin, late["period"])
        st.dataframe(rows, hide_index=True, width="stretch",
                     key=f"late_records_{gstin}_{late['period']}",
                     column_config={"Value": st.column_config.TextColumn(
                         "Value ₹", alignment="right"),
                         "Why": st.column_config.TextColumn(width="large")})
        if late["count"] > len(rows):
            st.caption(f"The {count_words(LATE_SHOWN)} of the largest value; IMS Invoices "
                       "lists every record.")


@confirm.dialog("gstr2b", "Regenerate GSTR-2B?")
def confirm_regeneration(gstin: str, period: str, label: str) -> None:
    """States the count; regenerates only when confirmed."""
    count = late_count(gstin, period)
    st.markdown(f"The GSTR-2B of **{label}** for {ui.label_business(gstin)} does not reflect "
                f"**{count_words(count)} IMS record(s)** whose action changed after it was generated. The "
                "portal rebuilds it from the IMS actions held now (this cannot be undone), "
                "then the new 2B is fetched.")
    if not confirm.answer_buttons("gstr2b", f"Yes, regenerate for {count_words(count)} record(s)"):
        return
    if not ui.permitted("upload", "regenerate GSTR-2B"):
        return
    try:
        with st.spinner("Asking the portal to regenerate GSTR-2B ..."):
            done = regenerate_from_dashboard(ui.current_user(), gstin, period)
        ui.flash("success", done["outcome"])
    except PeriodFiled as refused:
        ui.flash("error", f"Not regenerated: {refused}")
    except GstnError as exc:
        ui.flash("error", f"Not regenerated: the portal answered: {exc}")
    ui.after_write()
    st.rerun()
