"""Follow-up cases with suppliers (docs/suppliers.md, "Cases"): open -> sent -> replied ->
resolved, or dropped with a reason; a due date, notes, the records it asks to fix. A later fetch
or sync that shows a record fixed marks it so on the case (`review_cases`, run by the worker
after each sync), and a case whose records are all fixed is resolved by itself. Every write
is one transaction and goes into the action log.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from core.clock import utc_now
from core.figures import count_words, rupees
from core.matched import agrees
from core.store import connect, get_setting, put_setting, query_frame, transaction
from core.timefmt import shown_time

STATES = {"open": "Open", "sent": "Sent to the supplier", "replied": "Supplier replied",
          "resolved": "Resolved", "dropped": "Dropped"}
OPEN_STATES = ("open", "sent", "replied")
MOVES = {"open": {"sent", "replied", "resolved", "dropped"},
         "sent": {"replied", "resolved", "dropped", "sent"},
         "replied": {"sent", "resolved", "dropped"}}
REMINDER_SETTING = "supplier_reminder_days"
DEFAULT_REMINDER_DAYS = 7
DUE_DAYS = 15
ITEM_COLUMNS = {"item_key": pl.Utf8, "kind": pl.Utf8, "ret_period": pl.Utf8,
                "record_id": pl.Int64, "doc_type": pl.Utf8, "doc_no": pl.Utf8,
                "doc_no_key": pl.Utf8, "fy": pl.Utf8, "doc_date": pl.Date, "itc": pl.Float64,
                "to_fix": pl.Utf8}
SELF_RESOLVED = "resolved by itself: a later fetch showed every record fixed"


class CaseError(ValueError):
    """A case change that cannot be made; the message says why."""


def reminder_days() -> int:
    """Days a sent case waits for a reply before its reminder (the setting, default 7; 0:
    reminders are off)."""
    with connect(read_only=True) as con:
        value = get_setting(con, REMINDER_SETTING)
    if value is None or str(value).strip() == "":
        return DEFAULT_REMINDER_DAYS
    try:
        return max(0, int(value))
    except ValueError:
        return DEFAULT_REMINDER_DAYS


def save_reminder_days(days: int, actor: str) -> int:
    """Keep the reminder setting (1 to 90 days, or 0: no reminders), logged."""
    days = int(days)
    if not 0 <= days <= 90:
        raise CaseError(f"Reminders after {days} days: give 1 to 90 days, or 0 for none")
    words = f"reminders after {days} days" if days else "no reminders"
    with connect() as con, transaction(con):
        put_setting(con, REMINDER_SETTING, str(days))
        con.execute("INSERT INTO action_log (logged_at, actor, rtin, record_id, kind, old_value, "
                    "new_value, note) VALUES (?, ?, NULL, NULL, 'supplier_case', NULL, "
                    "'setting', ?)", [utc_now(), actor, words])
    return days


def _log(con, actor: str, rtin: str, record_id, what: str, note: str) -> None:
    con.execute("INSERT INTO action_log (logged_at, actor, rtin, record_id, kind, old_value, "
                "new_value, note) VALUES (?, ?, ?, ?, 'supplier_case', NULL, ?, ?)",
                [utc_now(), actor, rtin, record_id, what, note])


def check_allowed(gstin: str, allowed: list[str] | None) -> None:
    """CaseError unless `gstin` is among the businesses the user may see (None: all)."""
    if allowed is not None and gstin not in allowed:
        raise CaseError(f"{gstin} is not among the businesses you may see")


def open_case(gstin: str, stin: str, items: pl.DataFrame, actor: str,
              due_on: dt.date | None = None, notes: str = "",
              allowed: list[str] | None = None) -> int:
    """A case with supplier `stin` of `gstin` for these worklist items (an open case of the
    supplier takes the new items instead) -> its id."""
    check_allowed(gstin, allowed)
    if "stin" in items.columns:
        items = items.filter(pl.col("stin") == stin)
    if items.is_empty():
        raise CaseError(f"Nothing to follow up with {stin}: no open items")
    now = utc_now()
    with connect() as con, transaction(con):
        held = con.execute("SELECT case_id FROM supplier_cases WHERE rtin = ? AND stin = ? "
                           "AND state IN ('open', 'sent', 'replied') ORDER BY case_id",
                           [gstin, stin]).fetchall()
        if held:
            case_id = held[0][0]
        else:
            case_id = con.execute(
                "INSERT INTO supplier_cases (rtin, stin, state, due_on, notes, opened_by, "
                "opened_at, updated_at) VALUES (?, ?, 'open', ?, ?, ?, ?, ?) RETURNING case_id",
                [gstin, stin, due_on or (now.date() + dt.timedelta(days=DUE_DAYS)),
                 notes or None, actor, now, now]).fetchall()[0][0]
            _log(con, actor, gstin, None, "opened", f"case {case_id} with {stin} opened")
        have = {k for (k,) in con.execute("SELECT item_key FROM supplier_case_items "
                                          "WHERE case_id = ?", [case_id]).fetchall()}
        new = items.filter(~pl.col("item_key").is_in(list(have))).unique(
            "item_key", keep="first", maintain_order=True).select(
            pl.col(c).cast(t) for c, t in ITEM_COLUMNS.items())
        if new.height:
            con.register("case_new_items", new)
            con.execute(f"INSERT INTO supplier_case_items (case_id, {', '.join(ITEM_COLUMNS)}) "
                        f"SELECT ?, {', '.join(ITEM_COLUMNS)} FROM case_new_items", [case_id])
            con.unregister("case_new_items")
            _log(con, actor, gstin, None, "items",
                 f"case {case_id}: {new.height} records linked")
    return case_id


def move_case(case_id: int, state: str, actor: str, note: str = "",
              allowed: list[str] | None = None) -> None:
    """sent, replied, resolved, or dropped (a reason needed); `allowed`: the GSTINs the actor
    may see (None: all)."""
    if state not in STATES:
        raise CaseError(f"'{state}' is not a case state")
    if state == "dropped" and not note.strip():
        raise CaseError("Say why the case is dropped")
    now = utc_now()
    with connect() as con, transaction(con):
        row = _case_row(con, case_id, allowed)
        if state not in MOVES.get(row["state"], set()):
            raise CaseError(f"A case that is {STATES[row['state']].lower()} cannot become "
                            f"{STATES[state].lower()}")
        closing = state in ("resolved", "dropped")
        con.execute(
            "UPDATE supplier_cases SET state = ?, updated_at = ?, "
            "sent_at = CASE WHEN ? THEN ? ELSE sent_at END, "
            "reminded_at = CASE WHEN ? AND sent_at IS NOT NULL THEN ? ELSE reminded_at END, "
            "drop_reason = CASE WHEN ? THEN ? ELSE drop_reason END, "
            "closed_at = CASE WHEN ? THEN ? ELSE closed_at END, "
            "closed_note = CASE WHEN ? THEN ? ELSE closed_note END WHERE case_id = ?",
            [state, now, state == "sent" and row["sent_at"] is None, now,
             state == "sent", now, state == "dropped", note or None,
             closing, now, closing, (note or "closed by hand") if closing else None, case_id])
        _log(con, actor, row["rtin"], None, state,
             f"case {case_id} with {row['stin']}: {STATES[state].lower()}"
             + (f" ({note})" if note else ""))


def note_case(case_id: int, text: str, actor: str, due_on: dt.date | None = None,
              allowed: list[str] | None = None) -> None:
    """Add a note (kept with who and when) and/or change the due date."""
    now = utc_now()
    with connect() as con, transaction(con):
        row = _case_row(con, case_id, allowed)
        notes = row["notes"] or ""
        if text.strip():
            notes = (notes + "\n" if notes else "") + f"{shown_time(now)}, {actor}: " \
                                                      f"{text.strip()}"
        con.execute("UPDATE supplier_cases SET notes = ?, due_on = coalesce(?, due_on), "
                    "updated_at = ? WHERE case_id = ?", [notes or None, due_on, now, case_id])
        _log(con, actor, row["rtin"], None, "note", f"case {case_id}: note or due date changed")


def _case_row(con, case_id: int, allowed: list[str] | None) -> dict:
    cur = con.execute("SELECT * FROM supplier_cases WHERE case_id = ?", [case_id])
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if not rows or (allowed is not None and rows[0][names.index("rtin")] not in allowed):
        raise CaseError(f"No case {case_id} among the businesses you may see")
    return dict(zip(names, rows[0]))


def cases_of(gstins: list[str], states: tuple = OPEN_STATES) -> pl.DataFrame:
    if not gstins:
        return pl.DataFrame()
    g_marks, s_marks = ", ".join("?" for _ in gstins), ", ".join("?" for _ in states)
    with connect(read_only=True) as con:
        return query_frame(con, f"""
            SELECT c.case_id, c.rtin, c.stin, c.state, c.due_on, c.notes, c.drop_reason,
                   c.opened_by, c.opened_at, c.sent_at, c.reminded_at, c.closed_at,
                   c.closed_note,
                   (SELECT count(*) FROM supplier_case_items i WHERE i.case_id = c.case_id)
                       AS items,
                   (SELECT count(*) FROM supplier_case_items i WHERE i.case_id = c.case_id
                      AND i.fixed_at IS NOT NULL) AS fixed,
                   (SELECT sum(i.itc) FROM supplier_case_items i WHERE i.case_id = c.case_id
                      AND i.fixed_at IS NULL) AS itc_open
            FROM supplier_cases c WHERE c.rtin IN ({g_marks}) AND c.state IN ({s_marks})
            ORDER BY c.case_id DESC""", [*gstins, *states])


def case_items(case_id: int) -> pl.DataFrame:
    with connect(read_only=True) as con:
        return query_frame(con, """
            SELECT item_key, kind, ret_period, record_id, doc_type, doc_no, doc_date, itc,
                   to_fix, fixed_at, fixed_note
            FROM supplier_case_items WHERE case_id = ? ORDER BY itc DESC, doc_no""", [case_id])


def reminders_due(gstins: list[str], now: dt.datetime | None = None) -> pl.DataFrame:
    """Sent cases with no reply for the reminder setting's days since the last send (none
    while reminders are off)."""
    return _due(cases_of(gstins, ("sent",)), reminder_days(), now)


def _due(cases: pl.DataFrame, days: int, now: dt.datetime | None) -> pl.DataFrame:
    """The sent ones of `cases` with no reply for `days` since the last send (none for 0)."""
    if cases.is_empty() or not days:
        return cases.clear()
    limit = (now or utc_now()) - dt.timedelta(days=days)
    return cases.filter((pl.col("state") == "sent")
                        & (pl.coalesce("reminded_at", "sent_at") <= limit))



def follow_up_lines(gstins: list[str], today: dt.date,
                    now: dt.datetime | None = None) -> dict[str, list[str]]:
    """{gstin: lines} for the daily digest: open cases past their due date, cases the
    supplier answered that nobody has checked yet, and sent cases due a reminder."""
    cases = cases_of(gstins)
    if cases.is_empty():
        return {}
    days = reminder_days()
    due = _due(cases, days, now)["case_id"]
    out: dict[str, list[str]] = {}
    for gstin in gstins:
        mine = cases.filter(pl.col("rtin") == gstin)
        late = mine.filter(pl.col("due_on").is_not_null() & (pl.col("due_on") < today))
        replied = mine.filter(pl.col("state") == "replied")
        waiting = mine.filter(pl.col("case_id").is_in(due.implode()))
        lines = []
        if late.height:
            lines.append(f"{count_words(late.height)} case(s) past their due date, ITC "
                         f"{rupees(late['itc_open'].fill_null(0).sum())} still open")
        if replied.height:
            lines.append(f"{count_words(replied.height)} case(s) answered by the supplier, "
                         "waiting for someone to check the records")
        if waiting.height:
            lines.append(f"{count_words(waiting.height)} case(s) sent with no reply for "
                         f"{days} days or more: the worker mails a reminder after its sync")
        if lines:
            out[gstin] = lines
    return out

# ---------------------------------------------------------------- what a later fetch shows


def _fixed_words(kind: str, state: dict) -> str | None:
    """Why an item counts as fixed now, in words, or None while it does not."""
    if kind == "not_filed":
        if state.get("srcfilstatus") == "Filed" and state.get("present"):
            return "the supplier filed it: the portal now shows it filed"
    elif kind in ("mismatch", "original_values"):
        if state.get("present") and agrees(state.get("match_status"), state.get("reasons")):
            return ("the supplier amended it to the books' values" if state.get("amended")
                    else "it agrees with the books now (the books were corrected)")
    elif kind == "missing_on_portal":
        if agrees(state.get("match_status"), state.get("reasons")):
            return "the document appeared on the portal and matches the books"
    elif kind == "credit_note_awaited" and state.get("present"):
        return "the credit note appeared on the portal"
    return None


def review_cases(gstin: str, actor: str = "worker") -> dict:
    """Mark the records of `gstin`'s open cases that the store now shows fixed, and resolve
    the cases whose records are all fixed -> {fixed, resolved}."""
    with connect(read_only=True) as con:
        items = query_frame(con, """
            SELECT c.case_id, c.stin, c.opened_at, i.item_key, i.kind, i.record_id,
                   i.doc_type, i.doc_no_key, i.fy
            FROM supplier_case_items i JOIN supplier_cases c ON c.case_id = i.case_id
            WHERE c.rtin = ? AND c.state IN ('open', 'sent', 'replied')
              AND i.fixed_at IS NULL""", [gstin])
        if items.is_empty():
            return {"fixed": 0, "resolved": 0}
        records = {row[0]: row for row in con.execute("""
            SELECT record_id, srcfilstatus, match_status, changed_at, reasons,
                   removed_at IS NULL AND left_ims_at IS NULL
            FROM ims_records WHERE rtin = ?""", [gstin]).fetchall()}
        # books documents now carried by a portal record: (stin, doc_type, doc_no_key, fy) ->
        # (match status, reasons), one that agrees with the books kept over one that does not
        carried: dict[tuple, tuple] = {}
        for stin, doc_type, key, fy, status, reasons in con.execute("""
                SELECT p.stin, p.doc_type, p.doc_no_key, p.fy, r.match_status, r.reasons
                FROM ims_records r JOIN current_purchase_docs p ON p.doc_id = r.counterpart_doc_id
                WHERE r.rtin = ? AND r.removed_at IS NULL""", [gstin]).fetchall():
            if not agrees(*carried.get((stin, doc_type, key, fy), (None, None))):
                carried[(stin, doc_type, key, fy)] = (status, reasons)
        portal_docs = {(s, t, k, f) for s, t, k, f in con.execute("""
                SELECT stin, doc_type, doc_no_key, fy FROM ims_records
                WHERE rtin = ? AND removed_at IS NULL""", [gstin]).fetchall()}
    found = []
    for it in items.iter_rows(named=True):
        if it["record_id"] is not None:
            rec = records.get(it["record_id"])
            state = {} if rec is None else {
                "srcfilstatus": rec[1], "match_status": rec[2], "reasons": rec[4],
                "present": rec[5],
                "amended": rec[3] is not None and rec[3] > it["opened_at"]}
        else:
            doc = (it["stin"], it["doc_type"], it["doc_no_key"], it["fy"])
            status, reasons = carried.get(doc, (None, None))
            state = {"match_status": status, "reasons": reasons, "present": doc in portal_docs
                     or doc in carried}
        if words := _fixed_words(it["kind"], state):
            found.append((it["case_id"], it["item_key"], it["record_id"], words))
    if not found:
        return {"fixed": 0, "resolved": 0}
    now = utc_now()
    resolved = 0
    fixed = pl.DataFrame(found, schema={"case_id": pl.Int64, "item_key": pl.Utf8,
                                        "record_id": pl.Int64, "words": pl.Utf8}, orient="row")
    with connect() as con, transaction(con):
        con.register("case_fixed", fixed)
        con.execute("UPDATE supplier_case_items SET fixed_at = ?, fixed_note = f.words "
                    "FROM case_fixed f WHERE supplier_case_items.case_id = f.case_id "
                    "AND supplier_case_items.item_key = f.item_key "
                    "AND supplier_case_items.fixed_at IS NULL", [now])
        con.execute("INSERT INTO action_log (logged_at, actor, rtin, record_id, kind, old_value, "
                    "new_value, note) SELECT ?, ?, ?, record_id, 'supplier_case', NULL, 'fixed', "
                    "'case ' || CAST(case_id AS VARCHAR) || ': ' || words FROM case_fixed",
                    [now, actor, gstin])
        con.unregister("case_fixed")
        for case_id in sorted({f[0] for f in found}):
            left = con.execute("SELECT count(*) FROM supplier_case_items WHERE case_id = ? "
                               "AND fixed_at IS NULL", [case_id]).fetchall()[0][0]
            if left == 0:
                con.execute("UPDATE supplier_cases SET state = 'resolved', closed_at = ?, "
                            "updated_at = ?, closed_note = ? WHERE case_id = ?",
                            [now, now, SELF_RESOLVED, case_id])
                _log(con, actor, gstin, None, "resolved",
                     f"case {case_id}: resolved by itself, every record fixed")
                resolved += 1
    return {"fixed": len(found), "resolved": resolved}
