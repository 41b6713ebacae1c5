"""The store on PostgreSQL (team mode: `IMS_DB_URL=postgresql://...`, docs/store.md).

The code above the store speaks to a connection the way it speaks to DuckDB's: `execute` with
`?` (or `$name` with a dict) parameters, `executemany`, `fetchall`/`fetchone`, `description`.
`PgConnection` gives that surface over a psycopg 3 connection:
- placeholders are rewritten to psycopg's (`?` -> `%s`, `$name` -> `%(name)s`, a literal `%`
  doubled), outside quoted text and comments;
- a statement that returns no rows (INSERT, UPDATE, DELETE without RETURNING) fetches
  `[(rows affected,)]`, as DuckDB does;
- a few DuckDB functions the shared SQL uses exist on the server too (`COMPAT_FUNCTIONS`:
  `to_seconds`, `list_contains`, `contains`, `list_sort`, the `list` aggregate, the `DOUBLE`
  type name), made by
  `migrate` before the migrations run;
- `register(name, frame)` loads a Polars/Arrow frame into a temporary table with COPY, and
  `sql(query).pl()` reads a query as a frame, as DuckDB's relation API does.

Connections run in autocommit, so `transaction()` (BEGIN ... COMMIT) works unchanged; the
session's time zone is UTC, so `current_timestamp` and naive timestamps mean UTC as in the
DuckDB file. Each process keeps a few idle connections per database (`POOL_SIZE`) instead of
opening one per `connect()`; there is no file to hand over: many processes share the server,
and the server's row locks and MVCC replace the DuckDB path's writer lock and turns.
"""
from __future__ import annotations

import contextlib
import importlib
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import psycopg

URL_PREFIXES = ("postgresql://", "postgres://")
POOL_SIZE = 8
# The DuckDB types of the migrations PostgreSQL does not have, and what stands for them.
DDL_TYPES = {"UBIGINT": "NUMERIC(20,0)"}
COMPAT_FUNCTIONS = """
DROP FUNCTION IF EXISTS list_contains(anyarray, anyelement);
CREATE OR REPLACE FUNCTION to_seconds(double precision) RETURNS interval
    LANGUAGE sql IMMUTABLE AS $$ SELECT make_interval(secs => $1) $$;
CREATE OR REPLACE FUNCTION list_contains(anycompatiblearray, anycompatible) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$ SELECT $2 = ANY($1) $$;
CREATE OR REPLACE FUNCTION contains(text, text) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$ SELECT strpos($1, $2) > 0 $$;
CREATE OR REPLACE FUNCTION list_sort(anyarray) RETURNS anyarray
    LANGUAGE sql IMMUTABLE AS $$ SELECT array(SELECT x FROM unnest($1) x ORDER BY x) $$;
DO $$ BEGIN CREATE DOMAIN double AS double precision;
      EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE OR REPLACE AGGREGATE list(anycompatible) (
    SFUNC = array_append, STYPE = anycompatiblearray, INITCOND = '{}');
"""
# Polars types of the PostgreSQL types the store uses (by type oid; arrays as lists); numeric is
# Decimal with the column's own precision and scale, anything else text.
FRAME_TYPES = {16: pl.Boolean, 20: pl.Int64, 21: pl.Int16, 23: pl.Int32, 700: pl.Float32,
               701: pl.Float64, 1082: pl.Date, 1114: pl.Datetime("us"),
               1184: pl.Datetime("us", "UTC"), 25: pl.String, 1043: pl.String,
               1005: pl.List(pl.Int16), 1007: pl.List(pl.Int32), 1016: pl.List(pl.Int64),
               1009: pl.List(pl.String), 1015: pl.List(pl.String), 1000: pl.List(pl.Boolean)}
# The integer types COPY's CSV is parsed as directly (digits and a sign; NULL an empty field):
# half the CPU of reading them as text and casting (200,000 rows, 14 such columns: 0.15 s
# against 0.22-0.34 s). The rest are read as text and cast by `_typed`.
PARSED_TYPES = {20, 21, 23}
# The types `PgConnection.frame` reads by COPY (CSV): bool, int8/2/4, float4/8, numeric, date,
# timestamp, timestamptz, text, varchar; anything else (arrays, json, interval) row by row.
COPY_TYPES = {16, 20, 21, 23, 700, 701, 1700, 1082, 1114, 1184, 25, 1043}
# One number for the advisory lock that lets one process at a time migrate a database.
MIGRATE_LOCK = 28_0001


def driver():
    """psycopg, loaded on first use (importlib: the one deliberate late import): only team
    mode needs it, and loading it costs a command that never touches a server (the file CLI,
    a DuckDB store) 0.4 s at start-up."""
    return importlib.import_module("psycopg")


def is_url(location: str | None) -> bool:
    """True when the store location names a PostgreSQL database rather than a DuckDB file."""
    return bool(location) and str(location).startswith(URL_PREFIXES)


def where(url: str) -> str:
    """host:port/database of a URL, for messages (never the user or password)."""
    info = driver().conninfo.conninfo_to_dict(url)
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|\?|\$[A-Za-z_]\w*|%""",
                     re.DOTALL)


def placeholders(sql: str) -> str:
    """DuckDB's parameter marks in psycopg's style: `?` -> `%s`, `$name` -> `%(name)s`, and a
    literal `%` doubled (in quoted text too); `?` and `$` in quoted text and comments stay."""
    def swap(m: re.Match) -> str:
        token = m.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if token.startswith("$"):
            return f"%({token[1:]})s"
        return token.replace("%", "%%")     # psycopg reads % inside quotes too
    return _TOKENS.sub(swap, sql)


def ddl(sql: str) -> str:
    """A migration's DDL for PostgreSQL: the DuckDB-only type names replaced."""
    for duck, pg in DDL_TYPES.items():
        sql = re.sub(rf"\b{duck}\b", pg, sql)
    return sql


class PgConnection:
    """A psycopg connection with the surface the code uses of a DuckDB connection."""

    def __init__(self, raw: psycopg.Connection) -> None:
        self.raw = raw
        self._cursor = raw.cursor()
        self.made_temp_tables = False
        self._pipeline, self._unanswered = None, False

    @contextlib.contextmanager
    def pipeline(self) -> Iterator[PgConnection]:
        """The block's statements sent without waiting for each answer (psycopg's pipeline
        mode): a statement whose result is not read costs no round trip of its own, and one
        whose result is read waits once for everything sent before it. An error surfaces at
        the next read or at the end of the block, with the statements after it not run."""
        with self.raw.pipeline() as sent:
            self._pipeline, self._unanswered = sent, False
            try:
                yield self
            finally:
                self._pipeline = None

    def _answers(self) -> None:
        """In a pipeline: wait for the answers of everything sent since the last wait (once:
        a second wait with nothing sent would be a round trip of its own)."""
        if self._pipeline is not None and self._unanswered:
            self._pipeline.sync()
            self._unanswered = False

    def register(self, name: str, frame) -> PgConnection:
        """A frame (Polars, Arrow or pandas) as a temporary table `name` for the SQL that
        follows, loaded with COPY (DuckDB reads a registered frame in place; here it is
        copied once). Dropped by `unregister`, and with every temporary table when the
        connection goes back to the pool."""
        frame = _polars(frame)
        columns = ", ".join(f'"{c}" {_column_type(t)}' for c, t in frame.schema.items())
        self._cursor.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
        self._cursor.execute(f'CREATE TEMP TABLE "{name}" ({columns})')
        self.made_temp_tables = True
        if frame.height:
            with self._cursor.copy(f'COPY "{name}" FROM STDIN (FORMAT csv)') as load:
                load.write(frame.write_csv(include_header=False))
        return self

    def append(self, table: str, frame: pl.DataFrame) -> PgConnection:
        """A frame's rows added to `table` (its columns by name) with one COPY straight into
        the table: no temporary table to fill and read back."""
        if frame.height:
            columns = ", ".join(f'"{c}"' for c in frame.columns)
            with self._cursor.copy(f'COPY {table} ({columns}) FROM STDIN (FORMAT csv)') as load:
                load.write(frame.write_csv(include_header=False))
        return self

    def unregister(self, name: str) -> PgConnection:
        self._cursor.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
        return self

    def sql(self, sql: str, params=None) -> PgRelation:
        """DuckDB's relation API as far as the code uses it: `.pl()`, `.to_arrow_table()`,
        `.fetchall()`."""
        return PgRelation(self, sql, params)

    def execute(self, sql: str, params=None) -> PgConnection:
        self.made_temp_tables = self.made_temp_tables or "TEMP" in sql.upper()
        self._unanswered = self._pipeline is not None
        if params is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(placeholders(sql), params)
        return self

    def executemany(self, sql: str, rows) -> PgConnection:
        self._unanswered = self._pipeline is not None
        self._cursor.executemany(placeholders(sql), list(rows))
        return self

    @property
    def description(self):
        self._answers()
        return self._cursor.description

    def fetchall(self) -> list[tuple]:
        self._answers()
        if self._cursor.description is None:
            count = self._cursor.rowcount
            return [(count,)] if count >= 0 else []
        return self._cursor.fetchall()

    def fetchone(self) -> tuple | None:
        self._answers()
        if self._cursor.description is None:
            rows = self.fetchall()
            return rows[0] if rows else None
        return self._cursor.fetchone()

    def frame(self, sql: str, params=None) -> pl.DataFrame:
        """The rows of a SELECT as a Polars frame typed from the result's columns (a repeated
        column name gets `_1`, `_2`, as DuckDB's frames do).

        Read by the server's COPY (CSV, parsed by Polars column by column) when every column
        has a type COPY_TYPES knows; else (arrays, or a statement COPY cannot wrap) row by
        row."""
        query = sql.strip().rstrip(";")
        if _copyable(query):
            self.execute(f"SELECT * FROM ({query}) AS copied LIMIT 0", params)
            columns = self._cursor.description
            if all(c.type_code in COPY_TYPES for c in columns):
                return self._copied_frame(query, params, columns)
        self.execute(sql, params)
        rows = self._cursor.fetchall()
        named = _named(self._cursor.description)
        schema = {name: _frame_type(c) for name, c in named}
        for i, (name, column) in enumerate(named):
            if column.type_code == 1700 and column.scale is None:
                schema[name] = pl.Decimal(38, max((-r[i].as_tuple().exponent for r in rows
                                                   if r[i] is not None and r[i].is_finite()),
                                                  default=0))
        return pl.DataFrame(rows, schema=schema, orient="row", strict=False)

    def _copied_frame(self, query: str, params, columns) -> pl.DataFrame:
        named = _named(columns)
        if params is None:
            statement = f"COPY ({query}) TO STDOUT (FORMAT csv)"
        else:
            statement = f"COPY ({placeholders(query)}) TO STDOUT (FORMAT csv)"
        data = bytearray()
        with self._cursor.copy(statement, params) as rows:
            for block in rows:
                data += block
        if not data:
            return pl.DataFrame(schema={name: _frame_type(c) for name, c in named})
        text = pl.read_csv(bytes(data), has_header=False, schema={
            n: FRAME_TYPES[c.type_code] if c.type_code in PARSED_TYPES else pl.String
            for n, c in named})
        return _exact_numeric(text.select(_typed(name, c) for name, c in named), named)

    def close(self) -> None:
        self._cursor.close()


class PgRelation:
    def __init__(self, con: PgConnection, sql: str, params) -> None:
        self.con, self.query, self.params = con, sql, params

    def pl(self) -> pl.DataFrame:
        return self.con.frame(self.query, self.params)

    def to_arrow_table(self):
        return self.pl().to_arrow()

    def fetchall(self) -> list[tuple]:
        return self.con.execute(self.query, self.params).fetchall()


def _copyable(query: str) -> bool:
    """A statement COPY (...) TO STDOUT can wrap: one SELECT (or WITH ... SELECT) that locks
    nothing."""
    head = query.lstrip("( \n\t").split(None, 1)[0].upper() if query.strip() else ""
    upper = query.upper()
    return head in ("SELECT", "WITH") and " FOR UPDATE" not in upper and \
        " FOR SHARE" not in upper and ";" not in query


def _named(columns) -> list[tuple[str, object]]:
    """The result's columns with unique names (a repeated name gets `_1`, `_2`)."""
    named: list[tuple[str, object]] = []
    taken: set[str] = set()
    for column in columns:
        name, n = column.name, 0
        while name in taken:
            n += 1
            name = f"{column.name}_{n}"
        taken.add(name)
        named.append((name, column))
    return named


def _typed(name: str, column) -> pl.Expr:
    """A COPY CSV column (text) as its type: PostgreSQL writes NULL as an empty field and an
    empty text as `""`, booleans as t/f, dates and times in ISO form (DateStyle ISO; the
    session is in UTC, so a timestamptz ends in +00)."""
    text = pl.col(name)
    code = column.type_code
    if code == 16:
        return text.replace_strict({"t": True, "f": False}, return_dtype=pl.Boolean)
    if code == 1082:
        return text.str.to_date("%Y-%m-%d")
    if code == 1114:
        return text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us")
    if code == 1184:
        return text.str.strip_suffix("+00").str.to_datetime(
            "%Y-%m-%d %H:%M:%S%.f", time_unit="us").dt.replace_time_zone("UTC")
    if code == 1700 and column.scale is None:
        return text     # unconstrained numeric: made exact by `_exact_numeric` below
    return text.cast(_frame_type(column))


def _exact_numeric(frame: pl.DataFrame, named) -> pl.DataFrame:
    """Unconstrained numeric columns (a sum of amounts) as decimals with the most decimal
    places any of their values has, so nothing is rounded (DuckDB's sum keeps the scale)."""
    loose = [name for name, c in named if c.type_code == 1700 and c.scale is None]
    if not loose:
        return frame
    places = frame.select(pl.col(n).str.extract(r"\.(\d+)$").str.len_chars().max()
                          for n in loose).row(0)
    return frame.with_columns(pl.col(n).cast(pl.Decimal(38, p or 0))
                              for n, p in zip(loose, places))


def _polars(frame) -> pl.DataFrame:
    if isinstance(frame, pl.DataFrame):
        return frame
    if type(frame).__module__.startswith("pyarrow"):
        return pl.from_arrow(frame)
    return pl.from_pandas(frame)


def _column_type(dtype: pl.DataType) -> str:
    """The PostgreSQL type a registered frame's column gets."""
    if isinstance(dtype, pl.Decimal):
        return f"NUMERIC({dtype.precision or 38},{dtype.scale or 0})"
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ" if dtype.time_zone else "TIMESTAMP"
    simple = {pl.Int8: "SMALLINT", pl.Int16: "SMALLINT", pl.Int32: "INTEGER", pl.Int64: "BIGINT",
              pl.UInt8: "SMALLINT", pl.UInt16: "INTEGER", pl.UInt32: "BIGINT",
              pl.UInt64: "NUMERIC(20,0)", pl.Float32: "REAL", pl.Float64: "DOUBLE PRECISION",
              pl.Boolean: "BOOLEAN", pl.Date: "DATE", pl.Time: "TIME", pl.Duration: "INTERVAL"}
    for polars_type, pg_type in simple.items():
        if dtype == polars_type:
            return pg_type
    return "TEXT"


def _frame_type(column) -> pl.DataType:
    if column.type_code == 1700 and (column.precision, column.scale) == (20, 0):
        return pl.UInt64        # the migrations' UBIGINT (DDL_TYPES)
    if column.type_code == 1700:
        return pl.Decimal(column.precision or 38, column.scale or 0)
    return FRAME_TYPES.get(column.type_code, pl.String)


class _Pool:
    """Idle connections of this process to one database (with one lock timeout)."""

    def __init__(self) -> None:
        self.idle: list[psycopg.Connection] = []
        self.lock = threading.Lock()


_pools: dict[tuple[str, float], _Pool] = {}
_pools_lock = threading.Lock()


def _pool(url: str, timeout: float) -> _Pool:
    with _pools_lock:
        return _pools.setdefault((url, timeout), _Pool())


def open_connection(url: str, timeout: float) -> psycopg.Connection:
    """A new autocommit connection, its session in UTC, statements waiting for a row lock
    at most `timeout` seconds, and no JIT compilation (the server compiles a query it thinks
    costly before running it: seconds for the fetch's filed-return query, which then runs in
    a fraction of one)."""
    return driver().connect(url, autocommit=True, connect_timeout=max(1, round(timeout)),
                            options=f"-c TimeZone=UTC -c lock_timeout={int(timeout * 1000)} "
                                    "-c jit=off")


def _checkout(url: str, timeout: float) -> psycopg.Connection:
    pool = _pool(url, timeout)
    with pool.lock:
        while pool.idle:
            raw = pool.idle.pop()
            if not raw.closed and raw.info.transaction_status == driver().pq.TransactionStatus.IDLE:
                return raw
            raw.close()
    return open_connection(url, timeout)


def _checkin(url: str, timeout: float, raw: psycopg.Connection) -> None:
    if raw.closed or raw.broken:
        raw.close()
        return
    if raw.info.transaction_status != driver().pq.TransactionStatus.IDLE:
        raw.rollback()          # a caller that left a transaction open: nothing of it stays
    pool = _pool(url, timeout)
    with pool.lock:
        if len(pool.idle) < POOL_SIZE:
            pool.idle.append(raw)
            return
    raw.close()


@contextlib.contextmanager
def connection(url: str, timeout: float) -> Iterator[PgConnection]:
    """A pooled connection for the length of the block."""
    raw = _checkout(url, timeout)
    con = PgConnection(raw)
    try:
        yield con
    finally:
        con.close()
        if con.made_temp_tables and not raw.closed and \
                raw.info.transaction_status == driver().pq.TransactionStatus.IDLE:
            raw.execute("DISCARD TEMP")    # the next user of the connection starts clean
        _checkin(url, timeout, raw)


def close_idle() -> None:
    """Close every idle pooled connection (tests dropping a database, and at exit)."""
    for pool in list(_pools.values()):
        with pool.lock:
            idle, pool.idle = pool.idle, []
        for raw in idle:
            raw.close()


@contextlib.contextmanager
def migration_lock(con: PgConnection) -> Iterator[None]:
    """One process at a time migrates a database (two app servers starting together)."""
    con.execute(f"SELECT pg_advisory_lock({MIGRATE_LOCK})")
    try:
        con.execute(COMPAT_FUNCTIONS)
        yield
    finally:
        con.execute(f"SELECT pg_advisory_unlock({MIGRATE_LOCK})")
