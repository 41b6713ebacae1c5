"""Reconciliation kind `2b_vs_pr`: a period's GSTR-2B against the purchase register
(docs/month-close.md, "GSTR-2B vs purchase register"; docs/reconciliation.md).

The portal side is the 2B's `docdata` documents (all sections) in the engine's portal frame
shape, reconciled by `core.reco.engine.reconcile` with the same passes, statuses, reasons and
tolerance as the other kinds (as GSTR-2A: reverse-charge documents stay in). The documents of
`docRejdata` are not matched; they are added as rows of their own with the status
`rejected_in_ims`. Every row carries the 2B's facts `itcavl`, `rsn`, `supfildt`, `supprd`,
`trdnm`, and `itc_advice` says in words what to do before filing GSTR-3B.
"""
from __future__ import annotations

import polars as pl

from core.matched import PAIRED as MATCHED
from core.reco.engine import OUTPUT_COLUMNS, reconcile

FACTS = ["itcavl", "rsn", "supfildt", "supprd", "trdnm"]
STORED_FACTS = {"trdnm": pl.Utf8, "itcavl": pl.Utf8, "rsn": pl.Utf8, "supprd": pl.Utf8,
                "supfildt": pl.Date, "rejected_in_ims": pl.Boolean, "itc_advice": pl.Utf8}
ENGINE_COLUMNS = ["section", "stin", "doc_type", "doc_no", "doc_date", "orig_doc_no",
                  "orig_doc_date", "pos", "rcm", "txval", "igst", "cgst", "sgst", "cess",
                  "rtnprd"]
REJECTED = "rejected_in_ims"
HEADS = ("igst", "cgst", "sgst", "cess")
BOOKS_REJECTED = "do not claim: rejected in IMS (not in this 2B)"


def portal_frame_2b(docs: pl.DataFrame, rtin: str, period: str | None = None) -> pl.DataFrame:
    """2B rows (core.portal.gstr2b / core.gstr2b.store shape) -> the engine's portal frame with
    `portal_id`, `rtin`, the 2B facts and `rejected_in_ims`."""
    own = pl.col("period_2b") if "period_2b" in docs.columns else pl.lit(period, pl.Utf8)
    return docs.with_columns(
        pl.coalesce(pl.col("supprd"), own).alias("rtnprd"),
        pl.lit("Filed").alias("srcfilstatus"), pl.lit(None, pl.Utf8).alias("ispendactblocked"),
        pl.lit(None, pl.Utf8).alias("is_itc_red_req_blocked"),
        pl.lit(None, pl.Utf8).alias("is_remarks_blocked"), pl.lit(rtin).alias("rtin"),
    ).with_row_index("portal_id", offset=1).with_columns(pl.col("portal_id").cast(pl.Int64))


def itc_advice() -> pl.Expr:
    status, avl = pl.col("match_status"), pl.col("itcavl")
    return (pl.when(status == REJECTED).then(pl.lit("do not claim: rejected in IMS"))
            .when(avl == "N").then(pl.concat_str([pl.lit("do not claim: ITC not available in "
                                                         "2B (reason "),
                                                  pl.col("rsn").fill_null("not given"),
                                                  pl.lit(")")]))
            .when(status.is_in(MATCHED)).then(pl.lit("claim"))
            .when(status == "missing_in_pr").then(pl.lit("do not claim, or reverse: in 2B, "
                                                         "not in the books"))
            .when(status == "missing_in_portal").then(pl.lit("defer: in the books, not in this "
                                                             "2B; claim in the period the "
                                                             "supplier files"))
            .when(status == "amended").then(pl.lit("older version of an amended document: "
                                                   "claim as its amendment says"))
            .otherwise(pl.lit("do not claim: duplicate")))


def _rejected_rows(rejected: pl.DataFrame) -> pl.DataFrame:
    tax = sum(pl.col(h) for h in HEADS[:3])
    return rejected.select(
        pl.col("portal_id"), pl.lit(REJECTED).alias("match_status"),
        pl.col("rtin").alias("company_gstin"), pl.col("stin").alias("supplier_gstin"),
        "doc_type", "rtnprd", "section", "srcfilstatus",
        pl.col("doc_no").alias("portal_doc_no"), pl.col("doc_date").alias("portal_doc_date"),
        pl.col("txval").alias("portal_txval"), tax.alias("portal_tax"),
        *[pl.col(h).alias(f"portal_{h}") for h in HEADS], pl.col("pos").alias("portal_pos"))


def reconcile_2b(portal: pl.DataFrame, books: pl.DataFrame, **options) -> pl.DataFrame:
    """portal_frame_2b's frame against the books -> reconcile()'s rows (plus rows of the
    rejected documents), with the 2B facts, `rejected_in_ims` and `itc_advice`."""
    # the columns picked before the rows: a filter copies every column it is given
    engine_in = portal.select(["portal_id", "rtin", *ENGINE_COLUMNS, "srcfilstatus",
                               "ispendactblocked", "is_itc_red_req_blocked",
                               "is_remarks_blocked", "rejected_in_ims"])
    results = reconcile(engine_in.filter(~pl.col("rejected_in_ims")).drop("rejected_in_ims"),
                        books, source="gstr2a", **options)
    rejected = _rejected_rows(engine_in.filter(pl.col("rejected_in_ims")))
    results = pl.concat([results, rejected.cast({c: results.schema[c]
                                                 for c in rejected.columns})],
                        how="diagonal").select(OUTPUT_COLUMNS)
    results = _with_facts(results, portal.select(["portal_id", *FACTS, "rejected_in_ims"])) \
        .with_columns(pl.col("rejected_in_ims").fill_null(False))
    return results.with_columns(
        pl.when(_books_rejected(results, rejected)).then(pl.lit(BOOKS_REJECTED))
        .otherwise(itc_advice()).alias("itc_advice"))


def _with_facts(results: pl.DataFrame, facts: pl.DataFrame) -> pl.DataFrame:
    """results + the facts of their portal_id (null for books-only rows). portal_frame_2b's ids
    are 1..n in row order: the facts are then taken by position, not by a join."""
    ids = facts["portal_id"]
    if ids.is_empty() or not (ids.is_sorted() and ids[-1] - ids[0] + 1 == ids.len()):
        return results.join(facts, on="portal_id", how="left")
    at = (results["portal_id"] - ids[0]).cast(pl.UInt32)
    return pl.concat([results, facts.drop("portal_id").select(pl.all().gather(at))],
                     how="horizontal")


def _books_rejected(results: pl.DataFrame, rejected: pl.DataFrame) -> pl.Series:
    """Books documents not in this 2B that the 2B lists as rejected in IMS (same supplier,
    document type and number)."""
    def key(stin: str, number: str) -> pl.Expr:
        return pl.concat_str([pl.col(stin), pl.col("doc_type"),
                              pl.col(number).str.strip_chars().str.to_uppercase()],
                             separator="|")
    gone = rejected.select(key("supplier_gstin", "portal_doc_no").alias("k"))["k"]
    lone = results["match_status"] == "missing_in_portal"
    keys = results.filter(lone).select(key("supplier_gstin", "pr_doc_no").alias("k"))["k"]
    return pl.repeat(False, results.height, eager=True).scatter(
        lone.arg_true(), keys.is_in(gone.implode()))
