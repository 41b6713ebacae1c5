"""Settings → E-mail in Debian's chromium: an admin sets the mail server (the test's own SMTP
server on 127.0.0.1, tests/mailserver.py), saves it, sends a test mail and reads the server's
answer; the mail arrives; with the server down the answer says so, and both mails are in the
mail log on the page. Screenshot: tests/screenshots/mail_settings.png (git-ignored).
On the shared demo app (conftest's `demo_app`, as its admin): no other module on it reads the
mail settings this leaves."""
from __future__ import annotations

import pytest

from core.mail import read_smtp_settings
from core.store import connect, let_go_of_idle_files
from tests.fixtures import DEMO_PASSWORD, ROOT, logged_in_page, settle, store_env

pytestmark = pytest.mark.browser
SHOTS = ROOT / "tests" / "screenshots"


def test_set_the_mail_server_and_send_a_test_mail_in_the_browser(demo_app, smtp_server,
                                                                  chromium):
    url = demo_app.url
    with logged_in_page(chromium, url, "boss@example.com", DEMO_PASSWORD, width=1500,
                        height=2400) as page:
        page.goto(f"{url}/settings")
        page.get_by_role("heading", name="E-mail").wait_for(timeout=90000)
        page.get_by_role("textbox", name="Mail server (host)").fill("127.0.0.1")
        page.get_by_label("Port", exact=True).fill(str(smtp_server.port))
        page.get_by_text("none (plain)").click()
        page.get_by_role("textbox", name="From address").fill("gst-team@firm.test")
        page.get_by_role("button", name="Save mail server").click()
        page.get_by_text("Mail server saved").wait_for(timeout=30000)
        settle(page)
        page.get_by_role("textbox", name="Send a test mail to").fill("ana@firm.test")
        page.get_by_role("button", name="Send a test mail").click()
        page.get_by_text("The server's answer: sent: accepted by 127.0.0.1 (250").wait_for(
            timeout=30000)
        [msg] = smtp_server.messages
        assert msg.envelope_to == ["ana@firm.test"] and msg["From"] == "gst-team@firm.test"
        smtp_server.stop()
        page.get_by_role("button", name="Send a test mail").click()
        page.get_by_text("could not be reached (connection refused: is it running?)").first \
            .wait_for(timeout=30000)
        settle(page)
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "mail_settings.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0
    with store_env(demo_app.db), connect() as con:
        assert read_smtp_settings(con).port == smtp_server.port
    let_go_of_idle_files()   # the app server opens the store next
