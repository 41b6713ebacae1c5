"""The login gate, session timeout, logout and role checks for every page.

`require_login()` is called at the top of the app frame (and of any page run on its own):
it shows the login form and stops the run until someone logs in; then it re-reads the user
from the store on every run (a disabled user or a changed role takes effect at once) and
ends the session after `session_timeout_min` idle minutes.

Set-up mode: while the store has no user at all (a fresh install, before
`python -m core.auth create-admin` or the demo's admin), everyone acts as the built-in
admin `local` under a red banner, so the first admin can be created on the Users page.
`IMS_REQUIRE_LOGIN=1` turns set-up mode off (then the first admin comes from the CLI).
`require_role(user, permission)` stops a page the user's role may not use.
`visible_gstins(user)` is the only scope pages pass to the core queries.
"""
from __future__ import annotations

import os
import time

import streamlit as st

from core import auth
from core.auth import User
from core.db import db_path

USER_KEY = "auth_user_id"
ACTIVE_KEY = "auth_last_active"
NOTICE_KEY = "auth_notice"
SETUP_USER = User(0, "local", "admin")
# One store read per session per second at most (a page run asks several times); changes
# made in this process clear it at once, other processes' changes show within the TTL.
SNAPSHOT_TTL_S = float(os.environ.get("IMS_SESSION_CACHE_S", "1"))
_snapshots: dict[tuple, tuple[float, dict]] = {}


def _snapshot(user_id: int | None) -> dict:
    key, now = (db_path(), user_id), time.monotonic()
    hit = _snapshots.get(key)
    if hit is None or now - hit[0] >= SNAPSHOT_TTL_S:
        hit = (now, auth.session_snapshot(user_id))
        _snapshots[key] = hit
    return hit[1]


def forget_cached_sessions() -> None:
    """After a change to users, grants or the timeout: the next run reads the store again."""
    _snapshots.clear()


def in_setup_mode() -> bool:
    """No user exists yet (and set-up mode is not switched off)."""
    if os.environ.get("IMS_REQUIRE_LOGIN", "").lower() in ("1", "true", "yes"):
        return False
    return _snapshot(None)["users"] == 0


def current_user() -> User | None:
    """The logged-in user of this session as stored now; the built-in admin in set-up mode;
    else None."""
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        return SETUP_USER if in_setup_mode() else None
    user = _snapshot(user_id)["user"]
    return user if user is not None and not user.disabled else None


def logout(reason: str = "logout", notice: str | None = None) -> None:
    """End this session (audited) and forget who was logged in."""
    user_id = st.session_state.pop(USER_KEY, None)
    st.session_state.pop(ACTIVE_KEY, None)
    user = auth.get_user(user_id) if user_id is not None else None
    if user is not None:
        auth.record_audit(user, reason, "")
    if notice:
        st.session_state[NOTICE_KEY] = notice


def _timed_out(now: float) -> bool:
    last = st.session_state.get(ACTIVE_KEY)
    minutes = _snapshot(st.session_state.get(USER_KEY))["timeout_min"]
    return last is not None and auth.session_expired(last, now, minutes)


def require_login() -> User:
    """The logged-in user; otherwise show the login form and stop the page."""
    now = time.time()
    if st.session_state.get(USER_KEY) is not None and _timed_out(now):
        minutes = _snapshot(st.session_state.get(USER_KEY))["timeout_min"]
        logout("session_timeout", f"Your session ended after {minutes} minutes without activity. "
                                  "Please log in again.")
    user = current_user()
    if user is SETUP_USER:
        return user
    if user is None:
        if st.session_state.pop(USER_KEY, None) is not None:
            st.session_state[NOTICE_KEY] = "Your account was disabled or removed. Ask an admin."
        login_form()
        st.stop()
    st.session_state[ACTIVE_KEY] = now
    return user


def login_form() -> None:
    """Email + password; a failure says only that the login failed (and about a lockout)."""
    st.title("IMS Reco Sync")
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.info(notice)
    with st.form("login"):
        email = st.text_input("Email", key="login_email", autocomplete="username")
        password = st.text_input("Password", type="password", key="login_password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        _try_login(email, password)


def _try_login(email: str, password: str) -> None:
    user = auth.authenticate(email, password)
    if user is None:
        left = auth.locked_minutes_left(email)
        if left > 0:
            st.error(f"Too many failed logins: this account is locked for {left:.0f} more "
                     f"minute(s).")
        else:
            st.error("Wrong email or password, or the account is disabled.")
        return
    forget_cached_sessions()
    st.session_state[USER_KEY] = user.user_id
    st.session_state[ACTIVE_KEY] = time.time()
    st.rerun()


def allowed(user: User | None, permission: str) -> bool:
    """For disabling buttons: may this user do `permission` (see core.auth.PERMISSIONS)?"""
    return auth.can(user, permission)


def require_role(user: User | None, permission: str) -> User:
    """Stop the page with a clear message unless the user's role allows `permission`."""
    if not auth.can(user, permission):
        role = user.role if user else "nobody"
        st.error(f"This page needs the '{permission}' permission, which the {role} role does not "
                 "have. Ask an admin.")
        st.stop()
    return user


def visible_gstins(user: User | None) -> list[str]:
    """The GSTINs the user may see in every page, chart and download."""
    if user is None:
        return []
    if user is SETUP_USER:
        return list(_snapshot(None)["gstins"]) if in_setup_mode() else []
    snap = _snapshot(user.user_id)
    stored = snap["user"]
    return list(snap["gstins"]) if stored is not None and not stored.disabled else []


def account_box(user: User) -> None:
    """Sidebar: who is logged in, change own password, log out (set-up mode: the warning)."""
    if user is SETUP_USER:
        st.sidebar.error("Set-up mode: no user exists yet, so anyone who opens this app acts as "
                         "admin. Create the first admin on the Users page (or with `python -m "
                         "core.auth create-admin --email ...`); from then on everyone logs in.")
        return
    with st.sidebar:
        st.caption(f"Logged in as **{user.email}** ({user.role})")
        with st.popover("Change my password", icon=":material/key:"):
            _change_own_password(user)
        if st.button("Log out", icon=":material/logout:", key="auth_logout"):
            logout("logout", "You are logged out.")
            st.rerun()


def _change_own_password(user: User) -> None:
    with st.form("own_password", clear_on_submit=True):
        old = st.text_input("Current password", type="password")
        new = st.text_input(f"New password (at least {auth.MIN_PASSWORD_LENGTH} characters)",
                            type="password")
        again = st.text_input("New password again", type="password")
        if st.form_submit_button("Change password"):
            if new != again:
                st.error("The two new passwords differ.")
                return
            try:
                auth.change_password(user.email, new, user, old_password=old)
                st.success("Password changed.")
            except auth.AuthError as exc:
                st.error(str(exc))
