"""Logging in: check an email and password, count failures, lock an account for a while.

The rule (docs/security.md):
- After MAX_FAILED_LOGINS wrong passwords in a row (`IMS_MAX_FAILED_LOGINS`, default 5) the
  account is locked for LOCKOUT_MINUTES (`IMS_LOCKOUT_MINUTES`, default 5). While it is locked
  every attempt is refused (the right password too) and not counted, so guesses cannot make a
  lock longer. Each wrong password after a lock ran out locks again for twice as long, up to
  LOCKOUT_MAX_MINUTES (`IMS_LOCKOUT_MAX_MINUTES`, default 60); a good login starts over.
- An admin ends a lock at once: "Unlock" on the Users page or
  `python -m core.auth unlock --email E` (which needs nobody to be logged in).
- Whether the email is unknown, the password wrong, the account locked or disabled, the person
  sees the same words (LOGIN_REFUSED) after the same work (one argon2 check).
- Counting, locking and success are each ONE conditional `UPDATE ... RETURNING` inside a
  transaction, never a read then a write: any number of sessions pressing "Log in" together
  count every failure once and lock after exactly MAX_FAILED_LOGINS.
- Every attempt goes to the audit log with its reason (never the password).
A wrong current password on "Change my password" counts like a wrong login.
"""
from __future__ import annotations

import datetime as dt
import os

from core.auth.audit import record_audit
from core.auth.passwords import (
    burn_time,
    hash_password,
    password_problem,
    rehashed,
    verify_password,
)
from core.auth.roles import AuthError, User, actor_name, normalise_email
from core.auth.sessions import end_user_sessions
from core.clock import utc_now
from core.store import connect, transaction

MAX_FAILED_LOGINS = int(os.environ.get("IMS_MAX_FAILED_LOGINS", "5"))
LOCKOUT_MINUTES = float(os.environ.get("IMS_LOCKOUT_MINUTES", "5"))
LOCKOUT_MAX_MINUTES = float(os.environ.get("IMS_LOCKOUT_MAX_MINUTES", "60"))
# 2 ** 40 times the first lock is far past any cap; a bigger power only risks overflow.
MAX_DOUBLINGS = 40
LOGIN_REFUSED = (f"Wrong email or password, or the account is locked or disabled. After "
                 f"{MAX_FAILED_LOGINS} wrong passwords an account is locked for a while; an "
                 "admin can unlock it.")
CURRENT_PASSWORD_REFUSED = ("Not changed: the current password is not correct, or too many "
                            "wrong passwords were tried and the account is locked for a while.")

_USER_SQL = ("SELECT user_id, email, role, disabled, password_hash, locked_until "
             "FROM users WHERE email = ?")
# One wrong password, counted only while the account is not locked. The lock starts at the
# MAX_FAILED_LOGINS-th failure and doubles with each failure after it (up to the cap).
_COUNT_FAILURE_SQL = """
    UPDATE users SET failed_logins = failed_logins + 1,
        locked_until = CASE WHEN failed_logins + 1 >= $max
            THEN $now + to_seconds(60 * least($base * pow(2, least(failed_logins + 1 - $max,
                                                                     $doublings)), $cap))
            ELSE NULL END
    WHERE user_id = $user_id AND (locked_until IS NULL OR locked_until <= $now)
    RETURNING failed_logins, locked_until"""
# The right password: accepted only if, at this instant, the account is still usable and the
# hash is the one just checked (not locked or changed by a concurrent attempt).
_ACCEPT_SQL = """
    UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $now,
        password_hash = $new_hash
    WHERE user_id = $user_id AND NOT disabled AND password_hash = $checked
      AND (locked_until IS NULL OR locked_until <= $now)
    RETURNING user_id, email, role, disabled"""


def lock_minutes(failures: int) -> float:
    """How long the `failures`-th wrong password in a row locks the account (0: not yet). The
    doubling stops at MAX_DOUBLINGS, long past the cap, so it never overflows (it did at 1,028
    failures, rolling the count and the lock back: issue 29.5)."""
    if failures < MAX_FAILED_LOGINS:
        return 0.0
    doublings = min(failures - MAX_FAILED_LOGINS, MAX_DOUBLINGS)
    return min(LOCKOUT_MINUTES * 2 ** doublings, LOCKOUT_MAX_MINUTES)


def _stored_login(email: str):
    with connect(read_only=True) as con:
        return con.execute(_USER_SQL, [email]).fetchall()


def _locked(locked_until, now: dt.datetime) -> bool:
    return locked_until is not None and locked_until > now


def count_failure(user_id: int, email: str, now: dt.datetime, what: str = "wrong password"
                  ) -> bool:
    """Count one wrong password (atomically) and audit it; True when it was counted, False
    when the account was locked meanwhile (then it is audited as refused while locked)."""
    params = {"max": MAX_FAILED_LOGINS, "base": LOCKOUT_MINUTES, "cap": LOCKOUT_MAX_MINUTES,
              "doublings": MAX_DOUBLINGS, "now": now, "user_id": user_id}
    with connect() as con, transaction(con):
        row = con.execute(_COUNT_FAILURE_SQL, params).fetchall()
        if not row:
            record_audit(email, "login_failed", f"{what}; refused: account locked", con)
            return False
        failures, until = row[0]
        record_audit(email, "login_failed", f"{what} (failure {failures})", con)
        if until is not None:
            record_audit(email, "lockout", f"{failures} failed logins in a row; locked for "
                                           f"{lock_minutes(failures):g} min", con)
    return True


def authenticate(email: str, password: str, now: dt.datetime | None = None) -> User | None:
    """The user when email and password are right and the account is usable, else None
    (show LOGIN_REFUSED, whatever the reason). Every attempt is audited with its reason."""
    now = now or utc_now()
    password = password if isinstance(password, str) else ""
    try:
        email = normalise_email(email)
    except AuthError:
        burn_time(password)
        record_audit(str(email or "")[:80], "login_failed", "not an email address")
        return None
    rows = _stored_login(email)
    if not rows:
        burn_time(password)
        record_audit(email, "login_failed", "unknown email")
        return None
    user_id, _, _, disabled, stored, locked_until = rows[0]
    if _locked(locked_until, now):
        burn_time(password)
        record_audit(email, "login_failed",
                     f"refused: account locked until {locked_until:%Y-%m-%d %H:%M:%S} UTC")
        return None
    if not verify_password(stored, password):
        count_failure(user_id, email, now)
        return None
    if disabled:
        record_audit(email, "login_failed", "refused: user disabled")
        return None
    return _accept(user_id, email, stored, password, now)


def _accept(user_id: int, email: str, stored: str, password: str, now: dt.datetime
            ) -> User | None:
    params = {"now": now, "user_id": user_id, "checked": stored,
              "new_hash": rehashed(stored, password)}
    with connect() as con, transaction(con):
        row = con.execute(_ACCEPT_SQL, params).fetchall()
        if not row:
            record_audit(email, "login_failed", "right password; refused: account locked, "
                                                "disabled or changed meanwhile", con)
            return None
        user = User(*row[0])
        record_audit(email, "login", user.role, con)
    return user


def locked_minutes_left(email: str, now: dt.datetime | None = None) -> float:
    """Minutes until a locked account may try again (0 when not locked or unknown). For
    admins (the Users page and the CLI), never shown on the login form."""
    try:
        rows = _stored_login(normalise_email(email))
    except AuthError:
        return 0.0
    until = rows[0][5] if rows else None
    left = (until - (now or utc_now())).total_seconds() / 60 if until else 0.0
    return max(left, 0.0)


def unlock_user(email: str, actor: User | str) -> bool:
    """End a lock and forget the failures (an admin, or the CLI). True when it was locked or
    had failures."""
    by = actor_name(actor)
    email = normalise_email(email)
    with connect() as con, transaction(con):
        row = con.execute("UPDATE users SET failed_logins = 0, locked_until = NULL "
                          "WHERE email = ? RETURNING user_id", [email]).fetchall()
        if not row:
            raise AuthError(f"No user with email {email}")
        record_audit(by, "unlock", email, con)
    return True


def change_own_password(user: User, old_password: str, new_password: str,
                        keep_session: str | None = None, now: dt.datetime | None = None) -> None:
    """A logged-in user changes their own password. A wrong current password counts toward
    the lockout like a wrong login (and is audited); a locked account cannot change it. Every
    other session of the user ends; `keep_session` (the one asking) goes on."""
    now = now or utc_now()
    problem = password_problem(new_password, user.email)
    if problem:
        raise AuthError(f"{user.email}: {problem}")
    rows = _stored_login(user.email)
    if not rows or rows[0][0] != user.user_id:
        raise AuthError(CURRENT_PASSWORD_REFUSED)
    user_id, email, _, _, stored, locked_until = rows[0]
    if _locked(locked_until, now):
        burn_time(old_password or "")
        record_audit(email, "password_change_failed", "refused: account locked")
        raise AuthError(CURRENT_PASSWORD_REFUSED)
    if not verify_password(stored, old_password or ""):
        count_failure(user_id, email, now, "wrong current password on password change")
        raise AuthError(CURRENT_PASSWORD_REFUSED)
    with connect() as con, transaction(con):
        row = con.execute("UPDATE users SET password_hash = ?, updated_at = ?, failed_logins = 0 "
                          "WHERE user_id = ? AND password_hash = ? AND (locked_until IS NULL OR "
                          "locked_until <= ?) RETURNING user_id",
                          [hash_password(new_password), now, user_id, stored, now]).fetchall()
        if not row:
            raise AuthError(CURRENT_PASSWORD_REFUSED)
        ended = end_user_sessions(con, user_id, "password changed", keep=keep_session)
        record_audit(email, "password_changed", f"{ended} other session(s) ended", con)
