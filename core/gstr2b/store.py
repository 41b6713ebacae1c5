"""What the store keeps of GSTR-2B (docs/month-close.md): per business and period the latest
2B fetched (generation date, version, `itcsumm`) and its documents, replaced whole in one short
transaction; and "2B needs regeneration".

"2B needs regeneration" = some IMS record whose 2B period (core.calendar.period_2b: the stored
2B holding it, else when its supplier filed it, else the period open now for a record kept
pending; not its return period `rtnprd`) is the 2B's, not left out by its supplier's
"Not Filed", whose current action, as the last fetch shows it, disagrees with how the stored 2B
treats it: the 2B treats a document in `docdata` as accepted, one in `docRejdata` as rejected
and an absent one as pending; the current action A or N (no action counts as accepted) is
"accepted", R "rejected", P "pending". Periods whose GSTR-3B is filed are not counted (the 2B
can no longer be regenerated).
"""
from __future__ import annotations

import json

import polars as pl

from core.business import NAMES_SQL
from core.calendar import record_periods
from core.clock import utc_now
from core.portal import FRAME_SCHEMA, MONEY, ROW_FIELDS, rows_frame
from core.store import connect, query_frame, transaction

UNREAD = "_unread"   # kept beside the 2B's own summary: the sections no rule reads


def _kept_summary(head: dict) -> dict:
    summary = dict(head.get("itcsumm") or {})
    if head.get("unread"):
        summary[UNREAD] = list(head["unread"])
    return summary


def store_2b(gstin: str, period: str, head: dict, rows: list[dict] | pl.DataFrame) -> int:
    """Replace the stored 2B of (gstin, period) with this one -> documents stored."""
    frame = rows if isinstance(rows, pl.DataFrame) else rows_frame(rows)
    money = ", ".join(f"CAST({m} AS DECIMAL(18,2)) / 100 AS {m}" for m in MONEY)
    with connect() as con, transaction(con):
        con.execute("DELETE FROM gstr2b_documents WHERE gstin = ? AND rtnprd = ?",
                    [gstin, period])
        con.execute("DELETE FROM gstr2b_returns WHERE gstin = ? AND rtnprd = ?", [gstin, period])
        con.execute("INSERT INTO gstr2b_returns VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [gstin, period, None if head.get("version") is None else str(head["version"]),
                     head.get("gendt"), json.dumps(_kept_summary(head)), frame.height,
                     utc_now()])
        con.register("gstr2b_frame", frame)
        con.execute(f"""
            INSERT INTO gstr2b_documents
            SELECT ?, ?, section, stin, trdnm, doc_type, doc_no, upper(trim(doc_no)), doc_date,
                   orig_doc_no, orig_doc_date, pos, rcm, inv_typ, {money}, itcavl, rsn, supprd,
                   supfildt, rejected_in_ims, line
            FROM gstr2b_frame""", [gstin, period])
        con.unregister("gstr2b_frame")
    return frame.height


def stored_2b(gstin: str, period: str) -> dict | None:
    """{gstin, rtnprd, version, gendt, itcsumm, documents, fetched_at} or None."""
    with connect(read_only=True) as con:
        row = con.execute("SELECT gstin, rtnprd, version, gendt, itcsumm, documents, fetched_at "
                          "FROM gstr2b_returns WHERE gstin = ? AND rtnprd = ?",
                          [gstin, period]).fetchone()
    if row is None:
        return None
    keys = ("gstin", "rtnprd", "version", "gendt", "itcsumm", "documents", "fetched_at")
    found = dict(zip(keys, row))
    found["itcsumm"] = json.loads(found["itcsumm"])
    found["unread"] = found["itcsumm"].pop(UNREAD, []) if isinstance(found["itcsumm"], dict) \
        else []
    return found


def stored_2b_documents(gstin: str, period: str) -> pl.DataFrame:
    """The stored documents of one 2B in the flat-row shape (amounts in paise)."""
    money = ", ".join(f"CAST(round({m} * 100) AS BIGINT) AS {m}" for m in MONEY)
    with connect(read_only=True) as con:
        found = query_frame(
            con, f"SELECT section, stin, trdnm, doc_type, doc_no, doc_date, orig_doc_no, "
            f"orig_doc_date, pos, rcm, inv_typ, {money}, itcavl, rsn, supprd, supfildt, "
            f"rejected_in_ims, line FROM gstr2b_documents WHERE gstin = ? AND rtnprd = ? "
            f"ORDER BY rejected_in_ims, section, line", [gstin, period])
    return found.select(list(ROW_FIELDS)).cast(FRAME_SCHEMA)


def documents_of_periods(con, gstin: str, periods: list[str] | None = None) -> pl.DataFrame:
    """The stored 2B documents of a business (these periods, else every stored one) in the
    flat-row shape plus `period_2b`, the 2B each belongs to (on an open connection)."""
    money = ", ".join(f"CAST(round({m} * 100) AS BIGINT) AS {m}" for m in MONEY)
    where = "AND list_contains(?::VARCHAR[], rtnprd)" if periods else ""
    found = query_frame(
        con, f"SELECT section, stin, trdnm, doc_type, doc_no, doc_date, orig_doc_no, "
        f"orig_doc_date, pos, rcm, inv_typ, {money}, itcavl, rsn, supprd, supfildt, "
        f"rejected_in_ims, line, rtnprd AS period_2b FROM gstr2b_documents WHERE gstin = ? "
        f"{where} ORDER BY rtnprd, rejected_in_ims, section, line",
        [gstin, *([list(periods)] if periods else [])])
    return found.select([*ROW_FIELDS, "period_2b"]).cast({**FRAME_SCHEMA,
                                                          "period_2b": pl.Utf8})


def _late_sql(where: str) -> str:
    """The CTEs `periods` (stored 2Bs of periods not filed) and `records` (their IMS records
    with the action now and how the 2B treats them: `treated`). A record's 2B period is the
    latest stored 2B holding it when one does (core.calendar.record_periods), so how that 2B
    holds it comes with the period (`held_rejected`): no second grouping of the stored
    documents, no join on their six keys."""
    return f"""
        WITH periods AS (
            SELECT g.gstin, g.rtnprd FROM gstr2b_returns g
            LEFT JOIN return_filings f ON f.gstin = g.gstin AND f.ret_period = g.rtnprd
                 AND f.rtntype = 'GSTR3B' AND f.status = 'Filed'
            WHERE f.gstin IS NULL {where}),
        records AS (
            SELECT r.record_id, r.rtin AS gstin, q.period_2b AS rtnprd,
                   CASE r.portal_action WHEN 'R' THEN 'R' WHEN 'P' THEN 'P' ELSE 'A' END AS now,
                   CASE WHEN q.held_rejected THEN 'R' WHEN NOT q.held_rejected THEN 'A'
                        ELSE 'P' END AS treated
            FROM ims_records r JOIN {record_periods(still_listed=True)} q
                 ON q.record_id = r.record_id
            JOIN periods p ON p.gstin = r.rtin AND p.rtnprd = q.period_2b
            WHERE r.removed_at IS NULL AND coalesce(r.srcfilstatus, '') <> 'Not Filed')"""


def late_actions(gstins: list[str] | None = None) -> dict[tuple[str, str], int]:
    """"2B needs regeneration": {(gstin, period): records whose current action disagrees
    with the stored 2B}, for every stored 2B of a period whose GSTR-3B is not filed; 0 where
    they all agree."""
    where = "" if gstins is None else \
        f"AND g.gstin IN ({', '.join('?' for _ in gstins)})"
    sql = f"""{_late_sql(where)}
        SELECT p.gstin, p.rtnprd,
               count(r.gstin) FILTER (WHERE r.now <> r.treated) AS late
        FROM periods p
        LEFT JOIN records r ON r.gstin = p.gstin AND r.rtnprd = p.rtnprd
        GROUP BY p.gstin, p.rtnprd"""
    with connect(read_only=True) as con:
        found = con.execute(sql, list(gstins or [])).fetchall()
    return {(g, p): int(n) for g, p, n in found}


NOW_WORDS = {"A": "accepted now", "N": "no action now (counts as accepted)",
             "R": "rejected now", "P": "kept pending now"}
HELD_WORDS = {"A": "the 2B counts it as accepted", "R": "the 2B holds it as rejected",
              "P": "the 2B does not hold it"}


def late_records(gstin: str, period: str, limit: int = 200) -> list[dict]:
    """The IMS records that make the 2B of `period` need regeneration, the largest value
    first: {record_id, supplier_name, stin, doc_type, doc_no, doc_date, value, why (words)}."""
    sql = f"""{_late_sql("AND g.gstin = ? AND g.rtnprd = ?")}
        SELECT r.record_id, n.supplier_name, i.stin, i.doc_type, i.doc_no, i.doc_date,
               i.val::DOUBLE AS value, coalesce(i.portal_action, 'N') AS action,
               r.treated
        FROM records r
        JOIN ims_records i ON i.record_id = r.record_id
        LEFT JOIN ({NAMES_SQL}) n ON n.rtin = i.rtin AND n.stin = i.stin
        WHERE r.now <> r.treated
        ORDER BY i.val DESC NULLS LAST, r.record_id LIMIT ?"""
    with connect(read_only=True) as con:
        cur = con.execute(sql, [gstin, period, int(limit)])
        names = [d[0] for d in cur.description]
        found = [dict(zip(names, row)) for row in cur.fetchall()]
    for row in found:
        row["why"] = f"{NOW_WORDS[row.pop('action')]}; {HELD_WORDS[row.pop('treated')]}"
    return found
