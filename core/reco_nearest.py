"""Why nothing matched: the nearest rejected candidate of each unmatched row.

For a portal row left `missing_in_pr` (or a books row left `missing_in_portal`) the nearest
candidate is the other side's document of the same company and supplier GSTIN ranked by: same
doc type, same normalised number, most similar number, fewest amounts outside tolerance,
smallest date gap, lowest id. On very large inputs only documents with the same number (any
doc type or year), the same doc type within the date window, or the closest date are ranked. Its reason says why it lost, e.g.
`matched to SI/7; dates 14 days apart; amounts differ: TAXABLE_VALUE, IGST`.
Duplicates point at the row they duplicate.
"""
from __future__ import annotations

import duckdb
import polars as pl

from core.reco_keys import add_norm_no
from core.reco_passes import JARO_WINKLER_MIN, MIN_FUZZY_LEN

LONE_COLS = ["id", "rtin", "stin", "doc_type", "raw_no", "fy", "doc_date",
             "txval", "igst", "cgst", "sgst", "cess"]
BLOCK = ["rtin", "stin", "doc_type"]

NEAREST_SQL = """
WITH c AS (
  SELECT l.id AS lone_id, o.id AS other_id, o.doc_no, o.partner_doc_no,
         o.doc_type <> l.doc_type AS type_diff, o.doc_type AS other_type,
         coalesce(o.norm_no = l.norm_no, false) AS norm_eq,
         coalesce(jaro_winkler_similarity(l.norm_no, o.norm_no), 0) AS jw,
         levenshtein(l.norm_no, o.norm_no) AS lev,
         length(l.norm_no) AS len_l, length(o.norm_no) AS len_o,
         o.fy IS DISTINCT FROM l.fy AS fy_diff,
         abs(date_diff('day', l.doc_date, o.doc_date)) AS gap,
         concat_ws(', ',
           CASE WHEN abs(l.txval - o.txval) > $tol THEN 'TAXABLE_VALUE' END,
           CASE WHEN abs(l.igst - o.igst) > $tol THEN 'IGST' END,
           CASE WHEN abs(l.cgst - o.cgst) > $tol THEN 'CGST' END,
           CASE WHEN abs(l.sgst - o.sgst) > $tol THEN 'SGST' END,
           CASE WHEN abs(l.cess - o.cess) > $tol THEN 'CESS' END) AS amounts_out
  FROM cand k JOIN lone l ON l.id = k.lone_id JOIN others o ON o.id = k.other_id
), best AS (
  SELECT * FROM c
  QUALIFY row_number() OVER (PARTITION BY lone_id ORDER BY type_diff, norm_eq DESC, jw DESC,
          length(amounts_out), gap NULLS LAST, other_id) = 1
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
FROM best
"""


PAIR_BUDGET = 1_000_000


def candidate_ids(lone: pl.DataFrame, others: pl.DataFrame, win: int) -> pl.DataFrame:
    """Which other-side documents are ranked for each lone row: every document of the same
    supplier while that makes at most PAIR_BUDGET pairs; beyond that only the same number
    (any doc type or year), the same doc type within the date window, and the closest date."""
    ids = [pl.col("id").alias("lone_id"), pl.col("id_o").alias("other_id")]
    supplier = ["rtin", "stin"]
    sizes = lone.group_by(supplier).len().join(others.group_by(supplier).len(), on=supplier)
    if (sizes["len"] * sizes["len_right"]).sum() <= PAIR_BUDGET:
        return lone.join(others, on=supplier, suffix="_o").select(ids)
    same_no = lone.lazy().join(others.lazy(), on=["rtin", "stin", "raw_no"], suffix="_o")
    in_window = lone.lazy().join(others.lazy(), on=BLOCK, suffix="_o").filter(
        (pl.col("doc_date") - pl.col("doc_date_o")).dt.total_days().abs() <= win)
    dated = lambda f: f.filter(pl.col("doc_date").is_not_null()).sort("doc_date")  # noqa: E731
    closest = dated(lone).join_asof(dated(others).with_columns(pl.col("id").alias("id_o")),
                                    on="doc_date", by=BLOCK, strategy="nearest", suffix="_x",
                                    check_sortedness=False)
    return pl.concat([same_no.select(ids).collect(), in_window.select(ids).collect(),
                      closest.filter(pl.col("id_o").is_not_null()).select(ids)]).unique()


def nearest_candidates(lone: pl.DataFrame, others: pl.DataFrame, tol: int,
                       win: int) -> pl.DataFrame:
    """id of each lone row -> nearest_doc_no, nearest_reason (rows without one are absent)."""
    empty = pl.DataFrame(schema={"id": pl.Int64, "nearest_doc_no": pl.Utf8,
                                 "nearest_reason": pl.Utf8})
    if lone.is_empty() or others.is_empty():
        return empty
    cand = candidate_ids(lone, others, win)
    if cand.is_empty():
        return empty
    others = add_norm_no(others.join(cand.select(pl.col("other_id").alias("id")).unique(),
                                     on="id", how="semi"))
    con = duckdb.connect(":memory:")
    try:
        con.register("cand", cand)
        con.register("lone", add_norm_no(lone))
        con.register("others", others)
        params = {"tol": tol, "win": win, "minlen": MIN_FUZZY_LEN, "jwmin": JARO_WINKLER_MIN}
        return con.sql(NEAREST_SQL, params=params).pl()
    finally:
        con.close()


def _others(side: pl.DataFrame, rows: pl.DataFrame, own: str, partner_no: str) -> pl.DataFrame:
    partners = rows.filter(pl.col("p_id").is_not_null() & pl.col("b_id").is_not_null()).select(
        pl.col(own).alias("id"), pl.col(partner_no).alias("partner_doc_no"))
    return side.filter(pl.col("dup_of").is_null()).select(*LONE_COLS, "doc_no").join(
        partners, on="id", how="left")


def add_nearest(rows: pl.DataFrame, p: pl.DataFrame, b: pl.DataFrame, tol: int,
                win: int) -> pl.DataFrame:
    """Add nearest_doc_no / nearest_reason to the wide rows of reco.pair_rows."""
    lone_p = p.join(rows.filter(pl.col("match_status") == "missing_in_pr").select(
        pl.col("p_id").alias("id")), on="id").select(LONE_COLS)
    lone_b = b.join(rows.filter(pl.col("match_status") == "missing_in_portal").select(
        pl.col("b_id").alias("id")), on="id").select(LONE_COLS)
    near_p = nearest_candidates(lone_p, _others(b, rows, "b_id", "p_doc_no"), tol, win)
    near_b = nearest_candidates(lone_b, _others(p, rows, "p_id", "b_doc_no"), tol, win)
    rows = rows.join(near_p.rename(lambda c: f"np_{c}"), left_on="p_id", right_on="np_id",
                     how="left")
    rows = rows.join(near_b.rename(lambda c: f"nb_{c}"), left_on="b_id", right_on="nb_id",
                     how="left")
    is_p = pl.col("match_status") == "missing_in_pr"
    is_b = pl.col("match_status") == "missing_in_portal"
    dup = _duplicate_of(rows, p, b)
    return rows.join(dup, on=["p_id", "b_id"], how="left", nulls_equal=True).with_columns(
        pl.when(is_p).then(pl.col("np_nearest_doc_no")).when(is_b)
        .then(pl.col("nb_nearest_doc_no")).otherwise(pl.col("dup_doc_no")).alias("nearest_doc_no"),
        pl.when(is_p).then(pl.col("np_nearest_reason")).when(is_b)
        .then(pl.col("nb_nearest_reason")).otherwise(pl.col("dup_reason")).alias("nearest_reason"),
    ).drop("np_nearest_doc_no", "np_nearest_reason", "nb_nearest_doc_no", "nb_nearest_reason",
           "dup_doc_no", "dup_reason")


def _duplicate_of(rows: pl.DataFrame, p: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """Duplicates point at the document kept as the candidate."""
    def kept(side: pl.DataFrame, id_col: str, what: str) -> pl.DataFrame:
        firsts = side.select(pl.col("id").alias("dup_of"), pl.col("doc_no").alias("dup_doc_no"))
        return side.filter(pl.col("dup_of").is_not_null()).select(
            pl.col("id").alias(id_col), "dup_of").join(firsts, on="dup_of").select(
            id_col, "dup_doc_no",
            pl.format("duplicate of {} {}", pl.lit(what), pl.col("dup_of")).alias("dup_reason"))
    dp = kept(p, "p_id", "portal record").with_columns(pl.lit(None, pl.Int64).alias("b_id"))
    db = kept(b, "b_id", "books document").with_columns(pl.lit(None, pl.Int64).alias("p_id"))
    return pl.concat([dp.select("p_id", "b_id", "dup_doc_no", "dup_reason"),
                      db.select("p_id", "b_id", "dup_doc_no", "dup_reason")])
