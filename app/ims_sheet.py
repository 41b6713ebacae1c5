"""IMS Invoices' "Actions from a sheet": upload a CSV or Excel file of record keys and actions,
read the verdict of each line, save the valid lines (all in one go, or none), download the
refused lines with the reason (docs/approval.md, "Actions from a sheet")."""
from __future__ import annotations

import streamlit as st

from app import auth_ui, ui, upload_guard
from core import export
from core.auth import PermissionDenied
from core.figures import count_words
from core.ims import sheet_actions as sheet
from core.ims.actions import ActionError
from core.purchase import FileProblem

ROUND = "sheet_round"   # a fresh uploader after each save
SHOWN_LINES = 1000


def actions_from_sheet(gstins: list[str]) -> None:
    """The uploader, the preview with a verdict per line, save and the refused lines; drawn
    only while its expander is open (rarely used: a closed expander's content still costs
    the browser on every view, and uploads are allowed only while it is open)."""
    box = st.expander("Actions from a sheet (CSV or Excel)", icon=":material/upload_file:",
                      key="sheet_open", on_change="rerun")
    if not box.open:
        return
    with box:
        st.markdown("One line per record: **Supplier GSTIN**, **Document type**, **Document "
                    "number** and **Action** (Accept, Reject, Pending or Reset); optional "
                    "**Document date**, **Return period**, **Business GSTIN**, **Remark to "
                    "supplier**, **Internal note**, **ITC to be reduced** (Full, Partial, No) "
                    "and **Reduce IGST** .. **Reduce Cess** for Partial. Nothing is saved "
                    "before you have seen the verdict of every line.")
        if not ui.can("act"):
            ui.read_only_note("act", "import actions")
            return
        upload_guard.allow_uploads_here(auth_ui.current_session_id(), "act")
        round_no = st.session_state.get(ROUND, 0)
        upload = st.file_uploader("Sheet of actions (CSV or Excel .xlsx)", type=["csv", "xlsx"],
                                  key=f"sheet_file_{round_no}")
        if upload is None:
            return
        try:
            preview = sheet.preview_sheet(upload.getvalue(), gstins, ui.current_user(),
                                          upload.name)
        except (FileProblem, PermissionDenied) as refused:
            st.error(f"Not read: {refused}")
            return
        (st.warning if preview.refused else st.success)(preview.summary() + ".")
        st.dataframe(preview.shown().head(SHOWN_LINES), hide_index=True)
        if preview.lines.height > SHOWN_LINES:
            st.caption(f"The first {count_words(SHOWN_LINES)} lines are listed; the download "
                       "holds every refused line.")
        c1, c2, c3 = st.columns(3)
        if c1.button(f"Save the {count_words(preview.valid)} valid line(s)", type="primary",
                     disabled=preview.valid == 0):
            try:
                result = sheet.save_sheet(preview, gstins, ui.current_user())
            except (ActionError, PermissionDenied) as refused:
                st.error(str(refused))
                return
            ui.flash("success", f"{upload.name}: {result.summary()}.")
            st.session_state[ROUND] = round_no + 1
            ui.after_write()
            st.rerun()
        if preview.refused:
            stem = upload.name.rsplit(".", 1)[0]
            c2.download_button("Download the refused lines (CSV)", sheet.refused_file(preview),
                               file_name=f"{stem}-refused.csv", mime="text/csv",
                               on_click="ignore", icon=":material/download:")
            c3.download_button("Download the refused lines (Excel)",
                               sheet.refused_file(preview, excel=True),
                               file_name=f"{stem}-refused.xlsx", mime=export.XLSX_MIME,
                               on_click="ignore", icon=":material/download:")
