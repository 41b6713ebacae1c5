"""Purchase Register: upload CSV/XLSX, pick or save a column mapping, preview the validation,
import as a batch (or, when some lines have errors, the valid lines alone after a
confirmation), list and roll back batches, download the rejected lines and every problem."""
from __future__ import annotations

import re
from functools import partial

import polars as pl
import streamlit as st

from app import auth_ui, confirm, ui, upload_guard
from core import purchase
from core.business import companies_by_batch
from core.figures import count_words, counted
from core.purchase import (
    CN_SIGNS,
    FIELDS,
    MAX_UPLOAD_BYTES,
    REQUIRED,
    Template,
    read_table,
    rollback_figures,
)
from core.timefmt import shown_times

CUSTOM = "(map columns myself)"
FROM_FILE = "(from the file's company GSTIN column)"
# The importer's cap in whole MB (the server's own server.maxUploadSize is matched to it in
# .streamlit/config.toml and still rejects anything larger).
UPLOAD_LIMIT_MB = min(-(-MAX_UPLOAD_BYTES // (1024 * 1024)),
                      st.get_option("server.maxUploadSize"))


def suggested_columns(cells: list) -> int:
    """How many of a candidate header row's cells name a field (to find the header row)."""
    return len(purchase.suggest_mapping([str(c) for c in cells]))


def mapping_from_widgets(data: bytes, name: str, may_import: bool,
                         actor: str) -> Template | None:
    """The user's own mapping: one column per field, suggested from the headers."""
    table = read_table(data, name, suggested_columns)
    headers = [c for c in table.frame.columns if not c.startswith("__")]
    suggested = purchase.suggest_mapping(headers)
    choices = ["(none)"] + headers
    cols = st.columns(4)
    mapping = {}
    for i, field in enumerate(FIELDS):
        at = choices.index(suggested[field]) if suggested.get(field) in choices else 0
        pick = cols[i % 4].selectbox(field + (" *" if field in REQUIRED else ""), choices,
                                     index=at, key=f"map_{field}")
        if pick != "(none)":
            mapping[field] = pick
    c1, c2, c3 = st.columns(3)
    date_format = c1.text_input("Date format (strftime, empty = automatic)",
                                key="map_date") or None
    cn_sign = c2.selectbox("Credit-note amounts", CN_SIGNS, key="map_cn")
    save_as = c3.text_input("Save this mapping as", key="map_name")
    template = Template(save_as or "custom", mapping, date_format, cn_sign)
    if st.button("Save mapping", disabled=not may_import) and save_as and ui.permitted(
            "import", "save column mappings"):
        try:
            purchase.save_template(save_as, mapping, date_format, cn_sign, actor=actor)
            ui.flash("success", f"Mapping '{save_as}' saved; pick it from the list next time.")
            st.rerun()
        except ValueError as err:
            st.error(str(err))
    missing = [f for f in REQUIRED if f not in mapping]
    if missing:
        st.warning(f"Choose a column for: {', '.join(missing)}")
        return None
    return template


def company_label(gstin: str) -> str:
    return gstin if gstin == FROM_FILE else ui.label_business(gstin)


def company_from_widgets(gstins: list[str]) -> str | None:
    """The company for lines without a company GSTIN (Tally-style files have no such column):
    one of the businesses this user may see; with several, none until the user picks one."""
    options = gstins if len(gstins) == 1 else [FROM_FILE, *gstins]
    pick = st.selectbox("Company (for lines without a company GSTIN)", options, key="pr_company",
                        format_func=company_label,
                        help="Accounting-package exports (e.g. the tally layout) have no company "
                             "column: choose whose purchase register the file is.")
    return None if pick == FROM_FILE else pick


def show_check(check, file_name: str) -> None:
    """The validation's summary, figures, problems, duplicates and their download."""
    st.write(check.summary())
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Documents to import", count_words(check.docs.height))
    m2.metric("Lines with errors", count_words(check.invalid_lines))
    m3.metric("Warnings", count_words(check.warning_count))
    m4.metric("Duplicates", count_words(check.duplicates.height))
    if check.problems.height:
        # errors first; Value is the faulty field's own value, Document the line's number
        st.dataframe(purchase.problem_table(check, limit=500), hide_index=True,
                     height=fitted_height(min(check.problems.height, 500)),
                     column_config={"Line of the file": st.column_config.NumberColumn(
                         format="%d", width="small",
                         help="The file's own line number: its header is line 1"),
                         "Kind": st.column_config.TextColumn(width="small"),
                         "Problem": st.column_config.TextColumn(
                             width="large", help="Hover over a cell to read it whole")})
        st.caption("Lines are the file's own line numbers, counting its header as line 1.")
    if check.duplicates.height:
        st.dataframe(purchase.duplicate_table(check), hide_index=True,
                     column_config={"Why": st.column_config.TextColumn(width="large")})
    if check.problems.height or check.duplicates.height:
        st.download_button("Download every problem and duplicate (CSV)",
                           partial(purchase.problems_csv_bytes, check, include_warnings=True),
                           file_name=f"{file_name.rsplit('.', 1)[0]}_problems.csv",
                           mime="text/csv")


def not_yours(check, gstins: list[str]) -> list[str]:
    """Companies in the file that this user may not see (an import must not touch them)."""
    if not check.docs.height:
        return []
    return sorted(set(check.docs["rtin"].unique().to_list()) - set(gstins))


def yours(batch: dict, companies: dict, gstins: list[str], actor: str) -> bool:
    """Batches wholly within the user's businesses (a rollback must not touch other companies);
    one without documents (rolled back) only to admins and whoever imported it."""
    held = set(companies.get(batch["batch_id"], []))
    return held <= set(gstins) if held else ui.can("settings") or batch["imported_by"] == actor


BATCH_COLUMNS = {
    "batch_id": "Batch", "file_name": "File", "imported_at": "Imported", "imported_by": "By",
    "rolled_back_at": "Rolled back", "companies": "Companies", "template": "Mapping",
    "line_count": "Lines", "doc_count": "Documents", "current_docs": "Current",
    "invalid_count": "Invalid lines", "duplicate_count": "Duplicates"}
MARKDOWN_SIGNS = re.compile(r"([\\`*_{}\[\]()<>#+!|~-])")
BREAK_AFTER = re.compile(r"([_.@/])")
MAY_BREAK = "\u200b"   # zero-width space: a long file name or address may wrap there


def as_text(value) -> str:
    """A cell of a static table (whose cells are Markdown): counts in Indian grouping, nothing
    for an empty cell, every Markdown sign of a file name or address escaped, and a place to
    wrap after each _ . @ / (so no column is cut off; an address is not made a link)."""
    if value is None:
        return ""
    if isinstance(value, int):
        return count_words(value)
    return BREAK_AFTER.sub(r"\1" + MAY_BREAK, MARKDOWN_SIGNS.sub(r"\\\1", str(value)))


def batch_table(batches: list[dict]) -> pl.DataFrame:
    """The batches as words: zoned times, counts in Indian grouping, blanks for no value."""
    frame = shown_times(pl.DataFrame(batches), "imported_at", "rolled_back_at")
    return pl.DataFrame({words: [as_text(v) for v in frame[column]]
                         for column, words in BATCH_COLUMNS.items()})


def batch_label(batches: list[dict], batch_id: int) -> str:
    return next(f"{batch_id} · {b['file_name']}" for b in batches if b["batch_id"] == batch_id)


def fitted_height(rows: int, most: int = 15) -> int:
    """A table's height that shows its rows (up to `most`, then it scrolls): no empty band."""
    return 38 + 35 * max(1, min(rows, most))


@confirm.dialog("valid_only", "Import the valid lines alone?")
def confirm_valid_only(check, job: dict) -> None:
    """What importing the valid lines alone stores and leaves out; done only when confirmed."""
    st.markdown(purchase.valid_only_words(check))
    st.caption("The rejected lines stay out of the books: download them, fix them and upload "
               "them again.")
    lines = count_words(check.valid_lines)
    if confirm.answer_buttons("valid_only", f"Yes, import {lines} valid lines"):
        result = purchase.import_purchase_file(
            job["data"], job["template"], job["actor"], job["on_duplicate"], job["company"],
            file_name=job["file_name"], valid_only=True)
        ui.after_write()
        if result.ok:
            ui.flash("success", f"Batch {result.batch_id} from {result.file}: "
                                f"{counted(result.imported, 'document')} imported "
                                f"({lines} lines); {counted(result.left_out, 'line')} left "
                                "out (download the rejected lines to fix them).")
        else:
            ui.flash("error", result.summary())
        st.rerun()


def offer_valid_lines(check, job: dict, others: list[str]) -> None:
    """For a file with errors: import the valid lines alone (asked first), and the rejected
    lines as CSV in the file's own columns plus Problem."""
    rejected = check.invalid_lines + check.tied.height
    c1, c2 = st.columns(2)
    if (check.docs.height and not others
            and c1.button(f"Import the {count_words(check.valid_lines)} valid lines",
                          key="pr_valid_only",
                          help="Imports the documents without a faulty line; a document with "
                               "one is left out whole")
            and ui.permitted("import", "import purchase registers")):
        confirm.ask("valid_only", check.sha256)
    c2.download_button(f"Download the {count_words(rejected)} rejected lines (CSV)",
                       partial(purchase.rejected_csv_bytes, check), on_click="ignore",
                       file_name=f"{job['file_name'].rsplit('.', 1)[0]}_rejected.csv",
                       mime="text/csv", key="pr_rejected")
    if check.docs.height and not others and confirm.asked("valid_only") == check.sha256:
        confirm_valid_only(check, job)


@confirm.dialog("import_again", "Import this file again?")
def confirm_import_again(before: dict, job: dict) -> None:
    """What importing an already imported file again does; done only when confirmed."""
    st.markdown(purchase.already_imported_words(before, job["on_duplicate"]))
    if confirm.answer_buttons("import_again", "Yes, import again"):
        result = purchase.import_purchase_file(
            job["data"], job["template"], job["actor"], job["on_duplicate"], job["company"],
            file_name=job["file_name"], force=True)
        ui.after_write()
        ui.flash("success" if result.ok else "error", result.summary())
        st.rerun()


def offer_import_again(before: dict, job: dict, sha256: str) -> None:
    """A file a live batch already imported: "Import again" (asked first)."""
    if (st.button("Import again", type="primary", key="pr_import_again",
                  help="Imports this file once more as a new batch; asks first")
            and ui.permitted("import", "import purchase registers")):
        confirm.ask("import_again", sha256)
    if confirm.asked("import_again") == sha256:
        confirm_import_again(before, job)


def check_and_import(data: bytes, file_name: str, choice: dict, gstins: list[str],
                     actor: str) -> None:
    """Validate the upload with the chosen mapping, show the result, import on request."""
    template = (mapping_from_widgets(data, file_name, True, actor)
                if choice["template"] == CUSTOM else choice["template"])
    if template is None:
        return
    check = purchase.validate_purchase_file(data, template, choice["company"],
                                            on_duplicate=choice["on_duplicate"],
                                            file_name=file_name, valid_only=True)
    show_check(check, file_name)
    others = not_yours(check, gstins)
    if others:
        st.error(f"{file_name} has documents of {', '.join(others)}, which you may not "
                 "see: remove those lines or ask an admin to grant you the GSTIN.")
    off = purchase.import_off_reason(check, others)
    before = purchase.previous_import(check.sha256)
    if before:
        st.warning(purchase.already_imported_words(before, choice["on_duplicate"]))
    if before and not off:
        offer_import_again(before, {**choice, "data": data, "template": template,
                                    "actor": actor, "file_name": file_name}, check.sha256)
    elif (st.button("Import", type="primary", disabled=bool(off), help=off)
            and ui.permitted("import", "import purchase registers")):
        result = purchase.import_purchase_file(data, template, actor, choice["on_duplicate"],
                                               choice["company"], file_name=file_name)
        ui.after_write()
        (st.success if result.ok else st.error)(result.summary())
    if off and not others:      # (the businesses not yours are named in the error above)
        st.warning(off)
    if not check.ok:
        offer_valid_lines(check, {**choice, "data": data, "template": template,
                                  "actor": actor, "file_name": file_name}, others)


def upload_and_import(gstins: list[str], actor: str) -> None:
    """The uploader, the mapping and company choices, then the check and the import."""
    upload_guard.allow_uploads_here(auth_ui.current_session_id())
    upload = st.file_uploader("Purchase register (CSV or Excel .xlsx)", type=["csv", "xlsx"],
                              key="pr_file", max_upload_size=UPLOAD_LIMIT_MB)
    templates = [t["name"] for t in purchase.list_templates()]
    c1, c2, c3 = st.columns(3)
    choice = {
        "template": c1.selectbox("Column mapping", templates + [CUSTOM], key="pr_template"),
        "on_duplicate": c2.radio("Documents already imported", ["skip", "replace"],
                                 horizontal=True, key="pr_dup",
                                 format_func={"skip": "Skip them", "replace": "Replace them"}.get),
    }
    with c3:
        choice["company"] = company_from_widgets(gstins)
    if upload is None:
        st.caption("Template `standard` columns: company_gstin, supplier_gstin, supplier_name, "
                   "doc_type, doc_no, doc_date, place_of_supply, reverse_charge, taxable_value, "
                   "igst, cgst, sgst, cess, doc_value. Template `tally`: an accounting package's "
                   "export without a company column; choose the company above.")
        return
    try:
        check_and_import(upload.getvalue(), upload.name, choice, gstins, actor)
    except purchase.FileProblem as problem:
        st.error(str(problem).replace("give it with --company-gstin",
                                      "choose the company above"))


@confirm.dialog("rollback", "Roll back this purchase register?")
def confirm_rollback(batch_id: int, label: str, actor: str) -> None:
    """What the rollback removes, in documents and rupees; done only when confirmed."""
    fig = rollback_figures(batch_id)
    st.markdown(f"Rolling back batch **{label}** removes **{count_words(fig['documents'])} document(s)** "
                f"from the books: taxable {ui.rupees(fig['taxable'])}, tax "
                f"{ui.rupees(fig['tax'])}, document value {ui.rupees(fig['value'])}"
                + (f"; {count_words(fig['restored'])} document(s) it replaced come back" if fig["restored"]
                   else "")
                + ". The next sync matches the IMS records without them.")
    if confirm.answer_buttons("rollback", f"Yes, remove {count_words(fig['documents'])} document(s)"):
        try:
            done = purchase.rollback_batch(batch_id, actor)
            ui.after_write()
            ui.flash("success", f"Batch {batch_id} rolled back: {counted(done['removed'], 'document')} "
                                f"removed, {count_words(done['restored'])} restored.")
            st.rerun()
        except purchase.ImportRefused as refused:
            st.error(str(refused))


st.title("Purchase Register")
ui.show_flash()
gstins = ui.require_businesses()
actor = ui.current_actor()
may_import = ui.can("import")

st.subheader("Upload")
if may_import:
    upload_and_import(gstins, actor)
else:
    # The role is checked before a byte of a file is taken, let alone parsed.
    st.info("Importing a purchase register needs the import permission (analysts and admins). "
            "The imported batches are listed below.")

st.subheader("Batches")
companies = ui.cached(companies_by_batch)
batches = [dict(b, companies=", ".join(companies.get(b["batch_id"], [])))
           for b in purchase.list_batches() if yours(b, companies, gstins, actor)]
if not batches:
    st.info("No purchase register of your businesses imported yet. Upload your books' purchase "
            "register above.")
else:
    # a static table: its cells wrap, so no column is cut off at any width, and its height is
    # its rows'
    st.table(batch_table(batches), hide_index=True, border="horizontal")
    live = [b["batch_id"] for b in batches if b["rolled_back_at"] is None]
    if live:
        c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
        batch_id = c1.selectbox("Roll back batch", live, key=f"rollback_batch_{live[0]}",
                                format_func=partial(batch_label, batches))
        if c2.button("Roll back", disabled=not may_import,
                     help="Removes the batch's documents; documents it replaced come back"
                     ) and ui.permitted("import", "roll back batches"):
            confirm.ask("rollback", batch_id)
        if confirm.asked("rollback") in live:
            chosen = confirm.asked("rollback")
            confirm_rollback(chosen, batch_label(batches, chosen), actor)
