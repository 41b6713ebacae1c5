"""Match by hand, in the record view: the decisions taken on this record (undo; confirm or drop
after a change), break the pair the engine made, or search the business's books and link a
document, each with a reason. The business is reconciled again straight after, so the record
shows the answer at once (docs/reconciliation.md, "Decisions by hand")."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from app import ui
from core.ims import overrides, sync
from core.labels import date_words, doc_type_words

DECIDED = {"link": "Matched by hand to", "break": "Pair broken with"}


def decide(gstin: str, what: str, action, *args) -> None:
    """Take a decision, reconcile the business again, say what happened."""
    if not ui.permitted("act", "match records by hand"):
        return
    try:
        action(*args, ui.current_user() or ui.current_actor())
    except (overrides.DecisionError, PermissionError) as refused:
        st.error(f"Not saved: {refused}")
        return
    with st.spinner("Reconciling the business again with your decision ..."):
        sync.apply_sync(gstin, actor=ui.current_actor())
    ui.after_write()
    for done in ("books_candidates", "link_reason", "break_reason"):   # a fresh form next
        st.session_state.pop(done, None)
    ui.flash("success", what)
    st.rerun()


def show_decisions(gstins: list[str], record: dict) -> None:
    """The decisions in force on this record, or waiting for review, with their buttons."""
    for d in ui.cached(overrides.record_decisions, gstins, record["record_id"]):
        doc = f"{doc_type_words(d['doc_type']).lower()} {d['doc_no']}"
        dated = f" ({date_words(d['doc_date'])})" if d["doc_date"] else " (no longer in the books)"
        line = (f"**{DECIDED[d['kind']]} {doc}**{dated} by "
                f"{d['created_by']}, {ui.when(d['created_at'])}. Why: {d['reason']}")
        if d["record_id"] != record["record_id"]:
            line += (f" (taken on {d['on_record']}, another version of this amended document: "
                     "it moves with the chain to its latest version)")
        oid = d["override_id"]
        if d["state"] == "needs_review":
            st.warning(f"{line}  \n**Needs review:** {d['review_why']}. Until you confirm it, "
                       "the record shows the engine's own answer.")
            keep, drop, _ = st.columns([1, 1, 3])
            if keep.button("Confirm the decision", key=f"confirm_{oid}"):
                decide(record["rtin"], "Decision confirmed.", overrides.confirm_decision,
                       gstins, oid)
            if drop.button("Drop the decision", key=f"drop_{oid}"):
                decide(record["rtin"], "Decision dropped: the engine decides.",
                       overrides.drop_decision, gstins, oid)
        else:
            st.info(line)
            if st.button("Undo this decision", key=f"undo_{oid}"):
                decide(record["rtin"], "Decision undone: the engine decides again.",
                       overrides.undo_decision, gstins, oid)


def show_break(gstins: list[str], record: dict, books: dict | None) -> None:
    """Break the pair shown above (the engine never pairs the two again)."""
    if books is None or record.get("match_status") == "manual":
        return
    st.markdown(f"**Not the same document?** Break the pair with books "
                f"{doc_type_words(books['doc_type']).lower()} {books['doc_no']}: no pass will "
                "pair them again.")
    with st.form(key="break_pair_form", border=False):
        why = st.text_input("Why break this pair", key="break_reason", max_chars=500)
        if st.form_submit_button("Break the pair", disabled=not ui.can("act")):
            decide(record["rtin"], "Pair broken.", overrides.break_pair, gstins,
                   record["record_id"], why)


def show_search(gstins: list[str], record: dict) -> None:
    """Search the books of the record's business and link the document chosen."""
    st.markdown("**Link a books document to this record.** Search the purchase register of "
                "this business:")
    with st.form(key="books_search_form", border=False):
        c1, c2, c3, c4 = st.columns([3, 2, 3, 2])
        supplier = c1.text_input("Supplier GSTIN or name contains", value=record["stin"],
                                 key="search_supplier")
        number = c2.text_input("Number contains", key="search_number")
        dates = c3.date_input("Dated between", value=(), key="search_dates",
                              format="DD/MM/YYYY")
        amount = c4.text_input("Taxable or total ₹ (±1)", key="search_amount")
        st.form_submit_button("Search the books")
    value = None
    if amount.strip():
        try:
            value = float(amount.replace(",", "").replace("₹", "").strip())
        except ValueError:
            st.error(f"'{amount}' is not an amount in rupees (e.g. 12,500.00)")
            return
    start, end = (list(dates) + [None, None])[:2] if isinstance(dates, (list, tuple)) else \
        (dates, None)
    found = overrides.candidates_in_words(ui.cached(
        overrides.find_candidates, gstins, record["record_id"], supplier, number,
        start if isinstance(start, dt.date) else None, end if isinstance(end, dt.date) else None,
        value))
    if found.is_empty():
        st.caption("No current books document of this business fits the search.")
        return
    picked = st.dataframe(found.drop("doc_id"), hide_index=True, key="books_candidates",
                          on_select="rerun", selection_mode="single-row")
    rows = picked.selection.rows if picked else []
    if not rows:
        st.caption(f"{len(found)} documents found (closest in value first): click one to link "
                   "it.")
        return
    chosen = found.row(rows[0], named=True)
    with st.form(key="link_form", border=False):
        why = st.text_input(f"Why link {chosen['Document']} to this record",
                            key="link_reason", max_chars=500)
        if st.form_submit_button(f"Link {chosen['Document']}", type="primary",
                                 disabled=not ui.can("act")):
            decide(record["rtin"], f"Linked {chosen['Document']} by hand.",
                   overrides.link_record, gstins, record["record_id"], chosen["doc_id"], why)


def show_manual_match(gstins: list[str], record: dict, books: dict | None) -> None:
    """The record view's "Match by hand" part."""
    show_decisions(gstins, record)
    with st.expander("Match by hand: link a books document or break this pair",
                     expanded=bool(st.session_state.get("books_candidates"))):
        ui.read_only_note("act", "match records by hand")
        show_break(gstins, record, books)
        show_search(gstins, record)


def show_review_list(gstins: list[str]) -> None:
    """The decisions by hand waiting for review (a record or a books document changed since):
    confirm or drop each. Shown only when there are some."""
    waiting = ui.cached(overrides.decisions_to_review, gstins)
    if waiting.is_empty():
        return
    st.subheader(f"Decisions by hand to review ({len(waiting)})")
    st.caption("The supplier changed the record, or the books document was edited or rolled "
               "back, since a person decided: until someone confirms, the engine's own answer "
               "stands.")
    picked = st.dataframe(waiting.drop("override_id", "record_id"), hide_index=True,
                          key="review_list", on_select="rerun", selection_mode="single-row")
    rows = picked.selection.rows if picked else []
    if not rows:
        st.caption("Click a decision to confirm or drop it.")
        return
    chosen = waiting.row(rows[0], named=True)
    keep, drop, _ = st.columns([1, 1, 3])
    if keep.button("Confirm the decision", key="review_confirm", disabled=not ui.can("act")):
        decide(chosen["Business"], "Decision confirmed.", overrides.confirm_decision, gstins,
               chosen["override_id"])
    if drop.button("Drop the decision", key="review_drop", disabled=not ui.can("act")):
        decide(chosen["Business"], "Decision dropped: the engine decides.",
               overrides.drop_decision, gstins, chosen["override_id"])
