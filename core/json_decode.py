"""JSON bytes -> Python objects with orjson (several times faster than the standard decoder on
large portal payloads), giving exactly what the standard decoder gives.

orjson is stricter than the standard decoder: NaN, Infinity, numbers beyond a double, lone
surrogates are refused; and an integer beyond 64 bits becomes a float. Whatever orjson refuses
is decoded again by the standard decoder (so its result, or its error and message, is the one
returned); text holding an integer of 19 digits or more is read by the standard decoder only.

A large answer makes millions of objects at once, none of them in a reference cycle: the
cyclic garbage collector is paused while they are made (`gc_paused`), or it would walk the
whole heap again and again (a second of a 200,000-record fetch).
"""
from __future__ import annotations

import gc
import json
import threading
from contextlib import contextmanager

import orjson

DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
LONG_RUN = b"0" * 19   # 19 digits or more may overflow 64 bits (hashes in text have them too)
BEFORE_NUMBER = frozenset(b":,[")


def decode_json(raw: bytes):
    """The JSON value of `raw` (UTF-8 bytes), as json.loads(raw.decode()) gives it, and its
    errors (JSONDecodeError, UnicodeDecodeError: both ValueError)."""
    with gc_paused():
        if not _may_hold_long_integer(raw):
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError:
                pass
        return json.loads(raw.decode("utf-8"))


_PAUSE = threading.Lock()
_paused = {"depth": 0, "was_on": False}   # answers are decoded in threads (2B files)


@contextmanager
def gc_paused():
    """The cyclic garbage collector off inside (as it was after the last one leaves, threads
    included): for code that makes many objects and no reference cycles (reference counting
    still frees them)."""
    with _PAUSE:
        if _paused["depth"] == 0:
            _paused["was_on"] = gc.isenabled()
            gc.disable()
        _paused["depth"] += 1
    try:
        yield
    finally:
        with _PAUSE:
            _paused["depth"] -= 1
            if _paused["depth"] == 0 and _paused["was_on"]:
                gc.enable()


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
