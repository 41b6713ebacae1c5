"""Login in the real app (Debian's chromium): the form, a wrong password, the right one, the
granted business only, and logout. Run with `pytest -m browser`."""
from __future__ import annotations

import pytest

from core import auth
from tests.fixtures import BUSINESSES, DEMO_PASSWORD, settle, store_env

pytestmark = pytest.mark.browser
PW = DEMO_PASSWORD
G1, G2 = BUSINESSES[0][0], BUSINESSES[1][0]


@pytest.fixture(scope="module")
def app_url(demo_app):
    """The shared demo app: an admin, and an analyst granted G1 only."""
    with store_env(demo_app.db):
        yield demo_app.url


@pytest.fixture
def page(chromium, app_url):
    context = chromium.new_context(viewport={"width": 1400, "height": 1600})
    pg = context.new_page()
    pg.goto(app_url)
    pg.get_by_label("Email").wait_for(timeout=30000)
    yield pg
    context.close()


def log_in(page, email: str, password: str) -> None:
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_wrong_password_then_login_shows_only_the_granted_business_then_logout(page):
    log_in(page, "ana@example.com", "not the password")
    page.get_by_text("Wrong email or password").wait_for(timeout=30000)
    log_in(page, "ana@example.com", PW)
    page.get_by_text("Logged in as").wait_for(timeout=30000)
    page.get_by_role("heading", name="Dashboard").first.wait_for(timeout=30000)
    settle(page)
    body = page.locator("body").inner_text()
    assert G2 not in body and "Bengal Tools" not in body
    assert page.get_by_role("link", name="Users").count() == 0
    assert page.get_by_role("link", name="Settings").count() == 0
    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You are logged out").wait_for(timeout=30000)
    events = [e["event"] for e in auth.audit_entries(10)]
    assert events[:3] == ["logout", "login", "login_failed"]
