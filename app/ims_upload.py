"""IMS Invoices' Update to GST: the confirmation (what goes, how many, their value) and the
upload itself, whose outcome the refreshed page shows."""
from __future__ import annotations

import polars as pl
import streamlit as st

from app import confirm, ui
from core.figures import count_words
from core.ims import ImsFilter, approval, upload, view
from core.ims import actions as act
from core.upload_words import IN_FLIGHT


def figures_words(fig: dict) -> str:
    """'7,656 records of 2 businesses: taxable ₹1,23,45,678.00, tax ₹..., document value ₹...'."""
    whose = f" of {fig['businesses']} businesses" if fig["businesses"] > 1 else ""
    return (f"**{count_words(fig['records'])} record(s)**{whose}: taxable {ui.rupees(fig['taxable'])}, "
            f"tax {ui.rupees(fig['tax'])}, document value {ui.rupees(fig['value'])}")



@confirm.dialog("upload", "Send your actions to the GST portal?")
def confirm_upload(gstins: list[str], f: ImsFilter) -> None:
    """What Update to GST will send, in counts and rupees; sends only when confirmed."""
    fig = view.scope_figures(gstins, f, "to_upload")
    st.markdown(f"Send {figures_words(fig)} (your actions within the filters) to the portal. "
                "The portal then holds them as the company's IMS actions; GSTR-2B is built "
                "from them.")
    unapproved = approval.unapproved_to_upload(gstins, f)
    if unapproved:
        st.warning(f"{count_words(unapproved)} of them are not approved yet (their business asks "
                   "for approval before upload): they stay here, refused, until approved on the "
                   "Approvals page.")
    if confirm.answer_buttons("upload", f"Yes, send {count_words(fig['records'])} action(s)"):
        update_to_gst(gstins, f)
        st.rerun()


def update_to_gst(gstins: list[str], f: ImsFilter) -> None:
    """Send the 'to upload' records the filters `f` show to the portal, per business, with
    progress; the outcome is left as a message for the refreshed page."""
    if not ui.permitted("upload", "upload actions to the portal"):
        return
    todo = view.export_frame(gstins, f, "to_upload")
    groups = (todo.group_by("company_gstin").agg(pl.col("record_id")).sort("company_gstin")
              .to_dicts())
    sent = queued = 0
    with st.status(f"Uploading {count_words(todo.height)} action(s) to GST ...", expanded=True) as status:
        bar = st.progress(0.0)
        for i, group in enumerate(groups, start=1):
            gstin, ids = group["company_gstin"], group["record_id"]
            st.write(f"{ui.label_business(gstin)}: {count_words(len(ids))} record(s)")
            try:
                outcome = upload.upload_actions(gstin, ids, ui.current_actor())
                sent, queued = sent + outcome.get("sent", 0), queued + outcome.get("queued", 0)
                refused = outcome.get("refused", [])[:50]
                named = act.record_words([gstin], [rid for rid, _ in refused])
                for rid, why in refused:
                    ui.flash("warning", f"{named.get(rid, 'A record')} not sent: {why}")
            except Exception as exc:  # noqa: BLE001 - shown; one business must not hide the rest
                ui.flash("error", f"{ui.label_business(gstin)}: not sent: {exc}")
            bar.progress(i / len(groups))
        status.update(label="Upload sent.", state="complete")
    later = queued - sent
    ui.flash("success", f"Sent {count_words(sent)} action(s) to the portal; they show as \"{IN_FLIGHT}\" "
             "(bucket **Sent, awaiting the portal**) until it answers. "
             + (f"{count_words(later)} more go with the next batches (the worker sends them each minute). "
                if later > 0 else "")
             + "The worker asks for the answer each minute, or press **Check upload status**.")
    ui.after_write()


