"""Logging in: check an email and password, count failures, lock an account for a while.

After MAX_FAILED_LOGINS wrong passwords in a row (`IMS_MAX_FAILED_LOGINS`, default 5) the
account is locked for LOCKOUT_MINUTES (`IMS_LOCKOUT_MINUTES`, default 5). Every attempt is
audited, with the reason of a failure and never the password.
"""
from __future__ import annotations

import datetime as dt
import os

from core.audit import record_audit
from core.clock import utc_now
from core.db import connect, transaction
from core.passwords import burn_time, rehashed, verify_password
from core.roles import AuthError, User, normalise_email
from core.users import find_user

MAX_FAILED_LOGINS = int(os.environ.get("IMS_MAX_FAILED_LOGINS", "5"))
LOCKOUT_MINUTES = float(os.environ.get("IMS_LOCKOUT_MINUTES", "5"))


def authenticate(email: str, password: str, now: dt.datetime | None = None) -> User | None:
    """The user when email and password are right and the account is usable, else None.

    Audits 'login' or 'login_failed' (with the reason, never the password). After
    MAX_FAILED_LOGINS failures in a row the account is locked for LOCKOUT_MINUTES.
    """
    now = now or utc_now()
    try:
        email = normalise_email(email)
    except AuthError:
        record_audit(str(email or "")[:80], "login_failed", "not an email address")
        return None
    with connect() as con:
        row = con.execute("SELECT user_id, email, role, disabled, password_hash, failed_logins, "
                          "locked_until FROM users WHERE email = ?", [email]).fetchone()
    if row is None:
        burn_time(password or "")
        record_audit(email, "login_failed", "unknown email")
        return None
    user, stored, failures, locked_until = User(*row[:4]), row[4], row[5], row[6]
    if locked_until is not None and locked_until > now:
        burn_time(password or "")
        record_audit(email, "login_failed", f"locked until {locked_until:%Y-%m-%d %H:%M:%S} UTC")
        return None
    if not verify_password(stored, password or ""):
        _note_failure(user, failures, now)
        return None
    if user.disabled:
        record_audit(email, "login_failed", "user disabled")
        return None
    _note_success(user, stored, password, now)
    return user


def _note_failure(user: User, failures: int, now: dt.datetime) -> None:
    failures = failures + 1
    lock = now + dt.timedelta(minutes=LOCKOUT_MINUTES) if failures >= MAX_FAILED_LOGINS else None
    with connect() as con, transaction(con):
        con.execute("UPDATE users SET failed_logins = ?, locked_until = ? WHERE user_id = ?",
                    [0 if lock else failures, lock, user.user_id])
        record_audit(user.email, "login_failed", f"wrong password (failure {failures})", con)
        if lock:
            record_audit(user.email, "lockout", f"{failures} failed logins; locked for "
                                                f"{LOCKOUT_MINUTES:g} min", con)


def _note_success(user: User, stored: str, password: str, now: dt.datetime) -> None:
    new_hash = rehashed(stored, password)
    with connect() as con, transaction(con):
        con.execute("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ?, "
                    "password_hash = ? WHERE user_id = ?", [now, new_hash, user.user_id])
        record_audit(user.email, "login", user.role, con)


def locked_minutes_left(email: str, now: dt.datetime | None = None) -> float:
    """Minutes until a locked account may try again (0 when not locked or unknown)."""
    user = find_user(email)
    if user is None:
        return 0.0
    with connect() as con:
        until = con.execute("SELECT locked_until FROM users WHERE user_id = ?",
                            [user.user_id]).fetchone()[0]
    left = (until - (now or utc_now())).total_seconds() / 60 if until else 0.0
    return max(left, 0.0)
