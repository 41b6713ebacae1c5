"""IMS Invoices' two views of one page of records.

The records view (`show_records`) is read-only: a click on a row opens that record beside
its books counterpart, and a click on a column heading sorts every filtered record in the
store (the same as "Sort by"), never just the rows on screen (the column menu's browser-side
sort items are hidden). The actions editor
(`GRID_CONFIG`, `grid_frame`, `grid_changes`) is where actions, answers and notes are
changed; its headings do not sort at all (Streamlit sorts an editor only in the browser, so
a sorted editor would show one page's order as if it were the list's).
"""
from __future__ import annotations

import polars as pl
import streamlit as st

from app import ui
from core import labels
from core.figures import amounts_as_text
from core.ims import SORTS
from core.reco import ANSWER_LABELS, HEADS, REMARK_MAX
from core.timefmt import shown_times
from core.upload_words import state_words

LABEL = ui.ACTION_LABELS
MY_ACTION = {"Accept": "A", "Reject": "R", "Pending": "P", "No action (reset)": "N"}
ITC_ANSWER = {label: code for code, label in ANSWER_LABELS.items()}   # "Partial" -> "partial"
HEAD_LABEL = {"igst": "IGST", "cgst": "CGST", "sgst": "SGST", "cess": "Cess"}
ROW_PX, MAX_ROWS_SHOWN = 35, 12       # Streamlit's row (and heading) height; taller grids scroll
DOC_PX = 140                          # the list's Document column
REDUCE = tuple(f"reduce_{h}" for h in HEADS)

STATUS_HELP = "  \n".join(f"**{words}**: {why}" for code, (words, why) in
                          labels.STATUSES.items() if code != "(not synced)")
REASON_HELP = ("Why the record and its books document differ (all of them: the record's own "
               "view below the list).  \n" + "  \n".join(f"**{words}**: {why}" for words, why
                                                     in labels.REASONS.values()))
SORT_HELP = "Click the heading to sort every filtered record by it (again: the other way)"


def heading(key: str, help_text: str = "") -> str:
    """A heading's tooltip: its own help, plus how a click sorts when the store sorts by it."""
    return " ".join(part for part in (help_text, SORT_HELP if key in SORTS else "") if part)


def text_column(label: str, key: str, help_text: str = "", **kw):
    return st.column_config.TextColumn(label, help=heading(key, help_text) or None, **kw)


GRID_CONFIG = {
    "select": st.column_config.CheckboxColumn("✓", help="Select for a bulk action",
                                              width="small"),
    "rtin": st.column_config.TextColumn("Business", help="The company (GSTIN) the record is of"),
    "doc_no": "Document",
    "stin": "Supplier GSTIN",
    "doc_date": st.column_config.DateColumn("Date", format="D MMM YYYY"),
    "txval": st.column_config.TextColumn("Taxable ₹", alignment="right"),
    "tax": st.column_config.TextColumn("Tax ₹", alignment="right"),
    "portal_action": "On portal",
    "upload_state": st.column_config.TextColumn("Upload", help="Where your action is on its "
                                                "way to the portal"),
    "match_status": st.column_config.TextColumn("Match", help=STATUS_HELP),
    "recommended_action": "Recommended",
    "user_action": st.column_config.SelectboxColumn("My action", options=list(MY_ACTION),
                                                    help="Saved here; sent with Update to GST"),
    "itc_answer": st.column_config.SelectboxColumn(
        "ITC to be reduced", options=list(ITC_ANSWER),
        help="Accepting a credit note or a downward amendment also answers this (empty where the "
             "portal does not ask). Full: all of its tax; Partial: the amounts per head to the "
             "right; No: no ITC was claimed on it. Partial and No need a remark to the supplier."),
    **{f"reduce_{h}": st.column_config.NumberColumn(
        f"Reduce {HEAD_LABEL[h]} ₹", min_value=0, format="%.2f",
        help="For Partial only: the ITC to reduce on this head (CGST = SGST). Typed here as a "
             "plain number; the records list above shows it as 1,23,456.00") for h in HEADS},
    "supplier_remark": st.column_config.TextColumn(
        "Remark to supplier", max_chars=REMARK_MAX,
        help="Sent to the portal with the action; the supplier sees it"),
    "remarks_allowed": st.column_config.CheckboxColumn(
        "Remark allowed", help="Unticked: the portal takes no remark for this record"),
    "internal_note": st.column_config.TextColumn("Internal note",
                                                 help="The team's own note; never sent"),
}
EDITABLE = {"select", "user_action", "itc_answer", *REDUCE, "supplier_remark", "internal_note"}

BROWSE_CONFIG = {
    "rtin": text_column("Business", "rtin", "The company (GSTIN) the record is of"),
    "doc_no": text_column("Document", "doc_no", width=DOC_PX),
    "stin": text_column("Supplier GSTIN", "stin"),
    "doc_date": st.column_config.DateColumn("Date", format="D MMM YYYY",
                                            help=heading("doc_date")),
    "txval": text_column("Taxable ₹", "txval", alignment="right"),
    "tax": text_column("Tax ₹", "tax", alignment="right"),
    "portal_action": text_column("On portal", "portal_action"),
    "upload_state": text_column("Upload", "upload_state", "Where your action is on its way to "
                                "the portal"),
    "match_status": text_column("Match", "match_status", STATUS_HELP),
    "reasons": st.column_config.TextColumn("Reasons", help=REASON_HELP, width=480),
    "recommended_action": text_column("Recommended", "recommended_action"),
    "user_action": text_column("My action", "user_action", "Saved here; sent with Update to GST"),
    "itc_answer": text_column("ITC to be reduced", "itc_answer"),
    **{f"reduce_{h}": text_column(f"Reduce {HEAD_LABEL[h]} ₹", f"reduce_{h}",
                                  "For Partial only: the ITC to reduce on this head",
                                  alignment="right") for h in HEADS},
    "supplier_remark": text_column("Remark to supplier", "supplier_remark"),
    "internal_note": text_column("Internal note", "internal_note"),
    "section": text_column("Section", "section"), "rtnprd": text_column("Period", "rtnprd"),
    "upload_error": text_column("Upload error", "upload_error"),
    # the bucket "Waiting for approval": who proposed the action and when
    "user_action_by": text_column("Proposed by", "user_action_by",
                                  "Who saved the action that waits for approval"),
    "user_action_at": text_column("Proposed at", "user_action_at"),
}
# the columns the bucket "Waiting for approval" shows beside its records' action
PROPOSAL_COLUMNS = ["user_action_by", "user_action_at"]
# Streamlit's column menu (⋮) offers "Sort ascending / descending" on a read-only table, which
# orders only the rows in the browser; this page hides those two items (and their divider) so
# the store's sort is the only one. Editors' menus, which have no sort items, keep theirs.
NO_BROWSER_SORT = """<style>
[role="menu"][aria-label="Dataframe column menu"]:has(> [role="menuitem"] + [role="menuitem"]
  + div:not([role])) > :is([role="menuitem"]:nth-child(2), [role="menuitem"]:nth-child(3),
  div:nth-child(4):not([role])) {display: none;}
</style>"""
# the order a heading click sorts in first: amounts and dates largest / latest first
FIRST_ORDER = {"doc_date": "desc", "txval": "desc", "tax": "desc", "rtnprd": "desc"}


def shown_rows(page: pl.DataFrame) -> pl.DataFrame:
    """The page as people read it: labels instead of codes, amounts in Indian grouping, the
    upload's state in words (sent records: "Sent to the portal, waiting for its answer")."""
    my_label = {code: label for label, code in MY_ACTION.items()}
    shown = page.with_columns(
        labels.each(page["upload_state"], state_words, skip_nulls=False),
        pl.lit(False).alias("select"),
        pl.col("portal_action").fill_null("N").replace_strict(LABEL, default=None)
        .alias("portal_action"),
        pl.col("recommended_action").replace_strict(LABEL, default=None)
        .alias("recommended_action"),
        pl.col("user_action").replace_strict(my_label, default=None).alias("user_action"),
    )
    shown = amounts_as_text(shown, "txval", "tax")   # Indian grouping: 12,34,567.00
    shown = shown_times(shown, "user_action_at")    # in the business time zone, named
    return labels.worded(shown, {"match_status": "match_status", "reasons": "reasons",
                                 "section": "section", "rtnprd": "period"})


def grid_frame(page: pl.DataFrame, columns: list[str]):
    """The rows as the actions editor shows them, a Select column first."""
    return shown_rows(page).select(*columns).to_pandas()


def browse_frame(page: pl.DataFrame, columns: list[str]):
    """The rows as the records view shows them (the Partial amounts as 1,23,456.00 too)."""
    return amounts_as_text(shown_rows(page), *REDUCE).select(*columns).to_pandas()


def grid_height(rows: int, extra_rows: int = 0) -> int:
    """Pixels for a grid of `rows` rows and its heading: just enough, at most MAX_ROWS_SHOWN
    rows (then it scrolls); `extra_rows` for the editor's empty last row."""
    return ROW_PX * (min(max(rows, 1), MAX_ROWS_SHOWN) + 1 + extra_rows) + 3


def grid_changes(edited_rows: dict, page: pl.DataFrame) -> tuple[dict[int, dict], list[int]]:
    """Editor edits by row position -> {record_id: change} and the selected record ids."""
    ids = page["record_id"].to_list()
    changes, selected = {}, []
    for position, edit in edited_rows.items():
        rid = ids[int(position)]
        if edit.get("select"):
            selected.append(rid)
        change = {}
        if "user_action" in edit:
            change["action"] = MY_ACTION.get(edit["user_action"]) if edit["user_action"] else None
        if "itc_answer" in edit:
            change["itc"] = ITC_ANSWER.get(edit["itc_answer"]) if edit["itc_answer"] else None
        for h in HEADS:
            if f"reduce_{h}" in edit:
                change[f"decl_{h}"] = edit[f"reduce_{h}"]
        for column in ("supplier_remark", "internal_note"):
            if column in edit:
                change[column] = edit[column]
        if change:
            changes[rid] = change
    return changes, selected


def on_records_click(key: str, ids: list[int], sort_key: str, order: str) -> None:
    """Before the rerun a click on the records view starts: a heading sorts the store (Sort by
    and Order follow it), a row opens its record (`open_record`, kept in the address)."""
    selection = st.session_state[key]["selection"]
    if selection["columns"]:
        column = selection["columns"][0]
        if column in SORTS:
            first = FIRST_ORDER.get(column, "asc")
            again = {"asc": "desc", "desc": "asc"}[order]
            st.session_state["sort"] = column
            st.session_state["sort_order"] = again if column == sort_key else first
        else:
            ui.flash("info", f"The list cannot be sorted by {BROWSE_CONFIG[column]['label']}; "
                     "click another heading or choose under Sort by.")
        st.session_state["records_view_clicks"] = st.session_state.get("records_view_clicks",
                                                                       0) + 1
        return
    positions = selection["rows"] or [cell[0] for cell in selection["cells"]]
    if positions and 0 <= positions[0] < len(ids):
        st.session_state["open_record"] = str(ids[positions[0]])


def show_records(page: pl.DataFrame, columns: list[str], key: str, sort_key: str,
                 order: str) -> None:
    """The read-only records view of `page`: a row click opens it, a heading click sorts the
    store. Column selection is what keeps a heading click from sorting only these rows; the
    column menu's own sort items are hidden (NO_BROWSER_SORT)."""
    ids = page["record_id"].to_list()
    key = f"{key}_{st.session_state.get('records_view_clicks', 0)}"
    opened = str(st.session_state.get("open_record", ""))
    open_at = [i for i, rid in enumerate(ids) if str(rid) == opened]
    st.html(NO_BROWSER_SORT)
    st.dataframe(browse_frame(page, columns), key=key, hide_index=True,
                 column_config=BROWSE_CONFIG, height=grid_height(len(ids)), placeholder="",
                 on_select=lambda: on_records_click(key, ids, sort_key, order),
                 selection_mode=["single-row", "single-cell", "single-column"],
                 selection_default={"selection": {"rows": open_at}} if open_at else None)
