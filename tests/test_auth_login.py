"""Logging in under concurrency, the lock's back-off and unlock, change-password guesses, and
the signed sessions (core.auth.login, core.auth.sessions, core.auth.session_token) on a real store file.

Before issue 12, 12 sessions pressing "Log in" together counted 1-3 failures and never locked
(read, then write); a wrong current password on "change my password" was neither counted nor
audited; sessions survived a password reset.
"""
from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core import auth
from core.auth import session_token
from core.clock import utc_now
from core.store.database import connect
from tests.fixtures import ROOT
from tests.pg import stored_bytes

pytestmark = pytest.mark.usefixtures("store_engine")

PW = "correct horse battery"
THREADS = 12


@pytest.fixture
def ana(db_file):
    auth.create_user("root@example.com", "root password 123", "admin")
    return auth.create_user("ana@example.com", PW, "analyst")


def press_log_in_together(attempts: list[tuple[str, str]]) -> tuple[list, list[str]]:
    """Every (email, password) in its own thread, released at the same instant."""
    start = threading.Barrier(len(attempts))
    results: list = [None] * len(attempts)
    errors: list[str] = []

    def attempt(i: int) -> None:
        try:
            start.wait(10)
            results[i] = auth.authenticate(*attempts[i])
        except Exception as exc:  # noqa: BLE001 - collected and asserted on: the test's point
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(attempts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results, errors


def failed_details(email: str = "ana@example.com") -> list[str]:
    return [e["detail"] for e in auth.audit_entries(1000, "login_failed") if e["actor"] == email]


def stored_lock(email: str = "ana@example.com"):
    with connect(read_only=True) as con:
        return con.execute("SELECT failed_logins, locked_until FROM users WHERE email = ?",
                           [email]).fetchall()[0]


def test_twelve_sessions_pressing_log_in_together_count_exactly_and_lock(ana):
    results, errors = press_log_in_together(
        [("ana@example.com", f"wrong guess {i}") for i in range(THREADS)])
    assert errors == [] and results == [None] * THREADS
    details = failed_details()
    counted = sorted(d for d in details if d.startswith("wrong password (failure"))
    assert counted == sorted(f"wrong password (failure {n})"
                             for n in range(1, auth.MAX_FAILED_LOGINS + 1))
    refused = [d for d in details if "refused: account locked" in d]
    assert len(counted) + len(refused) == THREADS          # every attempt audited once
    assert len(auth.audit_entries(100, "lockout")) == 1
    failures, until = stored_lock()
    assert failures == auth.MAX_FAILED_LOGINS
    assert until > utc_now() + dt.timedelta(minutes=auth.LOCKOUT_MINUTES - 1)
    # locked: the right password is refused too, and the audit says why (the person is not told)
    assert auth.authenticate("ana@example.com", PW) is None
    assert "refused: account locked" in failed_details()[0]


def test_the_right_password_among_eleven_wrong_ones_never_escapes_an_error(ana):
    attempts = [("ana@example.com", f"wrong guess {i}") for i in range(THREADS - 1)]
    attempts.insert(THREADS // 2, ("ana@example.com", PW))
    results, errors = press_log_in_together(attempts)
    assert errors == []
    assert [r for r in results if r is not None] in ([], [ana])
    audited = len(failed_details()) + len(auth.audit_entries(100, "login"))
    assert audited == THREADS
    failures, until = stored_lock()
    assert failures <= auth.MAX_FAILED_LOGINS
    assert (until is not None) == (failures == auth.MAX_FAILED_LOGINS)


def test_unknown_wrong_locked_and_disabled_take_the_same_path_to_none(ana):
    t0 = dt.datetime(2030, 1, 1, 9, 0)
    for _ in range(auth.MAX_FAILED_LOGINS):
        auth.authenticate("ana@example.com", "wrong password", now=t0)
    auth.create_user("off@example.com", PW, "auditor")
    auth.disable_user("off@example.com", "cli")
    soon = t0 + dt.timedelta(minutes=1)
    for email, password in (("ana@example.com", PW), ("nobody@example.com", PW),
                            ("off@example.com", PW), ("root@example.com", "wrong password")):
        assert auth.authenticate(email, password, now=soon) is None
    reasons = [e["detail"] for e in auth.audit_entries(4, "login_failed")]
    assert reasons[0].startswith("wrong password") and reasons[1] == "refused: user disabled"
    assert reasons[2] == "unknown email" and reasons[3].startswith("refused: account locked")


def test_each_lock_after_the_first_doubles_up_to_the_cap_and_guesses_never_extend_it(ana):
    now = dt.datetime(2030, 1, 1, 9, 0)
    for _ in range(auth.MAX_FAILED_LOGINS):
        auth.authenticate("ana@example.com", "wrong password", now=now)
    lengths = []
    for _ in range(6):
        failures, until = stored_lock()
        lengths.append((until - now).total_seconds() / 60)
        # guesses while locked are refused and not counted: the lock stays as it was
        assert auth.authenticate("ana@example.com", "another guess", now=now) is None
        assert stored_lock() == (failures, until)
        now = until + dt.timedelta(seconds=1)
        assert auth.authenticate("ana@example.com", "wrong again", now=now) is None
    base, cap = auth.LOCKOUT_MINUTES, auth.LOCKOUT_MAX_MINUTES
    assert lengths == [min(base * 2 ** k, cap) for k in range(6)]
    assert max(lengths) == cap                              # a lock never lasts longer
    _, until = stored_lock()
    later = until + dt.timedelta(seconds=1)
    assert auth.authenticate("ana@example.com", PW, now=later) == ana
    assert stored_lock() == (0, None)                       # a good login starts over


def run_cli(*args: str, db_file: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.auth", *args], cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "IMS_DB_PATH": db_file})


def test_a_locked_out_admin_is_unlocked_from_the_shell_and_on_the_users_page(ana, db_file):
    for _ in range(auth.MAX_FAILED_LOGINS):
        auth.authenticate("root@example.com", "an attacker's guess")
    assert auth.authenticate("root@example.com", "root password 123") is None
    done = run_cli("unlock", "--email", "Root@Example.com", db_file=db_file)
    assert done.returncode == 0, done.stderr
    assert "Unlocked root@example.com" in done.stdout and "locked for" in done.stdout
    assert auth.authenticate("root@example.com", "root password 123") is not None
    assert auth.audit_entries(10, "unlock")[0]["detail"] == "root@example.com"
    unknown = run_cli("unlock", "--email", "ghost@example.com", db_file=db_file)
    assert unknown.returncode == 2 and "No user" in unknown.stderr


def test_wrong_current_passwords_on_change_password_count_lock_and_are_audited(ana):
    for _ in range(auth.MAX_FAILED_LOGINS):
        with pytest.raises(auth.AuthError, match="current password is not correct"):
            auth.change_own_password(ana, "a guess at it", "a brand new password")
    assert stored_lock()[0] == auth.MAX_FAILED_LOGINS
    assert len([d for d in failed_details() if "wrong current password" in d]) == \
        auth.MAX_FAILED_LOGINS
    assert auth.audit_entries(10, "lockout")
    # locked: neither the right current password nor a login gets through
    with pytest.raises(auth.AuthError, match="locked"):
        auth.change_own_password(ana, PW, "a brand new password")
    assert auth.audit_entries(10, "password_change_failed")
    assert auth.authenticate("ana@example.com", PW) is None


def test_sessions_end_on_password_change_reset_and_disable(ana):
    admin = auth.find_user("root@example.com")

    def holds(session_id, user):
        return auth.session_problem(auth.session_snapshot(user.user_id, session_id)) is None

    mine, other = auth.start_session(ana)[0], auth.start_session(ana)[0]
    auth.change_own_password(ana, PW, "second password!", keep_session=mine)
    assert holds(mine, ana) and not holds(other, ana)
    auth.reset_password("ana@example.com", "third password!", admin)
    assert not holds(mine, ana)
    fresh = auth.start_session(ana)[0]
    auth.disable_user("ana@example.com", admin)
    assert auth.session_problem(auth.session_snapshot(ana.user_id, fresh)) == \
        "ended: user disabled"


def test_an_admin_resetting_their_own_password_keeps_the_session_they_asked_from(ana):
    admin = auth.find_user("root@example.com")
    here, elsewhere = auth.start_session(admin)[0], auth.start_session(admin)[0]
    auth.reset_password("root@example.com", "my new admin password", admin, keep_session=here)
    snap = auth.session_snapshot(admin.user_id, here)
    assert auth.session_problem(snap) is None
    assert auth.session_problem(auth.session_snapshot(admin.user_id, elsewhere)) == \
        "ended: password reset"
    assert auth.authenticate("root@example.com", "my new admin password") == admin


def test_idle_and_absolute_session_limits(ana):
    session_id, _ = auth.start_session(ana)
    snap = auth.session_snapshot(ana.user_id, session_id)
    now = utc_now()
    assert auth.session_problem(snap, now + dt.timedelta(minutes=29)) is None
    assert auth.session_problem(snap, now + dt.timedelta(minutes=31)) == "session_timeout"
    assert auth.session_problem(snap, now + dt.timedelta(hours=auth.SESSION_MAX_HOURS)) in \
        ("expired", "session_timeout")
    assert auth.end_session(session_id, "logout", ana.email)
    assert not auth.end_session(session_id, "logout", ana.email)
    assert auth.session_problem(auth.session_snapshot(ana.user_id, session_id)) == \
        "ended: logout"


def test_tokens_are_signed_expire_and_the_generated_key_is_private(ana, db_file, monkeypatch):
    monkeypatch.delenv("IMS_SESSION_KEY", raising=False)
    session_id, token = auth.start_session(ana)
    assert session_token.verified_session_id(token) == session_id
    body, signature = token.rsplit(".", 1)
    forged = body.replace(session_id, "x" * len(session_id))
    for bad in (f"{forged}.{signature}", token[:-2] + "AA", "v1.a.b.c", "", None, "x" * 400):
        assert session_token.verified_session_id(bad) is None
    expiry = int(token.split(".")[2])
    assert session_token.verified_session_id(token, now_unix=expiry + 1) is None
    key = session_token.key_file()
    assert key.parent == Path(os.environ["IMS_DB_PATH"]).parent
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with connect() as con:
        con.execute("CHECKPOINT")
    assert key.read_text().strip().encode() not in stored_bytes(db_file)
    monkeypatch.setenv("IMS_SESSION_KEY", "another key, long enough to be accepted")
    assert session_token.verified_session_id(token) is None   # a new key ends every session
    monkeypatch.setenv("IMS_SESSION_KEY", "too short")
    with pytest.raises(session_token.SessionKeyError, match="at least 32"):
        session_token.session_key()


@pytest.mark.parametrize("failures", [1027, 1028, 5000, 2_000_000_000])
def test_the_lock_still_holds_after_a_thousand_and_more_failures(ana, failures):
    """Issue 29.5: `5 * 2 ** (failures - 5)` overflowed at 1,028 failures inside the counting
    transaction, which rolled back: no lock, no audit row, unlimited guesses after."""
    now = dt.datetime(2030, 1, 1, 9, 0)
    with connect() as con:
        con.execute("UPDATE users SET failed_logins = ?, locked_until = ? WHERE email = ?",
                    [failures, now - dt.timedelta(minutes=1), "ana@example.com"])
    assert auth.authenticate("ana@example.com", "guess", now=now) is None
    counted, until = stored_lock()
    assert counted == failures + 1
    assert until == now + dt.timedelta(minutes=auth.LOCKOUT_MAX_MINUTES)
    assert len(auth.audit_entries(100, "lockout")) == 1
    assert auth.authenticate("ana@example.com", PW, now=now) is None      # locked: refused
    assert auth.lock_minutes(failures + 1) == auth.LOCKOUT_MAX_MINUTES
