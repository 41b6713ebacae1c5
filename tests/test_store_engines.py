"""The store on both engines: the DuckDB file and PostgreSQL (team mode, IMS_DB_URL).

One set of migrations (core/store/migrations) makes both schemas; the PostgreSQL one must equal
the DuckDB one table by table, column by column (types mapped), with the same keys. The
PostgreSQL server is Debian's, started by the tests in a temporary folder (tests/pg.py).
"""
from __future__ import annotations

import datetime as dt
import decimal
import os
import subprocess
import sys

import polars as pl
import pytest

from core.store import DatabaseBusy, connect, get_setting, put_setting, query_frame, transaction
from core.store.database import StoreUnreachable, migrate_store, migration_files
from core.store.postgres import placeholders
from tests.fixtures import ROOT, free_port

pytestmark = pytest.mark.usefixtures("store_engine")

# DuckDB's type names and PostgreSQL's for the same column (information_schema.columns).
SAME_TYPE = {"character varying": "VARCHAR", "text": "VARCHAR", "bigint": "BIGINT",
             "integer": "INTEGER", "boolean": "BOOLEAN", "date": "DATE",
             "timestamp without time zone": "TIMESTAMP", "numeric(18,2)": "DECIMAL(18,2)",
             "numeric(20,0)": "UBIGINT"}

DUCK_COLUMNS = """SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
    WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"""
PG_COLUMNS = """SELECT table_name, column_name,
        CASE WHEN data_type = 'numeric'
             THEN 'numeric(' || numeric_precision || ',' || numeric_scale || ')'
             ELSE data_type END, is_nullable
    FROM information_schema.columns WHERE table_schema = 'public'
      AND table_name NOT LIKE 'pg\\_%' ORDER BY table_name, ordinal_position"""
DUCK_KEYS = """SELECT table_name, constraint_type, list_sort(constraint_column_names)
    FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')"""
PG_KEYS = """SELECT c.table_name, c.constraint_type,
        array_agg(k.column_name::text ORDER BY k.column_name::text)
    FROM information_schema.table_constraints c
    JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name)
    WHERE c.table_schema = 'public' AND c.constraint_type IN ('PRIMARY KEY', 'UNIQUE')
    GROUP BY c.table_name, c.constraint_type, c.constraint_name"""


def _duckdb_schema(path) -> tuple[list, set]:
    with connect(str(path)) as con:
        columns = [tuple(r) for r in con.execute(DUCK_COLUMNS).fetchall()]
        keys = {(t, kind, tuple(cols)) for t, kind, cols in con.execute(DUCK_KEYS).fetchall()}
    return columns, keys


def _postgres_schema(url) -> tuple[list, set]:
    with connect(url) as con:
        columns = [(t, c, SAME_TYPE.get(kind, kind), null)
                   for t, c, kind, null in con.execute(PG_COLUMNS).fetchall()]
        keys = {(t, kind, tuple(cols)) for t, kind, cols in con.execute(PG_KEYS).fetchall()}
    return columns, keys


def test_both_engines_get_the_same_schema_from_the_one_set_of_migrations(
        store_engine, pg_database, tmp_path):
    if store_engine == "postgres":
        pytest.skip("compares the two engines; runs once")
    duck_columns, duck_keys = _duckdb_schema(tmp_path / "schema.duckdb")
    pg_columns, pg_keys = _postgres_schema(pg_database)
    assert len(duck_columns) > 300 and len(duck_keys) >= 15
    assert pg_columns == duck_columns
    assert pg_keys == duck_keys


@pytest.mark.new_store_file
def test_connect_migrates_a_new_store_once_and_records_every_migration(db_file):
    with connect() as con:
        versions = [r[0] for r in con.execute(
            "SELECT version FROM schema_version ORDER BY version").fetchall()]
    assert versions == [n for n, _ in migration_files()]
    assert migrate_store(db_file) == ([], versions[-1])


def test_settings_and_a_rolled_back_transaction(db_file):
    with connect() as con:
        put_setting(con, "tolerance", "1.5")
        put_setting(con, "tolerance", "2")
        assert get_setting(con, "tolerance") == "2"
        assert get_setting(con, "nothing here", "default") == "default"
    with pytest.raises(ValueError), connect() as con, transaction(con):
        put_setting(con, "tolerance", "9")
        raise ValueError("the work failed half way")
    with connect(read_only=True) as con:
        assert get_setting(con, "tolerance") == "2"


def test_the_code_s_sql_runs_unchanged_on_both(db_file):
    with connect() as con, transaction(con):
        con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, ?, ?)",
                    ["27AAAAA0000A1Z5", "100% Pure Oils 'Ltd'?", "27"])
        con.executemany("INSERT INTO settings (key, value) VALUES (?, ?)",
                        [("a?", "50%"), ("b", "$x")])
        changed = con.execute("UPDATE settings SET value = value || '!' WHERE key LIKE '%'"
                              ).fetchall()
    with connect(read_only=True) as con:
        named = con.execute("SELECT name FROM businesses WHERE gstin = $g AND state_code = $s",
                            {"g": "27AAAAA0000A1Z5", "s": "27"}).fetchone()
        listed = con.execute("SELECT count(*) FROM businesses "
                             "WHERE list_contains(?::VARCHAR[], gstin)",
                             [["27AAAAA0000A1Z5", "x"]]).fetchall()
        frame = query_frame(con, "SELECT key, value, 12.50::DECIMAL(18,2) AS amount "
                                 "FROM settings WHERE value LIKE ? ORDER BY key", ["%!"])
        sorted_list = con.execute("SELECT list_sort(list(DISTINCT key)) FROM settings "
                                  "WHERE contains(key, ?)", ["a"]).fetchall()
        cur = con.execute("SELECT gstin, enabled FROM businesses")
        names = [d[0] for d in cur.description]
    assert changed == [(2,)]
    assert named == ("100% Pure Oils 'Ltd'?",)
    assert listed == [(1,)]
    assert frame.to_dicts() == [{"key": "a?", "value": "50%!", "amount": decimal.Decimal("12.50")},
                                {"key": "b", "value": "$x!", "amount": decimal.Decimal("12.50")}]
    assert names == ["gstin", "enabled"]
    assert sorted_list == [(["a?"],)]


@pytest.mark.new_store_file
def test_migrate_from_the_command_line_on_either_engine(db_file):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [subprocess.run([sys.executable, "-m", "core.db", "migrate"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120, check=False)
            for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr[-2000:]
    latest = migration_files()[-1][0]
    assert f"{len(migration_files())} migration(s) applied" in runs[0].stdout
    assert f"already at the latest schema (version {latest})" in runs[1].stdout
    assert "postgres@" not in runs[0].stdout + runs[1].stdout


def test_an_unreachable_server_is_a_plain_message(store_engine):
    if store_engine == "duckdb":
        pytest.skip("team mode only")
    url = f"postgresql://ims:secret-pw@127.0.0.1:{free_port()}/ims"
    with pytest.raises(StoreUnreachable) as caught, connect(url, busy_timeout=1):
        pass
    assert isinstance(caught.value, DatabaseBusy)
    message = str(caught.value)
    assert "does not answer" in message and "secret-pw" not in message
    assert "Traceback" not in message


def test_placeholders_leave_quoted_text_and_comments_alone():
    assert placeholders("SELECT '?', \"a?\", ? -- why?\n") == "SELECT '?', \"a?\", %s -- why?\n"
    assert placeholders("x LIKE '5%' AND y = $name") == "x LIKE '5%%' AND y = %(name)s"
    assert placeholders("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', %s"


def test_a_second_process_reads_what_the_first_committed(db_file):
    with connect() as con:
        put_setting(con, "shared", "yes")
    script = ("import sys; from core.store import connect, get_setting\n"
              "with connect(sys.argv[1]) as con: print(get_setting(con, 'shared'))\n")
    other = subprocess.run([sys.executable, "-c", script, db_file], cwd=ROOT, check=False,
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert other.stdout.strip() == "yes", other.stderr[-2000:]


def test_a_backup_of_a_postgres_store_points_to_pg_dump(store_engine, db_file, tmp_path):
    if store_engine == "duckdb":
        pytest.skip("team mode only (tests/test_backup*.py cover the DuckDB file)")
    done = subprocess.run([sys.executable, "-m", "core.db", "backup", "--to", str(tmp_path)],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "pg_dump" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_registered_frame_is_a_table_for_the_sql_that_follows(db_file, store_engine):
    frame = pl.DataFrame({
        "gstin": ["27AAAAA0000A1Z5", "29BBBBB1111B1Z5", "07CCCCC2222C1Z5"],
        "note": ["", None, 'says "50%", then ?'],
        "amount": [decimal.Decimal("10.50"), decimal.Decimal("-3.25"), None],
        "seen": [dt.datetime(2025, 11, 12, 6, 0, 1, 250), None, dt.datetime(2025, 1, 1)],
        "n": [1, 2, 3],
    }, schema_overrides={"amount": pl.Decimal(18, 2)})
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, 'One', '27')",
                    ["27AAAAA0000A1Z5"])
        con.register("frame_in", frame)
        joined = con.execute("SELECT f.n, b.name FROM frame_in f JOIN businesses b "
                             "USING (gstin)").fetchall()
        back = con.sql("SELECT * FROM frame_in ORDER BY n").pl()
        con.unregister("frame_in")
    assert joined == [(1, "One")]
    assert back.to_dicts() == frame.to_dicts()
    if store_engine == "postgres":      # the pooled connection's next user sees no leftovers
        with connect() as con:
            assert con.execute("SELECT count(*) FROM pg_class WHERE relpersistence = 't'"
                               ).fetchall() == [(0,)]


KINDS_DDL = """CREATE TABLE kinds (id INTEGER PRIMARY KEY, day DATE, paise BIGINT,
    amount DECIMAL(18,2), ok BOOLEAN, note VARCHAR, seen TIMESTAMP, ratio DOUBLE)"""
KINDS_ROWS = [
    (1, dt.date(2025, 3, 31), 12_345_678_90, decimal.Decimal("1234567.89"), True,
     'comma, "quote"\nnew line, ₹ नमस्ते', dt.datetime(2025, 11, 12, 6, 0, 1, 250), 0.1),
    (2, None, None, None, None, None, None, None),
    (3, dt.date(2024, 1, 1), -5, decimal.Decimal("-0.05"), False, "",
     dt.datetime(2024, 1, 1), -2.5),
    *[(n, dt.date(2025, 1, 1) + dt.timedelta(days=n % 300), n * 100, decimal.Decimal(n) / 4,
       n % 2 == 0, f"row {n}, 50%", dt.datetime(2025, 1, 1, 0, 0, n % 60), n / 7)
      for n in range(4, 1500)],
]


def _kinds_read_back(location) -> list[pl.DataFrame]:
    with connect(location) as con, transaction(con):
        con.execute(KINDS_DDL)
        con.executemany("INSERT INTO kinds VALUES (?, ?, ?, ?, ?, ?, ?, ?)", KINDS_ROWS)
    with connect(location, read_only=True) as con:
        frames = [query_frame(con, "SELECT * FROM kinds ORDER BY id"),
                  query_frame(con, "SELECT note, sum(amount) AS total, count(*) AS n "
                                   "FROM kinds WHERE note LIKE ? OR id < ? "
                                   "GROUP BY note ORDER BY note NULLS FIRST", ["%50%%", 4]),
                  query_frame(con, "SELECT * FROM kinds WHERE id > 10000")]
        con.execute("DROP TABLE kinds")
    return frames


def test_a_frame_read_back_is_the_same_on_both_engines(store_engine, pg_database, tmp_path):
    if store_engine == "postgres":
        pytest.skip("compares the two engines; runs once")
    duck = _kinds_read_back(str(tmp_path / "kinds.duckdb"))
    pg = _kinds_read_back(pg_database)
    assert duck[0].height == len(KINDS_ROWS) and duck[1].height == 1499
    for one, other in zip(duck, pg):
        assert other.schema == one.schema
        assert other.equals(one, null_equal=True)
    assert pg[0].row(0) == KINDS_ROWS[0] and pg[0].row(1) == KINDS_ROWS[1]
    assert pg[1]["total"].dtype == pl.Decimal(38, 2)


def test_the_page_indexes_are_made_on_postgres_only(db_file, store_engine):
    with connect() as con:
        if store_engine == "postgres":
            names = {n for (n,) in con.execute("SELECT indexname FROM pg_indexes "
                                               "WHERE schemaname = 'public'").fetchall()}
        else:
            names = {n for (n,) in con.execute("SELECT index_name FROM duckdb_indexes()"
                                               ).fetchall()}
        recorded = con.execute("SELECT count(*) FROM schema_version WHERE name IN (?, ?)",
                               ["750_postgres_page_indexes",
                                "765_duckdb_gstr2b_no_period_index"]).fetchall()
    page_indexes = {"ims_records_id", "ims_records_newest", "reco_results_page"}
    assert recorded == [(2,)]           # the same schema version on both engines
    assert (page_indexes <= names) == (store_engine == "postgres"), names
    # the 2B's period index: dropped on the file by a DuckDB-only migration
    assert ("gstr2b_documents_period" in names) == (store_engine == "postgres"), names
