"""IMS Invoices: buckets, filters, a server-paged list whose row click opens the record beside
its books counterpart and whose heading click sorts every filtered record (app/ims_grid.py,
app/ims_compare.py), the actions editor with bulk actions, Update to GST, and downloads of the
filtered view. The actions editor and the portal's answers draw only while their expanders
are open (a closed expander's content still costs the browser; docs/reliability.md)."""
from __future__ import annotations

from functools import partial

import polars as pl
import streamlit as st

from app import confirm, ui, url_state
from app import ims_grid as grid
from app.ims_compare import show_record
from app.ims_sheet import actions_from_sheet
from app.ims_upload import confirm_upload, figures_words
from core import export, labels
from core.auth import PermissionDenied
from core.figures import count_words, counted
from core.ims import (
    BUCKETS,
    DEFAULT_SORT,
    SORTS,
    ImsFilter,
    approval,
    download_name,
    ims_file,
    upload,
    view,
)
from core.ims import actions as act
from core.jobs import POLL, run_job

PAGE_SIZE = 50
OUTCOME = "grid_outcome"   # the last save's result, shown by the buttons
CHECKED = "upload_checked"  # the last upload-status check, shown by its button
ORDERS = {"desc": "Largest / latest first", "asc": "Smallest / earliest first"}
EDITOR_OPEN = "edit_actions_open"   # the actions editor's expander (drawn only while open)
EDITOR_KEPT = "edit_actions_kept_open"   # ... and the person's choice, kept between visits

st.title("IMS Invoices")
ui.show_flash()
gstins = ui.require_businesses()
may_act, may_upload = ui.can("act"), ui.can("upload")
options = ui.cached(view.filter_options, gstins)
RECOMMENDED_WORDS = {"A": "accept", "R": "reject", "P": "pending", "-": "none"}
URL = {"f_business": ("business", "list", gstins), "f_section": ("section", "list", None),
       "f_period": ("period", "list", options["periods"],
                    {p: url_state.url_word(labels.period_words(p)) for p in options["periods"]}),
       "f_status": ("status", "list", options["match_statuses"],
                    {c: url_state.url_word(labels.status_words(c))
                     for c in options["match_statuses"]}),
       "f_rec": ("recommended", "list", ["A", "R", "P", "-"], RECOMMENDED_WORDS),
       "f_supplier": ("supplier", "text", None), "f_doc": ("doc", "text", None),
       "bucket": ("bucket", "choice", list(BUCKETS),
                  {b: url_state.url_word(BUCKETS[b][0]) for b in BUCKETS}), "sort": ("sort", "choice", list(SORTS),
                                                {k: url_state.url_word(SORTS[k][0]) for k in SORTS}),
       "sort_order": ("order", "choice", list(ORDERS)), "page": ("page", "text", None),
       "open_record": ("record", "text", None)}
unseen = url_state.restore(URL).get("business")
if unseen:   # a deep link to a business this user is not granted: said, not silently dropped
    st.warning(f"The link names {', '.join(unseen)}, which is not among the businesses you "
               "may see; the records shown leave it out. Ask an admin to grant it (Users).")


def filters_from_widgets(gstins: list[str], options: dict) -> ImsFilter:
    """The filter bar; every value becomes a SQL parameter in core.ims.view."""
    with st.expander("Filters", expanded=True):
        c1, c2, c3, c4 = st.columns(4)
        businesses = c1.multiselect("Business", gstins, format_func=ui.chip_business,
                                    key="f_business")
        sections = c2.multiselect("Section", options["sections"], key="f_section",
                                  format_func=labels.section_words)
        periods = c3.multiselect("Return period", options["periods"], key="f_period",
                                 format_func=labels.period_words)
        statuses = c4.multiselect("Match status", options["match_statuses"], key="f_status",
                                  format_func=labels.status_words,
                                  help=grid.STATUS_HELP)
        c5, c6, c7 = st.columns([1, 1, 2])
        recommended = c5.multiselect("Recommended action", ["A", "R", "P", "-"], key="f_rec",
                                     format_func=action_label)
        supplier = c6.text_input("Supplier GSTIN contains", key="f_supplier")
        doc = c7.text_input("Document number contains", key="f_doc")
    return ImsFilter(tuple(businesses), tuple(sections), supplier, tuple(statuses),
                     tuple(recommended), tuple(periods), doc)


def action_label(code: str) -> str:
    return grid.LABEL.get(code, "No recommendation")


def save_from_grid(gstins: list[str], f: ImsFilter, bucket: str, edited_rows: dict,
                   page: pl.DataFrame, on_selected: bool, on_filtered: bool, bulk: str) -> bool:
    """Save the grid's edits or apply the bulk action to the selected rows or to everything
    the filters `f` show in `bucket`; False when refused (error shown)."""
    if not ui.permitted("act", "change IMS actions"):
        return False
    changes, selected = grid.grid_changes(edited_rows, page)
    user = ui.current_user()
    try:
        if not (on_selected or on_filtered):
            report(act.save_user_actions(gstins, changes, user), "Saved changes")
        elif on_selected and not selected:
            st.session_state[OUTCOME] = {
                "what": act.BULK_ACTIONS[bulk], "refused": True, "lines": [],
                "summary": "no row is ticked; tick the ✓ box of the rows to change first"}
        elif on_selected:
            scope = ImsFilter(record_ids=tuple(selected))
            report(act.bulk_action(gstins, scope, None, bulk, user), act.BULK_ACTIONS[bulk])
        else:
            report(act.bulk_action(gstins, f, bucket, bulk, user), act.BULK_ACTIONS[bulk])
    except PermissionDenied as denied:
        st.error(f"Not saved: {denied}")
        return False
    except act.ActionError as refused:   # the edits stay in the grid to be put right
        st.error(str(refused).replace("; ", "\n- ").replace("Not saved: ", "Not saved:\n- "))
        return False
    return True


def report(result: act.SaveResult, what: str) -> None:
    """Keep the save's outcome for the next run, where the buttons are (`show_outcome`)."""
    st.session_state[OUTCOME] = {"what": what, "summary": result.summary(),
                                 "lines": result.lines, "refused": result.not_saved > 0}
    ui.after_write()
    st.session_state["grid_generation"] = st.session_state.get("grid_generation", 0) + 1


def show_outcome() -> None:
    """The last save or bulk action, next to its buttons: the counts, then each record in
    words (supplier, document number): saved, not saved and why, already so."""
    done = st.session_state.pop(OUTCOME, None)
    if not done:
        return
    text = f"**{done['what']}**: {done['summary']}."
    if done["lines"]:
        text += "\n" + "\n".join(f"- {line}" for line in done["lines"])
    (st.warning if done["refused"] else st.success)(text)


def check_uploads(gstins: list[str]) -> None:
    """Ask the portal about every upload in flight, business by business, as recorded jobs
    (like the worker's), with the progress shown; the outcome is kept for the next run."""
    lines = []
    with st.status("Asking the portal about the uploads in flight ...", expanded=True) as status:
        for gstin in gstins:
            done = run_job(POLL, gstin, lambda rid, g=gstin: upload.poll_uploads(g),
                           triggered_by=ui.current_actor())
            c = done.counts or {}
            line = f"{ui.label_business(gstin)}: " + (
                f"not checked: {done.error}" if not done.ok else
                "nothing waiting for the portal's answer" if not (c.get("polled") or c.get("sent"))
                else f"{count_words(c.get('polled') or 0)} upload(s) asked about, "
                     f"{count_words(c.get('finished') or 0)} answered, "
                     f"{count_words(c.get('sent') or 0)} queued batch(es) sent")
            st.write(line)
            lines.append(line)
        status.update(label="Upload status checked.", state="complete")
    st.session_state[CHECKED] = lines
    ui.after_write()
    st.rerun()


def bucket_label(counts: dict, name: str) -> str:
    return f"{BUCKETS[name][0]} ({count_words(counts[name])})"


def edit_actions(box, rows: pl.DataFrame, columns: list[str], total: int,
                 editor_key: str) -> tuple[str, str, dict]:
    """The editor of the listed records with its buttons, in `box` (drawn only while its
    expander is open: a second grid of the page and its form cost the browser on every view).
    (The button clicked: "save", "selected", "filtered" or "", the bulk action, the edits.)"""
    with box, st.form("grid_form", border=False):
        locked = [c for c in columns if c not in grid.EDITABLE] if may_act else True
        st.data_editor(grid.grid_frame(rows, columns), key=editor_key, hide_index=True,
                       column_config=grid.GRID_CONFIG, disabled=locked, placeholder="",
                       height=grid.grid_height(rows.height, extra_rows=1), num_rows="add")
        st.caption("Same rows and order as the list above (its headings sort the whole list; "
                   "these do not sort). The empty last row is Streamlit's: a row added there "
                   "is left out.")
        save_col, bulk_col, sel_col, all_col = st.columns([1, 2, 1, 1],
                                                          vertical_alignment="bottom")
        save = save_col.form_submit_button("Save changes", type="primary", disabled=not may_act)
        bulk = bulk_col.selectbox("Bulk action", list(act.BULK_ACTIONS), key="bulk_action",
                                  format_func=act.BULK_ACTIONS.get, disabled=not may_act)
        on_selected = sel_col.form_submit_button("Apply to selected rows", disabled=not may_act)
        on_filtered = all_col.form_submit_button(f"Apply to all {count_words(total)} filtered",
                                                 disabled=not may_act)
    state = st.session_state[editor_key]
    added = len(state.get("added_rows") or [])
    if added and (save or on_selected):
        ui.flash("warning", f"{count_words(added)} row(s) added at the foot of the editor were "
                 "left out: IMS records come only from the portal.")
    clicked = "save" if save else "selected" if on_selected else "filtered" if on_filtered else ""
    return clicked, bulk, state["edited_rows"]


@confirm.dialog("bulk", "Apply to every filtered record?")
def confirm_bulk(gstins: list[str], f: ImsFilter, bucket: str, bulk: str) -> None:
    """The bulk action's scope in counts and rupees; nothing changes until confirmed."""
    fig = view.scope_figures(gstins, f, bucket)
    st.markdown(f"**{act.BULK_ACTIONS[bulk]}** on {figures_words(fig)} in "
                f"**{BUCKETS[bucket][0]}** (the filters above). It is saved here as your action "
                "(each change logged); nothing goes to the portal until **Update to GST**.")
    if (confirm.answer_buttons("bulk", f"Yes, apply to {counted(fig['records'], 'record')}")
            and save_from_grid(gstins, f, bucket, {}, rows, False, True, bulk)):
        st.rerun()


f = filters_from_widgets(gstins, options)
counts = ui.cached(view.bucket_counts, gstins, f)
offered = ui.cached(approval.offered_buckets, gstins)   # "Waiting for approval" where asked
if st.session_state.get("bucket") not in (None, *offered):
    st.session_state["bucket"] = "no_action"
bucket = st.segmented_control("Bucket", offered, key="bucket", required=True,
                              default="no_action", format_func=partial(bucket_label, counts))
s1, s2 = st.columns([1, 2])
sort_key = s1.selectbox("Sort by", list(SORTS), key="sort", format_func=lambda k: SORTS[k][0],
                        index=list(SORTS).index(DEFAULT_SORT[0]))
order = s2.segmented_control("Order", list(ORDERS), key="sort_order", default="desc",
                             required=True, format_func=ORDERS.get)
sort = (sort_key, order == "desc")
total = counts[bucket]
pages = view.page_count(total, PAGE_SIZE)
page_key = f"page_{hash((f, bucket, sort)) & 0xffffffff}"
if page_key not in st.session_state and str(st.session_state.get("page", "")).isdigit():
    st.session_state[page_key] = int(st.session_state["page"])  # from the address
page_no = max(1, min(st.session_state.get(page_key, 1) or 1, pages))
st.session_state["page"] = str(page_no)
rows = ui.cached(view.records_page, gstins, f, bucket, page_no, PAGE_SIZE, sort)
shown_businesses = f.businesses or gstins
several = len(shown_businesses) > 1
browse_columns = [c for c in grid.BROWSE_CONFIG
                  if (c != "rtin" or several) and c not in grid.PROPOSAL_COLUMNS]
if bucket == view.WAITING_APPROVAL:   # the proposed action, who proposed it and when, first
    browse_columns.remove("user_action")
    at = browse_columns.index("tax") + 1
    browse_columns[at:at] = ["user_action", *grid.PROPOSAL_COLUMNS]
    st.info("These actions wait for a second person's approval before **Update to GST** sends "
            "them. Approvers approve or return them, with a comment, on the Approvals page.")
    st.page_link("pages/approvals.py", label="Open the Approvals page",
                 icon=":material/approval:")
columns = [c for c in grid.GRID_CONFIG if c != "rtin" or several]

if counts["all"] == 0 and f == ImsFilter():
    ui.no_data_yet("IMS records")
elif total == 0:
    st.info(f"No records in **{BUCKETS[bucket][0]}** for these filters. Try another bucket or "
            "clear a filter.")
else:
    grid.show_records(rows, browse_columns, f"records_{page_key}_{page_no}", sort_key, order)
    st.pagination(pages, key=page_key)
    st.caption(f"{counted(total, 'record')} · page {page_no} of {count_words(pages)} · {PAGE_SIZE} per page · "
               f"sorted by {SORTS[sort_key][0]} ({ORDERS[order].lower()}) over all {count_words(total)} "
               "filtered records. Click a row to open it beside its books document; click a "
               "column heading to sort every filtered record by it.")
    show_record(gstins, rows)
    editor_key = (f"grid_{page_key}_{page_no}_{st.session_state.get('grid_generation', 0)}")
    these = "this record" if rows.height == 1 else f"these {counted(rows.height, 'record')}"
    if EDITOR_OPEN not in st.session_state:         # as the person left it on an earlier visit
        st.session_state[EDITOR_OPEN] = st.session_state.get(EDITOR_KEPT, False)
    editing = st.expander(f"Edit actions of {these} (and bulk actions)", key=EDITOR_OPEN,
                          icon=":material/edit:", on_change="rerun")
    st.session_state[EDITOR_KEPT] = editing.open     # its own state ends on another page
    clicked, bulk, edits = (edit_actions(editing, rows, columns, total, editor_key)
                            if editing.open else ("", None, {}))
    ui.read_only_note("act", "change actions")
    show_outcome()
    if clicked == "filtered" and ui.permitted("act", "change IMS actions"):
        confirm.ask("bulk", bulk)
    if confirm.asked("bulk") in act.BULK_ACTIONS:
        confirm_bulk(gstins, f, bucket, confirm.asked("bulk"))
    elif clicked in ("save", "selected") and save_from_grid(
            gstins, f, bucket, edits, rows, clicked == "selected", False, bulk):
        st.rerun()
url_state.keep(URL)
actions_from_sheet(gstins)


st.subheader("Update to GST")
st.markdown(f"**{count_words(counts['to_upload'])}** record(s) with your action waiting to be uploaded "
            f"(within the filters) · **{count_words(counts['in_flight'])}** sent, awaiting the portal's "
            f"answer · **{count_words(counts['upload_errors'])}** with upload errors.")
waiting = ui.cached(approval.waiting_counts, gstins)
if waiting["proposed"] or waiting["returned"]:
    st.caption(f":material/approval: {count_words(waiting['proposed'])} proposal(s) wait for "
               f"approval and {count_words(waiting['returned'])} were returned to their "
               "authors (**Approvals** page): Update to GST sends approved actions only.")
b1, b2, _ = st.columns(3)
if b1.button("Update to GST", type="primary", icon=":material/cloud_upload:",
             disabled=counts["to_upload"] == 0 or not may_upload):
    confirm.ask("upload")
if confirm.asked("upload"):
    confirm_upload(gstins, f)
if (b2.button("Check upload status", disabled=not may_upload)
        and ui.permitted("upload", "check uploads with the portal")):
    check_uploads(gstins)
ui.read_only_note("upload", "upload to the portal")
if said := st.session_state.pop(CHECKED, None):      # the check's outcome, by its button
    st.success("**Upload status checked**:\n" + "\n".join(f"- {line}" for line in said))
results = ui.cached(view.recent_upload_results, gstins)
if not results.is_empty():
    answers = st.expander(f"The portal's answers to the latest uploads "
                          f"({counted(results.height, 'row')})", key="answers_open",
                          on_change="rerun")
    if answers.open:      # drawn only when opened
        answers.dataframe(results, hide_index=True, column_config={
            "request_id": "Request", "rtin": "Business", "reqtyp": "Kind", "sent_at": "Sent",
            "doc_no": "Document", "supplier_gstin": "Supplier GSTIN", "action": "Action",
            "portal_answer": "Portal's answer", "result": "Record", "error": "Error"})


def download(column, label: str, scope: str, args: tuple, excel: bool, periods=()) -> None:
    """A download button whose file (CSV or workbook) is built when it is clicked, on the
    server's worker thread; clicking never reruns the page, and a second click builds it again.
    Not with the page: a workbook written cell by cell cost seconds of every run, and a CSV
    built with the page was sent to the browser on every view of it (two CSVs of the default
    view, about 300 KB, fetched by the browser each time; docs/reliability.md)."""
    ext, mime = ("xlsx", export.XLSX_MIME) if excel else ("csv", "text/csv")
    column.download_button(label, partial(ims_file, *args, excel), mime=mime,
                           icon=":material/download:", key=f"download_{scope}_{ext}",
                           on_click="ignore",
                           file_name=download_name("ims", shown_businesses, periods, scope, ext))


if total:
    d1, d2, d3 = st.columns(3)
    scope = bucket.replace("_", "-") + ("-filtered" if f != ImsFilter() else "")
    download(d1, "Download CSV", scope, (gstins, f, bucket, sort), False, f.periods)
    download(d2, "Download Excel", scope, (gstins, f, bucket, sort), True, f.periods)
    everything = ImsFilter(businesses=f.businesses)   # of the businesses shown, any bucket
    download(d3, "Download all records (CSV)", "all", (gstins, everything, None, DEFAULT_SORT),
             False)
