"""The sandbox's Oct-2025 portal rules over real HTTP (sandbox/README.md "How SAVE / RESET
work"): the per-record flags and how they are spread, the import-of-goods sections, each
refusal of a SAVE (IMSSAV0054 .. IMSSAV0060, IMSSAV0011/0012), each accepted form of the
ITC-reduction answer, and the saved answer shown by GETINV and /_control/record."""
from __future__ import annotations

import pytest
import requests

from core.gstin import is_valid_gstin
from tests.fixtures import start_sandbox, stop_sandbox
from tests.test_sandbox import IMS, SECTIONS, Api, save_record

G = "27AAACW1234K1ZD"
IMPORTS = ("impg", "impga", "impgsez", "impgseza")
DECL = ("declIgst", "declCgst", "declSgst", "declCess")


def later(rtnprd: str) -> bool:
    """Return period from 102025 on."""
    return (rtnprd[2:], rtnprd[:2]) >= ("2025", "10")


def tax(rec: dict) -> float:
    return round(rec["iamt"] + rec["camt"] + rec["samt"] + rec["cess"], 2)


@pytest.fixture(scope="module")
def box():
    sb = start_sandbox(seed=5, scale=1500)
    yield sb
    stop_sandbox(sb)


@pytest.fixture
def api(box) -> Api:
    box.control("reset")
    return Api(box.url)


def everything(api: Api) -> dict[str, list[dict]]:
    return {key: api.section(request) for request, key in SECTIONS.items()}


def record_view(box, key: str, rec: dict) -> dict:
    no = rec.get("boenum") or rec.get("nt_num") or rec.get("inum")
    r = requests.get(f"{box.url}/_control/record", timeout=10,
                     params={"gstin": G, "section": key, "stin": rec.get("stin", ""), "doc_no": no,
                             "rtnprd": rec["rtnprd"]})
    assert r.status_code == 200, r.text
    return r.json()


def pick(records: list[dict], n: int = 1, **want) -> list[dict]:
    """`n` records with no action yet whose fields equal `want` (a callable tests the record)."""
    test = want.pop("where", lambda r: True)
    found = [r for r in records if r["action"] == "N" and all(r.get(k) == v for k, v in want.items())
             and test(r)]
    assert len(found) >= n, (want, len(found))
    return found[:n]


def save(api: Api, invdata: dict) -> dict:
    return api.finish(api.put("SAVE", invdata)["data"]["reference_id"])


def codes(result: dict) -> dict[str, str]:
    """Document number -> error code from a REQSTS error report."""
    return {inv["inum"]: e["error_cd"] for entries in result["error_report"].values() for e in entries
            for inv in e["inv"]}


def served(api: Api, request: str, rec: dict) -> dict:
    no_f = "nt_num" if "nt_num" in rec else "boenum" if "boenum" in rec else "inum"
    return next(r for r in api.section(request) if r[no_f] == rec[no_f] and r.get("stin") == rec.get("stin")
                and r["rtnprd"] == rec["rtnprd"])


# ---------------------------------------------------------------- flags


def test_flags_are_on_every_record_and_follow_period_section_and_direction(box, api):
    data = everything(api)
    amendments = {"N": 0, "Y": 0}
    for key, records in data.items():
        for r in records:
            assert r["isItcRedReqBlocked"] in ("Y", "N") and r["isRemarksBlocked"] in ("Y", "N"), r
            applies = r["isItcRedReqBlocked"] == "N"
            if not later(r["rtnprd"]):
                assert not applies, r  # no record of an older period has the question
            elif key in ("b2bcn", "b2bcna"):
                assert applies, r
            elif key in ("b2ba", "b2bdna", "ecoma"):
                original = record_view(box, key, r)["original"]
                assert applies == (tax(r) < tax(original)), (r, original)
                amendments[r["isItcRedReqBlocked"]] += 1
            else:
                assert not applies, r  # invoices, debit notes, ECO supplies, bills of entry
    assert amendments["N"] >= 3 and amendments["Y"] >= 3  # downward and upward both generated
    flags = [r["isRemarksBlocked"] for records in data.values() for r in records]
    assert 0.03 < flags.count("Y") / len(flags) < 0.12
    assert sum(r["isItcRedReqBlocked"] == "N" for r in data["b2bcn"]) >= 20


def test_flags_are_the_same_for_the_same_seed(box, api):
    first = everything(api)
    box.control("reset")
    assert everything(api) == first


# ---------------------------------------------------------------- import of goods


def test_import_of_goods_sections_fields_and_counts(api):
    counts = api.ims("GETCNT", goods_typ="IMP_GDS")["data"]["imp_gds"]
    assert set(counts) == {"ttl_cnt", *IMPORTS}
    all_oth = api.ims("GETCNT", goods_typ="ALL_OTH")["data"]["all_oth"]
    assert not set(IMPORTS) & set(all_oth)
    total = 0
    for request in ("IMPG", "IMPGA", "IMPGSEZ", "IMPGSEZA"):
        key = SECTIONS[request]
        records = api.section(request)
        assert len(records) >= 2 and sum(counts[key].values()) == len(records), key
        total += len(records)
        for r in records:
            assert r["portcode"].startswith("IN") and len(r["portcode"]) == 6, r
            assert r["boenum"].isdigit() and r["boedt"] and r["refdt"] and later(r["rtnprd"]), r
            assert r["iamt"] > 0 and r["camt"] == r["samt"] == 0 and r["txval"] > 0, r
            assert r["action"] in ("N", "A", "P") and r["ispendactblocked"] == "N", r
            assert r["isamd"] == ("Y" if key.endswith("a") else "N"), r
            assert ("oboenum" in r and "oboedt" in r) == key.endswith("a"), r
            assert ("stin" in r) == key.startswith("impgsez"), r
            if "stin" in r:
                assert is_valid_gstin(r["stin"]), r
    assert counts["ttl_cnt"] == total


def test_bills_of_entry_are_saved_by_port_code_or_sez_gstin_and_never_rejected(api):
    data = everything(api)
    by_port = pick(data["impg"])[0]
    amended = pick(data["impga"])[0]
    sez = pick(data["impgsez"], 2)
    invdata = {
        # the port code in `stin` (as the flat record holds it), in `portcode`, or not at all
        "impg": [save_record("impg", by_port, "A", stin=by_port["portcode"])],
        "impga": [save_record("impga", amended, "P", portcode=amended["portcode"])],
        "impgsez": [save_record("impgsez", sez[0], "A"), save_record("impgsez", sez[1], "R")],
    }
    result = save(api, invdata)
    assert (result["status_cd"], result["proc_cnt"], result["err_cnt"]) == ("PE", 3, 1)
    assert codes(result) == {sez[1]["boenum"]: "IMSSAV0012"}
    assert served(api, "IMPG", by_port)["action"] == "A"
    assert served(api, "IMPGA", amended)["action"] == "P"
    assert served(api, "IMPGSEZ", sez[0])["action"] == "A"
    assert served(api, "IMPGSEZ", sez[1])["action"] == "N"
    counts = api.ims("GETCNT", goods_typ="IMP_GDS")["data"]["imp_gds"]
    assert counts["impg"]["accept"] == sum(r["action"] == "A" for r in api.section("IMPG"))


# ---------------------------------------------------------------- accepted answers


def question(**extra) -> dict:
    """pick() arguments: records where the question applies and remarks are allowed."""
    return {"isItcRedReqBlocked": "N", "isRemarksBlocked": "N", **extra}


def test_each_accepted_answer_is_stored_and_shown_by_getinv(box, api):
    data = everything(api)
    full, part, none = pick(data["b2bcn"], 3, **question(where=lambda r: r["iamt"] > 0))
    partial = {"declIgst": round(part["iamt"] / 2, 2), "declCgst": 0, "declSgst": 0,
               "declCess": part["cess"]}
    invdata = {"b2bcn": [
        save_record("b2bcn", full, "A", itcRedReq="Y"),
        save_record("b2bcn", part, "A", itcRedReq="Y", remarks="ITC claimed: part of IGST", **partial),
        save_record("b2bcn", none, "A", itcRedReq="N", remarks="ITC not claimed on this credit note")]}
    result = save(api, invdata)
    assert (result["status_cd"], result["proc_cnt"], result["err_cnt"]) == ("P", 3, 0), result
    got = served(api, "CN", full)
    assert got["action"] == "A" and got["itcRedReq"] == "Y"
    assert not any(f in got for f in (*DECL, "remarks"))
    got = served(api, "CN", part)
    assert got["itcRedReq"] == "Y" and got["remarks"] == "ITC claimed: part of IGST"
    assert {f: got[f] for f in DECL} == {f: float(v) for f, v in partial.items()}
    got = served(api, "CN", none)
    assert got["itcRedReq"] == "N" and got["remarks"] == "ITC not claimed on this credit note"
    assert not any(f in got for f in DECL)
    view = record_view(box, "b2bcn", part)
    assert view["question_applies"] is True
    assert view["saved"] == {"action": "A", "itcRedReq": "Y", **{f: float(v) for f, v in partial.items()},
                             "remarks": "ITC claimed: part of IGST"}
    reset = {"b2bcn": [{k: v for k, v in save_record("b2bcn", part, "A", prev_status="A").items()
                        if k != "action"}]}
    assert api.finish(api.put("RESETIMS", reset)["data"]["reference_id"])["status_cd"] == "P"
    got = served(api, "CN", part)
    assert got["action"] == "N" and not any(f in got for f in ("itcRedReq", *DECL, "remarks"))


def test_a_downward_amendment_needs_the_answer_and_a_later_save_replaces_it(api):
    data = everything(api)
    down = pick(data["b2ba"], **question())[0]
    first = save(api, {"b2ba": [save_record("b2ba", down, "A")]})
    assert first["status_cd"] == "ER" and codes(first) == {down["inum"]: "IMSSAV0054"}
    assert first["error_report"]["b2ba"][0]["error_msg"] == "Please enter value for the column itcRedReq"
    assert served(api, "B2BA", down)["action"] == "N"
    ok = save(api, {"b2ba": [save_record("b2ba", down, "A", itcRedReq="Y", remarks="amended down")]})
    assert ok["status_cd"] == "P"
    assert served(api, "B2BA", down)["remarks"] == "amended down"
    now = served(api, "B2BA", down)
    if now["ispendactblocked"] == "N":
        assert save(api, {"b2ba": [save_record("b2ba", now, "P")]})["status_cd"] == "P"
        later_state = served(api, "B2BA", down)
        assert later_state["action"] == "P" and "itcRedReq" not in later_state and "remarks" not in later_state


def test_upward_amendments_and_invoices_take_an_accept_without_an_answer(api):
    data = everything(api)
    up = pick(data["b2ba"], isItcRedReqBlocked="Y", isRemarksBlocked="N", where=lambda r: later(r["rtnprd"]))[0]
    inv = pick(data["b2b"], isRemarksBlocked="N")[0]
    old_cn = pick(data["b2bcn"], isItcRedReqBlocked="Y")[0]
    result = save(api, {"b2ba": [save_record("b2ba", up, "A", remarks="ok")],
                        "b2b": [save_record("b2b", inv, "A")], "b2bcn": [save_record("b2bcn", old_cn, "A")]})
    assert result["status_cd"] == "P", result


# ---------------------------------------------------------------- refusals


def test_every_refusal_has_its_code_and_leaves_the_record_as_it_was(api):
    data = everything(api)
    cns = pick(data["b2bcn"], 6, **question(where=lambda r: r["iamt"] > 0 and r["ispendactblocked"] == "N"))
    intra = pick(data["b2bcn"], **question(where=lambda r: r["camt"] > 0))[0]
    invoices = pick(data["b2b"], 2, isRemarksBlocked="N", where=lambda r: r["ispendactblocked"] == "N")
    no_remarks = pick(data["b2b"], isRemarksBlocked="Y")[0]
    blocked_pending = pick(data["b2bcn"], ispendactblocked="Y")[0]
    boe = pick(data["impga"])[0]
    cases = {
        cns[0]["nt_num"]: (save_record("b2bcn", cns[0], "A"), "IMSSAV0054"),
        invoices[0]["inum"]: (save_record("b2b", invoices[0], "A", itcRedReq="Y"), "IMSSAV0055"),
        invoices[1]["inum"]: (save_record("b2b", invoices[1], "A", declIgst=1), "IMSSAV0055"),
        no_remarks["inum"]: (save_record("b2b", no_remarks, "R", remarks="wrong rate"), "IMSSAV0056"),
        cns[1]["nt_num"]: (save_record("b2bcn", cns[1], "A", itcRedReq="Y", declIgst=cns[1]["iamt"] + 1),
                           "IMSSAV0057"),
        cns[2]["nt_num"]: (save_record("b2bcn", cns[2], "A", itcRedReq="Y", declIgst=-5), "IMSSAV0057"),
        intra["nt_num"]: (save_record("b2bcn", intra, "A", itcRedReq="Y", declCgst=intra["camt"],
                                      declSgst=0), "IMSSAV0057"),
        cns[3]["nt_num"]: (save_record("b2bcn", cns[3], "P", itcRedReq="Y"), "IMSSAV0058"),
        cns[4]["nt_num"]: (save_record("b2bcn", cns[4], "R", itcRedReq="N"), "IMSSAV0058"),
        cns[5]["nt_num"]: (save_record("b2bcn", cns[5], "A", itcRedReq="N", declIgst=1), "IMSSAV0057"),
        blocked_pending["nt_num"]: (save_record("b2bcn", blocked_pending, "P"), "IMSSAV0011"),
        boe["boenum"]: (save_record("impga", boe, "R"), "IMSSAV0012"),
    }
    invdata: dict[str, list] = {}
    for rec, _ in cases.values():
        key = "impga" if "boenum" in rec else "b2bcn" if "nt_num" in rec else "b2b"
        invdata.setdefault(key, []).append(rec)
    result = save(api, invdata)
    assert (result["status_cd"], result["proc_cnt"], result["err_cnt"]) == ("ER", 0, len(cases))
    assert codes(result) == {no: code for no, (_, code) in cases.items()}
    for key, records in everything(api).items():
        for r in records:
            no = r.get("boenum") or r.get("nt_num") or r.get("inum")
            if no in cases and r["rtnprd"] == cases[no][0]["rtnprd"]:
                assert r["action"] == "N" and "itcRedReq" not in r and "remarks" not in r, r


def test_odd_answers_and_long_remarks_are_refused(api):
    data = everything(api)
    a, b, c = pick(data["b2bcn"], 3, **question())
    result = save(api, {"b2bcn": [save_record("b2bcn", a, "A", itcRedReq="X"),
                                  save_record("b2bcn", b, "A", itcRedReq="Y", remarks="x" * 251),
                                  save_record("b2bcn", c, "A", itcRedReq="Y", declIgst="lots")]})
    assert codes(result) == {a["nt_num"]: "IMSSAV0059", b["nt_num"]: "IMSSAV0060",
                             c["nt_num"]: "IMSSAV0057"}
    ok = save(api, {"b2bcn": [save_record("b2bcn", b, "A", itcRedReq="Y", remarks="x" * 250)]})
    assert ok["status_cd"] == "P" and served(api, "CN", b)["remarks"] == "x" * 250


def test_control_record_shows_saved_state_and_says_when_there_is_none(box, api):
    rec = pick(everything(api)["b2b"])[0]
    view = record_view(box, "B2B", rec)
    assert view["record"]["hash"] == rec["hash"] and view["original"] is None
    assert view["saved"] == {"action": "N", "itcRedReq": None, **dict.fromkeys(DECL), "remarks": None}
    missing = requests.get(f"{box.url}/_control/record", timeout=10,
                           params={"gstin": G, "section": "B2B", "stin": rec["stin"], "doc_no": "NOPE-1"})
    assert missing.status_code == 404


def test_getinv_of_the_new_sections_needs_a_session(box):
    r = requests.get(box.url + IMS, params={"gstin": G, "action": "GETINV", "section": "IMPGSEZA"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["error_cd"] == "AUTH4033"


def test_a_supplier_edit_of_an_amendment_works_its_flag_out_again(box, api):
    amendments = [r for r in api.section("B2BA") if later(r["rtnprd"])]
    flipped = 0
    for rec in amendments[:12]:
        edited = box.control("edit_record", gstin=G, section="B2BA", stin=rec["stin"], doc_no=rec["inum"],
                             rtnprd=rec["rtnprd"])["record"]
        view = record_view(box, "b2ba", edited)
        assert view["question_applies"] == (tax(edited) < tax(view["original"])), view
        assert edited["isItcRedReqBlocked"] == ("N" if view["question_applies"] else "Y")
        flipped += edited["isItcRedReqBlocked"] != rec["isItcRedReqBlocked"]
    assert len(amendments) >= 12 and flipped >= 1
