"""Accuracy of the reconciliation links against the sandbox generator's ground truth.

    .venv/bin/python -m bench.accuracy [--records 100000] [--seed 5] [--dir DIR]

Generates (or reuses) `python -m sandbox generate` files, reads them with the same code as the
`python -m core.reco` CLI, reconciles IMS against the purchase register, and reports:
- precision: of the links made (portal record <-> books document), the share the ground truth
  confirms (target >= 99.9 %);
- recall: of the pairs the rules can recover (ground truth `recoverable = Y`), the share linked
  (target >= 99 %);
plus both per noise kind, and the wrong links found.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from core.reco import raw_no_expr, read_books, read_portal, reconcile

ROOT = Path(__file__).resolve().parents[1]

PORTAL_KEY = ["portal_section", "portal_stin", "portal_no", "portal_rtnprd"]


def generate(out: Path, records: int, seed: int) -> None:
    subprocess.run([sys.executable, "-m", "sandbox", "generate", "--out", str(out),
                    "--records", str(records), "--seed", str(seed)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def truth_frame(path: Path) -> pl.DataFrame:
    truth = pl.read_csv(path, infer_schema=False)
    return truth.with_columns(pl.col("pr_line").cast(pl.Int64),
                              raw_no_expr("portal_doc_no").alias("portal_no"))


def links(out_dir: Path) -> tuple[pl.DataFrame, float]:
    """Our pairs as (pr_line, portal key, status, pass), and the reconcile time."""
    books = read_books(str(out_dir / "purchase_register.csv"))
    _, portal, rtin = read_portal(str(out_dir / "ims.json"))
    portal = portal.with_columns(pl.lit(rtin).alias("rtin"))
    t = time.perf_counter()
    result = reconcile(portal, books.filter(pl.col("rtin") == rtin))
    took = time.perf_counter() - t
    keys = portal.select("portal_id", pl.col("section").alias("portal_section"),
                         pl.col("stin").alias("portal_stin"),
                         raw_no_expr("doc_no").alias("portal_no"),
                         pl.col("rtnprd").alias("portal_rtnprd"))
    # an older version of an amended document shows its latest's books document for
    # reference only: that is no link of its own
    pairs = result.filter(pl.col("portal_id").is_not_null() & pl.col("pr_id").is_not_null()
                          & (pl.col("match_status") != "amended"))
    return pairs.select("portal_id", "pr_line", "match_status", "match_pass").join(
        keys, on="portal_id"), took


def score(pairs: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """Precision of our links and recall of the recoverable pairs."""
    by_line = truth.filter(pl.col("pr_line").is_not_null() & (pl.col("portal_section") != ""))
    checked = pairs.join(by_line.select("pr_line", *[pl.col(c).alias(f"t_{c}") for c in PORTAL_KEY],
                                        "noise_kind"), on="pr_line", how="left")
    right = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"t_{c}")) for c in PORTAL_KEY])
    checked = checked.with_columns(right.alias("correct"))
    wanted = by_line.filter((pl.col("recoverable") == "Y")
                            & ~pl.col("portal_section").str.starts_with("2a_"))
    found = wanted.join(pairs.select("pr_line", *PORTAL_KEY), on=["pr_line", *PORTAL_KEY],
                        how="semi")
    # a multi-line document counts once: by its portal record
    wanted_docs = wanted.unique(PORTAL_KEY)
    found_docs = found.unique(PORTAL_KEY)
    return {
        "links": pairs.height, "correct": int(checked["correct"].sum()),
        "precision": checked["correct"].mean() if pairs.height else 1.0,
        "recoverable": wanted_docs.height, "recovered": found_docs.height,
        "recall": found_docs.height / wanted_docs.height if wanted_docs.height else 1.0,
        "wrong": checked.filter(~pl.col("correct")),
        "missed": wanted_docs.join(found_docs, on=PORTAL_KEY, how="anti"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--dir", help="reuse generated files in DIR")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.dir) if args.dir else Path(tmp)
        if not (out / "ims.json").exists():
            t = time.perf_counter()
            generate(out, args.records, args.seed)
            print(f"generated {args.records:,} records in {time.perf_counter() - t:.1f} s")
        pairs, took = links(out)
        result = score(pairs, truth_frame(out / "ground_truth.csv"))
    print(f"reconcile {took:.2f} s; links {result['links']:,}, correct {result['correct']:,}: "
          f"precision {result['precision']:.4%}")
    print(f"recoverable pairs {result['recoverable']:,}, recovered {result['recovered']:,}: "
          f"recall {result['recall']:.4%}")
    with pl.Config(tbl_rows=30, tbl_cols=12, fmt_str_lengths=30):
        if result["wrong"].height:
            print("wrong links:", result["wrong"].head(20))
        print("missed by noise kind:", result["missed"].group_by("noise_kind").len().sort("len"))


if __name__ == "__main__":
    main()
