"""Users (admins only): who may log in, their role and GSTINs; add, edit, disable, reset
password, unlock a locked login, the daily digest by mail; the session timeout; the audit log of logins and user
changes."""
from __future__ import annotations

import secrets

import streamlit as st

from app import auth_ui
from core import auth, labels
from core.business import list_businesses
from core.figures import count_words
from core.timefmt import shown_time as when

ADD_ROUND = "add_user_round"
admin = auth_ui.require_role(auth_ui.require_login(), "users")
st.title("Users")
for kind, text in st.session_state.pop("users_flash", []):
    getattr(st, kind)(text)


def flash(kind: str, text: str) -> None:
    """Show `text` after the rerun; our change also takes effect at once for every session."""
    auth_ui.forget_cached_sessions()
    st.session_state.setdefault("users_flash", []).append((kind, text))


businesses = list_businesses(None)
gstin_names = dict(zip(businesses["gstin"].to_list(), businesses["name"].to_list()))


def label(gstin: str) -> str:
    return f"{gstin_names.get(gstin, '')} · {gstin}"


users = auth.list_users()
st.table(
    [{"Email": u["email"], "Role": u["role"], "State": "disabled" if u["disabled"] else "active",
      "GSTINs": "all (admin)" if u["role"] == "admin" else (u["gstins"] or "none"),
      "Last login": when(u["last_login_at"]) or "never",
      "Locked until": when(u["locked_until"]) or "not locked",
      "Failed logins in a row": count_words(u["failed_logins"]),
      "Open sessions": count_words(auth.open_sessions(u["user_id"])),
      "Daily digest": "on" if u["digest_opt_in"] else "off",
      "Created by": u["created_by"] or ""} for u in users],
    hide_index=True)

st.subheader("Add the first admin" if not users else "Add a user")
# A fresh form after each user added; after a refusal the form keeps what was typed.
with st.form(f"add_user_{st.session_state.get(ADD_ROUND, 0)}"):
    email = st.text_input("Email")
    first = not users
    role = st.selectbox("Role", ["admin"] if first else list(auth.ROLES), index=0 if first else 1,
                        format_func=auth.ROLES.get,
                        help="The first user must be an admin." if first else None)
    grants = st.multiselect("GSTINs this user may see (admins see all)", list(gstin_names),
                            format_func=label)
    password = st.text_input(f"Password (at least {auth.MIN_PASSWORD_LENGTH} characters; leave "
                             "empty to generate one)", type="password")
    if st.form_submit_button("Add user", type="primary"):
        chosen = password or secrets.token_urlsafe(12)
        try:
            created = auth.create_user(email, chosen, role, grants, actor=admin)
            shown = "" if password else f" Password: `{chosen}` (shown once; give it to the user)."
            st.session_state[ADD_ROUND] = st.session_state.get(ADD_ROUND, 0) + 1
            flash("success", f"Added {created.email} as {created.role}.{shown}")
            st.rerun()
        except auth.AuthError as exc:
            st.error(str(exc))

st.subheader("Edit a user")
emails = [u["email"] for u in users]
if emails:
    chosen_email = st.selectbox("User", emails, key="edit_user")
    row = next(u for u in users if u["email"] == chosen_email)
    with st.form("edit_user_form"):
        new_role = st.selectbox("Role", list(auth.ROLES), index=list(auth.ROLES).index(row["role"]),
                                format_func=auth.ROLES.get)
        current = [g for g in (row["gstins"] or "").split(", ") if g]
        new_grants = st.multiselect("GSTINs", list(gstin_names), default=current, format_func=label)
        enabled = st.toggle("Can log in", value=not row["disabled"])
        digest = st.toggle("Daily digest by mail", value=row["digest_opt_in"])
        if st.form_submit_button("Save changes", type="primary"):
            try:
                auth.set_role(chosen_email, new_role, admin)
                auth.grant_gstins(chosen_email, new_grants, admin)
                auth.disable_user(chosen_email, admin, disabled=not enabled)
                if digest != row["digest_opt_in"]:
                    auth.set_digest_opt_in(chosen_email, digest, admin)
                flash("success", f"Saved {chosen_email}.")
                st.rerun()
            except auth.AuthError as exc:
                st.error(str(exc))
    if st.button(f"Reset password of {chosen_email}", icon=":material/lock_reset:"):
        fresh = secrets.token_urlsafe(12)
        mine = chosen_email == admin.email           # keep the admin's own session going
        auth.reset_password(chosen_email, fresh, admin,
                            keep_session=auth_ui.current_session_id() if mine else None)
        flash("success", f"New password for {chosen_email}: `{fresh}` (shown once). "
                         f"{'Your other sessions' if mine else 'Their sessions'} have ended.")
        st.rerun()
    left = auth.locked_minutes_left(chosen_email)
    if left > 0 or row["failed_logins"]:
        state = (f"locked for {left:.0f} more minute(s)" if left > 0
                 else f"{row['failed_logins']} failed login(s) in a row")
        st.caption(f":material/lock: {chosen_email} is {state}.")
        if st.button(f"Unlock {chosen_email}", icon=":material/lock_open:"):
            auth.unlock_user(chosen_email, admin)
            flash("success", f"Unlocked {chosen_email}; their failed logins are forgotten.")
            st.rerun()

st.subheader("Session timeout")
with st.form("timeout"):
    minutes = st.number_input("Log out after this many idle minutes", min_value=1, max_value=1440,
                              value=auth.session_timeout_minutes())
    if st.form_submit_button("Save"):
        auth.save_session_timeout(int(minutes), admin)
        flash("success", f"Sessions now end after {int(minutes)} idle minutes.")
        st.rerun()

with st.expander("Audit log (logins, failed logins, user and role changes)"):
    st.dataframe([{"#": e["audit_id"], "When": when(e["logged_at"]), "Who": e["actor"],
                   "What": labels.event_words(e["event"]), "Detail": e["detail"] or ""}
                  for e in auth.audit_entries(500)], hide_index=True, column_config={
        "When": st.column_config.TextColumn(width="medium"),
        "Who": st.column_config.TextColumn(width="medium"),
        "What": st.column_config.TextColumn(width="medium"),
        "Detail": st.column_config.TextColumn(width="large",
                                              help="Hover a cell to read all of it")})
