"""Sessions in the real app server (`streamlit run app/serve.py`, as ./run.sh runs it) and
Debian's chromium: a login survives a refresh and a deep link through the HttpOnly cookie, and
ends on logout, on a password reset and (in the Dashboard's running auto-refresh) on disable;
a logged-out visitor never sees a traceback, not even while the store is busy.
Run with `pytest -m browser`."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from core import auth
from tests.fixtures import (
    BUSINESSES,
    running_app,
    seed_demo,
    store_env,
    store_held_by_another_process,
)

pytestmark = pytest.mark.browser
PW = "correct horse battery"
G1 = BUSINESSES[0][0]
TRACEBACK_SIGNS = ("Traceback", 'File "', ".py\"", "duckdb", "PID")
# the Dashboard's job-health refresh on this module's server (the app's is 30 s): the disabled
# user's running Dashboard notices within it, without a click
REFRESH_S = 5

@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, str]]:
    db = str(tmp_path_factory.mktemp("session_browser") / "ims.duckdb")
    with store_env(db):
        seed_demo(n_per_business=20)
        auth.create_user("boss@example.com", PW, "admin")
        for email in ("ana@example.com", "raj@example.com", "meera@example.com"):
            auth.create_user(email, PW, "analyst", [G1])
        with running_app(db, "app/serve.py", IMS_DB_BUSY_TIMEOUT="2",
                         IMS_DASHBOARD_REFRESH_S=str(REFRESH_S)) as url:
            yield url, db


@pytest.fixture
def context(chromium):
    ctx = chromium.new_context(viewport={"width": 1400, "height": 1400})
    yield ctx
    ctx.close()


def log_in(page, url: str, email: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PW)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Logged in as").wait_for(timeout=30000)


def session_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == "ims_session"), None)


def wait_for_cookie(page, context, present: bool = True) -> dict | None:
    for _ in range(50):
        if (session_cookie(context) is not None) == present:
            break
        page.wait_for_timeout(200)
    return session_cookie(context)


def test_the_server_refuses_to_set_a_cookie_without_a_fresh_login(server):
    url, _ = server
    assert requests.post(f"{url}/_ims/session", timeout=10).status_code == 403
    refused = requests.post(f"{url}/_ims/session", headers={"X-IMS-Handoff": "guessed"},
                            timeout=10)
    assert refused.status_code == 403 and "set-cookie" not in refused.headers


def test_a_login_survives_refresh_and_deep_link_and_ends_on_logout(server, context):
    url, _ = server
    page = context.new_page()
    log_in(page, url, "ana@example.com")
    cookie = wait_for_cookie(page, context)
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["value"].startswith("v1.") and PW not in cookie["value"]
    page.reload()
    page.get_by_text("Logged in as").wait_for(timeout=30000)
    page.goto(f"{url}/ims_invoices")
    page.get_by_text("Logged in as").wait_for(timeout=30000)
    page.get_by_role("heading", name="IMS Invoices").first.wait_for(timeout=30000)
    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You are logged out").wait_for(timeout=30000)
    assert wait_for_cookie(page, context, present=False) is None
    page.reload()
    page.get_by_role("textbox", name="Email").wait_for(timeout=30000)
    assert page.get_by_text("Logged in as").count() == 0


def test_an_old_cookie_is_worthless_after_logout(server, context, chromium):
    url, _ = server
    page = context.new_page()
    log_in(page, url, "raj@example.com")
    stolen = wait_for_cookie(page, context)
    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You are logged out").wait_for(timeout=30000)
    other = chromium.new_context()
    try:
        other.add_cookies([{k: stolen[k] for k in ("name", "value", "domain", "path")}])
        intruder = other.new_page()
        intruder.goto(url)
        intruder.get_by_role("textbox", name="Email").wait_for(timeout=30000)
        intruder.wait_for_timeout(1000)
        assert intruder.get_by_text("Logged in as").count() == 0
    finally:
        other.close()


def test_a_password_reset_ends_the_session_in_every_tab(server, context):
    url, db = server
    page = context.new_page()
    log_in(page, url, "meera@example.com")
    wait_for_cookie(page, context)
    with store_env(db):
        auth.reset_password("meera@example.com", "a brand new password", "cli")
    page.reload()
    page.get_by_role("textbox", name="Email").wait_for(timeout=30000)
    assert page.get_by_text("Logged in as").count() == 0


def test_a_disabled_users_running_dashboard_goes_back_to_the_login(server, context):
    url, db = server
    page = context.new_page()
    with store_env(db):
        auth.create_user("sam@example.com", PW, "analyst", [G1])
    log_in(page, url, "sam@example.com")
    page.get_by_text("Job health").wait_for(timeout=30000)
    with store_env(db):
        auth.disable_user("sam@example.com", "cli")
    # no click, no reload: the Dashboard's auto-refresh (every REFRESH_S here) notices
    page.get_by_text("Your account was disabled").wait_for(timeout=60000)
    # the same run draws the login form under the message (a moment later on a busy machine)
    page.get_by_role("textbox", name="Email").wait_for(timeout=30000)
    assert page.get_by_role("textbox", name="Email").count() == 1


def no_traceback(page) -> str:
    body = page.locator("body").inner_text()
    assert not any(sign in body for sign in TRACEBACK_SIGNS), body
    return body


def test_a_logged_out_visitor_never_sees_a_traceback(server, context):
    url, db = server
    page = context.new_page()
    for path in ("", "/users", "/settings", "/ims_invoices", "/no_such_page"):
        page.goto(f"{url}{path}")
        page.get_by_role("textbox", name="Email").wait_for(timeout=30000)
        no_traceback(page)
    with store_held_by_another_process(db):
        page.goto(url)
        busy = page.get_by_text("database is busy")
        email = page.get_by_role("textbox", name="Email")
        busy.or_(email).first.wait_for(timeout=30000)
        if not busy.is_visible():
            # the login form came from the page's short-lived caches; a login needs the store
            email.fill("boss@example.com")
            page.get_by_role("textbox", name="Password").fill(PW)
            page.get_by_role("button", name="Log in").click()
        busy.wait_for(timeout=30000)
        body = no_traceback(page)
        assert "Try again in a moment" in body
    page.reload()
    page.get_by_role("textbox", name="Email").wait_for(timeout=30000)
