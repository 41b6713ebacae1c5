"""Query results as Polars frames (DuckDB 2 dropped `.pl()` on executed statements;
the relation API still converts, so read queries go through here)."""
from __future__ import annotations

import duckdb
import polars as pl


def query_frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """Run a parameterised SELECT and return a Polars frame."""
    return con.sql(sql, params=params or None).pl()
