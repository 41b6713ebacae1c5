"""GSTR-2A and GSTR-2B documents as decisions by hand name them (docs/reconciliation.md,
"Decisions by hand"): by their document key (supplier, document type, financial year, number
of the amendment chain's original; core/reco/overrides.DOC_KEY), with a fingerprint of the
chain's latest version (its amounts, date and place of supply) that tells a supplier's change.

A 2A document is a row of `gstr2a_docs`, a 2B one a row of `gstr2b_documents` (the documents a
GSTR-2B lists as rejected in IMS are not reconciled, so they are left out here too). Only the
named suppliers' rows are read: a few, whatever the size of the business.
"""
from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl

from core.labels import doc_type_words
from core.money import paise_sql
from core.reco import DOC_KEY, document_keys
from core.store import query_frame

SOURCES = {"2a": "GSTR-2A", "2b": "GSTR-2B"}
RUN_KIND = {"2a": "2a_vs_pr", "2b": "2b_vs_pr"}
AMOUNTS = ("txval", "igst", "cgst", "sgst", "cess")


def source_of(kind: str) -> str | None:
    """The decisions' source of a reconciliation kind (2a_vs_pr -> 2a), None for IMS."""
    return {v: k for k, v in RUN_KIND.items()}.get(kind)


def documents_of_suppliers(con, gstin: str, source: str, stins: list[str]) -> pl.DataFrame:
    """The business's 2A (or reconciled 2B) documents of these suppliers, in the engine's
    portal frame shape (`portal_id` a row number) plus `rtnprd`."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    money = ", ".join(paise_sql(c) for c in AMOUNTS)
    if source == "2a":
        sql = f"""SELECT stin, doc_type, doc_no, doc_date, orig_doc_no, orig_doc_date, pos,
                         coalesce(rcm, 'N') AS rcm, {money}, section, ret_period AS rtnprd
                  FROM gstr2a_docs WHERE rtin = ? AND list_contains(?::VARCHAR[], stin)
                  ORDER BY ret_period, section, stin, doc_no, doc_date"""
    else:
        sql = f"""SELECT stin, doc_type, doc_no, doc_date, orig_doc_no, orig_doc_date, pos,
                         coalesce(rcm, 'N') AS rcm, {money}, section,
                         coalesce(supprd, rtnprd) AS rtnprd
                  FROM gstr2b_documents WHERE gstin = ? AND list_contains(?::VARCHAR[], stin)
                    AND NOT rejected_in_ims
                  ORDER BY rtnprd, section, line"""
    frame = query_frame(con, sql, [gstin, list(stins)])
    return frame.with_row_index("portal_id", offset=1).with_columns(
        pl.col("portal_id").cast(pl.Int64), pl.lit(gstin, pl.Utf8).alias("rtin"),
        pl.col("doc_date").cast(pl.Date), pl.col("orig_doc_date").cast(pl.Date))


def fingerprint(row: dict) -> int:
    """A stable number for a document's amounts (paise), date and place of supply (the same
    on both store engines and across library versions: not a Polars hash)."""
    text = "|".join(str(row.get(c) if row.get(c) is not None else "")
                    for c in (*AMOUNTS, "doc_date", "pos"))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def latest_versions(con, gstin: str, source: str, stins: list[str]) -> pl.DataFrame:
    """Per document key of these suppliers, its chain's latest version now: the key, its
    `doc_no`, `doc_date`, `txval`, `rtnprd` and `fp` (fingerprint)."""
    frame = documents_of_suppliers(con, gstin, source, sorted(set(stins)))
    if frame.is_empty():
        return pl.DataFrame(schema={**dict.fromkeys(DOC_KEY, pl.Utf8), "key_fy": pl.Int32,
                                    "doc_no": pl.Utf8, "doc_date": pl.Date,
                                    "txval": pl.Int64, "rtnprd": pl.Utf8, "fp": pl.Int64})
    side = document_keys(frame).filter(pl.col("latest"))
    found = side.join(frame.select("portal_id", *(pl.col(c).alias(f"_{c}") for c in AMOUNTS)),
                      left_on="id", right_on="portal_id")
    fps = [fingerprint({**{c: r[f"_{c}"] for c in AMOUNTS}, "doc_date": r["doc_date"],
                        "pos": r["pos"]})
           for r in found.select(*(f"_{c}" for c in AMOUNTS), "doc_date", "pos")
           .iter_rows(named=True)]          # a few suppliers' documents, not the business's
    return found.select(*DOC_KEY, "doc_no", "doc_date", pl.col("_txval").alias("txval"),
                        "rtnprd").with_columns(pl.Series("fp", fps, dtype=pl.Int64))


def key_of(con, gstin: str, source: str, stin: str, doc_type: str, doc_no: str,
           doc_date: dt.date | None) -> dict | None:
    """The document key of the 2A / 2B document shown as (supplier, type, number, date), with
    its chain's latest version now (`latest_versions`' row), or None when no such document."""
    frame = documents_of_suppliers(con, gstin, source, [stin.strip().upper()])
    if frame.is_empty():
        return None
    side = document_keys(frame)
    wanted = (pl.col("doc_type") == doc_type.strip().upper()) & (
        pl.col("raw_no") == doc_no.strip().upper())
    if doc_date is not None:
        wanted = wanted & (pl.col("doc_date") == doc_date)
    hit = side.filter(wanted)
    if hit.is_empty():
        return None
    key = hit.select(DOC_KEY).row(0, named=True)
    latest = latest_versions(con, gstin, source, [key["stin"]]).filter(
        *(pl.col(c) == key[c] for c in DOC_KEY))
    return latest.row(0, named=True) if latest.height else None


def document_words(source: str, doc_type: str | None, doc_no: str | None) -> str:
    """'GSTR-2A invoice INV-7' as people read it."""
    kind = doc_type_words(doc_type).lower() or "document"
    return f"{SOURCES.get(source, source)} {kind} {doc_no}"
