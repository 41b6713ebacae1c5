"""Skew: one supplier holding most of the unmatched documents. The nearest candidate then ranks
only the documents with the same number and the closest-dated unmatched documents of the same
doc type (docs/reconciliation.md, "Nearest rejected candidate"), checked against a plain
reading of that rule computed pair by pair; passes 3 and 4 find the same pairs as pairing every
document of a block with every other."""
from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from core.reco import reconcile
from core.reco.keys import norm_no_frame, prepare_books, prepare_portal
from core.reco.nearest import ID_BITS, _closest_of_each
from core.reco.passes import BLOCK, window_pairs
from tests.fixtures import S1, S2, books_frame, books_row, portal_frame, portal_row

TOL, WIN = 100, 10
BUDGET, MIN_PER_ROW = 300_000, 20   # core/reco/nearest.py: PAIR_BUDGET, MIN_PER_ROW
DAY0 = dt.date(2025, 10, 1)


def skewed(n: int = 1200) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Supplier S1: n portal records and n books documents over four days, one in six matched
    on the number; the rest differ in number and amount, a few share a number under another
    doc type. S2: a handful of documents, all matched."""
    p, b = [], []
    for i in range(n):
        day = (DAY0 + dt.timedelta(days=(i * 7) % 4)).isoformat()
        same = i % 6 == 0
        p.append(portal_row(i + 1, f"SI/{i:05d}", day, stin=S1, txval=100_000 * (i + 1),
                            igst=18_000 * (i + 1)))
        b_no = f"SI/{i:05d}" if same or i % 50 == 7 else f"PB-{(i * 37) % n}"
        b.append(books_row(i + 1, b_no, (DAY0 + dt.timedelta(days=(i * 3) % 5)).isoformat(),
                           stin=S1, doc_type="CRN" if i % 50 == 7 else "INV",
                           txval=(100_000 * (i + 1)) if same else 77_700 * (i + 3),
                           igst=18_000 * (i + 1) if same else 13_000 * (i + 2)))
    for i in range(5):
        p.append(portal_row(n + i + 1, f"K-{i}", stin=S2, txval=5_000_000, igst=900_000))
        b.append(books_row(n + i + 1, f"K-{i}", stin=S2, txval=5_000_000, igst=900_000))
    return portal_frame(p), books_frame(b)


def expected_nearest(lone: pl.DataFrame, others: pl.DataFrame,
                     matched: set[int]) -> dict[int, str]:
    """For each lone row: rank its supplier's documents with the same raw number and its block's
    `keep` closest-dated unmatched documents within the window; the first one's number."""
    keep = max(MIN_PER_ROW, BUDGET // lone.height)
    assert lone.height * others.height > BUDGET      # the restricted rule applies
    def numbered(side: pl.DataFrame) -> pl.DataFrame:   # October 2025: financial year 2025
        return norm_no_frame(side.with_columns(pl.col("doc_no").str.to_uppercase().alias("raw"),
                                               pl.lit(2025).alias("fy")), "raw", "fy", "n")
    lo, ot = numbered(lone), numbered(others)
    pairs = lo.join(ot, on=["rtin", "stin"], suffix="_o").with_columns(
        (pl.col("doc_date") - pl.col("doc_date_o")).dt.total_days().abs().alias("gap"))
    near = pairs.filter((pl.col("doc_type") == pl.col("doc_type_o"))
                        & ~pl.col("id_o").is_in(list(matched)) & (pl.col("gap") <= WIN)
                        ).sort("id", "gap", "id_o").group_by("id", maintain_order=True).head(keep)
    cand = pl.concat([pairs.filter(pl.col("raw") == pl.col("raw_o")), near]).unique(["id", "id_o"])
    cand = duckdb.sql("SELECT *, jaro_winkler_similarity(n, n_o) AS jw FROM cand").pl()
    n_out = sum(((pl.col(c) - pl.col(f"{c}_o")).abs() > TOL).cast(pl.Int32)
                for c in ("txval", "igst", "cgst", "sgst", "cess"))
    best = cand.with_columns(
        (pl.col("doc_type") != pl.col("doc_type_o")).alias("type_diff"),
        (pl.col("n") == pl.col("n_o")).alias("norm_eq"), n_out.alias("n_out"),
    ).sort(["id", "type_diff", "norm_eq", "jw", "n_out", "gap", "id_o"],
           descending=[False, False, True, True, False, False, False]).group_by(
        "id", maintain_order=True).first()
    return dict(zip(best["id"], best["doc_no_o"], strict=True))


def test_skewed_supplier_nearest_follows_the_restricted_rule():
    p, b = skewed()
    out = reconcile(p, b)
    side_p = p.rename({"portal_id": "id"})
    side_b = b.rename({"pr_id": "id"})
    paired = out.filter(pl.col("portal_id").is_not_null() & pl.col("pr_id").is_not_null())
    lone_p = side_p.join(out.filter(pl.col("match_status") == "missing_in_pr")
                         .select(pl.col("portal_id").alias("id")), on="id")
    lone_b = side_b.join(out.filter(pl.col("match_status") == "missing_in_portal")
                         .select(pl.col("pr_id").alias("id")), on="id")
    assert lone_p.height > 900 and lone_b.height > 900
    want_p = expected_nearest(lone_p, side_b, set(paired["pr_id"]))
    want_b = expected_nearest(lone_b, side_p, set(paired["portal_id"]))
    got_p = dict(out.filter(pl.col("match_status") == "missing_in_pr")
                 .select("portal_id", "nearest_doc_no").iter_rows())
    got_b = dict(out.filter(pl.col("match_status") == "missing_in_portal")
                 .select("pr_id", "nearest_doc_no").iter_rows())
    assert got_p == want_p
    assert got_b == want_b
    # the reasons name what lost: every one of these differs in number or amounts
    lone_reasons = out.filter(pl.col("match_status").is_in(["missing_in_pr", "missing_in_portal"]))
    assert lone_reasons["nearest_reason"].str.contains("number differs|amounts differ").all()


def all_with_all(p: pl.DataFrame, b: pl.DataFrame, tol: int, win: int) -> set[tuple[int, int]]:
    pairs = p.join(b, on=BLOCK, suffix="_b").filter(
        pl.all_horizontal([(pl.col(c) - pl.col(f"{c}_b")).abs() <= tol
                           for c in ("txval", "igst", "cgst", "sgst", "cess")])
        & ((pl.col("doc_date") - pl.col("doc_date_b")).dt.total_days().abs() <= win))
    return set(pairs.select("id", "id_b").iter_rows())


amount = st.sampled_from([0, 99, 100, 101, 199, 200, 201, 1_000_000, 1_000_100, 1_000_101])
side_doc = st.tuples(st.sampled_from([S1, S2]), st.sampled_from(["INV", "CRN"]),
                     st.integers(0, 25), amount, st.sampled_from([0, 100, 101]))


@settings(max_examples=80, deadline=None)
@given(st.lists(side_doc, max_size=15), st.lists(side_doc, max_size=15),
       st.sampled_from([0, 1, 100, 250]), st.sampled_from([0, 3, 10]))
def test_window_pairs_are_those_of_the_whole_block(pdocs, bdocs, tol, win):
    p = prepare_portal(portal_frame([
        portal_row(i + 1, f"P{i}", (DAY0 + dt.timedelta(d)).isoformat(), stin=s, doc_type=t,
                   txval=a, igst=g) for i, (s, t, d, a, g) in enumerate(pdocs)]))
    b = prepare_books(books_frame([
        books_row(i + 1, f"B{i}", (DAY0 + dt.timedelta(d)).isoformat(), stin=s, doc_type=t,
                  txval=a, igst=g) for i, (s, t, d, a, g) in enumerate(bdocs)]), "gstr2a")
    got = window_pairs(p, b, tol, win).select("pid", "bid").collect()
    assert got.height == got.unique().height
    assert set(got.iter_rows()) == all_with_all(p, b, tol, win)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(0, 10), st.integers(0, 40)),
                max_size=60, unique_by=lambda t: (t[0], t[2])),
       st.integers(1, 5), st.sampled_from([0, 2**ID_BITS]))
def test_closest_of_each_keeps_the_smallest_gaps_then_ids(triples, keep, shift):
    """Ranked on one packed number (ids below 2^40) or on gap and id (larger ids): the same
    `keep` closest, then lowest ids, of each lone row as a plain sort."""
    pairs = pl.DataFrame(triples, schema={"id": pl.Int64, "_gap": pl.Int64, "id_o": pl.Int64},
                         orient="row").with_columns(pl.col("id_o") + shift)
    want = pairs.sort("id", "_gap", "id_o").group_by("id", maintain_order=True).head(keep)
    got = _closest_of_each(pairs.lazy(), keep, 10, pairs["id_o"]).collect()
    assert sorted(got.select("id", "id_o").iter_rows()) == \
        sorted(want.select("id", "id_o").iter_rows())
