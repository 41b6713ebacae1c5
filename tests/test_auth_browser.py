"""Login in the real app (Debian's chromium): the form, a wrong password, the right one, the
granted business only, and logout. Run with `pytest -m browser`."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from core import auth
from tests.conftest import free_port
from tests.demo_store import BUSINESSES, seed_demo

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
PW = "correct horse battery"
G1, G2 = BUSINESSES[0][0], BUSINESSES[1][0]

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium", allow_module_level=True)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("auth_browser") / "ims.duckdb")
    before = os.environ.get("IMS_DB_PATH")
    os.environ["IMS_DB_PATH"] = db
    seed_demo(n_per_business=20)
    auth.create_user("boss@example.com", PW, "admin")
    auth.create_user("ana@example.com", PW, "analyst", [G1])
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port",
                             str(port), "--server.headless", "true", "--server.address", "127.0.0.1"],
                            cwd=ROOT, env={**os.environ, "IMS_DB_PATH": db},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/_stcore/health", timeout=1).ok:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"streamlit did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(10)
    if before is None:
        os.environ.pop("IMS_DB_PATH", None)
    else:
        os.environ["IMS_DB_PATH"] = before


@pytest.fixture
def page(app_url):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
        pg.goto(app_url)
        pg.get_by_label("Email").wait_for(timeout=30000)
        yield pg
        browser.close()


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
    page.wait_for_timeout(1500)
    body = page.locator("body").inner_text()
    assert G2 not in body and "Bengal Tools" not in body
    assert page.get_by_role("link", name="Users").count() == 0
    assert page.get_by_role("link", name="Settings").count() == 0
    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You are logged out").wait_for(timeout=30000)
    events = [e["event"] for e in auth.audit_entries(10)]
    assert events[:3] == ["logout", "login", "login_failed"]
