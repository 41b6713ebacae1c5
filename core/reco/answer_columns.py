"""What a person sees of every record's ITC-reduction answer and remark, for a whole frame at
once: the rules of core/reco/itc_answer.py (`question_applies`, `effective_answer`,
`remarks_allowed`) as Polars expressions, so a page or a download of 100,000 records never
reads them row by row in Python (issue 29: a per-row loop cost most of a page's time; and no
Python function ever runs inside a Polars expression).

`answers_shown(frame)` adds, to a frame with the answer columns (`answer_columns_sql`):
`itc_applies`, `itc_answer` (Full / Partial / No; null where the question does not apply),
`reduce_igst` .. `reduce_cess` (rupees, Partial only), `remarks_allowed` and
`supplier_remark` (the user's, else the proposal's default; null where remarks are blocked).
"""
from __future__ import annotations

import polars as pl

from core.reco.declare import ASKING_SECTIONS, FIRST_PERIOD, HEADS
from core.reco.itc_answer import ANSWER_LABELS, FULL, NO, PARTIAL

SHOWN = {"itc_applies": pl.Boolean, "itc_answer": pl.Utf8,
         **{f"reduce_{h}": pl.Float64 for h in HEADS},
         "remarks_allowed": pl.Boolean, "supplier_remark": pl.Utf8}
NEEDED = ("section", "rtnprd", "is_itc_red_req_blocked", "is_remarks_blocked", "user_action",
          "recommended_action", "user_itc_red_req", "rec_itc_red_req", "user_supplier_remark",
          "rec_supplier_remark", *(f"{who}_decl_{h}" for who in ("user", "rec") for h in HEADS))


def _text(name: str) -> pl.Expr:
    """A text column trimmed, '' for null."""
    return pl.col(name).cast(pl.Utf8).fill_null("").str.strip_chars()


def _applies() -> pl.Expr:
    """itc_reduction_applies: the portal's flag (Y = no, N = yes), else credit notes of periods
    from FIRST_PERIOD on."""
    flag = _text("is_itc_red_req_blocked").str.to_uppercase()
    period = _text("rtnprd")
    valid = period.str.contains(r"^[0-9]{6}$") & period.str.slice(0, 2).cast(
        pl.Int32, strict=False).is_between(1, 12)
    month_number = (period.str.slice(2, 4).cast(pl.Int32, strict=False) * 100
                    + period.str.slice(0, 2).cast(pl.Int32, strict=False))
    by_rule = (_text("section").str.to_lowercase().is_in(list(ASKING_SECTIONS)) & valid
               & (month_number >= FIRST_PERIOD[0] * 100 + FIRST_PERIOD[1]))
    return (pl.when(flag.is_in(["Y", "N"])).then(flag == "N")
            .otherwise(by_rule.fill_null(False)))


def _kind(who: str) -> pl.Expr:
    """The answer `who` (user_ / rec_) gave: no, partial (Y with an amount), full (Y), null."""
    red_req = pl.col(f"{who}itc_red_req")
    any_amount = pl.any_horizontal([pl.col(f"{who}decl_{h}").is_not_null() for h in HEADS])
    return (pl.when(red_req == "N").then(pl.lit(NO))
            .when(red_req == "Y").then(pl.when(any_amount).then(pl.lit(PARTIAL))
                                       .otherwise(pl.lit(FULL)))
            .otherwise(pl.lit(None, dtype=pl.Utf8)))


def _paise(name: str) -> pl.Expr:
    return (pl.col(name).cast(pl.Float64) * 100).round(0).cast(pl.Int64)


def answers_shown(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with the SHOWN columns added (see the module's text); the same values as
    core.reco.itc_answer's rules give one row at a time."""
    missing = [c for c in NEEDED if c not in frame.columns]
    work = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c) for c in missing)
    user_kind, rec_kind = _kind("user_"), _kind("rec_")
    work = work.with_columns(_applies().alias("__applies"), user_kind.alias("__user"),
                             rec_kind.alias("__rec"))
    mine = pl.col("__user").is_not_null()
    kind = pl.coalesce(pl.col("__user"), pl.col("__rec"), pl.lit(FULL))
    decl = {h: pl.when(mine).then(pl.col(f"user_decl_{h}"))
            .when(pl.col("__rec").is_not_null()).then(pl.col(f"rec_decl_{h}"))
            .otherwise(None) for h in HEADS}
    work = work.with_columns(kind.alias("__kind"),
                             *(e.cast(pl.Float64).alias(f"__decl_{h}") for h, e in decl.items()))
    same_amounts = pl.all_horizontal([
        (pl.col(f"__decl_{h}").is_null() & pl.col(f"rec_decl_{h}").is_null())
        | (_paise(f"__decl_{h}") == _paise(f"rec_decl_{h}")).fill_null(False) for h in HEADS])
    same_as_proposal = ((pl.col("__rec") == pl.col("__kind")).fill_null(False)
                        & ((pl.col("__kind") != PARTIAL) | same_amounts))
    acting = pl.when(pl.col("user_action").fill_null("") != "").then(pl.col("user_action")) \
        .otherwise(pl.col("recommended_action"))
    accepting = (acting == "A").fill_null(False)
    own = _text("user_supplier_remark")
    proposed = _text("rec_supplier_remark")
    remark = (pl.when(own != "").then(own)
              .when(same_as_proposal & accepting & (proposed != "")).then(proposed)
              .otherwise(pl.lit(None, dtype=pl.Utf8)))
    allowed = _text("is_remarks_blocked").str.to_uppercase() != "Y"
    partial = pl.col("__applies") & (pl.col("__kind") == PARTIAL)
    shown = work.select(
        pl.col("__applies").alias("itc_applies"),
        pl.when(pl.col("__applies")).then(pl.col("__kind").replace_strict(ANSWER_LABELS))
        .otherwise(pl.lit(None, dtype=pl.Utf8)).alias("itc_answer"),
        *(pl.when(partial).then(pl.col(f"__decl_{h}").fill_null(0.0))
          .otherwise(pl.lit(None, dtype=pl.Float64)).alias(f"reduce_{h}") for h in HEADS),
        allowed.alias("remarks_allowed"),
        pl.when(allowed).then(remark).otherwise(pl.lit(None, dtype=pl.Utf8))
        .alias("supplier_remark"))
    return frame.hstack(shown.cast(SHOWN))
