"""Matching keys for reconciliation (docs/reconciliation.md, "Keys").

Both sides are brought to one internal shape ("side frame"): `id`, `rtin`, `stin`,
`doc_type`, `doc_no`, `raw_no`, `fy`, `norm_no`, `doc_date`, `pos`, `rcm`, the five amounts in
absolute paise and `tax` (igst + cgst + sgst); `pan` is added by pass 5 to its leftovers.
The portal side also carries the original number and date of amendments as `orig_raw_no`,
`orig_fy`, `orig_norm_no`, `orig_date`.
"""
from __future__ import annotations

import polars as pl

from core.documents import AMOUNT_FIELDS, raw_no_expr

ALNUM = "A-Z0-9"


def fy_start_expr(date: pl.Expr) -> pl.Expr:
    """First calendar year of the financial year of a Date expression (Int32)."""
    return pl.when(date.dt.month() >= 4).then(date.dt.year()).otherwise(date.dt.year() - 1)


def fy_tokens(start: int) -> list[str]:
    """The spellings of one financial year that are removed from numbers (FY 2024-25)."""
    a, b = start % 100, (start + 1) % 100
    return [f"{start}-{start + 1}", f"{start}/{start + 1}", f"{start}-{b:02d}",
            f"{start}/{b:02d}", f"{a:02d}-{b:02d}", f"{a:02d}/{b:02d}", f"{a:02d}{b:02d}"]


def _without_fy_token(raw: pl.Expr, start: int) -> pl.Expr:
    """Remove FY `start`'s token where it stands between separators or at an end."""
    alts = "|".join(fy_tokens(start))
    pattern = rf"(^|[^{ALNUM}])(?:{alts})([^{ALNUM}]|$)"
    # twice: a token may share its separator with the next one ("24-25/2425/7")
    return raw.str.replace_all(pattern, "${1}${2}").str.replace_all(pattern, "${1}${2}")


def _strip_zeros_and_separators(no_fy: pl.Expr) -> pl.Expr:
    no_zeros = no_fy.str.replace_all(r"(^|[^0-9])0+([0-9])", "${1}${2}")
    return no_zeros.str.replace_all(rf"[^{ALNUM}]", "")


def norm_no_frame(frame: pl.DataFrame, raw_col: str, fy_col: str, out: str) -> pl.DataFrame:
    """Add `out` = norm_no of `raw_col` given the start year in `fy_col`.

    The FY token differs per row, so rows are processed per financial year (few of them);
    rows whose number holds no such token skip the expensive pattern.
    """
    idx = frame.with_row_index("_i").select("_i", raw_col, fy_col)
    parts = []
    for (start,), group in idx.group_by(fy_col, maintain_order=True):
        raw = pl.col(raw_col)
        if start is None:
            parts.append(group.with_columns(_strip_zeros_and_separators(raw).alias(out)))
            continue
        parts.append(group.with_columns(
            _strip_zeros_and_separators(_without_fy_token(raw, int(start))).alias(out)))
    if not parts:
        return frame.with_columns(pl.lit(None, pl.Utf8).alias(out))
    normed = pl.concat(parts).sort("_i").get_column(out)
    return frame.with_columns(normed.alias(out))


def norm_no(doc_no: str, fy_start: int | None) -> str:
    """norm_no of one number (tests, the 2A mapping of single records)."""
    frame = pl.DataFrame({"r": [doc_no.strip().upper()], "f": [fy_start]},
                         schema={"r": pl.Utf8, "f": pl.Int32})
    return norm_no_frame(frame, "r", "f", "n").item(0, "n")


def _abs_amounts() -> list[pl.Expr]:
    return [pl.col(c).fill_null(0).cast(pl.Int64).abs().alias(c) for c in AMOUNT_FIELDS]


def _ensure(frame: pl.DataFrame, cols: dict[str, pl.DataType]) -> pl.DataFrame:
    missing = [pl.lit(None, dtype).alias(c) for c, dtype in cols.items() if c not in frame.columns]
    return frame.with_columns(missing) if missing else frame


OPTIONAL_PORTAL = {"orig_doc_no": pl.Utf8, "orig_doc_date": pl.Date, "pos": pl.Utf8,
                   "rcm": pl.Utf8, "srcfilstatus": pl.Utf8, "ispendactblocked": pl.Utf8,
                   "section": pl.Utf8, "rtnprd": pl.Utf8,
                   # the ITC-reduction declaration (core/reco/declare.py)
                   "is_itc_red_req_blocked": pl.Utf8, "is_remarks_blocked": pl.Utf8,
                   **{f"orig_{h}": pl.Int64 for h in ("igst", "cgst", "sgst", "cess")}}
OPTIONAL_BOOKS = {"pos": pl.Utf8, "rcm": pl.Utf8, "no_tax": pl.Boolean, "line_no": pl.Int64,
                  "itc_claimed": pl.Utf8,
                  **{f"itc_claimed_{h}": pl.Int64 for h in ("igst", "cgst", "sgst", "cess")}}
PORTAL_DECLARE = ["is_itc_red_req_blocked", "is_remarks_blocked",
                  "orig_igst", "orig_cgst", "orig_sgst", "orig_cess"]  # orig_*: paise
BOOKS_DECLARE = ["itc_claimed", "itc_claimed_igst", "itc_claimed_cgst", "itc_claimed_sgst",
                 "itc_claimed_cess"]


CODES = {  # few distinct values each: tidied as below
    "rtin": lambda c: c.str.strip_chars().str.to_uppercase(),
    "stin": lambda c: c.str.strip_chars().str.to_uppercase(),
    "doc_type": lambda c: c.str.strip_chars().str.to_uppercase(),
    "pos": lambda c: c.cast(pl.Utf8).str.strip_chars().str.slice(0, 2),
    "rcm": lambda c: c.cast(pl.Utf8).str.strip_chars().str.to_uppercase().str.slice(0, 1),
}


def _tidy_codes(frame: pl.DataFrame) -> list[pl.Expr]:
    """The CODES tidy-ups that change something. Checked on the distinct values (a few
    thousand at most), so clean columns (the usual case: the store holds them tidied) are
    not rewritten a million strings at a time."""
    fixes = []
    for col, tidy in CODES.items():
        if frame.schema[col] == pl.Utf8:
            values = frame.get_column(col).unique().to_frame()
            if values.select((tidy(pl.col(col)) == pl.col(col)).fill_null(True).all()).item():
                continue
        fixes.append(tidy(pl.col(col)).alias(col))
    return fixes


def _common(frame: pl.DataFrame, id_col: str) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(id_col).cast(pl.Int64).alias("id"),
        *_tidy_codes(frame),
        pl.col("doc_no").cast(pl.Utf8),
        raw_no_expr("doc_no").alias("raw_no"),
        pl.col("doc_date").cast(pl.Date),
        fy_start_expr(pl.col("doc_date").cast(pl.Date)).alias("fy"),
        *_abs_amounts(),
    ).with_columns(
        (pl.col("igst") + pl.col("cgst") + pl.col("sgst")).alias("tax"),
    )


def prepare_portal(portal: pl.DataFrame) -> pl.DataFrame:
    """Portal frame (interface columns) -> side frame with amendment keys."""
    given = [c for c in PORTAL_DECLARE if c in portal.columns]  # the rest are added typed
    side = _common(_ensure(portal, OPTIONAL_PORTAL), "portal_id")
    side = side.with_columns(
        *[pl.col(c).cast(OPTIONAL_PORTAL[c]) for c in given],
        raw_no_expr("orig_doc_no").alias("orig_raw_no"),
        pl.col("orig_doc_date").cast(pl.Date).alias("orig_date"),
    ).with_columns(
        pl.when(pl.col("orig_raw_no") == "").then(None).otherwise(pl.col("orig_raw_no"))
        .alias("orig_raw_no"),
        fy_start_expr(pl.col("orig_date")).alias("orig_fy"),
    ).with_columns(pl.col("orig_fy").fill_null(pl.col("fy")))
    return side.with_columns(key_hash().alias("key_hash"), key_hash(SEED2).alias("key_hash2"))


def prepare_books(books: pl.DataFrame, source: str) -> pl.DataFrame:
    """Books frame -> side frame; reverse-charge documents leave IMS reconciliation."""
    given = [c for c in BOOKS_DECLARE if c in books.columns]  # the rest are added typed
    books = _ensure(books, OPTIONAL_BOOKS)
    side = _common(books, "pr_id").with_columns(
        pl.col("no_tax").fill_null(False), pl.col("line_no").cast(pl.Int64),
        *[pl.col(c).cast(pl.Utf8) if c == "itc_claimed" else pl.col(c).cast(pl.Int64).abs()
          for c in given])
    if source == "ims":
        side = side.filter(pl.col("rcm").fill_null("N") != "Y")
    return side.with_columns(key_hash().alias("key_hash"), key_hash(SEED2).alias("key_hash2"))


KEY = ["rtin", "stin", "doc_type", "fy", "raw_no"]


def key_hash(seed: int = 20251001, key: list[str] = KEY) -> pl.Expr:
    """64-bit hash of the pass-1 key (rtin, stin, doc_type, fy, raw_no): the columns' own
    hashes, each with its own seed, xor-ed (a struct hash costs five times as much).
    Duplicates are found on it and re-checked on the real columns; pass 1 joins on two such
    hashes with independent seeds (128 bits: a chance collision among a million rows is
    about 1e-26)."""
    return pl.reduce(lambda a, b: a ^ b, [pl.col(c).hash(_column_seed(seed, i))
                                          for i, c in enumerate(key)])


def _column_seed(seed: int, i: int) -> int:
    return (seed + 0x9E3779B97F4A7C15 * (i + 1)) % 2**63


SEED2 = 9_771_303


def add_norm_no(side: pl.DataFrame) -> pl.DataFrame:
    """Add norm_no (and orig_norm_no on the portal side). Computed only for the rows that
    need it (those left after pass 1, nearest candidates): it is the costly key."""
    side = norm_no_frame(side, "raw_no", "fy", "norm_no")
    if "orig_raw_no" in side.columns:
        side = norm_no_frame(side, "orig_raw_no", "orig_fy", "orig_norm_no")
    return side


def mark_duplicates(side: pl.DataFrame, order: list[str], key: list[str] = KEY,
                    hashed: str = "key_hash") -> pl.DataFrame:
    """Add `dup_of`: the id of the first row (by `order`) sharing `key` (by default
    (rtin, stin, doc_type, fy, raw_no)); null for that first row and for unique rows. `hashed`
    names a column holding a hash of `key` (rows with equal keys have equal hashes)."""
    if side[hashed].n_unique() == side.height:  # cheaper than is_duplicated()
        return side.with_columns(pl.lit(None, pl.Int64).alias("dup_of"))
    at = side.get_column(hashed).is_duplicated().arg_true()
    if at.is_empty():
        return side.with_columns(pl.lit(None, pl.Int64).alias("dup_of"))
    # a hash collision must not make a duplicate: group on the real key among the few
    first = pl.col("id").sort_by(order).first().over(key)
    dup_of = side[at].select(pl.when(pl.col("id") != first).then(first).otherwise(None))
    return side.with_columns(pl.repeat(None, side.height, dtype=pl.Int64, eager=True)
                             .scatter(at, dup_of.to_series().cast(pl.Int64)).alias("dup_of"))
