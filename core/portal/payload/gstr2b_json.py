"""A file of a large GSTR-2B read by columns straight from the answer's JSON bytes: Arrow's JSON
reader makes one column per field in C++ with the interpreter lock released (the files that
download at once are read at once on the cores), no Python object per value
(docs/portal-api.md, "Reading by columns"; docs/month-close.md, "Fifth pass").

`read_2b_file_json(raw)` gives what decoding the answer `raw` and reading its `data` by
`read_2b_file_apart` gives: the plain sections' raw columns (the very frame `_raw_columns`
makes) and what else `merge_2b_files` takes of the file (its blocks, each plain section's list
emptied, in the file's order). Or None whenever the answer is not the plain case, and the
caller then decodes it and reads it as before (so values, errors and messages stay today's).

The plain case: a GSTN envelope `{"status_cd": "1", "data": {...}}`, one JSON object in UTF-8
(no byte-order mark), whose `docdata` / `docRejdata` hold only the plain sections (b2b, b2ba,
cdnr, cdnra, ecom, ecoma, impg, impgsez), each a list of supplier groups (of documents for
impg), every field read of the kind its column wants (text as text, an amount as a number), no
document with `items`. Not plain: anything Arrow refuses (bad JSON, a value of two kinds in
one field, a key given twice, a lone surrogate, a number beyond a double), more than one JSON
value, a NaN or infinite number anywhere (Arrow reads `-NaN`, `Inf` and integers too long for
Python's decoder as such), a value nested more than MAX_DEPTH deep, another section (isd,
impga, itcrev, a section no rule knows), a null section, group or document, a text that
looks like a timestamp in a text field of every document (Arrow reads it as a time).

The fields' kinds are inferred by Arrow and checked after, not given as a schema: only the
inferred columns keep the order of the keys, and the sections must come in the file's order.
"""
from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from core.portal.payload.arrow_json import json_table
from core.portal.payload.gstr2b import (
    BLOCKS,
    FAST_SECTIONS,
    GROUP_FIELDS,
    MONEY,
    SECTIONS,
    _doc_fields,
    joined_columns,
    owners,
    section_columns,
)

BOM = b"\xef\xbb\xbf"
MAX_DEPTH = 64              # deeper values: the decoder's way (its own limits and errors)
AMOUNT_TYPES = (pa.float64(), pa.int64(), pa.null())
TEXT_TYPES = (pa.string(), pa.null())


class _NotPlain(Exception):
    """The answer is not the plain case: decoded and read as before."""


def read_2b_file_json(raw: bytes) -> tuple[pl.DataFrame, dict] | None:
    """(raw columns, rest) of the 2B file whose answer bytes are `raw`, as decoding it and
    read_2b_file_apart give them (rest: only the blocks, each plain section's list emptied),
    or None when it is not the plain case."""
    table = _table(raw)
    if table is None or table.num_rows != 1:
        return None
    try:
        return _read(table)
    except (_NotPlain, pa.ArrowException):
        return None


def _read(table: pa.Table) -> tuple[pl.DataFrame, dict]:
    if not _plain_values(table):
        raise _NotPlain
    columns = dict(zip(table.column_names, table.columns))
    status, data = columns.get("status_cd"), columns.get("data")
    if status is None or status.type != pa.string() or status[0].as_py() != "1" or \
            data is None or not pa.types.is_struct(data.type) or data.null_count:
        raise _NotPlain
    blocks = _fields(data.combine_chunks())
    parts, rest = [], {}
    for block in BLOCKS:
        if block not in blocks:
            continue
        sections = blocks[block]
        if sections.null_count:          # null: no sections (as `or {}` reads it)
            rest[block] = {}
            continue
        if not pa.types.is_struct(sections.type):
            raise _NotPlain
        for section, groups in _fields(sections).items():
            if section not in FAST_SECTIONS:
                raise _NotPlain
            parts.append(_section(block, section, groups))
        rest[block] = {section: [] for section in sections.type.names}
    return joined_columns(parts), rest


def _table(raw: bytes) -> pa.Table | None:
    if raw.startswith(BOM):
        return None
    table = json_table(raw, pa_json.ParseOptions(newlines_in_values=True),
                       pa.system_memory_pool())   # given back once read (not kept by mimalloc)
    try:
        if table is not None:
            table.validate(full=True)   # a list of nulls only can come out inconsistent (3 ms)
    except (pa.ArrowException, ValueError):
        return None
    return table


def _plain_values(table: pa.Table) -> bool:
    """Every number finite and nothing nested more than MAX_DEPTH deep, in every field."""
    arrays = [(column.combine_chunks(), 1) for column in table.columns]
    while arrays:
        array, depth = arrays.pop()
        if depth > MAX_DEPTH:
            return False
        kind = array.type
        if pa.types.is_floating(kind):
            if pc.any(pc.invert(pc.is_finite(array))).as_py():
                return False
        elif pa.types.is_struct(kind):
            arrays += [(child, depth + 1) for child in array.flatten()]
        elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
            arrays.append((array.flatten(), depth + 1))
    return True


def _fields(array: pa.StructArray) -> dict[str, pa.Array]:
    """A struct array's fields by name, in the order of the keys (offset and nulls applied)."""
    return dict(zip(array.type.names, array.flatten()))


def _section(block: str, section: str, groups: pa.Array) -> pl.DataFrame:
    """One section's raw columns (section_columns); _NotPlain when not of the plain kind."""
    items_key, _ = SECTIONS[section]
    entries = _entries(groups)
    if items_key is None:   # flat: each entry is a document of its own
        return section_columns(block, section, _documents(section, entries), None)
    if len(entries) and not pa.types.is_struct(entries.type):   # a group that is no object
        raise _NotPlain
    found = _fields(entries) if len(entries) else {}
    outer = pl.DataFrame([_column(found, f, f, pl.Utf8, entries) for f in GROUP_FIELDS])
    lists = found.get(items_key)
    if lists is None or lists.type == pa.null():   # no group has documents
        docs, counts = pa.nulls(0), [0] * len(entries)
    else:
        docs = _entries(lists, nulls_allowed=True)
        counts = pl.Series(pc.list_value_length(lists).fill_null(0), dtype=pl.UInt32)
    return section_columns(block, section, _documents(section, docs), outer[owners(counts)])


def _entries(lists: pa.Array, nulls_allowed: bool = False) -> pa.Array:
    """The values of a list array, refused when a list is not one (or null where no null
    is allowed) or a value is null."""
    if lists.type == pa.null() and (nulls_allowed or not len(lists)):
        return pa.nulls(0)
    if not pa.types.is_list(lists.type) or (lists.null_count and not nulls_allowed):
        raise _NotPlain
    values = lists.flatten()
    if values.null_count:
        raise _NotPlain
    return values


def _documents(section: str, docs: pa.Array) -> pl.DataFrame:
    """The documents' fields of _doc_fields: text as String, amounts as Float64."""
    if len(docs) and not pa.types.is_struct(docs.type):
        raise _NotPlain
    found = _fields(docs) if len(docs) else {}
    if "items" in found:   # amounts per item: the checked reading sums them
        raise _NotPlain
    return pl.DataFrame([_column(found, name, field, pl.Float64 if name in MONEY else pl.Utf8,
                                 docs) for name, field in _doc_fields(section).items()])


def _column(found: dict, name: str, field: str | None, dtype, rows: pa.Array) -> pl.Series:
    """Field `field` of every row as `name`; null where absent; _NotPlain when of another
    kind (a number in a text field, text or a boolean in an amount, a list, an object)."""
    values = found.get(field) if field else None
    if values is None:
        return pl.repeat(None, len(rows), dtype=dtype, eager=True).alias(name)
    if values.type not in (AMOUNT_TYPES if dtype == pl.Float64 else TEXT_TYPES):
        raise _NotPlain
    return pl.Series(name, values).cast(dtype)
