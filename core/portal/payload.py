"""Portal payloads -> flat records (docs/portal-api.md).

Two shapes come from the GST system:
- IMS GETINV: lower-case section keys (`b2b`, `b2bcn`, ...), one flat record per document.
- GSTR-2A: supplier groups (`ctin`) holding documents (`inv` / `nt`) holding items
  (`itms[].itm_det`); amounts are summed over the items.

Both flatten to the same record dict (RECORD_FIELDS). Amounts are integer paise, absolute
values. A payload that cannot be read raises `PayloadError` naming the section, the
record's 1-based position and the field. Supplier GSTINs are never rejected, only flagged
(`stin_valid`).
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import polars as pl

from core.documents import IMPORT_SECTIONS, PORT_SECTIONS, SECTION_DOC_TYPE
from core.gstin import is_valid_gstin

IMS_SECTIONS = tuple(SECTION_DOC_TYPE)  # b2b b2ba ecom ecoma b2bcn b2bcna b2bdn b2bdna impg...
GSTR2A_SECTIONS = ("b2b", "b2ba", "cdn", "cdna")
NOTE_TYPE = {"C": "CRN", "D": "DBN"}
# Other spellings of IMS section keys (GETCNT / REQSTS answers use `cn` as well as `b2bcn`).
SECTION_ALIASES = {"cn": "b2bcn", "cna": "b2bcna", "dn": "b2bdn", "dna": "b2bdna",
                   "cdn": "b2bcn", "cdna": "b2bcna", "imp_gds": "impg", "impgasez": "impgseza"}

STR_FIELDS = ("section", "stin", "doc_type", "doc_no", "orig_doc_no", "inv_typ", "pos", "rcm",
              "srcform", "rtnprd", "srcfilstatus", "action", "ispendactblocked", "hash",
              "itc_red_req", "remarks", "portal_remarks", "is_itc_red_req_blocked",
              "is_remarks_blocked", "cfs")
DATE_FIELDS = ("doc_date", "orig_doc_date")
PAISE_FIELDS = ("val", "txval", "igst", "cgst", "sgst", "cess",
                "decl_igst", "decl_cgst", "decl_sgst", "decl_cess")
RECORD_SCHEMA = {
    **{f: pl.Utf8 for f in STR_FIELDS},
    **{f: pl.Date for f in DATE_FIELDS},
    **{f: pl.Int64 for f in PAISE_FIELDS},
    "stin_valid": pl.Boolean,
    "line": pl.Int64,
}
RECORD_FIELDS = tuple(RECORD_SCHEMA)


class PayloadError(ValueError):
    """A portal payload that cannot be read; the message names section, record and field."""


# ---------------------------------------------------------------- field readers


def _where(section: str, line: int) -> str:
    return f"{section} record {line}"


def _text(row: dict, field: str, section: str, line: int, required: bool = False) -> str | None:
    value = row.get(field)
    if value is None or value == "":
        if required:
            raise PayloadError(f"{_where(section, line)}: field '{field}' is missing")
        return None
    if isinstance(value, (dict, list, bool)):
        raise PayloadError(f"{_where(section, line)}: field '{field}' = {value!r} is not text")
    return str(value).strip()


def _date(row: dict, field: str, section: str, line: int, required: bool = False) -> dt.date | None:
    value = _text(row, field, section, line, required)
    if value is None:
        return None
    try:
        if len(value) != 10 or value[2] != "-" or value[5] != "-":
            raise ValueError
        return dt.date(int(value[6:10]), int(value[3:5]), int(value[0:2]))
    except ValueError:
        raise PayloadError(f"{_where(section, line)}: field '{field}' = '{value}' "
                           "is not a DD-MM-YYYY date") from None


MAX_PAISE = 10 ** 18   # DECIMAL(18,2) holds up to 9,999,999,999,999,999.99 rupees


def _paise(row: dict, field: str, section: str, line: int, optional: bool = False) -> int | None:
    """Rupees (number or numeric text) -> absolute integer paise; missing -> 0 (or None).

    NaN, infinities, booleans and text that is no number are not amounts; amounts the store's
    DECIMAL(18,2) cannot hold (10^16 rupees or more) are too large. Both raise PayloadError.
    """
    value = row.get(field)
    if value is None or value == "":
        return None if optional else 0
    paise = _amount_paise(value)
    if paise is None:
        raise PayloadError(f"{_where(section, line)}: field '{field}' = {_shown(value)} "
                           "is not an amount")
    _check_size(paise, f"{_where(section, line)}: field '{field}' = {_shown(value)}")
    return paise


def _check_size(paise: int, what: str) -> None:
    if paise >= MAX_PAISE:
        raise PayloadError(f"{what} is too large for an amount (the limit is 10^16 rupees)")


def _amount_paise(value) -> int | None:
    """Absolute paise (half-up) of a finite number or numeric text; None when not an amount."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return abs(value) * 100
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        scaled = value * 100   # infinite for the largest floats: those go the Decimal way
        if math.isfinite(scaled) and abs(scaled - round(scaled)) < 1e-6:
            return abs(round(scaled))
    if not isinstance(value, (float, str)):
        return None
    try:
        exact = Decimal(repr(value) if isinstance(value, float) else value.strip())
        if not exact.is_finite():
            return None
        if abs(exact) >= MAX_PAISE // 100:   # too large; keep quantize within its precision
            return MAX_PAISE
        return abs(int((exact * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    except InvalidOperation:
        return None


def _shown(value) -> str:
    """A value for a message: repr, cut short (huge integers cannot even be printed)."""
    try:
        text = repr(value)
    except ValueError:
        return f"a {type(value).__name__} too long to show"
    return text if len(text) <= 40 else text[:37] + "..."


def _first(row: dict, *fields: str):
    """The first of several spellings that is present (sources disagree on names)."""
    for f in fields:
        if row.get(f) not in (None, ""):
            return f
    return fields[0]


def _rows(payload: dict, key: str, where: str) -> list:
    rows = payload.get(key)
    if rows is None:
        return []
    if not isinstance(rows, list):
        raise PayloadError(f"{where}'{key}' is {type(rows).__name__}, expected a list of records")
    return rows


def _unwrap(payload) -> dict:
    """Accept the bare `data` object or the whole `{"status_cd", "data"}` envelope."""
    if not isinstance(payload, dict):
        raise PayloadError(f"payload is {type(payload).__name__}, expected a JSON object")
    if isinstance(payload.get("data"), dict) and "status_cd" in payload:
        return payload["data"]
    return payload


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
        "cfs": None,
        "line": line,
    }
    for out, src in (("val", "val"), ("txval", "txval"), ("igst", "iamt"), ("cgst", "camt"),
                     ("sgst", "samt"), ("cess", _first(row, "cess", "csamt"))):
        rec[out] = _paise(row, src, section, line)
    for out, src in (("decl_igst", "declIgst"), ("decl_cgst", "declCgst"),
                     ("decl_sgst", "declSgst"), ("decl_cess", "declCess")):
        rec[out] = _paise(row, src, section, line, optional=True)
    return rec


def flatten_ims(payload: dict) -> list[dict]:
    """GETINV answer (one or several sections) -> flat records, in file order per section."""
    data = _unwrap(payload)
    records = []
    for section in IMS_SECTIONS:
        for line, row in enumerate(_rows(data, section, ""), start=1):
            records.append(_ims_record(section, line, row))
    return records


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
        "is_remarks_blocked": None, "cfs": _text(group, "cfs", section, line), "line": line,
    }


def flatten_gstr2a(payload: dict) -> list[dict]:
    """GSTR-2A B2B/B2BA/CDN/CDNA (supplier-grouped, item-level) -> one record per document.

    `line` counts documents across the supplier groups of a section, 1-based.
    """
    data = _unwrap(payload)
    period = _text(data, "fp", "payload", 0) or _text(data, "ret_period", "payload", 0)
    records = []
    for section in GSTR2A_SECTIONS:
        line = 0
        docs_key = "nt" if section in ("cdn", "cdna") else "inv"
        for g, group in enumerate(_rows(data, section, ""), start=1):
            if not isinstance(group, dict):
                raise PayloadError(f"{section} supplier group {g}: expected an object")
            for doc in _rows(group, docs_key, f"{section} supplier group {g}: "):
                line += 1
                records.append(_gstr2a_doc(section, line, group, doc, period))
    return records


def detect_kind(payload: dict) -> str:
    """'gstr2a' when documents are grouped under suppliers (`ctin`), else 'ims'."""
    data = _unwrap(payload)
    if any(k in data for k in ("cdn", "cdna")):
        return "gstr2a"
    for key in ("b2b", "b2ba"):
        rows = data.get(key)
        if isinstance(rows, list) and rows and isinstance(rows[0], dict):
            return "gstr2a" if "ctin" in rows[0] else "ims"
    if any(k in data for k in IMS_SECTIONS):
        return "ims"
    raise PayloadError(f"payload has none of the IMS sections ({', '.join(IMS_SECTIONS)}) nor "
                       "GSTR-2A sections (b2b, b2ba, cdn, cdna)")


def flatten(payload: dict) -> tuple[str, list[dict]]:
    """Detect the kind and flatten: ('ims' | 'gstr2a', records)."""
    kind = detect_kind(payload)
    return kind, (flatten_ims(payload) if kind == "ims" else flatten_gstr2a(payload))


def records_frame(records: list[dict]) -> pl.DataFrame:
    """Flat records -> a Polars frame with the same columns and dtypes every time."""
    columns = {f: [r.get(f) for r in records] for f in RECORD_FIELDS}
    return pl.DataFrame(columns, schema=RECORD_SCHEMA)


def recipient_gstin(payload: dict) -> str | None:
    """The recipient (company) GSTIN when the payload says it (`gstin` / `rtin`), else None."""
    data = _unwrap(payload)
    value = data.get("gstin") or data.get("rtin")
    return str(value).strip().upper() if value else None
