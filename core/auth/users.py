"""User administration: create users, change roles, grant GSTINs, disable, reset passwords.

The functions that change a user take `actor`: a `User` (checked: must hold the "users"
permission) or a plain string for trusted system callers (the CLI, the demo setup). Every
change goes to the audit log (core/auth/audit.py). The store always keeps one active admin.
"""
from __future__ import annotations

import os
import secrets

from core.auth.audit import record_audit
from core.auth.passwords import hash_password, password_problem, verify_password
from core.auth.roles import AuthError, User, actor_name, check_role, normalise_email
from core.auth.sessions import end_user_sessions
from core.clock import utc_now
from core.store import connect, transaction

DEMO_ADMIN_EMAIL = "admin@demo.local"


def _user_row(con, email: str):
    return con.execute("SELECT user_id, email, role, disabled FROM users WHERE email = ?",
                       [email]).fetchone()


def _existing(con, email: str) -> User:
    row = _user_row(con, normalise_email(email))
    if row is None:
        raise AuthError(f"No user with email {normalise_email(email)}")
    return User(*row)


def stored_hash(con, user_id: int) -> str:
    """The user's password hash (for checking a password; never shown)."""
    return con.execute("SELECT password_hash FROM users WHERE user_id = ?",
                       [user_id]).fetchall()[0][0]


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


def _check_gstins(con, gstins) -> list[str]:
    wanted = sorted({str(g).strip().upper() for g in gstins or [] if str(g).strip()})
    known = {r[0] for r in con.execute("SELECT gstin FROM businesses").fetchall()}
    unknown = [g for g in wanted if g not in known]
    if unknown:
        raise AuthError(f"Unknown business GSTIN(s): {', '.join(unknown)} "
                        "(add them in Settings first)")
    return wanted


def _write_grants(con, user_id: int, gstins: list[str], by: str) -> None:
    con.execute("DELETE FROM user_gstins WHERE user_id = ?", [user_id])
    if gstins:
        con.executemany("INSERT INTO user_gstins VALUES (?, ?, ?, ?)",
                        [(user_id, g, by, utc_now()) for g in gstins])


def create_user(email: str, password: str, role: str, gstins: list[str] | None = None,
                actor: User | str = "cli") -> User:
    """Add a user with an argon2 hash of `password`; raises AuthError on any problem."""
    by = actor_name(actor)
    email, role = normalise_email(email), check_role(role)
    problem = password_problem(password, email)
    if problem:
        raise AuthError(f"{email}: {problem}")
    hashed = hash_password(password)
    now = utc_now()
    with connect() as con, transaction(con):
        if _user_row(con, email):
            raise AuthError(f"A user with email {email} already exists")
        if role != "admin" and not con.execute("SELECT count(*) FROM users").fetchone()[0]:
            raise AuthError(f"The first user must be an admin (not {role}): "
                            "nobody could manage users")
        grants = _check_gstins(con, gstins)
        user_id = con.execute(
            "INSERT INTO users (email, password_hash, role, created_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING user_id",
            [email, hashed, role, by, now, now]).fetchone()[0]
        _write_grants(con, user_id, grants, by)
        record_audit(by, "user_created",
                     f"{email} role={role} gstins={','.join(grants) or '-'}", con)
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
                   coalesce(u.digest_opt_in, true) AS digest_opt_in,
                   coalesce(string_agg(g.gstin, ', ' ORDER BY g.gstin), '') AS gstins
            FROM users u LEFT JOIN user_gstins g USING (user_id)
            GROUP BY u.user_id, u.email, u.role, u.disabled, u.failed_logins, u.locked_until,
                     u.last_login_at, u.created_at, u.created_by, u.digest_opt_in
            ORDER BY u.email""")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def _active_admins(con) -> int:
    return con.execute("SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled"
                       ).fetchone()[0]


def _keep_an_admin(con, user: User) -> None:
    if user.role == "admin" and not user.disabled and _active_admins(con) <= 1:
        raise AuthError(f"{user.email} is the only active admin; make another admin first")


def set_role(email: str, role: str, actor: User | str) -> User:
    by, role = actor_name(actor), check_role(role)
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
    by = actor_name(actor)
    with connect() as con, transaction(con):
        user = _existing(con, email)
        grants = _check_gstins(con, gstins)
        old = [r[0] for r in con.execute(
            "SELECT gstin FROM user_gstins WHERE user_id = ? ORDER BY gstin",
            [user.user_id]).fetchall()]
        if old != grants:
            _write_grants(con, user.user_id, grants, by)
            record_audit(by, "gstins_granted", f"{user.email}: {','.join(old) or '-'} -> "
                                               f"{','.join(grants) or '-'}", con)
    return grants


def disable_user(email: str, actor: User | str, disabled: bool = True) -> User:
    """Disable (or, with disabled=False, enable again) a user; a disabled user cannot log in."""
    by = actor_name(actor)
    with connect() as con, transaction(con):
        user = _existing(con, email)
        if user.disabled == disabled:
            return user
        if disabled:
            _keep_an_admin(con, user)
        con.execute("UPDATE users SET disabled = ?, failed_logins = 0, locked_until = NULL, "
                    "updated_at = ? WHERE user_id = ?", [disabled, utc_now(), user.user_id])
        ended = end_user_sessions(con, user.user_id, "user disabled") if disabled else 0
        detail = f"{user.email}; {ended} session(s) ended" if disabled else user.email
        record_audit(by, "user_disabled" if disabled else "user_enabled", detail, con)
    return User(user.user_id, user.email, user.role, disabled)


def set_digest_opt_in(email: str, on: bool, actor: User | str) -> User:
    """Whether the user gets the daily digest by mail: a user chooses for their own account,
    an admin (or the CLI) for anyone's (PermissionDenied for anyone else)."""
    own = isinstance(actor, User) and actor.email == normalise_email(email)
    by = actor.email if own else actor_name(actor)
    with connect() as con, transaction(con):
        user = _existing(con, email)
        con.execute("UPDATE users SET digest_opt_in = ?, updated_at = ? WHERE user_id = ?",
                    [bool(on), utc_now(), user.user_id])
        record_audit(by, "digest_on" if on else "digest_off", user.email, con)
    return user


def digest_opt_in(user: User) -> bool:
    """Does the user get the daily digest (on unless they turned it off)?"""
    with connect() as con:
        rows = con.execute("SELECT coalesce(digest_opt_in, true) FROM users WHERE user_id = ?",
                           [user.user_id]).fetchall()
    return bool(rows and rows[0][0])


def reset_password(email: str, new_password: str, actor: User | str,
                   keep_session: str | None = None) -> None:
    """An admin (or the CLI) sets someone's password, their own included, without the old
    one. Ends the user's lock and every session of theirs but `keep_session` (the admin's own
    session when they reset their own password). A user changing their own password with the
    current one uses core.auth.login.change_own_password."""
    by = actor_name(actor)
    problem = password_problem(new_password, email)
    if problem:
        raise AuthError(f"{normalise_email(email)}: {problem}")
    hashed = hash_password(new_password)
    with connect() as con, transaction(con):
        user = _existing(con, email)
        con.execute("UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL, "
                    "updated_at = ? WHERE user_id = ?", [hashed, utc_now(), user.user_id])
        ended = end_user_sessions(con, user.user_id, "password reset", keep=keep_session)
        record_audit(by, "password_reset", f"{user.email}; {ended} session(s) ended", con)


def ensure_demo_admin(password: str | None = None) -> dict:
    """Create the demo admin once; return its login. The password is `password`, else
    `IMS_DEMO_ADMIN_PASSWORD`, else a fresh random one (each install its own). It is returned
    only when the admin was just created, or when the password given is still right: the
    store keeps only its hash, so a random one is shown once (the banner of ./run.sh)."""
    password = password or os.environ.get("IMS_DEMO_ADMIN_PASSWORD")
    existing = find_user(DEMO_ADMIN_EMAIL)
    if existing is None:
        chosen = password or secrets.token_urlsafe(12)
        create_user(DEMO_ADMIN_EMAIL, chosen, "admin", [], actor="demo")
        return {"email": DEMO_ADMIN_EMAIL, "password": chosen, "created": True}
    with connect(read_only=True) as con:
        stored = stored_hash(con, existing.user_id)
    right = bool(password) and verify_password(stored, password)
    return {"email": DEMO_ADMIN_EMAIL, "password": password if right else None,
            "created": False}
