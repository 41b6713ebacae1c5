"""Two app servers on one store (no sticky sessions): a login made on one is valid on the other,
a logout on either ends it on both, and wrong passwords tried on both count toward one lock.

Each "server" is a separate Python process using core.auth the way the app's login gate does
(authenticate, start_session, verified_session_id + session_snapshot, end_session), both with
the same IMS_SESSION_KEY, as docs/store.md ("Team mode") asks of servers on several machines.
Runs on both engines: on PostgreSQL the two processes share the server; on the DuckDB file
they take turns at it.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core import auth
from tests.fixtures import ROOT

pytestmark = pytest.mark.usefixtures("store_engine")

PW = "correct-horse-battery"
SERVER = """
import sys
from core import auth
for line in sys.stdin:
    cmd, *args = line.split()
    if cmd == "login":
        user = auth.authenticate(args[0], args[1])
        print("token " + auth.start_session(user)[1] if user else "refused", flush=True)
    elif cmd == "check":
        snapshot = auth.session_snapshot(None, auth.verified_session_id(args[0]))
        print(auth.session_problem(snapshot) or "valid", flush=True)
    elif cmd == "logout":
        print(auth.end_session(auth.verified_session_id(args[0]), "logout", "ana"), flush=True)
"""


class AppServer:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, text=True,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)},
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def ask(self, *words: str) -> str:
        self.proc.stdin.write(" ".join(words) + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(30)


@pytest.fixture
def two_servers(db_file, monkeypatch):
    monkeypatch.setenv("IMS_SESSION_KEY", "one key shared by every app server of the team")
    monkeypatch.setenv("IMS_DB_LINGER", "0")      # DuckDB: let the file go between requests
    auth.create_user("root@example.com", "root password 123", "admin")
    auth.create_user("ana@example.com", PW, "analyst")
    servers = AppServer(), AppServer()
    yield servers
    for server in servers:
        server.stop()


def test_a_login_on_one_server_holds_on_the_other_and_a_logout_ends_it_on_both(two_servers):
    first, second = two_servers
    answer = first.ask("login", "ana@example.com", PW)
    assert answer.startswith("token "), answer
    token = answer.split()[1]
    assert first.ask("check", token) == "valid"
    assert second.ask("check", token) == "valid"
    assert second.ask("logout", token) == "True"
    assert first.ask("check", token) == "ended: logout"
    assert second.ask("check", token) == "ended: logout"


def test_wrong_passwords_on_both_servers_count_toward_one_lock(two_servers):
    first, second = two_servers
    for n in range(auth.MAX_FAILED_LOGINS):
        server = first if n % 2 == 0 else second
        assert server.ask("login", "ana@example.com", "wrong-password-here") == "refused"
    assert auth.locked_minutes_left("ana@example.com") > 0
    assert second.ask("login", "ana@example.com", PW) == "refused"     # locked on both
    assert first.ask("login", "ana@example.com", PW) == "refused"
