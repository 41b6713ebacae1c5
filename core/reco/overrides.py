"""Decisions taken by hand, taken by the engine before its passes (docs/reconciliation.md,
"Decisions by hand").

A person may link a portal record to a books document (`link`: the pair is used as given) or
break a pair (`break`: no pass ever pairs those two again). `split_overrides` turns the
decisions still in force (`pid, bid, kind`, oldest first) into:
- the manual pairs (`pid, bid, match_pass = 'manual', matched_on = 'manual'`), one-to-one,
  the latest decision winning where two name the same record or document; their rows are
  kept from the passes (core/reco/engine.reconcile);
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
    does not hold are dropped. The few rows named are picked first (a probe of a small set),
    so no hash of a million ids is built."""
    named = p.select(pl.col("id").alias("pid"), *(["older_of"] if "older_of" in p.columns
                                                  else [])).filter(
        pl.col("pid").is_in(decisions["pid"].implode()))
    found = decisions.join(named, on="pid", how="inner")
    if "older_of" not in found.columns:
        return found
    return found.with_columns(pl.coalesce("older_of", "pid").alias("pid")).drop("older_of")


def split_overrides(overrides: pl.DataFrame, p: pl.DataFrame, b: pl.DataFrame
                    ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """-> (manual pairs, broken pairs) of the decisions that name rows of the side frames `p`
    and `b` (see the module docstring). The caller keeps the manual pairs' rows from the
    passes (in the filter that picks the live rows: no extra copy of a million rows)."""
    decisions = _at_latest(overrides.select("pid", "bid", "kind").cast(OVERRIDE_SCHEMA), p)
    links = decisions.filter(pl.col("kind") == "link")
    known = b.select(pl.col("id").alias("bid")).filter(
        pl.col("bid").is_in(links["bid"].implode()))
    links = (links.join(known.unique(), on="bid", how="semi")
             .unique("pid", keep="last", maintain_order=True)
             .unique("bid", keep="last", maintain_order=True))
    manual = links.select("pid", "bid", pl.lit(MANUAL).alias("match_pass"),
                          pl.lit(MANUAL).alias("matched_on"))
    broken = decisions.filter(pl.col("kind") == "break").select("pid", "bid").unique()
    return manual, broken


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
