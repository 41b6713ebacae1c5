"""Users, roles, argon2 hashes, lockout and the audit log (core.auth) on a real store file."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from core import auth
from core.auth import AuthError, PermissionDenied
from core.store.database import connect
from tests.fixtures import BUSINESSES, ROOT
from tests.pg import stored_bytes

pytestmark = pytest.mark.usefixtures("store_engine")

PW = "correct horse battery"
G1, G2 = BUSINESSES[0][0], BUSINESSES[1][0]


@pytest.fixture
def with_admin(demo_store):
    """A store whose first user (an admin) exists, so other roles may be added."""
    auth.create_user("root@example.com", "root password 123", "admin")
    return demo_store


def audit_events(event: str | None = None) -> list[dict]:
    return auth.audit_entries(1000, event)


def test_password_is_stored_only_as_argon2_hash(with_admin):
    auth.create_user("ana@example.com", PW, "analyst", [G1])
    with connect() as con:
        row = con.execute("SELECT * FROM users").fetchone()
        con.execute("CHECKPOINT")
    assert any(isinstance(v, str) and v.startswith("$argon2id$") for v in row)
    assert not any(PW in str(v) for v in row)
    assert b"$argon2id$" in stored_bytes(with_admin)
    assert PW.encode() not in stored_bytes(with_admin)
    assert all(PW not in str(e) for e in audit_events())


def test_emails_are_normalised_and_unique(with_admin):
    user = auth.create_user("  Ana@Example.COM ", PW, "auditor")
    assert user.email == "ana@example.com"
    with pytest.raises(AuthError, match="already exists"):
        auth.create_user("ANA@example.com", PW, "auditor")
    assert auth.authenticate("ANA@EXAMPLE.COM ", PW) == user
    with pytest.raises(AuthError, match="not an email"):
        auth.create_user("ana", PW, "auditor")


@pytest.mark.parametrize("bad", ["short", "", "x" * 300, "ana@example.com"])
def test_weak_passwords_are_refused(with_admin, bad):
    with pytest.raises(AuthError, match="Password must"):
        auth.create_user("ana@example.com", bad, "analyst")
    assert auth.find_user("ana@example.com") is None


def test_unknown_role_and_unknown_gstin_are_refused(with_admin):
    with pytest.raises(AuthError, match="Role 'boss'"):
        auth.create_user("a@example.com", PW, "boss")
    with pytest.raises(AuthError, match="Unknown business GSTIN"):
        auth.create_user("a@example.com", PW, "analyst", ["24AAQCA8719H1ZC"])
    assert [u["email"] for u in auth.list_users()] == ["root@example.com"]


def test_the_first_user_must_be_an_admin(demo_store):
    with pytest.raises(AuthError, match="first user must be an admin"):
        auth.create_user("ana@example.com", PW, "analyst", [G1])
    assert auth.user_count() == 0
    auth.create_user("boss@example.com", PW, "admin")
    assert auth.create_user("ana@example.com", PW, "analyst", [G1]).role == "analyst"


def test_logins_and_failed_logins_are_audited(with_admin):
    auth.create_user("ana@example.com", PW, "analyst", [G1])
    assert auth.authenticate("ana@example.com", "wrong password") is None
    assert auth.authenticate("nobody@example.com", PW) is None
    assert auth.authenticate("ana@example.com", PW).email == "ana@example.com"
    failed = [(e["actor"], e["detail"]) for e in audit_events("login_failed")]
    assert ("nobody@example.com", "unknown email") in failed
    assert ("ana@example.com", "wrong password (failure 1)") in failed
    assert [e["actor"] for e in audit_events("login")] == ["ana@example.com"]


def test_lockout_after_repeated_failures_then_expiry(with_admin):
    auth.create_user("ana@example.com", PW, "analyst")
    t0 = dt.datetime(2030, 1, 1, 9, 0)
    for _ in range(auth.MAX_FAILED_LOGINS):
        assert auth.authenticate("ana@example.com", "wrong password", now=t0) is None
    assert audit_events("lockout")
    # even the right password is refused while locked
    assert auth.authenticate("ana@example.com", PW, now=t0 + dt.timedelta(minutes=1)) is None
    assert "locked until" in audit_events("login_failed")[0]["detail"]
    later = t0 + dt.timedelta(minutes=auth.LOCKOUT_MINUTES + 1)
    assert auth.authenticate("ana@example.com", PW, now=later) is not None


def test_disabled_user_cannot_log_in_and_sees_nothing(demo_store):
    admin = auth.create_user("boss@example.com", PW, "admin")
    ana = auth.create_user("ana@example.com", PW, "analyst", [G1])
    auth.disable_user("ana@example.com", admin)
    assert auth.authenticate("ana@example.com", PW) is None
    disabled = auth.get_user(ana.user_id)
    assert disabled.disabled and auth.user_gstins(disabled) == []
    assert not auth.can(disabled, "view")
    auth.disable_user("ana@example.com", admin, disabled=False)
    assert auth.authenticate("ana@example.com", PW) is not None
    assert [e["event"] for e in audit_events() if e["event"].startswith("user_")][:2] == \
        ["user_enabled", "user_disabled"]


def test_role_changes_are_audited_and_the_last_admin_is_kept(demo_store):
    admin = auth.create_user("boss@example.com", PW, "admin")
    auth.create_user("ana@example.com", PW, "analyst", [G1])
    auth.set_role("ana@example.com", "auditor", admin)
    assert audit_events("role_changed")[0]["detail"] == "ana@example.com: analyst -> auditor"
    assert audit_events("role_changed")[0]["actor"] == "boss@example.com"
    with pytest.raises(AuthError, match="only active admin"):
        auth.set_role("boss@example.com", "analyst", admin)
    with pytest.raises(AuthError, match="only active admin"):
        auth.disable_user("boss@example.com", admin)
    auth.set_role("ana@example.com", "admin", admin)
    auth.set_role("boss@example.com", "analyst", "cli")
    assert auth.find_user("boss@example.com").role == "analyst"


ALLOWED = {
    "admin": {"view", "download", "act", "upload", "import", "reconcile", "settings", "users",
              "approve"},
    "analyst": {"view", "download", "act", "upload", "import", "reconcile", "approve"},
    "auditor": {"view", "download"},
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_role_allowed_and_refused(role):
    user = auth.User(1, "x@example.com", role)
    for permission in auth.PERMISSIONS:
        assert auth.can(user, permission) == (permission in ALLOWED[role]), (role, permission)
        if permission not in ALLOWED[role]:
            with pytest.raises(PermissionDenied, match=f"{role}"):
                auth.require(user, permission)
    assert not auth.can(user, "launch_missiles")
    assert not auth.can(None, "view")


@pytest.mark.parametrize("role", ["analyst", "auditor"])
def test_only_admins_manage_users(demo_store, role):
    auth.create_user("boss@example.com", PW, "admin")
    other = auth.create_user("other@example.com", PW, role, [G1])
    for attempt in (lambda: auth.create_user("new@example.com", PW, "admin", actor=other),
                    lambda: auth.set_role("other@example.com", "admin", other),
                    lambda: auth.grant_gstins("other@example.com", [G1, G2], other),
                    lambda: auth.disable_user("boss@example.com", other),
                    lambda: auth.reset_password("boss@example.com", "taken over!!", other),
                    lambda: auth.unlock_user("boss@example.com", other),
                    lambda: auth.save_session_timeout(600, other)):
        with pytest.raises(PermissionDenied):
            attempt()
    assert auth.find_user("other@example.com").role == role
    assert auth.user_gstins(auth.find_user("other@example.com")) == [G1]
    assert auth.authenticate("boss@example.com", PW) is not None


def test_own_password_change_needs_the_current_password(with_admin):
    ana = auth.create_user("ana@example.com", PW, "analyst")
    with pytest.raises(AuthError, match="current password"):
        auth.change_own_password(ana, "wrong one!", "a new password")
    auth.change_own_password(ana, PW, "a new password")
    assert auth.authenticate("ana@example.com", PW) is None
    assert auth.authenticate("ana@example.com", "a new password") is not None
    assert audit_events("password_changed")[0]["actor"] == "ana@example.com"


def test_grants_decide_which_gstins_a_user_sees(demo_store):
    admin = auth.create_user("boss@example.com", PW, "admin")
    ana = auth.create_user("ana@example.com", PW, "analyst", [G1])
    assert auth.user_gstins(admin) == sorted([G1, G2])
    assert auth.user_gstins(ana) == [G1]
    assert auth.grant_gstins("ana@example.com", [G2.lower(), G1], admin) == sorted([G1, G2])
    assert auth.user_gstins(ana) == sorted([G1, G2])
    auth.grant_gstins("ana@example.com", [], admin)
    assert auth.user_gstins(ana) == []
    assert len(audit_events("gstins_granted")) == 2


def test_session_timeout_setting_and_expiry(demo_store):
    assert auth.session_timeout_minutes() == auth.DEFAULT_SESSION_TIMEOUT_MIN
    auth.save_session_timeout(5, "cli")
    assert auth.session_timeout_minutes() == 5
    assert not auth.session_expired(1000.0, 1000.0 + 299, 5)
    assert auth.session_expired(1000.0, 1000.0 + 301, 5)
    with pytest.raises(AuthError):
        auth.save_session_timeout(0, "cli")


def run_cli(*args, db_file, stdin=""):
    return subprocess.run([sys.executable, "-m", "core.auth", *args], cwd=ROOT, input=stdin,
                          check=False, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "IMS_DB_PATH": db_file})


def test_cli_create_admin_and_idempotent_demo_admin(db_file, monkeypatch):
    monkeypatch.delenv("IMS_DEMO_ADMIN_PASSWORD", raising=False)
    made = run_cli("create-admin", "--email", "Boss@Example.com", db_file=db_file)
    assert made.returncode == 0, made.stderr
    password = made.stdout.split("Password: ")[1].split()[0]
    assert auth.authenticate("boss@example.com", password).role == "admin"
    again = run_cli("create-admin", "--email", "boss@example.com", db_file=db_file)
    assert again.returncode == 2 and "already exists" in again.stderr
    first = run_cli("ensure-demo-admin", db_file=db_file)
    second = run_cli("ensure-demo-admin", db_file=db_file)
    assert first.returncode == second.returncode == 0
    # a random password per install, printed once; the store keeps only its hash
    demo_password = first.stdout.split("password: ")[1].split()[0]
    assert len(demo_password) >= 16 and demo_password != "demo-admin-2025"
    assert demo_password not in second.stdout and "reset-password" in second.stdout
    assert auth.authenticate(auth.DEMO_ADMIN_EMAIL, demo_password).is_admin
    assert demo_password.encode() not in stored_bytes(db_file)
    assert len(auth.list_users()) == 2


def test_demo_admin_password_differs_per_install(tmp_path, monkeypatch):
    monkeypatch.delenv("IMS_DEMO_ADMIN_PASSWORD", raising=False)
    passwords = []
    for n in (1, 2):
        monkeypatch.setenv("IMS_DB_PATH", str(tmp_path / f"install{n}.duckdb"))
        passwords.append(auth.ensure_demo_admin()["password"])
    assert passwords[0] != passwords[1]
    monkeypatch.setenv("IMS_DEMO_ADMIN_PASSWORD", "given demo password")
    monkeypatch.setenv("IMS_DB_PATH", str(tmp_path / "install3.duckdb"))
    assert auth.ensure_demo_admin()["password"] == "given demo password"
    assert auth.ensure_demo_admin() == {"email": auth.DEMO_ADMIN_EMAIL,
                                        "password": "given demo password", "created": False}
