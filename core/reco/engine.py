"""The reconciliation engine: portal records (IMS or GSTR-2A) against the purchase register.

`reconcile(portal, books)` runs docs/reconciliation.md end to end on Polars frames and returns
one row per portal record and per unmatched books document, with status, pass, reasons,
per-field differences (paise, portal minus books), the nearest rejected candidate of unmatched
rows, the recommended action and the ITC-reduction answer. Pure functions: no database.
The public entry is core/reco/__init__.py (also `python -m core.reco`).
"""
from __future__ import annotations

import polars as pl

from core.documents import AMOUNT_FIELDS
from core.reco.chains import SUPERSEDED, books_at_original, chain_matches, live_rows, mark_chains
from core.reco.keys import (
    BOOKS_DECLARE,
    PORTAL_DECLARE,
    add_norm_no,
    mark_duplicates,
    prepare_books,
    prepare_portal,
)
from core.reco.nearest import NEAREST_COLS, add_nearest
from core.reco.overrides import as_manual, drop_broken, split_overrides
from core.reco.passes import (
    SIDE_COLS,
    amount_only_pairs,
    assign,
    fuzzy_pairs,
    key_pairs,
    pan_pairs,
    portal_variant,
)
from core.reco.recommend import action_table, recommend

PASSES = ("key", "normalised", "fuzzy", "amount_only", "pan")
VARIANTS = ("current", "original")
REASON_FIELDS = {"txval": "TAXABLE_VALUE", "igst": "IGST", "cgst": "CGST", "sgst": "SGST",
                 "cess": "CESS"}
ROUNDING_MIN = 1  # paise: a difference must exceed Rs 0.01 to count as rounding
OUTPUT_COLUMNS = [
    "portal_id", "pr_id", "match_status", "match_pass", "recommended_action", "reasons",
    "company_gstin", "supplier_gstin", "doc_type", "rtnprd", "portal_doc_no", "portal_doc_date",
    "pr_doc_no", "pr_doc_date", "pr_line", "portal_txval", "pr_txval", "portal_tax", "pr_tax",
    "diff_txval", "diff_igst", "diff_cgst", "diff_sgst", "diff_cess", "diff_tax",
    "nearest_doc_no", "nearest_reason", "itc_red_req", "decl_igst", "decl_cgst", "decl_sgst",
    "decl_cess", "supplier_remark",
    # extras
    "matched_on", "pr_supplier_gstin", "section", "srcfilstatus", "ispendactblocked",
    "portal_igst", "portal_cgst", "portal_sgst", "portal_cess",
    "pr_igst", "pr_cgst", "pr_sgst", "pr_cess", "portal_pos", "pr_pos",
    *PORTAL_DECLARE, *[f"pr_{c}" for c in BOOKS_DECLARE],
]


def reconcile(portal: pl.DataFrame, books: pl.DataFrame, *, tolerance_paise: int = 100,
              date_window: int = 10, policy: str = "balanced", source: str = "ims",
              overrides: pl.DataFrame | None = None) -> pl.DataFrame:
    """Match, classify, explain and recommend (see the module docstring). `overrides`: the
    decisions taken by hand still in force (`pid`, `bid`, `kind` link / break, oldest first;
    core/reco/overrides.py), taken before the passes; none (or empty) costs nothing."""
    action_table(policy)
    if source not in ("ims", "gstr2a"):
        raise ValueError(f"source must be 'ims' or 'gstr2a', not {source!r}")
    p = mark_chains(prepare_portal(portal))
    b = mark_duplicates(prepare_books(books, source), ["line_no", "id"])
    # the passes read few columns: picked before the rows are (a filter copies every column)
    by_hand = overrides is not None and not overrides.is_empty()
    manual = broken = free_p = None
    live_b = pl.col("dup_of").is_null()
    if by_hand:   # the rows paired by hand leave in the same filter as the dead ones
        manual, broken = split_overrides(overrides, p, b)
        free_p = ~pl.col("id").is_in(manual["pid"].implode())
        live_b = live_b & ~pl.col("id").is_in(manual["bid"].implode())
    p_live = live_rows(p.select(MATCH_COLS + _chain_cols(p)), free_p)
    b_live = b.select(*SIDE_COLS, "dup_of").filter(live_b)
    matches = match_documents(p_live, b_live, tolerance_paise, date_window, broken=broken)
    if by_hand and manual.height:
        matches = pl.concat([manual, matches.cast(manual.schema)], rechunk=True)
    rows = pair_rows(p, b, chain_matches(matches, p))
    chained = "p_older_of" in rows.columns
    at_original = books_at_original(rows, tolerance_paise) if chained else None
    rows = classify(rows, tolerance_paise, at_original)
    if chained:
        older = rows["p_older_of"].is_not_null().arg_true()
        rows = superseded(rows, older)
    near_p = p.select(*NEAREST_COLS, *_chain_cols(p))
    if chained:  # an older version is nobody's nearest candidate: it points at its latest
        near_p = near_p.filter(pl.col("older_of").is_null())
    rows = add_nearest(rows, near_p, b, tolerance_paise, date_window)
    if chained:
        rows = superseded_nearest(rows, older)
    out = recommend(finish(rows), policy, tolerance_paise).select(OUTPUT_COLUMNS)
    return as_manual(out) if by_hand else out


MATCH_COLS = [*SIDE_COLS, "orig_raw_no", "orig_fy", "orig_date", "dup_of"]


def _chain_cols(p: pl.DataFrame) -> list[str]:
    return ["older_of"] if "older_of" in p.columns else []


def superseded(rows: pl.DataFrame, older: pl.Series) -> pl.DataFrame:
    """The older versions of a chain (row numbers `older`): status `amended`, reason
    `SUPERSEDED` (their books document, if any, is the latest's, shown for reference).
    Written at those rows only: a few in a million."""
    return rows.with_columns(
        rows["match_status"].scatter(older, "amended"),
        rows["reasons"].scatter(older, "SUPERSEDED"))


def superseded_nearest(rows: pl.DataFrame, older: pl.Series) -> pl.DataFrame:
    """An older version points at its latest, as a duplicate points at its first listing."""
    latest_no = rows["p_latest_no"].gather(older)
    return rows.with_columns(
        rows["nearest_doc_no"].scatter(older, latest_no),
        rows["nearest_reason"].scatter(older, (SUPERSEDED + " ") + latest_no))


def match_documents(p: pl.DataFrame, b: pl.DataFrame, tol: int, win: int,
                    passes: tuple[str, ...] = PASSES,
                    broken: pl.DataFrame | None = None) -> pl.DataFrame:
    """Run the passes in order on the leftovers; amendments try current then original keys
    within each pass; no pass offers a pair of `broken` (pid, bid). Returns pid, bid,
    match_pass, matched_on."""
    found = []
    for name in passes:
        for variant in VARIANTS:
            pv = portal_variant(p, variant)
            if pv.is_empty() or b.is_empty():
                continue
            taken = assign(drop_broken(candidate_pairs(name, pv, b, tol, win), broken))
            if taken.is_empty():
                continue
            found.append(taken.with_columns(pl.lit(name).alias("match_pass"),
                                            pl.lit(variant).alias("matched_on")))
            p = p.filter(~pl.col("id").is_in(taken["pid"].implode()))
            b = b.filter(~pl.col("id").is_in(taken["bid"].implode()))
        if name == "key":  # the normalised number is needed from pass 2 on
            p, b = add_norm_no(p), add_norm_no(b)
    if not found:
        return pl.DataFrame(schema={"pid": pl.Int64, "bid": pl.Int64, "match_pass": pl.Utf8,
                                    "matched_on": pl.Utf8})
    return pl.concat(found)


def candidate_pairs(name: str, p: pl.DataFrame, b: pl.DataFrame, tol: int, win: int):
    if name == "key":
        return key_pairs(p, b, tol, "raw_no")
    if name == "normalised":
        return key_pairs(p, b, tol, "norm_no")
    if name == "fuzzy":
        return fuzzy_pairs(p, b, tol, win)
    if name == "amount_only":
        return amount_only_pairs(p, b, tol, win)
    return pan_pairs(p, b, tol)


SIDE_OUT = ["id", "rtin", "stin", "doc_type", "doc_no", "raw_no", "fy", "doc_date", "pos", "rcm",
            *AMOUNT_FIELDS, "dup_of"]


def _prefixed(side: pl.DataFrame, prefix: str, extra: list[str]) -> pl.DataFrame:
    total = (pl.col("igst") + pl.col("cgst") + pl.col("sgst") + pl.col("cess")).alias("tax")
    return side.select(*SIDE_OUT, *extra, total).rename(lambda c: f"{prefix}{c}")


def _by_id(frame: pl.DataFrame, col: str) -> pl.DataFrame:
    return frame if frame[col].is_sorted() else frame.sort(col)


def pair_rows(p: pl.DataFrame, b: pl.DataFrame, matches: pl.DataFrame) -> pl.DataFrame:
    """One wide row per portal record (with its books partner, if any), in portal id order,
    then one per books document without a partner, in books id order."""
    chain = [c for c in ("older_of", "latest_no") if c in p.columns]
    P = _by_id(_prefixed(p, "p_", ["srcfilstatus", "ispendactblocked", "section", "rtnprd",
                                   *PORTAL_DECLARE, *chain]), "p_id")
    B = _prefixed(b, "b_", ["no_tax", "line_no", *BOOKS_DECLARE])  # any order: gathered
    if not (P["p_id"].n_unique() == P.height and B["b_id"].n_unique() == B.height):
        return _pair_rows_joined(P, _by_id(B, "b_id"), matches)
    # ids are unique: partners are found by position (a gather), not by a join
    at_p, at_b = _position(P["p_id"], matches["pid"]), _position(B["b_id"], matches["bid"])
    match_of = pl.repeat(None, P.height, dtype=pl.UInt32, eager=True).scatter(
        at_p, pl.int_range(matches.height, dtype=pl.UInt32, eager=True))
    partner_at = at_b.gather(match_of)
    partner = B.drop("b_rtin", "b_doc_type", "b_dup_of", "b_no_tax")  # known for matched rows
    portal_rows = pl.concat([P, matches.select("match_pass", "matched_on").gather(match_of),
                             partner.select(pl.all().gather(partner_at))], how="horizontal")
    paired = pl.repeat(False, B.height, eager=True).scatter(at_b, True)
    return pl.concat([portal_rows, _by_id(B.filter(~paired), "b_id")], how="diagonal_relaxed")


def _position(ids: pl.Series, wanted: pl.Series) -> pl.Series:
    """Row numbers of `wanted` in the unique `ids` (arithmetic when ids are dense and sorted;
    unsorted ids are searched through their sort order, the wide frame is not sorted)."""
    if ids.is_empty():
        return pl.Series(dtype=pl.UInt32)
    if not ids.is_sorted():
        order = ids.arg_sort()
        return order.gather(_position(ids.gather(order), wanted))
    if ids[-1] - ids[0] + 1 == ids.len():
        return (wanted - ids[0]).cast(pl.UInt32)
    return ids.search_sorted(wanted)


def _pair_rows_joined(P: pl.DataFrame, B: pl.DataFrame, matches: pl.DataFrame) -> pl.DataFrame:
    """pair_rows when ids repeat (files without a unique id column)."""
    partner = B.drop("b_rtin", "b_doc_type", "b_dup_of", "b_no_tax")
    portal_rows = P.join(matches, left_on="p_id", right_on="pid", how="left",
                         maintain_order="left").join(
        partner, left_on="bid", right_on="b_id", how="left", maintain_order="left")
    portal_rows = portal_rows.with_columns(pl.col("bid").alias("b_id")).drop("bid")
    lone_b = B.join(matches, left_on="b_id", right_on="bid", how="anti")
    return pl.concat([portal_rows, lone_b], how="diagonal_relaxed")


def _differs(a: str, b: str) -> pl.Expr:
    """Both sides know the value and it differs."""
    return pl.col(a).is_not_null() & pl.col(b).is_not_null() & (pl.col(a) != pl.col(b))


def classify(rows: pl.DataFrame, tol: int, at_original: pl.Series | None = None
             ) -> pl.DataFrame:
    """Status and reasons (docs/reconciliation.md: "Classify", "Reasons"); `at_original`: the
    row numbers whose books document holds an older version's values (ORIGINAL_VALUES)."""
    diffs = {c: (pl.col(f"p_{c}") - pl.col(f"b_{c}")) for c in (*AMOUNT_FIELDS, "tax")}
    rows = rows.with_columns(*[d.alias(f"diff_{c}") for c, d in diffs.items()])
    outside = [pl.col(f"diff_{c}").abs() > tol for c in AMOUNT_FIELDS]
    paired = pl.col("p_id").is_not_null() & pl.col("b_id").is_not_null()
    mismatch = pl.any_horizontal(outside) | _differs("p_pos", "b_pos") | _differs("p_rcm", "b_rcm")
    exact = ((pl.col("match_pass") == "key") & (pl.col("matched_on") == "current")
             & (pl.col("p_doc_date") == pl.col("b_doc_date")))
    status = (
        # a pair made by hand is classified as a key pair (core/reco/overrides.as_manual)
        pl.when(paired & pl.col("match_pass").is_in(["key", "normalised", "manual"]))
        .then(pl.when(mismatch).then(pl.lit("mismatch"))
              .when(exact).then(pl.lit("exact")).otherwise(pl.lit("partial")))
        .when(paired).then(pl.lit("probable"))
        .when(pl.col("p_dup_of").is_not_null() | pl.col("b_dup_of").is_not_null())
        .then(pl.lit("duplicate"))
        .when(pl.col("p_id").is_not_null()).then(pl.lit("missing_in_pr"))
        .otherwise(pl.lit("missing_in_portal")))
    return add_reasons(rows.with_columns(status.alias("match_status")), tol, at_original)


def reason_flags(tol: int) -> list[tuple[str, pl.Expr | None]]:
    """(token, condition) in the order of docs/reconciliation.md. ORIGINAL_VALUES has no
    condition here: its rows are found on the chains alone (core/reco/chains.books_at_original)."""
    amount_diffs = [pl.col(f"diff_{c}").abs() for c in AMOUNT_FIELDS]
    rounding = pl.any_horizontal([(d > ROUNDING_MIN) & (d <= tol) for d in amount_diffs])
    return [
        ("DOC_NO", _differs("p_raw_no", "b_raw_no")),
        ("DOC_DATE", _differs("p_doc_date", "b_doc_date")),
        ("FY", _differs("p_fy", "b_fy")),
        ("SUPPLIER_GSTIN", _differs("p_stin", "b_stin")),
        ("POS", _differs("p_pos", "b_pos")),
        ("RCM", _differs("p_rcm", "b_rcm")),
        *[(name, pl.col(f"diff_{c}").abs() > tol) for c, name in REASON_FIELDS.items()],
        ("ORIGINAL_VALUES", None),
        ("ROUNDING", rounding),
        ("NO_TAX", pl.col("p_id").is_null() & pl.col("b_dup_of").is_null()
         & pl.col("b_no_tax").fill_null(False)),
    ]


def add_reasons(rows: pl.DataFrame, tol: int, at_original: pl.Series | None = None
                ) -> pl.DataFrame:
    """The difference tokens of each row in documented order, `;`-separated. Computed as a bit mask
    first: a million rows share a few dozen distinct masks, spelled out once each."""
    flags = reason_flags(tol)
    mask = pl.sum_horizontal([cond.fill_null(False).cast(pl.Int32) * (1 << i)
                              for i, (_, cond) in enumerate(flags) if cond is not None])
    masks = rows.select(mask).to_series()
    if at_original is not None and not at_original.is_empty():
        bit = 1 << [name for name, _ in flags].index("ORIGINAL_VALUES")
        masks = masks.scatter(at_original, masks.gather(at_original) | bit)
    distinct = masks.unique().to_list()
    words = [";".join(name for i, (name, _) in enumerate(flags) if m & (1 << i))
             for m in distinct]
    return rows.with_columns(masks.replace_strict(distinct, words, return_dtype=pl.Utf8)
                             .alias("reasons"))


def finish(rows: pl.DataFrame) -> pl.DataFrame:
    """Rename to the interface columns (rows are already in a stable order: pair_rows)."""
    out = rows.select(
        pl.col("p_id").alias("portal_id"), pl.col("b_id").alias("pr_id"),
        "match_status", "match_pass", "reasons",
        pl.coalesce("p_rtin", "b_rtin").alias("company_gstin"),
        pl.coalesce("p_stin", "b_stin").alias("supplier_gstin"),
        pl.coalesce("p_doc_type", "b_doc_type").alias("doc_type"),
        pl.col("p_rtnprd").alias("rtnprd"),
        pl.col("p_doc_no").alias("portal_doc_no"), pl.col("p_doc_date").alias("portal_doc_date"),
        pl.col("b_doc_no").alias("pr_doc_no"), pl.col("b_doc_date").alias("pr_doc_date"),
        pl.col("b_line_no").alias("pr_line"),
        pl.col("p_txval").alias("portal_txval"), pl.col("b_txval").alias("pr_txval"),
        pl.col("p_tax").alias("portal_tax"), pl.col("b_tax").alias("pr_tax"),
        "diff_txval", "diff_igst", "diff_cgst", "diff_sgst", "diff_cess", "diff_tax",
        "nearest_doc_no", "nearest_reason", "matched_on",
        pl.col("b_stin").alias("pr_supplier_gstin"),
        pl.col("p_section").alias("section"), pl.col("p_srcfilstatus").alias("srcfilstatus"),
        pl.col("p_ispendactblocked").alias("ispendactblocked"),
        *[pl.col(f"p_{c}").alias(f"portal_{c}") for c in ("igst", "cgst", "sgst", "cess")],
        *[pl.col(f"b_{c}").alias(f"pr_{c}") for c in ("igst", "cgst", "sgst", "cess")],
        pl.col("p_pos").alias("portal_pos"), pl.col("b_pos").alias("pr_pos"),
        *[pl.col(f"p_{c}").alias(c) for c in PORTAL_DECLARE],
        *[pl.col(f"b_{c}").alias(f"pr_{c}") for c in BOOKS_DECLARE],
    )
    return out
