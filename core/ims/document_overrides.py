"""Decisions by hand on a GSTR-2A or GSTR-2B document's books match (docs/reconciliation.md,
"Decisions by hand"): link a books document to it, or break the pair the engine made, with a
reason. The document is named by its key (core/ims/portal_documents.py), so the decision
survives every re-fetch and moves with the amendment chain; the fingerprint of the chain's
latest version is kept, so that a supplier's change puts the decision in "needs review"
(core/ims/overrides.review_decisions). Undo, confirm and drop are those of IMS decisions
(core/ims/overrides.py): one table, one history.

A decision applies to the reconciliations of its source only: a `2a` one to GSTR-2A vs PR
(`2a_vs_pr`), a `2b` one to GSTR-2B vs PR (`2b_vs_pr`).
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from core.auth import User
from core.clock import utc_now
from core.ims.overrides import (
    DecisionError,
    _actor,
    _books_doc,
    _log_decision,
    _reason,
    _set_state,
    _words,
)
from core.ims.portal_documents import SOURCES, document_words, key_of
from core.reco import DOC_DECISION_SCHEMA
from core.store import connect, query_frame, transaction

KEY_COLUMNS = ("portal_stin", "portal_doc_type", "portal_fy", "portal_key_no")
IN_FORCE = "state IN ('active', 'needs_review')"


def _document(con, gstins: list[str], gstin: str, source: str, doc: dict) -> dict:
    """The decision's portal side: the key of the document shown as `doc` (`stin`,
    `doc_type`, `doc_no`, `doc_date`), its latest version's number and fingerprint."""
    if source not in SOURCES:
        raise DecisionError(f"Decisions by hand are taken on IMS, GSTR-2A or GSTR-2B "
                            f"documents, not on '{source}'")
    if gstin not in gstins:
        raise DecisionError(f"{gstin} is not one of the businesses you may see")
    found = key_of(con, gstin, source, doc["stin"], doc["doc_type"], doc["doc_no"],
                   doc.get("doc_date"))
    if found is None:
        raise DecisionError(f"{document_words(source, doc['doc_type'], doc['doc_no'])} of "
                            f"{doc['stin']} is not in the stored {SOURCES[source]} of {gstin}")
    return {"rtin": gstin, "source": source, "portal_stin": found["stin"],
            "portal_doc_type": found["doc_type"], "portal_fy": found["key_fy"],
            "portal_key_no": found["key_no"], "portal_doc_no": found["doc_no"],
            "portal_fp": found["fp"]}


def _key_sql() -> str:
    return "rtin = ? AND source = ? AND " + " AND ".join(f"{c} = ?" for c in KEY_COLUMNS)


def _key_params(key: dict) -> list:
    return [key["rtin"], key["source"], *(key[c] for c in KEY_COLUMNS)]


def _in_force(con, key: dict, kind: str) -> list[tuple[int, int]]:
    """(decision id, books doc id) of the document's decisions of `kind` in force."""
    return con.execute(f"SELECT override_id, doc_id FROM reco_overrides WHERE {_key_sql()} "
                       f"AND kind = ? AND {IN_FORCE} ORDER BY override_id",
                       [*_key_params(key), kind]).fetchall()


def _insert(con, key: dict, doc_id: int, books: dict, kind: str, reason: str, actor: str,
            now: dt.datetime) -> int:
    return con.execute(
        "INSERT INTO reco_overrides (rtin, source, record_id, doc_id, doc_type, doc_no, kind, "
        "reason, state, portal_fp, created_by, created_at, portal_stin, portal_doc_type, "
        "portal_fy, portal_key_no, portal_doc_no) "
        "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING override_id",
        [key["rtin"], key["source"], int(doc_id), books["doc_type"], books["doc_no"], kind,
         reason, key["portal_fp"], actor, now, *(key[c] for c in KEY_COLUMNS),
         key["portal_doc_no"]]).fetchall()[0][0]


def link_document(gstins: list[str], gstin: str, source: str, doc: dict, doc_id: int,
                  reason: str, actor: User | str) -> int:
    """Link the books document `doc_id` to the GSTR-2A / 2B document shown as `doc` (`stin`,
    `doc_type`, `doc_no`, `doc_date`) of the business `gstin`, replacing a link either had by
    hand in that source (logged as undone) -> the decision's id. Takes effect at the next
    reconciliation of that kind (the page runs it straight away)."""
    who, why = _actor(actor), _reason(reason)
    with connect() as con, transaction(con):
        key = _document(con, gstins, gstin, source, doc)
        books = _books_doc_any(con, gstin, doc_id)
        now = utc_now()
        clash = query_frame(con, "SELECT * FROM reco_overrides WHERE rtin = ? AND source = ? "
                            f"AND doc_id = ? AND kind = 'link' AND {IN_FORCE} "
                            "ORDER BY override_id", [gstin, source, int(doc_id)])
        others = [r for r in clash.iter_rows(named=True)
                  if tuple(r[c] for c in KEY_COLUMNS) != tuple(key[c] for c in KEY_COLUMNS)]
        earlier = [oid for oid, _ in _in_force(con, key, "link")]
        earlier += [r["override_id"] for r in others]
        broken = [oid for oid, d in _in_force(con, key, "break") if d == int(doc_id)]
        if earlier or broken:
            _set_state(con, earlier + broken, "undone", who, now)
        for other in others:
            _log_decision(con, other, who, "override_undone", _words(books), None,
                          f"link undone: {_words(books)} linked by hand to another document",
                          now)
        decision = _insert(con, key, doc_id, books, "link", why, who, now)
        _log_decision(con, key | {"record_id": None}, who, "manual_link", None, _words(books),
                      why, now)
    return decision


def _books_doc_any(con, gstin: str, doc_id: int) -> dict:
    """A current books document of the business (reverse charge allowed: GSTR-2A and 2B
    list such documents and reconcile them)."""
    try:
        return _books_doc(con, gstin, doc_id)
    except DecisionError as refused:
        if "reverse charge" not in str(refused):
            raise
    row = con.execute("SELECT doc_type, doc_no FROM purchase_docs WHERE doc_id = ?",
                      [int(doc_id)]).fetchall()[0]
    return {"doc_id": int(doc_id), "doc_type": row[0], "doc_no": row[1]}


def break_document(gstins: list[str], gstin: str, source: str, doc: dict, doc_id: int,
                   reason: str, actor: User | str) -> int:
    """Break the pair of the GSTR-2A / 2B document shown as `doc` with the books document
    `doc_id`: no pass of that source pairs them again -> the decision's id. A link by hand of
    the same pair is undone with it."""
    who, why = _actor(actor), _reason(reason)
    with connect() as con, transaction(con):
        key = _document(con, gstins, gstin, source, doc)
        row = con.execute("SELECT doc_type, doc_no FROM purchase_docs WHERE doc_id = ? "
                          "AND rtin = ?", [int(doc_id), gstin]).fetchall()
        if not row:
            raise DecisionError(f"Books document {doc_id} is not a document of {gstin}")
        books = {"doc_type": row[0][0], "doc_no": row[0][1]}
        now = utc_now()
        linked = [oid for oid, d in _in_force(con, key, "link") if d == int(doc_id)]
        if linked:
            _set_state(con, linked, "undone", who, now)
        decision = _insert(con, key, doc_id, books, "break", why, who, now)
        _log_decision(con, key | {"record_id": None}, who, "unlink", _words(books), None,
                      why, now)
    return decision


def document_decisions(gstins: list[str], gstin: str, source: str, doc: dict) -> list[dict]:
    """The decisions in force or waiting for review on the document shown as `doc` (any
    version of its amendment chain: they share its key), newest first; none when the document
    is no longer stored."""
    with connect(read_only=True) as con:
        try:
            key = _document(con, gstins, gstin, source, doc)
        except DecisionError:
            return []
        cur = con.execute(f"""
            SELECT o.override_id, o.record_id, o.kind, o.state, o.reason, o.review_why,
                   o.created_by, o.created_at, o.doc_type, o.doc_no, d.doc_date,
                   o.portal_doc_no AS on_record
            FROM reco_overrides o LEFT JOIN purchase_docs d ON d.doc_id = o.doc_id
            WHERE {' AND '.join(f'o.{c}' for c in _key_sql().split(' AND '))} AND o.{IN_FORCE}
            ORDER BY o.override_id DESC""", _key_params(key))
        return [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]


def document_decisions_in_force(con, gstin: str, source: str) -> pl.DataFrame:
    """The engine's input for a reconciliation of `source`'s documents (core/reco/overrides.
    on_documents): the key, books doc id and kind of the decisions in force, oldest first."""
    return query_frame(con, "SELECT portal_stin AS stin, portal_doc_type AS doc_type, "
                            "portal_fy AS key_fy, portal_key_no AS key_no, doc_id AS bid, kind "
                            "FROM reco_overrides WHERE rtin = ? AND source = ? "
                            "AND state = 'active' ORDER BY override_id", [gstin, source],
                       ).cast(DOC_DECISION_SCHEMA)
