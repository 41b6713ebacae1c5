"""IMS and GSTR-2A read by columns give the very frame the per-record reader gives (the
reference: records_frame(flatten_...)), on the samples, on generated data of every section,
on unusual but valid values, and with one bad value anywhere: then the same PayloadError."""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from core.portal.payload import (
    GSTR2A_SECTIONS,
    IMS_SECTIONS,
    PayloadError,
    flatten_gstr2a,
    flatten_ims,
    gstr2a_frame,
    ims_frame,
    read_records_frame,
    records_frame,
)
from core.portal.payload.columns import gstr2a_columns, ims_columns
from sandbox.generate import generate_files
from tests.fixtures import SAMPLES, leaf_paths, poke

SAMPLE_IMS = json.loads((SAMPLES / "ims_getinv_sample.json").read_text())
SAMPLE_2A = json.loads((SAMPLES / "gstr2a_b2b_sample.json").read_text())
READERS = {"ims": (ims_frame, flatten_ims, ims_columns),
           "gstr2a": (gstr2a_frame, flatten_gstr2a, gstr2a_columns)}


def same_reading(kind: str, payload: dict, by_columns: bool | None = None) -> None:
    """The frame (or the PayloadError) of ims_frame / gstr2a_frame is the reference's."""
    frame_of, flatten_of, columns_of = READERS[kind]
    try:
        expected = records_frame(flatten_of(copy.deepcopy(payload)))
    except PayloadError as exc:
        with pytest.raises(PayloadError) as got:
            frame_of(payload)
        assert str(got.value) == str(exc)
        return
    assert_frame_equal(frame_of(payload), expected)
    if by_columns is not None:
        assert (columns_of(payload.get("data", payload)) is not None) is by_columns


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("generated")
    generate_files(str(out), 4000, 3)
    return {kind: json.loads((out / f"{kind}.json").read_text()) for kind in ("ims", "gstr2a")}


def test_the_samples_read_by_columns_as_record_by_record():
    same_reading("ims", SAMPLE_IMS, by_columns=True)
    same_reading("gstr2a", SAMPLE_2A, by_columns=True)
    assert read_records_frame(SAMPLE_IMS)[0] == "ims"
    assert read_records_frame(SAMPLE_2A)[0] == "gstr2a"


def test_generated_data_of_every_ims_section_reads_the_same(generated):
    payload = generated["ims"]
    assert all(payload.get(s) for s in IMS_SECTIONS), "the generator writes every section"
    for section in IMS_SECTIONS:
        same_reading("ims", {section: payload[section]}, by_columns=True)
    same_reading("ims", payload, by_columns=True)
    same_reading("ims", {"status_cd": "1", "data": payload}, by_columns=True)


def test_generated_gstr2a_of_every_section_reads_the_same(generated):
    payload = generated["gstr2a"]
    assert all(payload.get(s) for s in GSTR2A_SECTIONS), "the generator writes every section"
    for section in GSTR2A_SECTIONS:
        same_reading("gstr2a", {"fp": payload.get("fp"), section: payload[section]},
                     by_columns=True)
    same_reading("gstr2a", payload, by_columns=True)


# Text that looks like something else (booleans, null, numbers, flags) or is edged with
# white space Python and Polars disagree on (\x1c-\x1f: Python's str.strip takes them, Polars'
# strip_chars() alone does not): the columns must read each exactly as the reference does.
ODD_TEXTS = ("true", "false", "True", "FALSE", "null", "Y", "n", "0", "1", "1e3", "-0", " x ",
             "\x1cx\x1f", "\x1d", "\xa0x\u3000", "  ", "\x85", "ß", "\u0130", "ǆ")
# Values of another kind than a field wants: read per record, the same value or error.
ODD_KINDS = (True, False, "true", "false", 0, 1.5, -2, "1,000", "", " ", None, [], {}, "Y",
             "31-02-2025", 10 ** 16)
IMS_TEXT_FIELDS = ("stin", "sgstin", "ctin", "portcode", "portcd", "inum", "nt_num", "boenum",
                   "oinum", "ont_num", "oboenum", "inv_typ", "pos", "srcform", "rtnprd",
                   "srcfilstatus", "action", "ispendactblocked", "ispendactnallwd", "hash",
                   "itcRedReq", "itc_red_req", "remarks")
IMS_OTHER_FIELDS = ("idt", "nt_dt", "boedt", "oidt", "ont_dt", "oboedt", "val", "txval", "iamt",
                    "camt", "samt", "cess", "csamt", "declIgst", "declCgst", "declSgst",
                    "declCess", "isItcRedReqBlocked", "isitcredreqblocked", "isRemarksBlocked",
                    "isremarksblocked")
GSTR2A_TEXT_FIELDS = {"group": ("ctin", "cfs", "cfs3b", "dtcancel"),
                      "doc": ("inum", "nt_num", "oinum", "ont_num", "inv_typ", "pos", "rchrg")}
GSTR2A_OTHER_FIELDS = {"doc": ("idt", "nt_dt", "oidt", "ont_dt", "val", "ntty", "itms"),
                       "item": ("txval", "iamt", "camt", "samt", "csamt", "cess")}


def odd_text(i: int, j: int) -> str:
    return ODD_TEXTS[(i * 7 + j) % len(ODD_TEXTS)]


def test_odd_text_in_every_ims_section_reads_the_same_by_columns(generated):
    for section in IMS_SECTIONS:
        rows = copy.deepcopy(generated["ims"][section][:len(ODD_TEXTS)])
        for i, row in enumerate(rows):
            row.update({f: odd_text(i, j) for j, f in enumerate(IMS_TEXT_FIELDS)
                        if f in row or j % 3 == i % 3})
        same_reading("ims", {section: rows},
                     by_columns=section not in ("impg", "impga", "impgsez", "impgseza"))


def test_odd_text_in_every_gstr2a_section_reads_the_same_by_columns(generated):
    payload = generated["gstr2a"]
    for section in GSTR2A_SECTIONS:
        groups = copy.deepcopy(payload[section][:6])
        docs = "nt" if section in ("cdn", "cdna") else "inv"
        for i, group in enumerate(groups):
            group.update({f: odd_text(i, j) for j, f in enumerate(GSTR2A_TEXT_FIELDS["group"])})
            for k, doc in enumerate(group[docs][:4]):
                doc.update({f: odd_text(i + k, j)
                            for j, f in enumerate(GSTR2A_TEXT_FIELDS["doc"])})
        same_reading("gstr2a", {"fp": payload.get("fp"), section: groups}, by_columns=True)


def test_a_value_of_another_kind_in_any_field_of_any_section_reads_the_same(generated):
    """Each field of each section, in turn, given a value of another kind (rotating through
    ODD_KINDS): the columns' answer (frame or PayloadError) is the reference's."""
    n = 0
    for section in IMS_SECTIONS:
        rows = generated["ims"][section][:3]
        for field in (*IMS_TEXT_FIELDS, *IMS_OTHER_FIELDS):
            odd = copy.deepcopy(rows)
            odd[1][field] = copy.deepcopy(ODD_KINDS[n % len(ODD_KINDS)])
            n += 1
            same_reading("ims", {section: odd})
    payload = generated["gstr2a"]
    for section in GSTR2A_SECTIONS:
        docs = "nt" if section in ("cdn", "cdna") else "inv"
        fields = [(level, f) for level, names in (*GSTR2A_TEXT_FIELDS.items(),
                                                   *GSTR2A_OTHER_FIELDS.items()) for f in names]
        for level, field in fields:
            groups = copy.deepcopy(payload[section][:2])
            target = {"group": groups[-1], "doc": groups[-1][docs][0],
                      "item": groups[-1][docs][0]["itms"][0]["itm_det"]}[level]
            target[field] = copy.deepcopy(ODD_KINDS[n % len(ODD_KINDS)])
            n += 1
            same_reading("gstr2a", {"fp": payload.get("fp"), section: groups})


def ims_row(**over) -> dict:
    row = {"stin": "27AABCS5678L1ZQ", "inum": "INV-1", "idt": "03-10-2025", "txval": 1000,
           "iamt": 0, "camt": 90.05, "samt": 90.05, "cess": 0, "val": 1180.1}
    return {k: v for k, v in {**row, **over}.items() if v is not ...}


@pytest.mark.parametrize("row, by_columns", [
    (ims_row(inum="  INV-1  ", pos=" 27", action="", remarks="  "), True),
    (ims_row(stin=None, sgstin="27aabcs5678l1zq"), True),
    (ims_row(cess=None, csamt=12.5, declIgst=3, itcRedReq="Y", isitcredreqblocked="y"), True),
    (ims_row(ispendactnallwd="Y", isRemarksBlocked="n", oinum="X", oidt="01-09-2025"), True),
    (ims_row(stin="not a gstin"), True),
    (ims_row(txval="1000.50", val="1,180"), False),      # numeric text: read per record
    (ims_row(inum=1234), False),                          # a number as document number
    (ims_row(txval=12.345), False),                       # paise rounded half up
    (ims_row(txval=10 ** 15), False),                     # beyond exact floats
    (ims_row(idt="3-10-2025"), False),                    # a date the reader refuses
    (ims_row(idt="31-02-2025"), False),
    (ims_row(isRemarksBlocked="maybe"), False),
    (ims_row(txval=True), False),
    (ims_row(stin=...), False),
])
def test_unusual_values_read_the_same(row, by_columns):
    same_reading("ims", {"b2b": [ims_row(), row]}, by_columns=by_columns)


def test_import_sections_read_the_same():
    impg = {"portcode": " inmaa1 ", "boenum": "123", "boedt": "01-10-2025", "txval": 10,
            "iamt": 1.8}
    sez = {"sgstin": "27aabcs5678l1zq", "inum": "B-1", "idt": "02-10-2025", "txval": 5}
    same_reading("ims", {"impg": [impg, {**impg, "portcode": None, "portcd": "INBOM4"}],
                         "impgsez": [sez]}, by_columns=True)


def test_gstr2a_items_and_notes_read_the_same():
    doc = copy.deepcopy(SAMPLE_2A)
    group = doc["b2b"][0]
    group["inv"][0]["itms"].append({"num": 2, "itm_det": {"txval": 10.5, "cess": 1}})
    group["inv"][1]["itms"] = []
    doc["cdn"] = [{"ctin": "27AABCS5678L1ZQ", "cfs": "N", "nt": [
        {"ntty": "c", "nt_num": "CN-1", "nt_dt": "04-10-2025", "val": 118, "rchrg": "",
         "itms": [{"itm_det": {"txval": 100, "iamt": 18}}]}]}]
    same_reading("gstr2a", doc, by_columns=True)
    doc["cdn"][0]["nt"][0]["ntty"] = "X"
    same_reading("gstr2a", doc, by_columns=False)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 20, 10 ** 20) | st.floats()
    | st.text(max_size=12) | st.sampled_from(["", " ", "Y", "n", "C", "01-10-2025", "1e3"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=6), children, max_size=3), max_leaves=10)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_one_odd_value_anywhere_reads_the_same_or_fails_the_same(data):
    for kind, sample in (("ims", SAMPLE_IMS), ("gstr2a", SAMPLE_2A)):
        doc = copy.deepcopy(sample)
        paths = [p for p in leaf_paths(doc) if p]
        for _ in range(data.draw(st.integers(1, 3))):
            poke(doc, data.draw(st.sampled_from(paths)), data.draw(JSON))
        same_reading(kind, doc)
