"""Where the GSP is: the URL's precedence (environment > secrets > Settings > default), the
login used for a loopback sandbox, and "Test connection" really logging in."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.business import registry as business
from core.portal import gsp
from core.portal.client import try_login
from core.portal.gsp import GspConfig
from tests.fixtures import free_port

ROOT = Path(__file__).resolve().parents[1]


def secrets(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text)
    return path


def test_url_precedence_and_its_source(db_file, tmp_path, monkeypatch):
    monkeypatch.delenv("GSTN_API_URL", raising=False)
    monkeypatch.delenv("GSTN_USERNAME", raising=False)
    none = tmp_path / "absent.toml"
    config = GspConfig.load(none)
    assert (config.url, config.url_source) == ("http://127.0.0.1:8765",
                                               "default (the bundled sandbox)")
    business.save_gsp_url("https://gsp.example.in/", "admin")
    config = GspConfig.load(none)
    assert (config.url, config.url_source) == ("https://gsp.example.in", "the Settings page")
    assert config.username == "" and config.credentials_source == "none configured"
    with_url = secrets(tmp_path, '[gsp]\nurl = "https://secret.example.in"\nusername = "u1"\n'
                                 'otp = "123456"\nclient_id = "abc"\n')
    config = GspConfig.load(with_url)
    assert (config.url, config.username, config.otp) == (
        "https://secret.example.in", "u1", "123456")
    assert config.url_source == f"{with_url} [gsp] url" and config.extra == {"client_id": "abc"}
    monkeypatch.setenv("GSTN_API_URL", "http://127.0.0.1:9999")
    config = GspConfig.load(with_url)
    assert (config.url, config.url_source) == ("http://127.0.0.1:9999", "environment GSTN_API_URL")
    assert config.username == "u1"                      # the secrets' credentials still apply


def test_loopback_without_credentials_uses_the_sandbox_login(db_file, tmp_path, monkeypatch):
    monkeypatch.delenv("GSTN_USERNAME", raising=False)
    monkeypatch.setenv("GSTN_API_URL", "http://localhost:8765")
    config = GspConfig.load(tmp_path / "absent.toml")
    assert config.username and config.otp
    assert config.credentials_source == "the bundled sandbox's demo login"
    assert "otp" not in repr(config) and config.otp not in repr(config)


def test_settings_note_says_which_url_is_in_effect(db_file, monkeypatch):
    monkeypatch.delenv("GSTN_API_URL", raising=False)
    business.save_gsp_url("https://gsp.example.in", "admin")
    assert gsp.url_in_effect() == "In effect: https://gsp.example.in (from the Settings page)."
    monkeypatch.setenv("GSTN_API_URL", "http://127.0.0.1:9999")
    assert gsp.url_in_effect() == (
        "In effect: http://127.0.0.1:9999 (from environment GSTN_API_URL). The URL saved here "
        "(https://gsp.example.in) is used only when neither GSTN_API_URL nor "
        ".streamlit/secrets.toml sets one.")


def test_test_connection_logs_in_or_says_why_not(db_file, sandbox, monkeypatch):
    monkeypatch.delenv("GSTN_USERNAME", raising=False)
    ok, message = try_login(sandbox.url)
    assert ok and message.startswith(f"Logged in to the GSP at {sandbox.url} as user ")
    closed = f"http://127.0.0.1:{free_port()}"
    ok, message = try_login(closed)
    assert not ok and message.startswith(f"Login to the GSP at {closed} failed:")
    assert "could not be reached" in message
    monkeypatch.setenv("GSTN_USERNAME", "someone")
    monkeypatch.setenv("GSTN_OTP", "000000")
    ok, message = try_login(sandbox.url)
    assert not ok and "refused the login for user 'someone'" in message
    assert "000000" not in message
    monkeypatch.delenv("GSTN_USERNAME")
    ok, message = try_login("https://gsp.example.invalid")
    assert not ok and "no credentials are configured for https://gsp.example.invalid" in message


def test_settings_page_saves_the_url_and_test_connection_logs_in(db_file, sandbox, monkeypatch):
    monkeypatch.delenv("GSTN_API_URL")
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/settings.py")
    at.run()
    assert any("In effect: http://127.0.0.1:8765 (from default" in c.value for c in at.caption)
    at.text_input(key="gsp_url").set_value(sandbox.url)
    next(b for b in at.button if b.label == "Save URL").click()
    at.run()
    assert not at.exception
    assert any(f"In effect: {sandbox.url} (from the Settings page)" in s.value for s in at.success)
    assert GspConfig.load().url == sandbox.url
    next(b for b in at.button if b.label == "Test connection").click()
    at.run()
    assert [s.value for s in at.success][-1].startswith(f"Logged in to the GSP at {sandbox.url}")
