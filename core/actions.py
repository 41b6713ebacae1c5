"""Saving the user's own IMS actions: grid edits and bulk actions, each with an action_log row.

A user's action (A accept, R reject, P pending, N reset to no action) sits beside the
portal's action until it is uploaded. The portal's rules are checked before anything is
written: no Pending where `ispendactblocked = Y`, no Reject on import of goods (BOE).
Everything one call changes is written in one transaction.

`actor` is a `core.User` (checked: the role must allow "act", else PermissionDenied
before anything is read or written) or a plain string for trusted system callers (tests,
benches, the CLI).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.db import connect, transaction
from core.ims_view import ImsFilter, where_clause
from core.roles import User, require

ACTIONS = {"A": "Accept", "R": "Reject", "P": "Pending", "N": "Reset to no action"}
BULK_ACTIONS = {
    "apply_recommendation": "Apply recommendation",
    "A": "Accept", "R": "Reject", "P": "Pending", "N": "Reset to no action",
    "discard": "Discard my change (not uploaded)",
}
# SQL: why a record cannot take action `t` (NULL when it can)
_BLOCKED = ("CASE WHEN t IS NULL THEN 'no recommendation' "
            "WHEN t = 'P' AND ispendactblocked = 'Y' THEN 'Pending not allowed "
            "(ispendactblocked=Y)' "
            "WHEN t = 'R' AND doc_type = 'BOE' THEN 'Import of goods cannot be rejected' END")


class ActionError(ValueError):
    """An action that cannot be saved; the message names the record and the reason."""


@dataclass
class SaveResult:
    saved: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)


def acting_as(actor: User | str, permission: str = "act") -> str:
    """The name written to the log for `actor`; a User must hold `permission`."""
    if isinstance(actor, User):
        require(actor, permission)
        return actor.email
    return str(actor)


def save_user_actions(gstins: list[str], changes: dict[int, dict], actor: User | str) -> SaveResult:
    """Grid edits: {record_id: {"action": A|R|P|N|None, "remarks": str}} -> saved in one go.

    A key left out of a change keeps its stored value; action None clears the user's action.
    """
    actor = acting_as(actor)
    if not changes:
        return SaveResult()
    for rid, change in changes.items():
        if change.get("action") not in (None, *ACTIONS):
            raise ActionError(f"Record {rid}: action '{change.get('action')}' is not one of "
                              f"{', '.join(ACTIONS)}")
    rows = [(int(rid), "action" in c, c.get("action"), "remarks" in c, c.get("remarks"))
            for rid, c in changes.items()]
    where, params = where_clause(gstins, ImsFilter())
    with connect() as con, transaction(con):
        con.execute("CREATE TEMP TABLE edits (record_id BIGINT, has_action BOOLEAN, action "
                    "VARCHAR, has_remarks BOOLEAN, remarks VARCHAR)")
        con.executemany("INSERT INTO edits VALUES (?, ?, ?, ?, ?)", rows)
        con.execute(f"""CREATE TEMP TABLE todo AS
            SELECT r.record_id, r.rtin, r.user_action AS old_action, r.user_remarks AS old_remarks,
                   CASE WHEN e.has_action THEN e.action ELSE r.user_action END AS t,
                   CASE WHEN e.has_remarks THEN nullif(trim(e.remarks), '') ELSE r.user_remarks END
                       AS new_remarks, r.ispendactblocked, r.doc_type
            FROM edits e JOIN (SELECT * FROM ims_records WHERE {where}) r USING (record_id)""",
                    params)
        missing = con.execute("SELECT record_id FROM edits ANTI JOIN todo USING (record_id)"
                              ).fetchall()
        result = _write(con, actor, allow_null=True)
        result.skipped += [(m[0], "not found or not visible to you") for m in missing]
        con.execute("DROP TABLE edits")
        con.execute("DROP TABLE todo")
    return result


def bulk_action(gstins: list[str], f: ImsFilter, bucket: str | None, action: str, actor: User | str,
                remarks: str | None = None) -> SaveResult:
    """Apply one action to every record the filter (and bucket) selects, in one transaction."""
    actor = acting_as(actor)
    if action not in BULK_ACTIONS:
        raise ActionError(f"Bulk action '{action}' is not one of {', '.join(BULK_ACTIONS)}")
    target = {"apply_recommendation": "recommended_action", "discard": "NULL"}.get(action, "?")
    target_params = [action] if target == "?" else []
    where, params = where_clause(gstins, f, bucket)
    with connect() as con, transaction(con):
        con.execute(f"""CREATE TEMP TABLE todo AS
            SELECT record_id, rtin, user_action AS old_action, user_remarks AS old_remarks,
                   {target}::VARCHAR AS t, coalesce(?, user_remarks) AS new_remarks,
                   ispendactblocked, doc_type
            FROM ims_records WHERE {where}""", target_params + [remarks] + params)
        result = _write(con, actor, allow_null=action == "discard")
        con.execute("DROP TABLE todo")
    return result


def _write(con, actor: str, allow_null: bool) -> SaveResult:
    """Apply temp table `todo` (record_id, t = new action, new_remarks) with log rows."""
    blocked = _BLOCKED
    if allow_null:
        blocked = _BLOCKED.replace("WHEN t IS NULL THEN 'no recommendation' ", "")
    con.execute("ALTER TABLE todo ADD COLUMN problem VARCHAR")
    con.execute(f"UPDATE todo SET problem = {blocked}")
    skipped = con.execute("SELECT record_id, problem FROM todo WHERE problem IS NOT NULL "
                          "ORDER BY record_id LIMIT 1000").fetchall()
    n_skipped = con.execute("SELECT count(*) FROM todo WHERE problem IS NOT NULL").fetchone()[0]
    con.execute("DELETE FROM todo WHERE problem IS NOT NULL OR "
                "(t IS NOT DISTINCT FROM old_action AND new_remarks IS NOT DISTINCT FROM "
                "old_remarks)")
    con.execute("""
        INSERT INTO action_log (actor, rtin, record_id, kind, old_value, new_value, note)
        SELECT ?, rtin, record_id, 'user_action', old_action, t, new_remarks FROM todo""",
                [actor])
    con.execute("""UPDATE ims_records SET user_action = todo.t, user_remarks = todo.new_remarks,
                       user_action_by = ?, user_action_at = current_timestamp
                   FROM todo WHERE ims_records.record_id = todo.record_id""", [actor])
    saved = con.execute("SELECT count(*) FROM todo").fetchone()[0]
    result = SaveResult(saved=saved, skipped=list(skipped))
    if n_skipped > len(skipped):
        result.skipped.append((-1, f"... and {n_skipped - len(skipped)} more"))
    return result
