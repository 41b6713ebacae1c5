"""Sync source `2a_vs_pr`: statuses of a GSTR-2A reconciliation carried onto IMS records.

Each IMS record takes the result of the 2A document with the same (rtin, stin, doc_type, fy,
norm_no), trying an amendment's original number when the current one finds nothing; an IMS
record with no 2A counterpart is `not_in_2a` (action P, then the portal limits). An IMS record
listed twice keeps the result on its first listing; the others are `duplicate` (R).
Amendments (core/reco/chains.py) take the result of a 2A amendment, originals of a 2A
original; the older versions of an IMS chain are `amended`, whatever 2A says of them, and
keep the books document their 2A counterpart shows, for reference.
The comparison columns (books document, reasons, differences) come from the 2A row; the
portal columns describe the IMS record itself.
"""
from __future__ import annotations

import polars as pl

from core.reco.chains import AMENDMENT_SECTIONS, SUPERSEDED, mark_chains
from core.reco.engine import OUTPUT_COLUMNS
from core.reco.keys import (
    BOOKS_DECLARE,
    PORTAL_DECLARE,
    add_norm_no,
    fy_start_expr,
    norm_no_frame,
    prepare_portal,
)
from core.reco.overrides import MANUAL
from core.reco.recommend import recommend

KEY = ["rtin", "stin", "doc_type", "fy", "norm_no", "is_amd"]
FROM_2A = ["pr_id", "match_status", "match_pass", "reasons", "pr_doc_no", "pr_doc_date",
           "pr_line", "pr_txval", "pr_tax", "diff_txval", "diff_igst", "diff_cgst", "diff_sgst",
           "diff_cess", "diff_tax", "nearest_doc_no", "nearest_reason", "matched_on",
           "pr_supplier_gstin", "pr_igst", "pr_cgst", "pr_sgst", "pr_cess", "pr_pos",
           *[f"pr_{c}" for c in BOOKS_DECLARE]]


def _keyed_2a(results_2a: pl.DataFrame) -> pl.DataFrame:
    """One 2A result per key: non-duplicates, matched ones first, then lowest id."""
    docs = results_2a.filter(pl.col("portal_id").is_not_null()
                             & (pl.col("match_status") != "duplicate")).with_columns(
        pl.col("company_gstin").alias("rtin"), pl.col("supplier_gstin").alias("stin"),
        pl.col("portal_doc_no").str.strip_chars().str.to_uppercase().alias("raw"),
        fy_start_expr(pl.col("portal_doc_date")).alias("fy"),
        pl.col("section").str.to_lowercase().is_in(AMENDMENT_SECTIONS).fill_null(False)
        .alias("is_amd"))
    docs = norm_no_frame(docs, "raw", "fy", "norm_no")
    docs = docs.sort([pl.col("pr_id").is_null(), "portal_id"]).unique(KEY, keep="first",
                                                                        maintain_order=True)
    return docs.select(*KEY, pl.col("portal_id").alias("portal_2a_id"), *FROM_2A)


def _ims_rows(ims: pl.DataFrame) -> pl.DataFrame:
    if "older_of" not in ims.columns:
        ims = ims.with_columns(pl.lit(False).alias("is_amd"),
                               pl.lit(None, pl.Int64).alias("older_of"),
                               pl.lit(None, pl.Utf8).alias("latest_no"))
    return ims.select(
        pl.col("id").alias("portal_id"), "rtin", "stin", "doc_type", "fy", "norm_no",
        pl.col("orig_fy"), pl.col("orig_norm_no"), "dup_of", "is_amd", "older_of", "latest_no",
        pl.col("rtin").alias("company_gstin"), pl.col("stin").alias("supplier_gstin"),
        "rtnprd", pl.col("doc_no").alias("portal_doc_no"),
        pl.col("doc_date").alias("portal_doc_date"), pl.col("txval").alias("portal_txval"),
        (pl.col("igst") + pl.col("cgst") + pl.col("sgst") + pl.col("cess")).alias("portal_tax"),
        "section", "srcfilstatus", "ispendactblocked",
        *[pl.col(c).alias(f"portal_{c}") for c in ("igst", "cgst", "sgst", "cess")],
        pl.col("pos").alias("portal_pos"), *PORTAL_DECLARE)


def project_2a_onto_ims(ims_portal: pl.DataFrame, results_2a: pl.DataFrame,
                        policy: str = "balanced", tolerance_paise: int = 100) -> pl.DataFrame:
    """Sync source `2a_vs_pr`: each IMS record takes the result of the GSTR-2A document with
    the same (rtin, stin, doc_type, fy, norm_no); none -> `not_in_2a` (module docstring)."""
    ims = _ims_rows(add_norm_no(mark_chains(prepare_portal(ims_portal))))
    keyed = _keyed_2a(results_2a)
    first = ims.filter(pl.col("dup_of").is_null())
    on_current = first.join(keyed, on=KEY, how="inner")
    rest = first.join(on_current.select("portal_id"), on="portal_id", how="anti")
    # failing that, an amendment takes the result of its original's number (an amendment
    # first, else the original: the 2A may not list the amendment yet)
    orig_keyed = keyed.rename({"fy": "orig_fy", "norm_no": "orig_norm_no"}).sort(
        "is_amd", descending=True).drop("is_amd")
    on_original = rest.filter(pl.col("orig_norm_no").is_not_null()).join(
        orig_keyed, on=["rtin", "stin", "doc_type", "orig_fy", "orig_norm_no"], how="inner",
        maintain_order="right")
    found = pl.concat([on_current, on_original], how="diagonal_relaxed").unique(
        "portal_id", keep="first", maintain_order=True)
    lone = ims.join(found.select("portal_id"), on="portal_id", how="anti").with_columns(
        pl.when(pl.col("dup_of").is_not_null()).then(pl.lit("duplicate"))
        .otherwise(pl.lit("not_in_2a")).alias("match_status"),
        pl.lit("").alias("reasons"))
    rows = pl.concat([found, lone], how="diagonal_relaxed")
    older = pl.col("older_of").is_not_null()
    rows = rows.with_columns(
        pl.when(older).then(pl.lit("amended")).otherwise(pl.col("match_status"))
        .alias("match_status"),
        pl.when(older).then(pl.lit("SUPERSEDED")).otherwise(pl.col("reasons")).alias("reasons"),
        pl.when(older).then(pl.col("latest_no")).otherwise(pl.col("nearest_doc_no"))
        .alias("nearest_doc_no"),
        pl.when(older).then(pl.concat_str([pl.lit(SUPERSEDED + " "), pl.col("latest_no")]))
        .otherwise(pl.col("nearest_reason")).alias("nearest_reason"))
    missing = [pl.lit(None).alias(c) for c in OUTPUT_COLUMNS if c not in rows.columns]
    rows, by_hand = _as_classified(rows.with_columns(missing))
    rows = recommend(rows, policy, tolerance_paise)
    if by_hand:
        manual = (pl.col("match_pass") == MANUAL) & (pl.col("match_status") != "amended")
        rows = rows.with_columns(pl.when(manual).then(pl.lit(MANUAL))
                                 .otherwise(pl.col("match_status")).alias("match_status"))
    return rows.select(*OUTPUT_COLUMNS, "portal_2a_id").sort("portal_id")


# the reasons that make a pair a `mismatch` (core/reco/engine.classify)
MISMATCH_REASONS = r"(^|;)(TAXABLE_VALUE|IGST|CGST|SGST|CESS|POS|RCM)(;|$)"


def _as_classified(rows: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
    """A GSTR-2A document matched by hand (status `manual`) takes its action as an automatic
    pair of the same differences does (`mismatch` when amounts, place of supply or reverse
    charge differ, else `partial`); its status is `manual` again after `recommend`."""
    by_hand = pl.col("match_status") == MANUAL
    if not rows.select(by_hand.any()).item():
        return rows, False
    differs = pl.col("reasons").fill_null("").str.contains(MISMATCH_REASONS)
    return rows.with_columns(
        pl.when(by_hand).then(pl.when(differs).then(pl.lit("mismatch"))
                              .otherwise(pl.lit("partial")))
        .otherwise(pl.col("match_status")).alias("match_status")), True
