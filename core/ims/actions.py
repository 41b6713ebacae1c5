"""Saving the user's own IMS actions: grid edits and bulk actions, each with an action_log row.

A user's action (A accept, R reject, P pending, N reset to no action) sits beside the
portal's action until it is uploaded, with the user's ITC-reduction answer (Full, Partial with
amounts, No), the remark to the supplier and the team's internal note (never sent). The
portal's rules are checked before anything is written: no Pending where
`ispendactblocked = Y`, no Reject on import of goods (BOE); the answer and the texts as
docs/reconciliation.md says (core.reco.itc_answer). Everything one call changes is written in one
transaction.

`actor` is a `core.User` (checked: the role must allow "act", else PermissionDenied
before anything is read or written) or a plain string for trusted system callers (tests,
benches, the CLI).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from core.auth import User, require
from core.business import NAMES_SQL
from core.figures import count_words
from core.ims.view import ImsFilter, where_clause
from core.labels import doc_type_words
from core.reco import (
    ANSWER_LABELS,
    FULL,
    HEADS,
    NO,
    PARTIAL,
    REMARK_MAX,
    answer_columns_sql,
    answer_problems,
    effective_answer,
    original_tax_sql,
)
from core.store import connect, replace_temp_table, sent_together, transaction

ACTIONS = {"A": "Accept", "R": "Reject", "P": "Pending", "N": "Reset to no action"}
BULK_ACTIONS = {
    "apply_recommendation": "Apply recommendation",
    "A": "Accept", "R": "Reject", "P": "Pending", "N": "Reset to no action",
    "discard": "Discard my change (not uploaded)",
}
# SQL: why a record cannot take action `t` (NULL when it can)
_BLOCKED = ("CASE WHEN t IS NULL THEN 'it has no recommendation to apply' "
            "WHEN t = 'P' AND ispendactblocked = 'Y' THEN 'the portal does not allow Pending "
            "for this document; accept or reject it' "
            "WHEN t = 'R' AND doc_type = 'BOE' THEN 'import of goods cannot be rejected' END")
SHOWN_LINES = 20   # records named in a result, saved and not saved each
# '<supplier name>, invoice <number>' of each record in `todo` (names: books, else the 2B)
_DOC_WORDS = ("coalesce(nullif(n.supplier_name, ''), CASE WHEN r.stin ~ "
              "'^[0-9]{2}[A-Z0-9]{13}$' THEN 'supplier ' || r.stin ELSE 'import of goods (port ' "
              "|| r.stin || ')' END) || ', ' || CASE r.doc_type WHEN 'INV' THEN 'invoice' "
              "WHEN 'CRN' THEN 'credit note' WHEN 'DBN' THEN 'debit note' WHEN 'BOE' "
              "THEN 'bill of entry' ELSE 'document' END || ' ' || r.doc_no")
_ACTION_WORDS = ("CASE t WHEN 'A' THEN 'accepted' WHEN 'R' THEN 'rejected' WHEN 'P' THEN "
                 "'kept pending' WHEN 'N' THEN 'reset to no action' ELSE 'your change discarded' "
                 "END")


class ActionError(ValueError):
    """An action that cannot be saved; the message names the record and the reason."""


@dataclass
class SaveResult:
    """What a save did. `skipped`: (record_id, why) for the code; `not_saved`: how many were
    refused; `unchanged`: already so; `lines`: records in the user's words (supplier name,
    document number), what was saved and what was not and why."""
    saved: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    not_saved: int = 0
    unchanged: int = 0
    lines: list[str] = field(default_factory=list)
    proposed: int = 0

    def summary(self) -> str:
        """'2 record(s) saved; 1 not saved; 1 already so' (counts in Indian grouping)."""
        parts = [f"{count_words(self.saved)} record(s) saved"]
        if self.not_saved:
            parts.append(f"{count_words(self.not_saved)} not saved")
        if self.unchanged:
            parts.append(f"{count_words(self.unchanged)} already so, nothing to change")
        if self.proposed:
            parts.append(f"{count_words(self.proposed)} proposed: they wait for a second "
                         "person's approval before they can be uploaded")
        return "; ".join(parts)


def acting_as(actor: User | str, permission: str = "act") -> str:
    """The name written to the log for `actor`; a User must hold `permission`."""
    if isinstance(actor, User):
        require(actor, permission)
        return actor.email
    return str(actor)


EDIT_KEYS = ("action", "supplier_remark", "internal_note", "itc",
             *(f"decl_{h}" for h in HEADS))
NOTE_MAX = 1000


def _read_rows(con, gstins: list[str], ids: list[int]) -> dict[int, dict]:
    """The visible records among `ids`, with what an answer is checked against."""
    where, params = where_clause(gstins, ImsFilter(record_ids=tuple(ids)))
    cur = con.execute(f"""SELECT r.record_id, r.doc_no, r.internal_note, r.ispendactblocked,
                                 r.doc_type,
                                 {answer_columns_sql('r')}
                          FROM (SELECT * FROM ims_records WHERE {where}) r
                          {original_tax_sql('r', 'SELECT unnest(?::BIGINT[])')}""",
                      [*params, list(ids)])
    names = [d[0] for d in cur.description]
    return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


def _text(value) -> str | None:
    return None if value is None else (str(value).strip() or None)


def _after(row: dict, change: dict) -> dict:
    """The record's user columns once `change` is applied (keys left out keep their value;
    amounts given without an answer mean Partial, starting from the amounts shown)."""
    new = dict(row)
    if "action" in change:
        new["user_action"] = change["action"]
    for key, column in (("supplier_remark", "user_supplier_remark"),
                        ("internal_note", "internal_note")):
        if key in change:
            new[column] = _text(change[key])
    amounts = {h: change[f"decl_{h}"] for h in HEADS if f"decl_{h}" in change}
    kind = change.get("itc", PARTIAL if amounts else None)
    if "itc" in change or amounts:
        shown_kind, shown, _ = effective_answer(row)
        base = shown if shown_kind == PARTIAL else dict.fromkeys(HEADS)
        decl = {h: amounts.get(h, base[h]) for h in HEADS} if kind == PARTIAL else {}
        new["user_itc_red_req"] = {FULL: "Y", PARTIAL: "Y", NO: "N"}.get(kind, kind)
        for h in HEADS:
            value = decl.get(h)
            new[f"user_decl_{h}"] = None if kind != PARTIAL else _amount(value)
    return new


def _amount(value):
    """A grid amount as the store keeps it (blank = 0 for Partial); text that is no amount is
    kept as it is for the check to name it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Decimal(0)
    try:
        return Decimal(str(value).strip().replace(",", ""))
    except ArithmeticError:
        return value


def _check(rid: int, row: dict, new: dict) -> list[str]:
    """Plain messages for what is wrong with the record's new state."""
    problems = answer_problems(new)
    note = new.get("internal_note") or ""
    if len(note) > NOTE_MAX:
        problems.append(f"the internal note has {len(note)} characters; at most {NOTE_MAX}")
    where = f"{doc_type_words(row.get('doc_type')).lower() or 'document'} {row.get('doc_no')}"
    return [f"{where}: {p}" for p in problems]


def save_user_actions(gstins: list[str], changes: dict[int, dict], actor: User | str) -> SaveResult:
    """Grid edits -> saved in one go. A change may hold "action" (A|R|P|N, None clears it),
    "supplier_remark", "internal_note", "itc" (full|partial|no, None clears the user's answer)
    and "decl_igst" .. "decl_cess" (Partial amounts, rupees). A key left out keeps its stored
    value. The answer and texts are checked first (docs/reconciliation.md): any problem raises
    ActionError naming every record and what is wrong, and nothing is written. Portal rules on
    the action itself skip just that record (SaveResult.skipped).
    """
    actor = acting_as(actor)
    if not changes:
        return SaveResult()
    for rid, change in changes.items():
        if change.get("action") not in (None, *ACTIONS):
            raise ActionError(f"Record {rid}: action '{change.get('action')}' is not one of "
                              f"{', '.join(ACTIONS)}")
        unknown = set(change) - set(EDIT_KEYS)
        if unknown:
            raise ActionError(f"Record {rid}: {', '.join(sorted(unknown))} cannot be edited")
        if change.get("itc") not in (None, *ANSWER_LABELS):
            raise ActionError(f"Record {rid}: ITC to be reduced '{change.get('itc')}' is not "
                              "one of Full, Partial, No")
    with connect() as con, sent_together(con), transaction(con):
        result = write_changes(con, gstins, changes, actor)
    return result


def write_changes(con, gstins: list[str], changes: dict[int, dict], actor: str) -> SaveResult:
    """save_user_actions' work inside the caller's transaction (checked changes; `actor` is
    the name for the log): the sheet import adds its own log rows to the same transaction."""
    found = _read_rows(con, gstins, [int(r) for r in changes])
    after = {rid: _after(found[rid], changes[rid]) for rid in map(int, changes)
             if rid in found}
    problems = [p for rid, new in after.items() for p in _check(rid, found[rid], new)]
    if problems:
        raise ActionError("Not saved: " + "; ".join(problems))
    if not after:
        return SaveResult(skipped=[(int(m), "not found or not visible to you") for m in changes])
    result = _write(con, actor, True, *_edits(after))
    result.skipped += [(int(m), "not found or not visible to you") for m in changes
                       if int(m) not in found]
    return result


def _edits(after: dict[int, dict]) -> tuple[str, list]:
    """The records to change and their new values as one relation in the SQL itself (lists
    bound as parameters and unnested): no table to make, fill and drop, so a save of one record
    is a few statements (on PostgreSQL each one a round trip to the server)."""
    values = {"t": "user_action", "remark": "user_supplier_remark", "note": "internal_note",
              "itc": "user_itc_red_req", **{f"d_{h}": f"user_decl_{h}" for h in HEADS}}
    lists = [list(after)] + [[None if n[c] is None else str(n[c]) for n in after.values()]
                             for c in values.values()]
    given = ", ".join(["unnest(CAST(? AS BIGINT[])) AS record_id"]
                      + [f"unnest(CAST(? AS VARCHAR[])) AS {v}" for v in values])
    typed = ", ".join(["record_id", "t", "remark", "note", "itc"]
                      + [f"CAST(d_{h} AS DECIMAL(18,2)) AS d_{h}" for h in HEADS])
    return (f"""(SELECT r.record_id, r.rtin, r.user_action AS old_action, e.t, {_OLD_NEW},
                        r.ispendactblocked, r.doc_type
                 FROM (SELECT {typed} FROM (SELECT {given}) g) e
                 JOIN ims_records r USING (record_id))""", lists)


def bulk_action(gstins: list[str], f: ImsFilter, bucket: str | None, action: str, actor: User | str,
                remarks: str | None = None) -> SaveResult:
    """Apply one action to every record the filter (and bucket) selects, in one transaction.
    `remarks` (optional) becomes the remark to the supplier where the portal takes one; the
    answers and internal notes stay as they are (the upload checks the answers)."""
    actor = acting_as(actor)
    if action not in BULK_ACTIONS:
        raise ActionError(f"Bulk action '{action}' is not one of {', '.join(BULK_ACTIONS)}")
    remark = _text(remarks)
    if remark and len(remark) > REMARK_MAX:
        raise ActionError(f"The remark to the supplier has {len(remark)} characters; "
                          f"at most {REMARK_MAX} are allowed")
    target = {"apply_recommendation": "recommended_action", "discard": "NULL"}.get(action, "?")
    target_params = [action] if target == "?" else []
    where, params = where_clause(gstins, f, bucket)
    with connect() as con, transaction(con):
        replace_temp_table(con, "bulk_todo", f"""
            SELECT record_id, rtin, user_action AS old_action, {target}::VARCHAR AS t,
                   {_OLD_NEW}, ispendactblocked, doc_type
            FROM (SELECT *, CASE WHEN coalesce(is_remarks_blocked, 'N') <> 'Y'
                                 THEN coalesce(?, user_supplier_remark)
                                 ELSE user_supplier_remark END AS remark,
                         internal_note AS note, user_itc_red_req AS itc,
                         {', '.join(f"user_decl_{h} AS d_{h}" for h in HEADS)}
                  FROM ims_records WHERE {where}) r""", target_params + [remark] + params)
        result = _write(con, actor, action == "discard", "bulk_todo", [])
        con.execute("DROP TABLE bulk_todo")
    return result


# old and new values of what a save may change besides the action: `r` = the stored record,
# `remark`, `note`, `itc`, `d_igst` .. `d_cess` = the new values (from the edits or `r`).
_CHANGED = {"remark": "user_supplier_remark", "note": "internal_note", "itc": "user_itc_red_req",
            **{f"d_{h}": f"user_decl_{h}" for h in HEADS}}
_OLD_NEW = ", ".join(f"r.{col} AS old_{new}, {new} AS new_{new}" for new, col in _CHANGED.items())
_SAME = " AND ".join(f"new_{n} IS NOT DISTINCT FROM old_{n}" for n in _CHANGED)
_ANSWER_WORDS = ("CASE WHEN new_itc = 'N' THEN 'No' WHEN new_itc IS NULL THEN 'as proposed' "
                 "WHEN coalesce(" + ", ".join(f"new_d_{h}" for h in HEADS) + ") IS NULL "
                 "THEN 'Full' ELSE 'Partial' END")
_LOG_NOTE = f"""concat_ws('; ',
    CASE WHEN new_remark IS DISTINCT FROM old_remark
         THEN 'remark to supplier: ' || coalesce(new_remark, '(none)') END,
    CASE WHEN NOT ({' AND '.join(f"new_{n} IS NOT DISTINCT FROM old_{n}"
                                 for n in ('itc', *(f'd_{h}' for h in HEADS)))})
         THEN 'ITC to be reduced: ' || {_ANSWER_WORDS} END,
    CASE WHEN new_note IS DISTINCT FROM old_note THEN 'internal note changed' END)"""


def _write(con, actor: str, allow_null: bool, source: str, params: list) -> SaveResult:
    """Apply the relation `source` (with its `params`: record_id, rtin, old_action, t = the
    new action, old_/new_ remark, note, itc, d_igst .. d_cess, ispendactblocked, doc_type) with
    log rows: one statement reads what will happen (in words too), then the log rows, the
    proposals (only when a business asks for approval) and the records are written. Each
    statement reads `source` again, so the records are updated last."""
    blocked = _BLOCKED
    if allow_null:
        blocked = _BLOCKED.replace("WHEN t IS NULL THEN 'it has no recommendation to apply' ",
                                   "")
    todo = f"""(SELECT *, problem IS NULL AND t IS NOT DISTINCT FROM old_action AND {_SAME}
                       AS same, ({_MINE}) AS mine
                FROM (SELECT *, {blocked} AS problem FROM {source} s) p) todo"""
    kinds = {kind: rest for kind, *rest in _outcome(con, todo, params)}
    _, n_skipped, skipped_ids, skipped_why, _, _ = kinds.get(1, _NO_RECORDS)
    lines = []
    for kind in sorted(kinds):
        lines += kinds[kind][0]
        if kinds[kind][1] > len(kinds[kind][0]):
            lines.append(f"... and {count_words(kinds[kind][1] - len(kinds[kind][0]))} "
                         "more like these")
    _, saved, _, _, mine, proposed = kinds.get(2, _NO_RECORDS)
    n_same = kinds.get(3, _NO_RECORDS)[1]
    saving = f"{todo} WHERE todo.problem IS NULL AND NOT todo.same"
    if saved:
        con.execute(f"""
            INSERT INTO action_log (actor, rtin, record_id, kind, old_value, new_value, note)
            SELECT ?, rtin, record_id, 'user_action', old_action, t, nullif({_LOG_NOTE}, '')
            FROM {saving}""", [actor, *params])
    if mine:
        _propose(con, actor, f"{saving} AND todo.mine", params)
    if saved:
        sets = ", ".join(f"{col} = todo.new_{new}" for new, col in _CHANGED.items())
        con.execute(f"""UPDATE ims_records SET user_action = todo.t, {sets},
                           user_action_by = ?, user_action_at = current_timestamp
                       FROM {saving} AND ims_records.record_id = todo.record_id""",
                    [actor, *params])
    result = SaveResult(saved=saved, skipped=list(zip(skipped_ids, skipped_why)),
                        not_saved=n_skipped, unchanged=n_same, lines=lines, proposed=proposed)
    if n_skipped > len(skipped_ids):
        result.skipped.append((-1, f"... and {n_skipped - len(skipped_ids)} more"))
    return result


# what an approver approves: the action, the answer and the remark (a note is never sent)
_SENT_CHANGED = " OR ".join(["t IS DISTINCT FROM old_action"] + [
    f"new_{n} IS DISTINCT FROM old_{n}" for n in _CHANGED if n != "note"])
APPROVAL_ON = "SELECT gstin FROM businesses WHERE coalesce(approval_required, FALSE)"
# a change of a business that asks for approval: a proposal (an action cleared: none)
_MINE = f"rtin IN ({APPROVAL_ON}) AND ({_SENT_CHANGED})"
SKIPPED_LISTED = 1000
# a kind of `_outcome` no record has: no lines, none, no ids or reasons, none mine or proposed
_NO_RECORDS = ([], 0, [], [], 0, 0)


def _outcome(con, todo: str, params: list) -> list[tuple]:
    """What a save will do, per kind (1 not saved, 2 saved, 3 already so): the first
    SHOWN_LINES records in words ('Not saved: Narmada Cartons, invoice 002799: the portal does
    not allow Pending ...'), how many, the first SKIPPED_LISTED not saved (ids, reasons), and of
    the saved how many are changes of a business that asks for approval, and proposals."""
    return con.execute(f"""
        WITH d AS (
            SELECT todo.record_id, todo.problem, todo.same, todo.mine, todo.t,
                   {_DOC_WORDS} AS doc, {_ACTION_WORDS} AS did
            FROM {todo} JOIN ims_records r USING (record_id)
            LEFT JOIN ({NAMES_SQL}) n ON n.rtin = r.rtin AND n.stin = r.stin),
        lines AS (
            SELECT record_id, problem, mine, t,
                   CASE WHEN problem IS NOT NULL THEN 1 WHEN same THEN 3 ELSE 2 END AS kind,
                   CASE WHEN problem IS NOT NULL THEN 'Not saved: ' || doc || ': ' || problem
                        WHEN same THEN 'Already so: ' || doc || ' (nothing to change)'
                        ELSE 'Saved: ' || doc || ', ' || did END AS line FROM d)
        SELECT kind, (array_agg(line ORDER BY record_id))[1:{SHOWN_LINES}], count(*),
               (array_agg(record_id ORDER BY record_id))[1:{SKIPPED_LISTED}],
               (array_agg(problem ORDER BY record_id))[1:{SKIPPED_LISTED}],
               count(*) FILTER (WHERE mine), count(*) FILTER (WHERE mine AND t IS NOT NULL)
        FROM lines GROUP BY kind ORDER BY kind""", params).fetchall()


def _propose(con, actor: str, mine: str, params: list) -> None:
    """The saved changes `mine` (a relation and its condition) of a business that asks for
    approval become proposals (an approved or returned one too: a change is a new proposal);
    an action cleared leaves nothing to approve. Logged ('proposed')."""
    con.execute(f"""INSERT INTO action_log (actor, rtin, record_id, kind, old_value, new_value,
                                            note)
                    SELECT ?, rtin, record_id, 'proposed', old_action, t,
                           'waiting for a second person to approve it'
                    FROM {mine} AND todo.t IS NOT NULL""", [actor, *params])
    con.execute(f"""UPDATE ims_records SET
            approval_state = CASE WHEN todo.t IS NULL THEN NULL ELSE 'proposed' END,
            approval_by = NULL, approval_at = NULL, approval_comment = NULL
        FROM {mine} AND ims_records.record_id = todo.record_id""", params)


def record_words(gstins: list[str], ids: list[int]) -> dict[int, str]:
    """{record id: 'Narmada Cartons Corporation, invoice 002799'} for messages about records."""
    if not ids:
        return {}
    where, params = where_clause(gstins, ImsFilter(record_ids=tuple(int(i) for i in ids)))
    with connect(read_only=True) as con:
        return dict(con.execute(f"""
            SELECT r.record_id, {_DOC_WORDS} FROM (SELECT * FROM ims_records WHERE {where}) r
            LEFT JOIN ({NAMES_SQL}) n ON n.rtin = r.rtin AND n.stin = r.stin""",
                                params).fetchall())
