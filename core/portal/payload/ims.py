"""IMS GETINV answers -> flat records: lower-case section keys (`b2b`, `b2bcn`, ...), one
record per document (docs/portal-api.md)."""
from __future__ import annotations

from core.documents import IMPORT_SECTIONS, PORT_SECTIONS, SECTION_DOC_TYPE
from core.gstin import is_valid_gstin
from core.portal.payload.fields import (
    IMS_SECTIONS,
    PayloadError,
    _date,
    _first,
    _paise,
    _rows,
    _text,
    _unwrap,
    _where,
)

# ---------------------------------------------------------------- IMS


def _ims_doc_fields(row: dict, section: str, line: int) -> dict:
    if section in IMPORT_SECTIONS:
        no_f, dt_f = _first(row, "boenum", "inum"), _first(row, "boedt", "idt")
        orig_no_f, orig_dt_f = "oboenum", "oboedt"
    elif section.startswith(("b2bcn", "b2bdn")):
        no_f, dt_f, orig_no_f, orig_dt_f = "nt_num", "nt_dt", "ont_num", "ont_dt"
    else:
        no_f, dt_f, orig_no_f, orig_dt_f = "inum", "idt", "oinum", "oidt"
    return {
        "doc_no": _text(row, no_f, section, line, required=True),
        "doc_date": _date(row, dt_f, section, line, required=True),
        "orig_doc_no": _text(row, orig_no_f, section, line),
        "orig_doc_date": _date(row, orig_dt_f, section, line),
    }


def _supplier(row: dict, section: str, line: int) -> str:
    """The supplier: its GSTIN; for import of goods the port code (`impg`, `impga`) or the SEZ
    unit's GSTIN (`impgsez`, `impgseza`), in capitals."""
    if section in PORT_SECTIONS:
        return (_text(row, _first(row, "portcode", "portcd"), section, line) or "").upper()
    found = _text(row, _first(row, "stin", "sgstin", "ctin"), section, line, required=True)
    return (found or "").upper() if section in IMPORT_SECTIONS else found or ""


def _flag(row: dict, field: str, section: str, line: int) -> str | None:
    """A per-record Y/N flag of the portal (None when absent)."""
    value = _text(row, _first(row, field, field.lower()), section, line)
    if value is None:
        return None
    flag = value.upper()
    if flag not in ("Y", "N"):
        raise PayloadError(f"{_where(section, line)}: field '{field}' = '{value}' is not Y or N")
    return flag


def _ims_record(section: str, line: int, row) -> dict:
    if not isinstance(row, dict):
        raise PayloadError(f"{_where(section, line)}: is {type(row).__name__}, expected an object")
    stin = _supplier(row, section, line)
    blocked = _first(row, "ispendactblocked", "ispendactnallwd")
    remarks = _text(row, "remarks", section, line)
    rec = {
        "section": section, "stin": stin, "stin_valid": is_valid_gstin(stin) if stin and section not in PORT_SECTIONS else None,
        "doc_type": SECTION_DOC_TYPE[section], **_ims_doc_fields(row, section, line),
        "inv_typ": _text(row, "inv_typ", section, line), "pos": _text(row, "pos", section, line),
        "rcm": "N",
        "srcform": _text(row, "srcform", section, line),
        "rtnprd": _text(row, "rtnprd", section, line),
        "srcfilstatus": _text(row, "srcfilstatus", section, line),
        "action": _text(row, "action", section, line) or "N",
        "ispendactblocked": _text(row, blocked, section, line),
        "hash": _text(row, "hash", section, line),
        "itc_red_req": _text(row, _first(row, "itcRedReq", "itc_red_req"), section, line),
        "remarks": remarks, "portal_remarks": remarks,
        "is_itc_red_req_blocked": _flag(row, "isItcRedReqBlocked", section, line),
        "is_remarks_blocked": _flag(row, "isRemarksBlocked", section, line),
        "cfs": None, "cfs3b": None, "dtcancel": None,
        "line": line,
    }
    for out, src in (("val", "val"), ("txval", "txval"), ("igst", "iamt"), ("cgst", "camt"),
                     ("sgst", "samt"), ("cess", _first(row, "cess", "csamt"))):
        rec[out] = _paise(row, src, section, line)
    for out, src in (("decl_igst", "declIgst"), ("decl_cgst", "declCgst"),
                     ("decl_sgst", "declSgst"), ("decl_cess", "declCess")):
        rec[out] = _paise(row, src, section, line, optional=True)
    return rec


def flatten_ims(payload: dict, first: int = 1) -> list[dict]:
    """GETINV answer (one or several sections) -> flat records, in file order per section.
    `first`: the number of each section's first record (a later file of a file-based answer
    goes on counting where the one before stopped)."""
    data = _unwrap(payload)
    records = []
    for section in IMS_SECTIONS:
        for line, row in enumerate(_rows(data, section, ""), start=first):
            records.append(_ims_record(section, line, row))
    return records


