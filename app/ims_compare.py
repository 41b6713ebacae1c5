"""IMS Invoices' record view: one record of the page beside its books counterpart, opened by a
click on its row in the records view or chosen in the Record box; the record opened is kept in
the address (`record=`) so a refresh or a shared link opens it again."""
from __future__ import annotations

import polars as pl
import streamlit as st

from app import ui
from app.ims_grid import HEAD_LABEL
from app.manual_match import show_manual_match
from core import labels
from core.business import supplier_names
from core.figures import counted
from core.ims import approval, view
from core.ims.history import history_workbook, record_history
from core.reco import HEADS


def record_labels(rows: pl.DataFrame) -> dict[int, str]:
    """{record id: 'Supplier name · invoice 002799 · Sep 2025 · ₹1,23,456.00 · Matched'} of the
    records on the page `rows` (the supplier's name from the books or the 2B, else its GSTIN),
    the names asked for once per business of the page, not once per record."""
    names: dict[tuple, str] = {}
    stins_of = rows.filter(pl.col("rtin").is_not_null()).group_by("rtin").agg(
        pl.col("stin").unique().sort()) if "rtin" in rows.columns else pl.DataFrame()
    for rtin, stins in stins_of.iter_rows():
        found = ui.cached(supplier_names, [rtin], stins)
        names.update({(rtin, s): n for s, n in found.items()})
    return {r["record_id"]: " · ".join(p for p in (
        names.get((r.get("rtin"), r["stin"])) or r["stin"],
        f"{labels.doc_type_words(r.get('doc_type')).lower() or 'document'} {r['doc_no']}",
        labels.period_words(r["rtnprd"]) if r.get("rtnprd") else "",
        ui.rupees(r["val"]) if r.get("val") is not None else "",
        labels.status_words(r.get("match_status"))) if p)
        for r in rows.iter_rows(named=True)}


def show_texts(texts: dict) -> None:
    """The record's ITC-reduction answer and its two texts, apart."""
    answer = texts["itc_answer"] or "the portal does not ask for this record"
    if texts["itc_answer"] == "Partial":
        answer += " (" + ", ".join(f"{HEAD_LABEL[h]} {ui.rupees(texts[f'reduce_{h}'])}"
                                   for h in HEADS) + ")"
    left, right = st.columns(2)
    left.markdown(f"**ITC to be reduced:** {answer}")
    left.markdown("**Remark to supplier** (sent with the action): "
                  + (texts["supplier_remark"] or "none" if texts["remarks_allowed"]
                     else "the portal takes no remark for this record"))
    right.markdown("**Internal note** (never sent): " + (texts["internal_note"] or "none"))


def show_chain(chain: dict) -> None:
    """The record's amendment chain (original and amendments), when it has one."""
    if not chain["rows"]:
        return
    st.markdown(f"**Amendments of this document** · {chain['summary']}")
    st.dataframe(pl.DataFrame(chain["rows"]), hide_index=True, key="record_chain")


def show_history(gstins: list[str], record: dict) -> None:
    """Who decided what, and when: the record's history, and its business's period as an
    audit workbook (kept by our store after the portal purges the records)."""
    history = ui.cached(record_history, gstins, record["record_id"])
    box = st.expander(f"History of this record ({counted(len(history), 'event')})",
                      key="history_open", on_change="rerun")
    if not box.open:      # drawn only when opened (its table and download on every view cost)
        return
    with box:
        if history.is_empty():
            st.caption("Nothing has been done to this record yet.")
        else:
            st.dataframe(history, hide_index=True, key="record_history")
        period = record.get("rtnprd")
        if period:
            st.download_button(
                f"Download the history of {labels.period_words(period)}'s records (Excel)",
                lambda: history_workbook(record["rtin"], period), on_click="ignore",
                file_name=f"history_{record['rtin']}_{labels.period_words(period, '')}.xlsx",
                icon=":material/download:", key="history_download")


def open_from_box() -> None:
    st.session_state["open_record"] = str(st.session_state["compare_record"])


def opened_record(ids: list[int]) -> int:
    """The record to show: the one clicked (or in the address) when it is on this page, else
    the page's first."""
    opened = str(st.session_state.get("open_record", ""))
    chosen = next((rid for rid in ids if str(rid) == opened), ids[0])
    st.session_state["compare_record"] = chosen     # the Record box follows the click
    st.session_state["open_record"] = str(chosen)
    return chosen


def show_record(gstins: list[str], rows: pl.DataFrame) -> None:
    """The opened record of `rows` beside its books counterpart, with its answer and texts."""
    ids = rows["record_id"].to_list()
    if not ids:
        return
    chosen = opened_record(ids)
    shown = record_labels(rows)     # once per run: the Record box asks for every option's
    with st.container(border=True, key="record_view"):
        st.markdown(f"**Record and its books counterpart** · {shown[chosen]}")
        st.selectbox("Record", ids, key="compare_record", on_change=open_from_box,
                     format_func=lambda rid: shown.get(rid, str(rid)),
                     help="Or click a row of the list above")
        detail = view.record_with_counterpart(gstins, chosen)
        portal = detail["portal"]
        books_status = portal.get("books_status")
        if detail["books"] is None:
            st.info("No books document is matched to this record (IMS vs purchase register: "
                    f"{labels.status_words(books_status or portal.get('match_status'))}).")
        else:
            st.caption("Books match (IMS vs purchase register): "
                       f"**{labels.status_words(books_status)}** · status of the sync source: "
                       f"**{labels.status_words(portal.get('match_status'))}**")
        st.dataframe(pl.DataFrame(detail["compare"]).with_columns(
            pl.when(pl.col("differs")).then(pl.lit("≠")).otherwise(pl.lit("")).alias("differs")),
            hide_index=True, column_config={
                "field": st.column_config.TextColumn("Field", width="large"),
                "portal": "Portal (IMS)",
                                            "books": "Books (purchase register)",
                                            "difference": "Portal − books", "differs": ""})
        st.caption(f"Reasons: {labels.reasons_words(portal.get('reasons')) or 'none'}"
                   f" · Recommended: {labels.action_words(portal.get('recommended_action'), 'none')}")
        show_chain(detail["chain"])
        show_manual_match(gstins, portal, detail["books"])
        show_texts(detail["texts"])
        if said := approval.approval_words(portal):
            st.caption(f":material/approval: {said}")
        show_history(gstins, rows.filter(pl.col("record_id") == chosen).row(0, named=True))
