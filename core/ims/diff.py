"""What a fetch changes in the store, worked out in Polars with no connection held.

A fetch used to join every incoming record to every stored one inside its write transaction
and touch every row; at a million records that held the store for seconds while the team's
saves waited (docs/store.md). Now the fetch reads a narrow picture of what the store holds
(identity, record id, a fingerprint of the portal columns: `held_ims`), compares here, and
writes only the records that are new, differ or come back, and marks the ones gone.

The fingerprint is Polars' row hash of the portal columns as the fetch parsed them. It only
decides what needs a closer look: a record whose fingerprint differs (or is unknown) is still
compared column by column in the write (core.ims.store), so a different hash after a Polars
upgrade costs one full rewrite, never a wrong answer.
"""
from __future__ import annotations

import dataclasses

import polars as pl

# The store's identity of an IMS record within one business.
KEYS = ("section", "stin", "doc_no_key", "fy", "occurrence")
GSTR2A_CONTENT = ("section", "stin", "doc_type", "doc_no", "doc_date", "orig_doc_no",
                  "orig_doc_date", "inv_typ", "pos", "rcm", "cfs", "val", "txval", "igst",
                  "cgst", "sgst", "cess")
_SEED = 20_251_012


def fingerprint(frame: pl.DataFrame, columns) -> pl.Series:
    """One 64-bit hash per row of `columns` (UInt64)."""
    return frame.select(columns).hash_rows(seed=_SEED)


@dataclasses.dataclass
class ImsPlan:
    write: pl.DataFrame        # incoming rows to stage: new (record_id null), differing, back
    gone: pl.DataFrame         # record_id of stored records on the portal no more
    unchanged: int             # incoming records identical to what the store holds
    total: int                 # incoming records
    held_rows: int             # what the plan was made from (checked again before writing)
    held_max_id: int | None


def plan_ims(incoming: pl.DataFrame, held: pl.DataFrame, portal_columns) -> ImsPlan:
    """incoming: core.ims.store.incoming_frame; held: record_id, KEYS, held_fp, removed."""
    incoming = incoming.with_columns(portal_fp=fingerprint(incoming, portal_columns))
    joined = incoming.join(held, on=list(KEYS), how="left")
    same = (pl.col("record_id").is_not_null() & ~pl.col("removed").fill_null(True)
            & (pl.col("portal_fp") == pl.col("held_fp")).fill_null(False))
    write = joined.filter(~same).drop("held_fp", "removed")
    gone = (held.filter(~pl.col("removed"))
            .join(incoming.select(KEYS), on=list(KEYS), how="anti").select("record_id"))
    return ImsPlan(write, gone, incoming.height - write.height, incoming.height, held.height,
                   held["record_id"].max() if held.height else None)


@dataclasses.dataclass
class Gstr2aPlan:
    insert: pl.DataFrame       # incoming documents whose (period, fingerprint) group changed
    gone: pl.DataFrame         # ret_period, doc_fp groups to delete from the store first
    unchanged: int


def plan_gstr2a(incoming: pl.DataFrame, held: pl.DataFrame) -> Gstr2aPlan:
    """incoming: flat 2A records (rtnprd = period); held: ret_period, doc_fp, n (rows per
    group). A group whose count differs is replaced whole (identical documents are one group)."""
    incoming = incoming.with_columns(doc_fp=fingerprint(incoming, GSTR2A_CONTENT),
                                     ret_period=pl.col("rtnprd"))
    counts = incoming.group_by("ret_period", "doc_fp").len("m")
    both = counts.join(held, on=["ret_period", "doc_fp"], how="full", coalesce=True)
    differ = both.filter(pl.col("m").fill_null(0) != pl.col("n").fill_null(0))
    gone = differ.filter(pl.col("n").fill_null(0) > 0).select("ret_period", "doc_fp")
    insert = incoming.join(differ.filter(pl.col("m").fill_null(0) > 0)
                           .select("ret_period", "doc_fp"), on=["ret_period", "doc_fp"])
    return Gstr2aPlan(insert, gone, incoming.height - insert.height)
