"""An answer's JSON bytes read whole by Arrow's JSON reader, for the readings by columns
(ims_json.py: an IMS answer; gstr2b_json.py: a file of a large GSTR-2B).

`json_table(raw, parse_options, memory_pool)` -> the Arrow table of `raw` read as one block,
or None when `raw` is too large for one block, is not UTF-8, or Arrow refuses it (not JSON, a
value of another kind than the schema's or than the same field's elsewhere): the caller then
decodes it as before.
"""
from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.json as pa_json

MAX_BYTES = 2 ** 31 - 2                # Arrow reads the answer as one block


def json_table(raw: bytes, parse_options: pa_json.ParseOptions,
               memory_pool: pa.MemoryPool | None = None) -> pa.Table | None:
    """The table of `raw` (one block, one thread), or None when it cannot be read so."""
    if len(raw) > MAX_BYTES or not (raw.isascii() or _is_utf8(raw)):
        return None
    try:
        return pa_json.read_json(
            io.BytesIO(raw),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=len(raw) + 1),
            parse_options=parse_options, memory_pool=memory_pool)
    except (pa.ArrowException, ValueError):   # not JSON, or not of the kinds asked
        return None


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
