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
