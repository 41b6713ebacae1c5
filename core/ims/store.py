"""Ingestion into the store: IMS snapshots and GSTR-2A periods (docs/architecture.md).

`store_ims` upserts one full IMS snapshot of a business, set-based (INSERT ... SELECT /
UPDATE ... FROM a registered frame): new records inserted, known ones updated, supplier
edits logged (a pending user action on an edited record is reset), records no longer on
the portal marked removed (except those that left IMS with a filed GSTR-3B: kept, visible,
core.portal.filing_status). `store_gstr2a` replaces whole return periods. The caller holds
the transaction; nothing here talks HTTP.

Both work in three steps so that the fetch holds the store only briefly (docs/store.md):
a narrow read of what the store holds (`held_ims` / `held_gstr2a`), a plan made in Polars
with no connection (core.ims.diff), and a write of only what differs (`write_ims` /
`write_gstr2a`); `store_ims` / `store_gstr2a` do the three on one connection.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from core.documents import fy_expr, raw_no_expr
from core.ims.diff import KEYS, Gstr2aPlan, ImsPlan, plan_gstr2a, plan_ims
from core.money import rupees_sql
from core.portal import keep_filed, skip_filed_occurrences
from core.portal import payload as portal
from core.store import query_frame, replace_temp_table

PORTAL_COLUMNS = ("doc_type", "doc_no", "doc_date", "orig_doc_no", "orig_doc_date", "inv_typ",
                  "pos", "val", "txval", "igst", "cgst", "sgst", "cess", "srcform", "rtnprd",
                  "srcfilstatus", "portal_action", "ispendactblocked", "hash", "itc_red_req",
                  "decl_igst", "decl_cgst",
                  "decl_sgst", "decl_cess", "portal_remarks", "stin_valid",
                  "is_itc_red_req_blocked", "is_remarks_blocked")
IDENTITY = ("rtin", "section", "stin", "doc_no_key", "fy", "occurrence")
# What a supplier edit changes (besides the portal's own hash).
EDIT_FIELDS = ("doc_no", "doc_date", "orig_doc_no", "orig_doc_date", "inv_typ", "pos",
               "val", "txval", "igst", "cgst", "sgst", "cess")
MONEY = ("val", "txval", "igst", "cgst", "sgst", "cess", "decl_igst", "decl_cgst", "decl_sgst",
         "decl_cess")
# What goes with the user's action and is reset with it when the supplier edits the record
# (the internal note stays: it is the team's own text, not part of the action).
USER_ANSWER = ("user_action", "user_supplier_remark", "user_itc_red_req", "user_decl_igst",
               "user_decl_cgst", "user_decl_sgst", "user_decl_cess", "user_action_by",
               "user_action_at")


def records_of(records: list[dict] | pl.DataFrame) -> pl.DataFrame:
    """Flat records, or their frame already read by columns (core.portal.payload.ims_frame)."""
    return records if isinstance(records, pl.DataFrame) else portal.records_frame(records)


def incoming_frame(rtin: str, records: list[dict] | pl.DataFrame) -> pl.DataFrame:
    """Flat IMS records (or their frame) -> the store's identity (doc_no_key, fy, occurrence)
    + portal fields.

    occurrence numbers records sharing (section, stin, doc_no_key, fy) in file order, so a
    document the portal lists twice is kept twice, stably from fetch to fetch.
    """
    keys = ["section", "stin", "doc_no_key", "fy"]
    return (records_of(records)
            .with_row_index("seq")
            .with_columns(rtin=pl.lit(rtin), doc_no_key=raw_no_expr("doc_no"),
                          fy=fy_expr("doc_date"), portal_action=pl.col("action"))
            .with_columns(occurrence=pl.int_range(pl.len()).over(keys).cast(pl.Int32)))



def _money(col: str) -> str:
    return f"{rupees_sql(col)} AS {col}"


def _changed_sql() -> str:
    differs = " OR ".join(f"i.{f} IS DISTINCT FROM r.{f}" for f in EDIT_FIELDS)
    hash_differs = "(i.hash IS NOT NULL AND r.hash IS NOT NULL AND i.hash <> r.hash)"
    return f"(r.record_id IS NOT NULL AND ({hash_differs} OR {differs}))"


def _touched_sql() -> str:
    """Any portal column differs (then the whole row is rewritten; else only last_seen)."""
    return "(" + " OR ".join(f"i.{c} IS DISTINCT FROM r.{c}" for c in PORTAL_COLUMNS) + ")"


def _diff_sql() -> str:
    parts = ", ".join(
        f"CASE WHEN r.record_id IS NOT NULL AND i.{f} IS DISTINCT FROM r.{f} THEN "
        f"'{f} ' || coalesce(CAST(r.{f} AS VARCHAR), '-') || ' -> ' "
        f"|| coalesce(CAST(i.{f} AS VARCHAR), '-') END"
        for f in EDIT_FIELDS)
    return f"concat_ws('; ', {parts})"


def _stage(con, rtin: str, frame: pl.DataFrame) -> None:
    """fetch_in = the planned records in store types; fetch_match = joined (by the record_id
    the plan found) to what we hold now."""
    con.register("fetch_frame", frame)
    plain = [c for c in ("seq", "record_id", "portal_fp") + IDENTITY + PORTAL_COLUMNS
             if c not in MONEY]
    replace_temp_table(con, "fetch_in", f"SELECT {', '.join(plain)}, "
                                        f"{', '.join(_money(c) for c in MONEY)} FROM fetch_frame")
    con.unregister("fetch_frame")
    staged = ", ".join(f"i.{c}" for c in plain + list(MONEY) if c != "record_id")
    replace_temp_table(con, "fetch_match", f"""
        SELECT {staged}, r.record_id, r.removed_at IS NOT NULL AS returned,
               {_changed_sql()} AS changed, {_diff_sql()} AS diff,
               r.user_action AS old_user_action,
               (r.record_id IS NOT NULL
                AND (r.removed_at IS NOT NULL OR {_touched_sql()})) AS touched,
               (r.user_action IS NOT NULL AND coalesce(r.upload_state, '') <> 'done') AS pending
        FROM fetch_in i LEFT JOIN (SELECT * FROM ims_records WHERE rtin = ?) r
             ON r.record_id = i.record_id""", [rtin])


def _log_supplier_edits(con, now: dt.datetime, actor: str) -> None:
    con.execute("""
        INSERT INTO action_log (logged_at, actor, rtin, record_id, kind, old_value, new_value, note)
        SELECT ?, ?, rtin, record_id, 'supplier_edit',
               CASE WHEN pending THEN old_user_action END, NULL,
               'edited by supplier'
               || CASE WHEN pending THEN '; pending action ' || old_user_action || ' reset'
                       ELSE '' END
               || CASE WHEN diff <> '' THEN ' (' || diff || ')' ELSE '' END
        FROM fetch_match WHERE changed ORDER BY seq""", [now, actor])


def _update_known(con, now: dt.datetime) -> None:
    sets = ", ".join(f"{c} = m.{c}" for c in PORTAL_COLUMNS)
    reset = "m.changed AND m.pending"
    resets = ",\n            ".join(f"{c} = CASE WHEN {reset} THEN NULL ELSE r.{c} END"
                                   for c in USER_ANSWER)
    con.execute(f"""
        UPDATE ims_records AS r SET {sets}, portal_fp = m.portal_fp, last_seen = ?,
            removed_at = NULL,
            changed_at = CASE WHEN m.changed THEN ? ELSE r.changed_at END,
            {resets},
            upload_state = CASE WHEN {reset} AND r.upload_state IN ('held', 'error') THEN NULL
                                ELSE r.upload_state END,
            upload_error = CASE WHEN {reset} AND r.upload_state IN ('held', 'error') THEN NULL
                                ELSE r.upload_error END
        FROM fetch_match AS m WHERE r.record_id = m.record_id AND m.touched""", [now, now])
    # same content, fingerprint unknown or from another Polars: only the fingerprint
    con.execute("UPDATE ims_records AS r SET portal_fp = m.portal_fp FROM fetch_match AS m "
                "WHERE r.record_id = m.record_id AND NOT m.touched "
                "AND r.portal_fp IS DISTINCT FROM m.portal_fp")


def _insert_new(con, now: dt.datetime) -> None:
    cols = ", ".join(IDENTITY + PORTAL_COLUMNS)
    con.execute(f"""
        INSERT INTO ims_records ({cols}, portal_fp, first_seen, last_seen)
        SELECT {cols}, portal_fp, ?, ? FROM fetch_match WHERE record_id IS NULL ORDER BY seq""", [now, now])


def _stage_gone(con, gone_ids: pl.DataFrame) -> None:
    """fetch_gone = the stored records the portal no longer lists (from the plan)."""
    con.register("fetch_gone_frame", gone_ids)
    replace_temp_table(con, "fetch_gone", "SELECT record_id FROM fetch_gone_frame")
    con.unregister("fetch_gone_frame")


def _mark_removed(con, rtin: str, now: dt.datetime, actor: str) -> int:
    """The gone records, except those that left IMS with a filed return (kept, not removed)."""
    gone = ("FROM ims_records r WHERE r.rtin = ? AND r.removed_at IS NULL "
            "AND r.left_ims_at IS NULL AND r.record_id IN (SELECT record_id FROM fetch_gone)")
    con.execute(f"""
        INSERT INTO action_log (logged_at, actor, rtin, record_id, kind, old_value, new_value, note)
        SELECT ?, ?, r.rtin, r.record_id, 'removed', r.portal_action, NULL,
               'no longer on the portal'
        {gone}""", [now, actor, rtin])
    return con.execute(f"UPDATE ims_records SET removed_at = ? "
                       f"WHERE record_id IN (SELECT r.record_id {gone})",
                       [now, rtin]).fetchone()[0]


def _match_counts(con) -> dict:
    row = con.execute("""
        SELECT count(*) FILTER (WHERE record_id IS NULL),
               count(*) FILTER (WHERE changed),
               count(*) FILTER (WHERE returned AND NOT changed),
               count(*) FILTER (WHERE record_id IS NOT NULL AND NOT changed AND NOT returned),
               count(*) FILTER (WHERE changed AND pending),
               count(*)
        FROM fetch_match""").fetchone()
    return dict(zip(("new", "changed", "returned", "unchanged", "actions_reset", "total"), row))


def held_ims(con, rtin: str) -> pl.DataFrame:
    """What the store holds of `rtin`, narrowly: record_id, identity, fingerprint, removed."""
    return query_frame(con, f"SELECT record_id, {', '.join(KEYS)}, portal_fp AS held_fp, "
                            "removed_at IS NOT NULL AS removed FROM ims_records WHERE rtin = ?",
                       [rtin])


def plan_snapshot(rtin: str, frame: pl.DataFrame, held: pl.DataFrame) -> ImsPlan:
    """The plan for storing `frame` over `held` (no connection needed)."""
    return plan_ims(frame, held, PORTAL_COLUMNS)


def plan_is_current(con, rtin: str, plan: ImsPlan) -> bool:
    """Does the store still hold the records the plan was made from? (Another fetch of the
    same business in between would add records; user actions do not matter to the plan.)"""
    rows, max_id = con.execute("SELECT count(*), max(record_id) FROM ims_records WHERE rtin = ?",
                               [rtin]).fetchall()[0]
    return (rows, max_id) == (plan.held_rows, plan.held_max_id)


def write_ims(con, rtin: str, plan: ImsPlan, now: dt.datetime, actor: str) -> dict:
    """Write what `plan` says (caller holds the transaction): only the staged records."""
    _stage(con, rtin, plan.write)
    _stage_gone(con, plan.gone)
    counts = _match_counts(con)
    counts["unchanged"] += plan.unchanged
    counts["total"] = plan.total
    _log_supplier_edits(con, now, actor)
    counts["left_with_filed_return"] = keep_filed(con, rtin, now, actor)   # kept, not removed
    counts["removed"] = _mark_removed(con, rtin, now, actor)
    _update_known(con, now)
    _insert_new(con, now)
    con.execute("INSERT INTO ims_fetch_marks (rtin, ims_at) VALUES (?, ?) "
                "ON CONFLICT (rtin) DO UPDATE SET ims_at = excluded.ims_at", [rtin, now])
    for table in ("fetch_match", "fetch_in", "fetch_gone"):
        con.execute(f"DROP TABLE {table}")
    return counts


def store_ims(con, rtin: str, frame: pl.DataFrame, now: dt.datetime, actor: str) -> dict:
    """Upsert one full IMS snapshot of `rtin` (caller holds the transaction). Set-based."""
    frame = skip_filed_occurrences(con, rtin, frame)
    return write_ims(con, rtin, plan_snapshot(rtin, frame, held_ims(con, rtin)), now, actor)


def gstr2a_frame_of(rtin: str, records: list[dict] | pl.DataFrame) -> pl.DataFrame:
    return records_of(records).with_columns(rtin=pl.lit(rtin))


def held_gstr2a(con, rtin: str, periods: list[str]) -> pl.DataFrame:
    """How many stored documents of `periods` share each fingerprint (ret_period, doc_fp, n)."""
    return query_frame(con, "SELECT ret_period, doc_fp, CAST(count(*) AS INTEGER) AS n "
                            "FROM gstr2a_docs WHERE rtin = ? AND list_contains(?, ret_period) "
                            "GROUP BY ret_period, doc_fp", [rtin, periods])


def write_gstr2a(con, rtin: str, periods: list[str], frame: pl.DataFrame, plan: Gstr2aPlan,
                 now: dt.datetime) -> dict:
    """Make the (rtin, ret_period) slices of gstr2a_docs equal to `frame`, writing only the
    documents `plan` (core.ims.diff.plan_gstr2a) says differ (caller holds the transaction)."""
    con.register("fetch_2a_gone", plan.gone)
    con.execute("DELETE FROM gstr2a_docs AS d USING fetch_2a_gone AS g WHERE d.rtin = ? "
                "AND d.ret_period = g.ret_period AND d.doc_fp IS NOT DISTINCT FROM g.doc_fp",
                [rtin])
    con.unregister("fetch_2a_gone")
    con.register("fetch_2a_frame", plan.insert)
    money = ", ".join(_money(c) for c in ("val", "txval", "igst", "cgst", "sgst", "cess"))
    cols = ("rtin, rtnprd, section, stin, doc_type, doc_no, doc_date, orig_doc_no, "
            "orig_doc_date, inv_typ, pos, rcm, cfs")
    con.execute(f"""
        INSERT INTO gstr2a_docs (rtin, ret_period, section, stin, doc_type, doc_no, doc_date,
            orig_doc_no,
            orig_doc_date, inv_typ, pos, rcm, cfs, val, txval, igst, cgst, sgst, cess, fetched_at,
            doc_fp)
        SELECT {cols}, {money}, ?, doc_fp FROM fetch_2a_frame""", [now])
    con.unregister("fetch_2a_frame")
    con.execute("INSERT INTO ims_fetch_marks (rtin, gstr2a_at) VALUES (?, ?) "
                "ON CONFLICT (rtin) DO UPDATE SET gstr2a_at = excluded.gstr2a_at", [rtin, now])
    write_supplier_returns(con, rtin, periods, frame, now)
    per_period = dict.fromkeys(periods, 0)
    for period, n in frame.group_by("rtnprd").len().iter_rows():
        per_period[period] = n
    return {"total": frame.height, "periods": per_period, "written": plan.insert.height,
            "unchanged": plan.unchanged}


def supplier_returns_of(frame: pl.DataFrame) -> pl.DataFrame:
    """Per supplier and period what GSTR-2A's supplier groups say: GSTR-1 filed (cfs), GSTR-3B
    filed (cfs3b), cancelled on (dtcancel)."""
    if frame.is_empty():
        return pl.DataFrame(schema={"stin": pl.Utf8, "ret_period": pl.Utf8,
                                    "gstr1_filed": pl.Utf8, "gstr3b_filed": pl.Utf8,
                                    "cancelled_on": pl.Date})
    return (frame.filter(pl.col("stin").is_not_null() & pl.col("rtnprd").is_not_null())
            .group_by("stin", "rtnprd").agg(
                pl.col("cfs").drop_nulls().str.to_uppercase().min().alias("gstr1_filed"),
                pl.col("cfs3b").drop_nulls().str.to_uppercase().min().alias("gstr3b_filed"),
                pl.col("dtcancel").drop_nulls().min().alias("cancelled"))
            .select("stin", pl.col("rtnprd").alias("ret_period"), "gstr1_filed",
                    "gstr3b_filed",
                    pl.col("cancelled").str.strptime(pl.Date, "%d-%m-%Y", strict=False)
                    .alias("cancelled_on")))


def write_supplier_returns(con, rtin: str, periods: list[str], frame: pl.DataFrame,
                           now: dt.datetime) -> None:
    """Replace the business's supplier returns of `periods` with what this 2A says."""
    returns = supplier_returns_of(frame)
    marks = ", ".join("?" for _ in periods)
    if periods:
        con.execute(f"DELETE FROM supplier_returns WHERE rtin = ? AND ret_period IN ({marks})",
                    [rtin, *periods])
    if returns.is_empty():
        return
    con.register("fetch_2a_returns", returns)
    con.execute("INSERT INTO supplier_returns (rtin, stin, ret_period, gstr1_filed, "
                "gstr3b_filed, cancelled_on, seen_at) SELECT ?, stin, ret_period, gstr1_filed, "
                "gstr3b_filed, cancelled_on, ? FROM fetch_2a_returns", [rtin, now])
    con.unregister("fetch_2a_returns")


def store_gstr2a(con, rtin: str, periods: list[str], records: list[dict], now: dt.datetime) -> dict:
    """Replace the (rtin, ret_period) slices of gstr2a_docs with `records`."""
    frame = gstr2a_frame_of(rtin, records)
    return write_gstr2a(con, rtin, periods, frame,
                        plan_gstr2a(frame, held_gstr2a(con, rtin, periods)), now)
