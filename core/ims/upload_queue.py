"""Queueing the user's IMS actions and sending them to the portal one batch at a time.

`queue_uploads` refuses locally what the portal would refuse and queues the rest
(`upload_state = 'queued'`). `send_next_batch` sends the next batch of a business unless one
is in flight (the portal runs one SAVE/RESET per GSTIN at a time, IMSSAV0015): its sections
are read again first, and a record whose hash or action changed there is held back
(`held`, "changed on portal, review") instead of failing with IMSSAV0010. Every outcome gets
an `action_log` row (kind 'upload').
"""
from __future__ import annotations

import datetime as dt
import logging

import polars as pl

from core.clock import utc_now
from core.ims.store import incoming_frame
from core.ims.upload_payload import ANSWER_NOW, SECTION_CALL, invdata, triage
from core.portal import SAVE_BUSY, GstnClient, GstnError, filed_refusals, flatten_ims
from core.reco import answer_change_sql, answer_columns_sql, original_tax_sql, upload_problems
from core.store import (
    connect,
    query_frame,
    replace_empty_temp_table,
    replace_temp_table,
    transaction,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 500
CHANGED = "changed on portal, review"
REFUSALS = (  # (action, when the portal refuses it, what we tell the user)
    ("P", "coalesce(r.ispendactblocked, 'N') = 'Y'",
     ("Pending is not allowed for this record (the portal marks it ispendactblocked = Y): "
      "choose Accept or Reject")),
    ("R", "(r.doc_type = 'BOE' OR r.section LIKE 'impg%')",
     "Import of goods (bill of entry) cannot be rejected: choose Accept or Pending"),
)
REFUSED_SQL = " OR ".join(f"(r.user_action = '{a}' AND {c})" for a, c, _ in REFUSALS)


def _log(con, sql_from: str, params: list, note_sql: str, actor_sql: str = "?") -> None:
    """action_log rows (kind 'upload') for the records a FROM/WHERE clause selects."""
    con.execute(f"""INSERT INTO action_log (actor, rtin, record_id, kind, old_value, new_value,
                                            note)
                    SELECT {actor_sql}, r.rtin, r.record_id, 'upload', r.portal_action,
                           r.user_action, {note_sql} {sql_from}""", params)


def _candidates_sql(record_ids: list[int] | None) -> tuple[str, list]:
    """Records whose user action (or, on an action the portal holds, the user's changed answer
    or remark) is not yet on the portal and not already on its way."""
    base = ("FROM ims_records r WHERE r.rtin = ? AND r.removed_at IS NULL "
            "AND r.user_action IS NOT NULL "
            f"AND (r.user_action IS DISTINCT FROM coalesce(r.portal_action, 'N') "
            f"OR {answer_change_sql('r')}) "
            "AND coalesce(r.upload_state, '') NOT IN ('queued', 'sent')")
    if record_ids is None:
        return base + " AND coalesce(r.upload_state, '') <> 'held'", []
    return base + " AND r.record_id IN (SELECT unnest(?::BIGINT[]))", [list(record_ids)]


def _answer_refusals(con, where: str, params: list) -> list[tuple[int, str]]:
    """Accepts whose ITC-reduction answer the portal would refuse, or that need a remark
    (core.reco.itc_answer.upload_problems) -> [(record_id, why)]."""
    accepts = f"SELECT r.record_id {where} AND r.user_action = 'A'"
    cur = con.execute(f"""SELECT r.record_id, {answer_columns_sql('r')}
                          FROM ims_records r {original_tax_sql('r', accepts)}
                          WHERE r.record_id IN ({accepts})
                          ORDER BY r.record_id""", params + params)
    names = [d[0] for d in cur.description]
    refused = []
    for values in cur.fetchall():
        row = dict(zip(names, values))
        problems = upload_problems(row)
        if problems:
            refused.append((row["record_id"], "Not sent: " + "; ".join(problems)))
    return refused


def _refuse(con, refused: list[tuple[int, str]], actor: str) -> None:
    """Mark refused records 'error' with the reason (the user's action and answer kept)."""
    if not refused:
        return
    replace_empty_temp_table(con, "upload_refused", "record_id BIGINT, why VARCHAR")
    con.executemany("INSERT INTO upload_refused VALUES (?, ?)", refused)
    _log(con, "FROM ims_records r JOIN upload_refused x USING (record_id)", [actor],
         "'refused: ' || x.why")
    con.execute("UPDATE ims_records SET upload_state = 'error', upload_error = x.why "
                "FROM upload_refused x WHERE ims_records.record_id = x.record_id")
    con.execute("DROP TABLE upload_refused")


# a business that asks for approval sends approved actions only (docs/approval.md)
UNAPPROVED_SQL = ("r.rtin IN (SELECT gstin FROM businesses WHERE coalesce(approval_required, "
                  "FALSE)) AND coalesce(r.approval_state, '') <> 'approved'")
UNAPPROVED_WHY = """'Not sent: ' || CASE r.approval_state
    WHEN 'returned' THEN 'returned by ' || coalesce(r.approval_by, 'the approver')
                         || ' (' || coalesce(r.approval_comment, 'no comment') || '); change '
                         || 'it or propose it again'
    WHEN 'proposed' THEN 'waiting for approval: a second person must approve it first'
    ELSE 'its business asks for approval before upload; save the action to propose it' END"""


def _unapproved(con, where: str, params: list, actor: str) -> list[tuple[int, str]]:
    """Candidates of a business that asks for approval whose action is not approved: refused
    in words and logged, their state left as it is (they stay proposals, not errors)."""
    sel = f"{where} AND {UNAPPROVED_SQL}"
    _log(con, sel, [actor, *params], UNAPPROVED_WHY)
    return [tuple(r) for r in con.execute(f"SELECT r.record_id, {UNAPPROVED_WHY} {sel} "
                                          "ORDER BY r.record_id", params).fetchall()]


def queue_uploads(gstin: str, record_ids: list[int] | None, actor: str) -> dict:
    """Refuse locally what the portal would refuse, and what waits for approval; queue the
    rest. One transaction."""
    where, extra = _candidates_sql(record_ids)
    with connect() as con, transaction(con):
        waiting = _unapproved(con, where, [gstin, *extra], actor)
        where += f" AND NOT ({UNAPPROVED_SQL})"
        refused = []
        for action, condition, message in REFUSALS:
            sel = f"{where} AND r.user_action = '{action}' AND {condition}"
            refused += con.execute(f"SELECT r.record_id, ? {sel} ORDER BY r.record_id",
                                   [message, gstin, *extra]).fetchall()
        refused += _answer_refusals(con, where, [gstin, *extra])
        refused += filed_refusals(con, where, [gstin, *extra], refused)  # GSTR-3B filed
        _refuse(con, refused, actor)
        where += f" AND NOT ({REFUSED_SQL})"
        if refused:
            where += " AND r.record_id NOT IN (SELECT unnest(?::BIGINT[]))"
            extra = [*extra, [rid for rid, _ in refused]]
        _log(con, where, [actor, gstin, *extra], "'queued for upload'")
        queued = con.execute(
            f"UPDATE ims_records SET upload_state = 'queued', upload_error = NULL, "
            f"upload_queued_by = ?, upload_queued_at = ? "
            f"WHERE record_id IN (SELECT r.record_id {where})",
            [actor, utc_now(), gstin, *extra]).fetchall()[0][0]
    return {"queued": queued, "refused": waiting + refused}


def _in_flight(con, gstin: str) -> bool:
    return con.execute("SELECT count(*) FROM upload_requests WHERE rtin = ? AND status = 'IP'",
                       [gstin]).fetchall()[0][0] > 0


def _next_batch(con, gstin: str) -> pl.DataFrame:
    """The next queued records of one request type (SAVE before RESET), with what the payload
    needs: identity, amounts, the flags, the answer (user's and proposed) and the remark."""
    return query_frame(con, f"""
        WITH q AS (
            SELECT r.*, CASE WHEN r.user_action = 'N' THEN 'RESET' ELSE 'SAVE' END AS reqtyp
            FROM ims_records r WHERE r.rtin = ? AND r.upload_state = 'queued')
        SELECT q.record_id, q.rtin, q.stin, q.doc_type, q.doc_no, q.doc_no_key, q.fy,
               q.occurrence, q.doc_date, q.orig_doc_no, q.orig_doc_date, q.inv_typ, q.pos, q.val,
               q.txval, q.srcform, q.hash, {answer_columns_sql('q')},
               coalesce(q.portal_action, 'N') AS portal_action,
               q.reqtyp, coalesce(q.upload_queued_by, 'worker') AS queued_by
        FROM q {original_tax_sql('q', 'SELECT record_id FROM q')}
        WHERE q.reqtyp = (SELECT max(reqtyp) FROM q)   -- 'SAVE' > 'RESET': saves go first
        ORDER BY q.record_id LIMIT ?""", [gstin, BATCH_SIZE])


def _portal_now(client, gstin: str, sections: list[str]) -> pl.DataFrame:
    """The batch's sections as the portal holds them now (no database connection held)."""
    records = []
    for section in sections:
        records += flatten_ims(client.get_ims_section(gstin, SECTION_CALL[section]))
    frame = incoming_frame(gstin, records)
    return frame.select("section", "stin", "doc_no_key", "fy", "occurrence",
                        pl.col("portal_action").fill_null("N").alias("action_now"),
                        pl.col("hash").alias("hash_now"),
                        *(pl.col(c).alias(f"{c}_now") for c in ANSWER_NOW))


def send_next_batch(gstin: str, client=None) -> dict:
    """Send the next queued batch of `gstin` unless one is in flight."""
    with connect() as con:
        if _in_flight(con, gstin):
            return {"sent": 0, "waiting": True}
        batch = _next_batch(con, gstin)
    if batch.is_empty():
        return {"sent": 0, "waiting": False}
    client = client or GstnClient()
    checked = triage(batch, _portal_now(client, gstin, sorted(set(batch["section"]))))
    to_send = checked.filter(pl.col("outcome") == "send")
    reqtyp = batch["reqtyp"][0]
    reference, error = None, None
    if not to_send.is_empty():
        reference, error = _put(client, gstin, reqtyp, to_send.to_dicts())
        if reference is None and error is None:  # IMSSAV0015: the portal is busy, try later
            return {"sent": 0, "waiting": True}
    request_id = _record_batch(gstin, checked, reqtyp, reference, error)
    counts = dict(checked.group_by("outcome").len().iter_rows())
    return {"sent": counts.get("send", 0) if error is None else 0, "held": counts.get("held", 0)
            + counts.get("gone", 0), "done": counts.get("done", 0), "request_id": request_id,
            "error": error, "waiting": error is None and request_id is not None}


def _put(client, gstin: str, reqtyp: str, rows: list[dict]) -> tuple[str | None, str | None]:
    """-> (reference_id, None), or (None, message) when refused, or (None, None) when busy."""
    try:
        call = client.save_actions if reqtyp == "SAVE" else client.reset_actions
        return call(gstin, invdata(rows)), None
    except GstnError as exc:
        if exc.error_cd == SAVE_BUSY:
            log.info("upload %s: another save is running on the portal; trying again later", gstin)
            return None, None
        return None, str(exc)


def _record_batch(gstin: str, checked: pl.DataFrame, reqtyp: str, reference: str | None,
                  error: str | None) -> int | None:
    """Store the request, its items and every record's new state, in one transaction."""
    now = utc_now()
    with connect() as con, transaction(con):
        con.register("batch_rows", checked.select("record_id", "outcome", "user_action",
                                                  "action_now", "queued_by"))
        replace_temp_table(con, "upload_batch", "SELECT * FROM batch_rows")
        con.unregister("batch_rows")
        request_id = None
        if checked.filter(pl.col("outcome") == "send").height:
            request_id = _store_request(con, gstin, reqtyp, reference, error, now)
        _settle_without_sending(con, now)
        con.execute("DROP TABLE upload_batch")
    return request_id


def _store_request(con, gstin: str, reqtyp: str, reference: str | None, error: str | None,
                   now: dt.datetime) -> int:
    sent = "FROM ims_records r JOIN upload_batch b USING (record_id) WHERE b.outcome = 'send'"
    actor = con.execute("SELECT min(queued_by) FROM upload_batch WHERE outcome = 'send'"
                        ).fetchall()[0][0]
    request_id = con.execute(
        "INSERT INTO upload_requests (rtin, reqtyp, reference_id, record_count, status, "
        "error_report, actor, sent_at, finished_at) "
        "SELECT ?, ?, ?, count(*), ?, ?, ?, ?, ? FROM upload_batch "
        "WHERE outcome = 'send' RETURNING request_id",
        [gstin, reqtyp, reference, "FAILED" if error else "IP", error, actor, now,
         now if error else None]).fetchall()[0][0]
    con.execute("INSERT INTO upload_items (request_id, record_id, action, prev_status, result, "
                "error_msg) SELECT ?, record_id, user_action, action_now, ?, ? FROM upload_batch "
                "WHERE outcome = 'send'",
                [request_id, "error" if error else None, error])
    note = f"refused by the portal: {error}" if error else f"sent ({reqtyp}, request {request_id})"
    _log(con, sent, [note], "?", "b.queued_by")
    con.execute(f"""UPDATE ims_records SET upload_state = ?, upload_error = ?, upload_request_id = ?
                    WHERE record_id IN (SELECT r.record_id {sent})""",
                ["error" if error else "sent", error, request_id])
    return request_id


def _settle_without_sending(con, now: dt.datetime) -> None:
    """held / gone -> 'held' with the reason; done -> the portal already holds the action."""
    why = f"CASE b.outcome WHEN 'gone' THEN 'no longer on the portal, review' ELSE '{CHANGED}' END"
    held = ("FROM ims_records r JOIN upload_batch b USING (record_id) "
            "WHERE b.outcome IN ('held', 'gone')")
    _log(con, held, [], f"'held: ' || {why}", "b.queued_by")
    con.execute(f"""UPDATE ims_records SET upload_state = 'held', upload_error = x.why
                    FROM (SELECT r.record_id, {why} AS why {held}) x
                    WHERE ims_records.record_id = x.record_id""")
    done = "FROM ims_records r JOIN upload_batch b USING (record_id) WHERE b.outcome = 'done'"
    _log(con, done, [], "'done: the portal already holds this action'", "b.queued_by")
    con.execute(f"""UPDATE ims_records SET upload_state = 'done', upload_error = NULL,
                        portal_action = user_action, uploaded_at = ?
                    WHERE record_id IN (SELECT r.record_id {done})""", [now])
