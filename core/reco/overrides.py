"""Decisions taken by hand, taken by the engine before its passes (docs/reconciliation.md,
"Decisions by hand").

A person may link a portal record to a books document (`link`: the pair is used as given) or
break a pair (`break`: no pass ever pairs those two again). `split_overrides` turns the
decisions still in force (`pid, bid, kind`, oldest first) into:
- the manual pairs (`pid, bid, match_pass = 'manual', matched_on = 'manual'`), one-to-one,
  the latest decision winning where two name the same record or document;
- the portal and books rows left to the passes (without the manually paired ones);
- the broken pairs (`pid, bid`) the passes must leave out (`drop_broken`).
A decision on an older version of an amended document applies to its chain's latest version
(`older_of`, core/reco/chains.py): the link moves with the chain. A decision naming a record or
document the engine was not given (gone from the portal, replaced in the books) is left out.
All of it is joins on a few columns: no loop per decision.
"""
from __future__ import annotations

import polars as pl

OVERRIDE_SCHEMA = {"pid": pl.Int64, "bid": pl.Int64, "kind": pl.Utf8}
MANUAL = "manual"


def _at_latest(decisions: pl.DataFrame, p: pl.DataFrame) -> pl.DataFrame:
    """`pid` of each decision moved to its chain's latest version; decisions on records `p`
    does not hold are dropped."""
    if "older_of" not in p.columns:
        return decisions.join(p.select(pl.col("id").alias("pid")), on="pid", how="semi")
    ids = p.select(pl.col("id").alias("pid"), "older_of")
    return decisions.join(ids, on="pid", how="inner").with_columns(
        pl.coalesce("older_of", "pid").alias("pid")).drop("older_of")


def split_overrides(overrides: pl.DataFrame, p: pl.DataFrame, b: pl.DataFrame,
                    p_live: pl.DataFrame, b_live: pl.DataFrame
                    ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """-> (manual pairs, portal rows for the passes, books rows for the passes, broken pairs);
    `p`, `b`: the whole side frames; `p_live`, `b_live`: the rows the passes would see (see
    the module docstring)."""
    decisions = _at_latest(overrides.select("pid", "bid", "kind").cast(OVERRIDE_SCHEMA), p)
    links = (decisions.filter(pl.col("kind") == "link")
             .join(b.select(pl.col("id").alias("bid")), on="bid", how="semi")
             .unique("pid", keep="last", maintain_order=True)
             .unique("bid", keep="last", maintain_order=True))
    manual = links.select("pid", "bid", pl.lit(MANUAL).alias("match_pass"),
                          pl.lit(MANUAL).alias("matched_on"))
    broken = decisions.filter(pl.col("kind") == "break").select("pid", "bid").unique()
    if manual.height:
        p_live = p_live.filter(~pl.col("id").is_in(manual["pid"].implode()))
        b_live = b_live.filter(~pl.col("id").is_in(manual["bid"].implode()))
    return manual, p_live, b_live, broken


def drop_broken(pairs: pl.DataFrame, broken: pl.DataFrame | None) -> pl.DataFrame:
    """Candidate pairs of a pass without the pairs a person broke."""
    if broken is None or broken.is_empty() or pairs.is_empty():
        return pairs
    return pairs.join(broken, on=["pid", "bid"], how="anti")


def as_manual(rows: pl.DataFrame) -> pl.DataFrame:
    """Status `manual` on the manually paired rows (reconcile() output), once their action was
    worked out as for an automatic pair of the same differences (the older versions of a chain
    stay `amended`)."""
    manual = (pl.col("match_pass") == MANUAL) & (pl.col("match_status") != "amended")
    return rows.with_columns(pl.when(manual).then(pl.lit(MANUAL))
                             .otherwise(pl.col("match_status")).alias("match_status"))
