"""Page-load benchmark: IMS Invoices, Reconciliation and the Dashboard over 1,000,000 IMS records.

    .venv/bin/python -m bench.pages [--records 1000000] [--rebuild] [--cpu] [--profile PAGE]
                                    [--engine duckdb|postgres]

Builds (once, cached in bench/out/) a store with N IMS records over 5 businesses and one
IMS vs PR reconciliation run per business (its results made from the records in SQL), then
times the IMS Invoices page's core queries alone and the whole page through Streamlit's
AppTest: first render (empty caches), a filter change, a page change and a bucket change.
Targets: first render <= 2 s, filter change <= 1 s.

`--cpu`: instead, the process CPU time (time.process_time: every thread of this process,
DuckDB's too; what eight sessions share on a loaded machine) of each page's first render
(empty caches) and of a rerun with the caches warm (another session opening the same page of
the same business and data version), each repeated 3 times. `--profile PAGE` prints the
top cumulative costs (cProfile) of that page's script run, warm caches.

`--engine postgres`: the same records generated in a PostgreSQL server the bench starts itself
(Debian's package, tests/pg.py, default durability), the IMS Invoices page on it (no
reconciliation runs there: `--cpu` and `--profile` are for the DuckDB file).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import threading
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app import ui
from core.ims import view
from core.store import connect, let_go_of_idle_files, transaction
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
        build_reco_runs(con)


def build_reco_runs(con) -> None:
    """One finished IMS vs PR run per business, its results the business's records (status,
    recommendation, reasons and amounts as the records say, books amounts a little off)."""
    con.execute("""
        INSERT INTO reco_runs (rtin, kind, periods, policy, tolerance, date_window, started_at,
                               finished_at, triggered_by)
        SELECT gstin, 'ims_vs_pr', '', 'balanced', 1, 3, now()::TIMESTAMP, now()::TIMESTAMP,
               'bench' FROM businesses ORDER BY gstin""")
    con.execute("""
        INSERT INTO reco_results (run_id, portal_id, ims_record_id, match_status, match_pass,
            recommended_action, reasons, company_gstin, supplier_gstin, doc_type, rtnprd,
            portal_doc_no, portal_doc_date, pr_doc_no, pr_doc_date, portal_txval, pr_txval,
            portal_tax, pr_tax, diff_txval, diff_tax)
        SELECT u.run_id, r.record_id, r.record_id, r.match_status, 'exact', r.recommended_action,
               CASE WHEN r.match_status = 'mismatch' THEN 'TAXABLE_VALUE;IGST' ELSE r.reasons END,
               r.rtin, r.stin, r.doc_type, r.rtnprd, r.doc_no, r.doc_date,
               CASE WHEN r.match_status <> 'missing_in_pr' THEN r.doc_no END,
               CASE WHEN r.match_status <> 'missing_in_pr' THEN r.doc_date END,
               r.txval, r.txval - 10, r.igst, r.igst - 1.8, 10, 1.8
        FROM ims_records r JOIN reco_runs u ON u.rtin = r.rtin""")


def build_store_postgres(url: str, records: int) -> None:
    """`build_store`'s records on PostgreSQL, generated by the server (its SQL dialect)."""
    with connect(url) as con, transaction(con):
        for g in GSTINS:
            con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, ?, ?)",
                        [g, f"Business {g[:2]}-{g[2:7]}", g[:2]])
        con.execute("""
            INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, doc_no_key, doc_date,
                fy, rtnprd, val, txval, igst, cgst, sgst, cess, srcform, srcfilstatus,
                portal_action, ispendactblocked, match_status, reasons, recommended_action,
                first_seen, last_seen)
            SELECT (?::VARCHAR[])[i % 5 + 1],
                   (ARRAY['b2b','b2b','b2b','b2bcn','b2bdn','b2ba','ecom'])[i % 7 + 1],
                   (27 + i % 3)::text || 'AAAAA' || lpad(((i / 7) % 5000)::text, 4, '0')
                       || 'A1Z' || (i % 10)::text,
                   (ARRAY['INV','INV','INV','CRN','DBN','INV','INV'])[i % 7 + 1],
                   'INV/' || (i % 13) || '/' || lpad(i::text, 6, '0'),
                   'INV/' || (i % 13) || '/' || lpad(i::text, 6, '0'),
                   DATE '2025-04-01' + (i % 240), '2025-26',
                   to_char(DATE '2025-04-01' + (i % 240), 'MMYYYY'),
                   (1000 + i % 9000) * 1.18, 1000 + i % 9000, (1000 + i % 9000) * 0.18, 0, 0, 0,
                   'R1', CASE WHEN i % 11 = 0 THEN 'Not Filed' ELSE 'Filed' END,
                   (ARRAY['N','N','N','A','R','P'])[i % 6 + 1],
                   CASE WHEN i % 13 = 0 THEN 'Y' ELSE 'N' END,
                   (ARRAY['exact','exact','partial','mismatch','probable','missing_in_pr',
                          'duplicate'])[i % 7 + 1],
                   CASE WHEN i % 7 = 2 THEN 'DOC_NO' END,
                   (ARRAY['A','A','A','P','P','P','R'])[i % 7 + 1],
                   now()::TIMESTAMP, now()::TIMESTAMP
            FROM generate_series(0, ? - 1) AS t(i)""", [GSTINS, records])
    with connect(url) as con:
        con.execute("VACUUM ANALYZE ims_records")


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


PAGES = {"ims_invoices": "pages/ims_invoices.py", "reconciliation": "pages/reconciliation.py",
         "dashboard": "pages/dashboard.py"}


def opened(page: str) -> AppTest:
    """A new session (its own AppTest) at `page`, the page not yet run."""
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=300)
    at.run()
    at.switch_page(PAGES[page])
    return at


def page_run(at: AppTest) -> tuple[float, float]:
    """(wall s, process CPU s) of one run of the page's script."""
    wall, cpu = time.perf_counter(), time.process_time()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_cpu(pages: list[str], repeat: int = 3) -> dict:
    """Per page: first render with empty caches, and a new session's render with warm caches
    (the same business and data version): [(wall, cpu)] x `repeat`."""
    figures = {}
    for page in pages:
        cold, warm = [], []
        for _ in range(repeat):
            ui.after_write()
            cold.append(page_run(opened(page)))
            warm.append(page_run(opened(page)))
        figures[page] = {"cold": cold, "warm": warm}
    return figures


def profile_page(page: str, top: int = 40) -> str:
    """cProfile of one warm run of `page` (AppTest runs the script in a thread of its own:
    the profiler is started in every new thread)."""
    page_run(opened(page))           # caches warm
    at = opened(page)
    profiler = cProfile.Profile()

    def start_in_thread(*_):
        sys.setprofile(None)
        profiler.enable()

    threading.setprofile(start_in_thread)
    try:
        page_run(at)
    finally:
        threading.setprofile(None)
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--cpu", action="store_true",
                        help="process CPU time per page render, cold and warm caches")
    parser.add_argument("--pages", default=",".join(PAGES), help="for --cpu: which pages")
    parser.add_argument("--repeat", type=int, default=3, help="for --cpu: runs of each")
    parser.add_argument("--profile", choices=list(PAGES), help="cProfile one page's warm run")
    parser.add_argument("--engine", choices=("duckdb", "postgres"), default="duckdb")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"pages_{args.records}.duckdb"
    if args.rebuild and path.exists():
        path.unlink()
    if args.engine == "postgres":
        server = start_server(durable=True)
        try:
            url = create_database(server, "pages")
            t0 = time.perf_counter()
            build_store_postgres(url, args.records)
            print(f"built {args.records:,} IMS records on PostgreSQL in "
                  f"{time.perf_counter() - t0:.1f} s")
            os.environ["IMS_DB_URL"] = url
            return measure(args)
        finally:
            let_go_of_idle_files()
            stop_server(server)
    if not path.exists():
        t0 = time.perf_counter()
        build_store(path, args.records)
        print(f"built {args.records:,} IMS records in {time.perf_counter() - t0:.1f} s -> {path}")
    os.environ["IMS_DB_PATH"] = str(path)
    return measure(args)


def measure(args) -> int:
    if args.profile:
        print(profile_page(args.profile))
        return 0
    if args.cpu:
        print(f"CPU per page render over {args.records:,} IMS records, load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for page, runs in bench_cpu(args.pages.split(","), args.repeat).items():
            for kind, pairs in runs.items():
                print(f"  {page:15s} {kind:5s} cpu " + " ".join(f"{c:6.2f}" for _, c in pairs)
                      + " s   wall " + " ".join(f"{w:6.2f}" for w, _ in pairs) + " s")
        return 0
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
