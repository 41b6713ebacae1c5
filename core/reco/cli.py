"""`python -m core.reco`: reconcile a purchase-register file with a portal JSON file.

    python -m core.reco --purchase PR.csv --portal PORTAL.json --out OUT.csv
        [--policy balanced|strict] [--tolerance 1.0] [--date-window 10] [--gstin G]

The portal file may be an IMS GETINV answer, GSTR-2A or a
GSTR-2B document (`{"data": {"docdata": ...}}`: kind 2b_vs_pr, core/reco/vs_2b.py; the
output then adds itcavl, rsn, supfildt, supprd, trdnm, rejected_in_ims, itc_advice).
No database is touched, so no decision by hand applies: the engine alone decides (decisions
are taken and kept in the app; docs/reconciliation.md, "Decisions by hand"). Exit 0 on success; 2 on unusable input, with a message naming the
file, line and field. The output has the columns of docs/interfaces.md first, then the
proposed ITC-reduction answer and remark, then extra columns (amounts in rupees, 2 decimals),
spreadsheet-safe. The purchase file's optional ITC-claimed columns feed the answer.
"""
from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from core.export import write_csv_file
from core.gstin import gstin_problem
from core.json_decode import decode_json
from core.portal import (
    PayloadError,
    ims_json_frame,
    is_gstr2b,
    read_2b_frame,
    read_records_frame,
    recipient_gstin,
)
from core.purchase import FileProblem, read_purchase_documents
from core.reco.engine import reconcile
from core.reco.recommend import POLICIES
from core.reco.vs_2b import FACTS, portal_frame_2b, reconcile_2b

CONTRACT_COLUMNS = [
    "match_status", "recommended_action", "reasons", "company_gstin", "supplier_gstin",
    "doc_type", "portal_doc_no", "portal_doc_date", "pr_doc_no", "pr_doc_date", "pr_line",
    "portal_txval", "pr_txval", "portal_tax", "pr_tax", "diff_txval", "diff_tax"]
DECLARATION_COLUMNS = ["itc_red_req", "decl_igst", "decl_cgst", "decl_sgst", "decl_cess",
                       "supplier_remark"]
EXTRA_COLUMNS = [
    "match_pass", "matched_on", "rtnprd", "section", "diff_igst", "diff_cgst", "diff_sgst",
    "diff_cess", "nearest_doc_no", "nearest_reason", "pr_supplier_gstin", "srcfilstatus",
    "ispendactblocked", "is_itc_red_req_blocked", "is_remarks_blocked", "pr_itc_claimed",
    "portal_id", "pr_id"]
PAISE_COLUMNS = ["portal_txval", "pr_txval", "portal_tax", "pr_tax", "diff_txval", "diff_tax",
                 "diff_igst", "diff_cgst", "diff_sgst", "diff_cess", "decl_igst", "decl_cgst",
                 "decl_sgst", "decl_cess"]
GSTR2B_COLUMNS = [*FACTS, "rejected_in_ims", "itc_advice"]   # a GSTR-2B file adds these
BOM = "\ufeff".encode("utf-8")
PORTAL_COLUMNS = ["section", "stin", "doc_type", "doc_no", "doc_date", "orig_doc_no",
                  "orig_doc_date", "pos", "rcm", "txval", "igst", "cgst", "sgst", "cess",
                  "srcfilstatus", "ispendactblocked", "rtnprd", "is_itc_red_req_blocked",
                  "is_remarks_blocked"]


class UnusableInput(Exception):
    """Input the command cannot work with; the message names file, line and field."""


def parse_args(argv: list[str] | None, prog: str = "python -m core.reco") -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    ap.add_argument("--purchase", required=True,
                    help="purchase register (CSV/XLSX, standard template)")
    ap.add_argument("--portal", required=True, help="IMS GETINV, GSTR-2A or GSTR-2B JSON")
    ap.add_argument("--out", required=True, help="output CSV")
    ap.add_argument("--policy", choices=POLICIES, default="balanced")
    ap.add_argument("--tolerance", default="1.0", help="rupees per amount field (default 1.0)")
    ap.add_argument("--date-window", type=int, default=10, help="days (default 10)")
    ap.add_argument("--gstin", help="the company (recipient) GSTIN when the files do not say it")
    return ap.parse_args(argv)


def tolerance_paise(text: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UnusableInput(f"--tolerance: '{text}' is not an amount in rupees") from None
    if value < 0:
        raise UnusableInput(f"--tolerance: '{text}' must not be negative")
    return int(value * 100)


def read_file_bytes(path: str) -> bytes:
    """A file's bytes, or UnusableInput naming the file."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc.strerror}") from None


def read_json_file(path: str, raw: bytes | None = None):
    """A JSON file's content (`raw`: its bytes, when already read), or UnusableInput naming the
    file (and line and column). Read as bytes and decoded by orjson (core/json_decode.py); what
    it refuses is decoded again as UTF-8 text by the standard decoder, whose error names the
    line and column."""
    if raw is None:
        raw = read_file_bytes(path)
    try:
        return decode_json(raw.removeprefix(BOM))
    except ValueError:
        pass
    try:
        payload = json.loads(raw.decode("utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise UnusableInput(f"{path}, line {exc.lineno}, column {exc.colno}: not JSON: "
                            f"{exc.msg}") from None
    except UnicodeDecodeError:
        raise UnusableInput(f"{path}: not UTF-8 text") from None
    return payload


def read_portal(path: str) -> tuple[str, pl.DataFrame, str | None]:
    """(kind, portal frame without rtin, recipient GSTIN if the payload says it). A plain IMS
    answer is read by columns straight from its bytes (ims_json_frame); any other is decoded
    first, with the same frame or the same message."""
    raw = read_file_bytes(path)
    plain = ims_json_frame(raw.removeprefix(BOM))
    if plain is not None:
        return "ims", portal_columns(plain[0]), plain[1]
    payload = read_json_file(path, raw)
    del raw
    if not isinstance(payload, dict):
        raise UnusableInput(f"{path}, line 1: expected a JSON object with portal sections")
    if is_gstr2b(payload):
        try:
            head, rows = read_2b_frame(payload)
        except PayloadError as exc:
            raise UnusableInput(f"{path}: {exc}") from None
        return "gstr2b", portal_frame_2b(rows, "", head["rtnprd"]), head["gstin"]
    try:
        kind, frame = read_records_frame(payload)   # by columns when clean
    except PayloadError as exc:
        raise UnusableInput(f"{path}: {exc}") from None
    if kind == "gstr2a":  # 2A says whether the supplier filed (cfs); IMS says srcfilstatus
        frame = frame.with_columns(pl.when(pl.col("cfs") == "N").then(pl.lit("Not Filed"))
                                   .otherwise(pl.col("srcfilstatus")).alias("srcfilstatus"))
    return kind, portal_columns(frame), recipient_gstin(payload)


def portal_columns(records: pl.DataFrame) -> pl.DataFrame:
    """The flat records' columns the reconciliation reads, numbered (portal_id)."""
    frame = records.select(PORTAL_COLUMNS).with_row_index("portal_id", offset=1)
    return frame.with_columns(pl.col("portal_id").cast(pl.Int64))


def read_books(path: str) -> pl.DataFrame:
    """Documents of the purchase file; in-file duplicates kept (reconcile marks them)."""
    if not Path(path).is_file():
        raise UnusableInput(f"{path}: no such file")
    try:
        found = read_purchase_documents(path)
    except FileProblem as exc:
        raise UnusableInput(str(exc)) from None
    if not found.ok:
        raise UnusableInput("\n".join(found.messages(limit=20, severity="error")))
    for warning in found.messages(limit=10, severity="warning"):
        print(f"warning: {warning}", file=sys.stderr)
    docs = pl.concat([found.docs, found.duplicates.select(found.docs.columns)])
    return docs.sort("line_no").with_row_index("pr_id", offset=1).with_columns(
        pl.col("pr_id").cast(pl.Int64))


def company_gstin(given: str | None, from_portal: str | None, books: pl.DataFrame,
                  args: argparse.Namespace) -> str:
    if given:
        problem = gstin_problem(given)
        if problem:
            raise UnusableInput(f"--gstin: {problem}")
        return given.strip().upper()
    if from_portal:
        return from_portal
    companies = books["rtin"].drop_nulls().unique().to_list()
    if len(companies) == 1:
        return companies[0]
    raise UnusableInput(f"{args.portal}: the file does not say the company GSTIN and "
                        f"{args.purchase} holds {len(companies)} companies; give --gstin")


def output_frame(results: pl.DataFrame) -> pl.DataFrame:
    """Contract columns first; paise -> rupees with 2 decimals."""
    rupees = [(pl.col(c).cast(pl.Decimal(20, 2)) / 100).cast(pl.Decimal(18, 2)).alias(c)
              for c in PAISE_COLUMNS]
    gstr2b = [c for c in GSTR2B_COLUMNS if c in results.columns]
    return results.with_columns(rupees).select(CONTRACT_COLUMNS + DECLARATION_COLUMNS
                                               + EXTRA_COLUMNS + gstr2b)


def run(args: argparse.Namespace) -> pl.DataFrame:
    tol = tolerance_paise(args.tolerance)
    if args.date_window < 0:
        raise UnusableInput(f"--date-window: {args.date_window} must not be negative")
    # the portal file is decoded (Python, holding the GIL) while Polars reads and checks the
    # books (mostly outside it): on two cores the two reads overlap. The books' error, if any,
    # is still the one said first.
    with ThreadPoolExecutor(max_workers=1) as pool:
        portal_read = pool.submit(read_portal, args.portal)
        books = read_books(args.purchase)
        kind, portal, rtin = portal_read.result()
    rtin = company_gstin(args.gstin, rtin, books, args)
    books = books.filter(pl.col("rtin") == rtin)
    portal = portal.with_columns(pl.lit(rtin).alias("rtin"))
    if kind == "gstr2b":
        return reconcile_2b(portal, books, tolerance_paise=tol, date_window=args.date_window,
                            policy=args.policy)
    return reconcile(portal, books, tolerance_paise=tol, date_window=args.date_window,
                     policy=args.policy, source="ims" if kind == "ims" else "gstr2a")


def main(argv: list[str] | None = None, prog: str = "python -m core.reco") -> int:
    args = parse_args(argv, prog)
    try:
        results = run(args)
    except UnusableInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_csv_file(output_frame(results), args.out)
    counts = results["match_status"].value_counts(sort=True)
    summary = ", ".join(f"{s} {n}" for s, n in counts.iter_rows())
    print(f"{args.out}: {results.height} rows ({summary})")
    return 0
