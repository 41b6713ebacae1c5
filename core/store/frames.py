"""Query results as Polars frames (DuckDB 2 dropped `.pl()` on executed statements;
the relation API still converts, so read queries go through here)."""
from __future__ import annotations

import duckdb
import polars as pl

from core.store.postgres import PgConnection


def query_frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """Run a parameterised SELECT and return a Polars frame."""
    if isinstance(con, PgConnection):
        return con.frame(sql, params)
    return con.sql(sql, params=params or None).pl()


def query_table(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """Run a parameterised SELECT and return its rows as an Arrow table: for a caller that makes
    the frame (`frame_of`) after it has let the store go, so no connection waits on Polars."""
    if isinstance(con, PgConnection):
        return con.frame(sql, params).to_arrow()
    return con.sql(sql, params=params or None).to_arrow_table()


def frame_of(table) -> pl.DataFrame:
    """`query_table`'s rows as the Polars frame `query_frame` gives (for unique column names:
    `query_frame` renames a repeated name `name_1`, this raises DuplicateError)."""
    return pl.from_arrow(table, rechunk=False)


def append_frame(con, table: str, frame: pl.DataFrame) -> None:
    """Add a frame's rows to `table`, its columns by name (the frame's types as the table's,
    e.g. money as Decimal(18, 2)): on PostgreSQL one COPY into the table, on DuckDB one INSERT
    reading the frame in place."""
    if isinstance(con, PgConnection):
        con.append(table, frame)
        return
    con.register("appended_frame", frame)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(frame.columns)}) "
                    f"SELECT {', '.join(frame.columns)} FROM appended_frame")
    finally:
        con.unregister("appended_frame")
