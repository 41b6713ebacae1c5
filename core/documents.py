"""Document keys shared by ingestion, import and reconciliation (docs/reconciliation.md, "Keys").

`raw_no` and `fy` identify a document for duplicates and pass 1; money crosses from the
store (DECIMAL rupees) to reconciliation as integer paise.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from core.periods import period_of_day

# IMS section key -> doc_type
SECTION_DOC_TYPE = {
    "b2b": "INV", "b2ba": "INV", "ecom": "INV", "ecoma": "INV",
    "b2bcn": "CRN", "b2bcna": "CRN", "b2bdn": "DBN", "b2bdna": "DBN",
    "impg": "BOE", "impga": "BOE", "impgsez": "BOE", "impgseza": "BOE",
}
AMENDMENT_SECTIONS = {"b2ba", "b2bcna", "b2bdna", "ecoma", "impga", "impgseza"}
# import of goods (GETCNT/GETINV goods_typ IMP_GDS): port code as supplier, or the SEZ unit
IMPORT_SECTIONS = ("impg", "impga", "impgsez", "impgseza")
PORT_SECTIONS = ("impg", "impga")
# request name (GETINV section=) -> answer key
SECTION_REQUEST = {
    "B2B": "b2b", "B2BA": "b2ba", "CN": "b2bcn", "CNA": "b2bcna", "DN": "b2bdn",
    "DNA": "b2bdna", "ECOM": "ecom", "ECOMA": "ecoma", "IMPG": "impg", "IMPGA": "impga",
    "IMPGSEZ": "impgsez", "IMPGSEZA": "impgseza",
}
AMOUNT_FIELDS = ("txval", "igst", "cgst", "sgst", "cess")


def raw_no(doc_no: str | None) -> str:
    """Doc number trimmed and upper-cased (GSTN compares numbers case-insensitively)."""
    return (doc_no or "").strip().upper()


def fy_of(day: dt.date) -> str:
    """Financial year (1 April - 31 March) as '2025-26'."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def fy_expr(date_col: str | pl.Expr) -> pl.Expr:
    """Polars: financial year string of a Date column."""
    d = pl.col(date_col) if isinstance(date_col, str) else date_col
    start = pl.when(d.dt.month() >= 4).then(d.dt.year()).otherwise(d.dt.year() - 1)
    # concat_str, not pl.format: Polars 2.1's format panics on a column with an empty chunk
    return pl.concat_str([start.cast(pl.Utf8), pl.lit("-"),
                          ((start + 1) % 100).cast(pl.Utf8).str.pad_start(2, "0")])


def raw_no_expr(col: str | pl.Expr) -> pl.Expr:
    c = pl.col(col) if isinstance(col, str) else col
    return c.str.strip_chars().str.to_uppercase()




def parse_portal_date(value: str | None) -> dt.date | None:
    """Portal dates are DD-MM-YYYY."""
    if not value:
        return None
    return dt.datetime.strptime(value.strip(), "%d-%m-%Y").date()


period_of = period_of_day  # the return period MMYYYY of a date (core/periods.py)
