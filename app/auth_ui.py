"""The login gate, sessions, logout and role checks for every page.

`logged_in_or_login()` is called at the top of the app frame and `require_login()` at the top
of any page run on its own: each shows the login form until someone logs in (the frame's run
then ends normally; a page's stops). A login starts a session (a row
of `app_sessions`, core/auth/sessions.py) and hands its signed token to the browser as the
HttpOnly cookie `ims_session` (app/session_cookie.py), so a page refresh or a deep link in the
same browser finds the login again (`st.context.cookies`). Every run re-reads the user and the
session from the store: logout, the idle timeout (`session_timeout_min`), a disabled user or a
changed or reset password end it at once. Running fragments (the Dashboard's auto-refresh)
call `require_live_session()`, which checks without counting as activity.
docs/security.md tells the whole design.

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

from app import page_list, session_cookie
from app.incidents import error_boundary
from core import auth
from core.auth import User, verified_session_id
from core.store import db_path

USER_KEY = "auth_user_id"
SESSION_KEY = "auth_session_id"
HANDOFF_KEY = "auth_cookie_handoff"
NOTICE_KEY = "auth_notice"
SETUP_USER = User(0, "local", "admin")
# One store read per session per second at most (a page run asks several times); changes
# made in this process clear it at once, other processes' changes show within the TTL.
SNAPSHOT_TTL_S = float(os.environ.get("IMS_SESSION_CACHE_S", "1"))
_snapshots: dict[tuple, tuple[float, dict]] = {}
ENDED_NOTICES = {
    "ended: password reset": "Your password was reset by an admin, so this session ended. "
                             "Log in with the new password.",
    "ended: password changed": "Your password was changed, so this session ended. Log in "
                               "with the new password.",
    "ended: user disabled": "Your account was disabled. Ask an admin.",
    "user disabled": "Your account was disabled. Ask an admin.",
    "ended: logout": "You are logged out.",
    "expired": f"Your session reached its {auth.SESSION_MAX_HOURS:g}-hour limit. Please log in "
               "again.",
}


def _snapshot(user_id: int | None, session_id: str | None = None) -> dict:
    key, now = (db_path(), user_id, session_id), time.monotonic()
    hit = _snapshots.get(key)
    if hit is None or now - hit[0] >= SNAPSHOT_TTL_S:
        hit = (now, auth.session_snapshot(user_id, session_id))
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


def current_session_id() -> str | None:
    """This browser session's login session (None in set-up mode or when logged out)."""
    return st.session_state.get(SESSION_KEY)


def current_user() -> User | None:
    """The logged-in user of this session as stored now; the built-in admin in set-up mode;
    else None."""
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        return SETUP_USER if in_setup_mode() else None
    session_id = current_session_id()
    snap = _snapshot(user_id, session_id)
    if session_id is not None and auth.session_problem(snap) is not None:
        return None
    user = snap["user"]
    return user if user is not None and not user.disabled else None


def _forget_login(notice: str | None) -> None:
    st.session_state.pop(USER_KEY, None)
    st.session_state.pop(SESSION_KEY, None)
    if notice:
        st.session_state[NOTICE_KEY] = notice
    forget_cached_sessions()


def logout(reason: str = "logout", notice: str | None = None) -> None:
    """End this session (audited), forget who was logged in and clear the browser's cookie."""
    session_id = current_session_id()
    user = current_user()
    if session_id is not None:
        auth.end_session(session_id, reason, user.email if user else "unknown")
    _forget_login(notice)
    st.session_state[HANDOFF_KEY] = ""            # "": the next run clears the cookie


def _session_from_cookie() -> None:
    """A refresh or deep link: take the login from the browser's signed cookie."""
    try:
        token = st.context.cookies.get(session_cookie.COOKIE)
    except (AttributeError, RuntimeError):       # no browser (a bare script run)
        return
    session_id = verified_session_id(token)
    if session_id is None:
        return
    snap = _snapshot(None, session_id)
    if snap["user"] is not None and auth.session_problem(snap) is None:
        st.session_state[USER_KEY] = snap["user"].user_id
        st.session_state[SESSION_KEY] = session_id


def _adopt_bare_login() -> None:
    """A user id put in the session state without a session (a test harness): start one."""
    user = auth.get_user(st.session_state[USER_KEY])
    if user is None or user.disabled:
        _forget_login(None)
        return
    st.session_state[SESSION_KEY] = auth.start_session(user)[0]


def _end_if_over(session_id: str) -> User | None:
    """The user while the session holds; else end it (audited) and leave a notice."""
    snap = _snapshot(st.session_state.get(USER_KEY), session_id)
    problem = auth.session_problem(snap)
    if problem is None:
        if auth.needs_touch(snap):
            auth.touch_session(session_id)
            forget_cached_sessions()
        return snap["user"]
    who = snap["user"].email if snap["user"] else "unknown"
    if problem == "session_timeout":
        auth.end_session(session_id, "session_timeout", who)
        notice = (f"Your session ended after {snap['timeout_min']} minutes without activity. "
                  "Please log in again.")
    else:
        if not problem.startswith("ended"):
            auth.end_session(session_id, problem.replace(" ", "_"), who)
        notice = ENDED_NOTICES.get(problem, "Please log in.")
    _forget_login(notice)
    return None


def require_login() -> User:
    """The logged-in user; otherwise show the login form and stop the page. An error on the
    way (the store busy) is shown in words and stops the page: a page file may run on its own,
    outside app/main.py's error boundary."""
    user = None
    with error_boundary():
        user = _logged_in_user()
    if user is None:
        st.stop()
    return user


def _logged_in_user() -> User:
    if st.session_state.get(USER_KEY) is None and in_setup_mode():
        return SETUP_USER
    if st.session_state.get(USER_KEY) is not None and current_session_id() is None:
        _adopt_bare_login()
    if current_session_id() is None:
        _session_from_cookie()
    session_id = current_session_id()
    user = _end_if_over(session_id) if session_id is not None else None
    if user is None:
        login_form()
        _hand_cookie()
        return None
    _hand_cookie()
    return user


def logged_in_or_login() -> User | None:
    """The app frame's gate (app/main.py): the logged-in user, or None with the login form (or
    why not, e.g. the store busy) drawn, and the run NOT stopped: a run that ends normally lets
    Streamlit drop the fragments it did not draw, the Dashboard's timed job-health refresh
    included. After an early stop it kept them, and each refresh (every 1-3 s in a test)
    blanked the login or drew it again without its notice ("Your account was disabled")."""
    user = None
    with error_boundary():
        user = _logged_in_user()
    return user


def require_live_session() -> None:
    """For fragments that run on their own (auto-refresh): when the session no longer holds,
    rerun the whole app, which ends it and shows the login. Not counted as activity.

    Once logged out, a refresh draws nothing and reruns nothing: a page run on its own shows
    the login with `st.stop` (`require_login`), after which Streamlit keeps the fragment and
    its timer, and each refresh's rerun drew the login again, its notice gone, over and over."""
    if st.session_state.get(USER_KEY) is None:
        if in_setup_mode():
            return
        if current_session_id() is None:
            st.stop()                      # logged out: the login is on the screen already
    session_id = current_session_id()
    snap = _snapshot(st.session_state.get(USER_KEY), session_id) if session_id else None
    if snap is None or auth.session_problem(snap) is not None:
        st.rerun(scope="app")


def _hand_cookie() -> None:
    """Right after a login (or logout): let the browser set (or clear) the session cookie."""
    code = st.session_state.pop(HANDOFF_KEY, None)
    if code is not None:
        with st.sidebar:
            st.iframe(session_cookie.setter_html(code, clear=code == ""), height=1)


def login_form() -> None:
    """Email + password; any refusal says the same words (core.auth.login.LOGIN_REFUSED)."""
    page_list.hide_page_list()       # no raw list of page files beside the form
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
        st.error(auth.LOGIN_REFUSED)
        return
    session_id, token = auth.start_session(user)
    forget_cached_sessions()
    st.session_state[USER_KEY] = user.user_id
    st.session_state[SESSION_KEY] = session_id
    st.session_state[HANDOFF_KEY] = session_cookie.offer(token,
                                                         int(auth.SESSION_MAX_HOURS * 3600))
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
    snap = _snapshot(user.user_id, current_session_id())
    stored = snap["user"]
    return list(snap["gstins"]) if stored is not None and not stored.disabled else []


def account_box(user: User) -> None:
    """Sidebar: who is logged in, change own password, own daily digest, log out (set-up mode:
    the warning)."""
    if user is SETUP_USER:
        st.sidebar.error("Set-up mode: no user exists yet, so anyone who opens this app acts as "
                         "admin. Create the first admin on the Users page (or with `python -m "
                         "core.auth create-admin --email ...`); from then on everyone logs in.")
        return
    with st.sidebar:
        st.caption(f"Logged in as **{user.email}** ({user.role})")
        with st.popover("Change my password", icon=":material/key:"):
            _change_own_password(user)
        _digest_choice(user)
        if st.button("Log out", icon=":material/logout:", key="auth_logout"):
            logout("logout", "You are logged out.")
            st.rerun()


def _digest_choice(user: User) -> None:
    """The user's own daily digest by mail, on or off (docs/mail.md)."""
    on = auth.digest_opt_in(user)
    chosen = st.toggle("Daily digest by mail", value=on, key="own_digest",
                       help=f"One mail a day to {user.email} about the businesses you may see")
    if chosen != on:
        auth.set_digest_opt_in(user.email, chosen, user)
        st.toast("Daily digest " + ("on." if chosen else "off."))


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
                auth.change_own_password(user, old, new, keep_session=current_session_id())
                forget_cached_sessions()
                st.success("Password changed. Your other sessions have ended.")
            except auth.AuthError as exc:
                st.error(str(exc))
