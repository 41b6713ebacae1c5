"""Benchmark: fetch N IMS records over real HTTP from the sandbox into a fresh DuckDB file.

    .venv/bin/python -m bench.ingest [--scale 100000] [--gstin 27AAACW1234K1ZD]

Prints the seconds of the first fetch (all new), the second (all unchanged), and the split of
the first between reading (HTTP + JSON + flattening) and storing. Target: <= 15 s per fetch
for 100,000 records on a 2-core machine.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from core.clock import utc_now
from core.ims import fetch_ims, incoming_frame, read_ims, store_ims
from core.portal import GstnClient
from core.store import connect, transaction
from tests.fixtures import start_sandbox, stop_sandbox


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=100_000, help="IMS records per business")
    ap.add_argument("--gstin", default="27AAACW1234K1ZD")
    args = ap.parse_args()

    print(f"starting the sandbox with --scale {args.scale} ...", flush=True)
    sandbox, startup = timed(start_sandbox, seed=7, scale=args.scale)
    print(f"sandbox up in {startup:.1f} s at {sandbox.url}")
    os.environ["GSTN_API_URL"] = sandbox.url
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["IMS_DB_PATH"] = str(Path(tmp) / "bench.duckdb")
            with connect() as con:
                con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, 'Bench', "
                            "?)",
                            [args.gstin, args.gstin[:2]])
            client = GstnClient(timeout=120)
            first, t1 = timed(fetch_ims, args.gstin, client, triggered_by="bench")
            print(f"first fetch  (all new):       {t1:6.2f} s  {first}")
            second, t2 = timed(fetch_ims, args.gstin, client, triggered_by="bench")
            print(f"second fetch (all unchanged): {t2:6.2f} s  {second}")
            records, t_read = timed(read_ims, client, args.gstin)
            frame, t_frame = timed(incoming_frame, args.gstin, records)
            with connect() as con, transaction(con):
                _, t_store = timed(store_ims, con, args.gstin, frame, utc_now(), "bench")
            print(f"split of a fetch: read (HTTP+JSON+flatten) {t_read:.2f} s, frame {t_frame:.2f} "
                  f"s, store {t_store:.2f} s; client stats {client.stats}")
            print(f"RESULT records={first['total']} first_fetch_s={t1:.2f} second_fetch_s={t2:.2f} "
                  f"target_s=15 {'OK' if max(t1, t2) <= 15 else 'OVER'}")
    finally:
        stop_sandbox(sandbox)
    return 0


if __name__ == "__main__":
    sys.exit(main())
