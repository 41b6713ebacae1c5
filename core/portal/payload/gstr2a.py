"""GSTR-2A answers -> flat records: supplier groups (`ctin`) holding documents (`inv` / `nt`)
holding items (`itms[].itm_det`); amounts summed over the items (docs/portal-api.md)."""
from __future__ import annotations

from core.gstin import is_valid_gstin
from core.portal.payload.fields import (
    GSTR2A_SECTIONS,
    NOTE_TYPE,
    PayloadError,
    _check_size,
    _date,
    _first,
    _paise,
    _rows,
    _text,
    _unwrap,
    _where,
)

# ---------------------------------------------------------------- GSTR-2A


def _items_total(doc: dict, section: str, line: int) -> dict:
    items = doc.get("itms") or []
    if not isinstance(items, list):
        raise PayloadError(f"{_where(section, line)}: field 'itms' is not a list")
    total = dict.fromkeys(("txval", "igst", "cgst", "sgst", "cess"), 0)
    for item in items:
        det = item.get("itm_det", item) if isinstance(item, dict) else None
        if not isinstance(det, dict):
            raise PayloadError(f"{_where(section, line)}: field 'itms' holds {item!r}, "
                               "expected objects with 'itm_det'")
        for out, src in (("txval", "txval"), ("igst", "iamt"), ("cgst", "camt"),
                         ("sgst", "samt"), ("cess", _first(det, "csamt", "cess"))):
            total[out] += _paise(det, src, section, line)
    for out, paise in total.items():
        _check_size(paise, f"{_where(section, line)}: the items' {out} adds up to "
                           f"{paise / 100:,.2f} rupees, which")
    return total


def _gstr2a_doc(section: str, line: int, group: dict, doc, period: str | None) -> dict:
    if not isinstance(doc, dict):
        raise PayloadError(f"{_where(section, line)}: is {type(doc).__name__}, expected an object")
    note = section in ("cdn", "cdna")
    if note:
        kind = _text(doc, "ntty", section, line, required=True).upper()
        if kind not in NOTE_TYPE:
            raise PayloadError(f"{_where(section, line)}: field 'ntty' = '{kind}' is not C or D")
        no_f, dt_f, ono_f, odt_f = "nt_num", "nt_dt", "ont_num", "ont_dt"
    else:
        no_f, dt_f, ono_f, odt_f = "inum", "idt", "oinum", "oidt"
    stin = _text(group, "ctin", section, line, required=True)
    return {
        "section": section, "stin": stin, "stin_valid": is_valid_gstin(stin),
        "doc_type": NOTE_TYPE[kind] if note else "INV",
        "doc_no": _text(doc, no_f, section, line, required=True),
        "doc_date": _date(doc, dt_f, section, line, required=True),
        "orig_doc_no": _text(doc, ono_f, section, line),
        "orig_doc_date": _date(doc, odt_f, section, line),
        "inv_typ": _text(doc, "inv_typ", section, line), "pos": _text(doc, "pos", section, line),
        "rcm": _text(doc, "rchrg", section, line) or "N",
        "val": _paise(doc, "val", section, line), **_items_total(doc, section, line),
        "srcform": None, "rtnprd": period, "srcfilstatus": None, "action": None,
        "ispendactblocked": None, "hash": None, "itc_red_req": None,
        "decl_igst": None, "decl_cgst": None, "decl_sgst": None, "decl_cess": None,
        "remarks": None, "portal_remarks": None, "is_itc_red_req_blocked": None,
        "is_remarks_blocked": None, "cfs": _text(group, "cfs", section, line),
        "cfs3b": _text(group, "cfs3b", section, line),
        "dtcancel": _text(group, "dtcancel", section, line), "line": line,
    }


def flatten_gstr2a(payload: dict, first: int = 1, first_group: int = 1) -> list[dict]:
    """GSTR-2A B2B/B2BA/CDN/CDNA (supplier-grouped, item-level) -> one record per document.

    `line` counts documents across the supplier groups of a section, 1-based; `first` and
    `first_group`: the numbers of each section's first document and supplier group (a later
    file of a file-based answer goes on counting where the one before stopped).
    """
    data = _unwrap(payload)
    period = _text(data, "fp", "payload", 0) or _text(data, "ret_period", "payload", 0)
    records = []
    for section in GSTR2A_SECTIONS:
        line = first - 1
        docs_key = "nt" if section in ("cdn", "cdna") else "inv"
        for g, group in enumerate(_rows(data, section, ""), start=first_group):
            if not isinstance(group, dict):
                raise PayloadError(f"{section} supplier group {g}: expected an object")
            for doc in _rows(group, docs_key, f"{section} supplier group {g}: "):
                line += 1
                records.append(_gstr2a_doc(section, line, group, doc, period))
    return records


