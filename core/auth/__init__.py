"""Users, roles, per-GSTIN grants, login with lockout, session timeout and the audit log.

The public entry of access control; the work is done in
- core/auth/roles.py: the `User` record, ROLES, PERMISSIONS, `can`, `require`;
- core/auth/passwords.py: the password policy and argon2id hashes;
- core/auth/users.py: user administration (create, roles, grants, disable, passwords, demo admin);
- core/auth/login.py: `authenticate` with lockout and back-off, `unlock_user`, `change_own_password`;
- core/auth/sessions.py: sessions (start, check, end) and the idle timeout;
- core/auth/session_token.py: the signed token a browser keeps, and its key;
- core/auth/audit.py: the audit log.
None of those import this module: it sits above them.

CLI (docs/interfaces.md, docs/security.md): `python -m core.auth create-admin --email E
[--password P]`, `ensure-demo-admin [--password P]`, `reset-password --email E [--password P]`,
`unlock --email E`, `list`.
"""
from __future__ import annotations

from core.auth.audit import audit_entries, record_audit
from core.auth.cli import main
from core.auth.login import (
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
from core.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem
from core.auth.roles import (
    PERMISSIONS,
    ROLES,
    AuthError,
    PermissionDenied,
    User,
    can,
    normalise_email,
    require,
)
from core.auth.session_token import verified_session_id
from core.auth.sessions import (
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
from core.auth.users import (
    DEMO_ADMIN_EMAIL,
    create_user,
    digest_opt_in,
    disable_user,
    ensure_demo_admin,
    find_user,
    get_user,
    grant_gstins,
    list_users,
    reset_password,
    set_digest_opt_in,
    set_role,
    user_count,
    user_gstins,
)

__all__ = [
    "CURRENT_PASSWORD_REFUSED", "DEFAULT_SESSION_TIMEOUT_MIN", "DEMO_ADMIN_EMAIL",
    "LOCKOUT_MAX_MINUTES", "LOCKOUT_MINUTES", "LOGIN_REFUSED", "MAX_FAILED_LOGINS",
    "MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "PERMISSIONS", "ROLES", "SESSION_MAX_HOURS",
    "AuthError", "PermissionDenied", "User", "audit_entries", "authenticate", "can",
    "change_own_password", "create_user", "digest_opt_in", "disable_user", "end_session", "ensure_demo_admin",
    "find_user", "get_user", "grant_gstins", "list_users", "lock_minutes", "locked_minutes_left",
    "main", "needs_touch", "normalise_email", "open_sessions", "password_problem",
    "record_audit", "require", "reset_password", "save_session_timeout", "session_expired",
    "session_problem", "session_snapshot", "session_timeout_minutes", "set_digest_opt_in",
    "set_role",
    "start_session", "touch_session", "unlock_user", "user_count", "user_gstins", "verified_session_id",
]
