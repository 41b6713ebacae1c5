"""Benchmark: purchase-register validation and import (issue 3).

    .venv/bin/python -m bench.purchase [--lines 1000000] [--xlsx-rows 100000] [--keep DIR]

Generates a realistic standard-template CSV (multi-line documents, credit notes as
negatives, intra- and inter-state suppliers, exempt lines, 1% of lines with 'Rs 1234.5'
amounts and DD/MM/YYYY dates) with Polars and an .xlsx with
xlsxwriter (constant_memory), then validates and imports each into a fresh DuckDB file.
Targets: 1,000,000 CSV lines <= 20 s; 100,000 xlsx rows <= 15 s (validate + import).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import xlsxwriter

from core.gstin import make_gstin
from core.purchase import import_purchase_file, read_purchase_documents
from core.store import connect

COMPANY = "27AAACW1234K1ZD"
HEADER = ["company_gstin", "supplier_gstin", "supplier_name", "doc_type", "doc_no", "doc_date",
          "place_of_supply",
          "reverse_charge", "taxable_value", "igst", "cgst", "sgst", "cess", "doc_value"]


def suppliers(count: int, rng: random.Random) -> pl.DataFrame:
    states = ["27"] * 6 + ["29", "24", "33", "07", "09", "36", "19"]
    rows = []
    for i in range(count):
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        pan = ("".join(rng.choice(letters) for _ in range(3)) + rng.choice("CFP")
               + rng.choice(letters) + f"{rng.randint(0, 9999):04d}" + rng.choice("ABCDEFGHJK"))
        rows.append((make_gstin(rng.choice(states), pan), f"Supplier {i} Pvt Ltd"))
    return pl.DataFrame(rows, schema=["supplier_gstin", "supplier_name"], orient="row")


def register_lines(lines: int, seed: int = 11) -> pl.DataFrame:
    """`lines` purchase-register lines in the standard template, as text-ready columns."""
    rng = random.Random(seed)
    sup = suppliers(3000, rng)
    n_docs = lines * 2 // 3 + 10
    today = dt.date.today()
    docs = pl.DataFrame({"doc": pl.arange(0, n_docs, eager=True)}).with_columns(
        sup=(pl.col("doc") * 7919 % sup.height),
        per=pl.col("doc").hash(seed) % 3 + 1, age=pl.col("doc").hash(seed + 1) % 360,
        crn=pl.col("doc").hash(seed + 2) % 20 == 0)
    df = docs.with_columns(i=pl.int_ranges(0, pl.col("per"))).explode("i").head(lines)
    df = df.join(sup.with_row_index("sup").with_columns(pl.col("sup").cast(pl.Int64)), on="sup",
                 how="left")
    base = (pl.col("doc").hash(seed + 3) % 500000 + 100) + pl.col("i") * 37
    exempt = (pl.col("i") == 2)
    sign = pl.when(pl.col("crn")).then(-1).otherwise(1)
    intra = pl.col("supplier_gstin").str.slice(0, 2) == "27"
    tax = pl.when(exempt).then(0).otherwise(base * 18 // 100)
    df = df.with_columns(txval=base * sign, igst=pl.when(intra).then(0).otherwise(tax) * sign,
                         cgst=pl.when(intra).then(tax // 2).otherwise(0) * sign)
    odd = pl.col("doc").hash(seed + 4) % 100 == 0  # 1% of lines written the way people type them
    day = pl.lit(today) - pl.duration(days=pl.col("age"))
    return df.select(
        pl.lit(COMPANY).alias("company_gstin"), "supplier_gstin", "supplier_name",
        pl.when(pl.col("crn")).then(pl.lit("CRN")).otherwise(pl.lit("INV")).alias("doc_type"),
        pl.format("SI/25-26/{}", pl.col("doc")).alias("doc_no"),
        pl.when(odd).then(day.dt.strftime("%d/%m/%Y")).otherwise(day.dt.strftime("%Y-%m-%d"))
        .alias("doc_date"),
        pl.lit("27").alias("place_of_supply"), pl.lit("N").alias("reverse_charge"),
        pl.when(odd).then(pl.format("Rs {}", (pl.col("txval") / 100).round(2)))
        .otherwise((pl.col("txval") / 100).round(2).cast(pl.Utf8)).alias("taxable_value"),
                     (pl.col("igst") / 100).round(2).alias("igst"),
        (pl.col("cgst") / 100).round(2).alias("cgst"),
                     (pl.col("cgst") / 100).round(2).alias("sgst"), pl.lit(0).alias("cess"),
        ((pl.col("txval") + pl.col("igst") + 2 * pl.col("cgst")) / 100).round(2).alias("doc_value"))


def write_xlsx(df: pl.DataFrame, path: Path) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("Purchases")
    date_fmt = book.add_format({"num_format": "dd-mm-yyyy"})
    ws.write_row(0, 0, HEADER)
    for r, row in enumerate(df.iter_rows(), start=1):
        ws.write_row(r, 0, row[:5])
        if "-" in row[5]:
            ws.write_datetime(r, 5, dt.datetime.fromisoformat(row[5]), date_fmt)
        else:
            ws.write_string(r, 5, row[5])
        ws.write_row(r, 6, row[6:8])
        ws.write(r, 8, row[8] if row[8].startswith("Rs") else float(row[8]))
        ws.write_row(r, 9, row[9:])
    book.close()


def timed_import(path: Path, db: Path) -> dict:
    os.environ["IMS_DB_PATH"] = str(db)
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, 'Bench Works', "
                    "'27')", [COMPANY])
    started = time.perf_counter()
    v = read_purchase_documents(path, company_gstins=[COMPANY])
    validated = time.perf_counter() - started
    started = time.perf_counter()
    result = import_purchase_file(path, actor="bench")
    imported = time.perf_counter() - started
    with connect() as con:
        stored = con.execute("SELECT count(*), sum(txval) FROM purchase_docs").fetchone()
    assert result.ok, result.summary() + "\n" + "\n".join(v.messages())
    return {"lines": v.line_count, "docs": v.docs.height, "stored": stored[0],
            "warnings": v.warning_count,
            "validate_s": validated, "import_s": imported}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--keep", help="write the files here and keep them")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench_purchase_"))
    work.mkdir(parents=True, exist_ok=True)
    ok = True
    for kind, rows, limit in (("csv", args.lines, 20.0), ("xlsx", args.xlsx_rows, 15.0)):
        started = time.perf_counter()
        df = register_lines(rows)
        path = work / f"purchase_{rows}.{kind}"
        df.write_csv(path) if kind == "csv" else write_xlsx(df, path)
        made = time.perf_counter() - started
        db = work / f"bench_{kind}.duckdb"
        db.unlink(missing_ok=True)
        r = timed_import(path, db)
        # import_purchase_file validates again (against the store) and writes: the user's wait
        total = r["import_s"]
        ok &= total <= limit
        print(f"{kind}: {r['lines']:,} lines ({path.stat().st_size / 1e6:.0f} MB, generated in "
              f"{made:.1f} s) -> "
              f"{r['docs']:,} documents; read+validate {r['validate_s']:.1f} s; validate+import "
              f"(one call) "
              f"{total:.1f} s (target <= {limit:.0f} s) {'OK' if total <= limit else 'SLOW'}; "
              f"{r['stored']:,} stored; {r['warnings']:,} warnings")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
