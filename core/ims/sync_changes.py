"""What a sync needs to write, worked out before it writes (docs/store.md).

`held_columns` reads what sync last wrote onto the records (with the records themselves); `changed_rows` keeps the
rows whose write would change something, so the final transaction of a sync touches only
those; `clear_abandoned_runs` deletes the unfinished runs a killed sync left behind.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from core.clock import utc_now
from core.jobs import run_alive
from core.reco import HEADS
from core.store import connect, transaction

DECL = tuple(f"decl_{h}" for h in HEADS)
# the proposed ITC-reduction answer (core.reco.recommend): "Y"/"N"/null, amounts in paise
PROPOSAL = ("itc_red_req", *DECL, "supplier_remark")
# What sync writes onto an IMS record (compared with what it holds: only changes are written).
WRITTEN = ("match_status", "reasons", "counterpart_doc_id", "books_status", "recommended_action",
           *(f"rec_{c}" for c in PROPOSAL))


def clear_abandoned_runs(gstin: str) -> int:
    """Delete the unfinished runs of `gstin` (and their rows) left by a sync or reconciliation
    that will never finish them: its job ended or is no longer running (its process gone; in
    team mode its claim let go, whatever machine it ran on), or (no job) it started more than
    a day ago. -> how many."""
    with connect(read_only=True) as con:
        open_runs = con.execute(
            "SELECT r.run_id, r.job_run_id, j.finished_at IS NOT NULL, j.pid, j.started_at, "
            "r.started_at < ? FROM reco_runs r LEFT JOIN job_runs j ON j.run_id = r.job_run_id "
            "WHERE r.rtin = ? AND r.finished_at IS NULL",
            [utc_now() - dt.timedelta(days=1), gstin]).fetchall()
    dead = [run_id for run_id, job, job_done, pid, job_started, old in open_runs
            if (job is None and old)
            or (job is not None and (job_done or not run_alive(job, pid, job_started)))]
    if dead:
        with connect() as con, transaction(con):
            con.execute("DELETE FROM reco_results WHERE list_contains(?, run_id)", [dead])
            con.execute("DELETE FROM reco_runs WHERE list_contains(?, run_id) "
                        "AND finished_at IS NULL", [dead])
    return len(dead)


def held_columns(alias: str = "") -> str:
    """SQL: the columns WRITTEN as a record of `alias` holds them (money in paise), to read
    them with the record itself (the sync reads each record once: its portal columns and what
    sync last wrote onto it, core.ims.sync.ims_frame)."""
    a = f"{alias}." if alias else ""
    return ", ".join(f"CAST({a}{c} * 100 AS BIGINT) AS {c}" if c.removeprefix("rec_") in DECL
                     else f"{a}{c}" for c in WRITTEN)


def changed_rows(rows: pl.DataFrame, held: pl.DataFrame) -> pl.DataFrame:
    """The rows whose write would change the record: any written column differs, or the record
    has never been synced. A sync over unchanged data writes none (the previous recommendation
    moves only when the recommendation changes)."""
    new = rows.select(pl.col("portal_id"), "match_status", "reasons",
                      pl.col("pr_id").alias("counterpart_doc_id"), "books_status",
                      "recommended_action", *(pl.col(c).alias(f"rec_{c}") for c in PROPOSAL))
    new = new.with_columns(pl.col(c).cast(held.schema[c]) for c in WRITTEN)
    both = new.join(held.rename({c: f"held_{c}" for c in WRITTEN}), on="portal_id", how="left")
    differs = pl.any_horizontal(~pl.col(c).eq_missing(pl.col(f"held_{c}")) for c in WRITTEN)
    keep = both.filter(differs | pl.col("held_match_status").is_null())["portal_id"]
    return rows.filter(pl.col("portal_id").is_in(keep.implode()))
