"""Amendment chains on the portal side (docs/reconciliation.md, "Amendments").

IMS, GSTR-2A and GSTR-2B list an original and its amendments as records of their own, very
often under the same number. A chain is the original and every amendment that names it: same
rtin, supplier, doc type, and original number in the original's financial year (an amendment
names the original through `orig_doc_no` / `orig_doc_date`; an original's own number is its
chain's number). Here:
- `mark_chains(side)`: duplicates are looked for among originals and among amendments apart
  (an amendment is never a `duplicate` of its own original; two amendments are duplicates only
  when they name the same original in the same return period under the same number), then
  each chain of two or more live members gets its latest version: an amendment before an
  original, then the latest return period, then the highest id (arrived last). The others get
  `older_of` = the latest's id; the latest gets the original's tax (`orig_igst` ...) where the
  record does not carry it (the most an ITC reduction can be: the drop from the original).
- `chain_matches(matches, side)`: the older members take their latest's books document, for
  reference (the books document stays matched once, to the latest).
- `books_at_original(rows, tol)`: the latests whose books document agrees with an older
  version (and not with the latest), for the reason `ORIGINAL_VALUES`.
A side without amendments is left as it was (plus `dup_of`), at no cost.
"""
from __future__ import annotations

import polars as pl

from core.documents import AMOUNT_FIELDS
from core.reco.keys import KEY, SEED2, key_hash, mark_duplicates

# the amendment sections of IMS, GSTR-2A and GSTR-2B (lower case)
AMENDMENT_SECTIONS = ("b2ba", "b2bcna", "b2bdna", "ecoma", "impga", "impgseza", "impgasez",
                      "cdna", "cdnra", "isda")
CHAIN_KEY = ["rtin", "stin", "doc_type", "orig_fy", "chain_no"]
HEADS = ("igst", "cgst", "sgst", "cess")
SUPERSEDED = "superseded by its amendment"


def period_rank() -> pl.Expr:
    """A return period MMYYYY as YYYYMM (0 where unknown), to find the latest."""
    text = pl.col("rtnprd").cast(pl.Utf8).str.strip_chars()
    year = text.str.slice(2, 4).cast(pl.Int32, strict=False)
    month = text.str.slice(0, 2).cast(pl.Int32, strict=False)
    return (year * 100 + month).fill_null(0)


def has_amendments(side: pl.DataFrame) -> bool:
    """Some row names an original or comes from an amendment section (looked for on the few
    distinct sections, not on every row)."""
    if not side.height:
        return False
    if side["orig_raw_no"].null_count() < side.height:
        return True
    return amendment_sections_in(side["section"])


def amendment_sections_in(sections: pl.Series) -> bool:
    return bool(amendment_spellings(sections))


def amendment_spellings(sections: pl.Series) -> list[str]:
    """The distinct values of `sections` that name an amendment section (any case, spaces)."""
    names = sections.cast(pl.Utf8).drop_nulls().unique()
    return names.filter(names.str.strip_chars().str.to_lowercase()
                        .is_in(AMENDMENT_SECTIONS)).to_list()


def mark_chains(side: pl.DataFrame, order: list[str] | None = None) -> pl.DataFrame:
    """Add `dup_of`, and where the side holds amendments `is_amd`, `older_of` (the id of the
    chain's latest version, on the older members) and `latest_no` (its number), with the
    original's tax on the latest (module docstring)."""
    order = order or ["id"]
    if not has_amendments(side):
        return mark_duplicates(side, order)
    spelled = amendment_spellings(side["section"])
    amd = side.select((pl.col("orig_raw_no").is_not_null()
                       | pl.col("section").is_in(spelled)).fill_null(False)).to_series()
    at = amd.arg_true()
    # duplicates: originals among originals, amendments among amendments of the same original
    # in the same return period (worked out on the amendments only: a few in a million)
    few = side.select("orig_raw_no", "raw_no", "rtnprd")[at].select(
        pl.concat_str([pl.coalesce("orig_raw_no", "raw_no"), pl.col("rtnprd").fill_null("")],
                      separator="|").alias("_apart"))
    few = few.with_columns((side["key_hash"].gather(at) ^ few["_apart"].hash(77))
                           .alias("_dup_hash"))
    side = side.with_columns(
        amd.alias("is_amd"),
        pl.repeat(None, side.height, dtype=pl.Utf8, eager=True).scatter(at, few["_apart"])
        .alias("_apart"),
        side["key_hash"].scatter(at, few["_dup_hash"]).alias("_dup_hash"))
    side = mark_duplicates(side, order, [*KEY, "_apart"], "_dup_hash").drop("_apart",
                                                                             "_dup_hash")
    return _latest_versions(side, at)


def _latest_versions(side: pl.DataFrame, amd_at: pl.Series) -> pl.DataFrame:
    """older_of / latest_no and the original's tax on the latest, for chains of 2+ members
    (`amd_at`: the amendments' row numbers). A chain is named by the two hashes of its key
    (128 bits, as pass 1 joins): an original's are its own `key_hash` / `key_hash2`."""
    chain = ["_c1", "_c2"]
    amendments = side.select("rtin", "stin", "doc_type", "orig_fy", "orig_raw_no", "raw_no",
                             "dup_of")[amd_at].with_columns(pl.Series("_row", amd_at)).filter(
        pl.col("dup_of").is_null()).with_columns(pl.coalesce("orig_raw_no", "raw_no")
                                                 .alias("chain_no")).select(
        "_row", key_hash(key=CHAIN_KEY).alias("_c1"), key_hash(SEED2, CHAIN_KEY).alias("_c2"))
    if amendments.is_empty():
        return _blank_chains(side)
    originals = side.select(pl.col("dup_of").is_null() & ~pl.col("is_amd")
                            & pl.col("key_hash").is_in(amendments["_c1"].implode())
                            ).to_series().arg_true()
    rows = pl.concat([amendments, side.select(pl.col("key_hash").alias("_c1"),
                                              pl.col("key_hash2").alias("_c2"))[originals]
                      .with_columns(pl.Series("_row", originals)).select(amendments.columns)])
    wanted = ["id", "doc_no", "is_amd", "rtnprd", *HEADS, *[f"orig_{h}" for h in HEADS]]
    # each chain as a run of rows, its latest first and its earliest original last
    members = pl.concat([rows, side.select(wanted)[rows["_row"]]], how="horizontal").with_columns(
        period_rank().alias("_rank")).sort([*chain, "is_amd", "_rank", "id"],
                                           descending=[False, False, True, True, True])
    starts = (pl.col("_c1") != pl.col("_c1").shift(1)) | (pl.col("_c2") != pl.col("_c2").shift(1))
    ends = (pl.col("_c1") != pl.col("_c1").shift(-1)) | (pl.col("_c2") != pl.col("_c2").shift(-1))
    at = pl.int_range(pl.len())
    members = members.with_columns(starts.fill_null(True).alias("_start"),
                                   ends.fill_null(True).alias("_end")).filter(
        ~(pl.col("_start") & pl.col("_end"))).with_columns(  # chains of one: not chains
        pl.when(pl.col("_start")).then(at).forward_fill().alias("_first"),
        pl.when(pl.col("_end")).then(at).backward_fill().alias("_last"))
    original = ~pl.col("is_amd").gather(pl.col("_last"))
    members = members.with_columns(
        *[pl.col(c).gather(pl.col("_first")).alias(f"_{c}") for c in ("id", "doc_no")],
        *[pl.when(original).then(pl.col(h).gather(pl.col("_last"))).alias(f"_orig_{h}")
          for h in HEADS])
    older = pl.col("id") != pl.col("_id")
    found = members.select(
        "_row",
        pl.when(older).then(pl.col("_id")).otherwise(None).cast(pl.Int64).alias("older_of"),
        pl.when(older).then(pl.col("_doc_no")).otherwise(None).alias("latest_no"),
        *[pl.when(~older).then(pl.coalesce(f"orig_{h}", f"_orig_{h}"))
          .otherwise(pl.col(f"orig_{h}")).cast(pl.Int64).alias(f"orig_{h}") for h in HEADS])
    blank = _blank_chains(side)
    at = found["_row"]
    return blank.with_columns(
        *[blank.get_column(c).scatter(at, found.get_column(c)).alias(c)
          for c in ("older_of", "latest_no", *[f"orig_{h}" for h in HEADS])])


def _blank_chains(side: pl.DataFrame) -> pl.DataFrame:
    return side.with_columns(pl.lit(None, pl.Int64).alias("older_of"),
                             pl.lit(None, pl.Utf8).alias("latest_no"))


def live_rows(side: pl.DataFrame) -> pl.DataFrame:
    """The rows the passes see: no duplicates, no older versions."""
    keep = pl.col("dup_of").is_null()
    if "older_of" in side.columns:
        keep = keep & pl.col("older_of").is_null()
    return side.filter(keep)


def chain_matches(matches: pl.DataFrame, side: pl.DataFrame) -> pl.DataFrame:
    """`matches` (pid, bid, match_pass, matched_on) plus the older members of each matched
    chain, on their latest's books document, `matched_on` = 'chain'."""
    if "older_of" not in side.columns:
        return matches
    older = side.select("id", "older_of").filter(pl.col("older_of").is_not_null())
    if older.is_empty():
        return matches
    linked = older.join(matches, left_on="older_of", right_on="pid", how="inner").select(
        pl.col("id").alias("pid"), "bid", "match_pass", pl.lit("chain").alias("matched_on"))
    return pl.concat([matches, linked.cast(matches.schema)])


def books_at_original(rows: pl.DataFrame, tol: int) -> pl.Series:
    """Row numbers of the wide rows (core/reco/engine.pair_rows) of each chain's latest whose
    books document agrees (every amount within `tol`) with an older version but not with the
    latest. Worked out on the older versions and their latest only."""
    agree = pl.all_horizontal([(pl.col(f"p_{c}") - pl.col(f"b_{c}")).abs() <= tol
                               for c in AMOUNT_FIELDS]).fill_null(False)
    amounts = ["p_id", "p_older_of", *[f"{s}_{c}" for s in "pb" for c in AMOUNT_FIELDS]]
    rows = rows.select(amounts)  # picked before the rows are (a gather copies every column)
    older = rows["p_older_of"].is_not_null().arg_true()
    agreeing = rows[older].filter(agree)["p_older_of"].unique()
    if agreeing.is_empty():
        return pl.Series(dtype=pl.UInt32)
    at = rows["p_id"].is_in(agreeing.implode()).arg_true()
    return at.filter(~rows[at].select(agree).to_series())
