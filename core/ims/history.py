"""A record's history as people read it: every entry of the action log for it, oldest first, in
words (who, when, what, before, after); and the history of a business's records of a period as
an audit workbook. The store keeps the log after the portal has purged the records, so both
still answer then (docs/interfaces.md, "Record history")."""
from __future__ import annotations

import polars as pl

from core.export import to_excel_bytes
from core.labels import action_words, doc_type_words, reasons_words, status_words
from core.periods import is_period
from core.store import connect, query_frame
from core.timefmt import shown_time

KINDS = {
    "user_action": "Action saved by a person",
    "recommendation": "Recommendation changed",
    "upload": "Sent to the portal / the portal's answer",
    "supplier_edit": "Changed by the supplier on the portal",
    "removed": "No longer on the portal",
    "filed": "Left IMS with the filed GSTR-3B",
    "proposed": "Proposed for approval",
    "approved": "Approved for upload",
    "returned": "Returned to its author",
    "sheet_import": "Imported from a sheet",
    "manual_link": "Matched by hand",
    "unlink": "Pair broken by hand",
    "override_undone": "Decision by hand undone",
    "override_review": "Decision by hand needs review (something changed)",
    "override_confirmed": "Decision by hand confirmed after a change",
    "override_dropped": "Decision by hand dropped after a change",
}
WHO = {"worker": "the scheduled worker", "cli": "an operator (command line)",
       "supplier": "the supplier"}
COLUMNS = ("When", "Who", "What", "Before", "After", "Details")
SQL = """
    SELECT l.logged_at, l.actor, l.kind, l.old_value, l.new_value, l.note, l.record_id,
           r.stin, r.doc_type, r.doc_no, r.rtnprd
    FROM action_log l JOIN ims_records r USING (record_id)
    WHERE {where} AND list_contains(?, r.rtin)
    ORDER BY l.logged_at, l.log_id"""


def _details(kind: str, note: str | None) -> str:
    """The log's note in words: a recommendation's 'status: REASON;REASON' as statuses and
    reasons people read."""
    if kind != "recommendation" or not note:
        return note or ""
    status, _, reasons = note.partition(": ")
    said = status_words(status)
    return f"{said}: {reasons_words(reasons)}" if reasons else said


def in_words(log: pl.DataFrame, with_document: bool = False) -> pl.DataFrame:
    """Rows of the log (SQL's columns) as a table in words, formatted outside Polars."""
    rows = []
    for r in log.iter_rows(named=True):
        row = {"When": shown_time(r["logged_at"]), "Who": WHO.get(r["actor"], r["actor"]),
               "What": KINDS.get(r["kind"], r["kind"].replace("_", " ").capitalize()),
               "Before": action_words(r["old_value"], ""),
               "After": action_words(r["new_value"], ""),
               "Details": _details(r["kind"], r["note"])}
        if with_document:
            row = {"Supplier GSTIN": r["stin"],
                   "Document": f"{doc_type_words(r['doc_type'])} {r['doc_no']}".strip(), **row}
        rows.append(row)
    columns = (("Supplier GSTIN", "Document") if with_document else ()) + COLUMNS
    return pl.DataFrame(rows, schema={c: pl.Utf8 for c in columns})


def record_history(gstins: list[str], record_id: int) -> pl.DataFrame:
    """The history of one record the user may see (empty for any other)."""
    with connect(read_only=True) as con:
        log = query_frame(con, SQL.format(where="l.record_id = ?"), [record_id, gstins])
    return in_words(log)


def period_history(gstin: str, period: str) -> pl.DataFrame:
    """The history of every record of a business and return period (MMYYYY), in words."""
    if not is_period(period):
        raise ValueError(f"'{period}' is not a return period (MMYYYY, e.g. 102025)")
    with connect(read_only=True) as con:
        log = query_frame(con, SQL.format(where="r.rtnprd = ?"), [period, [gstin]])
    return in_words(log, with_document=True)


def history_workbook(gstin: str, period: str) -> bytes:
    """The audit download: one row per event of the business's records of the period."""
    return to_excel_bytes(period_history(gstin, period), sheet_name="History")
