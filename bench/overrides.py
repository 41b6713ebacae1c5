"""Benchmark: decisions by hand at scale (issue 25): 10,000 overrides on a 1,000,000-record
business add at most 10 % to a sync.

    .venv/bin/python -m bench.overrides [--records 1000000] [--overrides 10000] [--repeat 5]
    .venv/bin/python -m bench.overrides --sync [--records 1000000] [--overrides 10000]

Synthesises the portal records and books of bench/reco.py, reconciles once to find the
engine's pairs, then takes --overrides decisions: half break an automatic pair, half link a
record the engine left unmatched to a books document it left unmatched (one-to-one, as the
store keeps them). Times the engine without and with the decisions, interleaved (--repeat
pairs, each pair run back to back so both halves see the same load), CPU time (process_time:
the machine is shared, wall time swings with the load; wall time is printed too), and reports
the median and the spread of the pairs' ratios, the read of the
decisions from a store included (a temporary DuckDB file holding them in `reco_overrides`), and checks
the outcome: no broken pair paired, every link kept with status `manual`.

`--sync` measures whole syncs instead (`core.ims.sync.apply_sync`, the store of bench/sync.py):
the steady-state sync (nothing changed) without decisions, then the same decisions stored in
`reco_overrides`, one sync that applies them, and the steady-state sync with them; best of two
each.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from statistics import median

import polars as pl

from bench.reco import COMPANY, books_from, portal_frame
from bench.sync import ROOT, fill_store
from core.clock import utc_now
from core.ims import apply_sync
from core.ims.overrides import decisions_in_force
from core.reco import reconcile
from core.store import connect, query_frame, transaction


def decisions(first: pl.DataFrame, count: int, seed: int) -> pl.DataFrame:
    """pid, bid, kind: count // 2 breaks of automatic pairs, the rest links of unmatched
    records to unmatched books documents (see the module docstring)."""
    paired = first.filter(pl.col("portal_id").is_not_null() & pl.col("pr_id").is_not_null())
    breaks = paired.sample(count // 2, seed=seed).select(
        pl.col("portal_id").alias("pid"), pl.col("pr_id").alias("bid"),
        pl.lit("break").alias("kind"))
    lone_p = first.filter(pl.col("pr_id").is_null())["portal_id"]
    lone_b = first.filter(pl.col("portal_id").is_null())["pr_id"]
    n = min(count - breaks.height, lone_p.len(), lone_b.len())
    links = pl.DataFrame({"pid": lone_p.sample(n, seed=seed), "bid": lone_b.sample(n, seed=seed),
                          "kind": ["link"] * n})
    return pl.concat([breaks, links.cast(breaks.schema)])


def timed(portal: pl.DataFrame, books: pl.DataFrame, chosen: pl.DataFrame | None):
    t, cpu = time.perf_counter(), time.process_time()
    out = reconcile(portal, books, overrides=chosen)
    return time.perf_counter() - t, time.process_time() - cpu, out


def store_decisions(chosen: pl.DataFrame) -> None:
    """The decisions as rows of reco_overrides, in force, in one transaction."""
    rows = chosen.with_row_index("override_id", offset=1).with_columns(
        pl.col("override_id").cast(pl.Int64), pl.lit(COMPANY).alias("rtin"),
        pl.lit("ims").alias("source"), pl.lit("INV").alias("doc_type"),
        pl.col("bid").cast(pl.Utf8).alias("doc_no"), pl.lit("bench").alias("reason"),
        pl.lit("active").alias("state"), pl.lit("bench").alias("created_by"),
        pl.lit(utc_now()).alias("created_at"))
    with connect() as con, transaction(con):
        con.register("bench_rows", rows)
        con.execute("INSERT INTO reco_overrides (override_id, rtin, source, record_id, "
                    "doc_id, doc_type, doc_no, kind, reason, state, created_by, created_at) "
                    "SELECT override_id, rtin, source, pid, bid, doc_type, doc_no, kind, "
                    "reason, state, created_by, created_at FROM bench_rows")
        con.unregister("bench_rows")


def sync_seconds() -> tuple[float, float, dict]:
    t, cpu = time.perf_counter(), time.process_time()
    counts = apply_sync(COMPANY, actor="bench")
    return time.perf_counter() - t, time.process_time() - cpu, counts


def sync_figures(records: int, count: int, seed: int) -> None:
    """The --sync measurement (module docstring)."""
    db = ROOT / "bench" / "out" / "overrides_sync.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    for f in (db, db.with_name(db.name + ".wal")):
        f.unlink(missing_ok=True)
    os.environ["IMS_DB_PATH"] = str(db)
    os.environ.pop("IMS_DB_URL", None)
    fill_store(records, seed)
    apply_sync(COMPANY, actor="bench")                     # first sync: everything new
    plain = [sync_seconds() for _ in range(2)]
    with connect(read_only=True) as con:
        first = pl.concat([
            query_frame(con, "SELECT record_id AS portal_id, counterpart_doc_id AS pr_id "
                             "FROM ims_records"),
            query_frame(con, "SELECT NULL::BIGINT AS portal_id, doc_id AS pr_id FROM "
                             "purchase_docs WHERE doc_id NOT IN (SELECT counterpart_doc_id "
                             "FROM ims_records WHERE counterpart_doc_id IS NOT NULL)")])
    chosen = decisions(first, count, seed)
    store_decisions(chosen)
    applied = sync_seconds()
    decided = [sync_seconds() for _ in range(2)]
    print(f"{records:,} records, {chosen.height:,} decisions; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for label, runs in (("steady sync without decisions", plain),
                        ("steady sync with them", decided)):
        print(f"{label}: " + ", ".join(f"{w:.1f} s wall / {c:.1f} s CPU" for w, c, _ in runs)
              + "; reconcile step " + ", ".join(f"{r['timings']['reconcile']['cpu']:.2f} s CPU"
                                                 for _, _, r in runs))
    print(f"the sync that applied them: {applied[0]:.1f} s wall, {applied[1]:.1f} s CPU, "
          f"{applied[2]['changed']:,} recommendations changed")
    best = [min(w for w, _, _ in runs) for runs in (plain, decided)]
    cpu = [min(c for _, c, _ in runs) for runs in (plain, decided)]
    print(f"added to a steady sync: {(best[1] / best[0] - 1) * 100:+.1f} % wall, "
          f"{(cpu[1] / cpu[0] - 1) * 100:+.1f} % CPU (target <= 10 %)")


def store_read_seconds(chosen: pl.DataFrame) -> float:
    """Seconds to read the decisions in force from a store holding them."""
    with tempfile.TemporaryDirectory() as folder:
        os.environ["IMS_DB_PATH"] = os.path.join(folder, "bench.duckdb")
        os.environ.pop("IMS_DB_URL", None)
        store_decisions(chosen)
        t = time.perf_counter()
        with connect(read_only=True) as con:
            read = decisions_in_force(con, COMPANY)
        seconds = time.perf_counter() - t
    assert read.height == chosen.height
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--overrides", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sync", action="store_true", help="time whole syncs (module docstring)")
    args = ap.parse_args()
    if args.sync:
        sync_figures(args.records, args.overrides, args.seed)
        return
    portal, sups = portal_frame(args.records, args.seed)
    books = books_from(portal, sups, args.seed)
    reconcile(portal.head(2000), books.head(2000))  # warm up (imports, thread pools)
    first = reconcile(portal, books)
    chosen = decisions(first, args.overrides, args.seed)
    print(f"{portal.height:,} portal x {books.height:,} books; {chosen.height:,} decisions "
          f"({(chosen['kind'] == 'break').sum():,} breaks, {(chosen['kind'] == 'link').sum():,} "
          f"links); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    plain, decided, out = [], [], None
    for i in range(args.repeat):      # interleaved pairs, the order turned each time
        if i % 2:
            *took, out = timed(portal, books, chosen)
            plain.append(timed(portal, books, None)[:2])
        else:
            plain.append(timed(portal, books, None)[:2])
            *took, out = timed(portal, books, chosen)
        decided.append(tuple(took))
    pairs = out.filter(pl.col("portal_id").is_not_null() & pl.col("pr_id").is_not_null())
    breaks, links = (chosen.filter(pl.col("kind") == k) for k in ("break", "link"))
    assert pairs.join(breaks, left_on=["portal_id", "pr_id"], right_on=["pid", "bid"],
                      how="semi").is_empty(), "a broken pair was paired"
    kept = pairs.join(links, left_on=["portal_id", "pr_id"], right_on=["pid", "bid"], how="semi")
    assert kept.height == links.height and (kept["match_status"] == "manual").all()
    read = store_read_seconds(chosen)
    print(f"load average after the runs {os.getloadavg()[0]:.1f}")
    for label, runs in (("without decisions", plain), (f"with {chosen.height:,}", decided)):
        print(f"engine {label}: CPU " + ", ".join(f"{c:.2f}" for _, c in runs)
              + " s; wall " + ", ".join(f"{w:.2f}" for w, _ in runs) + " s")
    print(f"reading the decisions from the store: {read:.3f} s")
    # each repeat is a pair (without, with) run back to back: its ratio sees one load
    ratios = sorted((cd + read) / cp - 1 for (_, cp), (_, cd) in zip(plain, decided))
    walls = sorted((wd + read) / wp - 1 for (wp, _), (wd, _) in zip(plain, decided))
    print(f"added CPU time (process_time, read included), per interleaved pair: median "
          f"{median(ratios) * 100:+.1f} %, spread {ratios[0] * 100:+.1f} .. "
          f"{ratios[-1] * 100:+.1f} % over {len(ratios)} pairs (target <= 10 %)")
    print(f"added wall time: median {median(walls) * 100:+.1f} %, spread "
          f"{walls[0] * 100:+.1f} .. {walls[-1] * 100:+.1f} %; every break held, "
          f"{kept.height:,} links kept as manual")

if __name__ == "__main__":
    main()
