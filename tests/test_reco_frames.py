"""Builders of portal and books frames shared by the reconciliation tests (no tests here)."""
from __future__ import annotations

import datetime as dt

import polars as pl

RTIN = "27AAACW1234K1ZD"
S1 = "27AABCS5678L1ZQ"   # Sahyadri Steel (intra-state)
S2 = "29AAFCK4321M1ZA"   # Kaveri Components (inter-state)
S3 = "24AAGPR9876N2ZO"   # Rann Polymers, Gujarat
S3_MH = "27AAGPR9876N1ZJ"  # same PAN, Maharashtra

PORTAL_SCHEMA = {
    "portal_id": pl.Int64, "rtin": pl.Utf8, "stin": pl.Utf8, "doc_type": pl.Utf8,
    "doc_no": pl.Utf8, "doc_date": pl.Date, "orig_doc_no": pl.Utf8, "orig_doc_date": pl.Date,
    "pos": pl.Utf8, "rcm": pl.Utf8, "txval": pl.Int64, "igst": pl.Int64, "cgst": pl.Int64,
    "sgst": pl.Int64, "cess": pl.Int64, "srcfilstatus": pl.Utf8, "ispendactblocked": pl.Utf8,
    "section": pl.Utf8, "rtnprd": pl.Utf8,
}
BOOKS_SCHEMA = {
    "pr_id": pl.Int64, "rtin": pl.Utf8, "stin": pl.Utf8, "doc_type": pl.Utf8, "doc_no": pl.Utf8,
    "doc_date": pl.Date, "pos": pl.Utf8, "rcm": pl.Utf8, "txval": pl.Int64, "igst": pl.Int64,
    "cgst": pl.Int64, "sgst": pl.Int64, "cess": pl.Int64, "no_tax": pl.Boolean, "line_no": pl.Int64,
}


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _amounts(kw: dict) -> dict:
    """Default: Rs 10,000 taxable with 18% IGST, in paise."""
    txval = kw.pop("txval", 1_000_000)
    return {"txval": txval, "igst": kw.pop("igst", txval * 18 // 100), "cgst": kw.pop("cgst", 0),
            "sgst": kw.pop("sgst", 0), "cess": kw.pop("cess", 0)}


def portal_row(portal_id: int, doc_no: str, date: str = "2025-10-10", **kw) -> dict:
    row = {"portal_id": portal_id, "rtin": RTIN, "stin": kw.pop("stin", S2),
           "doc_type": kw.pop("doc_type", "INV"), "doc_no": doc_no, "doc_date": day(date),
           "orig_doc_no": kw.pop("orig_doc_no", None),
           "orig_doc_date": day(kw.pop("orig_doc_date")) if "orig_doc_date" in kw else None,
           "pos": kw.pop("pos", "27"), "rcm": kw.pop("rcm", None), **_amounts(kw),
           "srcfilstatus": kw.pop("srcfilstatus", "Filed"),
           "ispendactblocked": kw.pop("ispendactblocked", "N"),
           "section": kw.pop("section", "b2b"), "rtnprd": kw.pop("rtnprd", "102025")}
    assert not kw, f"unknown fields {kw}"
    return row


def books_row(pr_id: int, doc_no: str, date: str = "2025-10-10", **kw) -> dict:
    row = {"pr_id": pr_id, "rtin": RTIN, "stin": kw.pop("stin", S2),
           "doc_type": kw.pop("doc_type", "INV"), "doc_no": doc_no, "doc_date": day(date),
           "pos": kw.pop("pos", "27"), "rcm": kw.pop("rcm", "N"), **_amounts(kw),
           "no_tax": kw.pop("no_tax", False), "line_no": kw.pop("line_no", pr_id)}
    assert not kw, f"unknown fields {kw}"
    return row


def portal_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=PORTAL_SCHEMA)


def books_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=BOOKS_SCHEMA)


def run(portal_rows: list[dict], books_rows: list[dict], **opts) -> pl.DataFrame:
    from core.reco import reconcile
    return reconcile(portal_frame(portal_rows), books_frame(books_rows), **opts)


def row_of(result: pl.DataFrame, portal_id: int | None = None, pr_id: int | None = None) -> dict:
    if portal_id is not None:
        found = result.filter(pl.col("portal_id") == portal_id)
    else:
        found = result.filter(pl.col("pr_id") == pr_id)
    assert found.height == 1, found
    return found.row(0, named=True)


SAMPLE_PORTAL = [
    portal_row(1, "SI/2025-26/0101", "2025-10-03", stin=S1, txval=1_000_000, igst=0, cgst=90_000, sgst=90_000),
    portal_row(2, "si-102", "2025-10-05", stin=S1, txval=2_500_000, igst=0, cgst=225_000, sgst=225_000),
    portal_row(3, "SI/2025-26/0103", "2025-10-06", stin=S1, txval=1_200_050, igst=0, cgst=108_005, sgst=108_005),
    portal_row(4, "KA-7781", "2025-10-08", txval=5_000_000, igst=900_000),
    portal_row(5, "KA-7790", "2025-10-09", txval=800_000, igst=144_000, srcfilstatus="Not Filed"),
    portal_row(6, "GJ/555", "2025-10-10", stin=S3, txval=3_000_000, igst=540_000),
    portal_row(7, "GJ/555", "2025-10-10", stin=S3, txval=3_000_000, igst=540_000),
    portal_row(8, "GJ/560", "2025-10-12", stin=S3, txval=700_000, igst=126_000, ispendactblocked="Y"),
    portal_row(9, "KA-7795", "2025-10-15", txval=900_000, igst=162_000),
    portal_row(10, "CN/25-26/007", "2025-10-20", stin=S1, doc_type="CRN", section="b2bcn",
               txval=200_000, igst=0, cgst=18_000, sgst=18_000),
]
SAMPLE_BOOKS = [
    books_row(1, "SI/2025-26/0101", "2025-10-03", stin=S1, txval=1_000_000, igst=0, cgst=90_000, sgst=90_000),
    books_row(2, "SI/2025-26/0102", "2025-10-05", stin=S1, txval=2_500_000, igst=0, cgst=225_000, sgst=225_000),
    books_row(3, "SI/2025-26/0103", "2025-10-06", stin=S1, txval=1_200_000, igst=0, cgst=108_000, sgst=108_000),
    books_row(4, "KA-7781", "2025-10-08", txval=4_500_000, igst=810_000),
    books_row(5, "KA-7790", "2025-10-09", txval=800_000, igst=144_000),
    books_row(6, "KA-7759", "2025-10-15", txval=900_000, igst=162_000),
    books_row(7, "CN/25-26/007", "2025-10-20", stin=S1, doc_type="CRN", txval=200_000, igst=0,
              cgst=18_000, sgst=18_000),
    books_row(8, "RP-88", "2025-10-11", stin=S3_MH, txval=400_000, igst=0, cgst=36_000, sgst=36_000),
]
# portal doc no -> (books doc no, status, reasons, action) as in samples/README.md
SAMPLE_EXPECTED = [
    ("SI/2025-26/0101", "SI/2025-26/0101", "exact", "", "A"),
    ("si-102", "SI/2025-26/0102", "partial", "DOC_NO", "A"),
    ("SI/2025-26/0103", "SI/2025-26/0103", "exact", "ROUNDING", "A"),
    ("KA-7781", "KA-7781", "mismatch", "TAXABLE_VALUE;IGST", "P"),
    ("KA-7790", "KA-7790", "exact", "", "P"),
    ("GJ/555", None, "missing_in_pr", "", "P"),
    ("GJ/555", None, "duplicate", "", "R"),
    ("GJ/560", None, "missing_in_pr", "", "R"),
    ("KA-7795", "KA-7759", "probable", "DOC_NO", "P"),
    ("CN/25-26/007", "CN/25-26/007", "exact", "", "A"),
    (None, "RP-88", "missing_in_portal", "", None),
]
