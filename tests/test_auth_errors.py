"""No traceback reaches a person: the error boundary (app/ui.py) shows a plain message with an
incident id and logs the details; "database busy" (the store held by another process) is said
in words, also when it happens inside the login gate. Driven with Streamlit's AppTest."""
from __future__ import annotations

import logging
import re

import pytest
from streamlit.testing.v1 import AppTest

from app import auth_ui
from core import auth
from core.store import database as db
from tests.fixtures import BUSINESSES, ROOT, seed_demo, store_held_by_another_process

pytestmark = pytest.mark.usefixtures("store_engine")

PW = "correct horse battery"
TRACEBACK_SIGNS = ("Traceback", 'File "', ".py", "line ", "duckdb", "PID", "Conflicting lock")


def everything(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "error", "info", "warning", "success",
                                              "caption", "exception", "title")
                    for e in getattr(at, kind))


def failing_page():
    from app.incidents import error_boundary

    with error_boundary():
        raise ValueError("secret detail /srv/app/core/x.py line 12")


def test_an_unexpected_error_shows_an_incident_id_and_logs_the_details(db_file, caplog):
    caplog.set_level(logging.ERROR, logger="ims.app")
    at = AppTest.from_function(failing_page, default_timeout=30).run()
    assert not at.exception
    shown = everything(at)
    incident = re.search(r"incident ([0-9a-f]{8})", shown)
    assert incident and "secret detail" not in shown
    assert not any(sign in shown for sign in TRACEBACK_SIGNS)
    logged = [r for r in caplog.records if incident.group(1) in r.getMessage()]
    assert logged and "secret detail" in logged[0].getMessage() and logged[0].exc_info


@pytest.fixture
def logged_in_store(db_file):
    seed_demo(n_per_business=5, with_jobs=False)
    auth.create_user("boss@example.com", PW, "admin")
    return auth.create_user("ana@example.com", PW, "analyst", [BUSINESSES[0][0]]), db_file


@pytest.fixture
def store_held_elsewhere(logged_in_store, monkeypatch, store_engine):
    """Another process (as the worker would) holds the store file for the test's length."""
    if store_engine == "postgres":
        pytest.skip("DuckDB's file lock (PostgreSQL: tests/test_store_threads.py, a row lock)")
    user, path = logged_in_store
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 1.0)
    auth_ui.forget_cached_sessions()
    with store_held_by_another_process(path):
        yield user


def test_a_busy_store_in_the_login_gate_shows_words_not_a_traceback(store_held_elsewhere):
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60).run()
    assert not at.exception
    shown = everything(at)
    assert "database is busy" in shown and "Try again in a moment" in shown
    assert not any(sign in shown for sign in TRACEBACK_SIGNS), shown


def test_a_logged_in_page_whose_store_is_busy_shows_words_not_a_traceback(logged_in_store,
                                                                          monkeypatch,
                                                                          store_engine):
    if store_engine == "postgres":
        pytest.skip("DuckDB's file lock (PostgreSQL: tests/test_store_threads.py, a row lock)")
    user, path = logged_in_store
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.session_state["auth_user_id"] = user.user_id
    at.run()
    assert "Dashboard" in everything(at)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 1.0)
    with store_held_by_another_process(path):
        auth_ui.forget_cached_sessions()
        at.switch_page("pages/ims_invoices.py")
        at.run()
    assert not at.exception
    shown = everything(at)
    assert "database is busy" in shown
    assert not any(sign in shown for sign in TRACEBACK_SIGNS), shown
