"""The user's IMS actions to the portal: the upload verbs (docs/portal-api.md).

`upload_actions` queues the records whose user action differs from the portal's (after
refusing locally what the portal would refuse) and sends the first batch
(`core.ims.upload_queue`). The rest wait as `upload_state = 'queued'`; `poll_uploads` (the
worker, every minute, or the app on demand) asks REQSTS about the batch in flight, applies
its outcome, then sends the next batch. An upload error never loses the user's action:
`user_action` stays, the error is shown beside it. Every outcome gets an `action_log` row.

upload_state: NULL | queued | sent | done | held | error.
"""
from __future__ import annotations

import datetime as dt
import json

import polars as pl

from core.clock import utc_now
from core.ims.upload_payload import report_errors
from core.ims.upload_queue import queue_uploads, send_next_batch
from core.portal import GstnClient
from core.reco import HEADS
from core.store import connect, replace_temp_table, transaction


def upload_actions(gstin: str, record_ids: list[int] | None = None, actor: str = "worker",
                   client=None) -> dict:
    """Queue the user's actions of `gstin` (all pending ones, or just `record_ids`) and send
    the first batch. Returns {queued, refused: [(record_id, why)], sent, held, done,
    request_id, waiting}; `waiting` says a batch is still in flight (the rest follow)."""
    summary = queue_uploads(gstin, record_ids, actor)
    summary.update(send_next_batch(gstin, client))
    return summary


def gstins_with_pending_uploads() -> list[str]:
    """Businesses with a batch in flight or records waiting in the queue."""
    with connect() as con:
        rows = con.execute("""SELECT rtin FROM upload_requests WHERE status = 'IP'
                              UNION SELECT rtin FROM ims_records WHERE upload_state = 'queued'
                              ORDER BY 1""").fetchall()
    return [r[0] for r in rows]


def poll_uploads(gstin: str | None = None, client=None) -> dict:
    """Ask REQSTS about every batch in flight (of `gstin`, or all), apply finished outcomes,
    then send the next queued batch. Returns counts."""
    with connect() as con:
        requests = con.execute(
            "SELECT request_id, rtin, reference_id FROM upload_requests WHERE status = 'IP' "
            "AND (CAST(? AS VARCHAR) IS NULL OR rtin = ?) ORDER BY request_id", [gstin, gstin]).fetchall()
        queued = con.execute("SELECT DISTINCT rtin FROM ims_records WHERE upload_state = 'queued' "
                             "AND (CAST(? AS VARCHAR) IS NULL OR rtin = ?)", [gstin, gstin]).fetchall()
    if not requests and not queued:
        return {"polled": 0, "finished": 0, "sent": 0}
    client = client or GstnClient()
    finished = 0
    for request_id, rtin, reference in requests:
        answer = client.request_status(rtin, reference)
        finished += apply_request_status(request_id, answer)
    sent = 0
    for g in sorted({r[1] for r in requests} | {q[0] for q in queued}):
        sent += send_next_batch(g, client).get("sent", 0)
    return {"polled": len(requests), "finished": finished, "sent": sent}


def apply_request_status(request_id: int, answer: dict) -> int:
    """Store one REQSTS answer; when it is final (P, PE, ER) settle every item. -> 1 if final."""
    status = str(answer.get("status_cd") or "IP").upper()
    now = utc_now()
    report = answer.get("error_report") or {}
    with connect() as con, transaction(con):
        con.execute("UPDATE upload_requests SET last_polled_at = ?, status = ?, proc_cnt = ?, "
                    "err_cnt = ?, error_report = ?, "
                    "finished_at = CASE WHEN ? <> 'IP' THEN ? END WHERE request_id = ?",
                    [now, status, answer.get("proc_cnt"), answer.get("err_cnt"),
                     json.dumps(report) if report else None, status, now, request_id])
        if status == "IP":
            return 0
        _settle_items(con, request_id, status, report_errors(report), now)
    return 1


def _settle_items(con, request_id: int, status: str, errors: pl.DataFrame,
                  now: dt.datetime) -> None:
    con.register("report_rows", errors)
    replace_temp_table(con, "item_outcome", """
        SELECT i.record_id, i.action, i.prev_status, e.error_cd,
               coalesce(e.error_msg, CASE WHEN ? = 'ER'
                        THEN 'the portal rejected the whole request (ER)' END) AS error_msg
        FROM upload_items i JOIN ims_records r USING (record_id)
        LEFT JOIN (SELECT section, stin, doc_no_key, rtnprd, min(error_cd) AS error_cd,
                          min(error_msg) AS error_msg FROM report_rows
                   GROUP BY section, stin, doc_no_key, rtnprd) e
               ON e.section = r.section AND e.stin = coalesce(r.stin, '')
              AND e.doc_no_key = r.doc_no_key
              AND (e.rtnprd IS NULL OR e.rtnprd = r.rtnprd)
        WHERE i.request_id = ?""", [status, request_id])
    con.unregister("report_rows")
    con.execute("""UPDATE upload_items
                   SET result = CASE WHEN o.error_msg IS NULL THEN 'ok' ELSE 'error' END,
                       error_cd = o.error_cd, error_msg = o.error_msg
                   FROM item_outcome o
                   WHERE upload_items.request_id = ? AND upload_items.record_id = o.record_id""",
                [request_id])
    actor = con.execute("SELECT actor FROM upload_requests WHERE request_id = ?",
                        [request_id]).fetchall()[0][0]
    con.execute("""INSERT INTO action_log (actor, rtin, record_id, kind, old_value, new_value, note)
                   SELECT ?, r.rtin, r.record_id, 'upload', o.prev_status, o.action,
                          CASE WHEN o.error_msg IS NULL
                               THEN 'saved on the portal (request ' || ? || ')'
                               ELSE 'portal error ' || coalesce(o.error_cd, '') || ': '
                                    || o.error_msg END
                   FROM item_outcome o JOIN ims_records r USING (record_id)""",
                [actor or "worker", request_id])
    con.execute("""UPDATE ims_records SET
            portal_action = CASE WHEN o.error_msg IS NULL THEN o.action
                                 ELSE ims_records.portal_action END,
            upload_state = CASE WHEN o.error_msg IS NULL THEN 'done' ELSE 'error' END,
            upload_error = CASE WHEN o.error_msg IS NOT NULL
                                THEN trim(coalesce(o.error_cd, '') || ': ' || o.error_msg) END,
            uploaded_at = CASE WHEN o.error_msg IS NULL THEN ? ELSE ims_records.uploaded_at END
        FROM item_outcome o WHERE ims_records.record_id = o.record_id""", [now])
    _hold_sent_answers(con)
    con.execute("DROP TABLE item_outcome")


def _hold_sent_answers(con) -> None:
    """After a good SAVE, the store holds the user's own answer and remark as the portal's
    until the next fetch says otherwise (so they do not show as waiting to be uploaded)."""
    given = "ims_records.user_itc_red_req IS NOT NULL AND ims_records.user_action = 'A'"
    amounts = ", ".join(f"decl_{h} = CASE WHEN {given} THEN ims_records.user_decl_{h} "
                        f"ELSE ims_records.decl_{h} END" for h in HEADS)
    con.execute(f"""UPDATE ims_records SET
            itc_red_req = CASE WHEN {given} THEN ims_records.user_itc_red_req
                               ELSE ims_records.itc_red_req END,
            {amounts},
            portal_remarks = CASE WHEN nullif(trim(ims_records.user_supplier_remark), '')
                                       IS NOT NULL
                                   AND coalesce(ims_records.is_remarks_blocked, 'N') <> 'Y'
                                  THEN trim(ims_records.user_supplier_remark)
                                  ELSE ims_records.portal_remarks END
        FROM item_outcome o
        WHERE ims_records.record_id = o.record_id AND o.error_msg IS NULL
          AND o.action <> 'N' AND ims_records.user_action = o.action""")
