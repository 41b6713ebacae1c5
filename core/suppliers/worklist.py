"""The Suppliers worklist (docs/suppliers.md): per supplier and period what only the supplier
can fix, with the ITC at stake and the deadline that matters, biggest first.

Kinds:
- `not_filed`: an IMS record the supplier uploaded but has not filed (GSTR-1 / IFF);
- `mismatch`: a record the books hold with other amounts, place of supply, date or number
  (also a pair matched by hand whose amounts, place of supply or reverse charge differ):
  what to amend, field by field (the books' values);
- `original_values`: a record the supplier amended while the books keep the original values;
- `missing_on_portal`: a books invoice or debit note no IMS record carries;
- `credit_note_awaited`: a books credit note the supplier has not reported yet.

The last two come from the latest finished IMS-vs-books reconciliation of the business (the
books documents it left unmatched: every sync runs it, whatever the sync source); the first three from the IMS records as the last sync left them.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from core.calendar import business_calendar, day_text, first_2b_period, periods_join, periods_with
from core.calendar.deadlines import section_16_4_limit
from core.figures import indian
from core.matched import differs_sql
from core.periods import period_words
from core.store import connect, query_frame

KINDS = {
    "not_filed": "Not filed by the supplier",
    "mismatch": "Amounts or details differ",
    "original_values": "Amendment booked at the original values",
    "missing_on_portal": "In our books, not on the portal",
    "credit_note_awaited": "Credit note awaited",
}
TAX = "coalesce({a}igst, 0) + coalesce({a}cgst, 0) + coalesce({a}sgst, 0) + coalesce({a}cess, 0)"
IN_IMS = "r.removed_at IS NULL AND r.left_ims_at IS NULL"
# reason token -> (field, words): what a mismatch asks to amend
FIELDS = {"TAXABLE_VALUE": ("txval", "taxable value"), "IGST": ("igst", "IGST"),
          "CGST": ("cgst", "CGST"), "SGST": ("sgst", "SGST"), "CESS": ("cess", "cess"),
          "POS": ("pos", "place of supply"), "DOC_DATE": ("doc_date", "document date"),
          "DOC_NO": ("doc_no", "document number")}
MONEY = ("txval", "igst", "cgst", "sgst", "cess")
COLUMNS = ("rtin", "stin", "kind", "ret_period", "record_id", "doc_type", "doc_no", "doc_no_key",
           "fy", "doc_date", "itc", "to_fix", "deadline", "deadline_words", "item_key")


def _shown(field: str, value) -> str:
    if value is None:
        return "blank"
    if field in MONEY:
        return indian(value)
    if isinstance(value, dt.date):
        return day_text(value)
    return str(value)


def _differs(field: str, portal, books) -> bool:
    if books is None or (field == "pos" and not portal):   # a portal without POS: not asked
        return False
    if field in MONEY:
        return abs(float(portal or 0) - float(books or 0)) >= 0.01
    if field == "doc_no":
        return str(portal or "").strip().upper() != str(books).strip().upper()
    return portal != books


def amend_words(row: dict) -> str:
    """'taxable value 1,00,000.00 -> 95,000.00; IGST 18,000.00 -> 17,100.00' (portal -> books):
    every field where the portal's document and the books' differ."""
    parts = []
    for field, words in FIELDS.values():
        portal, books = row.get(f"p_{field}"), row.get(f"b_{field}")
        if _differs(field, portal, books):
            parts.append(f"{words} {_shown(field, portal)} -> {_shown(field, books)}")
    return "; ".join(parts)


def item_key(kind: str, stin: str, doc_type: str, doc_no_key: str, fy: str) -> str:
    return f"{kind}|{stin}|{doc_type}|{doc_no_key}|{fy}"


def _record_rows(con, gstin: str) -> list[dict]:
    cur = con.execute(f"""
        {periods_with("SELECT record_id FROM ims_records WHERE rtin = ?")}
        SELECT r.record_id, r.rtin, r.section, r.stin, r.doc_type, r.doc_no, r.doc_no_key, r.fy,
               r.doc_date, r.rtnprd AS ret_period, r.srcfilstatus, r.match_status, r.reasons,
               {first_2b_period()} AS period_2b,
               r.pos AS p_pos, r.doc_date AS p_doc_date, r.doc_no AS p_doc_no,
               r.txval AS p_txval, r.igst AS p_igst, r.cgst AS p_cgst, r.sgst AS p_sgst,
               r.cess AS p_cess, ({TAX.format(a='r.')}) AS p_tax,
               p.pos AS b_pos, p.doc_date AS b_doc_date, p.doc_no AS b_doc_no,
               p.txval AS b_txval, p.igst AS b_igst, p.cgst AS b_cgst, p.sgst AS b_sgst,
               p.cess AS b_cess, ({TAX.format(a='p.')}) AS b_tax
        FROM ims_records r {periods_join('r')}
        LEFT JOIN current_purchase_docs p ON p.doc_id = r.counterpart_doc_id
        WHERE r.rtin = ? AND {IN_IMS} AND r.section NOT IN ('impg', 'impga')
          AND (r.srcfilstatus = 'Not Filed' OR r.match_status = 'mismatch'
               OR (r.match_status = 'manual' AND {differs_sql('r.reasons')})
               OR r.reasons LIKE '%ORIGINAL_VALUES%')""", [gstin, gstin])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _books_rows(con, gstin: str) -> list[dict]:
    """Books documents the latest finished reconciliation left without a portal record."""
    cur = con.execute(f"""
        SELECT p.doc_id, p.rtin, p.stin, p.doc_type, p.doc_no, p.doc_no_key, p.fy, p.doc_date,
               ({TAX.format(a='p.')}) AS b_tax
        FROM reco_results x JOIN current_purchase_docs p ON p.doc_id = x.pr_doc_id
        WHERE x.run_id = (SELECT max(run_id) FROM reco_runs WHERE rtin = ?
                          AND kind = 'ims_vs_pr' AND finished_at IS NOT NULL)
          AND x.match_status = 'missing_in_portal' AND x.ims_record_id IS NULL
          AND NOT p.no_tax AND coalesce(p.rcm, 'N') <> 'Y' AND p.doc_type <> 'BOE'
          AND p.rtin = ?""", [gstin, gstin])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _period_of(day: dt.date | None) -> str | None:
    return f"{day.month:02d}{day.year}" if day else None


def _limit(fy: str | None) -> dt.date | None:
    try:
        return section_16_4_limit(fy) if fy else None
    except ValueError:
        return None


def worklist(gstin: str, today: dt.date | None = None) -> pl.DataFrame:
    """Everything a supplier of `gstin` is asked to fix, biggest ITC first."""
    with connect(read_only=True) as con:
        records = _record_rows(con, gstin)
        books = _books_rows(con, gstin)
        calendar = business_calendar(con, gstin)
    out = []
    for r in records:
        if r["srcfilstatus"] == "Not Filed":
            kind, itc = "not_filed", r["p_tax"]
            fix = (f"File your GSTR-1 (or IFF) for {period_words(r['ret_period'])}: the "
                   "document is uploaded but not filed, so its ITC does not reach our GSTR-2B")
        elif "ORIGINAL_VALUES" in str(r["reasons"] or ""):
            kind, itc = "original_values", r["b_tax"] if r["b_tax"] is not None else r["p_tax"]
            fix = ("You amended this document; our books hold its original values. Confirm "
                   "which values are right: " + (amend_words(r) or "the amounts differ"))
        else:
            kind, itc = "mismatch", r["b_tax"] if r["b_tax"] is not None else r["p_tax"]
            what = amend_words(r)
            fix = (f"Amend to our books' values: {what}" if what else
                   "Amend the document: it differs from our books")
        first_2b = r["period_2b"] or r["ret_period"]
        limit = (calendar.credit_note_limit(first_2b)
                 if r["doc_type"] == "CRN" and first_2b else _limit(r["fy"]))
        label = "pending limit" if r["doc_type"] == "CRN" else "section 16(4)"
        out.append({"rtin": gstin, "stin": r["stin"], "kind": kind,
                    "ret_period": r["ret_period"], "record_id": r["record_id"],
                    "doc_type": r["doc_type"], "doc_no": r["doc_no"],
                    "doc_no_key": r["doc_no_key"], "fy": r["fy"], "doc_date": r["doc_date"],
                    "itc": float(itc or 0), "to_fix": fix, "deadline": limit,
                    "deadline_words": f"{label}: {day_text(limit)}" if limit else "",
                    "item_key": item_key(kind, r["stin"], r["doc_type"], r["doc_no_key"],
                                         r["fy"])})
    for b in books:
        credit = b["doc_type"] == "CRN"
        kind = "credit_note_awaited" if credit else "missing_on_portal"
        what = "credit note" if credit else ("debit note" if b["doc_type"] == "DBN"
                                             else "invoice")
        fix = (f"Report this {what} in your GSTR-1 (or IFF): it is in our books, dated "
               f"{day_text(b['doc_date'])}, but not on the portal")
        limit = _limit(b["fy"])
        out.append({"rtin": gstin, "stin": b["stin"], "kind": kind,
                    "ret_period": _period_of(b["doc_date"]), "record_id": None,
                    "doc_type": b["doc_type"], "doc_no": b["doc_no"],
                    "doc_no_key": b["doc_no_key"], "fy": b["fy"], "doc_date": b["doc_date"],
                    "itc": float(b["b_tax"] or 0), "to_fix": fix, "deadline": limit,
                    "deadline_words": f"section 16(4): {day_text(limit)}" if limit else "",
                    "item_key": item_key(kind, b["stin"], b["doc_type"], b["doc_no_key"],
                                         b["fy"])})
    schema = {"rtin": pl.Utf8, "stin": pl.Utf8, "kind": pl.Utf8, "ret_period": pl.Utf8,
              "record_id": pl.Int64, "doc_type": pl.Utf8, "doc_no": pl.Utf8,
              "doc_no_key": pl.Utf8, "fy": pl.Utf8, "doc_date": pl.Date, "itc": pl.Float64,
              "to_fix": pl.Utf8, "deadline": pl.Date, "deadline_words": pl.Utf8,
              "item_key": pl.Utf8}
    frame = pl.DataFrame(out, schema=schema) if out else pl.DataFrame(schema=schema)
    return frame.unique("item_key", keep="first", maintain_order=True).sort(
        ["itc", "stin", "doc_no", "kind"], descending=[True, False, False, False],
        maintain_order=True)


def by_supplier(items: pl.DataFrame) -> pl.DataFrame:
    """One row per supplier: how many items of each kind, the ITC at stake, the nearest
    deadline; biggest first."""
    if items.is_empty():
        return pl.DataFrame(schema={"stin": pl.Utf8, "items": pl.UInt32, "itc": pl.Float64,
                                    "nearest_deadline": pl.Date, "kinds": pl.Utf8})
    return (items.group_by("stin").agg(
        pl.len().alias("items"), pl.col("itc").sum().alias("itc"),
        pl.col("deadline").min().alias("nearest_deadline"),
        pl.col("kind").unique().sort().replace_strict(KINDS, default="")
        .str.join(", ").alias("kinds"))
        .sort(["itc", "stin"], descending=[True, False]))


def periods_of(items: pl.DataFrame) -> list[str]:
    return sorted({p for p in items["ret_period"].to_list() if p},
                  key=lambda p: (p[2:], p[:2]))


def supplier_items(gstin: str, stin: str) -> pl.DataFrame:
    return worklist(gstin).filter(pl.col("stin") == stin)


def query_items(con, gstin: str) -> pl.DataFrame:
    """The open case items of a business (for the page's 'in a case' column)."""
    return query_frame(con, """
        SELECT i.item_key, c.case_id, c.state FROM supplier_case_items i
        JOIN supplier_cases c ON c.case_id = i.case_id
        WHERE c.rtin = ? AND c.state IN ('open', 'sent', 'replied')""", [gstin])
