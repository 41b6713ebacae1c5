"""What a SAVE record carries (docs/portal-api.md, docs/reconciliation.md): the ITC-reduction answer
only for an Accept where the question applies, in exactly one of its three forms; never where
the portal blocks it; the remark with any action unless blocked; bills of entry with their own
fields. Also what the upload refuses locally before sending (core.reco.itc_answer)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.ims.upload_payload import invdata, portal_record
from core.reco.itc_answer import answer_problems, caps, effective_answer, upload_problems

ANSWER_FIELDS = {"itcRedReq", "declIgst", "declCgst", "declSgst", "declCess"}


def record(section="b2bcn", action="A", **kw) -> dict:
    """A stored credit note of Oct-2025 where the question applies (flag N) and remarks are
    allowed; keyword arguments change any column."""
    row = {"section": section, "stin": "27AAACS1234F1ZK", "doc_no": "CN-7",
           "doc_date": dt.date(2025, 10, 12), "orig_doc_no": None, "orig_doc_date": None,
           "inv_typ": "R", "pos": "27", "srcform": "R1", "rtnprd": "102025", "hash": "h1",
           "val": Decimal("1180.00"), "txval": Decimal("1000.00"), "igst": Decimal("0.00"),
           "cgst": Decimal("90.00"), "sgst": Decimal("90.00"), "cess": Decimal("0.00"),
           "action_now": "N", "reqtyp": "SAVE", "user_action": action,
           "recommended_action": "A", "is_itc_red_req_blocked": "N", "is_remarks_blocked": "N",
           "user_itc_red_req": None, "rec_itc_red_req": None, "user_supplier_remark": None,
           "rec_supplier_remark": None,
           **{f"{who}_decl_{h}": None for who in ("user", "rec")
              for h in ("igst", "cgst", "sgst", "cess")},
           **{f"orig_{h}": None for h in ("igst", "cgst", "sgst", "cess")}}
    row.update(kw)
    return row


def sent(**kw) -> dict:
    return portal_record(record(**kw))


def answer_of(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k in ANSWER_FIELDS}


# ---------------------------------------------------------------- the three forms


def test_full_is_y_without_amounts_by_default():
    rec = sent()
    assert answer_of(rec) == {"itcRedReq": "Y"}
    assert rec["action"] == "A" and rec["prev_status"] == "N" and "remarks" not in rec
    assert (rec["nt_num"], rec["nt_dt"], rec["stin"]) == ("CN-7", "12-10-2025", "27AAACS1234F1ZK")


def test_partial_from_the_proposal_carries_amounts_and_its_default_remark():
    rec = sent(rec_itc_red_req="Y", rec_decl_cgst=Decimal("45.00"),
               rec_decl_sgst=Decimal("45.00"), rec_decl_igst=Decimal(0),
               rec_decl_cess=Decimal(0), rec_supplier_remark="ITC claimed: CGST 45.00")
    assert answer_of(rec) == {"itcRedReq": "Y", "declIgst": 0.0, "declCgst": 45.0,
                              "declSgst": 45.0, "declCess": 0.0}
    assert rec["remarks"] == "ITC claimed: CGST 45.00"


def test_the_users_answer_wins_over_the_proposal():
    rec = sent(rec_itc_red_req="N", rec_supplier_remark="ITC not claimed on this credit note",
               user_itc_red_req="Y")
    assert answer_of(rec) == {"itcRedReq": "Y"}
    assert "remarks" not in rec   # the proposal's remark belongs to the proposal's answer


def test_no_is_n_with_the_users_remark():
    rec = sent(user_itc_red_req="N", user_supplier_remark="  not claimed in 3B  ")
    assert answer_of(rec) == {"itcRedReq": "N"}
    assert rec["remarks"] == "not claimed in 3B"


# ---------------------------------------------------------------- where it does not apply


@pytest.mark.parametrize("kw", [
    {"is_itc_red_req_blocked": "Y"},                                     # the portal says no
    {"is_itc_red_req_blocked": "Y", "user_itc_red_req": "N", "user_supplier_remark": "x"},
    {"is_itc_red_req_blocked": None, "rtnprd": "092025"},                # no flag, before Oct-25
    {"is_itc_red_req_blocked": None, "section": "b2b", "doc_no": "INV-1"},  # no flag, invoice
    {"user_action": "R"},                                                # not an Accept
    {"user_action": "P", "rec_itc_red_req": "N"},
])
def test_no_answer_is_sent_where_the_question_does_not_apply(kw):
    assert answer_of(sent(**kw)) == {}


def test_without_a_flag_credit_notes_from_october_2025_are_asked():
    assert answer_of(sent(is_itc_red_req_blocked=None, section="b2bcna",
                          rtnprd="112025")) == {"itcRedReq": "Y"}


def test_a_downward_amendment_of_an_invoice_answers_where_the_portal_asks():
    rec = sent(section="b2ba", doc_no="INV-9", orig_doc_no="INV-9",
               orig_doc_date=dt.date(2025, 9, 1), user_itc_red_req="N",
               user_supplier_remark="no ITC taken")
    assert answer_of(rec) == {"itcRedReq": "N"}
    assert (rec["inum"], rec["oinum"], rec["oidt"]) == ("INV-9", "INV-9", "01-09-2025")


# ---------------------------------------------------------------- remarks


def test_a_remark_goes_with_any_action():
    for action in ("A", "R", "P"):
        assert sent(action=action, user_supplier_remark="see mail")["remarks"] == "see mail"


def test_a_blocked_remark_is_never_sent():
    rec = sent(is_remarks_blocked="Y", user_supplier_remark="see mail", user_itc_red_req="N")
    assert "remarks" not in rec and rec["itcRedReq"] == "N"


def test_the_proposals_remark_does_not_go_with_a_reject():
    rec = sent(action="R", rec_itc_red_req="N", rec_supplier_remark="ITC not claimed")
    assert "remarks" not in rec and answer_of(rec) == {}


def test_reset_carries_no_action_no_answer_no_remark():
    rec = sent(reqtyp="RESET", user_action="N", user_supplier_remark="x")
    assert not ({"action", "remarks"} | ANSWER_FIELDS) & set(rec)


# ---------------------------------------------------------------- bills of entry


def test_bills_of_entry_go_with_their_own_fields_and_only_their_action():
    port = sent(section="impg", stin="INNSA1", doc_no="4410021", is_itc_red_req_blocked="Y",
                user_supplier_remark="duty paid")
    assert (port["portcode"], port["boenum"], port["boedt"]) == ("INNSA1", "4410021",
                                                                  "12-10-2025")
    assert "stin" not in port and answer_of(port) == {} and port["remarks"] == "duty paid"
    amended = sent(section="impga", stin="INMAA1", doc_no="55", orig_doc_no="54",
                   orig_doc_date=dt.date(2025, 10, 1), is_itc_red_req_blocked="Y")
    assert (amended["portcode"], amended["oboenum"], amended["oboedt"]) == (
        "INMAA1", "54", "01-10-2025")
    sez = sent(section="impgsez", stin="27AAACZ1234F1Z5", doc_no="77",
               is_itc_red_req_blocked="Y", action="P")
    assert sez["stin"] == "27AAACZ1234F1Z5" and "portcode" not in sez
    assert sez["action"] == "P" and answer_of(sez) == {}


def test_invdata_groups_by_section_key():
    rows = [record(), record(section="impgseza", stin="27AAACZ1234F1Z5",
                             is_itc_red_req_blocked="Y"), record(doc_no="CN-8")]
    out = invdata(rows)
    assert sorted(out) == ["b2bcn", "impgseza"] and len(out["b2bcn"]) == 2


# ---------------------------------------------------------------- refused locally


def test_partial_or_no_without_a_remark_is_refused_where_remarks_are_allowed():
    no = record(user_itc_red_req="N")
    assert upload_problems(no) == [("ITC to be reduced 'No' needs a remark to the supplier "
                                   "saying why")]
    partial = record(user_itc_red_req="Y", user_decl_cgst=Decimal(10), user_decl_sgst=Decimal(10))
    assert "needs a remark" in upload_problems(partial)[0]
    assert upload_problems({**no, "is_remarks_blocked": "Y"}) == []   # goes without one
    assert upload_problems({**no, "user_supplier_remark": "not claimed"}) == []
    assert upload_problems({**no, "user_action": "R"}) == []


def test_partial_amounts_are_checked_per_head():
    row = record(user_itc_red_req="Y", user_supplier_remark="part", user_decl_cgst=Decimal(95),
                 user_decl_sgst=Decimal(95))
    assert upload_problems(row) == [
        "CGST to reduce (₹95.00) is more than this record allows (₹90.00)",
        "SGST to reduce (₹95.00) is more than this record allows (₹90.00)"]
    row.update(user_decl_cgst=Decimal(40), user_decl_sgst=Decimal(45))
    assert upload_problems(row) == [
        "CGST to reduce (₹40.00) must equal SGST to reduce (₹45.00)"]
    row.update(user_decl_cgst=Decimal(-1), user_decl_sgst=Decimal(-1))
    assert upload_problems(row) == ["CGST to reduce cannot be below 0",
                                    "SGST to reduce cannot be below 0"]
    row.update(user_decl_cgst=Decimal(0), user_decl_sgst=Decimal(0))
    assert upload_problems(row) == [("Partial with every amount 0 reduces nothing: "
                                    "choose No instead")]
    row.update(user_decl_cgst=Decimal(90), user_decl_sgst=Decimal(90))
    assert upload_problems(row) == []


def test_an_amendments_cap_is_the_drop_from_its_original():
    row = record(section="b2bcna", cgst=Decimal(60), sgst=Decimal(60), orig_cgst=Decimal(100),
                 orig_sgst=Decimal(100), orig_igst=Decimal(0), orig_cess=Decimal(0))
    assert caps(row) == {"igst": 0, "cgst": 4000, "sgst": 4000, "cess": 0}
    assert caps({**row, "orig_cgst": None, "orig_sgst": None})["cgst"] == 6000
    big = {**row, "user_itc_red_req": "Y", "user_decl_cgst": Decimal(50),
           "user_decl_sgst": Decimal(50), "user_supplier_remark": "x"}
    assert upload_problems(big)[0] == ("CGST to reduce (₹50.00) is more than this record "
                                       "allows (₹40.00)")


def test_indian_grouping_in_messages():
    row = record(cgst=Decimal("1234567.00"), sgst=Decimal("1234567.00"), user_itc_red_req="Y",
                 user_decl_cgst=Decimal("2345678.5"), user_decl_sgst=Decimal("2345678.5"),
                 user_supplier_remark="x")
    assert upload_problems(row)[0] == ("CGST to reduce (₹23,45,678.50) is more than this record "
                                       "allows (₹12,34,567.00)")


def test_saving_an_answer_checks_the_question_and_the_remark():
    assert answer_problems(record(user_itc_red_req="Y", is_itc_red_req_blocked="Y"))[0].startswith(
        "the ITC-reduction question does not apply")
    assert answer_problems(record(user_supplier_remark="x" * 251)) == [
        "the remark to the supplier has 251 characters; at most 250 are allowed"]
    assert answer_problems(record(user_supplier_remark="x", is_remarks_blocked="Y"))[0].startswith(
        "the portal takes no remark")
    assert answer_problems(record(user_action="P", user_itc_red_req="N")) == []
    assert effective_answer(record(user_action=None, recommended_action="A", rec_itc_red_req="N",
                                   rec_supplier_remark="ITC not claimed"))[2] == "ITC not claimed"
