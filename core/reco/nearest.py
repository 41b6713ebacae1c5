"""Why nothing matched: the nearest rejected candidate of each unmatched row.

For a portal row left `missing_in_pr` (or a books row left `missing_in_portal`) the nearest
candidate is the other side's document of the same company and supplier GSTIN ranked by: same
doc type, same normalised number, most similar number, fewest amounts outside tolerance,
smallest date gap, lowest id. On very large inputs only documents with the same number (any
doc type or year) or the same doc type within the date window are ranked. Its reason says why
it lost, e.g. `matched to SI/7; dates 14 days apart; amounts differ: TAXABLE_VALUE, IGST`.
Duplicates point at the row they duplicate.
"""
from __future__ import annotations

import duckdb
import polars as pl

from core.reco.keys import add_norm_no, key_hash
from core.reco.passes import JARO_WINKLER_MIN, MIN_FUZZY_LEN

LONE_COLS = ["id", "rtin", "stin", "doc_type", "raw_no", "fy", "doc_date",
             "txval", "igst", "cgst", "sgst", "cess"]
NEAREST_COLS = [*LONE_COLS, "doc_no", "dup_of"]  # what add_nearest reads of each side
BLOCK = ["rtin", "stin", "doc_type"]

NEAREST_SQL = """
WITH c AS (
  SELECT k.lone_id, k.other_id,
         o.doc_type <> l.doc_type AS type_diff,
         coalesce(o.norm_no = l.norm_no, false) AS norm_eq,
         coalesce(jaro_winkler_similarity(l.norm_no, o.norm_no), 0) AS jw,
         (abs(l.txval - o.txval) > $tol)::INT + (abs(l.igst - o.igst) > $tol)::INT
           + (abs(l.cgst - o.cgst) > $tol)::INT + (abs(l.sgst - o.sgst) > $tol)::INT
           + (abs(l.cess - o.cess) > $tol)::INT AS n_out,
         abs(date_diff('day', l.doc_date, o.doc_date)) AS gap
  FROM cand k JOIN lone l ON l.id = k.lone_id JOIN others o ON o.id = k.other_id
  WHERE l.rtin = o.rtin AND l.stin = o.stin
), best AS (
  SELECT * FROM c
  QUALIFY row_number() OVER (PARTITION BY lone_id ORDER BY type_diff, norm_eq DESC, jw DESC,
          n_out, gap NULLS LAST, other_id) = 1
), told AS (
  SELECT b.lone_id, o.doc_no, o.partner_doc_no, b.type_diff, o.doc_type AS other_type,
         b.norm_eq, b.jw, b.gap, levenshtein(l.norm_no, o.norm_no) AS lev,
         length(l.norm_no) AS len_l, length(o.norm_no) AS len_o,
         o.fy IS DISTINCT FROM l.fy AS fy_diff,
         concat_ws(', ',
           CASE WHEN abs(l.txval - o.txval) > $tol THEN 'TAXABLE_VALUE' END,
           CASE WHEN abs(l.igst - o.igst) > $tol THEN 'IGST' END,
           CASE WHEN abs(l.cgst - o.cgst) > $tol THEN 'CGST' END,
           CASE WHEN abs(l.sgst - o.sgst) > $tol THEN 'SGST' END,
           CASE WHEN abs(l.cess - o.cess) > $tol THEN 'CESS' END) AS amounts_out
  FROM best b JOIN lone l ON l.id = b.lone_id JOIN others o ON o.id = b.other_id
)
SELECT lone_id AS id, doc_no AS nearest_doc_no,
  coalesce(nullif(concat_ws('; ',
    CASE WHEN partner_doc_no IS NOT NULL THEN 'matched to ' || partner_doc_no END,
    CASE WHEN type_diff THEN 'doc type ' || other_type END,
    CASE WHEN NOT (norm_eq OR (len_l >= $minlen AND len_o >= $minlen
                   AND (lev <= 1 OR jw >= $jwmin))) THEN 'number differs' END,
    CASE WHEN fy_diff THEN 'other financial year' END,
    CASE WHEN gap IS NULL OR gap > $win THEN 'dates ' || coalesce(gap::VARCHAR, '?')
         || ' days apart' END,
    CASE WHEN amounts_out <> '' THEN 'amounts differ: ' || amounts_out END), ''),
    'several documents fit equally') AS nearest_reason
FROM told
"""


PAIR_BUDGET = 300_000   # pairs ranked on string similarity at most (roughly)
MIN_PER_ROW = 20


def candidate_ids(lone: pl.DataFrame, others: pl.DataFrame, matched: pl.Series,
                  win: int) -> pl.DataFrame:
    """Which other-side documents are ranked for each lone row: every document of the same
    supplier while that makes at most PAIR_BUDGET pairs; beyond that only the same number
    (any doc type or year), and the unmatched documents of the same doc type within the date
    window, the closest dates first, as many per row as the budget allows (at least
    MIN_PER_ROW). `matched` holds the ids of the other side's matched documents."""
    ids = [pl.col("id").alias("lone_id"), pl.col("id_o").alias("other_id")]
    supplier = ["rtin", "stin"]
    if _pairs_per_supplier(lone, others) <= PAIR_BUDGET:
        return lone.join(others, on=supplier, suffix="_o").select(ids)
    same_no = _hashed(lone).join(_hashed(others), on="_no", suffix="_o")
    gap = (pl.col("doc_date") - pl.col("doc_date_o")).dt.total_days().abs()
    keep = max(MIN_PER_ROW, PAIR_BUDGET // max(1, lone.height))
    unmatched = others.filter(~pl.col("id").is_in(matched.implode()))
    in_window = _closest_dates(lone, unmatched, keep).with_columns(gap.alias("_gap")).filter(
        pl.col("_gap") <= win)
    in_window = _closest_of_each(in_window, keep, win, unmatched["id"]).select(ids).collect()
    # each part holds a pair once: only the few same-number pairs are checked against the
    # million others (a unique() over every pair cost 0.14 s per side at 1,000,000)
    same_no = same_no.select(ids).collect().join(in_window, on=["lone_id", "other_id"],
                                                 how="anti")
    return pl.concat([same_no, in_window])


ID_BITS = 40   # ids below 2^40 (a trillion) pack with their date gap into one Int64


def _closest_of_each(pairs: pl.LazyFrame, keep: int, win: int,
                     other_ids: pl.Series) -> pl.LazyFrame:
    """The `keep` pairs of each lone row with the smallest gap, then the lowest id: ranked on
    one Int64 (gap * 2^40 + id) when ids and the window allow it (about half the CPU of
    ranking on the two columns), else on the two."""
    low, high = other_ids.min(), other_ids.max()
    if low is None or (low >= 0 and high < 2**ID_BITS and 0 <= win < 2**(62 - ID_BITS)):
        packed = pl.col("_gap").cast(pl.Int64) * 2**ID_BITS + pl.col("id_o")
        return pairs.group_by("id").agg(packed.bottom_k(keep).alias("_k")).explode("_k") \
            .select("id", (pl.col("_k") % 2**ID_BITS).alias("id_o"))
    return pairs.group_by("id").agg(pl.col("id_o").bottom_k_by(["_gap", "id_o"], keep)) \
        .explode("id_o")


def _closest_dates(lone: pl.DataFrame, others: pl.DataFrame, keep: int) -> pl.LazyFrame:
    """Pairs of each lone row with the `keep` documents of its block dated on or after it and
    the `keep` dated before it, the closest dates (then the lowest ids) first: a superset of
    its `keep` closest, found by position in date order instead of pairing every document of
    the block (a supplier with tens of thousands of unmatched documents would make billions
    of pairs)."""
    mine = _hashed(lone).filter(pl.col("doc_date").is_not_null())
    theirs = _hashed(others).filter(pl.col("doc_date").is_not_null())
    ranked = ["_block", "id_o", "doc_date_o", "_at"]
    after = theirs.sort("_block", "doc_date", "id").select(
        "_block", pl.col("id").alias("id_o"), pl.col("doc_date").alias("doc_date_o"),
        pl.int_range(pl.len()).over("_block").alias("_at")).select(ranked)
    before = theirs.sort("_block", "doc_date", "id", descending=[False, True, False]).select(
        "_block", pl.col("id").alias("id_o"), pl.col("doc_date").alias("doc_date_o"),
        pl.int_range(pl.len()).over("_block").alias("_at")).select(ranked)
    # per block and date: how many documents are dated up to that day
    upto = theirs.group_by("_block", "doc_date").len("_c").sort("_block", "doc_date") \
        .with_columns(pl.col("_c").cum_sum().over("_block").cast(pl.Int64).alias("_upto"),
                      pl.col("_c").sum().over("_block").cast(pl.Int64).alias("_n"))
    # documents of the block dated before the lone row = where its "on or after" ones start
    placed = mine.sort("doc_date").join_asof(
        upto.select("_block", pl.col("doc_date").alias("_d"), "_upto").sort("_d"),
        left_on="doc_date", right_on="_d", by="_block", strategy="backward",
        allow_exact_matches=False, check_sortedness=False
    ).join(upto.select("_block", "_n").unique(), on="_block") \
        .with_columns(pl.col("_upto").fill_null(0).alias("_start"))
    steps = pl.LazyFrame({"_j": list(range(keep))}, schema={"_j": pl.Int64})
    start = placed.select("id", "doc_date", "_block", "_start", "_n").join(steps, how="cross")
    pick = ["id", "doc_date", "_block", "_at"]
    first = start.with_columns((pl.col("_start") + pl.col("_j")).alias("_at")).select(pick)
    last = start.with_columns((pl.col("_n") - pl.col("_start") + pl.col("_j")).alias("_at")) \
        .select(pick)
    return pl.concat([first.join(after, on=["_block", "_at"]),
                      last.join(before, on=["_block", "_at"])])


def _hashed(side: pl.DataFrame) -> pl.LazyFrame:
    """id, date and two hashed keys: the number within a supplier, and the block."""
    return side.lazy().select(
        "id", "doc_date", key_hash(key=["rtin", "stin", "raw_no"]).alias("_no"),
        key_hash(key=BLOCK).alias("_block"))


def _pairs_per_supplier(lone: pl.DataFrame, others: pl.DataFrame) -> int:
    """How many pairs comparing every lone row with every document of its supplier makes
    (counted on a hash of rtin and stin: grouping on the strings costs more)."""
    if lone.height * others.height <= PAIR_BUDGET:
        return lone.height * others.height
    sup = key_hash(key=["rtin", "stin"]).alias("_sup")
    sizes = lone.group_by(sup).len().join(others.group_by(sup).len(), on="_sup")
    return int((sizes["len"] * sizes["len_right"]).sum())


def nearest_candidates(lone: pl.DataFrame, side: pl.DataFrame,
                       partners: pl.DataFrame | pl.LazyFrame, tol: int,
                       win: int, con: duckdb.DuckDBPyConnection | None) -> pl.DataFrame:
    """id of each lone row -> nearest_doc_no, nearest_reason (rows without one are absent).
    `side` is the other side's frame; `partners` maps its matched ids to the partner's number
    (lazy: only the few partners of the ranked documents have their number read). `con`: the
    in-memory DuckDB connection of `ranking_connection()` to rank in (None only when nothing
    is lone), shared by both sides and closed by the caller."""
    empty = pl.DataFrame(schema={"id": pl.Int64, "nearest_doc_no": pl.Utf8,
                                 "nearest_reason": pl.Utf8})
    if lone.is_empty() or side.is_empty():
        return empty
    partners = partners.lazy()
    matched = partners.select("id").collect().to_series()
    cand = candidate_ids(lone, side.select(LONE_COLS), matched, win)
    if cand.is_empty():
        return empty
    others = side.select(*LONE_COLS, "doc_no", "dup_of").join(
        cand.select(pl.col("other_id").alias("id")).unique(), on="id", how="semi").filter(
        pl.col("dup_of").is_null())
    partners = partners.filter(pl.col("id").is_in(others["id"].implode())).collect()
    others = add_norm_no(others.with_columns(
        _lookup("id", partners, "partner_doc_no").alias("partner_doc_no")))
    frames = {"cand": cand, "lone": add_norm_no(lone), "others": others}
    try:
        for name, frame in frames.items():
            con.register(name, frame)
        params = {"tol": tol, "win": win, "minlen": MIN_FUZZY_LEN, "jwmin": JARO_WINKLER_MIN}
        return con.sql(NEAREST_SQL, params=params).pl()
    finally:   # the frames let go of, the connection kept for the other side
        for name in frames:
            con.unregister(name)


def ranking_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for NEAREST_SQL. Its joins run in the order written
    (candidate pairs first, then each side by id): left to its join-order optimizer DuckDB
    pairs every lone row with every document of its supplier first (17 million rows for a
    supplier with tens of thousands of documents). Both sides rank in one connection: the
    second reuses the memory the first had (at 1,000,000 documents 0.3 s less CPU and about
    80,000 fewer page faults than a connection each)."""
    return duckdb.connect(":memory:", config={"disabled_optimizers": "join_order"})


def _partners(rows: pl.DataFrame, own: str, partner_no: str) -> pl.LazyFrame:
    """Matched ids of one side -> the number of their partner on the other side (lazy)."""
    return rows.lazy().select("p_id", "b_id", pl.col(own).alias("id"),
                       pl.col(partner_no).alias("partner_doc_no")).filter(
        pl.col("p_id").is_not_null() & pl.col("b_id").is_not_null()
        & (rows["match_status"] != "amended"))  # an older version's link is for reference


def _lookup(key: str, table: pl.DataFrame, value: str) -> pl.Expr:
    """`value` of `table` for the id in column `key` (null where absent), without a join."""
    return pl.col(key).replace_strict(table["id"], table[value], default=None,
                                      return_dtype=pl.Utf8)


def add_nearest(rows: pl.DataFrame, p: pl.DataFrame, b: pl.DataFrame, tol: int,
                win: int) -> pl.DataFrame:
    """Add nearest_doc_no / nearest_reason to the wide rows of reco.pair_rows."""
    status = rows.select("p_id", "b_id", "match_status")
    lone_p = p.select(LONE_COLS).join(status.filter(pl.col("match_status") == "missing_in_pr")
                                      .select(pl.col("p_id").alias("id")), on="id")
    lone_b = b.select(LONE_COLS).join(status.filter(pl.col("match_status") == "missing_in_portal")
                                      .select(pl.col("b_id").alias("id")), on="id")
    # one DuckDB connection for both sides, opened only when there is something to rank
    con = ranking_connection() if lone_p.height + lone_b.height else None
    try:
        near_p = pl.concat([nearest_candidates(lone_p, b, _partners(rows, "b_id", "p_doc_no"),
                                               tol, win, con),
                            _duplicate_of(p, "portal record")])
        near_b = pl.concat([nearest_candidates(lone_b, p, _partners(rows, "p_id", "b_doc_no"),
                                               tol, win, con),
                            _duplicate_of(b, "books document")])
    finally:
        if con is not None:
            con.close()
    # a row with a portal record takes its record's nearest, a books-only row its document's;
    # written at those rows only (a few in a hundred), not looked up on every row
    p_ids, b_ids = rows["p_id"], rows["b_id"]
    at_p = p_ids.is_in(near_p["id"].implode()).fill_null(False).arg_true()
    at_b = (p_ids.is_null() & b_ids.is_in(near_b["id"].implode()).fill_null(False)).arg_true()
    found = pl.concat([_found_at(p_ids, at_p, near_p), _found_at(b_ids, at_b, near_b)])
    at = pl.concat([at_p, at_b])
    blank = pl.repeat(None, rows.height, dtype=pl.Utf8, eager=True)
    return rows.with_columns(
        blank.scatter(at, found["nearest_doc_no"]).alias("nearest_doc_no"),
        blank.scatter(at, found["nearest_reason"]).alias("nearest_reason"))


def _found_at(ids: pl.Series, at: pl.Series, near: pl.DataFrame) -> pl.DataFrame:
    """nearest_doc_no / nearest_reason of the ids at row numbers `at`, in that order."""
    return pl.DataFrame({"id": ids.gather(at)}).join(
        near.unique("id", keep="first").with_columns(pl.col("id").cast(ids.dtype)), on="id",
        how="left",
        maintain_order="left").select("nearest_doc_no", "nearest_reason")


def _duplicate_of(side: pl.DataFrame, what: str) -> pl.DataFrame:
    """Duplicates point at the document kept as the candidate."""
    firsts = side.select(pl.col("id").alias("dup_of"), pl.col("doc_no").alias("nearest_doc_no"))
    return side.filter(pl.col("dup_of").is_not_null()).select("id", "dup_of").join(
        firsts, on="dup_of").select(
        "id", "nearest_doc_no",
        pl.concat_str([pl.lit(f"the same document twice: a duplicate of the {what} "),
                       pl.col("nearest_doc_no")]).alias("nearest_reason"))
