"""Secrets (the GSP username/OTP from the environment or .streamlit/secrets.toml) never reach
logs, the store, pages or downloads: we grep every output for the configured secret value."""
from __future__ import annotations

import logging
import os
import subprocess
import sys

from streamlit.testing.v1 import AppTest

from core.export import to_csv_bytes
from core.ims.fetch import fetch_ims
from core.ims.view import ImsFilter, export_frame
from core.portal.client import GstnClient
from core.portal.gsp import GspConfig
from core.store.database import connect
from tests.fixtures import ROOT, add_business

RTIN = "27AAACW1234K1ZD"
GOOD_OTP = "575757"                      # what the sandbox accepts: the secret of this setup
WRONG_OTP = "S3cr3t-OTP-9f8e7d6c"        # a wrong secret: it must not leak in the error either


def store_text(path: str) -> bytes:
    with connect() as con:
        con.execute("CHECKPOINT")
    return open(path, "rb").read()


def worker_fetch(otp: str) -> str:
    env = {**os.environ, "GSTN_USERNAME": "demo", "GSTN_OTP": otp, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([sys.executable, "worker.py", "fetch", "--gstin", RTIN], cwd=ROOT, env=env,
                          check=False, capture_output=True, text=True, timeout=180)
    return done.stdout + done.stderr


def test_secret_never_in_worker_output_store_or_downloads(db_file, sandbox):
    add_business(RTIN, "Demo")
    failed = worker_fetch(WRONG_OTP)
    assert "FAILED" in failed and WRONG_OTP not in failed
    ok = worker_fetch(GOOD_OTP)
    assert "ok" in ok and GOOD_OTP not in ok
    with connect() as con:
        errors = " ".join(str(r) for r in con.execute("SELECT * FROM job_runs").fetchall())
        logs = " ".join(str(r) for r in con.execute("SELECT * FROM action_log").fetchall())
        settings = " ".join(str(r) for r in con.execute("SELECT * FROM settings").fetchall())
    assert "re-authenticate" in errors.lower() or "AUTH4033" in errors
    for text in (errors, logs, settings):
        assert WRONG_OTP not in text and GOOD_OTP not in text
    raw = store_text(db_file)
    assert WRONG_OTP.encode() not in raw and GOOD_OTP.encode() not in raw
    csv = to_csv_bytes(export_frame([RTIN], ImsFilter(), None))
    assert len(csv) > 1000 and GOOD_OTP.encode() not in csv


def test_secret_never_in_debug_logs_or_reprs(db_file, sandbox, caplog, monkeypatch):
    add_business(RTIN, "Demo")
    monkeypatch.setenv("GSTN_OTP", GOOD_OTP)
    caplog.set_level(logging.DEBUG)
    config = GspConfig.load()
    client = GstnClient(config, timeout=10)
    sandbox.control("fault", kind="5xx", times=1)
    sandbox.control("fault", kind="expire_session", times=1, path_contains="GETINV")
    fetch_ims(RTIN, client)
    assert GOOD_OTP not in caplog.text and "otp" not in caplog.text.lower().replace("otprequest", "")
    assert GOOD_OTP not in repr(config) and GOOD_OTP not in repr(client)


def test_secret_never_on_the_settings_page(db_file, monkeypatch):
    monkeypatch.setenv("GSTN_USERNAME", "demo-user-xyz")
    monkeypatch.setenv("GSTN_OTP", WRONG_OTP)
    at = AppTest.from_file(str(ROOT / "app" / "pages" / "settings.py"), default_timeout=30).run()
    assert not at.exception
    shown = " ".join(str(e.value) for kind in ("markdown", "caption", "info", "success", "warning",
                                               "error", "text", "code")
                     for e in getattr(at, kind))
    shown += " ".join(str(w.value) for w in at.text_input)
    assert "environment" in shown.lower()          # it says where credentials come from ...
    assert WRONG_OTP not in shown                  # ... never what they are
