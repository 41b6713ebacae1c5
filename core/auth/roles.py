"""Who may do what: the `User` record, the roles and their permissions.

Roles (docs/architecture.md):
- admin: everything, including settings and users; sees every business.
- analyst: takes and uploads actions, imports purchase registers, runs fetch/reconciliation;
  sees only the GSTINs granted to them.
- auditor: read-only, may download; sees only the GSTINs granted to them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

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
    "approve": {"admin", "analyst"},      # approve others' proposals (with a grant per GSTIN)
    "import": {"admin", "analyst"},       # purchase-register imports and rollbacks
    "reconcile": {"admin", "analyst"},    # run fetch / reconciliation / sync on demand
    "settings": {"admin"},
    "users": {"admin"},
}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


def normalise_email(email: str) -> str:
    """'  Ana@Example.COM ' -> 'ana@example.com'; raises AuthError when it is not an email."""
    text = (email or "").strip().lower()
    if not EMAIL_RE.match(text) or len(text) > 254:
        raise AuthError(f"'{(email or '').strip()[:80]}' is not an email address")
    return text


def check_role(role: str) -> str:
    """`role` when it is one of ROLES; else AuthError."""
    if role not in ROLES:
        raise AuthError(f"Role '{role}' is not one of {', '.join(ROLES)}")
    return role


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


def actor_name(actor: User | str) -> str:
    """The name of who acts, for the audit log. A `User` must hold the "users" permission; a
    plain string is a trusted system caller (the CLI, the demo setup)."""
    if isinstance(actor, User):
        require(actor, "users")
        return actor.email
    return str(actor)
