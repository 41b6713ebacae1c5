"""Portal payloads flatten to flat records; bad payloads say where and what."""
from __future__ import annotations

import copy
import datetime as dt
import json

import polars as pl
import pytest

from core.portal.payload import (
    RECORD_FIELDS,
    PayloadError,
    detect_kind,
    flatten,
    flatten_gstr2a,
    flatten_ims,
    recipient_gstin,
    records_frame,
)
from tests.fixtures import SAMPLES


def load(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def ims_row(**over) -> dict:
    row = {"stin": "27AABCS5678L1ZQ", "inum": "INV-1", "idt": "03-10-2025", "inv_typ": "R",
           "pos": "27", "txval": 1000, "iamt": 0, "camt": 90, "samt": 90, "cess": 0,
           "srcform": "R1", "rtnprd": "102025", "srcfilstatus": "Filed", "action": "N",
           "ispendactblocked": "N", "val": 1180, "hash": "h1"}
    row.update(over)
    return row


def test_ims_sample_parses_with_every_field():
    records = flatten_ims(load("ims_getinv_sample.json"))
    assert len(records) == 10
    assert all(set(r) == set(RECORD_FIELDS) for r in records)
    first = records[0]
    assert first["section"] == "b2b" and first["doc_type"] == "INV"
    assert first["doc_no"] == "SI/2025-26/0101" and first["doc_date"] == dt.date(2025, 10, 3)
    assert (first["txval"], first["cgst"], first["sgst"], first["val"]) == (1000000, 90000, 90000, 1180000)
    rounding = records[2]
    assert rounding["txval"] == 1200050 and rounding["cgst"] == 108005
    note = records[-1]
    assert (note["section"], note["doc_type"], note["doc_no"], note["line"]) == ("b2bcn", "CRN", "CN/25-26/007", 1)
    assert note["doc_date"] == dt.date(2025, 10, 20)
    assert [r["ispendactblocked"] for r in records].count("Y") == 1
    assert records[4]["srcfilstatus"] == "Not Filed"


def test_gstr2a_sample_sums_items_and_keeps_supplier():
    payload = load("gstr2a_b2b_sample.json")
    records = flatten_gstr2a(payload)
    assert [r["doc_no"] for r in records] == ["SI/2025-26/0101", "si-102", "SI/2025-26/0103", "KA-7781", "GJ/555"]
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5]
    assert records[3]["stin"] == "29AAFCK4321M1ZA" and records[3]["igst"] == 900000
    assert records[0]["cfs"] == "Y" and records[0]["rcm"] == "N" and records[0]["rtnprd"] == "102025"
    assert recipient_gstin(payload) == "27AAACW1234K1ZD"


def test_gstr2a_items_summed_and_note_types():
    payload = {"cdn": [{"ctin": "27AABCS5678L1ZQ", "cfs": "N", "nt": [
        {"ntty": "C", "nt_num": "CN-1", "nt_dt": "01-11-2025", "val": -236.5, "pos": "27",
         "itms": [{"num": 1, "itm_det": {"txval": -100.25, "camt": 9.02, "samt": 9.02, "csamt": 1}},
                  {"num": 2, "itm_det": {"txval": 100, "camt": 9, "samt": 9, "csamt": 0.5}}]},
        {"ntty": "D", "nt_num": "DN-1", "nt_dt": "02-11-2025", "val": 10,
         "itms": [{"num": 1, "itm_det": {"txval": 10}}]}]}]}
    crn, dbn = flatten_gstr2a(payload)
    assert crn["doc_type"] == "CRN" and dbn["doc_type"] == "DBN"
    assert crn["txval"] == 10025 + 10000 and crn["cgst"] == 1802 and crn["cess"] == 150
    assert crn["val"] == 23650 and crn["cfs"] == "N"


def test_detect_kind_tells_the_shapes_apart():
    assert detect_kind(load("ims_getinv_sample.json")) == "ims"
    assert detect_kind(load("gstr2a_b2b_sample.json")) == "gstr2a"
    assert detect_kind({"cdn": []}) == "gstr2a"
    assert detect_kind({"b2bcn": []}) == "ims"
    assert detect_kind({"status_cd": "1", "data": {"b2b": [ims_row()]}}) == "ims"
    assert flatten({"b2b": [ims_row()]})[0] == "ims"
    with pytest.raises(PayloadError, match="none of the IMS sections"):
        detect_kind({"something": []})


def test_both_spellings_of_pending_blocked_and_cess():
    new, old = flatten_ims({"b2b": [ims_row(ispendactblocked="Y"),
                                     ims_row(inum="INV-2", ispendactblocked=None,
                                             ispendactnallwd="Y", cess=None, csamt=2.5)]})
    assert new["ispendactblocked"] == "Y" and old["ispendactblocked"] == "Y"
    assert old["cess"] == 250


def test_every_ims_section_maps_to_its_doc_type():
    notes = {"nt_num": "N-1", "nt_dt": "01-10-2025", "inum": None, "idt": None}
    payload = {"b2b": [ims_row()], "b2ba": [ims_row(oinum="OLD-1", oidt="01-09-2025")],
               "b2bcn": [ims_row(**notes)], "b2bcna": [ims_row(**notes, ont_num="N-0", ont_dt="01-09-2025")],
               "b2bdn": [ims_row(**notes)], "b2bdna": [ims_row(**notes)],
               "ecom": [ims_row(inv_typ=None)], "ecoma": [ims_row()],
               "impg": [{"boenum": "1234567", "boedt": "05-10-2025", "portcd": "INMAA1", "txval": 100,
                         "iamt": 18, "cess": 0, "rtnprd": "102025", "action": "N"}]}
    got = {r["section"]: r for r in flatten_ims(payload)}
    assert {s: r["doc_type"] for s, r in got.items()} == {
        "b2b": "INV", "b2ba": "INV", "b2bcn": "CRN", "b2bcna": "CRN", "b2bdn": "DBN",
        "b2bdna": "DBN", "ecom": "INV", "ecoma": "INV", "impg": "BOE"}
    assert got["b2ba"]["orig_doc_no"] == "OLD-1" and got["b2ba"]["orig_doc_date"] == dt.date(2025, 9, 1)
    assert got["b2bcna"]["orig_doc_no"] == "N-0"
    assert got["impg"]["doc_no"] == "1234567" and got["impg"]["stin"] == "INMAA1"
    assert got["impg"]["stin_valid"] is None  # a port code is no GSTIN
    assert got["ecom"]["inv_typ"] is None


def test_amounts_are_absolute_paise_from_numbers_or_text():
    (r,) = flatten_ims({"b2bcn": [ims_row(inum=None, idt=None, nt_num="C1", nt_dt="01-10-2025",
                                          txval="-1234.565", iamt=-0.1, camt=0.29, samt="0", val=1e6)]})
    assert r["txval"] == 123457 and r["igst"] == 10 and r["cgst"] == 29 and r["sgst"] == 0
    assert r["val"] == 100000000


def test_largest_amount_decimal_18_2_holds_is_read_exactly():
    (r,) = flatten_ims({"b2b": [ims_row(txval="9999999999999999.99", val=9999999999999999, iamt=-1e15)]})
    assert r["txval"] == 999_999_999_999_999_999 and r["val"] == 999_999_999_999_999_900
    assert r["igst"] == 100_000_000_000_000_000
    assert records_frame([r])["txval"].to_list() == [999_999_999_999_999_999]


def test_gstr2a_items_adding_up_beyond_decimal_18_2_name_the_document():
    item = {"itm_det": {"txval": 6e15, "iamt": 0, "camt": 0, "samt": 0, "csamt": 0}}
    doc = {"inum": "I1", "idt": "01-10-2025", "val": 1, "itms": [item, item]}
    with pytest.raises(PayloadError, match="b2b record 1: the items' txval adds up to 12,000,000,000,000,000.00 "
                                           "rupees, which is too large for an amount"):
        flatten_gstr2a({"b2b": [{"ctin": "27AABCS5678L1ZQ", "inv": [doc]}]})


def test_oct_2025_fields_are_read():
    (r,) = flatten_ims({"b2bcn": [ims_row(inum=None, idt=None, nt_num="C1", nt_dt="01-10-2025",
                                          itcRedReq="Y", declIgst=10.5, declCgst=None, remarks="short")]})
    assert r["itc_red_req"] == "Y" and r["decl_igst"] == 1050 and r["decl_cgst"] is None
    assert r["remarks"] == "short"


def test_supplier_gstin_failing_the_check_is_flagged_not_rejected():
    (bad, good) = flatten_ims({"b2b": [ims_row(stin="24MAYAS0100J1JD"), ims_row(inum="X2")]})
    assert bad["stin"] == "24MAYAS0100J1JD" and bad["stin_valid"] is False
    assert good["stin_valid"] is True


@pytest.mark.parametrize("over, message", [
    ({"idt": "31-02-2025"}, "b2b record 2: field 'idt' = '31-02-2025' is not a DD-MM-YYYY date"),
    ({"idt": "2025-10-03"}, "b2b record 2: field 'idt' = '2025-10-03' is not a DD-MM-YYYY date"),
    ({"inum": None}, "b2b record 2: field 'inum' is missing"),
    ({"stin": ""}, "b2b record 2: field 'stin' is missing"),
    ({"txval": "12,00"}, "b2b record 2: field 'txval' = '12,00' is not an amount"),
    ({"camt": [1]}, "b2b record 2: field 'camt' = [1] is not an amount"),
    ({"camt": "nan"}, "b2b record 2: field 'camt' = 'nan' is not an amount"),
    ({"pos": {"a": 1}}, "b2b record 2: field 'pos'"),
    ({"txval": float("nan")}, "b2b record 2: field 'txval' = nan is not an amount"),
    ({"iamt": float("inf")}, "b2b record 2: field 'iamt' = inf is not an amount"),
    ({"samt": -float("inf")}, "b2b record 2: field 'samt' = -inf is not an amount"),
    ({"camt": True}, "b2b record 2: field 'camt' = True is not an amount"),
    ({"val": 10**16}, "b2b record 2: field 'val' = 10000000000000000 is too large for an amount"),
    ({"val": 1e16}, "b2b record 2: field 'val' = 1e+16 is too large for an amount"),
    ({"txval": "9999999999999999.995"}, "b2b record 2: field 'txval' = '9999999999999999.995' is too large"),
    ({"txval": "1e400"}, "b2b record 2: field 'txval' = '1e400' is too large"),
    ({"txval": 1.797693134862316e+306}, "b2b record 2: field 'txval' = 1.797693134862316e+306 is too large"),
    ({"declIgst": 10**40}, "b2b record 2: field 'declIgst' = " + "1" + "0" * 36 + "... is too large"),
])
def test_bad_ims_payload_names_section_record_and_field(over, message):
    with pytest.raises(PayloadError) as err:
        flatten_ims({"b2b": [ims_row(inum="OK-1"), ims_row(**over)]})
    assert message in str(err.value)


def test_bad_shapes_are_reported():
    with pytest.raises(PayloadError, match="'b2b' is dict, expected a list"):
        flatten_ims({"b2b": {"inum": "x"}})
    with pytest.raises(PayloadError, match="b2bcn record 1: is str"):
        flatten_ims({"b2bcn": ["oops"]})
    with pytest.raises(PayloadError, match="expected a JSON object"):
        flatten_ims([1, 2])


def test_bad_gstr2a_payload_names_document():
    payload = load("gstr2a_b2b_sample.json")
    broken = copy.deepcopy(payload)
    broken["b2b"][1]["inv"][0]["itms"][0]["itm_det"]["iamt"] = "x"
    with pytest.raises(PayloadError, match=r"b2b record 4: field 'iamt' = 'x' is not an amount"):
        flatten_gstr2a(broken)
    with pytest.raises(PayloadError, match="cdn record 1: field 'ntty' = 'X' is not C or D"):
        flatten_gstr2a({"cdn": [{"ctin": "27AABCS5678L1ZQ", "nt": [{"ntty": "X", "nt_num": "1", "nt_dt": "01-10-2025"}]}]})


def test_records_frame_has_stable_dtypes_even_when_empty():
    empty = records_frame([])
    full = records_frame(flatten_ims(load("ims_getinv_sample.json")))
    assert empty.schema == full.schema
    assert empty.columns == list(RECORD_FIELDS)
    assert full.schema["doc_date"] == pl.Date and full.schema["txval"] == pl.Int64
    assert full["txval"].sum() == sum(r["txval"] for r in flatten_ims(load("ims_getinv_sample.json")))
