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

`itc_ineligible_reason` (optional; blank = eligible) says why ITC counted in GSTR-3B 4(A) is
reversed for good in 4(B)(1): `17(5)` (blocked credit), `rule 38`, `rule 42`, `rule 43`, also
written in words ("Blocked u/s 17(5)", "Rule 42 reversal"); anything else is an error. A
document's reason is its first line's that gives one.
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
CLAIM_COLUMNS = ["itc_claimed", *[f"itc_claimed_{h}" for h in HEADS], "itc_ineligible_reason"]
CLAIM_SCHEMA = {"itc_claimed": pl.Utf8, **{f"itc_claimed_{h}": pl.Int64 for h in HEADS},
                "itc_ineligible_reason": pl.Utf8}
INELIGIBLE_REASONS = ("17(5)", "rule 38", "rule 42", "rule 43")


def ineligible_reason(text: pl.Expr) -> pl.Expr:
    """'Blocked u/s 17(5)' -> '17(5)'; 'Rule 42 reversal' -> 'rule 42'; blank -> '' (eligible);
    anything else null."""
    key = text.fill_null("").str.strip_chars().str.to_lowercase()
    squeezed = key.str.replace_all(r"\s+", "")
    return (pl.when(key == "").then(pl.lit(""))
            .when(squeezed.str.contains(r"17\(5\)|17\(v\)|blocked")).then(pl.lit("17(5)"))
            .when(squeezed.str.contains(r"(^|rule|r\.?)38($|\D)")).then(pl.lit("rule 38"))
            .when(squeezed.str.contains(r"(^|rule|r\.?)42($|\D)")).then(pl.lit("rule 42"))
            .when(squeezed.str.contains(r"(^|rule|r\.?)43($|\D)")).then(pl.lit("rule 43"))
            .otherwise(pl.lit(None, pl.Utf8)))


def _flag() -> pl.Expr:
    """'Yes' / 'y' / blank -> 'Y'; 'No' -> 'N'; anything else null."""
    return (pl.col("itc_claimed").fill_null("").str.strip_chars().str.to_uppercase()
            .replace_strict(YES_NO, default=None, return_dtype=pl.Utf8))


def claim_problems(parsed: pl.DataFrame) -> list[pl.DataFrame]:
    """Errors: itc_claimed not Y/N; a claimed amount above the line's tax of that head.
    (An amount that is no number is reported with the other amounts.)"""
    checks = [(pl.col("itc_claimed").is_not_null() & _flag().is_null(), "itc_claimed",
               say("ITC claimed '{}' is not Y or N (blank means Y)", pl.col("itc_claimed")),
               "itc_claimed"),
              (ineligible_reason(pl.col("itc_ineligible_reason")).is_null(),
               "itc_ineligible_reason",
               say("ITC ineligible reason '{}' is not one of 17(5), rule 38, rule 42, rule 43 "
                   "(blank means eligible)", pl.col("itc_ineligible_reason")),
               "itc_ineligible_reason")]
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
    if _nothing_claimed(parsed):   # what document_claims gives when every cell is blank
        return docs.with_columns([pl.lit("Y" if c == "itc_claimed" else None, t).alias(c)
                                  for c, t in CLAIM_SCHEMA.items()])
    return docs.join(document_claims(parsed, line_map), on="line_no", how="left")


def _nothing_claimed(parsed: pl.DataFrame) -> bool:
    """The claim columns are there but blank on every line (a register's usual case)."""
    blank = [pl.col(c).fill_null("").str.strip_chars() == ""
             for c in ("itc_claimed", "itc_ineligible_reason")]
    amounts = [pl.col(f"claimed_{h}").is_null() for h in HEADS]
    return bool(parsed.select(pl.all_horizontal(*blank, *amounts).all()).item())


def document_claims(parsed: pl.DataFrame, line_map: pl.DataFrame) -> pl.DataFrame:
    """line_no (the document's first line) -> itc_claimed, itc_claimed_igst .. _cess."""
    no = _flag() == "N"
    reason = ineligible_reason(pl.col("itc_ineligible_reason"))
    lines = parsed.select(
        pl.col(LINE).alias("line"), no.fill_null(False).alias("_no"),
        pl.when(reason == "").then(None).otherwise(reason).alias("_why"),
        *[pl.coalesce(pl.col(f"claimed_{h}").abs(),
                      pl.when(no.fill_null(False)).then(0).otherwise(pl.col(h).fill_null(0).abs()))
          .alias(f"_c_{h}") for h in HEADS],
        *[pl.col(f"claimed_{h}").is_not_null().alias(f"_g_{h}") for h in HEADS],
    ).join(line_map, on="line", how="inner")
    docs = lines.group_by("line_no").agg(
        pl.col("_no").all().alias("_all_no"), pl.col("_no").any().alias("_any_no"),
        pl.col("_why").sort_by("line").drop_nulls().first().alias("itc_ineligible_reason"),
        *[pl.col(f"_c_{h}").sum() for h in HEADS], *[pl.col(f"_g_{h}").any() for h in HEADS])
    return docs.select(
        pl.col("line_no").cast(pl.Int64),
        pl.when(pl.col("_all_no")).then(pl.lit("N")).otherwise(pl.lit("Y")).alias("itc_claimed"),
        *[pl.when(pl.col(f"_g_{h}") | pl.col("_any_no")).then(pl.col(f"_c_{h}"))
          .otherwise(None).cast(pl.Int64).alias(f"itc_claimed_{h}") for h in HEADS],
        pl.col("itc_ineligible_reason"))
