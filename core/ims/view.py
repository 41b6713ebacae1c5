"""The IMS Invoices screen's queries: filters, action buckets, server-side pages, downloads,
and one record beside its books counterpart.

Filters become SQL parameters, never formatted into the SQL text. Every function takes
`gstins`, the businesses the current user may see; a filter can narrow that, never widen it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from core.business import NAMES_SQL, import_name_sql
from core.figures import indian
from core.ims.amendment_chain import chain_of
from core.ims.overrides import NEEDS_REVIEW_SQL
from core.labels import SECTIONS, action_words, date_words, doc_type_words, words_first
from core.reco import (
    ANSWER_LABELS,
    HEADS,
    PARTIAL,
    answer_change_sql,
    answer_columns_sql,
    answers_shown,
    effective_answer,
    original_tax_sql,
    question_applies,
    remarks_allowed,
)
from core.store import connect, frame_of, query_frame, query_table
from core.timefmt import shown_times
from core.upload_words import WAITING, request_words, result_words

IN_FLIGHT_SQL = "coalesce(upload_state, '') IN ('queued', 'sent')"
WAITING_APPROVAL = "waiting_approval"
# bucket -> (label, SQL condition on ims_records)
BUCKETS: dict[str, tuple[str, str]] = {
    "no_action": ("No action", "coalesce(portal_action, 'N') = 'N' AND NOT " + IN_FLIGHT_SQL),
    "accepted": ("Accepted", "portal_action = 'A'"),
    "rejected": ("Rejected", "portal_action = 'R'"),
    "pending": ("Pending", "portal_action = 'P'"),
    "to_upload": ("To upload", ("user_action IS NOT NULL "
                                "AND (user_action <> coalesce(portal_action, 'N') "
                                f"OR {answer_change_sql('')}) "
                                "AND coalesce(upload_state, '') NOT IN ('queued', 'sent')")),
    "upload_errors": ("Upload errors", "upload_state IN ('error', 'held')"),
    "in_flight": ("Sent, awaiting the portal", IN_FLIGHT_SQL),
    # a match by hand or a broken pair whose record or books document changed since
    "needs_review": ("Decisions to review", NEEDS_REVIEW_SQL),
    # actions proposed and not yet approved or returned (businesses that ask for approval:
    # docs/approval.md); offered only where one of the businesses shown asks for it
    WAITING_APPROVAL: ("Waiting for approval", "approval_state = 'proposed'"),
}
SECTION_LABELS = SECTIONS   # kept for callers; core/labels.py holds the words
MATCH_STATUSES = ("exact", "partial", "manual", "mismatch", "probable", "duplicate", "amended",
                  "missing_in_pr", "not_in_2a")
NOT_SYNCED = "(not synced)"
GRID_COLUMNS = (
    "r.record_id, r.rtin, r.stin, r.doc_no, r.doc_date, r.txval, "
    "coalesce(r.igst, 0) + coalesce(r.cgst, 0) + coalesce(r.sgst, 0) + coalesce(r.cess, 0) AS tax, "
    "r.val, r.doc_type, r.portal_action, r.match_status, r.reasons, r.internal_note, "
    f"r.upload_state, r.upload_error, r.ispendactblocked, r.srcfilstatus, {answer_columns_sql('r')}, "
    "r.user_action_by, r.user_action_at"
)
TAX_SQL = "coalesce(igst, 0) + coalesce(cgst, 0) + coalesce(sgst, 0) + coalesce(cess, 0)"
# sort key -> (label, SQL expression on ims_records); every sort ends on record_id (stable)
SORTS: dict[str, tuple[str, str]] = {
    "doc_date": ("Date", "doc_date"), "doc_no": ("Document", "doc_no"),
    "stin": ("Supplier GSTIN", "stin"), "txval": ("Taxable ₹", "txval"),
    "tax": ("Tax ₹", TAX_SQL), "val": ("Document value ₹", "val"),
    "match_status": ("Match", "match_status"),
    "recommended_action": ("Recommended", "recommended_action"),
    "portal_action": ("On portal", "coalesce(portal_action, 'N')"),
    "section": ("Section", "section"), "rtnprd": ("Period", "right(rtnprd, 4) || left(rtnprd, 2)"),
    "rtin": ("Business", "rtin"),
}
DEFAULT_SORT = ("doc_date", True)


def order_sql(sort: tuple[str, bool] = DEFAULT_SORT) -> str:
    """ORDER BY for (key of SORTS, descending) over ims_records, ties by record_id."""
    key, descending = sort
    if key not in SORTS:
        raise ValueError(f"cannot sort by '{key}': one of {', '.join(SORTS)}")
    return f"ORDER BY {SORTS[key][1]} {'DESC' if descending else 'ASC'} NULLS LAST, record_id"


ORDER = order_sql()
# what the grid and the downloads show of the answer and the remark (answer_view)
ANSWER_VIEW = {"itc_applies": pl.Boolean, "itc_answer": pl.Utf8,
               **{f"reduce_{h}": pl.Float64 for h in HEADS},
               "remarks_allowed": pl.Boolean, "supplier_remark": pl.Utf8}


@dataclass(frozen=True)
class ImsFilter:
    """What the user narrowed the view to; empty means "any"."""
    businesses: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    supplier: str = ""
    match_statuses: tuple[str, ...] = ()
    recommended: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()
    doc_search: str = ""
    record_ids: tuple[int, ...] = field(default=())


def where_clause(gstins: list[str], f: ImsFilter, bucket: str | None = None) -> tuple[str, list]:
    """The WHERE text (placeholders only) and its parameters."""
    parts = ["removed_at IS NULL", "list_contains(?::VARCHAR[], rtin)"]
    params: list = [list(gstins)]

    def any_of(column: str, values) -> None:
        if values:
            parts.append(f"list_contains(?::VARCHAR[], {column})")
            params.append([str(v) for v in values])

    any_of("rtin", f.businesses)
    any_of("section", f.sections)
    any_of("rtnprd", f.periods)
    if f.match_statuses:
        parts.append("list_contains(?::VARCHAR[], coalesce(match_status, ?))")
        params += [list(f.match_statuses), NOT_SYNCED]
    if f.recommended:
        parts.append("list_contains(?::VARCHAR[], coalesce(recommended_action, '-'))")
        params.append(list(f.recommended))
    if f.supplier.strip():
        parts.append("contains(stin, ?)")
        params.append(f.supplier.strip().upper())
    if f.doc_search.strip():
        parts.append("contains(doc_no_key, ?)")
        params.append(f.doc_search.strip().upper())
    if f.record_ids:
        parts.append("list_contains(?::BIGINT[], record_id)")
        params.append([int(r) for r in f.record_ids])
    if bucket:
        parts.append(f"({BUCKETS[bucket][1]})")
    return " AND ".join(parts), params


def bucket_counts(gstins: list[str], f: ImsFilter) -> dict[str, int]:
    """How many filtered records sit in each bucket (one scan)."""
    where, params = where_clause(gstins, f)
    counts = ", ".join(f"count(*) FILTER (WHERE {cond}) AS {name}" for name,
                       (_, cond) in BUCKETS.items())
    with connect(read_only=True) as con:
        row = con.execute(f"SELECT count(*) AS all_, {counts} FROM ims_records WHERE {where}",
                          params).fetchone()
    return {"all": row[0], **{name: n for name, n in zip(BUCKETS, row[1:])}}


def records_page(gstins: list[str], f: ImsFilter, bucket: str | None, page: int,
                 page_size: int = 50, sort: tuple[str, bool] = DEFAULT_SORT) -> pl.DataFrame:
    """One page (1-based) of the filtered bucket, sorted in the store over every filtered
    record by `sort` = (key of SORTS, descending), ties by record_id."""
    where, params = where_clause(gstins, f, bucket)
    offset = max(page - 1, 0) * page_size
    with connect(read_only=True) as con:  # pick the page's ids in order, then their rows
        ids = [r[0] for r in con.execute(
            f"SELECT record_id FROM ims_records WHERE {where} {order_sql(sort)} LIMIT ? OFFSET ?",
            params + [page_size, offset]).fetchall()]
        table = query_table(con, f"""
            SELECT {GRID_COLUMNS}
            FROM ims_records r {original_tax_sql('r', 'SELECT unnest(?::BIGINT[])')}
            WHERE r.record_id IN (SELECT unnest(?::BIGINT[]))""", [ids, ids])
    page = frame_of(table)   # a frame only once the store is let go
    position = pl.DataFrame({"record_id": ids, "_pos": list(range(len(ids)))},
                            schema={"record_id": page.schema["record_id"], "_pos": pl.Int64})
    page = page.join(position, on="record_id").sort("_pos").drop("_pos")
    return answer_view(page)


def answer_view(rows: pl.DataFrame) -> pl.DataFrame:
    """Add what a person sees of each record's ITC-reduction answer and remark: whether the
    question applies, the effective answer (Full / Partial / No; empty where it does not
    apply), the Partial amounts per head (rupees), whether remarks are allowed and the remark
    that would go (the user's, else the proposal's default)."""
    return answers_shown(rows)   # columnar (core/reco/answer_columns.py)


def shown_answer(row: dict) -> dict:
    """answer_view's columns for one record (a dict with the answer columns)."""
    applies = question_applies(row)
    kind, decl, remark = effective_answer(row)
    partial = applies and kind == PARTIAL
    allowed = remarks_allowed(row)
    return {"itc_applies": applies, "itc_answer": ANSWER_LABELS[kind] if applies else None,
            **{f"reduce_{h}": float(decl[h] or 0) if partial else None for h in HEADS},
            "remarks_allowed": allowed, "supplier_remark": remark if allowed else None}


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def filter_options(gstins: list[str]) -> dict[str, list[str]]:
    """Values present in the store for the section, period and match-status filters (one scan)."""
    with connect(read_only=True) as con:    # the few combinations present, grouped in one pass
        present = con.execute(f"""
            SELECT section, rtnprd, coalesce(match_status, '{NOT_SYNCED}') AS status
            FROM ims_records WHERE removed_at IS NULL AND list_contains(?::VARCHAR[], rtin)
            GROUP BY section, rtnprd, coalesce(match_status, '{NOT_SYNCED}')""",
            [list(gstins)]).fetchall()
    sections = sorted({s for s, _, _ in present if s is not None})
    periods = sorted({p for _, p, _ in present if p is not None},
                     key=lambda p: (p[2:], p[:2]), reverse=True)
    statuses = sorted({m for _, _, m in present})
    return {"sections": sections, "periods": periods, "match_statuses": statuses}


def export_frame(gstins: list[str], f: ImsFilter, bucket: str | None,
                 sort: tuple[str, bool] = DEFAULT_SORT) -> pl.DataFrame:
    """Every filtered record with its recommendation, the supplier's name (the books', else
    the GSTR-2B's trade name, core/business/supplier_names.py), the document value and the matched
    books document's amounts, for CSV/Excel download; in the grid's order (`sort`)."""
    where, params = where_clause(gstins, f, bucket)
    books = ", ".join(f"p.{c} AS books_{c}" for c in ("txval", "igst", "cgst", "sgst", "cess",
                                                      "doc_value"))
    port = import_name_sql("r.stin")
    with connect(read_only=True) as con:
        frame = query_frame(con, f"""
            SELECT r.rtin AS company_gstin, r.section, r.stin AS supplier_gstin,
                   coalesce(p.supplier_name, n.supplier_name, CASE WHEN r.section IN
                            ('impg', 'impga') THEN {port} END) AS supplier_name, r.doc_type,
                   r.doc_no, r.doc_date, r.rtnprd AS return_period, r.srcform, r.srcfilstatus,
                   r.txval, r.igst, r.cgst, r.sgst, r.cess, r.val, r.val AS document_value,
                   r.portal_action, r.match_status, r.recommended_action, r.reasons,
                   r.user_action, r.user_action_by, r.upload_state, r.upload_error,
                   p.doc_no AS pr_doc_no, p.doc_date AS pr_doc_date, p.line_no AS pr_line,
                   {books}, r.internal_note, r.itc_red_req AS portal_itc_red_req,
                   r.portal_remarks, r.record_id, {answer_columns_sql('r')}
            FROM (SELECT *, row_number() OVER ({order_sql(sort)}) AS sort_pos
                  FROM ims_records WHERE {where}) r
            {original_tax_sql('r', f'SELECT record_id FROM ims_records WHERE {where}')}
            LEFT JOIN purchase_docs p ON p.doc_id = r.counterpart_doc_id
            LEFT JOIN ({NAMES_SQL}) n ON n.rtin = r.rtin AND n.stin = r.stin
            ORDER BY r.sort_pos""", params + params)
    shown = answer_view(frame)
    return words_first(shown.select(*EXPORT_FRONT, "supplier_remark", "internal_note",
                        pl.col("itc_answer").alias("itc_to_be_reduced"),
                        *(f"reduce_{h}" for h in HEADS), *EXPORT_BACK))


EXPORT_FRONT = ("company_gstin", "section", "supplier_gstin", "supplier_name", "doc_type",
                "doc_no", "doc_date", "return_period", "srcform", "srcfilstatus", "txval",
                "igst", "cgst", "sgst", "cess", "val", "document_value", "portal_action",
                "match_status", "recommended_action", "reasons", "user_action")
EXPORT_BACK = ("user_action_by", "upload_state", "upload_error", "portal_itc_red_req",
               "portal_remarks", "pr_doc_no", "pr_doc_date", "pr_line",
               *(f"books_{c}" for c in ("txval", "igst", "cgst", "sgst", "cess", "doc_value")),
               "record_id")


def scope_figures(gstins: list[str], f: ImsFilter, bucket: str | None) -> dict:
    """How many records the filters `f` select in `bucket`, by business, and their taxable
    value, tax and document value (rupees): what a confirmation states before a bulk change
    or an upload."""
    where, params = where_clause(gstins, f, bucket)
    with connect(read_only=True) as con:
        row = con.execute(f"""SELECT count(*), coalesce(sum(txval), 0), coalesce(sum({TAX_SQL}), 0),
                                     coalesce(sum(val), 0), count(DISTINCT rtin)
                              FROM ims_records WHERE {where}""", params).fetchone()
    return {"records": row[0], "taxable": row[1], "tax": row[2], "value": row[3],
            "businesses": row[4]}


COMPARE_FIELDS = ("stin", "doc_type", "doc_no", "doc_date", "pos", "txval", "igst", "cgst", "sgst",
                  "cess")


def record_with_counterpart(gstins: list[str], record_id: int) -> dict | None:
    """One IMS record, its matched books document (or None), the fields that differ, and the
    record's answer and two texts apart (`texts`: answer_view's columns + internal_note)."""
    with connect(read_only=True) as con:
        cur = con.execute(f"SELECT r.*, o.orig_igst, o.orig_cgst, o.orig_sgst, o.orig_cess "
                          f"FROM ims_records r {original_tax_sql('r', 'SELECT $id')} "
                          "WHERE r.record_id = $id AND list_contains($g::VARCHAR[], r.rtin)",
                          {"id": int(record_id), "g": list(gstins)})
        row = cur.fetchone()
        if row is None:
            return None
        portal = dict(zip([d[0] for d in cur.description], row))
        books = None
        if portal.get("counterpart_doc_id") is not None:
            cur = con.execute("SELECT * FROM purchase_docs WHERE doc_id = ?",
                              [portal["counterpart_doc_id"]])
            found = cur.fetchone()
            books = dict(zip([d[0] for d in cur.description], found)) if found else None
        chain = chain_of(con, record_id)
    return {"portal": portal, "books": books, "compare": compare_sides(portal, books),
            "chain": chain,
            "texts": {**shown_answer(portal), "internal_note": portal.get("internal_note")}}


def compare_sides(portal: dict, books: dict | None) -> list[dict]:
    """Rows of field / portal / books / differs (amounts: portal minus books)."""
    rows = []
    for name in COMPARE_FIELDS:
        left = portal.get(name)
        right = books.get(name) if books else None
        if name in ("txval", "igst", "cgst", "sgst", "cess"):
            diff = (left or 0) - (right or 0) if books else None
            differs = books is not None and abs(float(diff)) > 0.005
        else:
            diff = None
            differs = books is not None and str(left or "").upper() != str(right or "").upper()
        rows.append({"field": FIELD_WORDS[name], "portal": _show(name, left),
                     "books": _show(name, right) if books else "",
                     "difference": "" if diff is None else indian(diff),
                     "differs": differs})
    return rows


FIELD_WORDS = {"stin": "Supplier GSTIN (port code for a bill of entry)",
               "doc_type": "Document type", "doc_no": "Document number",
               "doc_date": "Document date", "pos": "Place of supply (state code)",
               "txval": "Taxable value ₹", "igst": "IGST ₹", "cgst": "CGST ₹", "sgst": "SGST ₹",
               "cess": "Cess ₹"}


def _show(name: str, value) -> str:
    """One compared value as a person reads it: words, '20 Sep 2025', 12,34,567.00."""
    if value is None:
        return ""
    if name == "doc_type":
        return doc_type_words(value)
    if name == "doc_date":
        return date_words(value)
    if name in ("txval", "igst", "cgst", "sgst", "cess"):
        return indian(value)
    return str(value)


def recent_upload_results(gstins: list[str], limit: int = 200) -> pl.DataFrame:
    """The latest uploads' per-record outcome, in words: what was sent, when (business time
    zone) and what the portal said."""
    with connect(read_only=True) as con:
        table = query_table(con, """
            SELECT q.request_id, q.rtin, q.reqtyp, q.status AS request_status, q.sent_at,
                   r.doc_no, r.stin AS supplier_gstin, i.action, i.result, i.error_cd, i.error_msg
            FROM upload_requests q JOIN upload_items i USING (request_id)
            LEFT JOIN ims_records r ON r.record_id = i.record_id
            WHERE list_contains(?::VARCHAR[], q.rtin)
            ORDER BY q.request_id DESC, r.doc_no LIMIT ?""", [list(gstins), limit])
    frame = frame_of(table)
    words = [{"portal_answer": request_words(row["request_status"]),
              "result": result_words(row["result"]) if row["request_status"] != "IP" else WAITING,
              "error": str(row["error_msg"] or "") or ("the portal refused it" if row["error_cd"]
                                                       else ""),
              "reqtyp": REQUEST_KINDS.get(row["reqtyp"], "Sent to the portal"),
              "action": ACTION_WORDS.get(row["action"], action_words(row["action"], ""))}
             for row in frame.iter_rows(named=True)]
    shown = shown_times(frame, "sent_at").drop("request_status", "result", "error_cd",
                                              "error_msg", "action", "reqtyp")
    return shown.hstack(pl.DataFrame(words, schema={"portal_answer": pl.Utf8, "result": pl.Utf8,
                                                    "error": pl.Utf8, "reqtyp": pl.Utf8,
                                                    "action": pl.Utf8})).select(
        "request_id", "sent_at", "portal_answer", "result", "doc_no", "action", "error", "rtin",
        "supplier_gstin", "reqtyp")


ACTION_WORDS = {"A": "Accept", "R": "Reject", "P": "Pending", "N": "Reset to no action"}
# the portal's request types (SAVE / RESET) as the upload results table names them
REQUEST_KINDS = {"SAVE": "Actions sent", "RESET": "Actions reset"}
