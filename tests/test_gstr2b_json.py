"""A file of a large GSTR-2B read by Arrow straight from its answer's bytes (read_2b_file_json)
gives the very raw columns and rest that decoding it and reading it by read_2b_file_apart
give, or None (the client then decodes it and reads it as before), never other columns: on the
samples, on generated files of every plain section (whole and file by file), on hostile values
(the same frame, or None and then the same message); over HTTP a call reads the answer's bytes
with today's retries and fresh login, and not through an adapter that unwraps the envelope."""
from __future__ import annotations

import copy
import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from core.json_decode import decode_json
from core.portal.client import GstnClient
from core.portal.gsp import GspAdapter, GspConfig, GstnError
from core.portal.gstr2b import GSTR2B_PATH, fetch_2b, fetch_2b_frame
from core.portal.payload import merge_2b_files, read_2b_file_json
from core.portal.payload.gstr2b import (
    BLOCKS,
    FAST_SECTIONS,
    SECTIONS,
    _item_sums,
    flatten_2b,
    read_2b_file,
    read_2b_file_apart,
    read_2b_files,
    rows_frame,
)
from tests.fixtures import ROOT, leaf_paths, poke, start_sandbox, stop_sandbox
from tests.test_gstr2b_columns import G, entries, files, shaped  # noqa: F401 (a fixture)
from tests.test_portal_columns import JSON

SAMPLES = ROOT / "tests" / "data"
PLAIN = set(FAST_SECTIONS)


def answer(data, **kw) -> bytes:
    """A successful GSTN answer holding `data`, as the portal sends it."""
    return json.dumps({"status_cd": "1", "data": data}, **{"separators": (",", ":"), **kw}
                      ).encode()


def same_as_decoded(raw: bytes, plain: bool | None = None) -> None:
    """read_2b_file_json(raw) is None or what decoding raw and read_2b_file_apart give (the
    rest: its blocks); `plain`: which of the two it must be."""
    got = read_2b_file_json(raw)
    if plain is not None:
        assert (got is not None) is plain
    if got is None:
        return
    envelope = decode_json(raw)
    assert str(envelope["status_cd"]) == "1"
    columns, rest = read_2b_file_apart(envelope["data"])
    assert columns is not None
    assert_frame_equal(got[0], columns)
    assert got[1] == {b: rest[b] for b in BLOCKS if b in rest}
    assert [list(s) for s in got[1].values()] == \
        [list(envelope["data"][b] or {}) for b in BLOCKS if b in envelope["data"]]


def outcome(first: dict, raws: list[bytes]):
    """What fetch_2b_frame makes of these file answers (each read from its bytes, else
    decoded and read as before) next to what flatten_2b makes of the merged 2B (fetch_2b +
    read record by record): (frame or error message) for both."""
    def checked(read):
        try:
            return read()
        except (ValueError, TypeError, AttributeError) as exc:   # PayloadError, not JSON, a
            return f"{type(exc).__name__}: {exc}"   # layout merge_2b_files cannot take

    def by_files():
        read = [read_2b_file_json(r) or read_2b_file_apart(decode_json(r)["data"])
                for r in raws]
        return read_2b_files(first, [rest for _, rest in read], [cols for cols, _ in read],
                             whole=lambda: merge_2b_files(
                                 first, [decode_json(r)["data"] for r in raws]))[1]

    def whole():
        _, rows = flatten_2b({"data": merge_2b_files(
            first, [decode_json(r)["data"] for r in raws])})
        return rows_frame(rows)
    return checked(by_files), checked(whole)


def same_outcome(first: dict, raws: list[bytes]) -> None:
    got, reference = outcome(first, raws)
    if isinstance(reference, str):
        assert got == reference
    else:
        assert_frame_equal(got, reference)


@pytest.fixture(scope="module")
def plain_entries(entries):  # noqa: F811 (the fixture imported above)
    found = [e for e in entries if e[1] in PLAIN]
    assert {e[1] for e in found} == PLAIN and {e[0] for e in found} == set(BLOCKS)
    return found


def test_generated_files_of_every_plain_section_read_the_same(plain_entries):
    first, parts = files(plain_entries)
    raws = [answer(p) for p in parts]
    for raw in raws:
        same_as_decoded(raw, plain=True)
    same_outcome(first, raws)
    whole = {**first, **shaped(plain_entries)}   # one answer holding every section
    same_as_decoded(answer(whole), plain=True)
    same_as_decoded(answer(whole, indent=2, separators=None, ensure_ascii=False),
                    plain=True)
    reordered = {**whole, "docRejdata": whole["docdata"], "docdata": {  # keys in another order
        s: g for s, g in reversed(whole["docRejdata"].items())}}
    same_as_decoded(answer(reordered), plain=True)


def test_files_with_other_sections_are_decoded_and_read_as_before(entries):  # noqa: F811
    first, parts = files(entries)
    raws = [answer(p) for p in parts]
    read = [read_2b_file_json(r) for r in raws]
    other = [any(s not in PLAIN for b in BLOCKS for s in p.get(b, {})) for p in parts]
    assert any(other) and not all(other)
    assert [r is None for r in read] == other
    for raw in raws:
        same_as_decoded(raw)
    same_outcome(first, raws)


def test_the_samples_read_the_same():
    """The samples as answers: read by Arrow when plain; the real portal's (v4) carries its
    amounts per item (decoded) and, with the items summed into each document, is plain."""
    for name in ("samples/gstr2b_sample.json", "gstr2b_v4_sample.json"):
        data = json.loads((SAMPLES / name).read_text())["data"]
        others = {s for b in BLOCKS for s in data[b]} - PLAIN   # isd, itcrev: decoded
        same_as_decoded(answer(data), plain=not others and read_2b_file(data) is not None)
        plain = {**data, **{b: {s: [{**g, **({k: [_summed(d) for d in g[k]]} if k else {})}
                                    for g in groups for k in [_items_key(s)]]
                                for s, groups in data[b].items() if s in PLAIN}
                            for b in BLOCKS}}
        same_as_decoded(answer(plain), plain=True)
        assert read_2b_file(plain).height > 3
    assert others   # the v4 sample has them


def _items_key(section: str) -> str | None:
    return SECTIONS[section][0]


def _summed(doc: dict) -> dict:
    summed = _item_sums(doc)
    summed.pop("items", None)
    return summed


def _small(plain_entries) -> dict:
    return {"gstin": G, "rtnprd": "102025", "fc": 2, **shaped(plain_entries[:40])}


def _doc(data: dict) -> dict:
    return data["docdata"]["b2b"][0]["inv"][0]


def _data(change):
    """A change to the file's data (made before it is encoded)."""
    return lambda data, raw: (change(data), answer(data, allow_nan=True))[1]


def _bytes(change):
    """A change to the answer's bytes."""
    return lambda data, raw: change(raw)


def _set(field, value):
    return _data(lambda d: _doc(d).__setitem__(field, value))


def _raw(old: bytes, new: bytes):
    return _bytes(lambda raw: raw.replace(old, new, 1))


HOSTILE = {   # name -> (the change, read by Arrow?)
    "number for a text field": (_set("inum", 5), False),
    "bool for an amount": (_set("txval", True), False),
    "text for an amount": (_set("igst", "12.5"), False),
    "object for a text field": (_set("pos", {"a": 1}), False),
    "NUL in a text": (_set("inum", "A\x00B"), True),
    "odd text": (_set("inum", " नमस्ते \x1f"), True),
    "emoji text": (_set("inum", "\U0001f600"), True),
    "big integer": (_set("txval", 10 ** 30), True),
    "integer beyond 64 bits": (_set("txval", 2 ** 64 + 1), True),
    "integer beyond a double's": (_set("txval", 9007199254740993), True),
    "minus zero": (_set("txval", -0.0), True),
    "NaN": (_set("txval", float("nan")), False),
    "infinity": (_set("txval", float("inf")), False),
    "unknown fields": (_data(lambda d: _doc(d).update(irn="X" * 64, diffprcnt=0.65,
                                                      extra={"b2b": [1]})), True),
    "unknown head field": (_data(lambda d: d.update(itcsumm={"itcavl": {"b2b": {"igst": 1}}})),
                           True),
    "a timestamp-like date everywhere": (_data(lambda d: [doc.update(dt="2025-10-08")
                                                          for g in d["docdata"]["b2b"]
                                                          for doc in g["inv"]]), False),
    "null group": (_data(lambda d: d["docdata"]["b2b"].append(None)), False),
    "a group that is a number": (_data(lambda d: d["docdata"]["b2b"].__setitem__(0, 5)), False),
    "a group that is a list": (_data(lambda d: d["docdata"]["b2b"].__setitem__(0, [])), False),
    "a document that is text": (_data(lambda d: d["docdata"]["b2b"][0]["inv"].append("x")),
                                False),
    "null document": (_data(lambda d: d["docdata"]["b2b"][0]["inv"].append(None)), False),
    "nulls only": (_data(lambda d: d["docRejdata"].update(ecom=[None, None])), False),
    "missing list": (_data(lambda d: d["docdata"]["b2b"][0].pop("inv")), True),
    "null list": (_data(lambda d: d["docdata"]["b2b"][0].update(inv=None)), True),
    "empty lists": (_data(lambda d: d["docdata"].update(
        b2b=[], cdnr=[{"ctin": "X", "nt": []}])), True),
    "null section": (_data(lambda d: d["docdata"].update(b2b=None)), False),
    "null block": (_data(lambda d: d.update(docRejdata=None)), True),
    "block as a list": (_data(lambda d: d.update(docRejdata=[])), False),
    "items": (_set("items", None), False),
    "another section": (_data(lambda d: d["docdata"].update(isd=[])), False),
    "a section no rule knows": (_data(lambda d: d["docdata"].update(xyz=[{"a": 1}])), False),
    "deep nesting": (_data(lambda d: d.update(deep=json.loads("[" * 100 + "]" * 100))), False),
    "duplicate key": (_raw(b'"inum":', b'"inum":"X","inum":'), False),
    "lone surrogate": (_raw(b'"inum":"', b'"inum":"\\ud800'), False),
    "key spelled with an escape": (_raw(b'"b2b":', b'"b2\\u0062":'), True),
    "1e400": (_raw(b'"txval":', b'"txval":1e400,"x":'), False),
    "-NaN": (_raw(b'"txval":', b'"txval":-NaN,"x":'), False),
    "Inf": (_raw(b'"txval":', b'"txval":Inf,"x":'), False),
    "integer of 5000 digits": (_raw(b'"txval":', b'"txval":' + b"9" * 5000 + b',"x":'),
                               False),
    "byte-order mark": (_bytes(lambda raw: b"\xef\xbb\xbf" + raw), False),
    "two JSON values": (_bytes(lambda raw: raw + b"\n" + raw), False),
    "not UTF-8": (_raw(b'"inum":"', b'"inum":"\xff'), False),
    "status as a number": (_raw(b'"status_cd":"1"', b'"status_cd":1'), False),
    "an error answer": (_raw(b'"status_cd":"1"', b'"status_cd":"0"'), False),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_reads_the_same_or_is_decoded_with_todays_message(plain_entries,
                                                                          name):
    change, plain = HOSTILE[name]
    data = copy.deepcopy(_small(plain_entries))
    raw = change(data, answer(data))
    assert (read_2b_file_json(raw) is not None) is plain
    try:
        envelope = decode_json(raw)
    except ValueError:
        return   # not JSON: the client says so (GstnError), as it does today
    same_as_decoded(raw)
    if str(envelope.get("status_cd")) == "1" and isinstance(envelope.get("data"), dict):
        same_outcome({"gstin": G, "fc": 2}, [answer(_small(plain_entries)), raw])


PART = {"gstin": G, "docdata": {
    "b2b": [{"ctin": "29AAACB1234C1Z5", "trdnm": "Bee Traders", "supprd": "102025",
             "supfildt": "11-11-2025", "inv": [
                 {"inum": "S/1", "dt": "01-10-2025", "val": 118.5, "pos": "27", "rev": "N",
                  "typ": "R", "txval": 100, "igst": 18.5, "itcavl": "Y", "rsn": None},
                 {"inum": "S/2", "dt": "02-10-2025", "txval": 10.25, "cgst": 0.9,
                  "sgst": 0.9}]}],
    "cdnr": [{"ctin": "27AAACC1234D1Z3", "nt": [
        {"ntnum": "C/1", "typ": "C", "suptyp": "R", "dt": "03-10-2025", "txval": 50}]}],
    "impg": [{"portcode": "INMAA1", "boenum": "123", "boedt": "04-10-2025", "txval": 1000,
              "igst": 180}]},
    "docRejdata": {"ecom": [{"ctin": "27AAACE1234E1Z1", "inv": [
        {"inum": "E/1", "dt": "05-10-2025", "txval": 5}]}]}}


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_one_odd_value_anywhere_reads_the_same_or_is_decoded(data):
    part = copy.deepcopy(PART)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = {p[:n] for p in leaf_paths(part) for n in range(1, len(p) + 1)}   # any node
        poke(part, data.draw(st.sampled_from(sorted(paths, key=str))), data.draw(JSON))
    raw = answer(part, allow_nan=True)
    same_as_decoded(raw)
    same_outcome({"gstin": G, "fc": 2}, [answer(PART), raw])


# ---------------------------------------------------------------- over HTTP


@pytest.fixture(scope="module")
def sandbox_url():
    sb = start_sandbox(extra=["--gstin", G])
    yield sb.url
    stop_sandbox(sb)


class Unwrapping(GspAdapter):
    """A GSP whose envelope the adapter reads (here: as it comes)."""

    def unwrap(self, body: dict) -> dict:
        return dict(body)


@pytest.mark.slow
def test_over_http_a_file_is_read_from_its_bytes_with_todays_retries_and_login(sandbox_url):
    client = GstnClient(GspConfig.load(url=sandbox_url), backoff=0.01)
    requests.post(f"{sandbox_url}/_control/gstr2b", json={"per_file": 40}, timeout=30)
    params = {"action": "GET2B", "gstin": G, "rtnprd": "092025", "file_num": 1}
    decoded = client.call("GET", GSTR2B_PATH, G, params)
    columns, rest = read_2b_file_apart(decoded)
    read = client.call("GET", GSTR2B_PATH, G, params, read_bytes=read_2b_file_json)
    assert isinstance(read, tuple)
    assert_frame_equal(read[0], columns)
    assert read[1] == {b: rest[b] for b in BLOCKS}

    logins = client.stats["logins"]
    for kind in ("expire_session", "5xx"):
        requests.post(f"{sandbox_url}/_control/fault", timeout=30, json={
            "kind": kind, "times": 1, "path_contains": "gstr2b"})
    again = client.call("GET", GSTR2B_PATH, G, params, read_bytes=read_2b_file_json)
    assert_frame_equal(again[0], columns)
    assert client.stats["logins"] == logins + 1 and client.stats["retries"] >= 1

    errors = []
    for read_bytes in (None, read_2b_file_json):
        with pytest.raises(GstnError) as exc:
            client.call("GET", GSTR2B_PATH, G, {**params, "file_num": 999},
                        read_bytes=read_bytes)
        errors.append((exc.value.error_cd, str(exc.value)))
    assert errors[0] == errors[1] and errors[0][0] == "RET2B1018"

    unwrapping = GstnClient(GspConfig.load(url=sandbox_url),
                            adapter=Unwrapping(GspConfig.load(url=sandbox_url)))
    assert unwrapping.call("GET", GSTR2B_PATH, G, params,
                           read_bytes=read_2b_file_json) == decoded

    head, frame = fetch_2b_frame(client, G, "092025")
    reference = flatten_2b({"data": fetch_2b(client, G, "092025")})
    assert head == reference[0]
    assert_frame_equal(frame, rows_frame(reference[1]))
