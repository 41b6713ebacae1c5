"""The ITC-reduction answer and the remark to the supplier of one IMS record
(docs/reconciliation.md, "ITC-reduction declaration" and "Remarks").

Where the question applies (`core.reco.recommend.itc_reduction_applies`), accepting a record also
answers "ITC to be reduced?": Full (`itcRedReq` Y, no amounts), Partial (Y with the amount
to reduce per head) or No (N). The effective answer of a record is the user's own if set,
else sync's proposal, else Full. The most that can be reduced per head (the cap) is the
record's own tax; for an amendment whose original the store holds, the drop from the
original's tax to the amendment's.

Here: reading an answer from a stored row, checking one (plain messages), and the fields an
upload sends for it. Rows are dicts with the ims_records columns (rupees as Decimal) plus
`orig_igst` .. `orig_cess` (the original's tax, None when unknown). No store, no HTTP.
"""
from __future__ import annotations

from decimal import Decimal

from core.money import indian_amount, to_paise
from core.reco.declare import reduction_cap
from core.reco.recommend import itc_reduction_applies

HEADS = ("igst", "cgst", "sgst", "cess")
HEAD_NAMES = {"igst": "IGST", "cgst": "CGST", "sgst": "SGST", "cess": "Cess"}
PAYLOAD_HEADS = {"igst": "declIgst", "cgst": "declCgst", "sgst": "declSgst", "cess": "declCess"}
FULL, PARTIAL, NO = "full", "partial", "no"
ANSWER_LABELS = {FULL: "Full", PARTIAL: "Partial", NO: "No"}
REMARK_MAX = 250
# sections whose records amend an earlier one, and the section of the original
ORIGINAL_SECTION = {"b2ba": "b2b", "b2bcna": "b2bcn", "b2bdna": "b2bdn", "ecoma": "ecom",
                    "impga": "impg", "impgseza": "impgsez"}


ANSWER_COLUMNS = ", ".join(
    ["section", "rtnprd", "is_itc_red_req_blocked", "is_remarks_blocked", *HEADS,
     "user_action", "recommended_action", "user_itc_red_req", "rec_itc_red_req",
     "user_supplier_remark", "rec_supplier_remark",
     *(f"user_decl_{h}" for h in HEADS), *(f"rec_decl_{h}" for h in HEADS)])


def answer_columns_sql(alias: str = "r") -> str:
    """SQL: the columns an answer is read from, of `alias` and the original `o` (see below)."""
    cols = [f"{alias}.{c.strip()}" for c in ANSWER_COLUMNS.split(",")]
    return ", ".join(cols + [f"o.orig_{h}" for h in HEADS])


def answer_change_sql(alias: str = "r") -> str:
    """SQL: the user changed the ITC-reduction answer or the remark to the supplier of a record
    whose action the portal already holds (so the action alone would not send it again). Only
    what the user set counts; a remark the portal blocks never does (it is never sent)."""
    a = f"{alias}." if alias else ""
    amounts = " OR ".join(f"{a}user_decl_{h} IS DISTINCT FROM {a}decl_{h}" for h in HEADS)
    return (f"({a}user_action IS NOT NULL AND {a}user_action <> 'N' "
            f"AND {a}user_action = coalesce({a}portal_action, 'N') AND ("
            f"({a}user_action = 'A' AND {a}user_itc_red_req IS NOT NULL "
            f"AND ({a}user_itc_red_req IS DISTINCT FROM {a}itc_red_req OR {amounts})) "
            f"OR (nullif(trim({a}user_supplier_remark), '') IS NOT NULL "
            f"AND coalesce({a}is_remarks_blocked, 'N') <> 'Y' "
            f"AND trim({a}user_supplier_remark) IS DISTINCT FROM {a}portal_remarks)))")


def original_tax_sql(alias: str = "r", within: str = "") -> str:
    """SQL: LEFT JOIN `o` = the original record (any state, removed ones too) of an amendment
    `alias`, with columns orig_igst .. orig_cess (rupees; NULL where the store lacks it).
    `within`: a subquery of the record_ids that need it (a page, a batch), so that a few rows
    do not look up every amendment in the store."""
    pairs = " UNION ALL ".join(f"SELECT '{a}' AS amd, '{o}' AS base"
                               for a, o in ORIGINAL_SECTION.items())
    heads = ", ".join(f"{h} AS orig_{h}" for h in HEADS)
    # the sections named on each side, so that the server reads only amendments on one side
    # and originals on the other (without them PostgreSQL joined every record with every
    # record of the business first, then kept the section pairs: most of the sync's read)
    amended = ", ".join(f"'{a}'" for a in ORIGINAL_SECTION)
    bases = ", ".join(f"'{o}'" for o in ORIGINAL_SECTION.values())
    scope = f"WHERE a.section IN ({amended}) AND o.section IN ({bases})" + (
        f" AND a.record_id IN ({within})" if within else "")
    return f"""LEFT JOIN (
        SELECT record_id AS orig_of, {heads} FROM (
            SELECT a.record_id, o.igst, o.cgst, o.sgst, o.cess,
                   row_number() OVER (PARTITION BY a.record_id
                                      ORDER BY o.removed_at NULLS FIRST, o.record_id DESC) AS k
            FROM ims_records a JOIN ({pairs}) s ON s.amd = a.section
            JOIN ims_records o ON o.rtin = a.rtin AND o.section = s.base
                 AND coalesce(o.stin, '') = coalesce(a.stin, '')
                 AND o.doc_no_key = upper(trim(a.orig_doc_no))
                 AND (a.orig_doc_date IS NULL OR o.doc_date = a.orig_doc_date)
            {scope}) ranked
        WHERE k = 1) o ON o.orig_of = {alias}.record_id"""


def question_applies(row: dict) -> bool:
    return itc_reduction_applies(row.get("section"), row.get("rtnprd"),
                                 row.get("is_itc_red_req_blocked"))


def remarks_allowed(row: dict) -> bool:
    return (row.get("is_remarks_blocked") or "").strip().upper() != "Y"


def caps(row: dict) -> dict[str, int]:
    """The most that can be reduced per head, in paise (core.reco.declare.reduction_cap: the
    record's own amount, or for an amendment whose original the store holds, the drop)."""
    return {h: reduction_cap(abs(to_paise(row.get(h))),
                             None if row.get(f"orig_{h}") is None
                             else abs(to_paise(row.get(f"orig_{h}"))))
            for h in HEADS}


def _kind(red_req: str | None, decl: dict) -> str | None:
    if red_req == "N":
        return NO
    if red_req == "Y":
        return PARTIAL if any(v is not None for v in decl.values()) else FULL
    return None


def _decl(row: dict, prefix: str) -> dict[str, Decimal | None]:
    return {h: row.get(f"{prefix}decl_{h}") for h in HEADS}


def effective_answer(row: dict) -> tuple[str, dict[str, Decimal | None], str | None]:
    """(kind, amounts per head (None = not given), remark to the supplier) the upload would
    send: the user's answer if set, else the proposal, else Full. The user's remark always
    wins; the proposal's default remark goes only with the proposal's own answer, on an
    Accept (the user's action, else the recommended one)."""
    user_kind = _kind(row.get("user_itc_red_req"), _decl(row, "user_"))
    rec_decl = _decl(row, "rec_")
    rec_kind = _kind(row.get("rec_itc_red_req"), rec_decl)
    if user_kind is not None:
        kind, decl = user_kind, _decl(row, "user_")
    else:
        kind, decl = rec_kind or FULL, rec_decl if rec_kind else dict.fromkeys(HEADS)
    remark = (row.get("user_supplier_remark") or "").strip() or None
    same_as_proposal = rec_kind == kind and (kind != PARTIAL or _paise(decl) == _paise(rec_decl))
    accepting = (row.get("user_action") or row.get("recommended_action")) == "A"
    if remark is None and same_as_proposal and accepting:
        remark = (row.get("rec_supplier_remark") or "").strip() or None
    return kind, decl, remark


def _paise(decl: dict) -> dict:
    return {h: None if v is None else to_paise(v) for h, v in decl.items()}


def inr(paise: int) -> str:
    """Paise as rupees for a message, in Indian digit grouping: ₹12,34,567.89."""
    text = indian_amount(paise)
    return "-₹" + text[1:] if text.startswith("-") else "₹" + text


def answer_problems(row: dict) -> list[str]:
    """Why the record's user columns (action, answer, remark) cannot be saved, in words
    (empty when they can): an answer where the question does not apply, Partial amounts out
    of bounds, a remark that is too long or that the portal blocks, and an Accept answering
    Partial or No without a remark where remarks are allowed."""
    problems = []
    user_set = row.get("user_itc_red_req") is not None
    if user_set and not question_applies(row):
        problems.append("the ITC-reduction question does not apply to this record "
                        "(the portal takes no answer for it): leave ITC to be reduced empty")
    remark = (row.get("user_supplier_remark") or "").strip()
    if len(remark) > REMARK_MAX:
        problems.append(f"the remark to the supplier has {len(remark)} characters; "
                        f"at most {REMARK_MAX} are allowed")
    if remark and not remarks_allowed(row):
        problems.append("the portal takes no remark for this record: clear the remark "
                        "to the supplier (an internal note is fine)")
    return problems + upload_problems(row, amounts=user_set)


def amount_problems(row: dict, decl: dict) -> list[str]:
    """Partial amounts: each head between 0 and its cap, CGST equal to SGST, not all 0."""
    problems = []
    limit = caps(row)
    paise = {}
    for h in HEADS:
        value = decl.get(h)
        try:
            paise[h] = 0 if value is None or value == "" else to_paise(value)
        except (ArithmeticError, ValueError, TypeError):
            problems.append(f"{HEAD_NAMES[h]} to reduce '{value}' is not an amount")
            continue
        if paise[h] < 0:
            problems.append(f"{HEAD_NAMES[h]} to reduce cannot be below 0")
        elif paise[h] > limit[h]:
            problems.append(f"{HEAD_NAMES[h]} to reduce ({inr(paise[h])}) is more than this "
                            f"record allows ({inr(limit[h])})")
    if "cgst" in paise and "sgst" in paise and paise["cgst"] != paise["sgst"]:
        problems.append(f"CGST to reduce ({inr(paise['cgst'])}) must equal SGST to reduce "
                        f"({inr(paise['sgst'])})")
    if len(paise) == len(HEADS) and not problems and not any(paise.values()):
        problems.append("Partial with every amount 0 reduces nothing: choose No instead")
    return problems


def payload_fields(row: dict) -> dict:
    """The answer and remark fields of one SAVE record: `itcRedReq` (+ `declIgst` ..
    `declCess` in rupees for Partial) only for an Accept where the question applies; `remarks`
    with any action unless the portal blocks them."""
    kind, decl, remark = effective_answer(row)
    out: dict = {}
    if row.get("user_action") == "A" and question_applies(row):
        out["itcRedReq"] = "N" if kind == NO else "Y"
        if kind == PARTIAL:
            for h, field in PAYLOAD_HEADS.items():
                out[field] = float(to_paise(decl.get(h)) / 100)
    if remark and remarks_allowed(row):
        out["remarks"] = remark[:REMARK_MAX]
    return out


def upload_problems(row: dict, amounts: bool = True) -> list[str]:
    """Why the upload refuses this record's answer locally (an Accept where the question
    applies: Partial amounts out of bounds (when `amounts`), or Partial / No without a remark
    where remarks are allowed); empty when it may go."""
    if row.get("user_action") != "A" or not question_applies(row):
        return []
    kind, decl, remark = effective_answer(row)
    problems = amount_problems(row, decl) if kind == PARTIAL and amounts else []
    if kind in (PARTIAL, NO) and remarks_allowed(row) and not remark:
        problems.append(f"ITC to be reduced '{ANSWER_LABELS[kind]}' needs a remark to the "
                        "supplier saying why")
    return problems
