"""The store under concurrency: many sessions (threads of one process) and a second process.

Streamlit runs every browser session as a thread of one process, and the worker is a second
process. Before the store layer shared one DuckDB instance per process, 12 threads updating one
row lost about 80 % of their writes to "Conflict on update!" and some opens to "Unique file
handle conflict".

Every test runs on both engines (the DuckDB file, and PostgreSQL in team mode: conftest's
`store_engine`); the file held by another process is DuckDB's alone, a row another process
keeps locked is its PostgreSQL counterpart.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from core.store.database import DatabaseBusy, connect, transaction
from tests.fixtures import ROOT, store_held_by_another_process

THREADS = 12
pytestmark = pytest.mark.usefixtures("store_engine")


def _run_threads(work, n: int = THREADS) -> list[str]:
    errors: list[str] = []

    def guarded(i: int) -> None:
        try:
            work(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on: the test's point
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _counter_table(db_file: str) -> None:
    with connect(db_file) as con:
        con.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
        con.execute("INSERT INTO counter VALUES (1, 0)")


def test_twelve_sessions_updating_one_row_lose_nothing(db_file):
    _counter_table(db_file)

    def add_forty(_):
        for _ in range(15):
            with connect() as con, transaction(con):
                con.execute("UPDATE counter SET n = n + 1 WHERE id = 1")

    assert _run_threads(add_forty) == []
    with connect() as con:
        assert con.execute("SELECT n FROM counter").fetchall() == [(THREADS * 15,)]


def test_sessions_opening_and_closing_together_never_collide(db_file):
    _counter_table(db_file)

    def open_close(i):
        for _ in range(25):
            with connect(read_only=i % 2 == 0) as con:
                con.execute("SELECT count(*) FROM counter").fetchall()

    assert _run_threads(open_close) == []


def test_readers_go_on_while_a_writer_holds_a_transaction(db_file):
    _counter_table(db_file)
    inside, release = threading.Event(), threading.Event()

    def slow_writer():
        with connect() as con, transaction(con):
            con.execute("UPDATE counter SET n = 99 WHERE id = 1")
            inside.set()
            release.wait(10)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    inside.wait(10)
    started = time.monotonic()
    with connect(read_only=True) as con:
        seen = con.execute("SELECT n FROM counter").fetchall()
    waited = time.monotonic() - started
    release.set()
    writer.join()
    assert seen == [(0,)]          # the uncommitted change is not visible
    assert waited < 2


def test_a_second_process_gets_the_file_once_the_sessions_are_done(db_file):
    _counter_table(db_file)
    stop = threading.Event()

    def busy_sessions(i):     # back to back: without turns the file would never be let go
        while not stop.is_set():
            with connect(read_only=i % 2 == 0) as con:
                con.execute("SELECT n FROM counter").fetchall()

    threads = [threading.Thread(target=busy_sessions, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    script = ("import sys; from core.store import connect, transaction\n"
              "with connect(sys.argv[1], busy_timeout=10) as con, transaction(con):\n"
              "    con.execute('UPDATE counter SET n = n + 1000 WHERE id = 1')\n")
    started = time.monotonic()
    other = subprocess.run([sys.executable, "-c", script, db_file], capture_output=True,
                           text=True, timeout=60, check=False)
    took = time.monotonic() - started
    stop.set()
    for t in threads:
        t.join()
    assert other.returncode == 0, other.stderr[-2000:]
    assert took < 8                       # python start-up included
    with connect() as con:
        assert con.execute("SELECT n FROM counter").fetchone()[0] == 1000


def test_a_file_held_by_another_process_is_reported_as_busy(db_file, store_engine):
    if store_engine == "postgres":
        pytest.skip("DuckDB's file lock; PostgreSQL: the row lock test below")
    _counter_table(db_file)
    with store_held_by_another_process(db_file):
        started = time.monotonic()
        try:
            with connect(db_file, busy_timeout=1.0):
                raise AssertionError("opened a file another process holds")
        except DatabaseBusy as exc:
            message = str(exc)
        assert 0.9 < time.monotonic() - started < 5
        assert "busy" in message and "Traceback" not in message and db_file not in message


ROW_HOLDER = ("import sys, time; from core.store import connect, transaction\n"
              "with connect(sys.argv[1]) as con, transaction(con):\n"
              "    con.execute('UPDATE counter SET n = n + 1 WHERE id = 1')\n"
              "    print('held', flush=True); time.sleep(30)\n")


def test_a_row_another_process_keeps_locked_is_reported_as_busy(db_file, store_engine):
    if store_engine == "duckdb":
        pytest.skip("PostgreSQL's row locks; DuckDB: the file lock test above")
    _counter_table(db_file)
    holder = subprocess.Popen([sys.executable, "-c", ROW_HOLDER, db_file], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with connect(read_only=True) as con:      # readers never wait for a writer
            assert con.execute("SELECT n FROM counter").fetchall() == [(0,)]
        started = time.monotonic()
        with pytest.raises(DatabaseBusy) as caught, connect(db_file, busy_timeout=1.0) as con:
            con.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
        assert 0.9 < time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait(10)
    message = str(caught.value)
    assert "busy" in message and "Traceback" not in message and "postgres" not in message
    with connect() as con, transaction(con):      # the holder's session ended: its lock went
        con.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
        assert con.execute("SELECT n FROM counter").fetchall() == [(1,)]
