"""Suppliers end to end over HTTP against the sandbox (docs/suppliers.md): a case for each kind
of item (not filed, mismatch, missing on the portal, credit note awaited) is resolved by a later
fetch once the supplier fixes it on the portal; the rule 37A flag and its ITC figure from the
sandbox's GSTR-2A (its `cfs3b` and `dtcancel`), gone once the supplier files its GSTR-3B.
One sandbox and one store for the module; marked slow."""
from __future__ import annotations

import csv
import datetime as dt
import io

import polars as pl
import pytest

from core.ims import apply_sync
from core.ims.fetch import fetch_business
from core.mail import save_smtp_settings
from core.portal.client import GstnClient
from core.purchase import import_purchase_file
from core.store import connect
from core.suppliers import (
    case_items,
    cases_of,
    hold_payment_list,
    open_case,
    review_cases,
    rule_37a_flags,
    save_supplier,
    send_reminders,
    send_statements,
    statement_frame,
    worklist,
)
from tests.fixtures import add_business, start_sandbox, stop_sandbox, temporary_env

pytestmark = pytest.mark.slow
G = "27AAACW1234K1ZD"
TODAY = dt.date(2025, 11, 12)
GONE = "MISS/0001"
NOTE = "CNAWAIT/01"


def _tax(r: dict) -> float:
    return float(r["igst"] + r["cgst"] + r["sgst"] + r["cess"])


def _write_books(path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["company_gstin", "supplier_gstin", "supplier_name", "doc_type", "doc_no",
                    "doc_date", "place_of_supply", "reverse_charge", "taxable_value", "igst",
                    "cgst", "sgst", "cess", "doc_value"])
        for d in rows:
            sign = -1 if d["doc_type"] == "CRN" else 1
            amounts = [float(d[k]) for k in ("txval", "igst", "cgst", "sgst", "cess")]
            w.writerow([G, d["stin"], "", d["doc_type"], d["doc_no"], d["doc_date"].isoformat(),
                        d["pos"], "N", *[sign * a for a in amounts], sign * sum(amounts)])


def _portal_amounts(doc: dict) -> dict:
    """The sandbox's names for a document's amounts (rupees)."""
    return {portal: float(doc[ours]) for ours, portal in
            (("txval", "txval"), ("igst", "iamt"), ("cgst", "camt"), ("sgst", "samt"),
             ("cess", "cess"))}


def _refresh() -> dict:
    fetch_business(G, GstnClient())
    apply_sync(G, actor="test")
    return review_cases(G, actor="test")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("suppliers")
    sb = start_sandbox(seed=7, scale=300, extra=["--gstin", G])
    with temporary_env(IMS_DB_PATH=str(root / "ims.duckdb"), GSTN_API_URL=sb.url,
                       IMS_DB_URL=""):
        add_business(G, "Western Agro")
        fetch_business(G, GstnClient())
        with connect() as con:
            cur = con.execute("""
                SELECT record_id, section, stin, doc_type, doc_no, doc_date, rtnprd, pos, txval,
                       igst, cgst, sgst, cess, srcfilstatus FROM ims_records
                WHERE section IN ('b2b', 'b2bcn') AND removed_at IS NULL ORDER BY record_id""")
            names = [d[0] for d in cur.description]
            records = [dict(zip(names, r)) for r in cur.fetchall()]
        filed = [r for r in records if r["section"] == "b2b" and r["srcfilstatus"] == "Filed"
                 and _tax(r) > 0 and r["igst"] > 0]
        not_filed = next(r for r in records if r["srcfilstatus"] == "Not Filed"
                         and r["section"] == "b2b")
        bad = filed[0]
        other = next(r for r in filed[1:] if r["stin"] not in (bad["stin"], not_filed["stin"]))
        books = [dict(r) for r in records]
        for b in books:
            if b["record_id"] == bad["record_id"]:   # the books hold other amounts
                b["txval"], b["igst"] = bad["txval"] + 1000, bad["igst"] + 180
        gone = dict(other, doc_no=GONE, txval=other["txval"], doc_type="INV")
        note = dict(other, doc_no=NOTE, doc_type="CRN", txval=other["txval"] / 10,
                    igst=other["igst"] / 10, cgst=other["cgst"] / 10, sgst=other["sgst"] / 10,
                    cess=0)
        _write_books(root / "books.csv", books + [gone, note])
        result = import_purchase_file(str(root / "books.csv"), company_gstin=G, actor="test",
                                      today=TODAY)
        assert result.ok, result
        apply_sync(G, actor="test")
        yield {"sb": sb, "bad": bad, "not_filed": not_filed, "other": other,
               "books": {b["record_id"]: b for b in books}, "gone": gone, "note": note}
    stop_sandbox(sb)


def _item(items: pl.DataFrame, kind: str, doc_no: str) -> pl.DataFrame:
    return items.filter((pl.col("kind") == kind) & (pl.col("doc_no") == doc_no))


def test_a_case_of_each_kind_is_resolved_by_a_later_fetch(world):
    sb, bad, not_filed, other = world["sb"], world["bad"], world["not_filed"], world["other"]
    items = worklist(G, TODAY)
    wanted = {"mismatch": (bad["stin"], bad["doc_no"]),
              "not_filed": (not_filed["stin"], not_filed["doc_no"]),
              "missing_on_portal": (other["stin"], GONE),
              "credit_note_awaited": (other["stin"], NOTE)}
    cases = {}
    for kind, (stin, doc_no) in wanted.items():
        item = _item(items, kind, doc_no)
        assert item.height == 1, (kind, doc_no, items.filter(pl.col("stin") == stin))
        cases[kind] = open_case(G, stin, item, "analyst@example.com")
    # the mismatch says what to amend, field by field, to the books' values
    fix = _item(items, "mismatch", bad["doc_no"])["to_fix"].item()
    assert "taxable value" in fix and "IGST" in fix
    assert item["deadline_words"].item().startswith("section 16(4): 30 Nov 2026")
    # the value sort: biggest ITC first
    assert items["itc"].to_list() == sorted(items["itc"].to_list(), reverse=True)

    assert _refresh()["fixed"] == 0          # nothing fixed yet
    book = world["books"][bad["record_id"]]
    sb.control("edit_record", gstin=G, section="B2B", stin=bad["stin"], doc_no=bad["doc_no"],
               rtnprd=bad["rtnprd"], amounts=_portal_amounts(book))
    sb.control("supplier_files", gstin=G, stin=not_filed["stin"],
               ret_period=not_filed["rtnprd"], rtntype="GSTR1")
    for doc, section in ((world["gone"], "B2B"), (world["note"], "CN")):
        sb.control("add_record", gstin=G, section=section, stin=doc["stin"],
                   doc_no=doc["doc_no"], doc_date=doc["doc_date"].strftime("%d-%m-%Y"),
                   rtnprd=other["rtnprd"],
                   amounts=_portal_amounts(doc))
    done = _refresh()
    assert done["resolved"] >= len(set(cases.values())), (done, [case_items(c).select("kind", "doc_no", "fixed_note").rows() for c in set(cases.values())])
    closed = cases_of([G], ("resolved",))
    assert set(cases.values()) <= set(closed["case_id"].to_list())
    notes = {}
    for kind, case_id in cases.items():
        rows = case_items(case_id).filter(pl.col("kind") == kind)
        assert rows["fixed_at"].is_not_null().all(), (kind, rows)
        notes[kind] = rows["fixed_note"].to_list()[0]
    assert "amended it to the books' values" in notes["mismatch"]
    assert "filed" in notes["not_filed"]
    assert "appeared on the portal and matches" in notes["missing_on_portal"]
    assert "credit note appeared" in notes["credit_note_awaited"]


def test_rule_37a_flag_and_its_itc_from_the_sandbox_2a(world):
    sb = world["sb"]
    client = GstnClient()
    expected: dict[tuple[str, str], float] = {}
    cancelled = set()
    for period in ("082025", "092025", "102025", "112025"):
        for action, part, docs_key in (("B2B", "b2b", "inv"), ("CDN", "cdn", "nt")):
            data = client.get_gstr2a(G, period, action) or {}
            for group in data.get(part) or []:
                if group.get("dtcancel"):
                    cancelled.add(group["ctin"])
                if group.get("cfs3b") != "N":
                    continue
                for doc in group[docs_key]:
                    tax = sum(i["itm_det"][h] for i in doc["itms"]
                              for h in ("iamt", "camt", "samt", "csamt"))
                    sign = -1 if doc.get("ntty") == "C" else 1
                    key = (group["ctin"], period)
                    expected[key] = expected.get(key, 0) + sign * tax
    expected = {k: v for k, v in expected.items() if v > 0}
    assert expected, "the sandbox serves cfs3b N for some suppliers"
    flags = rule_37a_flags([G], TODAY)
    got = {(r["stin"], r["ret_period"]): r["itc"] for r in flags.iter_rows(named=True)}
    assert got.keys() == expected.keys()
    for key, itc in expected.items():
        assert got[key] == pytest.approx(itc, abs=0.01)
    first = flags.row(0, named=True)
    assert first["reverse_by"] == dt.date(2026, 11, 30) and "at risk" in first["state"]
    hold = hold_payment_list([G], TODAY, {})
    assert set(hold["supplier_gstin"]) == {s for s, _ in expected} | cancelled
    # the GSP adapter's filing-status call says the same as the 2A
    status = client.get_supplier_returns(G, first["stin"], "2025-26")
    listed = {(e["rtntype"], e["ret_prd"]): e["status"] for e in status["EFiledlist"]}
    assert listed[("GSTR3B", first["ret_period"])] == "Not Filed"
    # the supplier files its GSTR-3B: the next fetch takes the flag away
    stin, period = first["stin"], first["ret_period"]
    sb.control("supplier_files", gstin=G, stin=stin, ret_period=period, rtntype="GSTR3B")
    fetch_business(G, GstnClient())
    after = rule_37a_flags([G], TODAY)
    assert (stin, period) not in {(r["stin"], r["ret_period"]) for r in after.iter_rows(named=True)}


def test_statements_mailed_in_bulk_arrive_and_their_attachment_is_the_worklist(world,
                                                                                smtp_server):
    with connect() as con:
        save_smtp_settings(con, smtp_server.settings)
    items = worklist(G, TODAY)
    stins = items["stin"].unique(maintain_order=True).to_list()
    first, second = stins[0], stins[1]
    save_supplier(G, {"supplier_gstin": first, "trade_name": "First Supplies",
                      "emails": "a@first.test, b@first.test"}, "analyst@example.com")
    save_supplier(G, {"supplier_gstin": second, "emails": "gone@second.test"},
                  "analyst@example.com")
    smtp_server.refuse("gone@second.test")
    results = {r.stin: r for r in send_statements(G, "analyst@example.com")}
    assert results[first].state == "sent", results[first].message
    assert results[second].state == "refused" and "will retry" in results[second].message
    assert {r.state for s, r in results.items() if s not in (first, second)} == {"no address"}
    [msg] = smtp_server.messages
    assert msg.envelope_to == ["a@first.test", "b@first.test"]
    assert str(msg["Subject"]) == "Western Agro: GST documents to fix (First Supplies)"
    mine = items.filter(pl.col("stin") == first)
    body = msg.get_body(("html",)).get_content()
    assert all(doc in body for doc in mine["doc_no"].to_list())
    [part] = list(msg.iter_attachments())
    sheet = pl.read_excel(io.BytesIO(part.get_content()))
    expected = statement_frame(mine)
    assert sheet["Document number"].to_list() == expected["Document number"].to_list()
    assert sheet["ITC at stake"].to_list() == pytest.approx(expected["ITC at stake"].to_list())
    assert sheet["What to fix"].to_list() == expected["What to fix"].to_list()
    # both cases are "sent": a refused mail is retried, never dropped
    sent = cases_of([G], ("sent",))
    assert {first, second} <= set(sent["stin"].to_list())
    # no reply for the reminder setting's days: the worker's reminder mails the open records
    smtp_server.messages.clear()
    assert send_reminders(G, "worker") == []                   # not due yet
    with connect() as con:
        con.execute("UPDATE supplier_cases SET sent_at = sent_at - INTERVAL 8 DAY, "
                    "reminded_at = NULL WHERE rtin = ? AND stin = ?", [G, first])
    assert [r.state for r in send_reminders(G, "worker")] == ["sent"]
    [again] = smtp_server.messages
    assert again.envelope_to == ["a@first.test", "b@first.test"]
    assert str(again["Subject"]).startswith("Reminder: Western Agro: GST documents to fix")
    assert send_reminders(G, "worker") == []                   # the next one waits again
