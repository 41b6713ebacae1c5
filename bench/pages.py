"""Page-load benchmark: the IMS Invoices page over 1,000,000 IMS records.

    .venv/bin/python -m bench.pages [--records 1000000] [--rebuild] [--engine duckdb|postgres]

Builds (once, cached in bench/out/) a store with N IMS records over 5 businesses, then times
the page's core queries alone and the whole page through Streamlit's AppTest: first render
(empty caches), a filter change, a page change and a bucket change. Targets: first render
<= 2 s, filter change <= 1 s.

`--engine postgres`: the same store copied (`core.store.copy`) into a PostgreSQL server the
bench starts itself (Debian's package, tests/pg.py, default durability), the page on it.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app import ui
from core.ims import view
from core.store import connect, let_go_of_idle_files, transaction
from core.store.copy import copy_store
from tests.pg import create_database, start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
GSTINS = ["27AAPFU0939F1ZV", "29AAGCB7383J1Z4", "33GSPTN0791G1Z5", "24AAQCA8719H1ZC",
          "27AAACW1234K1ZD"]


def build_store(path: Path, records: int) -> None:
    """N synthetic IMS records, generated in SQL (sections, suppliers, actions, statuses)."""
    with connect(str(path)) as con, transaction(con):
        for g in GSTINS:
            con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, ?, ?)",
                        [g, f"Business {g[:2]}-{g[2:7]}", g[:2]])
        con.execute("""
            INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, doc_no_key, doc_date,
                fy, rtnprd, val, txval, igst, cgst, sgst, cess, srcform, srcfilstatus,
                portal_action, ispendactblocked, match_status, reasons, recommended_action,
                first_seen, last_seen)
            SELECT list_extract(?::VARCHAR[], (i % 5 + 1)::INTEGER),
                   list_extract(['b2b','b2b','b2b','b2bcn','b2bdn','b2ba','ecom'],
                                (i % 7 + 1)::INTEGER),
                   printf('%02dAAAAA%04dA1Z%d', 27 + i % 3, (i // 7) % 5000, i % 10),
                   list_extract(['INV','INV','INV','CRN','DBN','INV','INV'], (i % 7 + 1)::INTEGER),
                   printf('INV/%d/%06d', i % 13, i), printf('INV/%d/%06d', i % 13, i),
                   DATE '2025-04-01' + (i % 240)::INTEGER, '2025-26',
                   strftime(DATE '2025-04-01' + (i % 240)::INTEGER, '%m%Y'),
                   (1000 + i % 9000) * 1.18, 1000 + i % 9000, (1000 + i % 9000) * 0.18, 0, 0, 0,
                   'R1', CASE WHEN i % 11 = 0 THEN 'Not Filed' ELSE 'Filed' END,
                   list_extract(['N','N','N','A','R','P'], (i % 6 + 1)::INTEGER),
                   CASE WHEN i % 13 = 0 THEN 'Y' ELSE 'N' END,
                   list_extract(['exact','exact','partial','mismatch','probable','missing_in_pr',
                                 'duplicate'], (i % 7 + 1)::INTEGER),
                   CASE WHEN i % 7 = 2 THEN 'DOC_NO' END,
                   list_extract(['A','A','A','P','P','P','R'], (i % 7 + 1)::INTEGER),
                   now()::TIMESTAMP, now()::TIMESTAMP
            FROM range(?) t(i)""", [GSTINS, records])


def timed(fn, repeat: int = 3) -> tuple[float, float]:
    """(first, median of the rest) in seconds."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return runs[0], statistics.median(runs[1:] or runs)


def bench_queries() -> None:
    f = view.ImsFilter()
    narrow = view.ImsFilter(sections=("b2bcn",), doc_search="INV/3/")
    for name, call in [
        ("filter_options", lambda: view.filter_options(GSTINS)),
        ("bucket_counts (no filter)", lambda: view.bucket_counts(GSTINS, f)),
        ("records_page 1 (no action)", lambda: view.records_page(GSTINS, f, "no_action", 1)),
        ("records_page 2000", lambda: view.records_page(GSTINS, f, "no_action", 2000)),
        ("bucket_counts (section + doc search)", lambda: view.bucket_counts(GSTINS, narrow)),
        ("records_page 1 (section + doc search)",
         lambda: view.records_page(GSTINS, narrow, "no_action", 1)),
    ]:
        first, median = timed(call)
        print(f"  {name:42s} first {first * 1000:7.0f} ms   median {median * 1000:7.0f} ms")


def bench_page() -> dict:
    ui.after_write()  # empty caches: a true first render
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/ims_invoices.py")
    figures = {}

    def step(name: str, action=None) -> None:
        if action:
            action()
        t0 = time.perf_counter()
        at.run()
        figures[name] = time.perf_counter() - t0
        assert not at.exception, [e.value for e in at.exception]

    step("first render")
    step("filter change (section)", lambda: at.multiselect(key="f_section").set_value(["b2bcn"]))
    step("filter change (doc search)", lambda: at.text_input(key="f_doc").set_value("INV/3/"))
    step("filter change (period)", lambda: at.multiselect(key="f_period").set_value(["102025"]))
    step("page change", lambda: at.pagination[0].set_value(2))
    step("bucket change", lambda: at.segmented_control[0].set_value("accepted"))
    step("rerun, nothing changed")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--engine", choices=("duckdb", "postgres"), default="duckdb")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"pages_{args.records}.duckdb"
    if args.rebuild and path.exists():
        path.unlink()
    if not path.exists():
        t0 = time.perf_counter()
        build_store(path, args.records)
        print(f"built {args.records:,} IMS records in {time.perf_counter() - t0:.1f} s -> {path}")
    os.environ["IMS_DB_PATH"] = str(path)
    if args.engine == "postgres":
        server = start_server(durable=True)
        try:
            url = create_database(server, "pages")
            t0 = time.perf_counter()
            copy_store(url, str(path))
            let_go_of_idle_files()
            print(f"copied into PostgreSQL in {time.perf_counter() - t0:.1f} s")
            os.environ["IMS_DB_URL"] = url
            with connect(url) as con:
                con.execute("VACUUM ANALYZE ims_records")
            return measure(args)
        finally:
            let_go_of_idle_files()
            stop_server(server)
    return measure(args)


def measure(args) -> int:
    print(f"IMS Invoices page over {args.records:,} IMS records on {args.engine} "
          f"({os.cpu_count()} cores, shared machine, load {os.getloadavg()[0]:.1f})")
    print("core queries:")
    bench_queries()
    print("whole page (AppTest, script run incl. queries and element building):")
    figures = bench_page()
    for name, seconds in figures.items():
        target = 2.0 if name == "first render" else 1.0 if name.startswith("filter") else None
        verdict = ("" if target is None else "  OK" if seconds <= target
                   else f"  OVER {target:.0f} s target")
        print(f"  {name:32s} {seconds * 1000:7.0f} ms{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
