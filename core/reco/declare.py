"""The ITC-reduction answer proposed for an accepted record (docs/reconciliation.md,
"ITC-reduction declaration").

`itc_reduction_applies(section, rtnprd, flag)` says whether the portal asks "ITC to be
reduced?" of a record. `declare_itc_reduction(rows, tolerance_paise)` adds to reconcile() rows,
only where the recommended action is A and the question applies:
- `itc_red_req`: "N" when the books hold the matched document as ITC not claimed, else "Y";
- `decl_igst`..`decl_cess` (paise): the partial amounts, where the books claimed less than the
  portal's tax on some head by more than the tolerance; null = full (or N);
- `supplier_remark`: the default remark for a proposed partial or N where remarks are allowed.
Everything else is null.
"""
from __future__ import annotations

import polars as pl

from core.money import indian_amount
from core.periods import is_period, month_of
from core.reco.keys import key_hash

HEADS = ("igst", "cgst", "sgst", "cess")
HEAD_NAMES = {"igst": "IGST", "cgst": "CGST", "sgst": "SGST", "cess": "Cess"}
ASKING_SECTIONS = ("b2bcn", "b2bcna")   # where the portal gives no flag
FIRST_PERIOD = (2025, 10)               # the question exists from the Oct-2025 return period
DOC_WORDS = {"CRN": "credit note", "DBN": "debit note", "INV": "invoice", "BOE": "bill of entry"}
OUTPUTS = ("itc_red_req", "decl_igst", "decl_cgst", "decl_sgst", "decl_cess", "supplier_remark")
OUTPUT_TYPES = {"itc_red_req": pl.Utf8, "supplier_remark": pl.Utf8,
                **{f"decl_{h}": pl.Int64 for h in ("igst", "cgst", "sgst", "cess")}}
DECLARE_INPUTS = {  # column -> dtype; absent columns are unknown (null)
    "section": pl.Utf8, "rtnprd": pl.Utf8, "is_itc_red_req_blocked": pl.Utf8,
    "is_remarks_blocked": pl.Utf8, "pr_itc_claimed": pl.Utf8,
    **{f"portal_{h}": pl.Int64 for h in HEADS}, **{f"orig_{h}": pl.Int64 for h in HEADS},
    **{f"pr_{h}": pl.Int64 for h in HEADS}, **{f"pr_itc_claimed_{h}": pl.Int64 for h in HEADS},
}


def _period(rtnprd: str | None) -> tuple[int, int] | None:
    text = (rtnprd or "").strip()
    return month_of(text) if is_period(text) else None


def itc_reduction_applies(section: str | None, rtnprd: str | None,
                          is_itc_red_req_blocked: str | None) -> bool:
    """Whether the ITC-reduction question applies to a record: the portal's flag where it gives
    one (Y = no, N = yes); without it, credit notes (b2bcn, b2bcna) of periods from 102025 on."""
    flag = (is_itc_red_req_blocked or "").strip().upper()
    if flag in ("Y", "N"):
        return flag == "N"
    period = _period(rtnprd)
    return ((section or "").strip().lower() in ASKING_SECTIONS and period is not None
            and period >= FIRST_PERIOD)


def reduction_cap(current: int, original: int | None = None) -> int:
    """The most of one tax head that can be declared: the record's own amount, or for an
    amendment whose original is known, the drop from the original (0 where it did not drop)."""
    if original is None:
        return max(current, 0)
    return max(original - current, 0)


def not_claimed_remark(doc_type: str | None) -> str:
    return f"ITC not claimed on this {DOC_WORDS.get(doc_type or '', 'document')}"


def partial_remark(amounts: dict[str, int]) -> str:
    """'ITC claimed: IGST 450.00' for the heads given (head -> paise)."""
    return "ITC claimed: " + ", ".join(f"{HEAD_NAMES[h]} {indian_amount(p)}"
                                       for h, p in amounts.items())


def _applies_column(rows: pl.DataFrame) -> pl.Series:
    """itc_reduction_applies per row, evaluated once per distinct (section, rtnprd, flag)."""
    cols = ["section", "rtnprd", "is_itc_red_req_blocked"]
    if rows.is_empty():
        return pl.Series("_applies", [], dtype=pl.Boolean)
    keyed = rows.select(cols).with_columns(key_hash(11, cols).alias("_k"))
    combos = keyed.filter(pl.col("_k").is_first_distinct())
    answers = pl.Series([itc_reduction_applies(*r) for r in combos.select(cols).iter_rows()],
                        dtype=pl.Boolean)
    return keyed.select(pl.col("_k").replace_strict(combos["_k"], answers,
                                                    return_dtype=pl.Boolean)).to_series()


def _with_inputs(rows: pl.DataFrame, columns) -> pl.DataFrame:
    """`columns` of DECLARE_INPUTS from `rows`, typed; absent ones null."""
    there = [c for c in columns if c in rows.columns]
    return rows.select(*[pl.col(c).cast(DECLARE_INPUTS[c]) for c in there],
                       *[pl.lit(None, DECLARE_INPUTS[c]).alias(c) for c in columns
                         if c not in there])


def declare_itc_reduction(rows: pl.DataFrame, tolerance_paise: int = 100) -> pl.DataFrame:
    """Add itc_red_req, decl_igst..decl_cess and supplier_remark (module docstring). Worked out
    on the rows where the question is asked (an Accept where it applies) only."""
    applies = _applies_column(_with_inputs(rows, ["section", "rtnprd",
                                                  "is_itc_red_req_blocked"]))
    accepted = (rows.get_column("recommended_action") == "A").fill_null(False)
    at = (applies & accepted).arg_true()
    kept = rows.select([c for c in rows.columns if c not in OUTPUTS])
    blank = {c: pl.repeat(None, rows.height, dtype=OUTPUT_TYPES[c], eager=True)
             for c in OUTPUTS}
    if not at.is_empty():
        extra = ["doc_type", "pr_id", "match_status"]
        asked = pl.concat([_with_inputs(rows[at], list(DECLARE_INPUTS)),
                           rows[at].select([c for c in extra if c in rows.columns])],
                          how="horizontal")
        answers = propose(asked, tolerance_paise)
        blank = {c: blank[c].scatter(at, answers[c]) for c in OUTPUTS}
    return kept.with_columns([series.alias(c) for c, series in blank.items()])


def propose(asked: pl.DataFrame, tolerance_paise: int) -> pl.DataFrame:
    """The answer (OUTPUTS) for rows where the question is asked (module docstring)."""
    books = pl.col("pr_id").is_not_null() if "pr_id" in asked.columns else pl.lit(False)
    if "match_status" in asked.columns:  # an older version's books link is for reference only
        books = books & (pl.col("match_status") != "amended").fill_null(True)
    claimed = {h: pl.coalesce(pl.col(f"pr_itc_claimed_{h}"), pl.col(f"pr_{h}"), pl.lit(0))
               for h in HEADS}
    portal = {h: pl.col(f"portal_{h}").fill_null(0) for h in HEADS}
    any_given = pl.any_horizontal([pl.col(f"pr_itc_claimed_{h}").is_not_null() for h in HEADS])
    nothing_claimed = books & (
        (pl.col("pr_itc_claimed").str.strip_chars().str.to_uppercase() == "N").fill_null(False)
        | (any_given & (pl.sum_horizontal(claimed.values()) == 0)))
    cap = {h: pl.when(pl.col(f"orig_{h}").is_not_null())
           .then(pl.max_horizontal(pl.col(f"orig_{h}") - portal[h], pl.lit(0)))
           .otherwise(portal[h]) for h in HEADS}
    below = books & pl.any_horizontal([claimed[h] < portal[h] - tolerance_paise for h in HEADS])
    work = asked.with_columns(
        nothing_claimed.fill_null(False).alias("_none"), below.fill_null(False).alias("_below"),
        *[cap[h].alias(f"_cap_{h}") for h in HEADS],
        *[pl.min_horizontal(pl.max_horizontal(claimed[h], pl.lit(0)), cap[h]).alias(f"_d_{h}")
          for h in HEADS])
    lower = pl.min_horizontal("_d_cgst", "_d_sgst")  # CGST = SGST, both at the lower
    work = work.with_columns(lower.alias("_d_cgst"), lower.alias("_d_sgst"))
    at_cap = pl.all_horizontal([pl.col(f"_d_{h}") == pl.col(f"_cap_{h}") for h in HEADS])
    work = work.with_columns((~pl.col("_none") & pl.col("_below") & ~at_cap).alias("_partial"))
    work = work.with_columns(
        pl.when(pl.col("_none")).then(pl.lit("N")).otherwise(pl.lit("Y")).alias("itc_red_req"),
        *[pl.when(pl.col("_partial")).then(pl.col(f"_d_{h}")).otherwise(None).cast(pl.Int64)
          .alias(f"decl_{h}") for h in HEADS])
    return work.with_columns(_remarks(work).alias("supplier_remark")).select(OUTPUTS)


def _remarks(work: pl.DataFrame) -> pl.Series:
    """The default remark of each proposed partial or N answer where remarks are allowed;
    spelled out in Python for those few rows only."""
    allowed = ~(pl.col("is_remarks_blocked").str.strip_chars().str.to_uppercase() == "Y"
                ).fill_null(False)
    wanted = work.select(((pl.col("_none") | pl.col("_partial")) & allowed)
                         .fill_null(False)).to_series()
    out = pl.repeat(None, work.height, dtype=pl.Utf8, eager=True)
    at = wanted.arg_true()
    if at.is_empty():
        return out
    texts = []
    for r in work[at].iter_rows(named=True):
        if r["_none"]:
            texts.append(not_claimed_remark(r["doc_type"]))
            continue
        shown = {h: r[f"decl_{h}"] for h in HEADS
                 if (r[f"portal_{h}"] or 0) > 0 or (r[f"decl_{h}"] or 0) > 0}
        texts.append(partial_remark(shown or {h: r[f"decl_{h}"] for h in HEADS}))
    return out.scatter(at, pl.Series(texts, dtype=pl.Utf8))
