"""GSTR-3B Table 4 as notified (docs/month-close.md, "The ITC summary"): the public GSTR-2B
v4.0 shape (ISD invoices and credit notes, an ineligible ISD document, `isda`, the rule 37A
`itcrev` block, amounts per item, reverse-charge credit notes) through the file command
`python -m core.itc_summary`, run as a user would; the books column `itc_ineligible_reason` and
imports of services; 4(D)(1) from a kept earlier 2B; the advisory checks; and the ITC Summary
page and its Excel agreeing with the file command on the samples."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from core.gstr2b.store import store_2b
from core.month_close.cli import table4
from core.month_close.excel import itc_workbook
from core.month_close.itc_store import itc_summary
from core.month_close.itc_summary import (
    FILE_ROWS,
    HEAD_WORDS,
    HEADS,
    ROWS,
    advisory_checks,
    documents_behind,
    figure,
    file_lines,
    portal_differences,
)
from core.portal.payload.gstr2b import flatten_2b, read_2b_frame
from core.purchase import import_purchase_file, read_purchase_documents
from core.store import connect, transaction
from tests.fixtures import COMPANY, ROOT, SAMPLES, rows

DATA = ROOT / "tests" / "data"
V4 = DATA / "gstr2b_v4_sample.json"
BOOKS = DATA / "purchase_register_v4_sample.csv"
PERIOD = "102025"


def itc_summary_command(*args: str, module: tuple[str, ...] = ("core.itc_summary",)):
    return subprocess.run([sys.executable, "-m", *module, *args], cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=180)


def read_table(path) -> dict[tuple[str, str], dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(lines[0]) == ["row", "source", "igst", "cgst", "sgst", "cess"]
    assert [(r["row"], r["source"]) for r in lines] == \
        [(row, source) for row in FILE_ROWS for source in ("2b", "books")]
    return {(r["row"], r["source"]): {h: r[h] for h in HEADS} for r in lines}


# ---------------------------------------------------------------- the file command


def test_public_v4_shape_through_the_file_command(tmp_path):
    out = tmp_path / "table4.csv"
    done = itc_summary_command("--gstr2b", str(V4), "--purchase", str(BOOKS), "--out", str(out))
    assert done.returncode == 0, done.stderr
    t = read_table(out)
    # ISD: ISD/101 (500) less the ISD credit note ISD/C05 (130) plus the amended ISD/090
    # (isda, 250); ISD/102 has itcelg N and is not ITC. Counting every isd document as ITC
    # and dropping isda gave 880.00.
    assert t[("4A4", "2b")]["cgst"] == "620.00"
    # reverse charge RC-1 (500) less its credit note RC-CN1 (100), netted inside 4(A)(3)
    assert t[("4A3", "2b")]["cgst"] == t[("4A3", "books")]["cgst"] == "400.00"
    # all other ITC: SI/0101 (900, amounts per item) + SI/0102 (2250) less CN/25-26/007 (180)
    assert t[("4A5", "2b")]["cgst"] == t[("4A5", "books")]["cgst"] == "2970.00"
    assert t[("4A5", "2b")]["igst"] == "8100.00"        # KA-7781, itcavl T: counted
    assert t[("4A1", "2b")] == t[("4A1", "books")] == \
        {"igst": "1230.20", "cgst": "0.00", "sgst": "0.00", "cess": "5.00"}
    # import of services: only the books know it (supplier URP, reverse charge)
    assert t[("4A2", "books")]["igst"] == "1800.00" and t[("4A2", "2b")]["igst"] == "0.00"
    # SI/0102 is "Blocked u/s 17(5)" in the books: counted in 4(A), reversed in 4(B)(1)
    assert t[("4B1", "2b")]["cgst"] == t[("4B1", "books")]["cgst"] == "2250.00"
    # rule 37A: RP-70 in the 2B's itcrev block is reversed in 4(B)(2); no credit note is there
    assert t[("4B2", "2b")]["cgst"] == "360.00" and t[("4B2", "books")]["cgst"] == "0.00"
    assert t[("4C", "2b")]["cgst"] == f"{400 + 620 + 2970 - 2250 - 360}.00"
    assert t[("4D2", "2b")]["cgst"] == "0.00"           # ISD/102 is not 4(D)(2) either
    assert "620.00" not in done.stderr and "error" not in done.stderr


def test_the_one_command_line_and_no_books(tmp_path):
    out = tmp_path / "table4.csv"
    done = itc_summary_command("itc-summary", "--gstr2b", str(V4), "--out", str(out),
                               module=("core",))
    assert done.returncode == 0, done.stderr
    t = read_table(out)
    assert t[("4A4", "2b")]["cgst"] == "620.00"
    assert t[("4B2", "2b")]["cgst"] == "360.00"           # nothing reversed for books not given
    assert all(v == "0.00" for (row, source), line in t.items() if source == "books"
               for v in line.values())
    assert done.stderr == ""                              # no books: no advisory check to make


def test_unusable_input_names_file_line_and_field(tmp_path):
    payload = json.loads(V4.read_text())
    payload["data"]["docdata"]["cdnr"][0]["nt"][0]["typ"] = "X"
    bad = tmp_path / "bad2b.json"
    bad.write_text(json.dumps(payload))
    out = tmp_path / "out.csv"
    done = itc_summary_command("--gstr2b", str(bad), "--out", str(out))
    assert done.returncode == 2 and not out.exists()
    assert str(bad) in done.stderr and "record 1" in done.stderr and "'typ'" in done.stderr
    books = tmp_path / "books.csv"
    text = BOOKS.read_text().replace("Blocked u/s 17(5)", "because we said so")
    books.write_text(text)
    done = itc_summary_command("--gstr2b", str(V4), "--purchase", str(books), "--out", str(out))
    assert done.returncode == 2
    assert "books.csv" in done.stderr and "line 3 of the file" in done.stderr
    assert "itc_ineligible_reason" in done.stderr and "because we said so" in done.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": {"docdata": ')
    done = itc_summary_command("--gstr2b", str(broken), "--out", str(out))
    assert done.returncode == 2 and "line 1" in done.stderr and "not JSON" in done.stderr


# ---------------------------------------------------------------- reading every section


def test_every_section_is_read_and_an_unknown_one_is_named():
    payload = json.loads(V4.read_text())
    head, docs = read_2b_frame(payload)
    assert head["unread"] == []
    sections = set(docs["section"].to_list())
    assert {"b2b", "cdnr", "isd", "isda", "impg", "itcrev_b2b"} <= sections
    isd = {r["doc_no"]: r for r in docs.filter(docs["section"].str.starts_with("isd"))
           .iter_rows(named=True)}
    assert isd["ISD/C05"]["doc_type"] == "ISDC" and isd["ISD/101"]["doc_type"] == "ISD"
    assert isd["ISD/102"]["itcavl"] == "N" and isd["ISD/090"]["orig_doc_no"] == "ISD/090"
    si = docs.filter(docs["doc_no"] == "SI/2025-26/0101").row(0, named=True)
    assert si["cgst"] == 90000 and si["txval"] == 1000000     # summed over its items
    payload["data"]["docdata"]["newsection"] = [{"ctin": "X", "inv": [{"inum": "1"}]}]
    head, _ = flatten_2b(payload)
    assert head["unread"] == ["docdata newsection"]


def test_isd_credit_notes_ineligible_isd_and_temporary_itc_are_shown_apart():
    summary = table4(str(V4), str(BOOKS))
    cells = summary.figures
    behind = documents_behind(summary.entries, "4A4", "cgst", "2b")
    assert dict(zip(behind["doc_no"], behind["amount"])) == \
        {"ISD/101": 50000, "ISD/C05": -13000, "ISD/090": 25000}
    assert figure(cells, "isd_ineligible", "cgst", "2b") == 25000
    assert documents_behind(summary.entries, "isd_ineligible", "cgst", "2b")["doc_no"] \
        .to_list() == ["ISD/102"]
    assert documents_behind(summary.entries, "temporary", "igst", "2b")["doc_no"].to_list() \
        == ["KA-7781"]
    # the 2B's own summary states the same rows as its documents
    assert portal_differences(cells).is_empty()
    assert figure(cells, "4A4", "cgst", "portal") == 62000
    assert figure(cells, "4B2", "cgst", "portal") == 36000


# ---------------------------------------------------------------- the books


def test_books_column_and_import_of_services_are_read_and_stored(store):
    found = read_purchase_documents(str(BOOKS))
    assert found.ok, found.messages()
    reasons = dict(zip(found.docs["doc_no"], found.docs["itc_ineligible_reason"]))
    assert reasons["SI/2025-26/0102"] == "17(5)" and reasons["SI/2025-26/0101"] is None
    assert "IMPSVC-1" in reasons                         # URP supplier, reverse charge: kept
    assert import_purchase_file(BOOKS, actor="test").ok
    assert rows("SELECT doc_no, itc_ineligible_reason FROM current_purchase_docs WHERE "
                "itc_ineligible_reason IS NOT NULL") == [("SI/2025-26/0102", "17(5)")]


@pytest.mark.parametrize(("written", "read"), [
    ("17(5)", "17(5)"), ("Blocked u/s 17(5)", "17(5)"), ("rule 42", "rule 42"),
    ("Rule 43 reversal", "rule 43"), ("R.38", "rule 38"), ("", None)])
def test_ineligible_reason_in_words(tmp_path, written, read):
    text = BOOKS.read_text().replace("Blocked u/s 17(5)", written)
    path = tmp_path / "books.csv"
    path.write_text(text)
    found = read_purchase_documents(str(path))
    assert found.ok
    assert dict(zip(found.docs["doc_no"], found.docs["itc_ineligible_reason"])) \
        ["SI/2025-26/0102"] == read


# ---------------------------------------------------------------- 4(D)(1) and the checks


def test_reclaimed_from_an_earlier_2b_and_the_advisory_checks(store):
    """GJ/570 was in the September 2B while the books did not have it (reversed there in
    4(B)(2)); the books book it in October, when no October 2B document pairs it: 4(D)(1)."""
    september = {"data": {"gstin": COMPANY, "rtnprd": "092025", "docdata": {"b2b": [
        {"ctin": "24AAHFG1357P1Z4", "trdnm": "Gujarat Agro Inputs", "inv": [
            {"inum": "GJ/570", "dt": "28-09-2025", "val": 11800, "pos": "27", "rev": "N",
             "typ": "R", "itcavl": "Y", "txval": 10000, "igst": 1800, "cgst": 0, "sgst": 0,
             "cess": 0}]}]}}}
    store_2b(COMPANY, "092025", *flatten_2b(september))
    store_2b(COMPANY, PERIOD, *flatten_2b(json.loads(V4.read_text())))
    books = BOOKS.read_text() + ("27AAACW1234K1ZD,24AAHFG1357P1Z4,Gujarat Agro Inputs,INV,"
                                 "GJ/570,2025-10-02,27,N,10000,1800.0,0,0,0,11800.0,\n")
    path = store.replace("ims.duckdb", "books.csv")
    with open(path, "w") as fh:
        fh.write(books)
    assert import_purchase_file(path, actor="test").ok
    summary = itc_summary(COMPANY, PERIOD)
    assert figure(summary.figures, "4D1", "igst", "books") == 180000
    assert documents_behind(summary.entries, "4D1", "igst", "books")["doc_no"].to_list() == \
        ["GJ/570"]
    assert any("4(D)(1) claims ₹1,800.00 as reclaimed" in s and "not known here" in s
               for s in summary.checks)
    # a known ledger balance below 4(D)(1) + 4(B)(2): refused at filing, said in words
    said = advisory_checks(summary.figures, reclaim_balance={h: 0 for h in HEADS})
    assert any(s.startswith("IGST: 4(D)(1) ₹1,800.00 is more than") for s in said)
    assert not advisory_checks(summary.figures, reclaim_balance={"igst": 180000, "cgst": 0,
                                                                 "sgst": 0, "cess": 0})


def test_reverse_charge_itc_above_the_tax_paid_is_warned(tmp_path):
    books = tmp_path / "books.csv"
    books.write_text("\n".join(line for line in BOOKS.read_text().splitlines()
                               if ",RC-1," not in line) + "\n")
    summary = table4(str(V4), str(books))
    assert any(s.startswith("CGST: reverse-charge ITC ₹400.00") and "-₹100.00" in s
               for s in summary.checks), summary.checks


# ---------------------------------------------------------------- page, Excel, file agree


@pytest.mark.parametrize(("gstr2b", "books"), [
    (V4, BOOKS), (SAMPLES / "gstr2b_sample.json", SAMPLES / "purchase_register_sample.csv")],
    ids=["v4-sample", "first-sample"])
def test_page_and_excel_agree_with_the_file_command(store, tmp_path, gstr2b, books):
    head, docs = flatten_2b(json.loads(gstr2b.read_text()))
    store_2b(COMPANY, PERIOD, head, docs)
    assert import_purchase_file(books, actor="test").ok
    out = tmp_path / "table4.csv"
    done = itc_summary_command("--gstr2b", str(gstr2b), "--purchase", str(books), "--out",
                               str(out))
    assert done.returncode == 0, done.stderr
    from_file = read_table(out)
    summary = itc_summary(COMPANY, PERIOD)
    assert {(r["row"], r["source"]): {h: f"{r[h] / 100:.2f}" for h in HEADS}
            for r in file_lines(summary.figures)} == from_file
    book = openpyxl.load_workbook(io.BytesIO(itc_workbook(summary)), read_only=True)
    sheet = list(book["Table 4"].iter_rows(values_only=True))
    table = {line[0]: dict(zip(sheet[0], line)) for line in sheet[1:]}
    for (row, source), amounts in from_file.items():
        for h in HEADS:
            column = f"{HEAD_WORDS[h]}: {'GSTR-2B' if source == '2b' else 'Books'}"
            assert table[ROWS[row]][column] == pytest.approx(float(amounts[h])), (row, h)
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=90)
    at.run()
    at.switch_page("pages/itc_summary.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # every tax head in one table (issue 24, item 7): a line per Table 4 row and figure
    shown = {(r["Table 4 row"], r["Figure"]): r
             for r in at.dataframe(key="itc_table4").value.to_dict("records")}
    for head_words, h in (("CGST", "cgst"), ("IGST", "igst"), ("SGST", "sgst"), ("Cess", "cess")):
        for row in FILE_ROWS:
            for source, column in (("2b", "GSTR-2B"), ("books", "Books")):
                value = float(shown[(ROWS[row], column)][head_words].replace(",", ""))
                assert value == pytest.approx(float(from_file[(row, source)][h])), \
                    (head_words, row, source)
    assert not at.warning or all("Before filing" in w.value or "sections" in w.value
                                 for w in at.warning)


def test_old_sample_still_adds_up(store):
    """The first sample (no ISD, no amendments) keeps its own summary's figures."""
    head, docs = flatten_2b(json.loads((SAMPLES / "gstr2b_sample.json").read_text()))
    store_2b(COMPANY, PERIOD, head, docs)
    summary = itc_summary(COMPANY, PERIOD)
    assert portal_differences(summary.figures).is_empty()


def test_credit_notes_declared_otherwise_are_named(store):
    """A credit note accepted in IMS with the ITC-reduction answer N (nothing claimed, so
    nothing to reduce) while the 2B nets its full tax in 4(A)(5): the page names it."""
    store_2b(COMPANY, PERIOD, *flatten_2b(json.loads(V4.read_text())))
    with connect() as con, transaction(con):
        con.execute(
            "INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, doc_no_key, fy, "
            "rtnprd, portal_action, itc_red_req, first_seen, last_seen) VALUES (?, 'b2bcn', "
            "'27AABCS5678L1ZQ', 'CRN', 'CN/25-26/007', 'CN/25-26/007', '2025-26', '102025', "
            "'A', 'N', now(), now())", [COMPANY])
    said = [s for s in itc_summary(COMPANY, PERIOD).checks if s.startswith("Credit notes")]
    assert said and "CN/25-26/007 (no ITC to reduce)" in said[0]
