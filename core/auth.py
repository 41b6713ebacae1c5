"""Users, roles, per-GSTIN grants, login with lockout, session timeout and the audit log.

The public entry of access control; the work is done in
- core/roles.py: the `User` record, ROLES, PERMISSIONS, `can`, `require`;
- core/passwords.py: the password policy and argon2id hashes;
- core/users.py: user administration (create, roles, grants, disable, passwords, demo admin);
- core/login.py: `authenticate` with lockout and back-off, `unlock_user`, `change_own_password`;
- core/sessions.py: sessions (start, check, end) and the idle timeout;
- core/session_token.py: the signed token a browser keeps, and its key;
- core/audit.py: the audit log.
None of those import this module: it sits above them.

CLI (docs/interfaces.md, docs/security.md): `python -m core.auth create-admin --email E
[--password P]`, `ensure-demo-admin [--password P]`, `reset-password --email E [--password P]`,
`unlock --email E`, `list`.
"""
from __future__ import annotations

import argparse
import getpass
import secrets
import sys

from core.audit import audit_entries, record_audit
from core.login import (
    CURRENT_PASSWORD_REFUSED,
    LOCKOUT_MAX_MINUTES,
    LOCKOUT_MINUTES,
    LOGIN_REFUSED,
    MAX_FAILED_LOGINS,
    authenticate,
    change_own_password,
    lock_minutes,
    locked_minutes_left,
    unlock_user,
)
from core.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem
from core.roles import (
    PERMISSIONS,
    ROLES,
    AuthError,
    PermissionDenied,
    User,
    can,
    normalise_email,
    require,
)
from core.sessions import (
    DEFAULT_SESSION_TIMEOUT_MIN,
    SESSION_MAX_HOURS,
    end_session,
    needs_touch,
    open_sessions,
    save_session_timeout,
    session_expired,
    session_problem,
    session_snapshot,
    session_timeout_minutes,
    start_session,
    touch_session,
)
from core.users import (
    DEMO_ADMIN_EMAIL,
    create_user,
    disable_user,
    ensure_demo_admin,
    find_user,
    get_user,
    grant_gstins,
    list_users,
    reset_password,
    set_role,
    user_count,
    user_gstins,
)

__all__ = [
    "CURRENT_PASSWORD_REFUSED", "DEFAULT_SESSION_TIMEOUT_MIN", "DEMO_ADMIN_EMAIL",
    "LOCKOUT_MAX_MINUTES", "LOCKOUT_MINUTES", "LOGIN_REFUSED", "MAX_FAILED_LOGINS",
    "MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "PERMISSIONS", "ROLES", "SESSION_MAX_HOURS",
    "AuthError", "PermissionDenied", "User", "audit_entries", "authenticate", "can",
    "change_own_password", "create_user", "disable_user", "end_session", "ensure_demo_admin",
    "find_user", "get_user", "grant_gstins", "list_users", "lock_minutes", "locked_minutes_left",
    "main", "needs_touch", "normalise_email", "open_sessions", "password_problem",
    "record_audit", "require", "reset_password", "save_session_timeout", "session_expired",
    "session_problem", "session_snapshot", "session_timeout_minutes", "set_role",
    "start_session", "touch_session", "unlock_user", "user_count", "user_gstins",
]


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
    demo.add_argument("--password", help="default: IMS_DEMO_ADMIN_PASSWORD, else a random one "
                                         "(printed once)")
    unlock = sub.add_parser("unlock", help="end a login lock at once")
    unlock.add_argument("--email", required=True)
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
        shown = login["password"] or ("(the one printed when it was created; "
                                      f"reset it with: python -m core.auth reset-password "
                                      f"--email {login['email']})")
        print(f"Demo admin: {login['email']}  password: {shown}")
        return 0
    if args.command == "unlock":
        left = locked_minutes_left(args.email)
        unlock_user(args.email, actor="cli")
        state = f"it was locked for {left:.0f} more minute(s)" if left else "it was not locked"
        print(f"Unlocked {normalise_email(args.email)} ({state}); failed logins forgotten")
        return 0
    password, generated = _ask_password(args.password)
    if args.command == "create-admin":
        create_user(args.email, password, "admin", [], actor="cli")
        print(f"Created admin {normalise_email(args.email)}")
    else:
        reset_password(args.email, password, actor="cli")
        print(f"Password reset for {normalise_email(args.email)}")
    if generated:
        print(f"Password: {password}  (shown once; change it after logging in)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
