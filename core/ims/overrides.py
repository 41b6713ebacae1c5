"""Decisions by hand on an IMS record's books match (docs/reconciliation.md, "Decisions by
hand"): search the business's books for a document, link it to the record, or break the pair
the engine made, with a reason; undo; after a change on either side, confirm or drop.

Each decision is a row of `reco_overrides` (who, when, why) and an `action_log` row, both in
one transaction; nothing is deleted (undo, confirm and drop change the row's state). The
engine takes the decisions in force before its passes (`decisions_in_force`, read by the sync,
core/ims/sync.py). `review_decisions` (run by the sync before it reads) puts a decision whose
portal record the supplier changed, or whose books document was edited, replaced or rolled
back, in "needs review": the engine then gives its own answer until someone confirms.

`actor` is a `core.User` (its role must allow "act", as for saving an action; the record must
be in `gstins`, the businesses the user may see) or a plain string for trusted callers.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from core.auth import User, require
from core.clock import utc_now
from core.figures import indian
from core.ims.portal_documents import document_words, latest_versions
from core.labels import date_words, doc_type_words
from core.store import connect, query_frame, transaction

KINDS = {"link": "Matched by hand", "break": "Pair broken by hand"}
STATES = {"active": "In force", "needs_review": "Needs review", "undone": "Undone",
          "dropped": "Dropped after a change"}
# why a decision needs review (the first that applies)
LEFT_PORTAL = "the record is no longer on the portal"
SUPPLIER_CHANGED = "the supplier changed the record on the portal"
BOOKS_CHANGED = "the books document was edited, replaced or rolled back"
REASON_MAX = 500
CURRENT_BOOKS = ("SELECT d.* FROM purchase_docs d JOIN purchase_batches b USING (batch_id) "
                 "WHERE d.replaced_by_batch IS NULL AND b.rolled_back_at IS NULL")
CANDIDATE_LIMIT = 50


class DecisionError(ValueError):
    """A decision that cannot be taken; the message says which record and why."""


def _actor(actor: User | str) -> str:
    if isinstance(actor, User):
        require(actor, "act")
        return actor.email
    return str(actor)


def _reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise DecisionError("Say why (the reason is kept with the decision for the auditors)")
    if len(text) > REASON_MAX:
        raise DecisionError(f"The reason is {len(text)} characters long: {REASON_MAX} at most")
    return text


def _record(con, gstins: list[str], record_id: int) -> dict:
    cur = con.execute("SELECT record_id, rtin, stin, doc_type, doc_no, counterpart_doc_id, "
                      "portal_fp, removed_at FROM ims_records WHERE record_id = ? "
                      "AND list_contains(?::VARCHAR[], rtin)", [int(record_id), list(gstins)])
    row = next(iter(cur.fetchall()), None)
    if row is None:
        raise DecisionError(f"Record {record_id} is not one of the records you may see")
    record = dict(zip([d[0] for d in cur.description], row))
    if record["removed_at"] is not None:
        raise DecisionError(f"{_words(record)} is no longer on the portal")
    return record


def _books_doc(con, rtin: str, doc_id: int) -> dict:
    cur = con.execute(f"SELECT doc_id, doc_type, doc_no, stin, rcm FROM ({CURRENT_BOOKS}) c "
                      "WHERE doc_id = ? AND rtin = ?", [int(doc_id), rtin])
    row = next(iter(cur.fetchall()), None)
    if row is None:
        raise DecisionError(f"That books document is not a current document of {rtin} "
                            "(edited, replaced or rolled back since?): search again")
    doc = dict(zip([d[0] for d in cur.description], row))
    if (doc["rcm"] or "").strip().upper() == "Y":
        raise DecisionError(f"Books {_words(doc)} is under reverse charge: such documents are "
                            "not in IMS and are never reconciled with its records")
    return doc


def _words(doc: dict) -> str:
    return f"{doc_type_words(doc.get('doc_type')).lower() or 'document'} {doc.get('doc_no')}"


def _log(con, actor: str, rtin: str, record_id: int | None, kind: str, old: str | None,
         new: str | None, note: str, now: dt.datetime) -> None:
    con.execute("INSERT INTO action_log (logged_at, actor, rtin, record_id, kind, old_value, "
                "new_value, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [now, actor, rtin, None if record_id is None else int(record_id), kind, old,
                 new, note])


def _log_decision(con, found: dict, actor: str, kind: str, old: str | None, new: str | None,
                  note: str, now: dt.datetime) -> None:
    """A log row about a decision of any source: a GSTR-2A / 2B one is logged on the IMS
    record of the same document (if the store holds one), its note naming the document."""
    record_id = found["record_id"]
    if found.get("source", "ims") != "ims":
        note = f"{document_words(found['source'], found['portal_doc_type'], found['portal_doc_no'])}: {note}"
        record_id = ims_record_of(con, found)
    _log(con, actor, found["rtin"], record_id, kind, old, new, note, now)


def ims_record_of(con, key: dict) -> int | None:
    """The IMS record (still on the portal) of a GSTR-2A / 2B document key, if any: where its
    decisions are logged, so the record's history shows them."""
    row = con.execute(
        "SELECT min(record_id) FROM ims_records WHERE rtin = ? AND stin = ? AND doc_type = ? "
        "AND upper(trim(coalesce(orig_doc_no, doc_no))) = ? AND removed_at IS NULL",
        [key["rtin"], key["portal_stin"], key["portal_doc_type"], key["portal_key_no"]]
    ).fetchall()
    return row[0][0] if row else None


def _insert(con, record: dict, doc_id: int, doc: dict, kind: str, reason: str, actor: str,
            now: dt.datetime) -> int:
    return con.execute(
        "INSERT INTO reco_overrides (rtin, source, record_id, doc_id, doc_type, doc_no, kind, "
        "reason, state, portal_fp, created_by, created_at) "
        "VALUES (?, 'ims', ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?) RETURNING override_id",
        [record["rtin"], record["record_id"], int(doc_id), doc["doc_type"], doc["doc_no"], kind,
         reason, record["portal_fp"], actor, now]).fetchall()[0][0]


def _in_force(con, record_id: int, kind: str | None = None) -> list[tuple]:
    sql = ("SELECT override_id, doc_id, kind FROM reco_overrides WHERE record_id = ? "
           "AND state IN ('active', 'needs_review')")
    params: list = [int(record_id)]
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    return con.execute(sql + " ORDER BY override_id", params).fetchall()


def _set_state(con, ids: list[int], state: str, actor: str, now: dt.datetime) -> None:
    con.execute("UPDATE reco_overrides SET state = ?, changed_by = ?, changed_at = ?, "
                "review_why = NULL WHERE list_contains(?::BIGINT[], override_id)",
                [state, actor, now, [int(i) for i in ids]])


def link_record(gstins: list[str], record_id: int, doc_id: int, reason: str,
                actor: User | str) -> int:
    """Link the books document `doc_id` to the IMS record, replacing a link the record or the
    document had by hand (logged as undone) -> the decision's id. Takes effect at the next
    reconciliation of the business (the page runs it straight away)."""
    who, why = _actor(actor), _reason(reason)
    with connect() as con, transaction(con):
        record = _record(con, gstins, record_id)
        doc = _books_doc(con, record["rtin"], doc_id)
        now = utc_now()
        clash = con.execute(
            "SELECT o.override_id, o.record_id FROM reco_overrides o WHERE o.doc_id = ? "
            "AND o.record_id <> ? AND o.kind = 'link' AND o.state IN ('active', 'needs_review')",
            [int(doc_id), int(record_id)]).fetchall()
        earlier = _in_force(con, record_id, "link") + [(oid, doc_id, "link")
                                                       for oid, _ in clash]
        if earlier:
            _set_state(con, [oid for oid, _, _ in earlier], "undone", who, now)
        for oid, other in clash:
            _log(con, who, record["rtin"], other, "override_undone", _words(doc), None,
                 f"link undone: {_words(doc)} linked by hand to another record", now)
        # a break of this very pair would contradict the link
        broken = [oid for oid, d, _ in _in_force(con, record_id, "break") if d == int(doc_id)]
        if broken:
            _set_state(con, broken, "undone", who, now)
        decision = _insert(con, record, doc_id, doc, "link", why, who, now)
        _log(con, who, record["rtin"], record_id, "manual_link",
             _counterpart_words(con, record), _words(doc), why, now)
    return decision


def _counterpart_words(con, record: dict) -> str | None:
    if record["counterpart_doc_id"] is None:
        return None
    row = con.execute("SELECT doc_type, doc_no FROM purchase_docs WHERE doc_id = ?",
                      [record["counterpart_doc_id"]]).fetchall()
    row = row[0] if row else None
    return _words({"doc_type": row[0], "doc_no": row[1]}) if row else None


def break_pair(gstins: list[str], record_id: int, reason: str, actor: User | str,
               doc_id: int | None = None) -> int:
    """Break the record's pair with the books document `doc_id` (by default its counterpart
    now): no pass pairs them again -> the decision's id. A link by hand of the same pair is
    undone with it."""
    who, why = _actor(actor), _reason(reason)
    with connect() as con, transaction(con):
        record = _record(con, gstins, record_id)
        doc_id = record["counterpart_doc_id"] if doc_id is None else doc_id
        if doc_id is None:
            raise DecisionError(f"{_words(record)} is not paired with a books document: "
                                "there is no pair to break")
        row = con.execute("SELECT doc_type, doc_no FROM purchase_docs WHERE doc_id = ? "
                          "AND rtin = ?", [int(doc_id), record["rtin"]]).fetchall()
        row = row[0] if row else None
        if row is None:
            raise DecisionError(f"Books document {doc_id} is not a document of "
                                f"{record['rtin']}")
        doc = {"doc_type": row[0], "doc_no": row[1]}
        now = utc_now()
        linked = [oid for oid, d, _ in _in_force(con, record_id, "link") if d == int(doc_id)]
        if linked:
            _set_state(con, linked, "undone", who, now)
        decision = _insert(con, record, doc_id, doc, "break", why, who, now)
        _log(con, who, record["rtin"], record_id, "unlink", _words(doc), None, why, now)
    return decision


def _decision(con, gstins: list[str], override_id: int, states: tuple[str, ...]) -> dict:
    cur = con.execute("SELECT * FROM reco_overrides WHERE override_id = ? "
                      "AND list_contains(?::VARCHAR[], rtin)", [int(override_id), list(gstins)])
    row = next(iter(cur.fetchall()), None)
    if row is None:
        raise DecisionError(f"Decision {override_id} is not one you may see")
    found = dict(zip([d[0] for d in cur.description], row))
    if found["state"] not in states:
        raise DecisionError(f"This decision is {STATES[found['state']].lower()} already")
    return found


def undo_decision(gstins: list[str], override_id: int, actor: User | str) -> None:
    """Undo a decision (in force or waiting for review): the engine decides again."""
    who = _actor(actor)
    with connect() as con, transaction(con):
        found = _decision(con, gstins, override_id, ("active", "needs_review"))
        now = utc_now()
        _set_state(con, [override_id], "undone", who, now)
        _log_decision(con, found, who, "override_undone", _words(found), None,
                      f"{KINDS[found['kind']].lower()} undone", now)


def confirm_decision(gstins: list[str], override_id: int, actor: User | str) -> None:
    """Keep a decision that waits for review after a change: in force again, the record's
    portal version now the one it was confirmed on."""
    who = _actor(actor)
    with connect() as con, transaction(con):
        found = _decision(con, gstins, override_id, ("needs_review",))
        if found["review_why"] == LEFT_PORTAL:
            raise DecisionError("The record is no longer on the portal: drop the decision")
        current = con.execute(f"SELECT count(*) FROM ({CURRENT_BOOKS}) c WHERE c.doc_id = ?",
                              [found["doc_id"]]).fetchall()[0][0]
        if not current:
            raise DecisionError(f"Books {_words(found)} was edited, replaced or rolled back: "
                                "drop this decision, then link the document as it is now")
        now = utc_now()
        if found["source"] == "ims":
            con.execute("UPDATE reco_overrides SET portal_fp = (SELECT portal_fp FROM "
                        "ims_records WHERE record_id = ?) WHERE override_id = ?",
                        [found["record_id"], int(override_id)])
        else:               # the document as it is now: its chain's latest version
            con.execute("UPDATE reco_overrides SET portal_fp = ? WHERE override_id = ?",
                        [_document_now(con, found)["fp"], int(override_id)])
        con.execute("UPDATE reco_overrides SET state = 'active', review_why = NULL, "
                    "changed_by = ?, changed_at = ? WHERE override_id = ?",
                    [who, now, int(override_id)])
        _log_decision(con, found, who, "override_confirmed", None, _words(found),
                      f"{KINDS[found['kind']].lower()} kept after: {found['review_why']}", now)


def drop_decision(gstins: list[str], override_id: int, actor: User | str) -> None:
    """Drop a decision that waits for review: the engine's answer stays."""
    who = _actor(actor)
    with connect() as con, transaction(con):
        found = _decision(con, gstins, override_id, ("needs_review",))
        now = utc_now()
        _set_state(con, [override_id], "dropped", who, now)
        _log_decision(con, found, who, "override_dropped", _words(found), None,
                      f"{KINDS[found['kind']].lower()} dropped after: {found['review_why']}",
                      now)


def _document_now(con, found: dict) -> dict:
    """The chain's latest version now of the 2A / 2B document a decision names."""
    now = latest_versions(con, found["rtin"], found["source"], [found["portal_stin"]]).filter(
        (pl.col("doc_type") == found["portal_doc_type"])
        & (pl.col("key_fy") == found["portal_fy"]) & (pl.col("key_no") == found["portal_key_no"]))
    if now.is_empty():
        raise DecisionError(f"{document_words(found['source'], found['portal_doc_type'], found['portal_doc_no'])} "
                            "is no longer on the portal: drop the decision")
    return now.row(0, named=True)


# ---------------------------------------------------------------- what the sync reads


def review_decisions(gstin: str, actor: str = "worker") -> int:
    """Put in "needs review" the decisions in force of the business whose record left the
    portal or was changed by its supplier, or whose books document is no longer current
    (one transaction, each logged) -> how many."""
    with connect(read_only=True) as con:     # the usual case: nothing changed, no write
        if not _flagged(con, gstin):
            return 0
    with connect() as con, transaction(con):
        flagged = _flagged(con, gstin)
        if not flagged:
            return 0
        now = utc_now()
        documents = [oid for oid, _ in flagged if oid in _document_ids(con, gstin)]
        for why in {w for _, w in flagged}:
            ids = [oid for oid, w in flagged if w == why]
            con.execute("UPDATE reco_overrides SET state = 'needs_review', review_why = ? "
                        "WHERE list_contains(?::BIGINT[], override_id)", [why, ids])
        con.execute("""
            INSERT INTO action_log (logged_at, actor, rtin, record_id, kind, old_value,
                                    new_value, note)
            SELECT ?, ?, o.rtin, o.record_id, 'override_review', NULL, NULL,
                   CASE o.kind WHEN 'link' THEN 'match by hand' ELSE 'broken pair' END
                   || ' needs review: ' || o.review_why
            FROM reco_overrides o WHERE list_contains(?::BIGINT[], o.override_id)
            ORDER BY o.override_id""", [now, actor, [oid for oid, _ in flagged
                                                     if oid not in documents]])
        for oid in documents:        # a few: logged one by one, each naming its document
            found = _decision(con, [gstin], oid, ("needs_review",))
            _log_decision(con, found, actor, "override_review", None, None,
                          f"{'match by hand' if found['kind'] == 'link' else 'broken pair'} "
                          f"needs review: {found['review_why']}", now)
    return len(flagged)


def _document_ids(con, gstin: str) -> set[int]:
    return {r[0] for r in con.execute("SELECT override_id FROM reco_overrides WHERE rtin = ? "
                                      "AND source <> 'ims'", [gstin]).fetchall()}


def _flagged(con, gstin: str) -> list[tuple[int, str]]:
    """(decision id, why) of the business's decisions in force that need review now."""
    found = con.execute(f"""
        SELECT o.override_id,
               CASE WHEN r.record_id IS NULL OR r.removed_at IS NOT NULL THEN ?
                    WHEN o.portal_fp IS NOT NULL AND r.portal_fp IS NOT NULL
                         AND r.portal_fp <> o.portal_fp THEN ?
                    WHEN c.doc_id IS NULL THEN ? END AS why
        FROM reco_overrides o
        LEFT JOIN ims_records r ON r.record_id = o.record_id
        LEFT JOIN ({CURRENT_BOOKS} AND d.rtin = ?) c ON c.doc_id = o.doc_id
        WHERE o.rtin = ? AND o.state = 'active' AND o.source = 'ims'""",
        [LEFT_PORTAL, SUPPLIER_CHANGED, BOOKS_CHANGED, gstin, gstin]).fetchall()
    return [(oid, why) for oid, why in found if why] + _flagged_documents(con, gstin)


def _flagged_documents(con, gstin: str) -> list[tuple[int, str]]:
    """(decision id, why) of the business's GSTR-2A / 2B decisions in force that need review:
    the document's chain is gone from the store, its latest version's fingerprint differs
    from the one decided on, or the books document is no longer current."""
    decided = query_frame(con, f"""
        SELECT o.override_id, o.source, o.portal_stin AS stin, o.portal_doc_type AS doc_type,
               o.portal_fy AS key_fy, o.portal_key_no AS key_no, o.portal_fp AS decided_fp,
               c.doc_id IS NOT NULL AS books_current
        FROM reco_overrides o LEFT JOIN ({CURRENT_BOOKS} AND d.rtin = ?) c ON c.doc_id = o.doc_id
        WHERE o.rtin = ? AND o.state = 'active' AND o.source <> 'ims'
        ORDER BY o.override_id""", [gstin, gstin])
    if decided.is_empty():
        return []
    flagged = []
    for source in decided["source"].unique().to_list():
        mine = decided.filter(pl.col("source") == source).cast({"key_fy": pl.Int32})
        now = latest_versions(con, gstin, source, mine["stin"].unique().to_list())
        joined = mine.join(now.select("stin", "doc_type", "key_fy", "key_no", "fp"),
                           on=["stin", "doc_type", "key_fy", "key_no"], how="left")
        for r in joined.iter_rows(named=True):          # the decisions in force: a few
            why = (LEFT_PORTAL if r["fp"] is None else
                   SUPPLIER_CHANGED if r["decided_fp"] is not None
                   and int(r["decided_fp"]) != int(r["fp"]) else
                   None if r["books_current"] else BOOKS_CHANGED)
            if why:
                flagged.append((r["override_id"], why))
    return flagged


def decisions_in_force(con, gstin: str) -> pl.DataFrame:
    """The engine's input (core/reco/overrides.py): pid, bid, kind of the decisions in force,
    oldest first."""
    return query_frame(con, "SELECT record_id AS pid, doc_id AS bid, kind FROM reco_overrides "
                            "WHERE rtin = ? AND state = 'active' AND source = 'ims' "
                            "ORDER BY override_id", [gstin],
                       ).cast({"pid": pl.Int64, "bid": pl.Int64, "kind": pl.Utf8})


# ---------------------------------------------------------------- what the screens read


def record_decisions(gstins: list[str], record_id: int) -> list[dict]:
    """The decisions in force or waiting for review on the record or on another version of
    its amendment chain (a decision moves with the chain), newest first; `on_record`: the
    portal document it was taken on."""
    with connect(read_only=True) as con:
        cur = con.execute("""
            WITH me AS (SELECT rtin, stin, doc_type,
                               upper(trim(coalesce(orig_doc_no, doc_no))) AS k
                        FROM ims_records WHERE record_id = $id),
                 chain AS (SELECT r.record_id FROM ims_records r JOIN me ON r.rtin = me.rtin
                           AND r.stin = me.stin AND r.doc_type = me.doc_type
                           AND upper(trim(coalesce(r.orig_doc_no, r.doc_no))) = me.k)
            SELECT o.override_id, o.record_id, o.kind, o.state, o.reason, o.review_why,
                   o.created_by, o.created_at, o.doc_type, o.doc_no, d.doc_date,
                   p.doc_no AS on_record
            FROM reco_overrides o LEFT JOIN purchase_docs d ON d.doc_id = o.doc_id
            JOIN ims_records p ON p.record_id = o.record_id
            WHERE (o.record_id = $id OR o.record_id IN (SELECT record_id FROM chain))
              AND list_contains($g::VARCHAR[], o.rtin)
              AND o.state IN ('active', 'needs_review')
            ORDER BY o.override_id DESC""", {"id": int(record_id), "g": list(gstins)})
        found = [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]
    return found


def find_candidates(gstins: list[str], record_id: int, supplier: str = "", number: str = "",
                    date_from: dt.date | None = None, date_to: dt.date | None = None,
                    amount: float | None = None, limit: int = CANDIDATE_LIMIT) -> pl.DataFrame:
    """Current books documents of the record's business that fit the search (supplier GSTIN
    or name contains, number contains, date within, taxable value or document value within
    one rupee), closest in value to the record first; reverse-charge documents, which IMS
    never lists, are left out."""
    with connect(read_only=True) as con:
        record = _record(con, gstins, record_id)
        near = con.execute("SELECT txval FROM ims_records WHERE record_id = ?",
                           [int(record_id)]).fetchall()[0][0]
    return search_books([record["rtin"]], record["rtin"], near, supplier, number, date_from,
                        date_to, amount, limit, with_rcm=False)


def search_books(gstins: list[str], rtin: str, near: float | None, supplier: str = "",
                 number: str = "", date_from: dt.date | None = None,
                 date_to: dt.date | None = None, amount: float | None = None,
                 limit: int = CANDIDATE_LIMIT, with_rcm: bool = True) -> pl.DataFrame:
    """Current books documents of the business `rtin` (one of `gstins`) that fit the search
    (find_candidates), closest in taxable value to `near` first. `with_rcm`: reverse-charge
    documents too (GSTR-2A and 2B list them; IMS does not)."""
    if rtin not in gstins:
        raise DecisionError(f"{rtin} is not one of the businesses you may see")
    parts, params = ["c.rtin = ?"], [rtin]
    if not with_rcm:
        parts.append("coalesce(c.rcm, 'N') <> 'Y'")
    if supplier.strip():
        parts.append("(contains(c.stin, ?) OR contains(upper(coalesce(c.supplier_name, "
                     "'')), ?))")
        params += [supplier.strip().upper()] * 2
    if number.strip():
        parts.append("contains(c.doc_no_key, ?)")
        params.append(number.strip().upper())
    if date_from:
        parts.append("c.doc_date >= ?")
        params.append(date_from)
    if date_to:
        parts.append("c.doc_date <= ?")
        params.append(date_to)
    if amount is not None:
        parts.append("(abs(c.txval - ?) <= 1 OR abs(coalesce(c.doc_value, 0) - ?) <= 1)")
        params += [amount, amount]
    with connect(read_only=True) as con:
        return query_frame(con, f"""
            SELECT c.doc_id, c.stin, c.supplier_name, c.doc_type, c.doc_no, c.doc_date, c.txval,
                   coalesce(c.igst, 0) + coalesce(c.cgst, 0) + coalesce(c.sgst, 0)
                       + coalesce(c.cess, 0) AS tax,
                   (SELECT min(i.doc_no) FROM ims_records i WHERE i.counterpart_doc_id = c.doc_id
                       AND i.removed_at IS NULL) AS paired_with
            FROM ({CURRENT_BOOKS}) c
            WHERE {' AND '.join(parts)}
            ORDER BY abs(coalesce(c.txval, 0) - ?), c.doc_date, c.doc_id
            LIMIT ?""", [*params, float(near or 0), int(limit)])


def candidates_in_words(frame: pl.DataFrame) -> pl.DataFrame:
    """find_candidates' rows as a person reads them (the id kept to pick one)."""
    rows = [{"doc_id": r["doc_id"], "Supplier": r["supplier_name"] or r["stin"],
             "Supplier GSTIN": r["stin"],
             "Document": f"{doc_type_words(r['doc_type'])} {r['doc_no']}",
             "Date": date_words(r["doc_date"]), "Taxable ₹": indian(r["txval"] or 0),
             "Tax ₹": indian(r["tax"] or 0),
             "Paired now with": r["paired_with"] or "nothing"}
            for r in frame.iter_rows(named=True)]
    columns = ("doc_id", "Supplier", "Supplier GSTIN", "Document", "Date", "Taxable ₹", "Tax ₹",
               "Paired now with")
    return pl.DataFrame(rows, schema={c: (pl.Int64 if c == "doc_id" else pl.Utf8)
                                      for c in columns})


def review_count(gstins: list[str]) -> int:
    """How many decisions by hand of these businesses wait for review."""
    with connect(read_only=True) as con:
        return con.execute("SELECT count(*) FROM reco_overrides WHERE state = 'needs_review' "
                           "AND list_contains(?::VARCHAR[], rtin)", [list(gstins)]).fetchall()[0][0]


NEEDS_REVIEW_SQL = ("record_id IN (SELECT record_id FROM reco_overrides "
                    "WHERE state = 'needs_review')")


def decisions_to_review(gstins: list[str]) -> pl.DataFrame:
    """The decisions by hand of these businesses waiting for review, in words (oldest first;
    the ids kept to act on one)."""
    with connect(read_only=True) as con:
        frame = query_frame(con, """
            SELECT o.override_id, o.record_id, o.rtin, o.kind, o.reason, o.review_why,
                   o.created_by, coalesce(r.stin, o.portal_stin) AS stin, o.source,
                   coalesce(r.doc_type, o.portal_doc_type) AS doc_type,
                   coalesce(r.doc_no, o.portal_doc_no) AS doc_no, o.doc_type AS books_type,
                   o.doc_no AS books_no
            FROM reco_overrides o LEFT JOIN ims_records r ON r.record_id = o.record_id
            WHERE o.state = 'needs_review' AND list_contains(?::VARCHAR[], o.rtin)
            ORDER BY o.override_id""", [list(gstins)])
    rows = [{"override_id": r["override_id"], "record_id": r["record_id"],
             "Business": r["rtin"], "Supplier GSTIN": r["stin"],
             "Portal document": (f"{doc_type_words(r['doc_type'])} {r['doc_no']}"
                                 if r["source"] == "ims" else
                                 document_words(r["source"], r["doc_type"], r["doc_no"])),
             "Decision": f"{KINDS[r['kind']]}: {doc_type_words(r['books_type']).lower()} "
                         f"{r['books_no']}",
             "Why it was taken": r["reason"], "What changed": r["review_why"],
             "Taken by": r["created_by"]} for r in frame.iter_rows(named=True)]
    columns = ("override_id", "record_id", "Business", "Supplier GSTIN", "Portal document",
               "Decision", "Why it was taken", "What changed", "Taken by")
    return pl.DataFrame(rows, schema={c: pl.Int64 if c in ("override_id", "record_id")
                                      else pl.Utf8 for c in columns})
