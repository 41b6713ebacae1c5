"""Connecting a GSTIN on the Settings page (AppTest, real sandbox over HTTP), the sealed
tokens (core/portal/secrets_box.py), a refresh that cannot reach the GSP, and a changed key."""
from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
import requests
from streamlit.testing.v1 import AppTest

from core.clock import utc_now
from core.portal import secrets_box
from core.portal import sessions as gsp_sessions
from core.portal import status as gsp_status
from core.portal.gsp import GstnError, IssuedToken
from sandbox.demo import DEMO_PORTAL_USERS
from tests.fixtures import ROOT, add_business, start_sandbox, stop_sandbox

G = "27AAACW1234K1ZD"


def sent_otp(url: str) -> str:
    return requests.get(f"{url}/_control/otp", params={"gstin": G}, timeout=10).json()["otp"]


def connect(url: str) -> str:
    gsp_sessions.request_otp(G, DEMO_PORTAL_USERS[G], utc_now() + dt.timedelta(days=7), "admin")
    otp = sent_otp(url)
    gsp_sessions.connect_with_otp(G, otp, "admin")
    return otp


def shown(at) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption", "info", "success", "warning",
                                       "error", "text", "code") for e in getattr(at, kind)]
    return "\n".join(parts + [str(w.value) for w in at.text_input]
                     + [str(d.value) for d in (*at.dataframe, *at.table)])


def test_settings_connects_a_gstin_and_never_shows_the_otp_or_token(db_file, sandbox):
    add_business(G, "Western Agro MH")
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60).run()
    at.switch_page("pages/settings.py").run()
    assert "Not connected: request an OTP" in shown(at)
    at.text_input(key=f"gsp_user_{G}").set_value(DEMO_PORTAL_USERS[G])
    at.button(key="gsp_request").click().run()
    assert any(s.value.startswith("The GSP sent an OTP") for s in at.success)
    otp = sent_otp(sandbox.url)
    at.text_input(key="gsp_otp").set_value("12")
    at.button(key="gsp_connect").click().run()
    assert any("6-digit code" in e.value for e in at.error)
    at.text_input(key="gsp_otp").set_value(otp)
    at.button(key="gsp_connect").click().run()
    assert not at.exception
    assert any(s.value.startswith(f"Connected {G}: the token is valid until") for s in at.success)
    assert at.text_input(key="gsp_otp").value == ""          # emptied by the click
    text = shown(at)
    assert "Connected; token valid until" in text
    token = gsp_sessions.held_token(G).token
    assert otp not in text and token not in text


def test_tokens_are_sealed_with_a_key_kept_out_of_the_store(db_file, monkeypatch):
    monkeypatch.delenv("IMS_SECRET_KEY", raising=False)
    sealed = secrets_box.seal("tok-123456")
    assert "tok-123456" not in sealed and secrets_box.unseal(sealed) == "tok-123456"
    key = Path(db_file).with_name("secret.key")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert "generated" in secrets_box.key_source()
    monkeypatch.setenv("IMS_SECRET_KEY", "x" * 40)
    with pytest.raises(secrets_box.SecretKeyError, match="secret key changed"):
        secrets_box.unseal(sealed)
    monkeypatch.setenv("IMS_SECRET_KEY", "short")
    with pytest.raises(secrets_box.SecretKeyError, match="at least 32 characters"):
        secrets_box.seal("x")
    assert "tok-1" not in repr(IssuedToken("tok-123456", 360))


def test_a_changed_key_skips_the_gstin_and_keeps_its_token(db_file, sandbox, monkeypatch):
    """Issue 29.6: another key no longer deletes the token; the right key brings it back."""
    monkeypatch.setenv("IMS_SECRET_KEY", "k" * 40)
    add_business(G, "Western Agro MH")
    connect(sandbox.url)
    held = gsp_sessions.held_token(G)
    sealed = gsp_sessions.load_session(G)["token_sealed"]
    monkeypatch.setenv("IMS_SECRET_KEY", "another key, long enough to be accepted")
    with pytest.raises(gsp_sessions.NeedsOtp, match="secret key changed"):
        gsp_sessions.held_token(G)
    assert gsp_sessions.load_session(G)["token_sealed"] == sealed
    monkeypatch.setenv("IMS_SECRET_KEY", "k" * 40)
    assert gsp_sessions.held_token(G).token == held.token


def test_an_unreachable_gsp_leaves_refresh_failed_and_the_token_in_use(db_file, monkeypatch):
    sb = start_sandbox(extra=["--gstin", G])
    monkeypatch.setenv("GSTN_API_URL", sb.url)
    add_business(G, "Western Agro MH")
    try:
        connect(sb.url)
    finally:
        stop_sandbox(sb)
    with pytest.raises(GstnError, match="refreshing the GSP session failed"):
        gsp_sessions.refresh_session(G)
    row = gsp_sessions.load_session(G)
    assert gsp_sessions.effective_state(row) == "refresh_failed"
    assert gsp_sessions.describe(row).startswith("Refresh failed (the GSP could not be reached")
    assert gsp_sessions.can_call_portal(G) and gsp_sessions.held_token(G) is not None
    # once the token's time is over without a refresh, only a new OTP helps
    later = row["token_expires_at"] + dt.timedelta(seconds=1)
    assert gsp_sessions.effective_state(row, later) == "needs_otp"
    assert any("needs an OTP now" in w for w in gsp_status.session_warnings(now=later))


def test_refresh_falls_due_ahead_of_expiry():
    issued = dt.datetime(2026, 12, 1, 6, 0)
    row = {"state": "connected", "access_ends_at": issued + dt.timedelta(days=5),
           "token_issued_at": issued, "token_expires_at": issued + dt.timedelta(hours=6)}
    assert gsp_sessions.refresh_at(row) == issued + dt.timedelta(hours=5, minutes=30)
    assert not gsp_sessions.refresh_due(row, issued + dt.timedelta(hours=5, minutes=29))
    assert gsp_sessions.refresh_due(row, issued + dt.timedelta(hours=5, minutes=30))
    short = {**row, "token_expires_at": issued + dt.timedelta(seconds=6)}
    assert gsp_sessions.refresh_at(short) == issued + dt.timedelta(seconds=3)
    assert gsp_sessions.effective_state(row, issued + dt.timedelta(days=5)) == "access_ended"


def test_a_gstin_never_connected_needs_an_otp_unless_a_shared_login_serves_it(db_file,
                                                                               monkeypatch):
    add_business(G, "Western Agro MH")
    monkeypatch.delenv("GSTN_USERNAME", raising=False)
    monkeypatch.setenv("GSTN_API_URL", "http://127.0.0.1:9")          # loopback: demo login
    assert gsp_status.session_warnings() == []
    assert "shared login (the bundled sandbox's demo login)" in gsp_status.session_rows()[0][
        "words"]
    monkeypatch.setenv("GSTN_API_URL", "https://gsp.example.invalid")  # a real GSP, no login
    expected = (f"{G} (Western Agro MH) needs an OTP now: it is not connected to the GSP yet. "
                "Connect it under Settings → GSP sessions.")
    assert gsp_status.session_warnings() == [expected]
