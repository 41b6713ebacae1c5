"""Approval before upload (docs/approval.md): a business may ask that a second person approve
its IMS actions before they go to the portal.

While a business asks for it, every saved change of an action, an ITC-reduction answer or a
remark to the supplier is a proposal (core/ims/actions.py marks it); an approver (the
permission `approve` for that GSTIN, core/auth/approvers.py) approves or returns proposals,
one or thousands at a time, with a comment; nobody approves or returns their own. A returned
proposal goes back to its author with the comment; Update to GST sends approved actions only
(core/ims/upload_queue.py refuses the rest in words). Each decision is one transaction of a
few set-based statements, whatever the number of records, with an action_log row per record.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from core.auth import User, approval_gstins, record_audit, require
from core.business import NAMES_SQL
from core.clock import utc_now
from core.figures import count_words, indian
from core.ims.actions import APPROVAL_ON, SHOWN_LINES, acting_as
from core.ims.view import BUCKETS, WAITING_APPROVAL, ImsFilter, where_clause
from core.labels import action_words, date_words, doc_type_words, period_words
from core.reco import ANSWER_LABELS
from core.store import connect, query_frame, transaction
from core.timefmt import shown_time

COMMENT_MAX = 500
STATES = {"proposed": "Waiting for approval", "approved": "Approved",
          "returned": "Returned to its author"}
# why a record cannot be decided on (NULL: it can), over `d` = the record with its business
_PROBLEM = """CASE
    WHEN NOT coalesce(d.approval_required, FALSE) THEN 'its business does not ask for approval'
    WHEN d.approval_state IS NULL THEN 'it has no proposed action'
    WHEN d.approval_state = 'approved' THEN 'it is already approved'
    WHEN d.approval_state = 'returned' THEN 'it was returned to its author'
    WHEN NOT list_contains(?::VARCHAR[], d.rtin)
         THEN 'you may not approve the actions of this business (ask an admin)'
    WHEN d.user_action_by = ? THEN 'you proposed it: someone else must approve or return it'
    END"""


# '<supplier name>, invoice <number>' of record `r` (names `n`: the books', else the 2B's), in
# SQL both engines run
RECORD_WORDS = ("coalesce(nullif(n.supplier_name, ''), CASE WHEN length(r.stin) = 15 THEN "
                "'supplier ' || r.stin ELSE 'import of goods (port ' || r.stin || ')' END) "
                "|| ', ' || CASE r.doc_type WHEN 'INV' THEN 'invoice' WHEN 'CRN' THEN "
                "'credit note' WHEN 'DBN' THEN 'debit note' WHEN 'BOE' THEN 'bill of entry' "
                "ELSE 'document' END || ' ' || r.doc_no")


class ApprovalError(ValueError):
    """A decision that cannot be made at all; the message says why."""


@dataclass
class Decision:
    """What an approval or a return did: how many, and each record refused in words."""
    done: int = 0
    refused: int = 0
    lines: list[str] = field(default_factory=list)

    def summary(self, verb: str) -> str:
        text = f"{count_words(self.done)} proposal(s) {verb}"
        if self.refused:
            text += f"; {count_words(self.refused)} not {verb}"
        return text


def offered_buckets(gstins: list[str]) -> list[str]:
    """The buckets of IMS Invoices for these businesses: "Waiting for approval" only where one
    of them asks for approval before upload."""
    asking = approval_businesses(gstins)
    return [b for b in BUCKETS if b != WAITING_APPROVAL or asking]


def approval_businesses(gstins: list[str]) -> list[str]:
    """Of `gstins`, the businesses that ask for approval before upload."""
    with connect() as con:
        return [r[0] for r in con.execute(
            f"SELECT gstin FROM businesses WHERE gstin IN ({APPROVAL_ON}) "
            "AND list_contains(?::VARCHAR[], gstin) ORDER BY gstin", [list(gstins)]).fetchall()]


def set_approval(gstin: str, required: bool, actor: User | str) -> int:
    """Turn approval before upload on or off for a business (admins: the settings
    permission). On: the actions saved and not yet uploaded become proposals. Off: proposals
    and approvals are forgotten (the log keeps them). Audited. -> records that changed."""
    name = acting_as(actor, "settings")
    with connect() as con, transaction(con):
        found = con.execute("SELECT coalesce(approval_required, FALSE) FROM businesses "
                            "WHERE gstin = ?", [gstin]).fetchall()
        if not found:
            raise ApprovalError(f"No business with GSTIN {gstin}")
        if found[0][0] == bool(required):
            return 0
        con.execute("UPDATE businesses SET approval_required = ?, updated_at = ? WHERE gstin = ?",
                    [bool(required), utc_now(), gstin])
        if required:
            waiting = (f"rtin = ? AND removed_at IS NULL AND ({BUCKETS['to_upload'][1]}) "
                       "AND approval_state IS NULL")
            con.execute(f"""INSERT INTO action_log (actor, rtin, record_id, kind, old_value,
                                                    new_value, note)
                            SELECT ?, rtin, record_id, 'proposed', user_action, user_action,
                                   'approval before upload turned on: waiting for approval'
                            FROM ims_records WHERE {waiting}""", [name, gstin])
            changed = con.execute(f"UPDATE ims_records SET approval_state = 'proposed' "
                                  f"WHERE {waiting}", [gstin]).fetchall()[0][0]
        else:
            changed = con.execute(
                "UPDATE ims_records SET approval_state = NULL, approval_by = NULL, "
                "approval_at = NULL, approval_comment = NULL "
                "WHERE rtin = ? AND approval_state IS NOT NULL", [gstin]).fetchall()[0][0]
        record_audit(name, "approval_turned_on" if required else "approval_turned_off",
                     gstin, con)
    return changed


def _approver(approver: User | str, gstins: list[str]) -> tuple[str, list[str]]:
    """(the name for the log, the GSTINs whose proposals `approver` may decide on)."""
    if isinstance(approver, User):
        require(approver, "approve")
        mine = set(approval_gstins(approver))
        return approver.email, [g for g in gstins if g in mine]
    return str(approver), list(gstins)


def _comment(comment: str | None, needed: bool) -> str | None:
    text = (comment or "").strip() or None
    if needed and not text:
        raise ApprovalError("Say why in the comment: the author reads it to put the action "
                            "right")
    if text and len(text) > COMMENT_MAX:
        raise ApprovalError(f"The comment has {len(text)} characters; at most {COMMENT_MAX}")
    return text


def approve_actions(gstins: list[str], record_ids: list[int], approver: User | str,
                    comment: str | None = None) -> Decision:
    """Approve the proposals among `record_ids` (of the businesses `gstins` the approver may
    see); the others are refused in words (their own, not waiting, another business)."""
    return _decide(gstins, record_ids, approver, _comment(comment, False), "approved")


def return_actions(gstins: list[str], record_ids: list[int], approver: User | str,
                   comment: str) -> Decision:
    """Return the proposals among `record_ids` to their authors with `comment` (required)."""
    return _decide(gstins, record_ids, approver, _comment(comment, True), "returned")


def _decide(gstins: list[str], record_ids: list[int], approver: User | str,
            comment: str | None, verdict: str) -> Decision:
    name, allowed = _approver(approver, gstins)
    ids = sorted({int(r) for r in record_ids})
    if not ids:
        return Decision()
    now = utc_now()
    note = ("coalesce(?, 'approved')" if verdict == "approved" else
            "'returned to ' || coalesce(r.user_action_by, 'its author') || ': ' || ?")
    with connect() as con, transaction(con):
        con.execute(f"""CREATE TEMP TABLE decision AS
            SELECT d.record_id, d.rtin, d.user_action, {_PROBLEM} AS problem
            FROM (SELECT r.record_id, r.rtin, r.user_action, r.user_action_by, r.approval_state,
                         b.approval_required
                  FROM ims_records r JOIN businesses b ON b.gstin = r.rtin
                  WHERE r.record_id IN (SELECT unnest(?::BIGINT[]))
                    AND list_contains(?::VARCHAR[], r.rtin) AND r.removed_at IS NULL) d""",
                    [allowed, name, ids, list(gstins)])
        con.execute(f"""INSERT INTO action_log (logged_at, actor, rtin, record_id, kind,
                                                old_value, new_value, note)
                        SELECT ?, ?, d.rtin, d.record_id, ?, r.user_action, r.user_action, {note}
                        FROM decision d JOIN ims_records r USING (record_id)
                        WHERE d.problem IS NULL""", [now, name, verdict, comment])
        done = con.execute("""UPDATE ims_records SET approval_state = ?, approval_by = ?,
                                  approval_at = ?, approval_comment = ?
                              FROM decision d WHERE ims_records.record_id = d.record_id
                                AND d.problem IS NULL""",
                           [verdict, name, now, comment]).fetchall()[0][0]
        refused = con.execute("SELECT count(*) FROM decision WHERE problem IS NOT NULL"
                              ).fetchall()[0][0]
        lines = [f"Not {verdict}: {doc}: {why}" for doc, why in con.execute(f"""
            SELECT {RECORD_WORDS}, d.problem FROM decision d JOIN ims_records r USING (record_id)
            LEFT JOIN ({NAMES_SQL}) n ON n.rtin = r.rtin AND n.stin = r.stin
            WHERE d.problem IS NOT NULL ORDER BY d.record_id LIMIT ?""",
                                                              [SHOWN_LINES]).fetchall()]
        con.execute("DROP TABLE decision")
    missing = len(ids) - done - refused
    if refused > len(lines):
        lines.append(f"... and {count_words(refused - len(lines))} more not {verdict}")
    if missing:
        lines.append(f"{count_words(missing)} record(s) not found or not visible to you")
    return Decision(done=done, refused=refused + missing, lines=lines)


def approval_words(record: dict) -> str:
    """Where a record's action stands on its way to approval, in a sentence ('' when no
    approval is asked): waiting (by whom), approved (by whom, when), returned (by whom, why)."""
    state = record.get("approval_state")
    if state == "proposed":
        return f"Waiting for approval: proposed by {record.get('user_action_by') or 'someone'}."
    if state == "approved":
        return (f"Approved for upload by {record.get('approval_by')}, "
                f"{shown_time(record.get('approval_at'))}.")
    if state == "returned":
        return (f"Returned to {record.get('user_action_by') or 'its author'} by "
                f"{record.get('approval_by')}: {record.get('approval_comment') or 'no comment'}.")
    return ""


def unapproved_to_upload(gstins: list[str], f: ImsFilter) -> int:
    """Of the records Update to GST would send (the filters `f`), how many it will refuse
    because their business asks for approval and they are not approved."""
    where, params = where_clause(gstins, f, "to_upload")
    with connect(read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM ims_records WHERE {where} AND rtin IN "
                           f"({APPROVAL_ON}) AND coalesce(approval_state, '') <> 'approved'",
                           params).fetchall()[0][0]


def waiting_counts(gstins: list[str]) -> dict[str, int]:
    """How many proposals wait for approval and how many were returned, in `gstins`."""
    with connect(read_only=True) as con:
        proposed, returned = con.execute(
            "SELECT count(*) FILTER (WHERE approval_state = 'proposed'), "
            "count(*) FILTER (WHERE approval_state = 'returned') FROM ims_records "
            f"WHERE removed_at IS NULL AND list_contains(?::VARCHAR[], rtin) "
            f"AND rtin IN ({APPROVAL_ON})", [list(gstins)]).fetchall()[0]
    return {"proposed": proposed, "returned": returned}


def propose_again(gstins: list[str], record_ids: list[int], author: User | str) -> int:
    """The author sends their returned proposals back for approval as they are (a change
    saved does that too). -> how many."""
    name = acting_as(author)
    ids = [int(r) for r in record_ids]
    mine = ("record_id IN (SELECT unnest(?::BIGINT[])) AND list_contains(?::VARCHAR[], rtin) "
            "AND approval_state = 'returned' AND user_action_by = ? AND removed_at IS NULL")
    params = [ids, list(gstins), name]
    with connect() as con, transaction(con):
        con.execute(f"""INSERT INTO action_log (actor, rtin, record_id, kind, old_value,
                                                new_value, note)
                        SELECT ?, rtin, record_id, 'proposed', user_action, user_action,
                               'proposed again after it was returned'
                        FROM ims_records WHERE {mine}""", [name, *params])
        return con.execute(f"UPDATE ims_records SET approval_state = 'proposed' WHERE {mine}",
                           params).fetchall()[0][0]


QUEUE_SQL = f"""
    SELECT r.record_id, r.rtin, r.stin, coalesce(n.supplier_name, '') AS supplier_name,
           r.doc_type, r.doc_no, r.doc_date, r.rtnprd, r.val, r.recommended_action,
           r.user_action, r.user_supplier_remark, r.user_itc_red_req, r.internal_note,
           coalesce(r.user_decl_igst, r.user_decl_cgst, r.user_decl_sgst, r.user_decl_cess)
               IS NOT NULL AS partial_amounts,
           r.user_action_by, r.user_action_at, r.approval_state, r.approval_by, r.approval_at,
           r.approval_comment
    FROM ims_records r LEFT JOIN ({NAMES_SQL}) n ON n.rtin = r.rtin AND n.stin = r.stin
    WHERE r.removed_at IS NULL AND list_contains(?::VARCHAR[], r.rtin)
      AND r.rtin IN ({APPROVAL_ON}) AND r.approval_state = ? {{more}}
    ORDER BY r.user_action_at, r.record_id LIMIT ?"""


def approval_queue(gstins: list[str], limit: int = 10_000) -> pl.DataFrame:
    """The proposals waiting for approval, oldest first: value, recommendation, proposed
    action and who proposed it (codes; the page puts them in words)."""
    with connect(read_only=True) as con:
        return query_frame(con, QUEUE_SQL.format(more=""), [list(gstins), "proposed", limit])


def returned_to(gstins: list[str], author: str, limit: int = 10_000) -> pl.DataFrame:
    """The proposals of `author` (an email) returned to them, with who returned them and why."""
    with connect(read_only=True) as con:
        return query_frame(con, QUEUE_SQL.format(more="AND r.user_action_by = ?"),
                           [list(gstins), "returned", author, limit])


def queue_ids(gstins: list[str]) -> list[int]:
    """Every proposal waiting for approval in `gstins` (for "approve all")."""
    with connect(read_only=True) as con:
        return [r[0] for r in con.execute(
            f"SELECT record_id FROM ims_records WHERE removed_at IS NULL "
            f"AND list_contains(?::VARCHAR[], rtin) AND rtin IN ({APPROVAL_ON}) "
            "AND approval_state = 'proposed' ORDER BY record_id", [list(gstins)]).fetchall()]


SHOWN_MAX = 1000   # proposals listed on a page; "approve all" takes every one


def proposals_in_words(frame: pl.DataFrame, returned: bool = False) -> pl.DataFrame:
    """The queue (or the returned proposals) as people read it, at most SHOWN_MAX rows:
    supplier, document, date, period, value, the recommendation, the proposed action, who
    proposed it and when, the answer and remark, the business (and who returned it, and
    why)."""
    rows = []
    for r in frame.head(SHOWN_MAX).iter_rows(named=True):
        row = {"Supplier": r["supplier_name"] or r["stin"],
               "Document": f"{doc_type_words(r['doc_type'])} {r['doc_no']}".strip(),
               "Date": date_words(r["doc_date"]), "Period": period_words(r["rtnprd"]),
               "Value ₹": indian(r["val"]) if r["val"] is not None else "",
               "Recommended": action_words(r["recommended_action"], "none"),
               "Proposed action": action_words(r["user_action"], ""),
               "Proposed by": r["user_action_by"] or "",
               "Proposed at": shown_time(r["user_action_at"]),
               "ITC to be reduced": _answer_words(r["user_itc_red_req"], r["partial_amounts"]),
               "Remark to supplier": r["user_supplier_remark"] or "",
               "Business": r["rtin"]}
        if returned:
            row = {"Comment": r["approval_comment"] or "",
                   "Returned by": r["approval_by"] or "",
                   "Returned at": shown_time(r["approval_at"]), **row}
        rows.append(row)
    columns = [*(rows[0] if rows else {})]
    return pl.DataFrame(rows, schema={c: pl.Utf8 for c in columns}) if rows else pl.DataFrame()


def _answer_words(code: str | None, partial: bool) -> str:
    if code == "Y":
        return ANSWER_LABELS["partial" if partial else "full"]
    return ANSWER_LABELS["no"] if code == "N" else ""
