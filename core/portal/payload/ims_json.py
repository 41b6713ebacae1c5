"""An IMS GETINV answer read by columns straight from its JSON bytes: Arrow's JSON reader
with an explicit schema makes one column per field in C++ (no Python object per value), and
the columns reader (payload/columns.py) turns them into flat records (docs/portal-api.md,
"Reading by columns").

`ims_json_frame(raw)` gives what decoding `raw` and reading it by `read_records_frame` gives,
or None whenever the answer is not the plain case, and the caller then does exactly that (so
values and messages stay the decoder's and the per-record reader's). Not the plain case:
bytes that are not UTF-8; anything the schema refuses (a value of another kind than its
field's, a key given twice, a record that is not an object, more than one JSON value, bad
JSON); a key that makes it another kind of answer, even when null (`data` and `status_cd`: an
envelope; `cdn`, `cdna`: GSTR-2A; `docdata`, `docRejdata`: GSTR-2B; `ctin` in a `b2b` or
`b2ba` record: GSTR-2A); no IMS section holding a list; and every value the columns reader
sends record by record. Keys are compared as decoded (an escaped `d\\u0061ta` is `data`).
"""
from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from core.portal.payload.arrow_json import json_table
from core.portal.payload.columns import ims_raw_fields, ims_sections_frame
from core.portal.payload.fields import IMS_SECTIONS

RECIPIENT = ("gstin", "rtin")
OTHER_KINDS = {"data", "status_cd", "cdn", "cdna", "docdata", "docRejdata"}
GSTR2A_SIGN = "ctin"                   # in a b2b / b2ba record it makes the answer GSTR-2A
SIGNED = ("b2b", "b2ba")


def _section_type(section: str) -> pa.DataType:
    texts, amounts = ims_raw_fields(section)
    texts = [t for t in dict.fromkeys(texts) if not (section in SIGNED and t == GSTR2A_SIGN)]
    return pa.list_(pa.struct([*((t, pa.string()) for t in texts),
                               *((a, pa.float64()) for a in amounts)]))


SCHEMA = pa.schema([*((r, pa.string()) for r in RECIPIENT),
                    *((s, _section_type(s)) for s in IMS_SECTIONS)])


def ims_json_frame(raw: bytes) -> tuple[pl.DataFrame, str | None] | None:
    """(read_records_frame(payload)'s frame, recipient_gstin(payload)) of the IMS answer whose
    JSON bytes (no byte-order mark) are `raw`, or None when it is not the plain case."""
    table = _table(raw)
    if table is None or table.num_rows != 1 or OTHER_KINDS & set(table.column_names):
        return None
    raws = {}
    for section in IMS_SECTIONS:
        records = table.column(section).combine_chunks()
        if records.null_count:                # absent or null: no records
            continue
        if section in SIGNED and records.type.value_type.get_field_index(GSTR2A_SIGN) >= 0:
            return None
        values = records.flatten()
        if values.null_count:                 # a record that is null, not an object
            return None
        raws[section] = _raw_frame(section, pl.from_arrow(pa.Table.from_struct_array(values)))
    if not raws:                              # no section holding a list: the decoder's way
        return None
    frame = ims_sections_frame({s: r for s, r in raws.items() if r.height})
    return None if frame is None else (frame, _recipient(table))


def _table(raw: bytes) -> pa.Table | None:
    return json_table(raw, pa_json.ParseOptions(explicit_schema=SCHEMA,
                                                unexpected_field_behavior="infer",
                                                newlines_in_values=True))


def _raw_frame(section: str, records: pl.DataFrame) -> pl.DataFrame:
    """The section's fields of ims_raw_fields, null where no record has one."""
    texts, amounts = ims_raw_fields(section)
    return records.select(
        *(pl.col(t) if t in records.columns else pl.lit(None, pl.Utf8).alias(t)
          for t in dict.fromkeys(texts)),
        *(pl.col(a) for a in amounts))


def _recipient(table: pa.Table) -> str | None:
    """recipient_gstin: `gstin`, else `rtin` (blank counts as absent), trimmed, capitals."""
    value = table.column("gstin")[0].as_py() or table.column("rtin")[0].as_py()
    return value.strip().upper() if value else None
