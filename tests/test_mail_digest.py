"""The daily digest and the job-failure mail, to a real SMTP server on 127.0.0.1 (aiosmtpd):
a user restricted to one GSTIN reads only that GSTIN; a digest goes out once a day, also when
the worker ticks again; opting out is respected; a failed job mails the admins at once."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from core import auth, suppliers
from core.cli import main as command_line
from core.clock import ManualClock, business_tz
from core.digest import digest_for, mail_job_failures, save_digest_settings, send_digests
from core.jobs import run_job
from core.mail import save_smtp_settings
from core.schedule import Worker
from core.store import connect, let_go_of_idle_files
from tests.fixtures import ROOT, add_business

pytestmark = pytest.mark.slow

MINE, OTHER = "27AAAAA1111A1Z5", "29BBBBB2222B1Z3"
PASSWORD = "correct horse battery staple 7"


def _fail(gstin: str, why: str):
    def work(run_id):
        raise RuntimeError(why)
    return run_job("fetch", gstin, work, triggered_by="schedule")


def _populate() -> None:
    add_business(MINE, "Mine Traders")
    add_business(OTHER, "Other Mills")
    auth.create_user("boss@firm.test", PASSWORD, "admin", [], actor="cli")
    auth.create_user("ana@firm.test", PASSWORD, "analyst", [MINE], actor="cli")
    _fail(MINE, "HTTP 503 from the GSP for mine")
    _fail(OTHER, "HTTP 503 from the GSP for other")


@pytest.fixture(scope="module")
def people_file(tmp_path_factory) -> Path:
    """The people's store built once per module (password hashes are slow), copied per test."""
    path = tmp_path_factory.mktemp("people") / "ims.duckdb"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("IMS_DB_PATH", str(path))
        env.delenv("IMS_DB_URL", raising=False)
        _populate()
        let_go_of_idle_files()
    return path


@pytest.fixture
def people(db_file, smtp_server, people_file):
    if db_file.endswith(".duckdb"):
        for suffix in ("", ".wal"):
            if Path(f"{people_file}{suffix}").exists():
                shutil.copy(f"{people_file}{suffix}", f"{db_file}{suffix}")
    else:                                           # IMS_TEST_ENGINE=postgres
        _populate()
    with connect() as con:
        save_smtp_settings(con, smtp_server.settings)
    return db_file


def _by_recipient(server) -> dict:
    return {m.envelope_to[0]: m.get_body(("html",)).get_content() for m in server.messages}


def test_each_reader_gets_only_the_gstins_they_may_see_once_a_day(people, smtp_server):
    assert send_digests() == {"sent": 2}
    bodies = _by_recipient(smtp_server)
    assert MINE in bodies["ana@firm.test"] and "Mine Traders" in bodies["ana@firm.test"]
    assert OTHER not in bodies["ana@firm.test"] and "Other Mills" not in bodies["ana@firm.test"]
    assert "for other" not in bodies["ana@firm.test"]
    assert "Fetch (IMS and GSTR-2A) failed on " in bodies["ana@firm.test"]
    assert "HTTP 503 from the GSP for mine" in bodies["ana@firm.test"]
    assert MINE in bodies["boss@firm.test"] and OTHER in bodies["boss@firm.test"]
    assert str(smtp_server.messages[0]["Subject"]).startswith("IMS Reco Sync: daily digest for ")
    assert send_digests() == {"already sent": 2}            # a second worker, the same day
    assert len(smtp_server.messages) == 2


def test_the_digest_command_prints_one_users_digest_and_sends_again(people, smtp_server,
                                                                     capsys):
    assert command_line(["digest", "--email", "Ana@Firm.test"]) == 0
    out = capsys.readouterr().out
    assert f"Mine Traders · {MINE}" in out and OTHER not in out
    assert "  - Fetch (IMS and GSTR-2A) failed on " in out and "<" not in out
    assert smtp_server.messages == []
    assert command_line(["digest", "--now"]) == 0
    assert command_line(["digest", "--now"]) == 0          # --now sends again
    assert capsys.readouterr().out.splitlines()[-1] == "digest: 2 sent"
    assert len(smtp_server.messages) == 4
    assert command_line(["digest", "--email", "nobody@firm.test"]) == 2


def test_a_user_who_opts_out_gets_no_digest(people, smtp_server):
    ana = auth.find_user("ana@firm.test")
    with pytest.raises(auth.PermissionDenied):
        auth.set_digest_opt_in("boss@firm.test", False, ana)   # not hers to change
    auth.set_digest_opt_in("ana@firm.test", False, ana)
    assert not auth.digest_opt_in(ana)
    send_digests()
    assert list(_by_recipient(smtp_server)) == ["boss@firm.test"]


def test_the_worker_sends_the_digest_at_its_time_once(people, smtp_server):
    save_digest_settings("09:30", 7, "cli")
    with connect() as con:                      # no fetch due: only the digest runs
        con.execute("UPDATE businesses SET enabled = false")
    clock = ManualClock(dt.datetime(2026, 12, 7, 9, 0, tzinfo=business_tz()))
    worker = Worker(clock, mail=True)
    assert [r.job for r in worker.tick()] == []
    clock.advance(minutes=31)
    [ran] = worker.tick()
    assert (ran.job, ran.ok, ran.counts) == ("digest", True, {"sent": 2})
    clock.advance(minutes=1)
    assert worker.tick() == []
    assert len(smtp_server.messages) == 2


def test_a_failed_job_mails_the_admins_once(people, smtp_server):
    auth.create_user("second@firm.test", PASSWORD, "admin", [], actor="cli")
    assert mail_job_failures() == 0          # the first call notes where to start
    _fail(OTHER, "the GSP answered 401: session expired")
    assert mail_job_failures() == 1
    assert mail_job_failures() == 0
    [msg] = smtp_server.messages
    assert sorted(msg.envelope_to) == ["boss@firm.test", "second@firm.test"]
    assert str(msg["Subject"]) == f"IMS Reco Sync: Fetch (IMS and GSTR-2A) of {OTHER} failed"
    assert "the GSP answered 401: session expired" in msg.get_body(("html",)).get_content()


def account_app():
    from app.auth_ui import account_box, require_login
    account_box(require_login())


def test_a_user_turns_their_digest_off_in_the_sidebar_and_an_admin_on_users(people):
    ana, boss = auth.find_user("ana@firm.test"), auth.find_user("boss@firm.test")
    at = AppTest.from_function(account_app, default_timeout=60)
    at.session_state["auth_user_id"] = ana.user_id
    at.run()
    assert at.sidebar.toggle(key="own_digest").value is True
    at.sidebar.toggle(key="own_digest").set_value(False).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not auth.digest_opt_in(ana)
    admin = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=90)
    admin.session_state["auth_user_id"] = boss.user_id
    admin.run()
    admin.switch_page("pages/users.py").run()
    assert {r["Email"]: r["Daily digest"] for r in admin.table[0].value.to_dict("records")} \
        == {"ana@firm.test": "off", "boss@firm.test": "on"}
    admin.selectbox(key="edit_user").set_value("ana@firm.test").run()
    [digest] = [t for t in admin.toggle if t.label == "Daily digest by mail"]
    digest.set_value(True)
    [save] = [b for b in admin.button if b.label == "Save changes"]
    save.click().run()
    assert not admin.exception, [e.value for e in admin.exception]
    assert auth.digest_opt_in(ana)
    assert auth.audit_entries(5)[0]["event"] == "digest_on"


def _case(gstin: str, due_on: dt.date) -> int:
    items = pl.DataFrame([{"rtin": gstin, "stin": "24AAACS5555S1Z2", "kind": "missing_on_portal",
                           "ret_period": "102025", "record_id": None, "doc_type": "INV",
                           "doc_no": "A-1", "doc_no_key": "A-1", "fy": "2025-26",
                           "doc_date": None, "itc": 125000.0, "to_fix": "Report it",
                           "deadline": None, "deadline_words": "", "item_key": "k1"}])
    return suppliers.open_case(gstin, "24AAACS5555S1Z2", items, "boss@firm.test", due_on=due_on)


def test_the_digest_lists_supplier_cases_past_due_or_answered(people):
    today = dt.date(2026, 12, 6)
    _case(OTHER, dt.date(2026, 12, 1))                      # past due, but not Ana's
    late = _case(MINE, dt.date(2026, 12, 1))
    assert "Supplier follow-up" not in str(digest_for(auth.find_user("ana@firm.test"), 7,
                                                      dt.date(2026, 11, 30)).businesses)
    suppliers.move_case(late, "sent", "boss@firm.test")
    suppliers.move_case(late, "replied", "boss@firm.test")
    [mine] = digest_for(auth.find_user("ana@firm.test"), 7, today).businesses
    follow_up = dict(mine["items"])["Supplier follow-up"]
    assert follow_up == ["1 case(s) past their due date, ITC ₹1,25,000.00 still open",
                         ("1 case(s) answered by the supplier, waiting for someone to check "
                          "the records")]
