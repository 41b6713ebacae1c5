"""The store a benchmark runs on: `--engine duckdb|postgres|both`.

`store_on(engine, folder)` points the store at a fresh DuckDB file in `folder`, or at a fresh
database on a PostgreSQL server it starts for the block (Debian's package, tests/pg.py, with the
server's default durability: fsync on), and lets it go afterwards. `both` runs a bench on the
DuckDB file, then on PostgreSQL, in one run, so the two figures share the machine's load.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from core.store import let_go_of_idle_files
from tests.pg import create_database, start_server, stop_server

ENGINES = ("duckdb", "postgres", "both")


def engines_of(choice: str) -> tuple[str, ...]:
    return ("duckdb", "postgres") if choice == "both" else (choice,)


@contextlib.contextmanager
def store_on(engine: str, folder: Path) -> Iterator[str]:
    """IMS_DB_PATH / IMS_DB_URL set for `engine` for the block -> the store's location."""
    os.environ["IMS_DB_PATH"] = str(Path(folder) / f"bench-{engine}.duckdb")
    os.environ.pop("IMS_DB_URL", None)
    server = None
    try:
        if engine == "postgres":
            server = start_server(durable=True)
            os.environ["IMS_DB_URL"] = create_database(server, "bench")
        yield os.environ.get("IMS_DB_URL") or os.environ["IMS_DB_PATH"]
    finally:
        let_go_of_idle_files()
        os.environ.pop("IMS_DB_URL", None)
        if server is not None:
            stop_server(server)


def print_comparison(figures: dict[str, dict[str, float]], label: str = "",
                     digits: int = 1) -> None:
    """When both engines ran: one RESULT line with each step's seconds on each engine and
    PostgreSQL's time as a multiple of DuckDB's."""
    if len(figures) != 2:
        return
    print("RESULT " + label + " ".join(f"{engine}_{step}_s={s:.{digits}f}"
                                       for engine, steps in figures.items()
                                       for step, s in steps.items())
          + " postgres/duckdb " + ", ".join(
              f"{step} {figures['postgres'][step] / figures['duckdb'][step]:.2f}x"
              for step in figures["duckdb"]))
