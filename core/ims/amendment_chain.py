"""An IMS record's amendment chain, in words, for the record view (docs/reconciliation.md,
"Amendments"): the original and every amendment that names it (same business, supplier, doc
type and original number), the original first, then by return period; each with its role,
number, date, period, taxable value and tax, status and whether it is still on the portal."""
from __future__ import annotations

from core.figures import indian
from core.labels import date_words, section_words, status_words
from core.periods import period_words
from core.reco.chains import AMENDMENT_SECTIONS

AMENDMENTS_SQL = ", ".join(f"'{s}'" for s in AMENDMENT_SECTIONS)
CHAIN_SQL = f"""
WITH me AS (SELECT rtin, stin, doc_type, upper(trim(coalesce(orig_doc_no, doc_no))) AS k
            FROM ims_records WHERE record_id = $id)
SELECT r.record_id, r.section, r.doc_no, r.doc_date, r.orig_doc_no, r.rtnprd, r.txval,
       coalesce(r.igst, 0) + coalesce(r.cgst, 0) + coalesce(r.sgst, 0) + coalesce(r.cess, 0)
           AS tax, r.match_status, r.removed_at,
       r.section IN ({AMENDMENTS_SQL}) OR r.orig_doc_no IS NOT NULL AS is_amd
FROM ims_records r JOIN me ON r.rtin = me.rtin AND r.stin = me.stin
     AND r.doc_type = me.doc_type
     AND upper(trim(coalesce(r.orig_doc_no, r.doc_no))) = me.k
ORDER BY is_amd, substr(r.rtnprd, 3, 4), substr(r.rtnprd, 1, 2), r.record_id
"""


def chain_of(con, record_id: int) -> dict:
    """{"rows": the chain of `record_id` as rows of words, "summary": one sentence}; both
    empty when the record stands alone."""
    cur = con.execute(CHAIN_SQL, {"id": int(record_id)})
    found = [dict(zip([d[0] for d in cur.description], row)) for row in cur.fetchall()]
    if len(found) < 2 or not any(r["is_amd"] for r in found):
        return {"rows": [], "summary": ""}
    return {"rows": [chain_line(r, r["record_id"] == record_id) for r in found],
            "summary": chain_summary(found)}


def chain_line(r: dict, this: bool) -> dict:
    role = "Amendment" if r["is_amd"] else "Original"
    if r["is_amd"] and r["orig_doc_no"] and r["orig_doc_no"].strip().upper() != \
            (r["doc_no"] or "").strip().upper():
        role += f" (new number; original {r['orig_doc_no']})"
    elif r["is_amd"]:
        role += " (same number)"
    return {"version": role + (" · this record" if this else ""),
            "section": section_words(r["section"]), "document": r["doc_no"],
            "date": date_words(r["doc_date"]), "return period": period_words(r["rtnprd"]),
            "taxable ₹": indian(r["txval"]), "tax ₹": indian(r["tax"]),
            "status": status_words(r["match_status"]),
            "on the portal": "no, left IMS" if r["removed_at"] is not None else "yes"}


def chain_summary(found: list[dict]) -> str:
    """'Original CN-1, amended 2 times: the latest version, CN-1 of Nov 2025, is the one
    matched with the books; the older ones show its books document for reference.'"""
    amendments = [r for r in found if r["is_amd"]]
    latest = found[-1]
    originals = [r for r in found if not r["is_amd"]]
    name = originals[0]["doc_no"] if originals else amendments[0]["orig_doc_no"] or \
        amendments[0]["doc_no"]
    times = len(amendments)
    return (f"Original {name}, amended {times} time{'s' if times > 1 else ''}: the latest "
            f"version, {latest['doc_no']} of {period_words(latest['rtnprd'])}, is the one "
            "matched with the books; the older ones show its books document for reference.")
