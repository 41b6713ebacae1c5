"""Benchmark: apply_sync (reconcile + write back) for 1,000,000 IMS records in the store.

    .venv/bin/python -m bench.sync [--records 1000000] [--seed 1] [--db FILE]
                                   [--engine duckdb|postgres|both]

Builds a fresh DuckDB file with N IMS records and ~N purchase documents (the synthetic data
of bench/reco.py, inserted set-based from Polars frames), then times `core.ims.sync.apply_sync`
twice: the first sync (every recommendation is new: N action_log rows) and a second one
(steady state: nothing changed). Each includes reading the frames from the store, the
reconciliation, storing reco_runs/reco_results and updating ims_records in one transaction;
wall and CPU time (this process's, and on PostgreSQL the server's processes' too: the CPU
figures compare the engines' cost where the machine's load distorts wall time), the load
average and apply_sync's own per-step timings are printed.
Target (issue 5): <= 20 s for 1,000,000 records. `--engine postgres` runs it on a PostgreSQL
server the bench starts (bench/engines.py); `both` on the DuckDB file, then on PostgreSQL (team
mode's target, issue 28: within 2x of the DuckDB figures).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import polars as pl

from bench.engines import ENGINES, engines_of, print_comparison, server_cpu, store_on
from bench.reco import COMPANY, PeakRss, books_from, portal_frame
from core.documents import fy_expr
from core.ims import apply_sync
from core.store import connect, refresh_statistics, transaction

ROOT = Path(__file__).resolve().parents[1]

MONEY = ("txval", "igst", "cgst", "sgst", "cess")


def rupees(cols) -> str:
    return ", ".join(f"CAST({c} * 0.01::DECIMAL(3, 2) AS DECIMAL(18, 2)) AS {c}" for c in cols)


def fill_store(records: int, seed: int) -> tuple[int, int]:
    """N IMS records and their purchase register, written set-based in one transaction each."""
    portal, sups = portal_frame(records, seed)
    books = books_from(portal, sups, seed)
    portal = portal.with_columns(doc_no_key=pl.col("doc_no").str.strip_chars().str.to_uppercase(),
                                 fy=fy_expr("doc_date"))
    books = books.with_columns(doc_no_key=pl.col("doc_no").str.strip_chars().str.to_uppercase(),
                               fy=fy_expr("doc_date"))
    with connect() as con, transaction(con):
        con.register("portal", portal)      # a table for the SQL below, on either engine
        con.register("books", books)
        con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, 'Bench', '27')",
                    [COMPANY])
        con.execute(f"""
            INSERT INTO ims_records (record_id, rtin, section, stin, doc_type, doc_no, doc_no_key,
                doc_date, fy, occurrence, pos, txval, igst, cgst, sgst, cess, srcform, rtnprd,
                srcfilstatus, portal_action, ispendactblocked, stin_valid, first_seen, last_seen)
            SELECT portal_id, rtin, section, stin, doc_type, doc_no, doc_no_key, doc_date, fy, 0,
                pos, {rupees(MONEY)}, 'R1', rtnprd, srcfilstatus, 'N', ispendactblocked, true,
                now()::TIMESTAMP, now()::TIMESTAMP FROM portal""")
        con.execute("INSERT INTO purchase_batches (batch_id, file_name, sha256, template) "
                    "VALUES (1, 'bench.csv', 'bench', 'standard')")
        con.execute(f"""
            INSERT INTO purchase_docs (doc_id, batch_id, rtin, stin, doc_type, doc_no, doc_no_key,
                doc_date, fy, pos, rcm, {', '.join(MONEY)}, no_tax, line_no, line_count)
            SELECT pr_id, 1, rtin, stin, doc_type, doc_no, doc_no_key, doc_date, fy, pos, rcm,
                {rupees(MONEY)}, no_tax, line_no, 1 FROM books""")
        con.unregister("portal")
        con.unregister("books")
    with connect() as con:      # as the fetch and the purchase import do after a bulk write
        refresh_statistics(con, "ims_records", portal.height)
        refresh_statistics(con, "purchase_docs", books.height)
    return portal.height, books.height


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", help="the DuckDB file (default: a temporary one)")
    ap.add_argument("--engine", choices=ENGINES, default="duckdb")
    args = ap.parse_args()
    figures = {}
    with tempfile.TemporaryDirectory(prefix="ims-bench-sync-") as tmp:
        for engine in engines_of(args.engine):
            with store_on(engine, Path(tmp)):
                if args.db and engine == "duckdb":
                    os.environ["IMS_DB_PATH"] = args.db
                    for f in (Path(args.db), Path(args.db + ".wal")):
                        f.unlink(missing_ok=True)
                figures[engine] = run(args, engine)
    print_comparison(figures)


def run(args, engine: str) -> dict:
    """Fill the store, sync twice -> seconds of each sync (first, second)."""
    t0 = time.perf_counter()
    n_ims, n_books = fill_store(args.records, args.seed)
    print(f"[{engine}] store filled: {n_ims:,} IMS records, {n_books:,} purchase documents "
          f"in {time.perf_counter() - t0:.1f} s")
    seconds_of = {}
    for step, label in (("first", "first sync (all recommendations new)"),
                        ("second", "second sync (steady state)")):
        load = os.getloadavg()[0]
        with PeakRss() as rss:
            t, cpu, server = time.perf_counter(), time.process_time(), server_cpu()
            counts = apply_sync(COMPANY, actor="bench")
            seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
            server = server_cpu() - server
        seconds_of[step] = seconds
        seconds_of[f"{step}_cpu"] = cpu + server
        print(f"[{engine}] {label}: {seconds:.1f} s wall, {cpu:.1f} s CPU + {server:.1f} s "
              f"the server's = {cpu + server:.1f} s (load average "
              f"{load:.1f} before, {os.getloadavg()[0]:.1f} after, {os.cpu_count()} cores), "
              f"{counts['changed']:,} recommendations changed, peak RSS {rss.peak / 2**30:.2f} GB, "
              f"statuses {counts['statuses']}")
        print("  steps (wall / CPU s): " + ", ".join(
            f"{step} {t['wall']:.2f} / {t['cpu']:.2f}" for step, t in counts["timings"].items()))
    print(f"[{engine}] target: <= 20 s for 1,000,000 records -> last: "
          f"{'OK' if seconds <= 20 else 'OVER'} ({seconds:.1f} s for {n_ims:,})")
    return seconds_of


if __name__ == "__main__":
    main()
