"""Moving a DuckDB store into PostgreSQL (team mode): `python -m core.db copy --to URL`.

The target must hold no data: the copy migrates it to the latest schema, then, in ONE
PostgreSQL transaction, loads every table of the DuckDB file with COPY (DuckDB writes each
table as CSV, PostgreSQL reads it: both spell NULL as an empty field and an empty text as `""`),
sets every sequence where the file's stood, and checks, table by table, the row count and a
checksum of the rows (an order-free sum of row hashes over the values both drivers return).
Any difference rolls the whole load back, so the target is either a full copy or still empty.
The source is read in one read transaction (one moment of the store); stop the app and the
worker first so that nothing changes after that moment.
"""
from __future__ import annotations

import decimal
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.store import postgres
from core.store.database import connect, db_path, migrate_store, transaction

CHUNK = 1 << 20
ROWS_AT_ONCE = 10_000
TABLES_SQL = ("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
              "AND table_type = 'BASE TABLE' AND table_name <> 'schema_version' ORDER BY 1")
COLUMNS_SQL = ("SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
               "AND table_name = ? ORDER BY ordinal_position")
PG_DATA_SQL = """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'schema_version'"""


class CopyRefused(RuntimeError):
    """The copy did not start (the target holds data) or did not match (rolled back)."""


@dataclass
class TableCopied:
    table: str
    rows: int
    checksum: str


def copy_store(url: str, source: str | None = None) -> list[TableCopied]:
    """Copy the DuckDB store (`source`, default IMS_DB_PATH) into the empty PostgreSQL
    database at `url`; each table's rows and checksum, equal on both sides."""
    source = source or db_path()
    if not Path(source).exists():
        raise CopyRefused(f"There is no store file at {source}.")
    _refuse_unless_empty(url)
    migrate_store(source)
    migrate_store(url)
    with tempfile.TemporaryDirectory(prefix="ims-copy-") as folder, \
            connect(source, read_only=True) as duck, transaction(duck), \
            connect(url) as pg, transaction(pg):
        _same_schema_version(duck, pg)
        tables = [t for (t,) in duck.execute(TABLES_SQL).fetchall()]
        _same_tables(tables, pg)
        try:
            copied = [_copy_table(duck, pg, table, Path(folder)) for table in tables]
            _move_sequences(duck, pg)
        except postgres.driver().Error as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
            raise CopyRefused(f"The copy failed and nothing was kept ({first_line}).") from exc
    return copied


def _same_tables(tables: list[str], pg) -> None:
    known = {t for (t,) in pg.execute(PG_DATA_SQL).fetchall()}
    strange = sorted(set(tables) - known)
    if strange:
        raise CopyRefused(f"The store file has tables the store's schema does not know "
                          f"({', '.join(strange)}); nothing was copied.")


def _refuse_unless_empty(url: str) -> None:
    with connect(url) as pg:
        full = [t for (t,) in pg.execute(PG_DATA_SQL).fetchall()
                if pg.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchall()[0][0]]
    if full:
        raise CopyRefused(
            f"The database at {postgres.where(url)} is not empty ({len(full)} table(s) hold "
            f"rows, e.g. {', '.join(sorted(full)[:3])}): copy only into an empty database.")


def _same_schema_version(duck, pg) -> None:
    versions = [c.execute("SELECT max(version) FROM schema_version").fetchall()[0][0]
                for c in (duck, pg)]
    if versions[0] != versions[1]:
        raise CopyRefused(f"The two stores are at different schema versions ({versions}).")


def _copy_table(duck, pg, table: str, folder: Path) -> TableCopied:
    columns = [c for (c,) in duck.execute(COLUMNS_SQL, [table]).fetchall()]
    names = ", ".join(f'"{c}"' for c in columns)
    csv = folder / f"{table}.csv"
    duck.execute(f"COPY (SELECT {names} FROM \"{table}\") TO '{csv}' (FORMAT csv, HEADER false)")
    with pg.raw.cursor() as cur, cur.copy(f'COPY "{table}" ({names}) FROM STDIN (FORMAT csv)') \
            as load, open(csv, "rb") as f:
        while block := f.read(CHUNK):
            load.write(block)
    sql = f'SELECT {names} FROM "{table}"'
    counted = [_count_and_checksum(duck.execute(sql).fetchmany, ROWS_AT_ONCE),
               _count_and_checksum(_pg_batches(pg, sql), ROWS_AT_ONCE)]
    if counted[0] != counted[1]:
        raise CopyRefused(f"Table {table} differs after the copy (DuckDB {counted[0][0]} rows, "
                          f"PostgreSQL {counted[1][0]}): nothing was copied.")
    return TableCopied(table, *counted[0])


def _pg_batches(pg, sql: str):
    cur = pg.raw.cursor()
    rows = cur.stream(sql)

    def fetchmany(n: int) -> list[tuple]:
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == n:
                break
        return batch
    return fetchmany


def _count_and_checksum(fetchmany, n: int) -> tuple[int, str]:
    """(rows, a checksum that does not depend on row order)."""
    count, total = 0, 0
    while batch := fetchmany(n):
        count += len(batch)
        for row in batch:
            digest = hashlib.blake2b(repr(tuple(map(_plain, row))).encode(), digest_size=8)
            total = (total + int.from_bytes(digest.digest(), "big")) % (1 << 64)
    return count, f"{total:016x}"


def _plain(value):
    """A value as both drivers give it: NUMERIC(20,0) (DuckDB's UBIGINT) as an int."""
    if isinstance(value, decimal.Decimal) and value.as_tuple().exponent == 0:
        return int(value)
    return value


def _move_sequences(duck, pg) -> None:
    for name, last in duck.execute("SELECT sequence_name, last_value FROM duckdb_sequences() "
                                   "WHERE last_value IS NOT NULL").fetchall():
        pg.execute("SELECT setval(?, ?)", [name, last])
