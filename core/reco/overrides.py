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

GSTR-2A and GSTR-2B documents have no id that outlives a fetch: a decision names one by its
document key (`DOC_KEY`: supplier, document type, financial year and number of its amendment
chain's original, as the chains read them). `on_documents` turns such decisions into the
`pid, bid, kind` above for the portal frame of one run (its row numbers), every member of the
chain found, so the decision moves with the chain to its latest version as an IMS one does.
"""
from __future__ import annotations

import polars as pl

from core.reco.chains import mark_chains
from core.reco.keys import prepare_portal

OVERRIDE_SCHEMA = {"pid": pl.Int64, "bid": pl.Int64, "kind": pl.Utf8}
MANUAL = "manual"
DOC_KEY = ["stin", "doc_type", "key_fy", "key_no"]
DOC_DECISION_SCHEMA = {"stin": pl.Utf8, "doc_type": pl.Utf8, "key_fy": pl.Int32,
                       "key_no": pl.Utf8, "bid": pl.Int64, "kind": pl.Utf8}


def document_keys(portal: pl.DataFrame) -> pl.DataFrame:
    """The portal frame's rows (engine shape: `portal_id`, `stin`, `doc_type`, `doc_no`,
    `doc_date`, `orig_doc_no`, `orig_doc_date`, amounts ...) as the engine's side frame plus
    their document key `key_fy`, `key_no` (module docstring) and `latest`: the chain's latest
    version, not a duplicate. Meant for a few suppliers' rows, not a million."""
    side = mark_chains(prepare_portal(portal))
    latest = pl.col("dup_of").is_null()
    if "older_of" in side.columns:
        latest = latest & pl.col("older_of").is_null()
    return side.with_columns(pl.col("orig_fy").cast(pl.Int32).alias("key_fy"),
                             pl.coalesce("orig_raw_no", "raw_no").alias("key_no"),
                             latest.alias("latest"))


def on_documents(portal: pl.DataFrame, decisions: pl.DataFrame) -> pl.DataFrame:
    """Decisions naming GSTR-2A / 2B documents by key (`DOC_DECISION_SCHEMA`, oldest first)
    -> `pid, bid, kind` on `portal`'s ids, one row per live member of each named chain (the
    engine then moves them to the chain's latest, `split_overrides`). A key the frame does not
    hold is left out. Only the named suppliers' rows are looked at."""
    empty = pl.DataFrame(schema=OVERRIDE_SCHEMA)
    if decisions.is_empty() or portal.is_empty():
        return empty
    decisions = decisions.cast(DOC_DECISION_SCHEMA).with_row_index("_order")
    few = portal.filter(pl.col("stin").is_in(decisions["stin"].unique().implode()))
    if few.is_empty():
        return empty
    keyed = document_keys(few).filter(pl.col("dup_of").is_null()).select(
        pl.col("id").alias("pid"), *DOC_KEY)
    return (decisions.join(keyed, on=DOC_KEY, how="inner").sort("_order", "pid")
            .select("pid", "bid", "kind").cast(OVERRIDE_SCHEMA))


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
    """Candidate pairs of a pass without the pairs a person broke. The candidates of the
    broken pairs' records are picked first (a probe of a small set): only they are joined,
    and the pass's frame is filtered only when one of them was broken."""
    if broken is None or broken.is_empty() or pairs.is_empty():
        return pairs
    named = pairs["pid"].is_in(broken["pid"].implode()).arg_true()
    if named.is_empty():
        return pairs
    hit = pairs.select("pid", "bid")[named].with_columns(pl.Series("_at", named)).join(
        broken, on=["pid", "bid"], how="semi")["_at"]
    if hit.is_empty():
        return pairs
    return pairs.filter(pl.repeat(True, pairs.height, eager=True).scatter(hit, False))


def as_manual(rows: pl.DataFrame) -> pl.DataFrame:
    """Status `manual` on the manually paired rows (reconcile() output), once their action was
    worked out as for an automatic pair of the same differences (the older versions of a chain
    stay `amended`)."""
    at = rows.select((pl.col("match_pass") == MANUAL) & (pl.col("match_status") != "amended")
                     ).to_series().fill_null(False).arg_true()
    if at.is_empty():
        return rows
    return rows.with_columns(rows["match_status"].scatter(at, MANUAL))   # a few rows only
