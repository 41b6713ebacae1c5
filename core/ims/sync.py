"""Recommended actions onto IMS records (docs/reconciliation.md, "Sync source").

`run_reconciliation` reconciles one business's portal side (IMS records, GSTR-2A
documents, or the stored GSTR-2B's documents: kind `2b_vs_pr`, core/reco/vs_2b.py) with its current purchase register and keeps the run and its rows in
`reco_runs` / `reco_results` (the Reconciliation page reads them). `apply_sync` runs both
reconciliations (IMS vs PR, and GSTR-2A vs PR where 2A documents exist), keeps both runs and
writes the chosen source's status, reasons and recommendation (keeping the one before it last
changed), the IMS vs PR counterpart and its status, and the sync time onto `ims_records`, with an
`action_log` row for every recommendation that changed, in the same transaction as the
record's write. The user's own action is never touched.

Frames are built with SQL (DECIMAL rupees -> integer paise); Polars works with no database
connection open. The writes hold the store only briefly (docs/store.md): each run's rows go
into `reco_results` in chunks, each its own short transaction, under a run row whose
`finished_at` is still empty; then a short transaction writes onto `ims_records` only the
records whose recommendation (or what goes with it) changed, and marks the runs finished. On
PostgreSQL (team mode) the records are written in parts (`core.store.rows_per_transaction`,
2,500 records each, the runs marked finished after the last), so that a person's save of one
of them waits for one part at most, not for the whole write; there the runs' rows are stored
beside the records' parts, and the reads run at once (`core.store.side_by_side`). A sync
killed half-way leaves unfinished runs (readers of finished runs ignore them), which the next sync of the business
deletes (`clear_abandoned_runs`); on the DuckDB file the records exactly as before, on
PostgreSQL each record either as before or with its new recommendation and its log row (the
next sync writes the rest).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import time

import polars as pl

from core.business import ADD_HINT, read_reco_settings
from core.clock import utc_now
from core.gstr2b import documents_of_periods
from core.ims.document_overrides import document_decisions_in_force
from core.ims.overrides import decisions_in_force, review_decisions
from core.ims.sync_changes import (
    DECL,
    PROPOSAL,
    WRITTEN,
    changed_rows,
    clear_abandoned_runs,
    held_columns,
)
from core.money import paise_sql, rupees_expr, rupees_sql
from core.periods import is_period
from core.reco import (
    HEADS,
    STORED_FACTS,
    on_documents,
    original_tax_sql,
    portal_frame_2b,
    project_2a_onto_ims,
    reconcile,
    reconcile_2b,
)
from core.store import (
    append_frame,
    commit_unhurried,
    connect,
    query_frame,
    refresh_statistics,
    register_keyed,
    rows_per_transaction,
    side_by_side,
    transaction,
)

KINDS = ("ims_vs_pr", "2a_vs_pr", "2b_vs_pr")
AMOUNTS = ("txval", "igst", "cgst", "sgst", "cess")
RESULT_MONEY = ("portal_txval", "pr_txval", "portal_tax", "pr_tax", "diff_txval", "diff_igst",
                "diff_cgst", "diff_sgst", "diff_cess", "diff_tax")
RESULT_COLUMNS = ("portal_id", "ims_record_id", "pr_id", "match_status", "match_pass",
                  "recommended_action", "reasons", "company_gstin", "supplier_gstin", "doc_type",
                  "rtnprd", "portal_doc_no",
                  "portal_doc_date", "pr_doc_no", "pr_doc_date", "pr_line", *RESULT_MONEY,
                  "nearest_doc_no", "nearest_reason", *PROPOSAL, *STORED_FACTS)
# Rows of reco_results written per transaction (each well under a second at 1M records).
RESULT_CHUNK = 100_000


class SyncError(ValueError):
    """A sync that cannot run (unknown business, bad setting); the message says why."""


def _rupees(col: str) -> str:
    return f"{rupees_sql(col)} AS {col}"


# ---------------------------------------------------------------- frames from the store


def ims_frame(con, gstin: str, periods: list[str] | None = None,
              held: bool = False) -> pl.DataFrame:
    """The business's IMS records still on the portal, as reco's portal frame, with the
    portal's flags and, for an amendment whose original the store holds (even one no longer
    on the portal), the original's tax `orig_igst` .. `orig_cess` (paise; else null).
    `held`: with what sync last wrote onto each record too (the columns WRITTEN), so that a
    sync reads the records once (`split_held`)."""
    where, params = _periods("r.rtnprd", periods)
    orig = ", ".join(f"CAST(abs(o.orig_{h}) * 100 AS BIGINT) AS orig_{h}" for h in HEADS)
    written = f", {held_columns('r')}" if held else ""
    return query_frame(con, f"""
        SELECT r.record_id AS portal_id, r.stin, r.doc_type, r.doc_no, r.doc_date,
               r.orig_doc_no, r.orig_doc_date, r.pos, 'N' AS rcm,
               {', '.join(paise_sql(c, 'r.') for c in AMOUNTS)},
               r.srcfilstatus, r.ispendactblocked, r.section, r.rtnprd,
               r.is_itc_red_req_blocked, r.is_remarks_blocked, {orig}{written}
        FROM ims_records r {original_tax_sql('r')}
        WHERE r.rtin = ? AND r.removed_at IS NULL {where}""", [gstin, *params]
    ).with_columns(_company(gstin))


def split_held(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`ims_frame(..., held=True)` -> (the portal frame, what sync last wrote per record)."""
    return frame.drop(WRITTEN), frame.select("portal_id", *WRITTEN)


def gstr2a_frame(con, gstin: str, periods: list[str] | None = None) -> pl.DataFrame:
    """The business's GSTR-2A documents as reco's portal frame (portal_id = a row number)."""
    where, params = _periods("ret_period", periods)
    return query_frame(con, f"""
        SELECT row_number() OVER (ORDER BY ret_period, section, stin, doc_no, doc_date)::BIGINT
                   AS portal_id,
               stin, doc_type, doc_no, doc_date, orig_doc_no, orig_doc_date, pos,
               coalesce(rcm, 'N') AS rcm, {', '.join(paise_sql(c) for c in AMOUNTS)},
               CASE WHEN cfs = 'N' THEN 'Not Filed' ELSE 'Filed' END AS srcfilstatus,
               NULL::VARCHAR AS ispendactblocked, section, ret_period AS rtnprd
        FROM gstr2a_docs WHERE rtin = ? {where}""", [gstin, *params]).with_columns(_company(gstin))


def books_frame(con, gstin: str, periods: list[str] | None = None) -> pl.DataFrame:
    """Current purchase-register documents (not replaced, batch not rolled back), with the
    ITC the company claims on each: `itc_claimed` (Y/N, null = Y) and per head (paise, null =
    not given)."""
    claimed = ", ".join(f"CAST(abs(d.itc_claimed_{h}) * 100 AS BIGINT) AS itc_claimed_{h}"
                        for h in HEADS)
    where, params = "", []
    if periods:
        last = max(dt.date(int(p[2:]), int(p[:2]), 1) for p in periods)
        where, params = "AND d.doc_date < ?", [(last + dt.timedelta(days=32)).replace(day=1)]
    return query_frame(con, f"""
        SELECT d.doc_id AS pr_id, d.stin, d.doc_type, d.doc_no, d.doc_date, d.pos, d.rcm,
               {', '.join(paise_sql(c, 'd.') for c in AMOUNTS)},
               d.no_tax, d.line_no, d.itc_claimed, {claimed}
        FROM purchase_docs d JOIN purchase_batches b USING (batch_id)
        WHERE d.rtin = ? AND d.replaced_by_batch IS NULL AND b.rolled_back_at IS NULL {where}""",
        [gstin, *params]).with_columns(_company(gstin))


def _company(gstin: str) -> pl.Expr:
    """rtin as a constant column: every row has it (WHERE rtin = ?), and a million copies of
    the same string cost time to read and to compare."""
    return pl.lit(gstin, pl.Utf8).alias("rtin")


def _periods(column: str, periods: list[str] | None) -> tuple[str, list]:
    if not periods:
        return "", []
    bad = [p for p in periods if not is_period(p)]
    if bad:
        raise SyncError(f"return period(s) {', '.join(bad)} are not MMYYYY (e.g. 102025)")
    return f"AND {column} IN (SELECT unnest(?::VARCHAR[]))", [list(periods)]


def read_settings(con) -> dict:
    """tolerance (paise), date_window (days), policy: read on every run, so app changes
    apply (the rules and their defaults: core.business.registry)."""
    rules = read_reco_settings(con)
    return {"tolerance_paise": round(rules.tolerance * 100), "date_window": rules.date_window,
            "policy": rules.policy}


# ---------------------------------------------------------------- reconcile (no connection held)


class _Stopwatch:
    """Wall and CPU seconds per step of a sync (returned as `timings`: the machine is often
    shared, so CPU time tells more than wall time alone)."""

    def __init__(self):
        self.timings: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def step(self, name: str):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.timings[name] = {"wall": round(time.perf_counter() - wall, 2),
                                  "cpu": round(time.process_time() - cpu, 2)}


def _reconcile(gstin: str, kind: str, periods: list[str] | None,
               watch: _Stopwatch | None = None, actor: str = "worker"
               ) -> tuple[dict, pl.DataFrame, pl.DataFrame]:
    """-> (settings, rows to keep in reco_results, rows for ims_records)."""
    if kind not in KINDS:
        raise SyncError(f"sync source '{kind}' is not one of {', '.join(KINDS)}")
    watch = watch or _Stopwatch()
    review_decisions(gstin, actor)
    with watch.step("read"), connect() as con:
        settings = read_settings(con)
        ims = ims_frame(con, gstin, periods)
        books = books_frame(con, gstin, periods)
        portal_2a = gstr2a_frame(con, gstin, periods) if kind == "2a_vs_pr" else \
            portal_frame_2b(documents_of_periods(con, gstin, periods), gstin) \
            if kind == "2b_vs_pr" else None
        decisions = decisions_in_force(con, gstin)
        on_docs = document_decisions_in_force(con, gstin, _SOURCE.get(kind, "2a"))
    if kind == "2b_vs_pr" and portal_2a.is_empty():
        raise SyncError(f"No GSTR-2B of {', '.join(periods) if periods else 'any period'} is "
                        f"stored for {gstin} yet: the worker fetches it on and after its "
                        "generation date, or run `python worker.py fetch-2b`.")
    with watch.step("reconcile"):
        return (settings, *_results(kind, ims, books, portal_2a, settings, decisions, on_docs))


_SOURCE = {"2a_vs_pr": "2a", "2b_vs_pr": "2b"}


def _read(read):
    """`read(con)` on a read-only connection of its own."""
    with connect(read_only=True) as con:
        return read(con)


def _results(kind: str, ims: pl.DataFrame, books: pl.DataFrame, portal_2a: pl.DataFrame | None,
             settings: dict, decisions: pl.DataFrame | None = None,
             on_docs: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows to keep in reco_results, rows for ims_records). `decisions`: the decisions by hand
    on IMS records in force (core/ims/overrides.py), taken by IMS vs PR; `on_docs`: those on
    the GSTR-2A (2a_vs_pr) or GSTR-2B (2b_vs_pr) documents by key
    (core/ims/document_overrides.py), taken by that kind's run."""
    if on_docs is not None and not on_docs.is_empty() and kind != "ims_vs_pr":
        shown = portal_2a.filter(~pl.col("rejected_in_ims")) if kind == "2b_vs_pr" \
            else portal_2a
        on_docs = on_documents(shown, on_docs)
    else:
        on_docs = None
    if kind == "2b_vs_pr":   # the 2B's documents (core/reco/vs_2b.py); no IMS record written
        results = reconcile_2b(portal_2a, books, overrides=on_docs, **settings)
        return results.with_columns(pl.lit(None, pl.Int64).alias("ims_record_id")), \
            results.clear()
    if kind == "ims_vs_pr":
        results = reconcile(ims, books, source="ims", overrides=decisions, **settings)
        results = results.with_columns(pl.col("portal_id").alias("ims_record_id"))
        return results, results.filter(pl.col("portal_id").is_not_null())
    results_2a = reconcile(portal_2a, books, source="gstr2a", overrides=on_docs, **settings)
    onto_ims = project_2a_onto_ims(ims, results_2a, settings["policy"])
    link = (onto_ims.filter(pl.col("portal_2a_id").is_not_null())
            .group_by("portal_2a_id").agg(pl.col("portal_id").min().alias("ims_record_id")))
    results_2a = results_2a.join(link, left_on="portal_id", right_on="portal_2a_id", how="left")
    return results_2a, onto_ims


# ---------------------------------------------------------------- writing back (one transaction)


def _store_run(gstin: str, kind: str, periods, settings: dict, results: pl.DataFrame,
               started: dt.datetime, actor: str, job_run_id: int | None) -> int:
    """The run row (not yet finished) and its rows in chunks, each chunk its own short
    transaction -> run id. The run becomes visible as finished in `_finish_runs`."""
    run_id = _open_run(gstin, kind, periods, settings, results, started, actor, job_run_id)
    _store_results(run_id, results)
    return run_id


def _open_run(gstin: str, kind: str, periods, settings: dict, results: pl.DataFrame,
              started: dt.datetime, actor: str, job_run_id: int | None) -> int:
    """The run row, not yet finished -> run id."""
    counts = dict(results.group_by("match_status").len().iter_rows())
    with connect() as con:
        run_id = con.execute(
            "INSERT INTO reco_runs (rtin, kind, periods, policy, tolerance, date_window, "
            "started_at, counts, triggered_by, job_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING run_id",
            [gstin, kind, ",".join(periods or []), settings["policy"],
             settings["tolerance_paise"] / 100, settings["date_window"], started,
             json.dumps(counts, sort_keys=True), actor, job_run_id]).fetchall()[0][0]
    return run_id


def _store_results(run_id: int, results: pl.DataFrame) -> None:
    """A run's rows in chunks of RESULT_CHUNK, each its own short transaction."""
    rows = results.with_columns(pl.lit(None, t).alias(c) for c, t in STORED_FACTS.items()
                                if c not in results.columns).select(RESULT_COLUMNS)
    for offset in range(0, rows.height, RESULT_CHUNK):
        with connect() as con, transaction(con):
            _insert_results(con, run_id, rows.slice(offset, RESULT_CHUNK))


def _insert_results(con, run_id: int, rows: pl.DataFrame) -> None:
    """The rows as reco_results holds them (money in rupees, converted in Polars), added in one
    step: on PostgreSQL a COPY straight into the table (before: COPY into a temporary table,
    then an INSERT ... SELECT from it, the rows written twice)."""
    money = (*RESULT_MONEY, *DECL)
    append_frame(con, "reco_results", rows.select(
        pl.lit(run_id, pl.Int64).alias("run_id"), "portal_id", "ims_record_id",
        pl.col("pr_id").alias("pr_doc_id"),
        *(rupees_expr(pl.col(c)).alias(c) if c in money else pl.col(c)
          for c in RESULT_COLUMNS if c not in ("portal_id", "ims_record_id", "pr_id"))))


def _finish_runs(con, run_ids) -> None:
    con.execute("UPDATE reco_runs SET finished_at = ? WHERE list_contains(?, run_id)",
                [utc_now(), list(run_ids)])


def _write_recommendations(con, gstin: str, ids: tuple[int, int], run_id: int,
                           actor: str) -> int:
    """Status, reasons, counterpart, recommendation and the proposed ITC-reduction answer
    (rec_*) of the registered rows `sync_new` with record ids in `ids` (first, last) onto
    ims_records (the user's action, answer and texts untouched); an action_log row per changed
    recommendation. Returns how many changed."""
    # the ids' range on both sides, so that a part reads only its rows (index ranges on
    # PostgreSQL)
    changed = con.execute("""
        INSERT INTO action_log (actor, rtin, record_id, kind, old_value, new_value, note)
        SELECT ?, i.rtin, i.record_id, 'recommendation', i.recommended_action, s.recommended_action,
               s.match_status || CASE WHEN s.reasons <> '' THEN ': ' || s.reasons ELSE '' END
        FROM ims_records i JOIN sync_new s USING (record_id)
        WHERE i.rtin = ? AND i.record_id BETWEEN ? AND ? AND s.record_id BETWEEN ? AND ?
          AND i.recommended_action IS DISTINCT FROM s.recommended_action""",
        [actor, gstin, *ids, *ids]).fetchall()[0][0]
    con.execute(f"""
        UPDATE ims_records SET match_status = s.match_status, reasons = s.reasons,
            counterpart_doc_id = s.counterpart_doc_id, books_status = s.books_status,
            prev_recommended_action = CASE WHEN ims_records.recommended_action
                IS DISTINCT FROM s.recommended_action THEN ims_records.recommended_action
                ELSE ims_records.prev_recommended_action END,
            recommended_action = s.recommended_action, rec_itc_red_req = s.rec_itc_red_req,
            {', '.join(f"rec_{c} = {rupees_sql(f's.rec_{c}')}" for c in DECL)},
            rec_supplier_remark = s.rec_supplier_remark, reco_run_id = ?, synced_at = ?
        FROM sync_new s WHERE ims_records.record_id = s.record_id AND ims_records.rtin = ?
          AND ims_records.record_id BETWEEN ? AND ? AND s.record_id BETWEEN ? AND ?""",
        [run_id, utc_now(), gstin, *ids, *ids])
    return changed


def _write_records(gstin: str, to_write: pl.DataFrame, run_ids: dict, kind: str,
                   actor: str) -> tuple[int, bool]:
    """`_write_and_finish` on a connection of its own, then the written columns' statistics
    refreshed (PostgreSQL)."""
    with connect() as con:
        written = _write_and_finish(con, gstin, to_write, run_ids, kind, actor)
        refresh_statistics(con, "ims_records", to_write.height, WRITTEN)
    return written


def _write_and_finish(con, gstin: str, to_write: pl.DataFrame, run_ids: dict, kind: str,
                      actor: str) -> tuple[int, bool]:
    """The changed records written and the runs marked finished: in one transaction, or on
    PostgreSQL in parts of `rows_per_transaction` records (short row locks), the runs then
    left for the caller to mark finished once their result rows are stored too (they are
    written beside the records: `side_by_side`). The rows are registered once as `sync_new`
    (on PostgreSQL one COPY and an index on the record id, not a temporary table per part).
    -> (how many recommendations changed, whether the runs were marked finished)."""
    rows = rows_per_transaction(con)
    new = to_write.sort("portal_id").select(      # reasons: text even when no row has any
        pl.col("portal_id").alias("record_id"), "match_status", pl.col("reasons").cast(pl.String),
        pl.col("pr_id").alias("counterpart_doc_id"), "recommended_action", "books_status",
        *(pl.col(c).alias(f"rec_{c}") for c in PROPOSAL))
    register_keyed(con, "sync_new", new, "record_id")
    try:
        if rows is None:
            with transaction(con):
                changed = _write_recommendations(con, gstin, _id_range(new), run_ids[kind],
                                                 actor) if new.height else 0
                _finish_runs(con, run_ids.values())
            return changed, True
        changed = 0
        for part in new.iter_slices(rows):
            with transaction(con):
                commit_unhurried(con)   # a part lost in a crash is written by the next sync
                changed += _write_recommendations(con, gstin, _id_range(part), run_ids[kind],
                                                  actor)
        return changed, False
    finally:
        con.unregister("sync_new")


def _id_range(rows: pl.DataFrame) -> tuple[int, int]:
    return rows["record_id"].min(), rows["record_id"].max()


# ---------------------------------------------------------------- the public verbs


def run_reconciliation(gstin: str, kind: str = "ims_vs_pr", periods: list[str] | None = None,
                       actor: str = "worker", job_run_id: int | None = None) -> int:
    """Reconcile and keep the run and its rows (no change to ims_records) -> reco run id."""
    started = utc_now()
    settings, results, _ = _reconcile(gstin, kind, periods, actor=actor)
    clear_abandoned_runs(gstin)
    run_id = _store_run(gstin, kind, periods, settings, results, started, actor, job_run_id)
    with connect() as con:
        _finish_runs(con, [run_id])
    return run_id


def sync_source(gstin: str) -> str:
    with connect() as con:
        rows = con.execute("SELECT sync_source FROM businesses WHERE gstin = ?", [gstin]).fetchall()
    if not rows:
        raise SyncError(f"business {gstin} is not set up: add it on the Settings page or "
                        f"with {ADD_HINT}")
    return rows[0][0]


def apply_sync(gstin: str, actor: str = "worker", job_run_id: int | None = None,
               periods: list[str] | None = None) -> dict:
    """Run BOTH reconciliations of the business (IMS vs PR always, GSTR-2A vs PR when the store
    holds 2A documents or 2A is the source) and keep both runs; the business's chosen source
    decides the status and recommendation written onto its IMS records, while the books
    counterpart and its status (`books_status`) always come from IMS vs PR. The records are
    written in one transaction (on PostgreSQL in parts, `rows_per_transaction`). Nothing
    happens when the source is 'off'."""
    t0, started = time.perf_counter(), utc_now()
    kind = sync_source(gstin)
    if kind == "off":
        return {"source": "off", "records": 0, "changed": 0}
    watch = _Stopwatch()
    with watch.step("review"):
        review_decisions(gstin, actor)
    with watch.step("read"):             # one short read each, so no hold is long
        (settings, (ims, held)), books, portal_2a, (decisions, on_2a) = side_by_side(
            lambda: _read(lambda con: (read_settings(con), split_held(
                ims_frame(con, gstin, periods, held=True)))),  # the records once: both sides
            lambda: _read(lambda con: books_frame(con, gstin, periods)),
            lambda: _read(lambda con: gstr2a_frame(con, gstin, periods)),
            lambda: _read(lambda con: (decisions_in_force(con, gstin),
                                       document_decisions_in_force(con, gstin, "2a"))))
    runs = []
    with watch.step("reconcile"):
        ims_results, ims_rows = _results("ims_vs_pr", ims, books, None, settings, decisions)
        runs.append(("ims_vs_pr", ims_results))
        onto_ims = ims_rows
        if kind == "2a_vs_pr" or portal_2a.height:
            results_2a, projected = _results("2a_vs_pr", ims, books, portal_2a, settings,
                                             on_docs=on_2a)
            runs.append(("2a_vs_pr", results_2a))
            if kind == "2a_vs_pr":
                onto_ims = projected if decisions.is_empty() else \
                    _with_manual_pairs(projected, ims_rows)
        onto_ims = _with_books_match(onto_ims, ims_rows)
        to_write = changed_rows(onto_ims, held)
    with watch.step("store"):        # the runs, their rows and the records (commits incl.)
        clear_abandoned_runs(gstin)
        run_ids = {k: _open_run(gstin, k, periods, settings, results, started, actor,
                                job_run_id) for k, results in runs}
        _, (changed, finished) = side_by_side(     # on the file: the rows first, in order
            lambda: [_store_results(run_ids[k], results) for k, results in runs],
            lambda: _write_records(gstin, to_write, run_ids, kind, actor))
        if not finished:
            with connect() as con:
                _finish_runs(con, run_ids.values())
    statuses = dict(onto_ims.group_by("match_status").len().sort("match_status").iter_rows())
    return {"source": kind, "reco_run_id": run_ids[kind], "reco_run_ids": run_ids,
            "records": onto_ims.height, "changed": changed, "statuses": statuses,
            "seconds": round(time.perf_counter() - t0, 2), "timings": watch.timings}


def _with_manual_pairs(projected: pl.DataFrame, ims_rows: pl.DataFrame) -> pl.DataFrame:
    """With GSTR-2A as the source, a record matched by hand takes its IMS vs PR row: the pair
    a person made is the answer whatever the 2A says."""
    manual = ims_rows.filter(pl.col("match_status") == "manual")
    if manual.is_empty():
        return projected
    kept = projected.filter(~pl.col("portal_id").is_in(manual["portal_id"].implode()))
    return pl.concat([kept, manual.with_columns(pl.lit(None, pl.Int64).alias("portal_2a_id"))
                      .select(kept.columns).cast(kept.schema)]).sort("portal_id")


def _with_books_match(rows: pl.DataFrame, ims_rows: pl.DataFrame) -> pl.DataFrame:
    """The source's rows with the IMS vs PR counterpart (`pr_id`) and status (`books_status`)
    of each record: the books match stays whatever decides the recommendation."""
    books = ims_rows.select("portal_id", pl.col("pr_id").alias("books_pr_id"),
                            pl.col("match_status").alias("books_status"))
    return (rows.join(books, on="portal_id", how="left")
            .with_columns(pl.col("books_pr_id").alias("pr_id")).drop("books_pr_id"))
