"""A large 2B's files decoded in decoder processes (core/portal/decoders.py): what comes back is
what reading the answer here gives; an answer that is not a plain success, or a decoder that
dies, gives None (the client then decodes the bytes itself, with its own messages)."""
from __future__ import annotations

import json

import pytest
from polars.testing import assert_frame_equal

from core.portal import decoders
from core.portal.gstr2b import read_answer_apart
from core.portal.payload.gstr2b import read_2b_file_rows
from tests.fixtures import SAMPLES

pytestmark = pytest.mark.slow   # starts decoder processes


@pytest.fixture(scope="module")
def running():
    decoders.stop_decoders()
    yield
    decoders.stop_decoders()


def sample_data() -> dict:
    return json.loads((SAMPLES / "gstr2b_sample.json").read_text())["data"]


def test_a_file_read_by_a_decoder_is_the_file_read_here(running):
    data = sample_data()
    answer = json.dumps({"status_cd": "1", "data": data}).encode()
    raw, others, rest = decoders.decode_elsewhere(read_answer_apart, answer)
    want_raw, want_others, want_rest = read_2b_file_rows(sample_data())
    assert raw.height == want_raw.height > 5
    assert_frame_equal(raw, want_raw)
    assert_frame_equal(others, want_others)
    assert rest == want_rest
    assert len(decoders._started) == 1   # one decoder was enough, and is kept for the next


@pytest.mark.parametrize("answer", [
    b'{"status_cd": "0", "error": {"error_cd": "RET2B1023", "message": "not generated"}}',
    b"<html>busy</html>", b"[1, 2]", b""])
def test_an_answer_not_a_plain_success_is_left_to_the_client(running, answer):
    assert decoders.decode_elsewhere(read_answer_apart, answer) is None


def test_a_decoder_that_dies_is_replaced(running):
    answer = json.dumps({"status_cd": "1", "data": sample_data()}).encode()
    assert decoders.decode_elsewhere(read_answer_apart, answer) is not None
    for proc in list(decoders._started):
        proc.kill()
        proc.wait()
    assert decoders.decode_elsewhere(read_answer_apart, answer) is None   # decoded here
    assert decoders.decode_elsewhere(read_answer_apart, answer) is not None   # a new one
    assert all(p.poll() is None for p in decoders._started)


def test_decoders_end_when_the_reading_does(running):
    answer = json.dumps({"status_cd": "1", "data": sample_data()}).encode()
    with decoders.decoding(read_answer_apart):
        assert decoders.decode_elsewhere(read_answer_apart, answer) is not None
        started = list(decoders._started)
        assert 1 <= len(started) <= decoders.DECODERS
    assert not decoders._started
    assert all(p.wait(timeout=20) is not None for p in started)   # ended, not held
