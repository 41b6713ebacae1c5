"""core/json_decode.py: orjson's speed, the standard decoder's values and errors."""
from __future__ import annotations

import gc
import json

import pytest

from core.json_decode import decode_json, gc_paused

SAME = [b'{"a": 1, "a": 2}', b'[1e400, -0.0, 0.1, 5e-324]', b'{"n": 18446744073709551616}',
        b'[1,\n -92233720368547758090]', b'NaN', b'[Infinity]', b'"\\ud800"', b'12345678901234567890',
        b'{"hash": "x:12345678901234567890123"}', '{"name": "Sahyadri St\u00e9el"}'.encode()]


@pytest.mark.parametrize("raw", SAME)
def test_values_as_the_standard_decoder_gives_them(raw):
    assert repr(decode_json(raw)) == repr(json.loads(raw))


@pytest.mark.parametrize("raw", [b'[1,]', b'{"a" 1}', b'"\x01"', b'', b'\xff{}'])
def test_errors_as_the_standard_decoder_gives_them(raw):
    with pytest.raises(ValueError) as ours:
        decode_json(raw)
    with pytest.raises(ValueError) as theirs:
        json.loads(raw.decode("utf-8"))
    assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))


def test_the_collector_is_paused_inside_and_as_it_was_after():
    assert gc.isenabled()
    with pytest.raises(KeyError), gc_paused():
        assert not gc.isenabled()
        raise KeyError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()   # left off: it was off
    finally:
        gc.enable()


def test_the_collector_comes_back_when_threads_overlap():
    """Threads pausing it in turns that overlap: on again once the last one leaves."""
    first, second = gc_paused(), gc_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()
