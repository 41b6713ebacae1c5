"""The 2025-26 fields of IMS records (per-record flags, the saved ITC-reduction answer, remarks)
and the four import-of-goods sections (docs/portal-api.md, docs/reconciliation.md)."""
from __future__ import annotations

import datetime as dt

import pytest

from core.documents import SECTION_REQUEST
from core.portal.payload import PayloadError, detect_kind, flatten_ims, records_frame

SEZ = "27AABCS5678L1ZQ"


def cn(**over) -> dict:
    row = {"stin": "27AABCS5678L1ZQ", "nt_num": "CN-1", "nt_dt": "03-10-2025", "inv_typ": "R",
           "pos": "27", "txval": 1000, "iamt": 0, "camt": 90, "samt": 90, "cess": 0,
           "srcform": "R1", "rtnprd": "102025", "srcfilstatus": "Filed", "action": "A",
           "ispendactblocked": "N", "val": 1180}
    row.update(over)
    return row


def boe(**over) -> dict:
    row = {"boenum": "4001235", "boedt": "05-10-2025", "refdt": "07-10-2025", "isamd": "N",
           "txval": 10000, "iamt": 1800, "cess": 0, "rtnprd": "102025", "action": "N",
           "ispendactblocked": "N"}
    row.update(over)
    return row


def test_flags_and_the_saved_answer_are_read():
    (r,) = flatten_ims({"b2bcn": [cn(isItcRedReqBlocked="N", isRemarksBlocked="y", itcRedReq="Y",
                                     declIgst=0, declCgst=45.5, declSgst="45.50", declCess=0,
                                     remarks="ITC claimed: CGST 45.50")]})
    assert (r["is_itc_red_req_blocked"], r["is_remarks_blocked"]) == ("N", "Y")
    assert (r["itc_red_req"], r["decl_igst"], r["decl_cgst"], r["decl_sgst"], r["decl_cess"]) == (
        "Y", 0, 4550, 4550, 0)
    assert r["portal_remarks"] == r["remarks"] == "ITC claimed: CGST 45.50"
    frame = records_frame([r])
    assert frame["is_itc_red_req_blocked"].to_list() == ["N"]
    assert frame["portal_remarks"].to_list() == ["ITC claimed: CGST 45.50"]


def test_flags_absent_are_none():
    (r,) = flatten_ims({"b2bcn": [cn()]})
    assert (r["is_itc_red_req_blocked"], r["is_remarks_blocked"], r["itc_red_req"],
            r["decl_cgst"], r["portal_remarks"]) == (None, None, None, None, None)


def test_a_flag_that_is_not_y_or_n_names_section_record_and_field():
    with pytest.raises(PayloadError, match=r"b2bcn record 2: field 'isRemarksBlocked' = 'maybe' "
                                           r"is not Y or N"):
        flatten_ims({"b2bcn": [cn(), cn(nt_num="CN-2", isRemarksBlocked="maybe")]})


def test_the_four_import_of_goods_sections():
    payload = {"impg": [boe(portcode="innsa1")],
               "impga": [boe(portcode="INMAA1", boenum="4001300", oboenum="4001299",
                             oboedt="01-09-2025", isamd="Y")],
               "impgsez": [boe(stin=SEZ, boenum="77")],
               "impgseza": [boe(stin=SEZ, boenum="78", oboenum="76", oboedt="02-09-2025")]}
    assert detect_kind(payload) == "ims"
    got = {r["section"]: r for r in flatten_ims(payload)}
    assert {s: (r["doc_type"], r["stin"], r["doc_no"], r["orig_doc_no"], r["stin_valid"])
            for s, r in got.items()} == {
        "impg": ("BOE", "INNSA1", "4001235", None, None),
        "impga": ("BOE", "INMAA1", "4001300", "4001299", None),
        "impgsez": ("BOE", SEZ, "77", None, True),
        "impgseza": ("BOE", SEZ, "78", "76", True)}
    assert got["impga"]["orig_doc_date"] == dt.date(2025, 9, 1)
    assert got["impg"]["doc_date"] == dt.date(2025, 10, 5) and got["impg"]["igst"] == 180000
    for name in ("IMPG", "IMPGA", "IMPGSEZ", "IMPGSEZA"):
        assert SECTION_REQUEST[name] == name.lower()


def test_an_older_port_code_spelling_is_read_too():
    (r,) = flatten_ims({"impg": [boe(portcd="INNSA1")]})
    assert r["stin"] == "INNSA1"


def test_an_sez_bill_of_entry_needs_its_supplier():
    with pytest.raises(PayloadError, match=r"impgsez record 1: field 'stin' is missing"):
        flatten_ims({"impgsez": [boe()]})
