"""Users, roles, per-GSTIN grants, login with lockout, session timeout and the audit log.

Passwords are kept only as argon2id hashes (argon2-cffi). Roles:
- admin: everything, including settings and users; sees every business.
- analyst: takes and uploads actions, imports purchase registers, runs fetch/reconciliation;
  sees only the GSTINs granted to them.
- auditor: read-only, may download; sees only the GSTINs granted to them.

The user-management functions take `actor`: a `User` (checked: must hold the "users"
permission) or a plain string for trusted system callers (the CLI, the demo setup).
Every login, failed login, lockout and user/role change goes to `audit_log`.

CLI: `python -m core.auth create-admin --email E [--password P]`,
`python -m core.auth ensure-demo-admin`, `python -m core.auth reset-password --email E`,
`python -m core.auth list`.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import re
import secrets
import sys
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.db import connect, get_setting, put_setting, transaction

ROLES = {
    "admin": "Admin (settings, users, everything)",
    "analyst": "Analyst (actions, uploads, imports)",
    "auditor": "Auditor (read-only, downloads)",
}
PERMISSIONS = {
    "view": {"admin", "analyst", "auditor"},
    "download": {"admin", "analyst", "auditor"},
    "act": {"admin", "analyst"},          # save / bulk-change IMS actions
    "upload": {"admin", "analyst"},       # send actions to the portal
    "import": {"admin", "analyst"},       # purchase-register imports and rollbacks
    "reconcile": {"admin", "analyst"},    # run fetch / reconciliation / sync on demand
    "settings": {"admin"},
    "users": {"admin"},
}
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
MAX_FAILED_LOGINS = int(os.environ.get("IMS_MAX_FAILED_LOGINS", "5"))
LOCKOUT_MINUTES = float(os.environ.get("IMS_LOCKOUT_MINUTES", "5"))
DEFAULT_SESSION_TIMEOUT_MIN = 30
DEMO_ADMIN_EMAIL = "admin@demo.local"
DEMO_ADMIN_PASSWORD = os.environ.get("IMS_DEMO_ADMIN_PASSWORD", "demo-admin-2025")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_hasher = PasswordHasher()
_dummy_hash: list[str] = []


class AuthError(ValueError):
    """A user change that cannot be made; the message says which user and why."""


class PermissionDenied(PermissionError):
    """The user's role does not allow this."""


@dataclass(frozen=True)
class User:
    user_id: int
    email: str
    role: str
    disabled: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def normalise_email(email: str) -> str:
    """'  Ana@Example.COM ' -> 'ana@example.com'; raises AuthError when it is not an email."""
    text = (email or "").strip().lower()
    if not EMAIL_RE.match(text) or len(text) > 254:
        raise AuthError(f"'{(email or '').strip()[:80]}' is not an email address")
    return text


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password is not acceptable, or None."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must have at most {MAX_PASSWORD_LENGTH} characters"
    if email and password.strip().lower() == email.strip().lower():
        return "Password must not be the email address"
    return None


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AuthError(f"Role '{role}' is not one of {', '.join(ROLES)}")
    return role


def _actor_name(actor: User | str) -> str:
    """Check a User actor may manage users; return the name for the audit log."""
    if isinstance(actor, User):
        require(actor, "users")
        return actor.email
    return str(actor)


# ---------------------------------------------------------------- permissions


def can(user: User | None, permission: str) -> bool:
    """May this (enabled) user do `permission`? Unknown permissions are refused."""
    if user is None or user.disabled:
        return False
    return user.role in PERMISSIONS.get(permission, set())


def require(user: User | None, permission: str) -> None:
    """Raise PermissionDenied unless `can(user, permission)`."""
    if not can(user, permission):
        who = user.email if user else "Nobody logged in"
        role = f" ({user.role})" if user else ""
        raise PermissionDenied(f"{who}{role} may not {permission}: ask an admin")


def user_gstins(user: User | None) -> list[str]:
    """The GSTINs this user may see: admins all businesses, others their grants (sorted)."""
    if user is None or user.disabled:
        return []
    with connect() as con:
        if user.is_admin:
            rows = con.execute("SELECT gstin FROM businesses ORDER BY gstin").fetchall()
        else:
            rows = con.execute("SELECT g.gstin FROM user_gstins g JOIN businesses b USING (gstin) "
                               "WHERE g.user_id = ? ORDER BY g.gstin", [user.user_id]).fetchall()
    return [r[0] for r in rows]


# ---------------------------------------------------------------- audit


def record_audit(actor: User | str, event: str, detail: str = "", con=None) -> None:
    """Append one audit row (inside the caller's transaction when `con` is given)."""
    name = actor.email if isinstance(actor, User) else str(actor)
    sql = "INSERT INTO audit_log (logged_at, actor, event, detail) VALUES (?, ?, ?, ?)"
    if con is not None:
        con.execute(sql, [utc_now(), name, event, detail])
        return
    with connect() as own:
        own.execute(sql, [utc_now(), name, event, detail])


def audit_entries(limit: int = 200, event: str | None = None) -> list[dict]:
    """The latest audit rows, newest first."""
    where, params = ("WHERE event = ?", [event]) if event else ("", [])
    with connect() as con:
        cur = con.execute(f"SELECT audit_id, logged_at, actor, event, detail FROM audit_log {where} "
                          f"ORDER BY audit_id DESC LIMIT ?", params + [int(limit)])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


# ---------------------------------------------------------------- users


def _user_row(con, email: str):
    return con.execute("SELECT user_id, email, role, disabled FROM users WHERE email = ?",
                       [email]).fetchone()


def _existing(con, email: str) -> User:
    row = _user_row(con, normalise_email(email))
    if row is None:
        raise AuthError(f"No user with email {normalise_email(email)}")
    return User(*row)


def find_user(email: str) -> User | None:
    try:
        email = normalise_email(email)
    except AuthError:
        return None
    with connect() as con:
        row = _user_row(con, email)
    return User(*row) if row else None


def get_user(user_id: int) -> User | None:
    """The user as stored now (for re-checking a session on every page run)."""
    with connect() as con:
        row = con.execute("SELECT user_id, email, role, disabled FROM users WHERE user_id = ?",
                          [int(user_id)]).fetchone()
    return User(*row) if row else None


def _check_gstins(con, gstins) -> list[str]:
    wanted = sorted({str(g).strip().upper() for g in gstins or [] if str(g).strip()})
    known = {r[0] for r in con.execute("SELECT gstin FROM businesses").fetchall()}
    unknown = [g for g in wanted if g not in known]
    if unknown:
        raise AuthError(f"Unknown business GSTIN(s): {', '.join(unknown)} (add them in Settings first)")
    return wanted


def _write_grants(con, user_id: int, gstins: list[str], by: str) -> None:
    con.execute("DELETE FROM user_gstins WHERE user_id = ?", [user_id])
    if gstins:
        con.executemany("INSERT INTO user_gstins VALUES (?, ?, ?, ?)",
                        [(user_id, g, by, utc_now()) for g in gstins])


def create_user(email: str, password: str, role: str, gstins: list[str] | None = None,
                actor: User | str = "cli") -> User:
    """Add a user with an argon2 hash of `password`; raises AuthError on any problem."""
    by = _actor_name(actor)
    email, role = normalise_email(email), _check_role(role)
    problem = password_problem(password, email)
    if problem:
        raise AuthError(f"{email}: {problem}")
    hashed = _hasher.hash(password)
    now = utc_now()
    with connect() as con, transaction(con):
        if _user_row(con, email):
            raise AuthError(f"A user with email {email} already exists")
        if role != "admin" and not con.execute("SELECT count(*) FROM users").fetchone()[0]:
            raise AuthError(f"The first user must be an admin (not {role}): nobody could manage users")
        grants = _check_gstins(con, gstins)
        user_id = con.execute(
            "INSERT INTO users (email, password_hash, role, created_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING user_id", [email, hashed, role, by, now, now]).fetchone()[0]
        _write_grants(con, user_id, grants, by)
        record_audit(by, "user_created", f"{email} role={role} gstins={','.join(grants) or '-'}", con)
    return User(user_id, email, role, False)


def user_count() -> int:
    """How many users exist (0 = a fresh install: the app runs in set-up mode)."""
    with connect() as con:
        return con.execute("SELECT count(*) FROM users").fetchone()[0]


def list_users() -> list[dict]:
    """Every user with role, state, grants and last login (no hashes)."""
    with connect() as con:
        cur = con.execute("""
            SELECT u.user_id, u.email, u.role, u.disabled, u.failed_logins, u.locked_until,
                   u.last_login_at, u.created_at, u.created_by,
                   coalesce(string_agg(g.gstin, ', ' ORDER BY g.gstin), '') AS gstins
            FROM users u LEFT JOIN user_gstins g USING (user_id)
            GROUP BY ALL ORDER BY u.email""")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def _active_admins(con) -> int:
    return con.execute("SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled").fetchone()[0]


def _keep_an_admin(con, user: User) -> None:
    if user.role == "admin" and not user.disabled and _active_admins(con) <= 1:
        raise AuthError(f"{user.email} is the only active admin; make another admin first")


def set_role(email: str, role: str, actor: User | str) -> User:
    by, role = _actor_name(actor), _check_role(role)
    with connect() as con, transaction(con):
        user = _existing(con, email)
        if user.role == role:
            return user
        if role != "admin":
            _keep_an_admin(con, user)
        con.execute("UPDATE users SET role = ?, updated_at = ? WHERE user_id = ?",
                    [role, utc_now(), user.user_id])
        record_audit(by, "role_changed", f"{user.email}: {user.role} -> {role}", con)
    return User(user.user_id, user.email, role, user.disabled)


def grant_gstins(email: str, gstins: list[str], actor: User | str) -> list[str]:
    """Set the user's granted GSTINs to exactly `gstins` (empty = none). Returns them sorted."""
    by = _actor_name(actor)
    with connect() as con, transaction(con):
        user = _existing(con, email)
        grants = _check_gstins(con, gstins)
        old = [r[0] for r in con.execute("SELECT gstin FROM user_gstins WHERE user_id = ? ORDER BY gstin",
                                         [user.user_id]).fetchall()]
        if old != grants:
            _write_grants(con, user.user_id, grants, by)
            record_audit(by, "gstins_granted", f"{user.email}: {','.join(old) or '-'} -> "
                                               f"{','.join(grants) or '-'}", con)
    return grants


def disable_user(email: str, actor: User | str, disabled: bool = True) -> User:
    """Disable (or, with disabled=False, enable again) a user; a disabled user cannot log in."""
    by = _actor_name(actor)
    with connect() as con, transaction(con):
        user = _existing(con, email)
        if user.disabled == disabled:
            return user
        if disabled:
            _keep_an_admin(con, user)
        con.execute("UPDATE users SET disabled = ?, failed_logins = 0, locked_until = NULL, "
                    "updated_at = ? WHERE user_id = ?", [disabled, utc_now(), user.user_id])
        record_audit(by, "user_disabled" if disabled else "user_enabled", user.email, con)
    return User(user.user_id, user.email, user.role, disabled)


def change_password(email: str, new_password: str, actor: User | str,
                    old_password: str | None = None) -> None:
    """A user changing their own password gives `old_password`; an admin (or the CLI)
    resetting someone's password does not. Also clears a lockout."""
    own = isinstance(actor, User) and actor.email == normalise_email(email)
    by = actor.email if own else _actor_name(actor)
    problem = password_problem(new_password, email)
    if problem:
        raise AuthError(f"{normalise_email(email)}: {problem}")
    with connect() as con, transaction(con):
        user = _existing(con, email)
        if own:
            stored = con.execute("SELECT password_hash FROM users WHERE user_id = ?", [user.user_id]).fetchone()[0]
            if old_password is None or not _verify(stored, old_password):
                raise AuthError("The current password is not correct")
        con.execute("UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL, "
                    "updated_at = ? WHERE user_id = ?", [_hasher.hash(new_password), utc_now(), user.user_id])
        record_audit(by, "password_changed" if own else "password_reset", user.email, con)


# ---------------------------------------------------------------- login


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _burn_time(password: str) -> None:
    """Verify against a dummy hash so unknown emails take as long as wrong passwords."""
    if not _dummy_hash:
        _dummy_hash.append(_hasher.hash(secrets.token_hex(16)))
    _verify(_dummy_hash[0], password)


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
        _burn_time(password or "")
        record_audit(email, "login_failed", "unknown email")
        return None
    user, stored, failures, locked_until = User(*row[:4]), row[4], row[5], row[6]
    if locked_until is not None and locked_until > now:
        _burn_time(password or "")
        record_audit(email, "login_failed", f"locked until {locked_until:%Y-%m-%d %H:%M:%S} UTC")
        return None
    if not _verify(stored, password or ""):
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
    new_hash = _hasher.hash(password) if _hasher.check_needs_rehash(stored) else stored
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
        until = con.execute("SELECT locked_until FROM users WHERE user_id = ?", [user.user_id]).fetchone()[0]
    left = (until - (now or utc_now())).total_seconds() / 60 if until else 0.0
    return max(left, 0.0)


# ---------------------------------------------------------------- sessions


def session_snapshot(user_id: int | None) -> dict:
    """What a page run needs about its session, in ONE connection: the stored user (or None),
    the GSTINs they may see (all businesses for an admin, or when `user_id` is None: the
    set-up mode's built-in admin), the idle timeout in minutes, and how many users exist."""
    with connect() as con:
        row = None if user_id is None else con.execute(
            "SELECT user_id, email, role, disabled FROM users WHERE user_id = ?", [int(user_id)]).fetchone()
        user = User(*row) if row else None
        if user is not None and (user.disabled or not user.is_admin):
            sql, params = ("SELECT g.gstin FROM user_gstins g JOIN businesses b USING (gstin) "
                           "WHERE g.user_id = ? AND NOT ? ORDER BY 1", [user.user_id, user.disabled])
        else:
            sql, params = "SELECT gstin FROM businesses ORDER BY 1", []
        gstins = [r[0] for r in con.execute(sql, params).fetchall()]
        timeout = get_setting(con, "session_timeout_min", str(DEFAULT_SESSION_TIMEOUT_MIN))
        users = con.execute("SELECT count(*) FROM users").fetchone()[0]
    minutes = int(timeout) if str(timeout).isdigit() and int(timeout) > 0 else DEFAULT_SESSION_TIMEOUT_MIN
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


# ---------------------------------------------------------------- CLI


def ensure_demo_admin(password: str | None = None) -> dict:
    """Create the demo admin once; return its login. Idempotent: when it exists, the password
    is returned only if it still is the demo password (None when someone changed it)."""
    password = password or DEMO_ADMIN_PASSWORD
    existing = find_user(DEMO_ADMIN_EMAIL)
    if existing is None:
        create_user(DEMO_ADMIN_EMAIL, password, "admin", [], actor="demo")
        return {"email": DEMO_ADMIN_EMAIL, "password": password, "created": True}
    with connect() as con:
        stored = con.execute("SELECT password_hash FROM users WHERE user_id = ?",
                             [existing.user_id]).fetchone()[0]
    return {"email": DEMO_ADMIN_EMAIL, "password": password if _verify(stored, password) else None,
            "created": False}


def _ask_password(given: str | None) -> tuple[str, bool]:
    """(password, generated?) from the option, a prompt on a terminal, or a fresh random one."""
    if given:
        return given, False
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            raise AuthError("The two passwords differ")
        return first, False
    return secrets.token_urlsafe(12), True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m core.auth", description="Manage app users.")
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("create-admin", "reset-password"):
        p = sub.add_parser(name)
        p.add_argument("--email", required=True)
        p.add_argument("--password", help="prompted for (or generated and printed) when omitted")
    demo = sub.add_parser("ensure-demo-admin")
    demo.add_argument("--password", help="default: IMS_DEMO_ADMIN_PASSWORD or the demo password")
    sub.add_parser("list")
    args = ap.parse_args(argv)
    try:
        return _run_command(args)
    except (AuthError, PermissionDenied) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run_command(args) -> int:
    if args.command == "list":
        for u in list_users():
            state = "disabled" if u["disabled"] else "active"
            print(f"{u['email']}\t{u['role']}\t{state}\t{u['gstins'] or '-'}")
        return 0
    if args.command == "ensure-demo-admin":
        login = ensure_demo_admin(args.password)
        shown = login["password"] or "(changed since the demo was set up)"
        print(f"Demo admin: {login['email']}  password: {shown}")
        return 0
    password, generated = _ask_password(args.password)
    if args.command == "create-admin":
        create_user(args.email, password, "admin", [], actor="cli")
        print(f"Created admin {normalise_email(args.email)}")
    else:
        change_password(args.email, password, actor="cli")
        print(f"Password reset for {normalise_email(args.email)}")
    if generated:
        print(f"Password: {password}  (shown once; change it after logging in)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
