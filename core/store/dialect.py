"""SQL forms that differ between DuckDB and PostgreSQL, written once for both.

Most of the SQL above the store is written in the part both engines share (explicit GROUP BY
lists, aliased subqueries, `INSERT ... ON CONFLICT`, casts of parameters); what has no shared
spelling gets a small helper here.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

# Rows a bulk write onto a table people also write (ims_records) changes per transaction on
# PostgreSQL: a changed row stays locked until its transaction commits, so a person's save of
# it waits for one part at most, not for all of it. 2,500: at 1,000,000 records under load a
# part of 10,000 took about 0.9 s, the longest save during the sync 1.05 s; with 2,500, 0.44 s
# (docs/store.md, "Load, measured").
SHORT_WRITE_ROWS = 2_500


# Rows written at once after which PostgreSQL's planner statistics of the table are refreshed.
STATISTICS_AFTER_ROWS = 1_000


def _on_postgres(con) -> bool:
    """A team-mode connection (by its class's name: this module imports neither engine)."""
    return type(con).__name__ == "PgConnection"


def refresh_statistics(con, table: str, rows_written: int,
                       columns: tuple[str, ...] = ()) -> None:
    """After a bulk write of `rows_written` rows into `table`: on PostgreSQL, ANALYZE it when
    they are many, so the next queries are planned for the rows the table holds now (the
    server's autovacuum would do it only a minute or so later; planned for the table before a
    first fetch of 200,000 records, the next fetch's filed-return query joined row by row, 30 s
    instead of 1). DuckDB keeps its statistics as it writes: nothing to do. `columns`: only
    those the write changed (the sync's: the whole table's ANALYZE took 2.6 s of a
    100,000-record first sync's 15 s write under load)."""
    if rows_written >= STATISTICS_AFTER_ROWS and _on_postgres(con):
        con.execute(f"ANALYZE {table}" + (f" ({', '.join(columns)})" if columns else ""))


def rows_per_transaction(con) -> int | None:
    """How many rows a bulk write onto a table people also write should change per
    transaction: on PostgreSQL SHORT_WRITE_ROWS; on the DuckDB file None (all in one: only one
    process writes the file at a time, so nobody waits on a row, and a killed write leaves the
    file exactly as before)."""
    return SHORT_WRITE_ROWS if _on_postgres(con) else None


def commit_unhurried(con) -> None:
    """Inside a transaction of a bulk write that is done again if lost (the sync's parts): on
    PostgreSQL its COMMIT does not wait for the server's log to reach the disk
    (`synchronous_commit = off` for this transaction only). A crash of the server may then
    lose the last such transactions, each whole and in order, never half of one: the sync's
    runs stay unfinished and the next sync writes those records again. The people's saves
    keep waiting for the disk. On the DuckDB file nothing changes (its write is one
    transaction)."""
    if _on_postgres(con):
        con.execute("SET LOCAL synchronous_commit = off")


def register_keyed(con, name: str, frame, key: str) -> None:
    """`con.register(name, frame)` for statements that read it a range of `key` at a time
    (the sync's parts): on PostgreSQL the temporary table also gets an index on `key`, so one
    COPY serves every part (before: a temporary table made, filled and dropped per part of
    2,500 rows). No ANALYZE of it: without statistics the server guesses a range holds 0.5 %
    of the rows and reads it by the index, the plan it chose with them (0.15 s less at
    200,000 rows). DuckDB reads the frame in place. `con.unregister(name)` when done."""
    con.register(name, frame)
    if _on_postgres(con):
        con.execute(f'CREATE INDEX ON "{name}" ({key})')


def replace_temp_table(con, name: str, query: str, params=None) -> None:
    """A temporary table `name` holding the rows of `query` (DuckDB's `CREATE OR REPLACE TEMP
    TABLE ... AS`, which PostgreSQL lacks): any earlier one of that name is dropped first."""
    con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(f"CREATE TEMP TABLE {name} AS {query}", params)


def replace_empty_temp_table(con, name: str, columns: str) -> None:
    """An empty temporary table `name (columns)`, any earlier one of that name dropped."""
    con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(f"CREATE TEMP TABLE {name} ({columns})")


def latest(value: str, by: str) -> str:
    """SQL aggregate: `value` of the row with the greatest `by` (DuckDB's `arg_max`, rows
    where either is NULL left out)."""
    return (f"(array_agg({value} ORDER BY {by} DESC) "
            f"FILTER (WHERE {value} IS NOT NULL AND {by} IS NOT NULL))[1]")


def earliest(value: str, by: str) -> str:
    """SQL aggregate: `value` of the row with the least `by` (DuckDB's `arg_min`)."""
    return (f"(array_agg({value} ORDER BY {by}) "
            f"FILTER (WHERE {value} IS NOT NULL AND {by} IS NOT NULL))[1]")


def int_or_null(text: str) -> str:
    """SQL: a text of digits as an integer, anything else NULL (DuckDB's `TRY_CAST(... AS
    INTEGER)` for the texts the store holds)."""
    return f"(CASE WHEN {text} ~ '^[0-9]+$' THEN CAST({text} AS INTEGER) END)"


@contextlib.contextmanager
def sent_together(con) -> Iterator:
    """The block's statements sent to the server without waiting for each one's answer: on
    PostgreSQL a statement whose result is not read costs no round trip of its own (psycopg's
    pipeline mode; a one-record save is 6 statements and 3 round trips, docs/store.md); wrap
    `transaction(con)` in it so that the COMMIT goes with the last writes. On the DuckDB file,
    in the process itself, nothing changes."""
    if _on_postgres(con):
        with con.pipeline():
            yield con
    else:
        yield con
