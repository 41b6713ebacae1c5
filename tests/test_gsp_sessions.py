"""GSP sessions per GSTIN, end to end over HTTP with the real sandbox (docs/portal-api.md,
"Session"): two GSTINs connected with OTPs read from the sandbox's control call, the worker
refreshing their short-lived tokens across expiry, one GSTIN's API access ending (skipped and
shown, its uploads left queued) while the other keeps fetching and uploading; and no token or
OTP in the store's bytes (file and WAL), the logs, the worker's output, pages or downloads."""
from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from streamlit.testing.v1 import AppTest

from core.clock import business_tz, utc_now
from core.export import to_csv_bytes
from core.ims.actions import save_user_actions
from core.ims.fetch import fetch_businesses
from core.ims.upload import upload_actions
from core.ims.view import ImsFilter, export_frame
from core.jobs.runs import FETCH, POLL
from core.portal import sessions as gsp_sessions
from core.portal import status as gsp_status
from core.portal.gsp import SessionRefused
from core.schedule.scheduler import Worker
from core.store.database import connect
from sandbox.demo import DEMO_PORTAL_USERS
from tests.fixtures import ROOT, add_business, start_sandbox, stop_sandbox

A, B = "27AAACW1234K1ZD", "29AAACW1234K1Z9"
# seconds: the sandbox's token lifetime here. The test's stretches without a tick (fetches,
# uploads, `worker.py status`) must stay shorter: at load average 20, 6 and 8 s let A's token
# expire unrefreshed (one run each); the refreshes are waited for, not a fixed time.
TTL = 6
IMS = "/taxpayerapi/v1.0/returns/ims"


@pytest.fixture
def short_tokens(monkeypatch):
    """The sandbox serving A and B with tokens that live TTL seconds."""
    sb = start_sandbox(extra=["--token-ttl", str(TTL), "--gstin", A, "--gstin", B])
    monkeypatch.setenv("GSTN_API_URL", sb.url)
    yield sb
    stop_sandbox(sb)


def sent_otp(sb, gstin: str) -> str:
    """The sandbox's 'SMS': the OTP it sent, readable only through its control call."""
    r = requests.get(f"{sb.url}/_control/otp", params={"gstin": gstin}, timeout=10)
    r.raise_for_status()
    return r.json()["otp"]


def connect_gstin(sb, gstin: str, days: float = 30) -> str:
    gsp_sessions.request_otp(gstin, DEMO_PORTAL_USERS[gstin],
                             utc_now() + dt.timedelta(days=days), "admin@example.com")
    otp = sent_otp(sb, gstin)
    said = gsp_sessions.connect_with_otp(gstin, otp, "admin@example.com")
    assert said.startswith(f"Connected {gstin}: the token is valid until")
    return otp


def token_of(gstin: str) -> str:
    return gsp_sessions.held_token(gstin).token


def runs(job: str, gstin: str) -> list[tuple]:
    with connect() as con:
        return con.execute("SELECT ok, error FROM job_runs WHERE job = ? AND gstin = ? "
                           "ORDER BY run_id", [job, gstin]).fetchall()


def add_due_business(gstin: str, name: str) -> None:
    """Enabled, sync off, its daily fetch time a minute ago (so the next tick fetches it)."""
    now = dt.datetime.now(business_tz()) - dt.timedelta(minutes=1)
    add_business(gstin, name, fetch_time=f"{now:%H:%M}", sync_source="off",
                 created_at=utc_now() - dt.timedelta(days=2))


def pick_invoice(gstin: str) -> int:
    with connect() as con:
        return con.execute("SELECT min(record_id) FROM ims_records WHERE rtin = ? AND "
                           "section = 'b2b' AND portal_action = 'N' AND removed_at IS NULL",
                           [gstin]).fetchall()[0][0]


def upload_state(record_id: int) -> str:
    with connect() as con:
        return con.execute("SELECT upload_state FROM ims_records WHERE record_id = ?",
                           [record_id]).fetchall()[0][0]


def store_bytes(path: str) -> bytes:
    """The store's bytes as written now: the WAL first (before a checkpoint), then the file."""
    wal = Path(path + ".wal")
    before = wal.read_bytes() if wal.exists() else b""
    with connect() as con:
        con.execute("CHECKPOINT")
    return before + Path(path).read_bytes()


def tick_until_refreshed(worker: Worker, first: dict[str, str], times: int,
                         seen: set[str]) -> None:
    """The worker's ticks until every GSTIN's token has been refreshed `times` times and its
    first token has expired (a refresh falls due at half a lifetime: 3 refreshes take about
    1.5 lifetimes); every token held on the way is added to `seen`."""
    deadline = time.monotonic() + (times + 3) * TTL
    expires = time.monotonic() + TTL
    while (time.monotonic() < expires
           or any(len(runs(gsp_sessions.REFRESH_JOB, g)) < times for g in first)):
        assert time.monotonic() < deadline, {g: runs(gsp_sessions.REFRESH_JOB, g) for g in first}
        worker.tick()
        seen.update(token_of(g) for g in first)
        time.sleep(0.2)


def test_two_gstins_refresh_across_expiry_and_one_losing_access_is_skipped(
        db_file, short_tokens, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    sb = short_tokens
    add_due_business(A, "Western Agro MH")
    add_due_business(B, "Western Agro KA")
    otps = [connect_gstin(sb, A), connect_gstin(sb, B)]
    first = {A: token_of(A), B: token_of(B)}
    tokens = set(first.values())
    rows = {r["gstin"]: r for r in gsp_status.session_rows()}
    assert rows[A]["state"] == rows[B]["state"] == "connected"

    # the worker: the due fetches of both run with each GSTIN's own session
    worker = Worker()
    worker.tick()
    assert [ok for ok, _ in runs(FETCH, A)] == [True] and [ok for ok, _ in runs(FETCH, B)] == [True]

    # tokens live TTL s; the worker keeps both fresh until each was refreshed 3 times
    tick_until_refreshed(worker, first, 3, tokens)
    for g in (A, B):
        refreshes = runs(gsp_sessions.REFRESH_JOB, g)
        assert len(refreshes) >= 3 and all(ok for ok, _ in refreshes), refreshes
        tokens.add(token_of(g))
        assert token_of(g) != first[g]
    # the first tokens did expire: the portal refuses them now ...
    old = requests.get(sb.url + IMS, params={"action": "GETCNT", "gstin": A},
                       headers={"auth-token": first[A]}, timeout=10).json()
    assert old["error"]["error_cd"] == "AUTH4038"
    # ... yet both GSTINs still fetch, on refreshed tokens
    assert worker.run(FETCH, A, None, "cli").ok and worker.run(FETCH, B, None, "cli").ok

    # B's API access period ends on the portal: its next refresh is refused
    sb.control("access", gstin=B, hours=0)
    deadline = time.monotonic() + 3 * TTL
    while gsp_sessions.effective_state(gsp_sessions.load_session(B)) != "needs_otp":
        assert time.monotonic() < deadline, gsp_sessions.load_session(B)["reason"]
        worker.tick()
        time.sleep(0.4)
    tokens.add(token_of(A))
    words = {r["gstin"]: r["words"] for r in gsp_status.session_rows()}
    assert words[B].startswith("Needs an OTP: the GSP refused to refresh the session")
    assert "API access period" in words[B] and words[A].startswith("Connected; token valid")

    # B is skipped with that state; A keeps fetching
    skipped = worker.run(FETCH, B, None, "cli")
    assert not skipped.ok and skipped.error.startswith(f"Skipped {B}: Needs an OTP")
    assert worker.run(FETCH, A, None, "cli").ok

    # uploads: A's go to the portal and are polled to the end; B's wait in the queue
    rec_a, rec_b = pick_invoice(A), pick_invoice(B)
    saved = save_user_actions([A, B], {rec_a: {"action": "A"}, rec_b: {"action": "A"}}, "u@x.in")
    assert saved.saved == 2
    assert upload_actions(A, [rec_a], "u@x.in")["sent"] == 1
    with pytest.raises(gsp_sessions.NeedsOtp, match=f"Skipped {B}"):
        upload_actions(B, [rec_b], "u@x.in")
    for _ in range(20):
        worker.tick()
        if upload_state(rec_a) == "done":
            break
        time.sleep(0.5)
    assert upload_state(rec_a) == "done" and upload_state(rec_b) == "queued"
    assert runs(POLL, B) == []            # no poll of B failing every minute
    tokens.add(token_of(A))

    # warnings: B needs an OTP now; A's access (re-entered as 2 days) ends within 3 days
    gsp_sessions.request_otp(A, DEMO_PORTAL_USERS[A], utc_now() + dt.timedelta(days=2), "admin")
    otps.append(sent_otp(sb, A))          # an OTP sent but never used: not kept either
    warnings = gsp_status.session_warnings()
    assert any(w.startswith(f"{B} (Western Agro KA) needs an OTP now") for w in warnings)
    assert any(w.startswith(f"{A} (Western Agro MH): API access ends on") and "(in 1 day(s))"
               in w for w in warnings), warnings
    status = subprocess.run([sys.executable, "worker.py", "status"], cwd=ROOT, timeout=120,
                            env={**os.environ, "IMS_DB_PATH": db_file}, capture_output=True,
                            text=True, check=True).stdout
    assert "GSP sessions:" in status and "Needs attention:" in status
    assert f"! {B} (Western Agro KA) needs an OTP now" in status
    assert f"! {A} (Western Agro MH): API access ends on" in status

    # no token, no OTP anywhere: store bytes (WAL and file), logs, output, pages, downloads
    shown = page_text("dashboard.py") + page_text("settings.py")
    assert f"{B} (Western Agro KA) needs an OTP now" in shown and "API access ends on" in shown
    csv = to_csv_bytes(export_frame([A, B], ImsFilter(), None))
    sealed = gsp_sessions.load_session(A)["token_sealed"]
    raw = store_bytes(db_file)
    assert sealed.encode() in raw     # the scan reads what the store holds (sealed, it is)
    logs = caplog.text + "".join(p.read_text() for p in Path(db_file).parent.glob("*.log"))
    assert len(tokens) >= 6 and len(otps) == 3
    for secret in tokens | set(otps):
        assert secret.encode() not in raw, "a secret in the store in the clear"
        assert secret not in logs and secret not in status and secret not in shown
        assert secret.encode() not in csv


def page_text(page: str) -> str:
    """Everything a page shows (AppTest, logged in as the set-up admin)."""
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page(f"pages/{page}")
    at.run()
    assert not at.exception, at.exception
    out = []
    for kind in ("markdown", "caption", "info", "success", "warning", "error", "text", "code",
                 "title", "subheader"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [str(w.value) for w in at.text_input]
    out += [str(d.value) for d in (*at.dataframe, *at.table)]
    return "\n".join(out)


def test_wrong_otp_is_refused_in_words_and_leaves_nothing(db_file, short_tokens):
    add_business(A, "Western Agro MH")
    with pytest.raises(SessionRefused, match="is not the portal user of"):
        gsp_sessions.request_otp(A, "someone.else", utc_now() + dt.timedelta(days=1), "admin")
    gsp_sessions.request_otp(A, DEMO_PORTAL_USERS[A], utc_now() + dt.timedelta(days=1), "admin")
    right = sent_otp(short_tokens, A)
    wrong = "000000" if right != "000000" else "111111"
    with pytest.raises(SessionRefused, match="refused to accept the OTP") as refused:
        gsp_sessions.connect_with_otp(A, wrong, "admin")
    assert wrong not in str(refused.value) and right not in str(refused.value)
    row = gsp_sessions.load_session(A)
    assert row["state"] == "otp_sent" and row["token_sealed"] is None
    with pytest.raises(gsp_sessions.SettingsError, match="6-digit code"):
        gsp_sessions.connect_with_otp(A, "12 34", "admin")
    gsp_sessions.connect_with_otp(A, right, "admin")
    assert gsp_sessions.load_session(A)["state"] == "connected"


def test_an_abandoned_or_wrong_first_otp_leaves_the_shared_login_working_and_can_be_cancelled(
        db_file, short_tokens):
    """Issue 24, item 8: asking for an OTP (then walking away, or typing a wrong one) does not
    make the worker skip a GSTIN that fetched on the shared login; the request can be taken
    back; a connected GSTIN's new request, cancelled, leaves its session as it was."""
    add_business(A, "Western Agro MH")
    add_business(B, "Western Agro KA")
    gsp_sessions.request_otp(A, DEMO_PORTAL_USERS[A], utc_now() + dt.timedelta(days=1), "admin")
    right = sent_otp(short_tokens, A)
    with pytest.raises(SessionRefused):
        gsp_sessions.connect_with_otp(A, "000000" if right != "000000" else "111111", "admin")
    assert gsp_sessions.held_token(A) is None and gsp_sessions.can_call_portal(A)
    fetched = fetch_businesses([A, B])
    assert fetched[A]["ok"] and fetched[B]["ok"], fetched
    assert fetched[A]["ims"]["total"] > 0
    (row,) = [r for r in gsp_status.session_rows([A])]
    assert "shared GSP login meanwhile" in row["sentence"] and row["otp_pending"]
    assert not gsp_status.session_warnings([A])         # nothing to do: it still fetches
    said = gsp_sessions.cancel_otp(A, "admin")
    assert "calls use the shared login again" in said and gsp_sessions.load_session(A) is None
    with pytest.raises(gsp_sessions.SettingsError, match="No OTP request is pending"):
        gsp_sessions.cancel_otp(A, "admin")
    connect_gstin(short_tokens, B)
    held = token_of(B)
    gsp_sessions.request_otp(B, DEMO_PORTAL_USERS[B], utc_now() + dt.timedelta(days=1), "admin")
    assert "session is as it was: Connected" in gsp_sessions.cancel_otp(B, "admin")
    assert token_of(B) == held and gsp_sessions.load_session(B)["otp_requested_at"] is None
