"""`python -m core.itc_summary` (and `python -m core itc-summary`): GSTR-3B Table 4 from a
GSTR-2B file and, optionally, a purchase-register file, without the database.

    python -m core.itc_summary --gstr2b 2B.json [--purchase PR.csv] --out table4.csv

The output has one line per Table 4 row (`4A1` `4A2` `4A3` `4A4` `4A5` `4B1` `4B2` `4C` `4D1`
`4D2`) and source (`2b`: the GSTR-2B's documents, reversed where the books do not claim them;
`books`: what the purchase register claims), columns `row,source,igst,cgst,sgst,cess`, amounts
in rupees with two decimals: the same figures as the ITC Summary page and its Excel
(docs/month-close.md, "The ITC summary"). Sections of the 2B no rule places and the checks of
GSTN's advisory of 29 December 2025 are printed as warnings. Exit 0 on success; 2 on unusable
input, with a message naming the file, line and field.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from core.export import to_csv_bytes
from core.money import paise_text
from core.month_close.itc_store import build_summary, period_days
from core.month_close.itc_summary import HEADS, file_lines
from core.periods import is_period
from core.portal import PayloadError, is_gstr2b, read_2b_frame
from core.reco.cli import UnusableInput, read_books, read_json_file

COLUMNS = ["row", "source", *HEADS]


def parse_args(argv: list[str] | None, prog: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    ap.add_argument("--gstr2b", required=True, help="a GSTR-2B document (JSON, GET2B answer)")
    ap.add_argument("--purchase", help="purchase register (CSV/XLSX, standard template)")
    ap.add_argument("--out", required=True, help="output CSV")
    ap.add_argument("--frequency", choices=("monthly", "quarterly"), default="monthly",
                    help="filing frequency: which books dates are the period's (default monthly)")
    return ap.parse_args(argv)


def read_gstr2b(path: str) -> tuple[dict, pl.DataFrame]:
    """(head, flat documents) of a GSTR-2B file, or UnusableInput naming what is wrong."""
    payload = read_json_file(path)
    if not is_gstr2b(payload):
        raise UnusableInput(f"{path}, line 1, field 'docdata': not a GSTR-2B document (an "
                            "object with 'data' holding 'docdata' or 'docRejdata')")
    try:
        head, docs = read_2b_frame(payload)
    except PayloadError as exc:
        raise UnusableInput(f"{path}: {exc}") from None
    if not is_period(str(head.get("rtnprd") or "")):
        raise UnusableInput(f"{path}, field 'rtnprd': '{head.get('rtnprd')}' is not a return "
                            "period MMYYYY (e.g. 102025)")
    return head, docs


def table4(gstr2b: str, purchase: str | None, frequency: str = "monthly"):
    """The ItcSummary of the files (core.month_close.itc_store.ItcSummary)."""
    head, docs = read_gstr2b(gstr2b)
    books = read_books(purchase) if purchase else None
    gstin = head.get("gstin") or ""
    if books is not None and gstin:
        books = books.filter(pl.col("rtin") == gstin)
    first, last = period_days(head["rtnprd"], frequency)
    return build_summary(gstin, head["rtnprd"], head, docs, books, first, last)


def output_frame(summary) -> pl.DataFrame:
    """The file's lines, amounts in rupees with two decimals ('-120.50' below zero)."""
    lines = file_lines(summary.figures)
    frame = pl.DataFrame(lines, schema={"row": pl.Utf8, "source": pl.Utf8,
                                        **{h: pl.Int64 for h in HEADS}})
    return frame.with_columns(
        [pl.concat_str([pl.when(pl.col(h) < 0).then(pl.lit("-")).otherwise(pl.lit("")),
                        paise_text(pl.col(h))]).alias(h) for h in HEADS]).select(COLUMNS)


def main(argv: list[str] | None = None, prog: str = "python -m core.itc_summary") -> int:
    args = parse_args(argv, prog)
    try:
        summary = table4(args.gstr2b, args.purchase, args.frequency)
    except UnusableInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    Path(args.out).write_bytes(to_csv_bytes(output_frame(summary)))
    for name in summary.unread:
        print(f"warning: {args.gstr2b}: section '{name}' is not placed in Table 4",
              file=sys.stderr)
    for said in summary.checks:
        print(f"warning: {said}", file=sys.stderr)
    print(f"{args.out}: Table 4 of {summary.period} ({summary.first_day:%d-%m-%Y} to "
          f"{summary.last_day:%d-%m-%Y}), {summary.entries.height} document lines")
    return 0

