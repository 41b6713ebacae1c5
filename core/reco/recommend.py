"""Recommended IMS action per status and policy, then the portal's own facts and limits, each
change with its reason token; then the ITC-reduction answer (docs/reconciliation.md,
"Recommended action" and "ITC-reduction declaration")."""
from __future__ import annotations

import polars as pl

from core.reco.chains import amendment_sections_in
from core.reco.declare import declare_itc_reduction, itc_reduction_applies
from core.reco.keys import key_hash

__all__ = ["ACTION_INPUTS", "POLICIES", "STEP_TOKENS", "action_table", "itc_reduction_applies",
           "recommend", "recommendation", "recommended_action"]

POLICIES = ("balanced", "strict")
BALANCED = {"exact": "A", "partial": "A", "mismatch": "P", "probable": "P",
            "missing_in_pr": "P", "duplicate": "R", "not_in_2a": "P"}
STRICT = {**BALANCED, "mismatch": "R", "probable": "R"}
NOT_FILED = "NOT FILED"
OLDER_BOOKED, OLDER, ORIGINAL_VALUES = "older_booked", "older", "original_values"
BOOKED_AT_ORIGINAL = ("Booked at the original values: please check the amendment or tell us "
                      "the correct values")
STEP_TOKENS = ("NOT_FILED", "PENDING_BLOCKED", "BOE_NO_REJECT")


def action_table(policy: str) -> dict[str, str]:
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    return STRICT if policy == "strict" else BALANCED


def _is_yes(flag: str | None) -> bool:
    return (flag or "").strip().upper() == "Y"


def recommendation(status: str, *, policy: str = "balanced", doc_type: str = "INV",
                   srcfilstatus: str | None = None, ispendactblocked: str | None = None,
                   chain: str | None = None,
                   itc_question: bool = False) -> tuple[str | None, tuple[str, ...]]:
    """(action, reason tokens of the steps that changed it) for one IMS record; (None, ())
    where there is no IMS record (`missing_in_portal`).

    `chain` (docs/reconciliation.md, "Amendments"): OLDER_BOOKED for an older version of a
    chain whose latest has a books document, OLDER for one whose latest has none,
    ORIGINAL_VALUES for a latest version booked at an older version's values; `itc_question`:
    the portal asks "ITC to be reduced?" of the record (a downward amendment, a credit note)."""
    if status == "amended":
        action = "A" if chain == OLDER_BOOKED else "P"
    else:
        action = action_table(policy).get(status)
    if action is None:
        return None, ()
    if chain == ORIGINAL_VALUES:
        action = "P"  # ask the supplier: booked at the original values (either policy)
    doc_type = (doc_type or "").strip().upper()
    if action == "R" and doc_type == "CRN" and status != "duplicate":
        action = "P"  # strict: a credit note stays Pending
    tokens: list[str] = []
    blocked = _is_yes(ispendactblocked)
    if action == "A" and (srcfilstatus or "").strip().upper() == NOT_FILED:
        action = "P"
        tokens.append("NOT_FILED")
    if action == "P" and blocked:
        tokens.append("PENDING_BLOCKED")
        only_not_filed = "NOT_FILED" in tokens or status == "not_in_2a"
        # a credit note, a bill of entry, an older version of an amended document and an
        # invoice or debit note where the ITC-reduction question applies (in practice a
        # downward amendment of a document already accepted) are accepted, never rejected
        keep = (doc_type in ("CRN", "BOE") or only_not_filed or status == "amended"
                or itc_question)
        action = "A" if keep else "R"
    if action == "R" and doc_type == "BOE":
        action = "A" if blocked else "P"
        tokens.append("BOE_NO_REJECT")
    return action, tuple(tokens)


def recommended_action(status: str, *, policy: str = "balanced", doc_type: str = "INV",
                       srcfilstatus: str | None = None, ispendactblocked: str | None = None,
                       chain: str | None = None, itc_question: bool = False) -> str | None:
    """The action alone (see `recommendation`)."""
    return recommendation(status, policy=policy, doc_type=doc_type, srcfilstatus=srcfilstatus,
                          ispendactblocked=ispendactblocked, chain=chain,
                          itc_question=itc_question)[0]


ACTION_INPUTS = ["match_status", "doc_type", "srcfilstatus", "ispendactblocked", "_chain"]
QUESTION_INPUTS = ["section", "rtnprd", "is_itc_red_req_blocked"]


def _chain_role(results: pl.DataFrame) -> pl.Expr:
    """OLDER_BOOKED / OLDER / ORIGINAL_VALUES / null per row (see `recommendation`); worked
    out only where a chain exists (an `amended` row)."""
    status = pl.col("match_status")
    chained = results.select((status == "amended").any()).item() or (
        "section" in results.columns and amendment_sections_in(results["section"]))
    if not chained:
        return pl.lit(None, pl.Utf8)
    booked = pl.col("pr_id").is_not_null() if "pr_id" in results.columns else pl.lit(False)
    return (pl.when((status == "amended") & booked).then(pl.lit(OLDER_BOOKED))
            .when(status == "amended").then(pl.lit(OLDER))
            .when(pl.col("reasons").fill_null("").str.contains("ORIGINAL_VALUES", literal=True))
            .then(pl.lit(ORIGINAL_VALUES)).otherwise(None))


def recommend(results: pl.DataFrame, policy: str = "balanced",
              tolerance_paise: int = 100) -> pl.DataFrame:
    """Set `recommended_action`, add the step tokens to `reasons`, and propose the ITC-reduction
    answer (`itc_red_req`, `decl_*`, `supplier_remark`; core/reco/declare.py) on reconcile() rows.

    Needs match_status, portal_id, doc_type, srcfilstatus, ispendactblocked, reasons; the
    declaration's inputs are optional (absent = unknown). The rule is applied to each distinct
    combination of its inputs (a few dozen in a million rows, told apart by a 64-bit hash), so
    there is one rule, not two.
    """
    action_table(policy)
    if "reasons" not in results.columns:
        results = results.with_columns(pl.lit("", pl.Utf8).alias("reasons"))
    results = results.with_columns(
        _chain_role(results).alias("_chain"),
        *[pl.lit(None, pl.Utf8).alias(c) for c in QUESTION_INPUTS if c not in results.columns])
    results = results.with_columns([pl.col(c).cast(pl.Utf8) for c in ACTION_INPUTS])
    keyed = results.with_columns(key_hash(7, ACTION_INPUTS).alias("_combo"))
    combos = keyed.filter(pl.col("_combo").is_first_distinct()).select("_combo", *ACTION_INPUTS)
    inputs = list(combos.select(ACTION_INPUTS).iter_rows())
    found, asked = ([recommendation(s or "", policy=policy, doc_type=t or "", srcfilstatus=f,
                                    ispendactblocked=b, chain=c, itc_question=question)
                     for s, t, f, b, c in inputs] for question in (False, True))
    actions = pl.Series([a for a, _ in found], dtype=pl.Utf8)
    suffixes = pl.Series([";".join(tokens) for _, tokens in found], dtype=pl.Utf8)
    no_record = pl.col("portal_id").is_null()
    out = keyed.with_columns(
        pl.when(no_record).then(None).otherwise(
            pl.col("_combo").replace_strict(combos["_combo"], actions, return_dtype=pl.Utf8))
        .alias("recommended_action"))
    stepped = combos.filter(suffixes != "")
    if stepped.height:  # only the rows a step changed get a longer reasons text
        at = out.select(pl.col("_combo").is_in(stepped["_combo"].implode())
                        & ~no_record).to_series().arg_true()
        few = out.select(pl.col("reasons").gather(at).fill_null(""),
                         pl.col("_combo").gather(at).replace_strict(
                             stepped["_combo"], suffixes.filter(suffixes != ""),
                             return_dtype=pl.Utf8).alias("suffix"))
        longer = few.select(pl.when(pl.col("reasons") == "").then(pl.col("suffix"))
                            .otherwise(pl.concat_str(["reasons", pl.lit(";"), "suffix"])))
        out = out.with_columns(out.get_column("reasons").cast(pl.Utf8)
                               .scatter(at, longer.to_series()).alias("reasons"))
    out = _where_the_question_applies(out, combos, found, asked)
    declared = declare_itc_reduction(out.drop("_combo"), tolerance_paise)
    return ask_original_values(declared).drop("_chain")


def _where_the_question_applies(out: pl.DataFrame, combos: pl.DataFrame, found: list,
                                asked: list) -> pl.DataFrame:
    """The action of the rows whose combination answers otherwise when the ITC-reduction
    question applies (pending blocked on an invoice or debit note: A, not R), where the
    question does apply to the record (worked out on those few rows only)."""
    differ = [i for i, (f, a) in enumerate(zip(found, asked)) if f[0] != a[0]]
    if not differ:
        return out
    keys = combos["_combo"].gather(differ)
    at = out.select(pl.col("_combo").is_in(keys.implode())
                    & pl.col("portal_id").is_not_null()).to_series().arg_true()
    if at.is_empty():
        return out
    few = out[at].select(*QUESTION_INPUTS, "_combo")
    applies = pl.Series([itc_reduction_applies(*r) for r in
                         few.select(QUESTION_INPUTS).iter_rows()], dtype=pl.Boolean)
    other = few["_combo"].replace_strict(keys, pl.Series([asked[i][0] for i in differ],
                                                         dtype=pl.Utf8), return_dtype=pl.Utf8)
    now = out["recommended_action"].gather(at)
    return out.with_columns(out["recommended_action"].scatter(
        at, pl.select(pl.when(applies).then(other).otherwise(now)).to_series())
        .alias("recommended_action"))


def ask_original_values(rows: pl.DataFrame) -> pl.DataFrame:
    """A latest version booked at its original's values and kept Pending carries a remark to
    the supplier saying so, where the portal takes remarks (and no other remark is proposed)."""
    allowed = ~(pl.col("is_remarks_blocked").cast(pl.Utf8).str.strip_chars().str.to_uppercase()
                == "Y").fill_null(False) if "is_remarks_blocked" in rows.columns else pl.lit(True)
    ask = ((pl.col("_chain") == ORIGINAL_VALUES) & (pl.col("recommended_action") == "P")
           & allowed & pl.col("supplier_remark").is_null()).fill_null(False)
    return rows.with_columns(pl.when(ask).then(pl.lit(BOOKED_AT_ORIGINAL))
                             .otherwise(pl.col("supplier_remark")).alias("supplier_remark"))
