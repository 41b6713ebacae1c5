"""JSON bytes -> Python objects with orjson (several times faster than the standard decoder on
large portal payloads), giving exactly what the standard decoder gives.

orjson is stricter than the standard decoder: NaN, Infinity, numbers beyond a double, lone
surrogates are refused; and an integer beyond 64 bits becomes a float. Whatever orjson refuses
is decoded again by the standard decoder (so its result, or its error and message, is the one
returned); text holding an integer of 19 digits or more is read by the standard decoder only.
"""
from __future__ import annotations

import json

import orjson

DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
LONG_RUN = b"0" * 19   # 19 digits or more may overflow 64 bits (hashes in text have them too)
BEFORE_NUMBER = frozenset(b":,[")


def decode_json(raw: bytes):
    """The JSON value of `raw` (UTF-8 bytes), as json.loads(raw.decode()) gives it, and its
    errors (JSONDecodeError, UnicodeDecodeError: both ValueError)."""
    if not _may_hold_long_integer(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw.decode("utf-8"))


def _may_hold_long_integer(raw: bytes) -> bool:
    """A run of 19+ digits that starts a JSON number (after ':', ',', '[' or at the start,
    maybe with a sign and spaces); runs inside text (hashes) are passed over."""
    digits = raw.translate(DIGITS_AS_ZERO)   # bytes.find is fast; a regex here is not
    start = digits.find(LONG_RUN)
    while start >= 0:
        at, start = start - 1, digits.find(LONG_RUN, start + len(LONG_RUN))
        if at >= 0 and raw[at] == ord("-"):
            at -= 1
        while at >= 0 and raw[at] in b" \t\r\n":
            at -= 1
        if at < 0 or raw[at] in BEFORE_NUMBER:
            return True
    return False
