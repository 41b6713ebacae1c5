"""Logged-in sessions: start, check on every page run, end; and the idle timeout.

A session is one row of `app_sessions` (migration 430); the browser holds a signed token that
names it (core/auth/session_token.py). A page run (and every run of a live fragment, such as the
Dashboard's auto-refresh) checks the row through `session_snapshot` + `session_problem`: the
session ends on logout, after `session_timeout_min` idle minutes (setting, default 30), when
the user is disabled or their password is changed or reset, and after SESSION_MAX_HOURS
(`IMS_SESSION_MAX_HOURS`, default 12) whatever happens. docs/security.md tells the whole design.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets

from core.auth.audit import record_audit
from core.auth.roles import AuthError, User, require
from core.auth.session_token import sign_session
from core.clock import utc_now
from core.store import connect, get_setting, put_setting, transaction

DEFAULT_SESSION_TIMEOUT_MIN = 30
SESSION_MAX_HOURS = float(os.environ.get("IMS_SESSION_MAX_HOURS", "12"))
TOUCH_EVERY_S = 60     # last_seen_at is written at most this often per session
_SESSION_SQL = ("SELECT user_id, last_seen_at, expires_at, ended_at, end_reason "
                "FROM app_sessions WHERE session_id = ?")


def start_session(user: User, now: dt.datetime | None = None) -> tuple[str, str]:
    """A new session for a user who just logged in: (session id, signed token)."""
    now = now or utc_now()
    session_id = secrets.token_urlsafe(16)
    expires = now + dt.timedelta(hours=SESSION_MAX_HOURS)
    with connect() as con:
        con.execute("INSERT INTO app_sessions (session_id, user_id, started_at, last_seen_at, "
                    "expires_at) VALUES (?, ?, ?, ?, ?)",
                    [session_id, user.user_id, now, now, expires])
    unix = int(expires.replace(tzinfo=dt.UTC).timestamp())
    return session_id, sign_session(session_id, unix)


def session_snapshot(user_id: int | None, session_id: str | None = None) -> dict:
    """What a page run needs about its session, in ONE connection: the stored user (or None),
    the GSTINs they may see (all businesses for an admin, or when `user_id` is None: the
    set-up mode's built-in admin), the idle timeout in minutes, how many users exist, and
    the session row (or None). With a session and no user, the session's user is read."""
    with connect(read_only=True) as con:
        session = None
        if session_id is not None:
            found = con.execute(_SESSION_SQL, [session_id]).fetchall()
            keys = ("user_id", "last_seen_at", "expires_at", "ended_at", "end_reason")
            session = dict(zip(keys, found[0])) if found else None
            if user_id is None and session is not None:
                user_id = session["user_id"]
        row = None if user_id is None else con.execute(
            "SELECT user_id, email, role, disabled FROM users WHERE user_id = ?",
            [int(user_id)]).fetchall()
        user = User(*row[0]) if row else None
        if user is not None and (user.disabled or not user.is_admin):
            sql = ("SELECT g.gstin FROM user_gstins g JOIN businesses b USING (gstin) "
                   "WHERE g.user_id = ? AND NOT ? ORDER BY 1")
            params = [user.user_id, user.disabled]
        else:
            sql, params = "SELECT gstin FROM businesses ORDER BY 1", []
        gstins = [r[0] for r in con.execute(sql, params).fetchall()]
        timeout = get_setting(con, "session_timeout_min", str(DEFAULT_SESSION_TIMEOUT_MIN))
        users = con.execute("SELECT count(*) FROM users").fetchall()[0][0]
    valid = str(timeout).isdigit() and int(timeout) > 0
    minutes = int(timeout) if valid else DEFAULT_SESSION_TIMEOUT_MIN
    return {"user": user, "gstins": gstins, "timeout_min": minutes, "users": users,
            "session": session}


def session_problem(snapshot: dict, now: dt.datetime | None = None) -> str | None:
    """Why the session of a snapshot no longer holds (None: it holds). One of: 'ended: <why>',
    'session_timeout', 'expired', 'user disabled', 'unknown'."""
    now = now or utc_now()
    session, user = snapshot["session"], snapshot["user"]
    if session is None or user is None or session["user_id"] != user.user_id:
        return "unknown"
    if session["ended_at"] is not None:
        return f"ended: {session['end_reason']}"
    if user.disabled:
        return "user disabled"
    if session["expires_at"] <= now:
        return "expired"
    if (now - session["last_seen_at"]).total_seconds() > snapshot["timeout_min"] * 60:
        return "session_timeout"
    return None


def needs_touch(snapshot: dict, now: dt.datetime | None = None) -> bool:
    """Is the session's last activity older than TOUCH_EVERY_S (so worth writing)?"""
    session = snapshot["session"]
    now = now or utc_now()
    return session is not None and (now - session["last_seen_at"]).total_seconds() >= \
        TOUCH_EVERY_S


def touch_session(session_id: str, now: dt.datetime | None = None) -> None:
    """Note activity (a page run by the person, not a fragment's auto-refresh)."""
    with connect() as con:
        con.execute("UPDATE app_sessions SET last_seen_at = ? WHERE session_id = ? AND "
                    "ended_at IS NULL", [now or utc_now(), session_id])


def end_session(session_id: str, reason: str, actor: str) -> bool:
    """End one session (logout, timeout, ...), audited under `reason`; False when it had
    ended already."""
    with connect() as con, transaction(con):
        row = con.execute("UPDATE app_sessions SET ended_at = ?, end_reason = ? WHERE "
                          "session_id = ? AND ended_at IS NULL RETURNING user_id",
                          [utc_now(), reason, session_id]).fetchall()
        if row:
            record_audit(actor, reason, "", con)
    return bool(row)


def end_user_sessions(con, user_id: int, reason: str, keep: str | None = None) -> int:
    """Inside the caller's transaction: end every open session of the user but `keep`.
    Returns how many ended."""
    rows = con.execute("UPDATE app_sessions SET ended_at = ?, end_reason = ? WHERE user_id = ? "
                       "AND ended_at IS NULL AND session_id IS DISTINCT FROM ? "
                       "RETURNING session_id", [utc_now(), reason, user_id, keep]).fetchall()
    return len(rows)


def open_sessions(user_id: int) -> int:
    """How many sessions of the user hold now (for the Users page)."""
    with connect(read_only=True) as con:
        return con.execute("SELECT count(*) FROM app_sessions WHERE user_id = ? AND ended_at "
                           "IS NULL AND expires_at > ?", [user_id, utc_now()]).fetchall()[0][0]


def session_timeout_minutes() -> int:
    """Idle minutes before a session ends (setting `session_timeout_min`, default 30)."""
    with connect(read_only=True) as con:
        value = get_setting(con, "session_timeout_min", str(DEFAULT_SESSION_TIMEOUT_MIN))
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return DEFAULT_SESSION_TIMEOUT_MIN


def save_session_timeout(minutes: int, actor: User | str) -> int:
    if isinstance(actor, User):
        require(actor, "settings")
    by = actor.email if isinstance(actor, User) else str(actor)
    if not 1 <= int(minutes) <= 24 * 60:
        raise AuthError(f"Session timeout {minutes} must be between 1 and 1440 minutes")
    with connect() as con, transaction(con):
        put_setting(con, "session_timeout_min", str(int(minutes)))
        record_audit(by, "settings", f"session_timeout_min={int(minutes)}", con)
    return int(minutes)


def session_expired(last_active: float, now: float, timeout_minutes: float) -> bool:
    """True when more than `timeout_minutes` passed between two activity timestamps (seconds)."""
    return now - last_active > timeout_minutes * 60
