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
- `books_at_original(rows, tol)`: the latest whose books document agrees with an older
  version (and not with the latest) is flagged, for the reason `ORIGINAL_VALUES`.
A side without amendments is left as it was (plus `dup_of`), at no cost.
"""
from __future__ import annotations

import polars as pl

from core.documents import AMOUNT_FIELDS
from core.reco.keys import KEY, key_hash, mark_duplicates

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
    (`amd_at`: the amendments' row numbers)."""
    chain_no = pl.coalesce("orig_raw_no", "raw_no").alias("chain_no")
    key_from = ["rtin", "stin", "doc_type", "orig_fy", "orig_raw_no", "raw_no"]
    amendments = side.select(*key_from, "dup_of")[amd_at].filter(
        pl.col("dup_of").is_null()).with_columns(chain_no)
    wanted = amendments.select(key_hash(key=CHAIN_KEY)).to_series().unique()
    # an original's chain key is its own key: its key_hash
    at = side.select(pl.col("dup_of").is_null()
                     & (pl.col("is_amd") | pl.col("key_hash").is_in(wanted.implode()))
                     ).to_series().arg_true()
    blank = side.with_columns(pl.lit(None, pl.Int64).alias("older_of"),
                              pl.lit(None, pl.Utf8).alias("latest_no"))
    if at.is_empty():
        return blank
    wanted_cols = [*key_from, "id", "doc_no", "is_amd", "rtnprd", *HEADS,
                   *[f"orig_{h}" for h in HEADS]]
    members = side.select(wanted_cols)[at].with_columns(chain_no, pl.int_range(pl.len()).alias("_at"),
                                    period_rank().alias("_rank"))
    ranked = members.sort(["is_amd", "_rank", "id"], descending=True)
    latest = ranked.group_by(CHAIN_KEY, maintain_order=True).agg(
        pl.col("id").first().alias("_latest"), pl.col("doc_no").first().alias("_latest_no"),
        pl.len().alias("_n"),
        *[pl.col(h).filter(~pl.col("is_amd")).last().alias(f"_orig_{h}") for h in HEADS])
    members = members.join(latest, on=CHAIN_KEY, how="left", nulls_equal=True).sort("_at")
    chained = pl.col("_n") > 1
    older = chained & (pl.col("id") != pl.col("_latest"))
    is_latest = chained & (pl.col("id") == pl.col("_latest"))
    found = members.select(
        pl.when(older).then(pl.col("_latest")).otherwise(None).cast(pl.Int64).alias("older_of"),
        pl.when(older).then(pl.col("_latest_no")).otherwise(None).alias("latest_no"),
        *[pl.when(is_latest).then(pl.coalesce(f"orig_{h}", f"_orig_{h}"))
          .otherwise(pl.col(f"orig_{h}")).cast(pl.Int64).alias(f"orig_{h}") for h in HEADS])
    return blank.with_columns(
        *[blank.get_column(c).scatter(at, found.get_column(c)).alias(c)
          for c in ("older_of", "latest_no", *[f"orig_{h}" for h in HEADS])])


def live_rows(side: pl.DataFrame, also: pl.Expr | None = None) -> pl.DataFrame:
    """The rows the passes see: no duplicates, no older versions (and `also` holds)."""
    keep = pl.col("dup_of").is_null() if also is None else pl.col("dup_of").is_null() & also
    if "older_of" in side.columns:
        keep = keep & pl.col("older_of").is_null()
    return side.filter(keep)


def chain_matches(matches: pl.DataFrame, side: pl.DataFrame) -> pl.DataFrame:
    """`matches` (pid, bid, match_pass, matched_on) plus the older members of each matched
    chain, on their latest's books document, `matched_on` = 'chain'."""
    if "older_of" not in side.columns:
        return matches
    older = side.filter(pl.col("older_of").is_not_null()).select("id", "older_of")
    if older.is_empty():
        return matches
    linked = older.join(matches, left_on="older_of", right_on="pid", how="inner").select(
        pl.col("id").alias("pid"), "bid", "match_pass", pl.lit("chain").alias("matched_on"))
    return pl.concat([matches, linked.cast(matches.schema)])


def books_at_original(rows: pl.DataFrame, tol: int) -> pl.Series:
    """Per wide row (core/reco/engine.pair_rows): the chain's latest whose books document
    agrees (every amount within `tol`) with an older version but not with the latest.
    Worked out on the older versions and their latest only."""
    agree = pl.all_horizontal([(pl.col(f"p_{c}") - pl.col(f"b_{c}")).abs() <= tol
                               for c in AMOUNT_FIELDS]).fill_null(False)
    flags = pl.repeat(False, rows.height, eager=True)
    older = rows["p_older_of"].is_not_null().arg_true()
    agreeing = rows[older].filter(agree)["p_older_of"].unique()
    if agreeing.is_empty():
        return flags
    at = rows["p_id"].is_in(agreeing.implode()).arg_true()
    return flags.scatter(at, rows[at].select(~agree).to_series())
