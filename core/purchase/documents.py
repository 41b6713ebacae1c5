"""Lines summed into documents (vectorised), and the documents left out.

A document is the lines of one company, supplier, type, number and date
(docs/reconciliation.md "Inputs"). A document with any faulty line is left out whole, so a
valid-lines-only import never stores half a document; `tied_lines` also finds the lines of
such a document that a faulty line no longer shares every key with (its date or type is the
very thing that is wrong): lines of the same company and number, from the same supplier GSTIN
or the same supplier name.
"""
from __future__ import annotations

import polars as pl

from core.documents import fy_expr
from core.money import paise_text
from core.purchase.read import LINE
from core.purchase.validate import say

DOC_KEY = ["rtin", "stin", "doc_type", "doc_no_key", "doc_date"]
DUP_KEY = ["rtin", "stin", "doc_type", "fy", "doc_no_key"]
TAX_HEADS = ["igst", "cgst", "sgst", "cess"]
TIE_KEYS = (["rtin", "stin", "doc_no_key"], ["rtin", "name_key", "doc_no_key"])
TIED_SCHEMA = {"line": pl.Int64, "faulty_line": pl.Int64}


def tied_lines(parsed: pl.DataFrame, bad_lines: pl.Series) -> pl.DataFrame:
    """Lines without errors that belong to the document of a faulty line: line, faulty_line
    (the first faulty line of that document)."""
    keyed = parsed.select(
        pl.col(LINE).alias("line"), "rtin", "stin", "doc_no_key",
        name_key=pl.col("supplier_name").str.strip_chars().str.to_lowercase(),
        bad=pl.col(LINE).is_in(bad_lines.implode()))
    faulty, good = keyed.filter(pl.col("bad")), keyed.filter(~pl.col("bad"))
    if not faulty.height or not good.height:
        return pl.DataFrame(schema=TIED_SCHEMA)
    found = []
    for key in TIE_KEYS:
        known = faulty.filter(pl.all_horizontal(pl.col(k).is_not_null() & (pl.col(k) != "")
                                                for k in key))
        found.append(good.join(known.select(*key, faulty_line=pl.col("line")), on=key)
                     .select("line", "faulty_line"))
    return (pl.concat(found).group_by("line").agg(pl.col("faulty_line").min())
            .sort("line").cast(TIED_SCHEMA))


TAX_HEADS = ["igst", "cgst", "sgst", "cess"]


def group_documents(parsed: pl.DataFrame,
                    bad_lines: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Lines of one document (same company, supplier, type, number, date) summed into one row.

    A document with any line in `bad_lines` (lines with errors) is left out whole.
    Returns the documents and a map line -> line_no of its document.
    """
    lines = parsed.select(
        "rtin", "stin", pl.col("doc_type_code").alias("doc_type"), "doc_no_key",
        pl.col("doc_date_parsed").alias("doc_date"), "doc_no", "supplier_name", "pos", "rcm", LINE,
        *[pl.col(c).fill_null(0) for c in ["txval", *TAX_HEADS]], "doc_value",
        bad=pl.col(LINE).is_in(bad_lines.implode()))
    lines = lines.with_columns(
        taxed=pl.any_horizontal(pl.col(h) != 0 for h in TAX_HEADS),
        doc_value=pl.col("doc_value").fill_null(pl.col("txval") + pl.sum_horizontal(TAX_HEADS)),
        __k=pl.struct(DOC_KEY).hash(7), __k2=pl.struct(DOC_KEY).hash(11))
    docs = _sum_lines(lines, ["__k"])        # grouping on a 64-bit hash is several times faster
    if docs.height and docs["__kn"].max() > 1:
        docs = _sum_lines(lines, DOC_KEY)    # a hash collision: group on the columns themselves
    # rechunk: fy_expr uses pl.format, which panics on an empty chunk a filter can leave (see say)
    docs = docs.filter(~pl.col("bad") & pl.all_horizontal(pl.col(DOC_KEY).is_not_null()))
    docs = docs.rechunk().with_columns(
        txval=pl.when(pl.col("has_tax")).then(pl.col("taxed_txval")).otherwise(pl.col("all_txval")),
        sign=pl.col("all_txval").sign(), no_tax=~pl.col("has_tax"), fy=fy_expr("doc_date"))
    docs = docs.with_columns(pl.col(["txval", *TAX_HEADS,
                                     "doc_value"]).abs().cast(pl.Int64)).sort("line_no")
    line_map = docs.select(pl.col("lines").alias("line"), "line_no").explode("line")
    return docs.select(
        "rtin", "stin", "supplier_name", "doc_type", "doc_no", "doc_date", "pos", "rcm", "txval",
        *TAX_HEADS, "doc_value", "no_tax", "line_no", "line_count", "fy", "doc_no_key",
                       "sign"), line_map


def _sum_lines(lines: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    keys = [pl.col(k).first() for k in DOC_KEY if k not in by]
    return lines.group_by(by).agg(
        *keys, pl.col("doc_no").first(), pl.col("supplier_name").first(), pl.col("pos").first(),
        pl.col("rcm").max(), pl.col("txval").filter(pl.col("taxed")).sum().alias("taxed_txval"),
        pl.col("txval").sum().alias("all_txval"), pl.col("taxed").any().alias("has_tax"),
        *[pl.col(h).sum() for h in TAX_HEADS], pl.col("doc_value").sum(),
        pl.col(LINE).min().alias("line_no"), pl.len().cast(pl.Int64).alias("line_count"),
        pl.col("bad").any().alias("bad"), pl.col(LINE).alias("lines"),
                                  pl.col("__k2").n_unique().alias("__kn"))


NEGATIVE_INVOICE = ("the lines of this invoice or debit note add up to a negative amount: a "
                    "negative line reduces its document, but a document below zero is a credit "
                    "note; enter it as one (document type credit note) or correct the amounts")


def negative_documents(docs: pl.DataFrame, line_map: pl.DataFrame
                       ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Invoices and debit notes whose lines net below zero (docs/reconciliation.md, "Inputs":
    refused, not stored positive) -> (the documents kept, their errors on the document's first
    line, the document's other lines tied to it)."""
    bad = docs.filter((pl.col("doc_type") != "CRN") & (pl.col("sign") < 0))
    if not bad.height:
        return docs, pl.DataFrame(), pl.DataFrame(schema=TIED_SCHEMA)
    errors = bad.select(pl.col("line_no").alias("line"), pl.lit("taxable_value").alias("field"),
                        _signed_rupees().alias("value"), pl.lit(NEGATIVE_INVOICE).alias("message"),
                        pl.lit("error").alias("severity"))
    tied = (line_map.filter(pl.col("line_no").is_in(bad["line_no"].implode())
                            & (pl.col("line") != pl.col("line_no")))
            .select("line", faulty_line=pl.col("line_no")).cast(TIED_SCHEMA))
    return docs.filter(~pl.col("line_no").is_in(bad["line_no"].implode())), errors, tied


def sign_problems(docs: pl.DataFrame, cn_sign: str) -> pl.DataFrame:
    """Warnings for credit notes whose sign goes against the template's convention."""
    crn = pl.col("doc_type") == "CRN"
    conds = []
    if cn_sign == "negative":
        conds.append((crn & (pl.col("sign") > 0),
                      "credit note with positive amounts; this template expects negative"))
    if cn_sign == "positive":
        conds.append((crn & (pl.col("sign") < 0),
                      "credit note with negative amounts; this template expects positive"))
    frames = [docs.filter(c).select(pl.col("line_no").alias("line"),
                                    pl.lit("taxable_value").alias("field"),
                                    _signed_rupees().alias("value"), pl.lit(m).alias("message"),
                                    pl.lit("warning").alias("severity")) for c, m in conds]
    return pl.concat(frames) if frames else pl.DataFrame()


def split_file_duplicates(docs: pl.DataFrame,
                          header_row: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Documents repeating an earlier one's (company, supplier, type, FY, number):
    (kept, duplicates); the reason names the earlier one by the file's own line."""
    marked = docs.with_columns(first_line=pl.col("line_no").min().over(DUP_KEY))
    dups = marked.filter(pl.col("line_no") != pl.col("first_line")).with_columns(
        kind=pl.lit("in_file"), existing_batch_id=pl.lit(None, pl.Int64), action=pl.lit("skipped"),
        reason=say("same supplier, type and number in FY {} as the document at line {} of the "
                   "file", pl.col("fy"), pl.col("first_line") + header_row)).drop("first_line")
    kept = marked.filter(pl.col("line_no") == pl.col("first_line")).drop("first_line")
    return kept, dups



def _signed_rupees() -> pl.Expr:
    """A document's taxable value as the file would write it: '-12000.00'."""
    minus = pl.when(pl.col("sign") < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([minus, paise_text(pl.col("txval"))])
