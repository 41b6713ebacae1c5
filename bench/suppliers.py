"""How long the Suppliers page's reads and the worker's case review take at scale.

    .venv/bin/python -m bench.suppliers [--scale 20000] [--cases 200]

Starts the sandbox for one demo GSTIN with `--scale` IMS records, fetches IMS and GSTR-2A into a
fresh DuckDB store, imports a purchase register made of the fetched documents (every tenth with
its taxable value off by 10 %, and one invoice per supplier the portal does not have), syncs,
opens `--cases` follow-up cases, then times: the worklist, the rule 37A flags, the hold-payment
list, and `review_cases` (the worker's step after each sync).
"""
from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

import polars as pl

from core import suppliers
from core.clock import today
from core.ims import apply_sync
from core.ims.fetch import fetch_business
from core.portal.client import GstnClient
from core.purchase import import_purchase_file
from core.store import connect
from tests.fixtures import add_business, start_sandbox, stop_sandbox

G = "27AAACW1234K1ZD"


def timed(label: str, fn):
    start = time.perf_counter()
    out = fn()
    print(f"{label:<28} {time.perf_counter() - start:7.2f} s")
    return out


def write_books(path: Path) -> None:
    with connect() as con:
        rows = con.execute("""
            SELECT stin, doc_type, doc_no, doc_date, pos, txval, igst, cgst, sgst, cess
            FROM ims_records WHERE section IN ('b2b', 'b2bcn', 'b2bdn')
              AND removed_at IS NULL ORDER BY record_id""").fetchall()
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["company_gstin", "supplier_gstin", "doc_type", "doc_no", "doc_date",
                    "place_of_supply", "reverse_charge", "taxable_value", "igst", "cgst", "sgst",
                    "cess"])
        seen = set()
        for i, (stin, kind, no, day, pos, tx, ig, cg, sg, ce) in enumerate(rows):
            sign = -1 if kind == "CRN" else 1
            tx = float(tx) * (1.1 if i % 10 == 0 else 1)
            w.writerow([G, stin, kind, no, day.isoformat(), pos, "N",
                        *[sign * float(v) for v in (tx, ig, cg, sg, ce)]])
            if stin not in seen:
                seen.add(stin)
                w.writerow([G, stin, "INV", f"NOTON-{len(seen)}", day.isoformat(), pos, "N",
                            1000, 180, 0, 0, 0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20000)
    parser.add_argument("--cases", type=int, default=200)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-suppliers-"))
    os.environ["IMS_DB_PATH"] = str(root / "ims.duckdb")
    os.environ.pop("IMS_DB_URL", None)
    sb = start_sandbox(seed=3, scale=args.scale, extra=["--gstin", G])
    os.environ["GSTN_API_URL"] = sb.url
    try:
        add_business(G, "Western Agro")
        timed("fetch (IMS + 2A)", lambda: fetch_business(G, GstnClient()))
        write_books(root / "books.csv")
        timed("import books", lambda: import_purchase_file(str(root / "books.csv"),
                                                           company_gstin=G, actor="bench"))
        timed("sync", lambda: apply_sync(G, actor="bench"))
        items = timed("worklist", lambda: suppliers.worklist(G))
        print(f"  {items.height} items, {items['stin'].n_unique()} suppliers; "
              f"{dict(items.group_by('kind').len().iter_rows())}")
        timed("rule 37A flags", lambda: suppliers.rule_37a_flags([G], today()))
        timed("hold-payment list", lambda: suppliers.hold_payment_list([G], today(), {}))
        stins = items["stin"].unique(maintain_order=True).to_list()[:args.cases]
        timed(f"open {len(stins)} cases", lambda: [
            suppliers.open_case(G, s, items.filter(pl.col("stin") == s), "bench")
            for s in stins])
        timed("review_cases", lambda: suppliers.review_cases(G, "bench"))
    finally:
        stop_sandbox(sb)


if __name__ == "__main__":
    main()
