"""GSTR-2B end to end over HTTP with the real sandbox and a real store (docs/month-close.md):
generated on the 14th from the actions held then; actions changed afterwards make the 2B
"need regeneration" with the right count; GEN2B -> GENSTS2B -> the new 2B fetched clears it;
large 2Bs read file by file; a filed period refuses regeneration."""
from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys

import pytest
import requests
from polars.testing import assert_frame_equal

from core.gstr2b.job import PeriodFiled, fetch_gstr2b, regenerate_gstr2b
from core.gstr2b.panel import late_record_rows
from core.gstr2b.store import late_actions, stored_2b, stored_2b_documents
from core.ims.fetch import fetch_ims
from core.portal.client import GSTR2A_PATH, GstnClient
from core.portal.filing_status import track_filings
from core.portal.gstr2b import GSTR2B_PATH, fetch_2b, fetch_2b_frame, regeneration_status
from core.portal.payload import PayloadError
from core.portal.payload.gstr2b import _fast_frame as fast_frame
from core.portal.payload.gstr2b import flatten_2b, read_2b_frame, rows_frame
from core.reco.cli import main as reco_main
from tests.fixtures import (
    BOTH_ENGINES,
    ROOT,
    add_business,
    start_sandbox,
    stop_sandbox,
    write_2b_docs_as_books,
)

G = "27AAACW1234K1ZD"
PERIOD = "102025"
SAMPLES = ROOT / "tests" / "data" / "samples"


@pytest.fixture
def portal(db_file, monkeypatch):
    sb = start_sandbox(extra=["--gstin", G])
    monkeypatch.setenv("GSTN_API_URL", sb.url)
    add_business(G, "Western Agro")
    yield sb
    stop_sandbox(sb)


def control(sb, name: str, body: dict) -> dict:
    resp = requests.post(f"{sb.url}/_control/{name}", json=body, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def records_of(sb, action: str, count: int) -> list[dict]:
    """`count` filed b2b records of PERIOD holding `action` on the portal."""
    client = GstnClient()
    found = [r for r in client.get_ims_raw(G, "B2B")["b2b"]
             if r["rtnprd"] == PERIOD and r["action"] == action
             and r["srcfilstatus"] == "Filed"]
    assert len(found) >= count
    return found[:count]


@BOTH_ENGINES
def test_late_actions_need_regeneration_until_regenerated(portal):
    client = GstnClient()
    assert fetch_2b(client, G, PERIOD) is None          # the 14th has not come yet
    moved = control(portal, "advance_day", {"days": 2, "new_per_day": 0, "edits_per_day": 0})
    assert {"gstin": G, "period": PERIOD} in moved["gstr2b_generated"]
    fetch_ims(G, client)
    first = fetch_gstr2b(G, PERIOD, client)
    assert first["generated"] and first["documents"] > 50 and first["late"] == 0
    assert late_actions([G]) == {(G, PERIOD): 0}
    head = stored_2b(G, PERIOD)
    assert head["version"] == "1" and head["itcsumm"]["itcavl"]["nonrevsup"]["total"]["igst"] > 0
    docs = stored_2b_documents(G, PERIOD)
    assert docs.filter(docs["itcavl"] == "N")["rsn"].null_count() == 0
    assert docs.filter(docs["itcavl"] == "N").height > 0
    assert docs["trdnm"].drop_nulls().str.len_chars().min() > 0

    # actions taken after the 2B: 2 rejected, 1 pending, 1 accepted (no change for the 2B)
    changes = ([(r, "R") for r in records_of(portal, "N", 2)] +
               [(r, "P") for r in records_of(portal, "N", 3)[2:]] +
               [(r, "A") for r in records_of(portal, "N", 4)[3:]])
    for rec, action in changes:
        control(portal, "set_action", {"gstin": G, "section": "B2B", "stin": rec["stin"],
                                       "doc_no": rec["inum"], "action": action,
                                       "rtnprd": PERIOD})
    fetch_ims(G, client)
    assert late_actions([G]) == {(G, PERIOD): 3}
    # the panel names them: supplier, document, value, why (issue 24, item 7)
    named = late_record_rows(G, PERIOD)
    assert sorted(r["Document"] for r in named) == sorted(
        f"Invoice {r['inum']}" for r, a in changes if a != "A")
    whys = sorted(r["Why"] for r in named)
    assert whys == ["kept pending now; the 2B counts it as accepted"] + [
        "rejected now; the 2B counts it as accepted"] * 2, whys
    assert all(r["Supplier"] and r["Value"].startswith("₹") and r["Date"] for r in named)

    again = regenerate_gstr2b(G, PERIOD, client, poll=0.05)
    assert again["version"] == 2 and again["late"] == 0
    assert late_actions([G]) == {(G, PERIOD): 0}
    docs = stored_2b_documents(G, PERIOD)
    rejected = docs.filter(docs["rejected_in_ims"])["doc_no"].to_list()
    assert all(r["inum"] in rejected for r, a in changes if a == "R")
    present = set(docs["doc_no"].to_list())
    assert all(r["inum"] not in present for r, a in changes if a == "P")

    # GSTR-3B filed: the store refuses before asking the portal; the portal refuses too
    control(portal, "file_gstr3b", {"gstin": G, "ret_period": PERIOD})
    resp = client.call("PUT", GSTR2B_PATH, G, {"action": "GEN2B", "gstin": G},
                       {"rtin": G, "itcprd": "092025"})
    assert regeneration_status(client, G, resp["int_tran_id"]) == "IP"
    with pytest.raises(Exception, match="RET2B1025"):
        client.call("PUT", GSTR2B_PATH, G, {"action": "GEN2B", "gstin": G},
                    {"rtin": G, "itcprd": PERIOD})
    track_filings(client, G, today=dt.date(2025, 11, 14))   # the store learns it is filed
    with pytest.raises(PeriodFiled, match="can no longer be regenerated"):
        regenerate_gstr2b(G, PERIOD, client)
    assert late_actions([G]) == {}


def test_large_2b_is_read_file_by_file(portal):
    client = GstnClient()
    whole = fetch_2b(client, G, "092025")            # its 14th passed before the start
    control(portal, "gstr2b", {"per_file": 7})
    raw = client.call("GET", GSTR2B_PATH, G, {"action": "GET2B", "gstin": G,
                                              "rtnprd": "092025"})
    assert raw["fc"] > 1 and "docdata" not in raw
    in_files = fetch_2b(client, G, "092025")
    assert len(flatten_2b({"data": in_files})[1]) == len(flatten_2b({"data": whole})[1]) > 7
    head, frame = fetch_2b_frame(client, G, "092025")   # each file read as it arrives
    assert (head, frame.to_dicts()) == flatten_2b({"data": in_files})
    assert fetch_gstr2b(G, "092025", client)["documents"] == len(flatten_2b({"data": whole})[1])


def read_csv(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_2b_vs_pr_on_the_samples(tmp_path):
    out = tmp_path / "out.csv"
    assert reco_main(["--purchase", str(SAMPLES / "purchase_register_sample.csv"),
                      "--portal", str(SAMPLES / "gstr2b_sample.json"), "--out", str(out)]) == 0
    rows = {(r["portal_doc_no"] or r["pr_doc_no"], r["match_status"]): r for r in read_csv(out)}
    assert rows[("SI/2025-26/0101", "exact")]["itc_advice"] == "claim"
    assert rows[("SI/2025-26/0101", "exact")]["supfildt"] == "2025-11-11"
    unavailable = rows[("KA-7759", "exact")]
    assert (unavailable["itcavl"], unavailable["rsn"]) == ("N", "P")
    assert unavailable["itc_advice"].startswith("do not claim: ITC not available")
    assert rows[("GJ/570", "missing_in_pr")]["itc_advice"].startswith("do not claim, or reverse")
    assert rows[("KA-7790", "rejected_in_ims")]["rejected_in_ims"] == "true"
    assert rows[("KA-7790", "missing_in_portal")]["itc_advice"].startswith(
        "do not claim: rejected in IMS")
    assert rows[("SI/2025-26/0103", "missing_in_portal")]["itc_advice"].startswith("defer")
    assert rows[("CN/25-26/007", "exact")]["doc_type"] == "CRN"
    assert len(rows) == 10


def test_2b_vs_pr_on_sandbox_data(portal, tmp_path):
    """The sandbox's 2B of a period against books holding most of its documents (one with
    a different taxable value): every document is in the output once, with its facts."""
    data = fetch_2b(GstnClient(), G, "092025")
    (tmp_path / "2b.json").write_text(json.dumps({"data": data}), encoding="utf-8")
    _, docs = flatten_2b({"data": data})
    kept = [d for d in docs if not d["rejected_in_ims"] and d["doc_type"] not in ("BOE", "ISD", "ISDC")]
    books = kept[: len(kept) * 4 // 5]
    first = dict(books[0], txval=books[0]["txval"] + 500_000)   # one taxable value differs
    write_2b_docs_as_books(tmp_path / "pr.csv", G, [first, *books[1:]])
    assert reco_main(["--purchase", str(tmp_path / "pr.csv"), "--portal",
                      str(tmp_path / "2b.json"), "--out", str(tmp_path / "out.csv")]) == 0
    out = read_csv(tmp_path / "out.csv")
    portal_rows = [r for r in out if r["portal_doc_no"]]
    assert len(portal_rows) == len(docs)
    status = {r["portal_doc_no"]: r["match_status"] for r in portal_rows}
    assert status[books[0]["doc_no"]] == "mismatch"
    assert sum(status[d["doc_no"]] == "exact" for d in books) >= len(books) - 3
    assert all(status[d["doc_no"]] == "missing_in_pr" for d in kept[len(books):])
    assert {r["itcavl"] for r in portal_rows} >= {"Y", "N"}
    assert all(r["rsn"] for r in portal_rows if r["itcavl"] == "N")
    assert all(r["supfildt"] for r in portal_rows if r["section"] not in ("impg", "impgsez"))


def test_2b_holds_reverse_charge_and_isd_documents(portal):
    """Documents IMS never holds are in the 2B: the period's reverse-charge invoices (the ones
    GSTR-2A shows, `rev` = Y) and input service distributor documents, each in its place of
    `itcsumm`; none of them counts as a late action."""
    control(portal, "gstr2b", {"generate": {"gstin": G, "period": PERIOD}})
    client = GstnClient()
    data = fetch_2b(client, G, PERIOD)
    _, docs = flatten_2b({"data": data})
    reverse = [d for d in docs if d["rcm"] == "Y"]
    isd = [d for d in docs if d["section"] == "isd"]
    in_2a = [d for g in client.call("GET", GSTR2A_PATH, G,
                                    {"action": "B2B", "gstin": G, "ret_period": PERIOD})["b2b"]
             for d in g["inv"] if d.get("rchrg") == "Y"]
    assert len(reverse) == len(in_2a) > 0 and all(d["section"] == "b2b" for d in reverse)
    assert {d["doc_no"] for d in reverse} == {d["inum"] for d in in_2a}
    assert isd and all(d["doc_type"] in ("ISD", "ISDC") and d["trdnm"] and d["igst"] + d["cgst"] > 0
                       for d in isd)
    assert len(reverse) + len(isd) < len(docs) // 10          # a small share
    summary = data["itcsumm"]["itcavl"]
    assert summary["revsup"]["total"]["igst"] + summary["revsup"]["total"]["cgst"] > 0
    assert set(summary["isdsup"]) >= {"isd", "total"}
    fetch_ims(G, client)
    assert fetch_gstr2b(G, PERIOD, client)["late"] == 0


@BOTH_ENGINES
def test_2b_waits_for_the_previous_gstr3b(portal):
    """The 2B of November (the October GSTR-3B is due after the sandbox's start) is not
    generated on 14 December while that return is not filed; filing it generates the 2B that
    day. October's 2B (September's return was due before the start) is generated on time."""
    moved = control(portal, "advance_day", {"days": 32, "new_per_day": 0, "edits_per_day": 0})
    generated = [(g["gstin"], g["period"]) for g in moved["gstr2b_generated"]]
    assert (G, PERIOD) in generated and (G, "112025") not in generated
    with pytest.raises(Exception, match="waits for the GSTR-3B of 102025"):
        GstnClient().call("GET", GSTR2B_PATH, G, {"action": "GET2B", "gstin": G,
                                                  "rtnprd": "112025"})
    filed = control(portal, "file_gstr3b", {"gstin": G, "ret_period": PERIOD})
    assert filed["gstr2b_generated"] == [{"gstin": G, "period": "112025"}]
    assert fetch_2b(GstnClient(), G, "112025")["gendt"] == "14-12-2025"


def test_worker_fetch_2b_command(portal):
    def worker(*args):
        return subprocess.run([sys.executable, "worker.py", "fetch-2b", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False)

    bad = worker("--gstin", G, "--period", "132025")
    assert bad.returncode == 2 and "not a return period" in bad.stderr
    fetched = worker("--gstin", G, "--period", "092025")
    assert fetched.returncode == 0, fetched.stderr
    assert "version 1" in fetched.stdout and "documents stored" in fetched.stdout
    again = worker("--gstin", G, "--period", "092025", "--regenerate")
    assert again.returncode == 0 and "version 2" in again.stdout, again.stderr
    assert worker("--gstin", G, "--period", "112025").stdout.endswith("not generated yet\n")


def test_column_wise_reading_equals_the_checked_one(portal):
    """The fast reading gives the same frame as the record-by-record one (sandbox data and
    the sample); a document with a bad field is still refused naming section, record, field."""
    control(portal, "gstr2b", {"generate": {"gstin": G, "period": PERIOD}})
    data = fetch_2b(GstnClient(), G, PERIOD)
    sample = json.loads((SAMPLES / "gstr2b_sample.json").read_text(encoding="utf-8"))
    for doc in ({"data": data}, sample):
        assert fast_frame(doc["data"]) is not None   # clean: read column-wise
        head, frame = read_2b_frame(doc)
        slow_head, slow = flatten_2b(doc)
        assert head == slow_head
        assert_frame_equal(frame, rows_frame(slow))
    assert set(frame["section"]) >= {"b2b", "cdnr"}
    assert set(read_2b_frame({"data": data})[1]["section"]) >= {"b2b", "cdnr", "impg",
                                                                 "impgsez"}
    sample["data"]["docdata"]["b2b"][1]["inv"][0]["dt"] = "2025-10-08"
    with pytest.raises(PayloadError, match="docdata b2b record 3: field 'dt'"):
        read_2b_frame(sample)
    sample["data"]["docdata"]["b2b"][1]["inv"][0]["dt"] = "08-10-2025"
    sample["data"]["docdata"]["b2b"][1]["inv"][1]["igst"] = "lots"
    with pytest.raises(PayloadError, match="field 'igst' = 'lots' is not an amount"):
        read_2b_frame(sample)


@pytest.mark.parametrize("blank", ["   ", "\t", ""])
def test_blank_text_reads_the_same_column_wise_and_record_by_record(blank):
    """Whitespace-only or empty text in every optional text field of a clean 2B document: the
    column-wise reading gives what the record-by-record one gives ('' for whitespace, None for
    '', the defaults of rev / itcavl, no reason)."""
    sample = json.loads((SAMPLES / "gstr2b_sample.json").read_text(encoding="utf-8"))
    group = sample["data"]["docdata"]["b2b"][0]
    group.update(trdnm=blank, supprd=blank)
    for doc in group["inv"]:
        doc.update(pos=blank, rev=blank, typ=blank, itcavl=blank, rsn=blank, oinum=blank)
    sample["data"]["docdata"]["cdnr"][0]["nt"][0].update(suptyp=blank, rev=blank)
    assert fast_frame(sample["data"]) is not None   # still read column-wise
    frame = read_2b_frame(sample)[1]
    assert_frame_equal(frame, rows_frame(flatten_2b(sample)[1]))
    first = frame.row(0, named=True)
    assert (first["rcm"], first["itcavl"], first["rsn"]) == ("N", "Y", None)
    assert first["pos"] == first["trdnm"] == (None if blank == "" else "")


def test_whole_and_fractional_rupees_in_one_section_are_read_column_wise():
    """10000 and 100.5 in the same section (as the portal writes them) keep the column-wise
    reading, with the record-by-record frame; an integer beyond exact floats does not."""
    sample = json.loads((SAMPLES / "gstr2b_sample.json").read_text(encoding="utf-8"))
    docs = sample["data"]["docdata"]["b2b"][0]["inv"]
    docs[0].update(txval=10000, val=11800.5)
    docs[1].update(txval=25000.25, val=29500)
    assert fast_frame(sample["data"]) is not None
    assert_frame_equal(read_2b_frame(sample)[1], rows_frame(flatten_2b(sample)[1]))
    docs[1]["txval"] = 2 ** 53 + 1
    assert fast_frame(sample["data"]) is None
    assert_frame_equal(read_2b_frame(sample)[1], rows_frame(flatten_2b(sample)[1]))
