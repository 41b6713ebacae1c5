"""Recommended IMS action per status and policy, then the portal's own limits
(docs/reconciliation.md, "Recommended IMS action" and "Credit notes accepted")."""
from __future__ import annotations

import polars as pl

from core.reco_keys import key_hash

POLICIES = ("balanced", "strict")
BALANCED = {"exact": "A", "partial": "A", "mismatch": "P", "probable": "P",
            "missing_in_pr": "P", "duplicate": "R", "not_in_2a": "P"}
STRICT = {**BALANCED, "mismatch": "R", "probable": "R"}
NOT_FILED = "NOT FILED"


def action_table(policy: str) -> dict[str, str]:
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    return STRICT if policy == "strict" else BALANCED


def recommended_action(status: str, *, policy: str = "balanced", doc_type: str = "INV",
                       srcfilstatus: str | None = None,
                       ispendactblocked: str | None = None) -> str | None:
    """The action for one IMS record; None where there is no IMS record."""
    action = action_table(policy).get(status)
    if action is None:
        return None
    if action == "A" and (srcfilstatus or "").strip().upper() == NOT_FILED:
        action = "P"
    if action == "P" and (ispendactblocked or "").strip().upper() == "Y":
        action = "A" if doc_type == "BOE" else "R"
    if action == "R" and doc_type == "BOE":
        action = "P"
    return action


ACTION_INPUTS = ["match_status", "doc_type", "srcfilstatus", "ispendactblocked"]


def recommend(results: pl.DataFrame, policy: str = "balanced") -> pl.DataFrame:
    """Set `recommended_action` and the credit-note declaration columns on reconcile() rows.

    Needs match_status, portal_id, doc_type, srcfilstatus, ispendactblocked, and for the
    declaration the books amounts pr_igst..pr_cess and the totals portal_tax / pr_tax.
    `recommended_action` itself is applied to each distinct combination of its inputs (a few
    dozen in a million rows, told apart by a 64-bit hash), so there is one rule, not two.
    """
    action_table(policy)
    results = results.with_columns([pl.col(c).cast(pl.Utf8) for c in ACTION_INPUTS])
    combo = key_hash(7, ACTION_INPUTS)
    keyed = results.with_columns(combo.alias("_combo"))
    combos = keyed.filter(pl.col("_combo").is_first_distinct()).select("_combo", *ACTION_INPUTS)
    actions = [recommended_action(s or "", policy=policy, doc_type=t or "", srcfilstatus=f,
                                  ispendactblocked=b)
               for s, t, f, b in combos.select(ACTION_INPUTS).iter_rows()]
    action = pl.col("_combo").replace_strict(combos["_combo"], pl.Series(actions, dtype=pl.Utf8),
                                             return_dtype=pl.Utf8)
    out = keyed.with_columns(pl.when(pl.col("portal_id").is_null()).then(None)
                             .otherwise(action).alias("recommended_action")).drop("_combo")
    return declare_itc_reduction(out)


DECL = {"decl_igst": "pr_igst", "decl_cgst": "pr_cgst", "decl_sgst": "pr_sgst",
        "decl_cess": "pr_cess"}


def declare_itc_reduction(results: pl.DataFrame) -> pl.DataFrame:
    """Accepted credit notes declare "ITC to be reduced" (Y); where the books hold the note with
    less tax than the portal, the declared amounts are the books' amounts."""
    accepted_cn = (pl.col("doc_type") == "CRN") & (pl.col("recommended_action") == "A")
    books_less = (accepted_cn & pl.col("pr_tax").is_not_null()
                  & (pl.col("pr_tax") < pl.col("portal_tax")))
    for col in ("pr_igst", "pr_cgst", "pr_sgst", "pr_cess"):
        if col not in results.columns:
            results = results.with_columns(pl.lit(None, pl.Int64).alias(col))
    return results.with_columns(
        pl.when(accepted_cn).then(pl.lit("Y")).otherwise(None).alias("itc_red_req"),
        *[pl.when(books_less).then(pl.col(src)).otherwise(None).cast(pl.Int64).alias(dst)
          for dst, src in DECL.items()],
    )
