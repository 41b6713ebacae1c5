"""What every portal payload shares: the flat record of IMS and GSTR-2A, the field readers
(text, date, paise) and `PayloadError`, which names the section, the record's 1-based position
and the field (docs/portal-api.md)."""
from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import polars as pl

from core.documents import SECTION_DOC_TYPE

IMS_SECTIONS = tuple(SECTION_DOC_TYPE)  # b2b b2ba ecom ecoma b2bcn b2bcna b2bdn b2bdna impg...
GSTR2A_SECTIONS = ("b2b", "b2ba", "cdn", "cdna")
NOTE_TYPE = {"C": "CRN", "D": "DBN"}
# Other spellings of IMS section keys (GETCNT / REQSTS answers use `cn` as well as `b2bcn`).
SECTION_ALIASES = {"cn": "b2bcn", "cna": "b2bcna", "dn": "b2bdn", "dna": "b2bdna",
                   "cdn": "b2bcn", "cdna": "b2bcna", "imp_gds": "impg", "impgasez": "impgseza"}

STR_FIELDS = ("section", "stin", "doc_type", "doc_no", "orig_doc_no", "inv_typ", "pos", "rcm",
              "srcform", "rtnprd", "srcfilstatus", "action", "ispendactblocked", "hash",
              "itc_red_req", "remarks", "portal_remarks", "is_itc_red_req_blocked",
              "is_remarks_blocked", "cfs", "cfs3b", "dtcancel")
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


