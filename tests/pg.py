"""A real PostgreSQL server for the tests: Debian's `postgresql` package, started in a
temporary directory (the pytest fixtures that use it are in conftest.py).

`start_server()` runs `initdb` into a fresh directory under the system's temporary folder,
starts `postgres` on a free port of 127.0.0.1 (its unix socket in that directory too, never in
/var/run) with durability off (a test cluster lives for one run), and `stop_server()` stops it
and removes the directory. PostgreSQL refuses to run as root: as root the cluster belongs to
the `postgres` account the Debian package creates, and its programs run as that account.
Databases are made per test (`create_database`) and dropped after it.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.fixtures import free_port

SERVER_OPTIONS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                  "-c max_connections=200 -c listen_addresses=127.0.0.1")
DURABLE_OPTIONS = "-c max_connections=200 -c listen_addresses=127.0.0.1"
SUPERUSER = "postgres"


def server_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server programs (the newest version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@dataclass
class PgServer:
    bin: Path
    folder: Path
    port: int
    options: str = ""

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


def _as_owner() -> list[str]:
    """How to run a server program: as `postgres` when this process is root."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def start_server(durable: bool = False, copy_of: Path | None = None) -> PgServer:
    """initdb a cluster in a new temporary folder and start it; raises with the server's log
    when it does not come up. `durable`: with the server's default fsync and synchronous
    commit (benchmarks), not the tests' durability off. `copy_of`: start on a copy of that
    data folder (one `keep_cluster` wrote) instead of a new cluster."""
    folder = Path(tempfile.mkdtemp(prefix="ims-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
    server = PgServer(server_bin(), folder, free_port())
    run = _as_owner()
    if copy_of is not None:
        subprocess.run(["cp", "-a", str(copy_of), str(server.data)], check=True,
                       capture_output=True, timeout=1800)
    else:
        subprocess.run([*run, str(server.bin / "initdb"), "-D", str(server.data), "-U",
                        SUPERUSER, "--auth=trust", "--encoding=UTF8", "--no-sync", "-N"],
                       check=True, capture_output=True, timeout=120)
    server.options = (f"{DURABLE_OPTIONS if durable else SERVER_OPTIONS} -p {server.port} "
                      f"-k {folder}")
    try:
        _start(server)
    except RuntimeError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return server


def _start(server: PgServer) -> None:
    log = server.folder / "server.log"
    started = subprocess.run(
        [*_as_owner(), str(server.bin / "pg_ctl"), "-D", str(server.data), "-l", str(log), "-w",
         "-t", "60", "-o", server.options, "start"],
        capture_output=True, text=True, timeout=90, check=False)
    if started.returncode != 0:
        text = log.read_text() if log.exists() else started.stderr
        raise RuntimeError(f"PostgreSQL did not start: {text[-2000:]}")
    _wait_until_ready(server)


def keep_cluster(server: PgServer, dest: Path) -> None:
    """Copy the cluster's data folder to `dest` (for `start_server(copy_of=dest)`): the
    server is stopped cleanly for the copy (every connection to it must be closed), then
    started again on the same port."""
    subprocess.run([*_as_owner(), str(server.bin / "pg_ctl"), "-D", str(server.data), "-m",
                    "fast", "-w", "stop"], check=True, capture_output=True, timeout=300)
    subprocess.run(["cp", "-a", str(server.data), str(dest)], check=True, capture_output=True,
                   timeout=1800)
    _start(server)


def _wait_until_ready(server: PgServer, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(server.url(), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop_server(server: PgServer) -> None:
    subprocess.run([*_as_owner(), str(server.bin / "pg_ctl"), "-D", str(server.data), "-m",
                    "immediate", "-w", "stop"], capture_output=True, timeout=60, check=False)
    shutil.rmtree(server.folder, ignore_errors=True)


def create_database(server: PgServer, name: str) -> str:
    """A new empty database; its URL."""
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return server.url(name)


def drop_database(server: PgServer, name: str) -> None:
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stored_bytes(location: str) -> bytes:
    """Everything a store holds on disk, to search for what must never be stored: the DuckDB
    file's bytes, or a PostgreSQL database's data as `pg_dump` writes it."""
    if not location.startswith("postgresql://"):
        return Path(location).read_bytes()
    return subprocess.run([str(server_bin() / "pg_dump"), "--data-only", location],
                          check=True, capture_output=True, timeout=120).stdout
