"""One person's saves, alone: how long a one-record save takes and how many statements it sends.

    .venv/bin/python -m bench.saves [--records 20000] [--saves 300] [--engine duckdb|postgres|both]

Builds bench/pages.py's synthetic records (in a fresh store: a DuckDB file, or a database on a
PostgreSQL server the bench starts, default durability), then saves an action and a remark on
one record at a time through `core.ims.actions.save_user_actions` (what the IMS Invoices page
calls), `--saves` times, one thread. Reports the wall time per save (median, p95, p99, max),
this process's CPU per save, and on PostgreSQL the statements per save (every `execute` the
save sends: each one a round trip to the server, which is what a save waits for on a busy
machine; `BEGIN` and `COMMIT` included) and the server's CPU per save. bench/load.py measures
the same saves under load; this is the floor beside it.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.engines import ENGINES, engines_of, server_cpu, store_on
from bench.pages import GSTINS, build_store, build_store_postgres
from core.ims import save_user_actions
from core.store import connect, postgres

RTIN = GSTINS[0]
PLAIN_EXECUTE = postgres.PgConnection.execute


def counted_statements() -> list[int]:
    """A counter of the statements PostgreSQL connections send from now on (BEGIN and COMMIT
    too): PgConnection.execute wrapped, the bench's measuring tape."""
    count = [0]

    def counting(self, sql, params=None):
        count[0] += 1
        return PLAIN_EXECUTE(self, sql, params)
    postgres.PgConnection.execute = counting
    return count


def measure(engine: str, records: int, saves: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, store_on(engine, Path(tmp)) as where:
        if engine == "postgres":
            build_store_postgres(where, records)
        else:
            build_store(Path(where), records)
        with connect(read_only=True) as con:
            ids = [r[0] for r in con.execute(
                "SELECT record_id FROM ims_records WHERE rtin = ? AND section = 'b2b' "
                "AND ispendactblocked = 'N' ORDER BY record_id LIMIT 200", [RTIN]).fetchall()]
        save_user_actions([RTIN], {ids[0]: {"action": "A"}}, "warm@bench")
        statements = counted_statements() if engine == "postgres" else [0]
        latencies, cpu0, server0 = [], time.process_time(), server_cpu()
        for n in range(saves):
            started = time.perf_counter()
            result = save_user_actions([RTIN], {ids[n % len(ids)]: {
                "action": "AR"[n % 2], "supplier_remark": f"bench {n}"}}, "saver@bench")
            latencies.append(time.perf_counter() - started)
            assert result.saved == 1, result.lines
        cpu, server = time.process_time() - cpu0, server_cpu() - server0
        postgres.PgConnection.execute = PLAIN_EXECUTE
    lat = sorted(latencies)
    return {"median_ms": statistics.median(lat) * 1000, "p95_ms": lat[int(0.95 * len(lat))] * 1000,
            "p99_ms": lat[int(0.99 * len(lat))] * 1000, "max_ms": lat[-1] * 1000,
            "cpu_ms": cpu / saves * 1000, "server_cpu_ms": server / saves * 1000,
            "statements": statements[0] / saves}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--saves", type=int, default=300)
    ap.add_argument("--engine", choices=ENGINES, default="both")
    args = ap.parse_args()
    for engine in engines_of(args.engine):
        load = os.getloadavg()[0]
        f = measure(engine, args.records, args.saves)
        print(f"RESULT engine={engine} records={args.records} saves={args.saves} "
              + " ".join(f"{k}={v:.1f}" for k, v in f.items())
              + f" load={load:.1f}-{os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
