"""An IMS answer read by columns straight from its JSON bytes (ims_json_frame) gives the very
frame and recipient that decoding it and reading it by read_records_frame give, or None (the
caller then decodes it), never another frame: on the samples, on generated data of every
section, on odd text and odd values anywhere; and None for each case that is not plain."""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from core.json_decode import decode_json
from core.portal import PayloadError, ims_json_frame, read_records_frame, recipient_gstin
from sandbox.generate import generate_files
from tests.fixtures import SAMPLES, leaf_paths, poke
from tests.test_portal_columns import (
    IMS_OTHER_FIELDS,
    IMS_TEXT_FIELDS,
    JSON,
    ODD_KINDS,
    ims_row,
    odd_text,
)

pytestmark = pytest.mark.slow   # generated cases, as tests/conftest.py's SLOW_MODULES
SAMPLE_IMS = json.loads((SAMPLES / "ims_getinv_sample.json").read_text())


def as_bytes(payload) -> bytes:
    return json.dumps(payload).encode()


def same_as_decoded(raw: bytes, plain: bool | None = None) -> None:
    """ims_json_frame(raw) is None or the decoded reading's (frame, recipient); `plain`: which
    of the two it must be."""
    got = ims_json_frame(raw)
    if plain is not None:
        assert (got is not None) is plain
    if got is None:
        return
    payload = decode_json(raw)
    kind, frame = read_records_frame(payload)   # a PayloadError here fails the test
    assert kind == "ims"
    assert_frame_equal(got[0], frame)
    assert got[1] == recipient_gstin(payload)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("generated")
    generate_files(str(out), 2000, 3)
    return json.loads((out / "ims.json").read_text())


def test_the_sample_and_every_generated_section_read_the_same(generated):
    same_as_decoded(as_bytes(SAMPLE_IMS), plain=True)
    same_as_decoded(as_bytes(generated), plain=True)
    for section, rows in generated.items():
        if isinstance(rows, list):
            same_as_decoded(as_bytes({section: rows, "rtin": " 27aaacw1234k1zd "}), plain=True)
    same_as_decoded(as_bytes({"b2b": [], "ecom": None}), plain=True)


def test_odd_text_and_odd_values_read_the_same(generated):
    sections = [s for s, rows in generated.items() if isinstance(rows, list)]
    for section in sections:
        odd = copy.deepcopy(generated[section][:20])
        for i, row in enumerate(odd):
            row.update({f: odd_text(i, j) for j, f in enumerate(IMS_TEXT_FIELDS)
                        if f != "ctin" and (f in row or j % 3 == i % 3)})
        same_as_decoded(json.dumps({section: odd}, ensure_ascii=False).encode(),
                        plain=None if section.startswith("impg") else True)
    for n, field in enumerate((*IMS_TEXT_FIELDS, *IMS_OTHER_FIELDS) * 2):
        section = sections[n % len(sections)]
        kinds = copy.deepcopy(generated[section][:3])
        kinds[1][field] = ODD_KINDS[n % len(ODD_KINDS)]
        same_as_decoded(as_bytes({section: kinds}))
    same_as_decoded(as_bytes({"b2b": [ims_row(remarks="नमस्ते \x1f", pos=" 27 ")]}),
                    plain=True)
    same_as_decoded(json.dumps({"b2b": [ims_row(remarks="नमस्ते")]},
                               ensure_ascii=False).encode(), plain=True)


@pytest.mark.parametrize("raw", [
    as_bytes({"status_cd": "1", "data": {"b2b": [ims_row()]}}),   # an envelope
    as_bytes({"data": None, "b2b": [ims_row()]}),                  # `data`, even null
    b'{"d\\u0061ta": null, "b2b": []}',                             # spelled with an escape
    as_bytes({"b2b": [ims_row(ctin=None)]}),                       # GSTR-2A's supplier key
    as_bytes({"cdn": None, "b2b": [ims_row()]}),                   # a GSTR-2A section
    as_bytes({"docdata": {}, "b2b": []}),                          # GSTR-2B
    as_bytes({"b2b": [ims_row(inum=5)]}),                          # a number as text
    as_bytes({"b2b": [ims_row(txval="5")]}),                       # text as an amount
    as_bytes({"b2b": [ims_row(txval=True)]}),
    as_bytes({"b2b": [ims_row(), None]}),                          # a record that is null
    as_bytes({"b2b": [ims_row(), 5]}),
    as_bytes({"b2b": {"inum": "X"}}),                              # a section that is no list
    b'{"b2b": [{"inum": "A", "inum": "B"}]}',                       # a key given twice
    b'{"b2b": []}\n{"b2b": []}',                                    # two JSON values
    b'{"b2b": [], }',                                               # not JSON
    b'{"b2b": [{"inum": "\xff"}]}',                                 # not UTF-8
    b'{"b2b": [{"x": "\xc3"}]}',                                    # not UTF-8, in any field
    b'{"b2b": [{"txval": NaN}]}',                                   # not a JSON number
    as_bytes({"gstin": "27AAACW1234K1ZD"}),                        # no section
    as_bytes({"b2b": None}),                                       # only a null one
    as_bytes([ims_row()]),
    b"",
])
def test_what_is_not_plain_is_left_to_the_decoder(raw):
    assert ims_json_frame(raw) is None


TEXT = st.text(max_size=12) | st.sampled_from(["", " ", "Y", "n", " 01-10-2025", "27", "\x1c"])
AMOUNT = (st.integers(-10 ** 13, 10 ** 13) | st.floats(-1e13, 1e13)
          | st.integers(-10 ** 9, 10 ** 9).map(lambda p: p / 100))


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_one_odd_value_anywhere_reads_the_same_or_is_left_to_the_decoder(data):
    doc = copy.deepcopy(SAMPLE_IMS)
    paths = [p for p in leaf_paths(doc) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        old = poke(doc, path, None)
        same_kind = (TEXT if isinstance(old, str) else AMOUNT
                     if isinstance(old, (int, float)) else JSON)
        poke(doc, path, data.draw(st.one_of(JSON, same_kind, same_kind, st.none())))
    try:
        raw = as_bytes(doc)
        read_records_frame(decode_json(raw))
    except (PayloadError, ValueError):
        assert ims_json_frame(raw) is None
        return
    same_as_decoded(raw)
