"""The store a benchmark runs on: `--engine duckdb|postgres|both`.

`store_on(engine, folder)` points the store at a fresh DuckDB file in `folder`, or at a fresh
database on a PostgreSQL server it starts for the block (Debian's package, tests/pg.py, with the
server's default durability: fsync on), and lets it go afterwards. `both` runs a bench on the
DuckDB file, then on PostgreSQL, in one run, so the two figures share the machine's load.
`server_cpu()` is the CPU time the PostgreSQL server's processes have used so far (its backends,
autovacuum, the WAL and checkpoint writers; none for the DuckDB file, whose work is the bench's
own CPU): on a shared machine wall time says little, CPU time what each engine cost.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from core.store import let_go_of_idle_files
from tests.pg import create_database, start_server, stop_server

ENGINES = ("duckdb", "postgres", "both")
_running: list = []     # the server of the current store_on block, if any


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
            _running.append(server)
            os.environ["IMS_DB_URL"] = create_database(server, "bench")
        yield os.environ.get("IMS_DB_URL") or os.environ["IMS_DB_PATH"]
    finally:
        let_go_of_idle_files()
        os.environ.pop("IMS_DB_URL", None)
        if server is not None:
            _running.remove(server)
            stop_server(server)


def server_cpu() -> float:
    """CPU seconds (user + system) used so far by the running PostgreSQL server: the postmaster,
    its processes alive now and those that ended (their time is added to the postmaster's when
    it reaps them); 0.0 without a server."""
    if not _running:
        return 0.0
    postmaster = int((_running[-1].data / "postmaster.pid").read_text().split()[0])
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:          # the process ended meanwhile
            continue
        pid = int(stat.parent.name)
        if pid == postmaster:
            ticks += sum(int(f) for f in fields[11:15])     # utime stime cutime cstime
        elif int(fields[1]) == postmaster:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


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
