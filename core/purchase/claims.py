"""The optional ITC-claimed columns of a purchase register (docs/interfaces.md, "Purchase
register CSV"): `itc_claimed` (Y/N, blank = Y) and `itc_claimed_igst` .. `itc_claimed_cess`
(rupees: the ITC actually claimed, where less than the tax).

`claim_problems(parsed)` checks them per line (in the importer's style: line, field, value,
message, severity); `document_claims(parsed, line_map)` sums them per document:
- a line's claimed amount of a head is the amount given; blank = the line's own tax of that
  head, or 0 on a line marked N;
- a document's amount of a head is the sum over its lines, or null when no line gives the head
  and no line says N (nothing said: the books' own tax counts);
- a document's `itc_claimed` is N only when every line says N, else Y.
Amounts are absolute integer paise (credit notes may be booked negative).
"""
from __future__ import annotations

import polars as pl

from core.money import paise_text
from core.purchase.read import LINE
from core.purchase.validate import say

HEADS = ("igst", "cgst", "sgst", "cess")
HEAD_NAMES = {"igst": "IGST", "cgst": "CGST", "sgst": "SGST", "cess": "cess"}
YES_NO = {"Y": "Y", "YES": "Y", "TRUE": "Y", "1": "Y", "N": "N", "NO": "N", "FALSE": "N",
          "0": "N", "": "Y"}
CLAIM_COLUMNS = ["itc_claimed", *[f"itc_claimed_{h}" for h in HEADS]]
CLAIM_SCHEMA = {"itc_claimed": pl.Utf8, **{f"itc_claimed_{h}": pl.Int64 for h in HEADS}}


def _flag() -> pl.Expr:
    """'Yes' / 'y' / blank -> 'Y'; 'No' -> 'N'; anything else null."""
    return (pl.col("itc_claimed").fill_null("").str.strip_chars().str.to_uppercase()
            .replace_strict(YES_NO, default=None, return_dtype=pl.Utf8))


def claim_problems(parsed: pl.DataFrame) -> list[pl.DataFrame]:
    """Errors: itc_claimed not Y/N; a claimed amount above the line's tax of that head.
    (An amount that is no number is reported with the other amounts.)"""
    checks = [(pl.col("itc_claimed").is_not_null() & _flag().is_null(), "itc_claimed",
               say("ITC claimed '{}' is not Y or N (blank means Y)", pl.col("itc_claimed")),
               "itc_claimed")]
    for h in HEADS:
        claimed, tax = pl.col(f"claimed_{h}"), pl.col(h).fill_null(0)
        checks.append((claimed.is_not_null() & (claimed.abs() > tax.abs()), f"itc_claimed_{h}",
                       say(f"ITC claimed {HEAD_NAMES[h]} {{}} is more than the line's "
                           f"{HEAD_NAMES[h]} {{}}", paise_text(claimed), paise_text(tax)),
                       f"itc_claimed_{h}_text"))
    frames = []
    for cond, fld, message, value in checks:
        hit = parsed.filter(cond.fill_null(False))
        if hit.height:
            frames.append(hit.select(pl.col(LINE).alias("line"), pl.lit(fld).alias("field"),
                                     pl.col(value).cast(pl.Utf8).alias("value"),
                                     message.alias("message"), pl.lit("error").alias("severity")))
    return frames


def with_claims(docs: pl.DataFrame, parsed: pl.DataFrame, line_map: pl.DataFrame,
                columns: dict) -> pl.DataFrame:
    """The documents with their claim columns (all null when the file has none of them)."""
    if not any(c in columns for c in CLAIM_COLUMNS):
        return docs.with_columns([pl.lit(None, t).alias(c) for c, t in CLAIM_SCHEMA.items()])
    return docs.join(document_claims(parsed, line_map), on="line_no", how="left")


def document_claims(parsed: pl.DataFrame, line_map: pl.DataFrame) -> pl.DataFrame:
    """line_no (the document's first line) -> itc_claimed, itc_claimed_igst .. _cess."""
    no = _flag() == "N"
    lines = parsed.select(
        pl.col(LINE).alias("line"), no.fill_null(False).alias("_no"),
        *[pl.coalesce(pl.col(f"claimed_{h}").abs(),
                      pl.when(no.fill_null(False)).then(0).otherwise(pl.col(h).fill_null(0).abs()))
          .alias(f"_c_{h}") for h in HEADS],
        *[pl.col(f"claimed_{h}").is_not_null().alias(f"_g_{h}") for h in HEADS],
    ).join(line_map, on="line", how="inner")
    docs = lines.group_by("line_no").agg(
        pl.col("_no").all().alias("_all_no"), pl.col("_no").any().alias("_any_no"),
        *[pl.col(f"_c_{h}").sum() for h in HEADS], *[pl.col(f"_g_{h}").any() for h in HEADS])
    return docs.select(
        pl.col("line_no").cast(pl.Int64),
        pl.when(pl.col("_all_no")).then(pl.lit("N")).otherwise(pl.lit("Y")).alias("itc_claimed"),
        *[pl.when(pl.col(f"_g_{h}") | pl.col("_any_no")).then(pl.col(f"_c_{h}"))
          .otherwise(None).cast(pl.Int64).alias(f"itc_claimed_{h}") for h in HEADS])
