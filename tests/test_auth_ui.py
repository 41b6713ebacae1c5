"""The login gate, timeout, logout and the admin-only Users page, driven with Streamlit's AppTest."""
from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from app import auth_ui
from core import auth
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


def test_idle_session_times_out(people):
    auth.save_session_timeout(1, "cli")
    at = AppTest.from_function(gate_app, default_timeout=30)
    at.session_state["auth_user_id"] = people["analyst"].user_id
    at.session_state["auth_last_active"] = time.time() - 30
    at.run()
    assert "hello" in texts(at)
    at.session_state["auth_last_active"] = time.time() - 120
    at.run()
    assert "hello" not in texts(at) and "session ended after 1 minutes" in texts(at)
    assert auth.audit_entries(10, "session_timeout")[0]["actor"] == "ana@example.com"


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
