"""What a page run needs about its session, and the idle timeout (`session_timeout_min`)."""
from __future__ import annotations

from core.audit import record_audit
from core.db import connect, get_setting, put_setting, transaction
from core.roles import AuthError, User, require

DEFAULT_SESSION_TIMEOUT_MIN = 30


def session_snapshot(user_id: int | None) -> dict:
    """What a page run needs about its session, in ONE connection: the stored user (or None),
    the GSTINs they may see (all businesses for an admin, or when `user_id` is None: the
    set-up mode's built-in admin), the idle timeout in minutes, and how many users exist."""
    with connect() as con:
        row = None if user_id is None else con.execute(
            "SELECT user_id, email, role, disabled FROM users WHERE user_id = ?",
            [int(user_id)]).fetchone()
        user = User(*row) if row else None
        if user is not None and (user.disabled or not user.is_admin):
            sql = ("SELECT g.gstin FROM user_gstins g JOIN businesses b USING (gstin) "
                   "WHERE g.user_id = ? AND NOT ? ORDER BY 1")
            params = [user.user_id, user.disabled]
        else:
            sql, params = "SELECT gstin FROM businesses ORDER BY 1", []
        gstins = [r[0] for r in con.execute(sql, params).fetchall()]
        timeout = get_setting(con, "session_timeout_min", str(DEFAULT_SESSION_TIMEOUT_MIN))
        users = con.execute("SELECT count(*) FROM users").fetchone()[0]
    valid = str(timeout).isdigit() and int(timeout) > 0
    minutes = int(timeout) if valid else DEFAULT_SESSION_TIMEOUT_MIN
    return {"user": user, "gstins": gstins, "timeout_min": minutes, "users": users}


def session_timeout_minutes() -> int:
    """Idle minutes before a session ends (setting `session_timeout_min`, default 30)."""
    with connect() as con:
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
