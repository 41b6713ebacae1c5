"""Match by hand, in the record view of IMS Invoices and beside a GSTR-2A / GSTR-2B document
picked on the Reconciliation page: the decisions taken on it (undo; confirm or drop after a
change), break the pair the engine made, or search the business's books and link a document,
each with a reason. The business is reconciled again straight after, so the record or the
document shows the answer at once (docs/reconciliation.md, "Decisions by hand")."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from app import ui
from core.ims import document_overrides, overrides, sync
from core.ims.portal_documents import SOURCES, source_of
from core.labels import date_words, doc_type_words

DECIDED = {"link": "Matched by hand to", "break": "Pair broken with"}


def decide(gstin: str, what: str, action, *args, again=None) -> None:
    """Take a decision, reconcile the business again (`again`, by default its sync), say what
    happened."""
    if not ui.permitted("act", "match records by hand"):
        return
    try:
        action(*args, ui.current_user() or ui.current_actor())
    except (overrides.DecisionError, PermissionError) as refused:
        st.error(f"Not saved: {refused}")
        return
    with st.spinner("Reconciling the business again with your decision ..."):
        (again or sync.apply_sync)(gstin, actor=ui.current_actor())
    ui.after_write()
    for done in ("books_candidates", "link_reason", "break_reason"):   # a fresh form next
        st.session_state.pop(done, None)
    ui.flash("success", what)
    st.rerun()


def show_decisions(gstins: list[str], record: dict, decided: list[dict] | None = None,
                   again=None) -> None:
    """The decisions in force on this record (or `decided`: those on a GSTR-2A / 2B
    document), or waiting for review, with their buttons."""
    if decided is None:
        decided = ui.cached(overrides.record_decisions, gstins, record["record_id"])
    for d in decided:
        doc = f"{doc_type_words(d['doc_type']).lower()} {d['doc_no']}"
        dated = f" ({date_words(d['doc_date'])})" if d["doc_date"] else " (no longer in the books)"
        line = (f"**{DECIDED[d['kind']]} {doc}**{dated} by "
                f"{d['created_by']}, {ui.when(d['created_at'])}. Why: {d['reason']}")
        elsewhere = d["record_id"] != record["record_id"] if "record_id" in record else \
            d["on_record"] != record["doc_no"]
        if elsewhere:
            line += (f" (taken on {d['on_record']}, another version of this amended document: "
                     "it moves with the chain to its latest version)")
        oid = d["override_id"]
        if d["state"] == "needs_review":
            st.warning(f"{line}  \n**Needs review:** {d['review_why']}. Until you confirm it, "
                       "the record shows the engine's own answer.")
            keep, drop, _ = st.columns([1, 1, 3])
            if keep.button("Confirm the decision", key=f"confirm_{oid}"):
                decide(record["rtin"], "Decision confirmed.", overrides.confirm_decision,
                       gstins, oid, again=again)
            if drop.button("Drop the decision", key=f"drop_{oid}"):
                decide(record["rtin"], "Decision dropped: the engine decides.",
                       overrides.drop_decision, gstins, oid, again=again)
        else:
            st.info(line)
            if st.button("Undo this decision", key=f"undo_{oid}"):
                decide(record["rtin"], "Decision undone: the engine decides again.",
                       overrides.undo_decision, gstins, oid, again=again)


def show_break(gstins: list[str], record: dict, books: dict | None, breaking=None) -> None:
    """Break the pair shown above (the engine never pairs the two again); `breaking`: the
    decision's verb and its first arguments (by default the IMS record's), then `again`."""
    if books is None or record.get("match_status") == "manual":
        return
    verb, *first = breaking or (overrides.break_pair, gstins, record["record_id"])
    again = first.pop() if breaking else None
    st.markdown(f"**Not the same document?** Break the pair with books "
                f"{doc_type_words(books['doc_type']).lower()} {books['doc_no']}: no pass will "
                "pair them again.")
    with st.form(key="break_pair_form", border=False):
        why = st.text_input("Why break this pair", key="break_reason", max_chars=500)
        if st.form_submit_button("Break the pair", disabled=not ui.can("act")):
            decide(record["rtin"], "Pair broken.", verb, *first, why, again=again)


def show_search(gstins: list[str], record: dict, linking=None) -> None:
    """Search the books of the record's business and link the document chosen; `linking`:
    (the books search, the link verb and its first arguments, then `again`) for a GSTR-2A / 2B
    document, by default the IMS record's."""
    st.markdown(f"**Link a books document to this {'document' if linking else 'record'}.** "
                "Search the purchase register of this business:")
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
    start = start if isinstance(start, dt.date) else None
    end = end if isinstance(end, dt.date) else None
    if linking:
        search, searched, verb, *first = linking
        again = first.pop()
        found = overrides.candidates_in_words(ui.cached(search, *searched, supplier, number,
                                                        start, end, value))
    else:
        verb, first, again = overrides.link_record, [gstins, record["record_id"]], None
        found = overrides.candidates_in_words(ui.cached(
            overrides.find_candidates, gstins, record["record_id"], supplier, number, start,
            end, value))
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
        why = st.text_input(f"Why link {chosen['Document']} to this "
                            f"{'document' if linking else 'record'}",
                            key="link_reason", max_chars=500)
        if st.form_submit_button(f"Link {chosen['Document']}", type="primary",
                                 disabled=not ui.can("act")):
            decide(record["rtin"], f"Linked {chosen['Document']} by hand.", verb, *first,
                   chosen["doc_id"], why, again=again)


def show_manual_match(gstins: list[str], record: dict, books: dict | None) -> None:
    """The record view's "Match by hand" part; its forms are drawn only while its expander
    is open (they cost the browser on every view of IMS Invoices otherwise)."""
    show_decisions(gstins, record)
    box = st.expander("Match by hand: link a books document or break this pair",
                      expanded=bool(st.session_state.get("books_candidates")),
                      key="match_by_hand_open", on_change="rerun")
    if not box.open:
        return
    with box:
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


def show_document_match(gstins: list[str], run: dict, row: dict) -> None:
    """Match by hand beside the GSTR-2A / 2B document picked in a run's drill-down (`row`: the
    run's row; the run's kind names the source): its decisions, break its pair, link a books
    document. The run's reconciliation is run again after each decision (and, for GSTR-2A,
    the business's sync, which carries 2A answers onto IMS records where 2A is the source)."""
    source = source_of(run["kind"])
    if source is None or not row.get("portal_doc_no"):
        st.caption("Pick a row with a portal document to match it by hand.")
        return
    gstin = run["rtin"]
    doc = {"stin": row["supplier_gstin"], "doc_type": row["doc_type"],
           "doc_no": row["portal_doc_no"], "doc_date": row["portal_doc_date"]}
    periods = [p for p in (run["periods"] or "").split(",") if p] or None

    def again(business: str, actor: str) -> None:
        st.session_state["reco_run"] = sync.run_reconciliation(business, run["kind"], periods,
                                                               actor)
        if source == "2a" and sync.sync_source(business) == "2a_vs_pr":
            sync.apply_sync(business, actor=actor)

    words = f"{SOURCES[source]} {doc_type_words(doc['doc_type']).lower()} {doc['doc_no']}"
    st.markdown(f"**{words}** of {doc['stin']}")
    record = {"rtin": gstin, "stin": doc["stin"], "doc_no": doc["doc_no"],
              "match_status": row["match_status"]}
    show_decisions(gstins, record, ui.cached(document_overrides.document_decisions, gstins,
                                             gstin, source, doc), again)
    books = None if row.get("pr_doc_id") is None else {
        "doc_type": row["doc_type"], "doc_no": row["pr_doc_no"]}
    near = row.get("portal_txval")
    near = None if near is None else float(near)

    with st.expander(f"Match by hand: link a books document to {words} or break this pair",
                     expanded=True):
        ui.read_only_note("act", "match documents by hand")
        show_break(gstins, record, books, (document_overrides.break_document, gstins, gstin,
                                           source, doc, row.get("pr_doc_id"), again))
        show_search(gstins, record, (overrides.search_books, (gstins, gstin, near),
                                     document_overrides.link_document, gstins, gstin, source,
                                     doc, again))
