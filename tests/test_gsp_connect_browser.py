"""Settings → GSP sessions in Debian's chromium: request an OTP for a GSTIN, type the OTP the
sandbox sent (read through its control call), connect; the state reads "Connected", the OTP
field is empty again, and neither the OTP nor the token is anywhere on the page. Screenshot:
tests/screenshots/gsp_connect.png (git-ignored)."""
from __future__ import annotations

import pytest
import requests

from core.portal import sessions as gsp_sessions
from sandbox.demo import DEMO_PORTAL_USERS
from tests.fixtures import ROOT, add_business, running_app, settle

pytestmark = pytest.mark.browser
G, B = "27AAACW1234K1ZD", "29AAACW1234K1Z9"
SHOTS = ROOT / "tests" / "screenshots"


def test_connect_a_gstin_with_an_otp_in_the_browser(db_file, sandbox, chromium):
    add_business(G, "Western Agro MH")
    add_business(B, "Western Agro KA")
    with running_app(db_file) as url:
        context = chromium.new_context(viewport={"width": 1500, "height": 2200})
        page = context.new_page()
        page.goto(f"{url}/settings")
        page.get_by_role("heading", name="GSP sessions").wait_for(timeout=60000)
        page.get_by_role("textbox", name="GST portal username").fill(DEMO_PORTAL_USERS[G])
        page.get_by_role("button", name="Request OTP").click()
        page.get_by_text("The GSP sent an OTP").wait_for(timeout=30000)
        otp = requests.get(f"{sandbox.url}/_control/otp", params={"gstin": G},
                           timeout=10).json()["otp"]
        page.get_by_role("textbox", name="OTP received").fill(otp)
        page.get_by_role("button", name="Connect", exact=True).click()
        page.get_by_text(f"Connected {G}: the token is valid until").wait_for(timeout=30000)
        page.wait_for_timeout(800)
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "gsp_connect.png"), full_page=True)
        assert page.get_by_role("textbox", name="OTP received").input_value() == ""
        assert page.locator('[data-testid="stException"]').count() == 0
        html = page.content()
        token = gsp_sessions.held_token(G).token
        assert otp not in html and token not in html
        # another GSTIN, on the shared login: an OTP asked for and abandoned changes nothing
        # for it, and can be cancelled (issue 24, item 8)
        page.get_by_role("combobox", name="Business to connect").click()
        page.get_by_role("option", name=f"Western Agro KA · {B}").click()
        settle(page)                          # the new business's fields
        page.get_by_role("textbox", name="GST portal username").fill(DEMO_PORTAL_USERS[B])
        page.get_by_role("textbox", name="GST portal username").press("Tab")
        settle(page)
        page.get_by_role("button", name="Request OTP").click()
        page.get_by_text("Until then its calls use the shared login.").first.wait_for(
            timeout=30000)
        assert gsp_sessions.held_token(B) is None          # the worker keeps fetching it
        page.get_by_role("button", name="Cancel the OTP request").click()
        page.get_by_text(f"OTP request for {B} cancelled: its calls use the shared login "
                         "again").wait_for(timeout=30000)
        page.screenshot(path=str(SHOTS / "gsp_cancel_otp.png"), full_page=True)
        assert page.get_by_role("button", name="Cancel the OTP request").count() == 0
        context.close()
    assert gsp_sessions.effective_state(gsp_sessions.load_session(G)) == "connected"
    assert gsp_sessions.load_session(B) is None
