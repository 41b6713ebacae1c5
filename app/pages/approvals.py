"""Approvals: the proposals waiting for a second person's approval before upload (approve or
return them, chosen rows or all, with a comment), and the proposals returned to you with the
approver's comment (docs/approval.md)."""
from __future__ import annotations

import streamlit as st

from app import ui
from core import auth
from core.auth import PermissionDenied
from core.figures import count_words
from core.ims import approval

st.title("Approvals")
ui.show_flash()
gstins = ui.require_businesses()
user = ui.current_user()
asking = ui.cached(approval.approval_businesses, gstins)
if not asking:
    st.info("None of your businesses asks for approval before upload: actions saved on IMS "
            "Invoices go to the portal with **Update to GST**. An admin turns approval on per "
            "business under **Settings → Approval before upload**.")
    st.stop()
st.caption("Approval before upload is on for " + ", ".join(ui.label_business(g) for g in asking)
           + ". A saved action waits here until someone other than its author approves it; "
             "**Update to GST** sends approved actions only.")
mine = auth.approval_gstins(user) if user else []
may_approve = any(g in mine for g in asking)


def decide(verb: str, ids: list[int], comment: str) -> None:
    """Approve or return these proposals; the outcome is shown after the rerun."""
    act = approval.approve_actions if verb == "approved" else approval.return_actions
    try:
        done = act(gstins, ids, user, comment)
    except (approval.ApprovalError, PermissionDenied) as refused:
        st.error(str(refused))
        return
    ui.flash("warning" if done.refused else "success",
             f"{done.summary(verb)}." + "".join(f"\n- {line}" for line in done.lines))
    ui.after_write()
    st.rerun()


queue = ui.cached(approval.approval_queue, asking)
st.subheader(f"Waiting for approval ({count_words(queue.height)})")
if queue.is_empty():
    st.info("Nothing waits for approval.")
else:
    shown = approval.proposals_in_words(queue)
    picked = st.dataframe(shown, hide_index=True, key="queue", on_select="rerun",
                          selection_mode="multi-row")
    if queue.height > shown.height:
        st.caption(f"The oldest {count_words(shown.height)} of {count_words(queue.height)} "
                   "are listed; **Approve all** takes every one.")
    chosen = [queue["record_id"][i] for i in picked.selection.rows]
    comment = st.text_input("Comment (needed to return; the author reads it)",
                            max_chars=approval.COMMENT_MAX, key="approval_comment")
    c1, c2, c3 = st.columns(3)
    if c1.button(f"Approve chosen ({count_words(len(chosen))})", type="primary",
                 disabled=not (may_approve and chosen)):
        decide("approved", chosen, comment)
    if c2.button(f"Return chosen to their authors ({count_words(len(chosen))})",
                 disabled=not (may_approve and chosen)):
        decide("returned", chosen, comment)
    if c3.button(f"Approve all {count_words(queue.height)}", disabled=not may_approve):
        decide("approved", approval.queue_ids(asking), comment)
    st.caption("Tick rows in the list to approve or return them. Your own proposals are never "
               "approved or returned by you: another approver decides them.")
    if not may_approve:
        st.caption(":material/lock: You may view the queue but not approve: an admin grants "
                   "approval per business on the Users page.")

returned = ui.cached(approval.returned_to, gstins, user.email) if user else queue.head(0)
st.subheader(f"Returned to you ({count_words(returned.height)})")
if returned.is_empty():
    st.info("No proposal of yours was returned.")
else:
    st.dataframe(approval.proposals_in_words(returned, returned=True), hide_index=True)
    st.caption("Put the action right on IMS Invoices (saving it proposes it again), or send "
               "it back as it is.")
    if st.button(f"Propose all {count_words(returned.height)} again as they are",
                 disabled=not ui.can("act")):
        again = approval.propose_again(gstins, returned["record_id"].to_list(), user)
        ui.flash("success", f"{count_words(again)} proposal(s) sent back for approval.")
        ui.after_write()
        st.rerun()
