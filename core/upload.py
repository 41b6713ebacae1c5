"""The user's IMS actions to the portal: SAVE / RESET batches and REQSTS polling.

`upload_actions` queues the records whose user action differs from the portal's (after
refusing locally what the portal would refuse) and sends the first batch. Because the
portal runs one SAVE/RESET per GSTIN at a time (IMSSAV0015), the rest wait as
`upload_state = 'queued'`; `poll_uploads` (the worker, every minute, or the app on demand)
asks REQSTS about the batch in flight, applies its outcome, then sends the next batch.

Before a batch is sent, its sections are read again from the portal; a record whose hash or
action changed there is held back (`held`, "changed on portal, review") instead of failing
with IMSSAV0010. An upload error never loses the user's action: `user_action` stays, the
error is shown beside it. Every outcome gets an `action_log` row (kind 'upload').

upload_state: NULL | queued | sent | done | held | error.
"""
from __future__ import annotations

import datetime as dt
import json
import logging

import polars as pl

from core.db import connect, transaction
from core.documents import SECTION_REQUEST, raw_no

log = logging.getLogger(__name__)

BATCH_SIZE = 500
SECTION_CALL = {key: name for name, key in SECTION_REQUEST.items()}  # b2bcn -> CN
NOTE_SECTIONS = {"b2bcn", "b2bcna", "b2bdn", "b2bdna"}
CHANGED = "changed on portal, review"
REFUSALS = (  # (action, when the portal refuses it, what we tell the user)
    ("P", "coalesce(r.ispendactblocked, 'N') = 'Y'",
     "Pending is not allowed for this record (the portal marks it ispendactblocked = Y): "
     "choose Accept or Reject"),
    ("R", "(r.doc_type = 'BOE' OR r.section = 'impg')",
     "Import of goods (bill of entry) cannot be rejected: choose Accept or Pending"),
)
REFUSED_SQL = " OR ".join(f"(r.user_action = '{a}' AND {c})" for a, c, _ in REFUSALS)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _client(client):
    if client is not None:
        return client
    from core.fetch import GstnClient
    return GstnClient()


def _log(con, sql_from: str, params: list, note_sql: str, actor_sql: str = "?") -> None:
    """action_log rows (kind 'upload') for the records a FROM/WHERE clause selects."""
    con.execute(f"""INSERT INTO action_log (actor, rtin, record_id, kind, old_value, new_value, note)
                    SELECT {actor_sql}, r.rtin, r.record_id, 'upload', r.portal_action, r.user_action,
                           {note_sql} {sql_from}""", params)


# ---------------------------------------------------------------- queueing


def _candidates_sql(record_ids: list[int] | None) -> tuple[str, list]:
    """Records whose user action is not yet on the portal and not already on its way."""
    base = ("FROM ims_records r WHERE r.rtin = ? AND r.removed_at IS NULL AND r.user_action IS NOT NULL "
            "AND r.user_action IS DISTINCT FROM coalesce(r.portal_action, 'N') "
            "AND coalesce(r.upload_state, '') NOT IN ('queued', 'sent')")
    if record_ids is None:
        return base + " AND coalesce(r.upload_state, '') <> 'held'", []
    return base + " AND r.record_id IN (SELECT unnest(?::BIGINT[]))", [list(record_ids)]


def queue_uploads(gstin: str, record_ids: list[int] | None, actor: str) -> dict:
    """Refuse locally what the portal would refuse; queue the rest. One transaction."""
    where, extra = _candidates_sql(record_ids)
    refused = []
    with connect() as con, transaction(con):
        for action, condition, message in REFUSALS:
            sel = f"{where} AND r.user_action = '{action}' AND {condition}"
            refused += con.execute(f"SELECT r.record_id, ? {sel} ORDER BY r.record_id",
                                   [message, gstin, *extra]).fetchall()
            _log(con, sel, [actor, f"refused: {message}", gstin, *extra], "?")
            con.execute(f"UPDATE ims_records SET upload_state = 'error', upload_error = ? "
                        f"WHERE record_id IN (SELECT r.record_id {sel})", [message, gstin, *extra])
        where += f" AND NOT ({REFUSED_SQL})"
        _log(con, where, [actor, gstin, *extra], "'queued for upload'")
        queued = con.execute(
            f"UPDATE ims_records SET upload_state = 'queued', upload_error = NULL, "
            f"upload_queued_by = ?, upload_queued_at = ? WHERE record_id IN (SELECT r.record_id {where})",
            [actor, _now(), gstin, *extra]).fetchall()[0][0]
    return {"queued": queued, "refused": refused}


def upload_actions(gstin: str, record_ids: list[int] | None = None, actor: str = "worker",
                   client=None) -> dict:
    """Queue the user's actions of `gstin` (all pending ones, or just `record_ids`) and send
    the first batch. Returns {queued, refused: [(record_id, why)], sent, held, done,
    request_id, waiting}; `waiting` says a batch is still in flight (the rest follow)."""
    summary = queue_uploads(gstin, record_ids, actor)
    summary.update(send_next_batch(gstin, client))
    return summary


# ---------------------------------------------------------------- sending one batch


def _in_flight(con, gstin: str) -> bool:
    return con.execute("SELECT count(*) FROM upload_requests WHERE rtin = ? AND status = 'IP'",
                       [gstin]).fetchall()[0][0] > 0


def _next_batch(con, gstin: str) -> pl.DataFrame:
    """The next queued records of one request type (SAVE before RESET), with what the payload
    needs, including the credit-note declaration from the matched books document."""
    from core.frames import query_frame
    return query_frame(con, """
        WITH q AS (
            SELECT r.*, CASE WHEN r.user_action = 'N' THEN 'RESET' ELSE 'SAVE' END AS reqtyp
            FROM ims_records r WHERE r.rtin = ? AND r.upload_state = 'queued')
        SELECT q.record_id, q.rtin, q.section, q.stin, q.doc_type, q.doc_no, q.doc_no_key, q.fy,
               q.occurrence, q.doc_date, q.orig_doc_no, q.orig_doc_date, q.inv_typ, q.pos, q.val,
               q.txval, q.igst, q.cgst, q.sgst, q.cess, q.srcform, q.rtnprd, q.hash,
               coalesce(q.portal_action, 'N') AS portal_action, q.user_action, q.user_remarks,
               q.reqtyp, coalesce(q.upload_queued_by, 'worker') AS queued_by,
               (q.doc_type = 'CRN' AND q.user_action = 'A') AS declare_itc,
               (d.doc_id IS NOT NULL AND coalesce(d.igst,0) + coalesce(d.cgst,0) + coalesce(d.sgst,0)
                  + coalesce(d.cess,0) < coalesce(q.igst,0) + coalesce(q.cgst,0) + coalesce(q.sgst,0)
                  + coalesce(q.cess,0)) AS books_less,
               abs(d.igst) AS pr_igst, abs(d.cgst) AS pr_cgst, abs(d.sgst) AS pr_sgst, abs(d.cess) AS pr_cess
        FROM q LEFT JOIN purchase_docs d ON d.doc_id = q.counterpart_doc_id
        WHERE q.reqtyp = (SELECT max(reqtyp) FROM q)   -- 'SAVE' > 'RESET': saves go first
        ORDER BY q.record_id LIMIT ?""", [gstin, BATCH_SIZE])


def _portal_now(client, gstin: str, sections: list[str]) -> pl.DataFrame:
    """The batch's sections as the portal holds them now (no database connection held)."""
    from core.fetch import incoming_frame
    records = []
    for section in sections:
        records += client.get_ims_section(gstin, SECTION_CALL[section])
    frame = incoming_frame(gstin, records)
    return frame.select("section", "stin", "doc_no_key", "fy", "occurrence",
                        pl.col("portal_action").fill_null("N").alias("action_now"),
                        pl.col("hash").alias("hash_now"))


def triage(batch: pl.DataFrame, now_on_portal: pl.DataFrame) -> pl.DataFrame:
    """Per record: 'send', 'done' (the portal already holds the user's action), 'gone' (no
    longer on the portal) or 'held' (the supplier edited it or its action changed there)."""
    key = ["section", "stin", "doc_no_key", "fy", "occurrence"]
    joined = batch.join(now_on_portal.with_columns(pl.lit(True).alias("found")), on=key, how="left")
    hash_changed = (pl.col("hash").is_not_null() & pl.col("hash_now").is_not_null()
                    & (pl.col("hash") != pl.col("hash_now")))
    return joined.with_columns(
        pl.when(pl.col("found").is_null()).then(pl.lit("gone"))
        .when(pl.col("action_now") == pl.col("user_action")).then(pl.lit("done"))
        .when(hash_changed | (pl.col("action_now") != pl.col("portal_action"))).then(pl.lit("held"))
        .otherwise(pl.lit("send")).alias("outcome"))


def _rupees(value) -> float | None:
    return None if value is None else float(value)


def _ddmmyyyy(day) -> str | None:
    return day.strftime("%d-%m-%Y") if day else None


def portal_record(row: dict) -> dict:
    """One SAVE/RESET record in GETINV's shape, from a stored record (`row`)."""
    section = row["section"]
    no, date, ono, odate = (("boenum", "boedt", None, None) if section == "impg" else
                            ("nt_num", "nt_dt", "ont_num", "ont_dt") if section in NOTE_SECTIONS else
                            ("inum", "idt", "oinum", "oidt"))
    rec = {"stin": row["stin"] or "", no: row["doc_no"], date: _ddmmyyyy(row["doc_date"])}
    if ono and row["orig_doc_no"]:
        rec[ono], rec[odate] = row["orig_doc_no"], _ddmmyyyy(row["orig_doc_date"])
    for out, col in (("inv_typ", "inv_typ"), ("pos", "pos"), ("srcform", "srcform"),
                     ("rtnprd", "rtnprd"), ("hash", "hash")):
        if row[col] is not None:
            rec[out] = row[col]
    for out, col in (("val", "val"), ("txval", "txval"), ("iamt", "igst"), ("camt", "cgst"),
                     ("samt", "sgst"), ("cess", "cess")):
        rec[out] = _rupees(row[col]) or 0
    rec["prev_status"] = row["action_now"]
    if row["reqtyp"] == "SAVE":
        rec["action"] = row["user_action"]
        _add_declaration_and_remarks(rec, row)
    return rec


def _add_declaration_and_remarks(rec: dict, row: dict) -> None:
    """Accepted credit notes declare ITC to be reduced (books amounts where the books hold
    less tax); remarks go with Reject or Pending."""
    if row["declare_itc"]:
        rec["itcRedReq"] = "Y"
        if row["books_less"]:
            for out, col in (("declIgst", "pr_igst"), ("declCgst", "pr_cgst"),
                             ("declSgst", "pr_sgst"), ("declCess", "pr_cess")):
                rec[out] = _rupees(row[col]) or 0
    if row["user_action"] in ("R", "P") and row["user_remarks"]:
        rec["remarks"] = row["user_remarks"][:250]


def invdata(rows: list[dict]) -> dict:
    """Records grouped by section key, as SAVE/RESET's `invdata`."""
    out: dict[str, list] = {}
    for row in rows:
        out.setdefault(row["section"], []).append(portal_record(row))
    return out


def send_next_batch(gstin: str, client=None) -> dict:
    """Send the next queued batch of `gstin` unless one is in flight."""
    with connect() as con:
        if _in_flight(con, gstin):
            return {"sent": 0, "waiting": True}
        batch = _next_batch(con, gstin)
    if batch.is_empty():
        return {"sent": 0, "waiting": False}
    client = _client(client)
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
    from core.fetch import GstnError
    try:
        call = client.save_actions if reqtyp == "SAVE" else client.reset_actions
        return call(gstin, invdata(rows)), None
    except GstnError as exc:
        if exc.error_cd == "IMSSAV0015":
            log.info("upload %s: another save is running on the portal; trying again later", gstin)
            return None, None
        return None, str(exc)


def _record_batch(gstin: str, checked: pl.DataFrame, reqtyp: str, reference: str | None,
                  error: str | None) -> int | None:
    """Store the request, its items and every record's new state, in one transaction."""
    now = _now()
    with connect() as con, transaction(con):
        con.register("batch_rows", checked.select("record_id", "outcome", "user_action", "action_now",
                                                  "queued_by"))
        con.execute("CREATE OR REPLACE TEMP TABLE upload_batch AS SELECT * FROM batch_rows")
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
    actor = con.execute("SELECT min(queued_by) FROM upload_batch WHERE outcome = 'send'").fetchall()[0][0]
    request_id = con.execute(
        "INSERT INTO upload_requests (rtin, reqtyp, reference_id, record_count, status, error_report, "
        "actor, sent_at, finished_at) SELECT ?, ?, ?, count(*), ?, ?, ?, ?, ? FROM upload_batch "
        "WHERE outcome = 'send' RETURNING request_id",
        [gstin, reqtyp, reference, "FAILED" if error else "IP", error, actor, now,
         now if error else None]).fetchall()[0][0]
    con.execute("INSERT INTO upload_items (request_id, record_id, action, prev_status, result, error_msg) "
                "SELECT ?, record_id, user_action, action_now, ?, ? FROM upload_batch WHERE outcome = 'send'",
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
    held = "FROM ims_records r JOIN upload_batch b USING (record_id) WHERE b.outcome IN ('held', 'gone')"
    _log(con, held, [], f"'held: ' || {why}", "b.queued_by")
    con.execute(f"""UPDATE ims_records SET upload_state = 'held', upload_error = x.why
                    FROM (SELECT r.record_id, {why} AS why {held}) x
                    WHERE ims_records.record_id = x.record_id""")
    done = "FROM ims_records r JOIN upload_batch b USING (record_id) WHERE b.outcome = 'done'"
    _log(con, done, [], "'done: the portal already holds this action'", "b.queued_by")
    con.execute(f"""UPDATE ims_records SET upload_state = 'done', upload_error = NULL,
                        portal_action = user_action, uploaded_at = ?
                    WHERE record_id IN (SELECT r.record_id {done})""", [now])


# ---------------------------------------------------------------- REQSTS polling


def gstins_with_pending_uploads() -> list[str]:
    """Businesses with a batch in flight or records waiting in the queue."""
    with connect() as con:
        rows = con.execute("""SELECT rtin FROM upload_requests WHERE status = 'IP'
                              UNION SELECT rtin FROM ims_records WHERE upload_state = 'queued'
                              ORDER BY 1""").fetchall()
    return [r[0] for r in rows]


def _section_key(key: str) -> str:
    """REQSTS names sections both ways: 'b2bcn' and 'cn'."""
    key = (key or "").strip()
    return SECTION_REQUEST.get(key.upper(), key.lower())


def report_errors(error_report) -> pl.DataFrame:
    """REQSTS error_report -> one row per failed document: section, stin, doc_no_key, rtnprd,
    error_cd, error_msg."""
    rows = []
    if isinstance(error_report, str):
        error_report = json.loads(error_report or "{}")
    for key, entries in (error_report or {}).items():
        for e in entries if isinstance(entries, list) else []:
            for inv in e.get("inv") or [{}]:
                number = inv.get("inum") or inv.get("nt_num") or inv.get("boenum") or ""
                rows.append((_section_key(key), e.get("stin") or "", raw_no(number),
                             inv.get("rtnprd"), e.get("error_cd"), e.get("error_msg")))
    return pl.DataFrame(rows, schema={"section": pl.Utf8, "stin": pl.Utf8, "doc_no_key": pl.Utf8,
                                      "rtnprd": pl.Utf8, "error_cd": pl.Utf8, "error_msg": pl.Utf8},
                        orient="row")


def poll_uploads(gstin: str | None = None, client=None) -> dict:
    """Ask REQSTS about every batch in flight (of `gstin`, or all), apply finished outcomes,
    then send the next queued batch. Returns counts."""
    with connect() as con:
        requests = con.execute(
            "SELECT request_id, rtin, reference_id FROM upload_requests WHERE status = 'IP' "
            "AND (? IS NULL OR rtin = ?) ORDER BY request_id", [gstin, gstin]).fetchall()
        queued = con.execute("SELECT DISTINCT rtin FROM ims_records WHERE upload_state = 'queued' "
                             "AND (? IS NULL OR rtin = ?)", [gstin, gstin]).fetchall()
    if not requests and not queued:
        return {"polled": 0, "finished": 0, "sent": 0}
    client = _client(client)
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
    now = _now()
    report = answer.get("error_report") or {}
    with connect() as con, transaction(con):
        con.execute("UPDATE upload_requests SET last_polled_at = ?, status = ?, proc_cnt = ?, err_cnt = ?, "
                    "error_report = ?, finished_at = CASE WHEN ? <> 'IP' THEN ? END WHERE request_id = ?",
                    [now, status, answer.get("proc_cnt"), answer.get("err_cnt"),
                     json.dumps(report) if report else None, status, now, request_id])
        if status == "IP":
            return 0
        _settle_items(con, request_id, status, report_errors(report), now)
    return 1


def _settle_items(con, request_id: int, status: str, errors: pl.DataFrame, now: dt.datetime) -> None:
    con.register("report_rows", errors)
    con.execute("""CREATE OR REPLACE TEMP TABLE item_outcome AS
        SELECT i.record_id, i.action, i.prev_status, e.error_cd,
               coalesce(e.error_msg, CASE WHEN ? = 'ER' THEN 'the portal rejected the whole request (ER)' END)
                   AS error_msg
        FROM upload_items i JOIN ims_records r USING (record_id)
        LEFT JOIN (SELECT section, stin, doc_no_key, rtnprd, min(error_cd) AS error_cd,
                          min(error_msg) AS error_msg FROM report_rows GROUP BY ALL) e
               ON e.section = r.section AND e.stin = coalesce(r.stin, '') AND e.doc_no_key = r.doc_no_key
              AND (e.rtnprd IS NULL OR e.rtnprd = r.rtnprd)
        WHERE i.request_id = ?""", [status, request_id])
    con.unregister("report_rows")
    con.execute("""UPDATE upload_items SET result = CASE WHEN o.error_msg IS NULL THEN 'ok' ELSE 'error' END,
                       error_cd = o.error_cd, error_msg = o.error_msg
                   FROM item_outcome o WHERE upload_items.request_id = ? AND upload_items.record_id = o.record_id""",
                [request_id])
    actor = con.execute("SELECT actor FROM upload_requests WHERE request_id = ?", [request_id]).fetchall()[0][0]
    con.execute("""INSERT INTO action_log (actor, rtin, record_id, kind, old_value, new_value, note)
                   SELECT ?, r.rtin, r.record_id, 'upload', o.prev_status, o.action,
                          CASE WHEN o.error_msg IS NULL THEN 'saved on the portal (request ' || ? || ')'
                               ELSE 'portal error ' || coalesce(o.error_cd, '') || ': ' || o.error_msg END
                   FROM item_outcome o JOIN ims_records r USING (record_id)""",
                [actor or "worker", request_id])
    con.execute("""UPDATE ims_records SET
            portal_action = CASE WHEN o.error_msg IS NULL THEN o.action ELSE ims_records.portal_action END,
            upload_state = CASE WHEN o.error_msg IS NULL THEN 'done' ELSE 'error' END,
            upload_error = CASE WHEN o.error_msg IS NOT NULL
                                THEN trim(coalesce(o.error_cd, '') || ': ' || o.error_msg) END,
            uploaded_at = CASE WHEN o.error_msg IS NULL THEN ? ELSE ims_records.uploaded_at END
        FROM item_outcome o WHERE ims_records.record_id = o.record_id""", [now])
    con.execute("DROP TABLE item_outcome")
