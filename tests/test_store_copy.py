"""`python -m core.db copy --to postgresql://...`: a DuckDB store moved into an empty PostgreSQL
database (Debian's server, started by the tests), nothing lost, refused into one with data."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core import auth
from core.store import connect
from tests.fixtures import ROOT, seed_demo


def run_copy(url: str, source: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "IMS_DB_URL"}
    return subprocess.run([sys.executable, "-m", "core.db", "copy", "--to", url, "--from", source],
                          cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.fixture
def filled_store(db_file) -> str:
    seed_demo(n_per_business=40, with_jobs=True)
    auth.create_user("boss@example.com", "root password 123", "admin")
    with connect() as con:
        con.execute("INSERT INTO settings (key, value) VALUES (?, ?), (?, ?), (?, ?)",
                    ["empty", "", "quoted", 'say "yes", then\nnewline', "nothing", None])
    return db_file


def table_counts(location: str) -> dict[str, int]:
    with connect(location) as con:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema IN ('main', 'public') ORDER BY 1").fetchall()]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}


def test_a_duckdb_store_moves_into_postgres_whole(filled_store, pg_database, monkeypatch):
    done = run_copy(pg_database, filled_store)
    assert done.returncode == 0, done.stderr[-3000:]
    duck, pg = table_counts(filled_store), table_counts(pg_database)
    assert pg == duck and duck["ims_records"] == 80 and duck["users"] == 1
    assert "every count and checksum matched" in done.stdout
    assert "ims_records" in done.stdout and "80 rows" in done.stdout
    with connect(pg_database) as con:
        settings = dict(con.execute("SELECT key, value FROM settings WHERE key IN "
                                    "('empty', 'quoted', 'nothing')").fetchall())
        money = con.execute("SELECT sum(txval), sum(igst) FROM ims_records").fetchall()
    with connect(filled_store) as con:
        assert money == con.execute("SELECT sum(txval), sum(igst) FROM ims_records").fetchall()
    assert settings == {"empty": "", "quoted": 'say "yes", then\nnewline', "nothing": None}
    # the sequences went along: new rows get new ids, and the login works on PostgreSQL
    monkeypatch.setenv("IMS_DB_URL", pg_database)
    assert auth.create_user("ana@example.com", "another password 1", "admin").user_id == 2
    assert auth.authenticate("boss@example.com", "root password 123").role == "admin"


def test_a_database_that_holds_data_is_refused_and_left_alone(filled_store, pg_database):
    with connect(pg_database) as con:
        con.execute("INSERT INTO settings (key, value) VALUES ('theirs', 'keep me')")
    refused = run_copy(pg_database, filled_store)
    assert refused.returncode == 1
    assert "not empty" in refused.stderr and "settings" in refused.stderr
    assert "Traceback" not in refused.stderr and "postgres@" not in refused.stderr
    counts = table_counts(pg_database)
    assert counts["settings"] == 1 and counts["ims_records"] == 0


def test_a_table_the_schema_does_not_know_stops_the_copy_before_it_starts(filled_store,
                                                                          pg_database):
    with connect(filled_store) as con:
        con.execute("CREATE TABLE scratch_notes (n INTEGER)")
    refused = run_copy(pg_database, filled_store)
    assert refused.returncode == 1
    assert "scratch_notes" in refused.stderr and "nothing was copied" in refused.stderr
    assert "Traceback" not in refused.stderr
    counts = table_counts(pg_database)
    assert counts.pop("schema_version") > 0 and set(counts.values()) == {0}
