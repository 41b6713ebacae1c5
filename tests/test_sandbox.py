"""The GSTN sandbox over real HTTP: session, envelope, IMS sections and counts, SAVE/RESET
rules and REQSTS, GSTR-2A, faults and controls (sandbox/README.md)."""
from __future__ import annotations

import http.client
import json
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from core.gstin import is_valid_gstin
from tests.fixtures import start_sandbox, stop_sandbox

G = "27AAACW1234K1ZD"
IMS = "/taxpayerapi/v1.0/returns/ims"
GSTR2A = "/taxpayerapi/v1.0/returns/gstr2a"
SECTIONS = {"B2B": "b2b", "B2BA": "b2ba", "CN": "b2bcn", "CNA": "b2bcna", "DN": "b2bdn",
            "DNA": "b2bdna", "ECOM": "ecom", "ECOMA": "ecoma", "IMPG": "impg", "IMPGA": "impga",
            "IMPGSEZ": "impgsez", "IMPGSEZA": "impgseza"}
IMPORTS = ("impg", "impga", "impgsez", "impgseza")
NO_FIELD = {"b2bcn": "nt_num", "b2bcna": "nt_num", "b2bdn": "nt_num", "b2bdna": "nt_num",
            **dict.fromkeys(IMPORTS, "boenum")}


class Api:
    """A logged-in caller of one sandbox."""

    def __init__(self, url: str):
        self.url = url
        self.token = self.login().json()["data"]["auth_token"]

    def login(self, otp: str = "575757", username: str = "demo") -> requests.Response:
        return requests.post(f"{self.url}/authenticate", json={"username": username, "otp": otp}, timeout=10)

    def get(self, path: str, auth: str | None = "", **params) -> requests.Response:
        headers = {"auth-token": self.token if auth == "" else auth} if auth is not None else {}
        return requests.get(self.url + path, params={"gstin": G, **params}, headers=headers, timeout=30)

    def ims(self, action: str, **params) -> dict:
        r = self.get(IMS, action=action, **params)
        return r.json()

    def put(self, action: str, invdata: dict, gstin: str = G) -> dict:
        body = {"rtin": gstin, "reqtyp": "RESET" if action == "RESETIMS" else "SAVE", "invdata": invdata}
        return requests.put(self.url + IMS, params={"action": action, "gstin": gstin}, json=body,
                            headers={"auth-token": self.token, "gstin": gstin}, timeout=30).json()

    def section(self, request: str) -> list[dict]:
        body = self.ims("GETINV", section=request)
        assert body["status_cd"] == "1", body
        return body["data"][SECTIONS[request]]

    def status(self, ref: str) -> dict:
        body = self.ims("REQSTS", int_tran_id=ref)
        assert body["status_cd"] == "1", body
        return body["data"]

    def finish(self, ref: str) -> dict:
        first = self.status(ref)
        assert first["status_cd"] == "IP"
        return self.status(ref)


@pytest.fixture(scope="module")
def shared():
    """One sandbox for the read-only tests of this module."""
    sb = start_sandbox()
    yield sb
    stop_sandbox(sb)


@pytest.fixture
def api(sandbox) -> Api:
    return Api(sandbox.url)


def save_record(key: str, rec: dict, action: str, **extra) -> dict:
    no = NO_FIELD.get(key, "inum")
    out = {"stin": rec.get("stin", ""), no: rec[no], "rtnprd": rec["rtnprd"], "action": action,
           "prev_status": rec["action"], "hash": rec["hash"], "pos": rec["pos"], "val": rec["val"]}
    out.update(extra)
    return out


# ---------------------------------------------------------------- session and envelope


def test_health_login_and_session_errors(shared):
    assert requests.get(f"{shared.url}/health", timeout=5).status_code == 200
    api = Api(shared.url)
    wrong = api.login(otp="123456")
    assert wrong.status_code == 401
    assert wrong.json() == {"status_cd": "0", "error": {"error_cd": "AUTH4033", "message": "Invalid username or OTP"}}
    missing = api.get(IMS, auth=None, action="GETCNT")
    assert missing.status_code == 401 and missing.json()["error"]["error_cd"] == "AUTH4033"
    assert api.get(IMS, auth="nope", action="GETCNT").json()["error"]["error_cd"] == "AUTH4033"
    bearer = requests.get(shared.url + IMS, params={"gstin": G, "action": "GETCNT"},
                          headers={"Authorization": f"Bearer {api.token}"}, timeout=10).json()
    assert bearer["status_cd"] == "1" and set(bearer) == {"status_cd", "data"}


def test_unknown_gstin_section_and_action_are_clear_errors(shared):
    api = Api(shared.url)
    other = api.get(IMS, action="GETCNT", gstin="27AAPFU0939F1ZV").json()
    assert other["status_cd"] == "0" and other["error"]["error_cd"] == "RET11401"
    bad = api.get(IMS, action="GETINV", section="XYZ")
    assert bad.status_code == 400 and "XYZ" in bad.json()["error"]["message"]
    assert api.ims("NOPE")["error"]["error_cd"] == "RET400"


def test_expired_tokens_answer_auth4038_and_a_new_login_works(sandbox):
    api = Api(sandbox.url)
    sandbox.control("expire_tokens")
    r = api.get(IMS, action="GETCNT")
    assert r.status_code == 401 and r.json()["error"]["error_cd"] == "AUTH4038"
    assert Api(sandbox.url).ims("GETCNT")["status_cd"] == "1"


# ---------------------------------------------------------------- IMS reads


def test_every_section_is_served_and_counts_equal_records(shared):
    api = Api(shared.url)
    counts = api.ims("GETCNT", goods_typ="ALL_OTH")["data"]["all_oth"]
    impg = api.ims("GETCNT", goods_typ="IMP_GDS")["data"]["imp_gds"]
    total = 0
    for request, key in SECTIONS.items():
        records = api.section(request)
        assert records, f"section {request} is empty"
        expected = impg[key] if key in IMPORTS else counts[key]
        assert sum(expected.values()) == len(records)
        for name, action in (("noaction", "N"), ("accept", "A"), ("reject", "R"), ("pending", "P")):
            assert expected[name] == sum(r["action"] == action for r in records)
        total += len(records) if key not in IMPORTS else 0
    assert counts["ttl_cnt"] == total
    assert impg["ttl_cnt"] == sum(len(api.section(r)) for r in ("IMPG", "IMPGA", "IMPGSEZ", "IMPGSEZA"))
    assert total + impg["ttl_cnt"] == 300


def test_records_look_like_the_portal(shared):
    api = Api(shared.url)
    seen = {"srcfilstatus": set(), "srcform": set(), "action": set(), "ispendactblocked": set()}
    hashes = set()
    for request, key in SECTIONS.items():
        for r in api.section(request):
            hashes.add(r["hash"])
            for f, values in seen.items():
                if f in r:
                    values.add(r[f])
            if key in IMPORTS:
                assert r["boenum"] and r["portcode"] and r["action"] != "R"
                assert ("stin" in r) == key.startswith("impgsez") and (r["isamd"] == "Y") == key.endswith("a")
                continue
            assert is_valid_gstin(r["stin"]), r
            assert ("inv_typ" in r) == (not key.startswith("ecom"))
            if key in ("b2ba", "ecoma"):
                assert r["oinum"] and r["oidt"]
            if key in ("b2bcna", "b2bdna"):
                assert r["ont_num"] and r["ont_dt"]
            inter = r["stin"][:2] != r["pos"] or r.get("inv_typ") in ("SEWP", "SEWOP")
            assert (r["camt"] == r["samt"] == 0) if inter else (r["iamt"] == 0), r
            assert abs(r["txval"] + r["iamt"] + r["camt"] + r["samt"] + r["cess"] - r["val"]) < 0.011
            if r["ispendactblocked"] == "Y":
                assert r["action"] != "P"
    assert seen["srcfilstatus"] == {"Filed", "Not Filed"}
    assert seen["srcform"] >= {"R1", "IFF"} and seen["ispendactblocked"] == {"Y", "N"}
    assert seen["action"] == {"N", "A", "R", "P"}
    assert len(hashes) == 300


def test_gstr2a_holds_filed_documents_items_and_reverse_charge(shared):
    api = Api(shared.url)
    ims = {(r["stin"], r.get("inum") or r.get("nt_num")): r for req in SECTIONS if not req.startswith("IMPG")
           for r in api.section(req) if r["rtnprd"] == "102025"}
    found, rcm = set(), 0
    for action, key, docs in (("B2B", "b2b", "inv"), ("B2BA", "b2ba", "inv"), ("CDN", "cdn", "nt"),
                              ("CDNA", "cdna", "nt")):
        body = api.get(GSTR2A, action=action, ret_period="102025").json()
        assert body["status_cd"] == "1", body
        for group in body["data"][key]:
            assert is_valid_gstin(group["ctin"]) and group["cfs"] == "Y"
            for doc in group[docs]:
                tx = sum(i["itm_det"]["txval"] for i in doc["itms"])
                if doc["rchrg"] == "Y":
                    rcm += 1
                    assert (group["ctin"], doc["inum"]) not in ims
                    continue
                rec = ims[(group["ctin"], doc.get("inum") or doc.get("nt_num"))]
                assert rec["srcfilstatus"] == "Filed" and abs(rec["txval"] - tx) < 0.011
                assert abs(rec["cess"] - sum(i["itm_det"]["csamt"] for i in doc["itms"])) < 0.011
                found.add((group["ctin"], doc.get("inum") or doc.get("nt_num")))
    assert rcm > 0
    assert {k for k, r in ims.items() if r["srcfilstatus"] == "Filed"} == found
    assert any(r["srcfilstatus"] == "Not Filed" for r in ims.values())
    nothing = api.get(GSTR2A, action="B2B", ret_period="012024").json()
    assert nothing["error"]["error_cd"] == "RET13508"


# ---------------------------------------------------------------- SAVE / RESET / REQSTS


def test_save_is_in_progress_then_processed_and_shows_in_getinv_and_getcnt(api):
    records = [r for r in api.section("B2B") if r["action"] == "N" and r["ispendactblocked"] == "N"][:3]
    before = api.ims("GETCNT")["data"]["all_oth"]["b2b"]
    answer = api.put("SAVE", {"b2b": [save_record("b2b", r, a) for r, a in zip(records, "ARP")]})
    assert answer["status_cd"] == "1"
    ref = answer["data"]["reference_id"]
    assert api.status(ref) == {"status_cd": "IP", "proc_cnt": 0, "err_cnt": 0, "error_report": {}}
    assert [r["action"] for r in api.section("B2B") if r["hash"] == records[0]["hash"]] == ["N"]
    assert api.status(ref) == {"status_cd": "P", "proc_cnt": 3, "err_cnt": 0, "error_report": {}}
    now = {r["hash"]: r["action"] for r in api.section("B2B")}
    assert [now[r["hash"]] for r in records] == ["A", "R", "P"]
    after = api.ims("GETCNT")["data"]["all_oth"]["b2b"]
    assert after["noaction"] == before["noaction"] - 3
    assert (after["accept"], after["reject"], after["pending"]) == (
        before["accept"] + 1, before["reject"] + 1, before["pending"] + 1)


def test_reset_returns_records_to_no_action(api):
    rec = next(r for r in api.section("CN") if r["action"] == "A")
    ref = api.put("RESETIMS", {"cn": [{k: v for k, v in save_record("b2bcn", rec, "A").items() if k != "action"}]})
    assert api.finish(ref["data"]["reference_id"])["status_cd"] == "P"
    assert next(r for r in api.section("CN") if r["nt_num"] == rec["nt_num"] and r["stin"] == rec["stin"]
                and r["rtnprd"] == rec["rtnprd"])["action"] == "N"


def test_portal_rules_give_processed_with_errors_and_a_report(api):
    blocked = next(r for r in api.section("CN") if r["ispendactblocked"] == "Y")
    boe = next(r for r in api.section("IMPG") if r["action"] == "N")
    good = next(r for r in api.section("B2B") if r["action"] == "N")
    stale = next(r for r in api.section("B2B") if r["action"] == "N" and r is not good and r["hash"] != good["hash"])
    invdata = {"b2bcn": [save_record("b2bcn", blocked, "P")], "impg": [save_record("impg", boe, "R")],
               "b2b": [save_record("b2b", good, "A"), save_record("b2b", stale, "A", prev_status="A"),
                       save_record("b2b", good, "A", inum="NO-SUCH-1")]}
    result = api.finish(api.put("SAVE", invdata)["data"]["reference_id"])
    assert (result["status_cd"], result["proc_cnt"], result["err_cnt"]) == ("PE", 1, 4)
    report = {(key, e["error_cd"]): e for key, entries in result["error_report"].items() for e in entries}
    assert set(report) == {("b2bcn", "IMSSAV0011"), ("impg", "IMSSAV0012"), ("b2b", "IMSSAV0010"),
                           ("b2b", "IMSSAV0013")}
    assert report[("b2bcn", "IMSSAV0011")]["stin"] == blocked["stin"]
    assert report[("b2bcn", "IMSSAV0011")]["inv"] == [{"inum": blocked["nt_num"], "rtnprd": blocked["rtnprd"]}]
    assert report[("b2b", "IMSSAV0010")]["inv"][0]["inum"] == stale["inum"]
    assert report[("b2b", "IMSSAV0010")]["error_msg"]
    actions = {r["hash"]: r["action"] for r in api.section("B2B")}
    assert actions[good["hash"]] == "A" and actions[stale["hash"]] == "N"


def test_a_supplier_edit_makes_the_downloaded_record_stale(sandbox, api):
    rec = next(r for r in api.section("B2B") if r["action"] == "N")
    edited = sandbox.control("edit_record", gstin=G, section="B2B", stin=rec["stin"], doc_no=rec["inum"],
                             rtnprd=rec["rtnprd"])["record"]
    assert edited["hash"] != rec["hash"] and edited["txval"] != rec["txval"] and edited["action"] == "N"
    result = api.finish(api.put("SAVE", {"b2b": [save_record("b2b", rec, "A")]})["data"]["reference_id"])
    assert result["status_cd"] == "ER" and result["error_report"]["b2b"][0]["error_cd"] == "IMSSAV0010"
    fresh = save_record("b2b", edited, "A")
    assert api.finish(api.put("SAVE", {"b2b": [fresh]})["data"]["reference_id"])["status_cd"] == "P"


def test_portal_side_action_change_makes_prev_status_stale(sandbox, api):
    rec = next(r for r in api.section("B2B") if r["action"] == "N")
    sandbox.control("set_action", gstin=G, section="b2b", stin=rec["stin"], doc_no=rec["inum"], action="R")
    result = api.finish(api.put("SAVE", {"b2b": [save_record("b2b", rec, "A", hash=None)]})["data"]["reference_id"])
    assert result["error_report"]["b2b"][0]["error_cd"] == "IMSSAV0010"


def test_one_save_at_a_time_per_gstin(api):
    recs = [r for r in api.section("B2B") if r["action"] == "N"][:2]
    first = api.put("SAVE", {"b2b": [save_record("b2b", recs[0], "A")]})["data"]["reference_id"]
    busy = api.put("SAVE", {"b2b": [save_record("b2b", recs[1], "A")]})
    assert busy["status_cd"] == "0" and busy["error"]["error_cd"] == "IMSSAV0015"
    other = api.put("SAVE", {"b2b": [save_record("b2b", recs[1], "A")]}, gstin="29AAACW1234K1Z9")
    assert other["status_cd"] == "1"  # another GSTIN is not blocked
    api.finish(first)
    assert api.put("SAVE", {"b2b": [save_record("b2b", recs[1], "A")]})["status_cd"] == "1"


def test_a_save_completes_by_itself_after_save_seconds(sandbox, api):
    sandbox.control("config", save_seconds=0.2)
    recs = [r for r in api.section("B2B") if r["action"] == "N"][:2]
    first = api.put("SAVE", {"b2b": [save_record("b2b", recs[0], "A")]})["data"]["reference_id"]
    time.sleep(0.3)
    assert api.put("SAVE", {"b2b": [save_record("b2b", recs[1], "A")]})["status_cd"] == "1"
    assert api.status(first)["status_cd"] == "P"


# ---------------------------------------------------------------- faults and controls


def test_5xx_and_429_faults_then_normal_answers(sandbox, api):
    sandbox.control("fault", kind="5xx", times=2, status=502)
    assert [api.get(IMS, action="GETCNT").status_code for _ in range(3)] == [502, 502, 200]
    sandbox.control("fault", kind="429")
    r = api.get(IMS, action="GETCNT")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert api.get(IMS, action="GETCNT").status_code == 200


def test_faults_only_hit_matching_requests(sandbox, api):
    sandbox.control("fault", kind="5xx", path_contains="section=CN")
    assert api.get(IMS, action="GETINV", section="B2B").status_code == 200
    assert api.get(IMS, action="GETINV", section="CN").status_code == 503
    assert api.get(IMS, action="GETINV", section="CN").status_code == 200
    assert sandbox.control("clear_faults")["ok"] and requests.get(
        f"{sandbox.url}/_control/state", timeout=5).json()["faults"] == []


def test_slow_fault_delays_the_answer(sandbox, api):
    sandbox.control("fault", kind="slow", delay=0.6)
    start = time.monotonic()
    assert api.get(IMS, action="GETCNT").status_code == 200
    assert time.monotonic() - start >= 0.6
    start = time.monotonic()
    api.get(IMS, action="GETCNT")
    assert time.monotonic() - start < 0.5


def test_expire_session_fault(sandbox, api):
    sandbox.control("fault", kind="expire_session")
    r = api.get(IMS, action="GETCNT")
    assert r.status_code == 401 and r.json()["error"]["error_cd"] == "AUTH4038"
    assert api.get(IMS, action="GETCNT").json()["error"]["error_cd"] == "AUTH4038"  # old token stays dead
    assert Api(sandbox.url).ims("GETCNT")["status_cd"] == "1"


def test_queue_fault_and_threshold_answer_a_token_for_filedet(sandbox, api):
    direct = api.section("CN")
    sandbox.control("fault", kind="queue")
    queued = api.ims("GETINV", section="CN")["data"]
    assert set(queued) == {"token", "est"} and queued["est"] == 1
    early = api.ims("FILEDET", token=queued["token"])
    assert early["status_cd"] == "0" and early["error"]["error_cd"] == "RTN_24"
    time.sleep(0.6)
    assert api.ims("FILEDET", token=queued["token"])["data"]["b2bcn"] == direct
    assert api.ims("FILEDET", token="nope")["error"]["error_cd"] == "RET11417"
    sandbox.control("config", queue_threshold=100, queue_delay=0)
    assert "token" in api.ims("GETINV", section="B2B")["data"]
    assert "b2bcn" in api.ims("GETINV", section="CN")["data"]


def test_save_in_progress_fault(sandbox, api):
    sandbox.control("fault", kind="save_in_progress")
    rec = next(r for r in api.section("B2B") if r["action"] == "N")
    assert api.put("SAVE", {"b2b": [save_record("b2b", rec, "A")]})["error"]["error_cd"] == "IMSSAV0015"
    assert api.put("SAVE", {"b2b": [save_record("b2b", rec, "A")]})["status_cd"] == "1"


def test_fault_flag_at_start():
    sb = start_sandbox(extra=["--fault", "5xx:1", "--queue-threshold", "50"])
    try:
        api = Api(sb.url)
        assert api.get(IMS, action="GETCNT").status_code == 503
        assert "token" in api.ims("GETINV", section="B2B")["data"]
    finally:
        stop_sandbox(sb)


def test_advance_day_adds_new_records_and_supplier_edits(sandbox, api):
    before = {r["hash"]: r for r in api.section("B2B")}
    total = api.ims("GETCNT")["data"]["all_oth"]["ttl_cnt"] + api.ims("GETCNT", goods_typ="IMP_GDS")["data"]["imp_gds"]["ttl_cnt"]
    out = sandbox.control("advance_day", days=2, new_per_day=20, edits_per_day=3)
    assert out["date"] == "14-11-2025" and out["added"][G] == 40 and out["edited"][G] == 6
    state = requests.get(f"{sandbox.url}/_control/state", params={"gstin": G}, timeout=5).json()
    assert state["businesses"][G]["total"] == total + 40
    now = api.ims("GETCNT")["data"]["all_oth"]["ttl_cnt"] + api.ims("GETCNT", goods_typ="IMP_GDS")["data"]["imp_gds"]["ttl_cnt"]
    assert now == total + 40
    new = [r for r in api.section("B2B") if r["hash"] not in before]
    assert any(r["rtnprd"] == "112025" and r["idt"] in ("13-11-2025", "14-11-2025", "12-11-2025",
                                                         "11-11-2025", "10-11-2025") for r in new)
    assert sandbox.control("reset")["ok"]
    assert {r["hash"] for r in api.section("B2B")} == set(before)


def test_an_error_before_the_body_is_read_keeps_the_connection_usable(sandbox, api):
    sandbox.control("fault", kind="5xx", path_contains="SAVE")
    rec = next(r for r in api.section("B2B") if r["action"] == "N")
    with requests.Session() as s:
        s.headers["auth-token"] = api.token
        body = {"rtin": G, "reqtyp": "SAVE", "invdata": {"b2b": [save_record("b2b", rec, "A")]}}
        assert s.put(sandbox.url + IMS, params={"action": "SAVE", "gstin": G}, json=body, timeout=10).status_code == 503
        assert s.put(sandbox.url + IMS, params={"action": "SAVE", "gstin": G}, json=body,
                     timeout=10).json()["status_cd"] == "1"
        assert s.get(sandbox.url + IMS, params={"action": "GETCNT", "gstin": G}, timeout=10).json()["status_cd"] == "1"


def save_body(api) -> bytes:
    rec = next(r for r in api.section("B2B") if r["action"] == "N")
    return json.dumps({"rtin": G, "reqtyp": "SAVE", "invdata": {"b2b": [save_record("b2b", rec, "A")]}}).encode()


def test_a_failed_session_check_on_a_put_keeps_the_connection_usable(sandbox, api):
    body = save_body(api)
    with requests.Session() as s:
        put = lambda token: s.put(sandbox.url + IMS, params={"action": "SAVE", "gstin": G}, data=body,
                                  headers={"auth-token": token, "Content-Type": "application/json"}, timeout=10)
        assert put("not-a-token").status_code == 401
        sandbox.control("fault", kind="expire_session", path_contains="SAVE")
        assert put(api.token).json()["error"]["error_cd"] == "AUTH4038"
        token = api.login().json()["data"]["auth_token"]
        assert put(token).json()["status_cd"] == "1"
        assert s.get(sandbox.url + IMS, params={"action": "GETCNT", "gstin": G}, headers={"auth-token": token},
                     timeout=10).json()["status_cd"] == "1"


def test_chunked_body_is_read_and_the_connection_stays_usable(sandbox, api):
    sandbox.control("fault", kind="5xx", path_contains="SAVE")
    url = urlsplit(sandbox.url)
    con = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        target = f"{IMS}?action=SAVE&gstin={G}"
        headers = {"auth-token": api.token, "Content-Type": "application/json"}
        body = save_body(api)
        for expected in (503, 200):
            con.request("PUT", target, body=iter([body[:40], body[40:]]), headers=headers, encode_chunked=True)
            answer = con.getresponse()
            assert answer.status == expected, answer.read()
            answer.read()
        con.request("GET", f"{IMS}?action=GETCNT&gstin={G}", headers=headers)
        assert json.loads(con.getresponse().read())["status_cd"] == "1"
    finally:
        con.close()


def test_a_bad_content_length_is_refused_and_the_connection_closed(shared):
    url = urlsplit(shared.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(b"PUT " + IMS.encode() + b"?action=SAVE HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: ten\r\n\r\n{}GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"Connection: close" in head
    assert b"Content-Length 'ten' is not a byte count" in body and b'"status":"ok"' not in answer
