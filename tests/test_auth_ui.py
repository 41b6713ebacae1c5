"""The login gate, timeout, logout and the admin-only Users page, driven with Streamlit's AppTest."""
from __future__ import annotations

import datetime as dt
import time

import pytest
from streamlit.testing.v1 import AppTest

from app import auth_ui
from core import auth
from core.clock import utc_now
from core.store.database import connect
from tests.fixtures import BUSINESSES, ROOT, seed_demo

PW = "correct horse battery"
G1, G2 = BUSINESSES[0][0], BUSINESSES[1][0]


def gate_app():
    import streamlit as st

    from app.auth_ui import account_box, require_login, visible_gstins
    user = require_login()
    account_box(user)
    st.write(f"hello {user.email} sees {','.join(visible_gstins(user))}")


@pytest.fixture
def people(db_file):
    seed_demo(n_per_business=5, with_jobs=False)
    return {"admin": auth.create_user("boss@example.com", PW, "admin"),
            "analyst": auth.create_user("ana@example.com", PW, "analyst", [G1])}


def texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "error", "info", "success", "caption")
                    for e in getattr(at, kind))


def log_in(at: AppTest, email: str, password: str) -> AppTest:
    at.text_input(key="login_email").input(email)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    return at.run()


def test_login_wrong_then_right_password(people):
    at = AppTest.from_function(gate_app, default_timeout=30).run()
    assert "hello" not in texts(at)
    log_in(at, "ana@example.com", "not the password")
    assert "Wrong email or password" in texts(at) and "hello" not in texts(at)
    log_in(at, "ANA@example.com", PW)
    assert f"hello ana@example.com sees {G1}" in texts(at)
    assert PW not in texts(at)


def last_seen(session_id: str, seconds_ago: float) -> None:
    """As if the session's last activity was `seconds_ago` (the store keeps it, not the tab)."""
    with connect() as con:
        con.execute("UPDATE app_sessions SET last_seen_at = ? WHERE session_id = ?",
                    [utc_now() - dt.timedelta(seconds=seconds_ago), session_id])
    auth_ui.forget_cached_sessions()


def test_idle_session_times_out(people):
    auth.save_session_timeout(1, "cli")
    at = AppTest.from_function(gate_app, default_timeout=30)
    at.session_state["auth_user_id"] = people["analyst"].user_id
    at.run()
    session_id = at.session_state["auth_session_id"]
    last_seen(session_id, 30)
    at.run()
    assert "hello" in texts(at)
    last_seen(session_id, 120)
    at.run()
    assert "hello" not in texts(at) and "session ended after 1 minutes" in texts(at)
    assert auth.audit_entries(10, "session_timeout")[0]["actor"] == "ana@example.com"


def test_every_refusal_shows_the_same_words(people):
    auth.create_user("off@example.com", PW, "auditor", [G1])
    auth.disable_user("off@example.com", people["admin"])
    for _ in range(auth.MAX_FAILED_LOGINS):
        auth.authenticate("boss@example.com", "an attacker's guess")
    shown = []
    for email, password in (("ana@example.com", "not the password"),   # wrong password
                            ("nobody@example.com", PW),                # unknown email
                            ("boss@example.com", PW),                  # locked (right password)
                            ("off@example.com", PW)):                  # disabled
        at = AppTest.from_function(gate_app, default_timeout=30).run()
        log_in(at, email, password)
        assert "hello" not in texts(at)
        shown.append([e.value for e in at.error])
    assert shown == [[auth.LOGIN_REFUSED]] * 4
    assert "locked" not in texts(at).replace(auth.LOGIN_REFUSED, "")


def test_a_password_reset_elsewhere_ends_the_running_session(people):
    at = AppTest.from_function(gate_app, default_timeout=30)
    at.session_state["auth_user_id"] = people["analyst"].user_id
    at.run()
    assert "hello" in texts(at)
    auth.reset_password("ana@example.com", "a fresh password", people["admin"])
    auth_ui.forget_cached_sessions()           # (another process's change shows within 1 s)
    at.run()
    assert "hello" not in texts(at) and "password was reset" in texts(at)


def test_wrong_current_password_in_the_sidebar_form_is_counted(people):
    at = AppTest.from_function(gate_app, default_timeout=30)
    at.session_state["auth_user_id"] = people["analyst"].user_id
    at.run()
    form = [t for t in at.sidebar.text_input]
    form[0].input("a guess at it")
    form[1].input("a brand new password")
    form[2].input("a brand new password")
    at.sidebar.button[0].click()
    at.run()
    assert not at.exception
    assert "current password is not correct" in texts(at)
    assert "wrong current password" in auth.audit_entries(5, "login_failed")[0]["detail"]


def test_logout_and_disabled_user_are_sent_to_login(people):
    at = AppTest.from_function(gate_app, default_timeout=30)
    at.session_state["auth_user_id"] = people["analyst"].user_id
    at.run()
    at.sidebar.button(key="auth_logout").click()
    at.run()
    assert "hello" not in texts(at) and "logged out" in texts(at)
    assert auth.audit_entries(10, "logout")
    at.session_state["auth_user_id"] = people["analyst"].user_id
    at.run()
    auth.disable_user("ana@example.com", people["admin"])
    auth_ui.forget_cached_sessions()           # (another process's change shows within 1 s)
    at.run()
    assert "hello" not in texts(at) and "disabled" in texts(at)


def users_page(user) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "pages" / "users.py"), default_timeout=30)
    at.session_state["auth_user_id"] = user.user_id
    return at.run()


def test_users_page_is_refused_to_an_analyst(people):
    at = users_page(people["analyst"])
    assert "needs the 'users' permission" in texts(at)
    assert not at.text_input


def test_an_admin_resets_their_own_password_and_stays_logged_in(people):
    at = users_page(people["admin"])
    at.selectbox(key="edit_user").select("boss@example.com")
    at.run()
    next(b for b in at.button if b.label == "Reset password of boss@example.com").click()
    at.run()
    assert not at.exception
    shown = texts(at)
    assert "New password for boss@example.com" in shown and "Users" in at.title[0].value
    fresh = shown.split("`")[1]
    assert auth.authenticate("boss@example.com", fresh) is not None
    assert auth.authenticate("boss@example.com", PW) is None


def test_an_admin_unlocks_a_locked_user_on_the_users_page(people):
    for _ in range(auth.MAX_FAILED_LOGINS):
        auth.authenticate("ana@example.com", "a guess")
    at = users_page(people["admin"])
    at.selectbox(key="edit_user").select("ana@example.com")
    at.run()
    assert "ana@example.com is locked for" in texts(at)
    next(b for b in at.button if b.label == "Unlock ana@example.com").click()
    at.run()
    assert not at.exception and "Unlocked ana@example.com" in texts(at)
    assert auth.authenticate("ana@example.com", PW) is not None


def test_admin_adds_a_user_with_a_grant_on_the_users_page(people):
    at = users_page(people["admin"])
    assert not at.exception
    at.text_input[0].input("new.auditor@example.com")
    at.selectbox[0].select("auditor")
    at.multiselect[0].select(G2)
    at.button[0].click()
    at.run()
    assert not at.exception
    created = auth.find_user("new.auditor@example.com")
    assert created.role == "auditor" and auth.user_gstins(created) == [G2]
    shown = texts(at)
    assert "Added new.auditor@example.com as auditor" in shown
    generated = shown.split("Password: `")[1].split("`")[0]
    assert auth.authenticate("new.auditor@example.com", generated) is not None


def test_admin_grants_approval_for_a_gstin_on_the_users_page(people):
    at = users_page(people["admin"])
    at.selectbox(key="edit_user").select("ana@example.com")
    at.run()
    approves = next(m for m in at.multiselect if m.label.startswith("GSTINs whose actions"))
    approves.select(G1).select(G2)       # G2 is not granted to her: left out
    next(b for b in at.button if b.label == "Save changes").click()
    at.run()
    assert not at.exception and "Saved ana@example.com" in texts(at)
    assert auth.granted_approvals("ana@example.com") == [G1]
    assert auth.approval_gstins(people["analyst"]) == [G1]


def test_setup_mode_until_the_first_admin_then_login_is_required(db_file, monkeypatch):
    seed_demo(n_per_business=5, with_jobs=False)
    at = AppTest.from_function(gate_app, default_timeout=30).run()
    assert f"hello local sees {','.join(sorted([G1, G2]))}" in texts(at)
    assert "Set-up mode" in " ".join(e.value for e in at.sidebar.error)
    page = AppTest.from_file(str(ROOT / "app" / "pages" / "users.py"), default_timeout=30).run()
    assert page.selectbox[0].options == [auth.ROLES["admin"]]   # the first user can only be an admin
    page.text_input[0].input("first@example.com")
    page.text_input[1].input(PW)
    page.button[0].click()
    page.run()
    assert auth.find_user("first@example.com").role == "admin"
    assert auth.audit_entries(5, "user_created")[0]["actor"] == "local"
    at.run()                                                # set-up mode is over
    assert "hello" not in texts(at) and at.text_input(key="login_email")


def test_require_login_switch_turns_setup_mode_off(db_file, monkeypatch):
    monkeypatch.setenv("IMS_REQUIRE_LOGIN", "1")
    at = AppTest.from_function(gate_app, default_timeout=30).run()
    assert "hello" not in texts(at) and at.text_input(key="login_email")


def test_a_change_made_elsewhere_shows_within_the_cache_ttl(people, monkeypatch):
    monkeypatch.setattr(auth_ui, "SNAPSHOT_TTL_S", 0.3)
    at = AppTest.from_function(gate_app, default_timeout=30)
    at.session_state["auth_user_id"] = people["analyst"].user_id
    at.run()
    assert f"sees {G1}" in texts(at)
    auth.grant_gstins("ana@example.com", [G1, G2], "cli")     # as the worker or another app would
    time.sleep(0.35)
    at.run()
    assert f"sees {G1},{G2}" in texts(at)


def live_refresh_app():
    import streamlit as st

    from app.auth_ui import require_live_session
    st.session_state["refreshes"] = st.session_state.get("refreshes", 0) + 1
    require_live_session()
    st.write("job health drawn")


def test_a_logged_out_sessions_refresh_draws_nothing_and_reruns_nothing(people):
    """The Dashboard's auto-refresh still fires after the login is shown (Streamlit keeps a
    fragment when the run that showed the login stopped early): it must not rerun the app,
    which drew the login again without its notice, again and again."""
    at = AppTest.from_function(live_refresh_app, default_timeout=30)
    at.run()
    assert not at.exception and at.session_state["refreshes"] == 1
    assert "job health drawn" not in texts(at)
