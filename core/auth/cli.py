"""`python -m core.auth`: the users' commands (docs/interfaces.md, docs/security.md):
`create-admin --email E [--password P]`, `ensure-demo-admin [--password P]`,
`reset-password --email E [--password P]`, `unlock --email E`, `list`."""
from __future__ import annotations

import argparse
import getpass
import secrets
import sys

from core.auth.login import locked_minutes_left, unlock_user
from core.auth.roles import AuthError, PermissionDenied, normalise_email
from core.auth.users import create_user, ensure_demo_admin, list_users, reset_password


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


def main(argv: list[str] | None = None, prog: str = "python -m core.auth") -> int:
    ap = argparse.ArgumentParser(prog=prog, description="Manage app users.")
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
