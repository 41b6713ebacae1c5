"""The one place portal payloads become flat records (docs/portal-api.md): IMS GETINV
(payload/ims.py), GSTR-2A (payload/gstr2a.py) and GSTR-2B (payload/gstr2b.py), from the
client's raw answers, with the field readers they share (payload/fields.py).

An IMS answer's JSON bytes, and those of a large GSTR-2B's files, may also be read by columns
without decoding them to Python objects first (payload/ims_json.py, payload/gstr2b_json.py).
IMS and GSTR-2A flatten to the same record dict (RECORD_FIELDS); GSTR-2B to its rows
(ROW_FIELDS). Amounts are integer paise, absolute values. A payload that cannot be read raises
`PayloadError` naming the section, the record's 1-based position and the field. Supplier
GSTINs are never rejected, only flagged (`stin_valid`).
"""
from __future__ import annotations

import polars as pl

from core.json_decode import gc_paused
from core.portal.payload.columns import gstr2a_columns, ims_columns
from core.portal.payload.fields import (
    GSTR2A_SECTIONS,
    IMS_SECTIONS,
    NOTE_TYPE,
    PAISE_FIELDS,
    RECORD_FIELDS,
    RECORD_SCHEMA,
    SECTION_ALIASES,
    PayloadError,
    _date,
    _paise,
    _text,
    _unwrap,
)
from core.portal.payload.gstr2a import flatten_gstr2a
from core.portal.payload.gstr2b import (
    BLOCKS,
    FRAME_SCHEMA,
    MONEY,
    ROW_FIELDS,
    flatten_2b,
    is_gstr2b,
    merge_2b_files,
    read_2b_file,
    read_2b_file_apart,
    read_2b_files,
    read_2b_frame,
    rows_frame,
)
from core.portal.payload.gstr2b_json import read_2b_file_json
from core.portal.payload.ims import flatten_ims
from core.portal.payload.ims_json import ims_json_frame

__all__ = [
    "BLOCKS",
    "FRAME_SCHEMA",
    "GSTR2A_SECTIONS",
    "IMS_SECTIONS",
    "MONEY",
    "NOTE_TYPE",
    "PAISE_FIELDS",
    "RECORD_FIELDS",
    "RECORD_SCHEMA",
    "ROW_FIELDS",
    "SECTION_ALIASES",
    "PayloadError",
    "_date",
    "_paise",
    "_text",
    "detect_kind",
    "flatten",
    "flatten_2b",
    "flatten_gstr2a",
    "flatten_ims",
    "gstr2a_frame",
    "ims_frame",
    "ims_json_frame",
    "is_gstr2b",
    "merge_2b_files",
    "read_2b_file",
    "read_2b_file_apart",
    "read_2b_file_json",
    "read_2b_files",
    "read_2b_frame",
    "read_records_frame",
    "recipient_gstin",
    "records_frame",
    "rows_frame",
    "supplier_groups",
]


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


def ims_frame(payload: dict, first: int = 1) -> pl.DataFrame:
    """records_frame(flatten_ims(payload, first)), read by columns when every value is clean;
    otherwise record by record (the same PayloadError for the same bad input). `first`: the
    number of each section's first record (flatten_ims)."""
    with gc_paused():
        fast = ims_columns(_unwrap(payload), first)
    return fast if fast is not None else records_frame(flatten_ims(payload, first))


def gstr2a_frame(payload: dict, first: int = 1, first_group: int = 1) -> pl.DataFrame:
    """records_frame(flatten_gstr2a(payload, first, first_group)), by columns when clean (as
    ims_frame). `first`, `first_group`: the numbers of each section's first document and
    supplier group (flatten_gstr2a)."""
    with gc_paused():
        fast = gstr2a_columns(_unwrap(payload), first)
    return (fast if fast is not None
            else records_frame(flatten_gstr2a(payload, first, first_group)))


def supplier_groups(payload: dict, key: str) -> int:
    """How many supplier groups section `key` of a GSTR-2A answer holds (bare or in its
    envelope): where the next file's groups start counting."""
    groups = _unwrap(payload).get(key)
    return len(groups) if isinstance(groups, list) else 0


def read_records_frame(payload: dict) -> tuple[str, pl.DataFrame]:
    """flatten + records_frame: ('ims' | 'gstr2a', frame), by columns when clean."""
    kind = detect_kind(payload)
    return kind, (ims_frame(payload) if kind == "ims" else gstr2a_frame(payload))


def recipient_gstin(payload: dict) -> str | None:
    """The recipient (company) GSTIN when the payload says it (`gstin` / `rtin`), else None."""
    data = _unwrap(payload)
    value = data.get("gstin") or data.get("rtin")
    return str(value).strip().upper() if value else None
