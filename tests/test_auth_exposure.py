"""Exposed by default no more: the demo app listens on 127.0.0.1 unless told otherwise, no
password is published, the config keeps tracebacks out of the browser, and the session key
is private. (The login itself: tests/test_auth_login.py; in a browser:
tests/test_auth_session_browser.py.)"""
from __future__ import annotations

import tomllib

from scripts.run_demo import app_command, parse_args
from tests.fixtures import ROOT

OLD_PUBLISHED_PASSWORD = "demo-admin-2025"


def address_of(command: list[str]) -> str:
    return command[command.index("--server.address") + 1]


def test_the_demo_app_listens_on_this_machine_unless_a_host_is_given():
    assert address_of(app_command(parse_args([]))) == "127.0.0.1"
    assert address_of(app_command(parse_args(["--host", "0.0.0.0"]))) == "0.0.0.0"
    assert "app/serve.py" in app_command(parse_args([]))     # the server with the cookie route


def test_no_password_is_published_and_tracebacks_stay_out_of_the_browser():
    texts = [ROOT / "README.md", ROOT / "run.sh", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "scripts").glob("*.py")), *sorted((ROOT / "core").glob("*.py"))]
    for path in texts:
        assert OLD_PUBLISHED_PASSWORD not in path.read_text(), path
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["address"] == "127.0.0.1"
