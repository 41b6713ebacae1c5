"""The five matching passes and the best-score one-to-one assignment.

A pass turns the leftover portal rows `p` and books rows `b` (side frames, see reco_keys) into
candidate pairs `pid, bid, n_out, abs_diff, gap`; `assign` takes pairs in order of best score,
each row at most once, independent of input order.
"""
from __future__ import annotations

import duckdb
import polars as pl

from core.documents import AMOUNT_FIELDS
from core.reco.keys import SEED2, key_hash

PAIR_COLS = ["pid", "bid", "n_out", "abs_diff", "gap"]
SIDE_COLS = ["id", "rtin", "stin", "doc_type", "raw_no", "fy", "doc_date",
             *AMOUNT_FIELDS, "tax", "key_hash", "key_hash2"]
BLOCK = ["rtin", "stin", "doc_type"]
MIN_FUZZY_LEN = 4
JARO_WINKLER_MIN = 0.92


def portal_variant(p: pl.DataFrame, variant: str) -> pl.DataFrame:
    """Portal rows keyed on their current number/date, or (amendments) on the original."""
    cols = SIDE_COLS + (["norm_no"] if "norm_no" in p.columns else [])
    if variant == "current":
        return p.select(cols)
    # an amendment under its original's number and date keys as it does on its own: the
    # current variant already offered it every candidate (assign takes every free pair), and
    # pass 4's "only candidate" is judged among all the leftovers, not the amendments alone
    same = ((pl.col("orig_raw_no") == pl.col("raw_no")) & (pl.col("orig_fy") == pl.col("fy"))
            & (pl.col("orig_date").is_null() | (pl.col("orig_date") == pl.col("doc_date"))))
    same = same.fill_null(False)
    amended = p.filter(pl.col("orig_raw_no").is_not_null() & ~same).with_columns(
        pl.col("orig_raw_no").alias("raw_no"), pl.col("orig_fy").alias("fy"),
        pl.col("orig_date").fill_null(pl.col("doc_date")).alias("doc_date"))
    if "norm_no" in p.columns:
        amended = amended.with_columns(pl.col("orig_norm_no").alias("norm_no"))
    return amended.with_columns(key_hash().alias("key_hash"),
                                key_hash(SEED2).alias("key_hash2")).select(cols)


def _scored(pairs: pl.LazyFrame, tol: int) -> pl.LazyFrame:
    diffs = [(pl.col(c) - pl.col(f"{c}_b")).abs() for c in AMOUNT_FIELDS]
    return pairs.with_columns(
        pl.col("id").alias("pid"), pl.col("id_b").alias("bid"),
        pl.sum_horizontal([(d > tol).cast(pl.Int32) for d in diffs]).alias("n_out"),
        pl.sum_horizontal(diffs).alias("abs_diff"),
        (pl.col("doc_date") - pl.col("doc_date_b")).dt.total_days().abs().alias("gap"),
    )


def _amounts_agree(tol: int) -> pl.Expr:
    return pl.all_horizontal([(pl.col(c) - pl.col(f"{c}_b")).abs() <= tol
                              for c in AMOUNT_FIELDS])


def _join(p: pl.DataFrame, b: pl.DataFrame, on: list[str]) -> pl.LazyFrame:
    return p.lazy().join(b.lazy(), on=on, how="inner", suffix="_b")


def key_pairs(p: pl.DataFrame, b: pl.DataFrame, tol: int, key: str) -> pl.DataFrame:
    """Passes 1 and 2: same rtin, stin, doc_type, fy and raw_no (or norm_no). When the pairs
    are already one-to-one (pass 1 on unique keys) only `pid, bid` come back: there is
    nothing to choose between, so no scores."""
    on = [*BLOCK, "fy", key]
    if key == "raw_no":  # on the key's two hashes (see reco_keys.key_hash)
        ids = _hash_pairs(p, b)
        alone = _alone(ids)
        if alone.all():
            return ids
        # only the pairs sharing a row with another are scored (a few hundred in a million):
        # a pair alone on both its rows is taken whatever its score (assign)
        rest = ids.filter(~alone)
        numbered = pl.col("raw_no") != ""
        scored = _scored(_join(p.filter(numbered & pl.col("id").is_in(rest["pid"].implode())),
                               b.filter(numbered & pl.col("id").is_in(rest["bid"].implode())),
                               ["key_hash", "key_hash2"]), tol).select(PAIR_COLS).collect()
        return pl.concat([ids.filter(alone), scored], how="diagonal")
    has_key = pl.col(key) != ""
    pairs = p.lazy().filter(has_key).join(b.lazy().filter(has_key), on=on, how="inner",
                                          suffix="_b")
    if key != "raw_no":
        ids = pairs.select(pl.col("id").alias("pid"), pl.col("id_b").alias("bid")).collect()
        if _one_to_one(ids):
            return ids
    return _scored(pairs, tol).select(PAIR_COLS).collect()


def _hash_pairs(p: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """pid, bid of the rows with equal key_hash and key_hash2 (raw_no not empty): joined on
    key_hash alone, by row position (a one-column integer join costs a third of a two-column
    one), then checked on key_hash2."""
    def rows(side: pl.DataFrame) -> pl.LazyFrame:
        return side.lazy().select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
                                  "key_hash", "raw_no").filter(pl.col("raw_no") != "")
    at = rows(p).join(rows(b), on="key_hash", suffix="_b").select("row", "row_b").collect()
    same = p["key_hash2"].gather(at["row"]) == b["key_hash2"].gather(at["row_b"])
    return pl.DataFrame({"pid": p["id"].gather(at["row"]),
                         "bid": b["id"].gather(at["row_b"])}).filter(same)


def window_pairs(p: pl.DataFrame, b: pl.DataFrame, tol: int, win: int) -> pl.LazyFrame:
    """Same rtin/stin/doc_type, dates within the window, amounts agree (passes 3 and 4).
    Joined on the block and the taxable value in steps of tol + 1 paise (a portal row on its
    own step and the two beside it: values within tolerance are at most one step apart), so
    that a supplier with thousands of leftovers on both sides is not paired all with all."""
    step = pl.col("txval") // (tol + 1)
    near = p.lazy().join(pl.LazyFrame({"_step": [-1, 0, 1]}), how="cross").with_columns(
        (step + pl.col("_step")).alias("_step"))
    pairs = near.join(b.lazy().with_columns(step.alias("_step")), on=[*BLOCK, "_step"],
                      how="inner", suffix="_b").filter(
        _amounts_agree(tol)
        & ((pl.col("doc_date") - pl.col("doc_date_b")).dt.total_days().abs() <= win))
    return _scored(pairs, tol)


def fuzzy_pairs(p: pl.DataFrame, b: pl.DataFrame, tol: int, win: int) -> pl.DataFrame:
    """Pass 3: window pairs whose numbers are equal once normalised, or nearly equal."""
    pairs = window_pairs(p, b, tol, win).select(
        *PAIR_COLS, "norm_no", pl.col("norm_no_b")).collect()
    if pairs.is_empty():
        return pairs.select(PAIR_COLS)
    return similar_numbers(pairs).select(PAIR_COLS)


def similar_numbers(pairs: pl.DataFrame) -> pl.DataFrame:
    """Keep pairs with equal norm_no, or Levenshtein 1 / Jaro-Winkler >= 0.92 (4+ chars)."""
    con = duckdb.connect(":memory:")
    try:
        con.register("pairs", pairs)
        return con.sql(f"""
            SELECT * FROM pairs
            WHERE norm_no = norm_no_b
               OR (length(norm_no) >= {MIN_FUZZY_LEN} AND length(norm_no_b) >= {MIN_FUZZY_LEN}
                   AND (levenshtein(norm_no, norm_no_b) <= 1
                        OR jaro_winkler_similarity(norm_no, norm_no_b) >= {JARO_WINKLER_MIN}))
        """).pl()
    finally:
        con.close()


def amount_only_pairs(p: pl.DataFrame, b: pl.DataFrame, tol: int, win: int) -> pl.DataFrame:
    """Pass 4: the pair is the only candidate for both of its rows."""
    pairs = window_pairs(p, b, tol, win).select(PAIR_COLS)
    return pairs.filter(
        (pl.len().over("pid") == 1) & (pl.len().over("bid") == 1)).collect()


def pan_pairs(p: pl.DataFrame, b: pl.DataFrame, tol: int) -> pl.DataFrame:
    """Pass 5: same rtin, PAN, doc_type and fy, other GSTIN; number equal raw or normalised;
    taxable value and total tax within tolerance."""
    found = []
    pan = pl.col("stin").str.slice(2, 10).alias("pan")  # only the few leftovers need it
    p, b = p.with_columns(pan), b.with_columns(pan)
    for key in ("raw_no", "norm_no"):
        joined = _join(p.filter(pl.col(key) != ""), b.filter(pl.col(key) != ""),
                       ["rtin", "pan", "doc_type", "fy", key])
        found.append(_scored(joined.filter(
            (pl.col("stin") != pl.col("stin_b"))
            & ((pl.col("txval") - pl.col("txval_b")).abs() <= tol)
            & ((pl.col("tax") - pl.col("tax_b")).abs() <= tol)), tol).select(PAIR_COLS))
    return pl.concat(found).unique(["pid", "bid"]).collect()


MAX_ROUNDS = 30


def _one_to_one(pairs: pl.DataFrame) -> bool:
    n = pairs.height
    return pairs["pid"].n_unique() == n and pairs["bid"].n_unique() == n


def _alone(pairs: pl.DataFrame) -> pl.Series:
    """The pairs whose portal row and books row are in no other pair."""
    return pairs["pid"].is_unique() & pairs["bid"].is_unique()


def assign(pairs: pl.DataFrame) -> pl.DataFrame:
    """Best-score one-to-one assignment: the same result as taking pairs one by one in order
    of (n_out, abs_diff, gap, pid, bid) and skipping any whose row is already used. Each round
    takes every pair that is the first choice of both its rows."""
    if pairs.columns == ["pid", "bid"]:
        return pairs  # unscored: one-to-one already (key_pairs)
    # a pair alone on both its rows is taken whatever its place in the order: only the
    # others are ranked (key_pairs leaves the lone ones unscored)
    alone = _alone(pairs)
    if alone.all():
        return pairs.select("pid", "bid")
    taken = [pairs.filter(alone).select("pid", "bid")]
    ranked = pairs.filter(~alone).sort(["n_out", "abs_diff", "gap", "pid", "bid"])
    for _ in range(MAX_ROUNDS):
        if ranked.is_empty():
            break
        best = ranked.filter(pl.col("pid").is_first_distinct() & pl.col("bid").is_first_distinct())
        taken.append(best.select("pid", "bid"))
        ranked = ranked.filter(~pl.col("pid").is_in(best["pid"].implode())
                               & ~pl.col("bid").is_in(best["bid"].implode()))
    if not ranked.is_empty():
        taken.append(_assign_greedy(ranked))
    return pl.concat(taken)


def _assign_greedy(ranked: pl.DataFrame) -> pl.DataFrame:
    used_p, used_b, out = set(), set(), []
    for pid, bid in ranked.select("pid", "bid").iter_rows():
        if pid not in used_p and bid not in used_b:
            used_p.add(pid)
            used_b.add(bid)
            out.append((pid, bid))
    return pl.DataFrame(out, schema={"pid": pl.Int64, "bid": pl.Int64}, orient="row")
