"""`python -m sandbox generate`: deterministic files, valid GSTINs, consistent tax heads, and
a ground truth that says truthfully what noise each books line got."""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from core.gstin import is_valid_gstin
from sandbox.books import HEADER, norm_no
from sandbox.generate import generate_files
from tests.fixtures import ROOT

FILES = ("ims.json", "gstr2a.json", "purchase_register.csv", "ground_truth.csv")
AMOUNTS = ("taxable_value", "igst", "cgst", "sgst", "cess")
PORTAL = {"taxable_value": "txval", "igst": "iamt", "cgst": "camt", "sgst": "samt", "cess": "cess"}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    generate_files(out, records=2000, seed=3)
    return out


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def portal_index(ims: dict) -> dict:
    out = {}
    for key, records in ims.items():
        if isinstance(records, list):
            for r in records:
                no = r.get("inum") or r.get("nt_num") or r.get("boenum")
                out[(key, r.get("stin") or r.get("portcode", ""), no, r["rtnprd"])] = r
    return out


def levenshtein1(a: str, b: str) -> bool:
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = sorted((a, b), key=len)
    return len(long_) - len(short) == 1 and any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def test_same_seed_same_bytes_other_seed_other_data(tmp_path, files):
    cli = subprocess.run([sys.executable, "-m", "sandbox", "generate", "--out", str(tmp_path / "a"),
                          "--records", "2000", "--seed", "3"], cwd=ROOT, check=False, capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (files / name).read_bytes(), name
    generate_files(tmp_path / "b", records=2000, seed=4)
    assert (tmp_path / "b" / "ims.json").read_bytes() != (files / "ims.json").read_bytes()


def test_files_have_the_contract_shapes_and_valid_gstins(files):
    ims = json.loads((files / "ims.json").read_text())
    assert ims["gstin"] == "27AAACW1234K1ZD"
    assert {"b2b", "b2ba", "b2bcn", "b2bcna", "b2bdn", "b2bdna", "ecom", "ecoma", "impg"} <= set(ims)
    assert sum(len(v) for v in ims.values() if isinstance(v, list)) == 2000
    two_a = json.loads((files / "gstr2a.json").read_text())
    assert set(two_a) == {"gstin", "b2b", "b2ba", "cdn", "cdna"}
    assert all(is_valid_gstin(g["ctin"]) for k in ("b2b", "b2ba", "cdn", "cdna") for g in two_a[k])
    with open(files / "purchase_register.csv", encoding="utf-8") as f:
        assert f.readline().rstrip("\n") == HEADER
    for i, row in enumerate(read_csv(files / "purchase_register.csv"), start=1):
        port = row["doc_type"] == "BOE" and re.fullmatch(r"IN[A-Z0-9]{4}", row["supplier_gstin"])
        assert port or is_valid_gstin(row["supplier_gstin"]), i
        assert row["company_gstin"] == "27AAACW1234K1ZD", i
        assert row["doc_type"] in ("INV", "CRN", "DBN", "BOE") and row["reverse_charge"] in ("Y", "N")
        assert row["place_of_supply"][:2] == "27" and len(row["doc_no"]) <= 16
        total = sum(Decimal(row[a]) for a in AMOUNTS)
        assert total == Decimal(row["doc_value"]), i


def test_tax_heads_follow_place_of_supply(files):
    ims = json.loads((files / "ims.json").read_text())
    for key, records in ims.items():
        for r in records if key not in ("gstin", "impg", "impga", "impgsez", "impgseza") else ():
            inter = r["stin"][:2] != r["pos"] or r.get("inv_typ") in ("SEWP", "SEWOP")
            assert (r["camt"] == 0 and r["samt"] == 0) if inter else r["iamt"] == 0, r
            assert r["camt"] == r["samt"]


def test_ground_truth_covers_every_books_line_and_tells_the_truth(files):
    ims = json.loads((files / "ims.json").read_text())
    portal = portal_index(ims)
    books = read_csv(files / "purchase_register.csv")
    truth = read_csv(files / "ground_truth.csv")
    lines = [int(t["pr_line"]) for t in truth if t["pr_line"]]
    assert lines == list(range(1, len(books) + 1))
    kinds = {t["noise_kind"] for t in truth}
    assert kinds >= {"clean", "case", "format", "typo", "rounding", "date", "value", "typo+value",
                     "branch_gstin", "multi_line", "nil_line", "duplicate", "rcm", "books_only",
                     "portal_only", "amended_original", "amended_older", "original_values"}
    documents: dict[tuple, dict] = {}  # books lines of one portal record and noise, summed
    for t in truth:
        if not t["pr_line"] or t["noise_kind"] in ("books_only", "rcm", "multi_line", "nil_line"):
            continue
        ref = (t["portal_section"], t["portal_stin"], t["portal_doc_no"], t["portal_rtnprd"])
        book = books[int(t["pr_line"]) - 1]
        doc = documents.setdefault((ref, t["noise_kind"]), dict(book, **{a: Decimal(0) for a in AMOUNTS}))
        for a in AMOUNTS:
            doc[a] += Decimal(book[a])
    for (ref, kind), book in documents.items():
        check_noise(kind, book, portal[ref], ref)
    assert all(t["recoverable"] == ("N" if t["noise_kind"] in ("typo+value", "portal_only", "books_only",
                                                                "duplicate", "portal_duplicate",
                                                                "amended_older") else "Y")
               for t in truth)


def check_noise(kind: str, book: dict, rec: dict, t: tuple) -> None:
    no = rec.get("inum") or rec.get("nt_num") or rec.get("boenum")
    diff = {a: abs(abs(book[a]) - Decimal(str(rec[PORTAL[a]]))) for a in AMOUNTS}
    if kind in ("clean", "date", "branch_gstin", "rounding", "value", "case", "format", "typo"):
        if kind not in ("case", "format", "typo"):
            assert book["doc_no"] == no, t
        assert (book["supplier_gstin"] == (rec.get("stin") or rec["portcode"])) == (kind != "branch_gstin"), t
    if kind == "clean":
        assert max(diff.values()) == 0, t
    if kind == "original_values":   # an amendment booked at its original's values
        assert book["doc_no"] == no and max(diff.values()) > 0, t
    if kind == "rounding":
        assert 0 < max(diff.values()) < 1, t
    if kind in ("value", "typo+value"):
        assert diff["taxable_value"] > 1, t
    if kind == "case":
        assert book["doc_no"] != no and book["doc_no"].upper() == no.upper()
    if kind == "format":
        assert book["doc_no"].upper() != no.upper() and norm_no(book["doc_no"]) == norm_no(no)
    if kind in ("typo", "typo+value"):
        assert levenshtein1(book["doc_no"].upper(), no.upper()) and len(no) >= 4, t
    if kind == "branch_gstin":
        assert book["supplier_gstin"][2:12] == rec["stin"][2:12] and book["supplier_gstin"][:2] != rec["stin"][:2]
    if kind == "amended_original":
        assert book["doc_no"] == (rec.get("oinum") or rec.get("ont_num") or rec.get("oboenum")) != no, t
        portal_day = rec.get("oidt") or rec.get("ont_dt") or rec.get("oboedt")
        assert book["doc_date"] == f"{portal_day[6:]}-{portal_day[3:5]}-{portal_day[:2]}", t
        return
    portal_day = rec.get("idt") or rec.get("nt_dt") or rec.get("boedt")
    portal_iso = f"{portal_day[6:]}-{portal_day[3:5]}-{portal_day[:2]}"
    assert (book["doc_date"] != portal_iso) == (kind in ("date", "duplicate")), t


def test_multi_line_documents_sum_to_the_portal_amounts(files):
    ims = json.loads((files / "ims.json").read_text())
    portal = portal_index(ims)
    books = read_csv(files / "purchase_register.csv")
    sums: dict[tuple, dict] = {}
    for t in read_csv(files / "ground_truth.csv"):
        if t["noise_kind"] in ("multi_line", "nil_line"):
            ref = (t["portal_section"], t["portal_stin"], t["portal_doc_no"], t["portal_rtnprd"])
            book = books[int(t["pr_line"]) - 1]
            acc = sums.setdefault(ref, {a: Decimal(0) for a in AMOUNTS})
            if t["noise_kind"] == "nil_line":  # a nil-rated line the supplier reports elsewhere
                assert not any(Decimal(book[a]) for a in ("igst", "cgst", "sgst", "cess"))
                continue
            for a in AMOUNTS:
                acc[a] += abs(Decimal(book[a]))
    assert sums
    for ref, acc in sums.items():
        rec = portal[ref]
        for a in AMOUNTS:
            assert acc[a] == Decimal(str(rec[PORTAL[a]])), (ref, a)


def test_credit_notes_are_mostly_negative_in_the_books(files):
    crn = [Decimal(r["taxable_value"]) for r in read_csv(files / "purchase_register.csv") if r["doc_type"] == "CRN"]
    negative = sum(v < 0 for v in crn)
    assert crn and 0.5 < negative / len(crn) < 1


def test_generated_ims_is_what_the_server_serves(tmp_path, sandbox):
    generate_files(tmp_path, records=300, seed=7)
    ims = json.loads((tmp_path / "ims.json").read_text())
    token = requests.post(f"{sandbox.url}/authenticate", json={"username": "demo", "otp": "575757"},
                          timeout=10).json()["data"]["auth_token"]
    served = requests.get(f"{sandbox.url}/taxpayerapi/v1.0/returns/ims", headers={"auth-token": token},
                          params={"action": "GETINV", "gstin": "27AAACW1234K1ZD", "section": "B2B"},
                          timeout=10).json()["data"]["b2b"]
    assert served == ims["b2b"]


def test_bills_of_entry_are_booked_under_their_port_code_or_sez_gstin(files):
    ims = json.loads((files / "ims.json").read_text())
    books = read_csv(files / "purchase_register.csv")
    truth = [t for t in read_csv(files / "ground_truth.csv")
             if t["portal_section"] in ("impg", "impga", "impgsez", "impgseza")]
    assert len(truth) >= sum(len(ims[k]) for k in ("impg", "impga", "impgsez", "impgseza"))
    booked = {t["portal_section"] for t in truth if t["pr_line"]}
    assert booked == {"impg", "impga", "impgsez", "impgseza"}
    for t in truth:
        assert t["portal_stin"], t
        if t["portal_section"] in ("impg", "impga"):
            assert re.fullmatch(r"IN[A-Z0-9]{4}", t["portal_stin"]), t
        else:
            assert is_valid_gstin(t["portal_stin"]), t
        if t["pr_line"]:
            line = books[int(t["pr_line"]) - 1]
            assert line["doc_type"] == "BOE" and line["supplier_gstin"] == t["portal_stin"], t
            assert Decimal(line["cgst"]) == Decimal(line["sgst"]) == 0 and Decimal(line["igst"]) > 0
    assert {t["noise_kind"] for t in truth} >= {"clean", "portal_only"}


def test_some_credit_notes_carry_itc_not_claimed_or_claimed_in_part(files):
    rows = read_csv(files / "purchase_register.csv")
    assert list(rows[0])[-5:] == ["itc_claimed", "itc_claimed_igst", "itc_claimed_cgst", "itc_claimed_sgst",
                                  "itc_claimed_cess"]
    claimed = [r for r in rows if r["itc_claimed"]]
    assert all(r["doc_type"] == "CRN" for r in claimed)
    none = [r for r in claimed if r["itc_claimed"] == "N"]
    part = [r for r in claimed if r["itc_claimed"] == "Y"]
    assert len(none) >= 5 and len(part) >= 5
    assert all(not any(r[f"itc_claimed_{h}"] for h in ("igst", "cgst", "sgst", "cess")) for r in none)
    for r in part:
        assert r["itc_claimed_cgst"] == r["itc_claimed_sgst"]
        for h in ("igst", "cgst", "sgst", "cess"):
            got, tax = Decimal(r[f"itc_claimed_{h}"]), abs(Decimal(r[h]))
            assert 0 <= got <= tax and (got < tax or tax == 0), r
        assert any(Decimal(r[f"itc_claimed_{h}"]) for h in ("igst", "cgst", "sgst", "cess")) or \
            not any(Decimal(r[h]) for h in ("igst", "cgst", "sgst", "cess"))
    unclaimed = [r for r in rows if not r["itc_claimed"]]
    assert all(not any(r[f"itc_claimed_{h}"] for h in ("igst", "cgst", "sgst", "cess")) for r in unclaimed)


def test_generated_records_carry_the_flags(files):
    ims = json.loads((files / "ims.json").read_text())
    for key, records in ims.items():
        for r in records if key != "gstin" else ():
            assert r["isItcRedReqBlocked"] in ("Y", "N") and r["isRemarksBlocked"] in ("Y", "N")
            if r["isItcRedReqBlocked"] == "N":
                assert key in ("b2bcn", "b2bcna", "b2ba", "b2bdna", "ecoma") and r["rtnprd"] in ("102025", "112025")
    assert any(r["isItcRedReqBlocked"] == "N" for r in ims["b2bcn"])


ORIGINAL_OF = {"b2ba": "b2b", "b2bcna": "b2bcn", "b2bdna": "b2bdn", "ecoma": "ecom", "impga": "impg",
               "impgseza": "impgsez"}


def test_originals_are_served_beside_their_amendments(files):
    """Same number and new number, upward and downward, for invoices, credit and debit notes and
    bills of entry; each original filed, of a period no later than its amendment's, flagged by its
    own section, and without a books line of its own (ground truth amended_older)."""
    ims = json.loads((files / "ims.json").read_text())
    truth = read_csv(files / "ground_truth.csv")
    older = {(t["portal_section"], t["portal_stin"], t["portal_doc_no"], t["portal_rtnprd"])
             for t in truth if t["noise_kind"] == "amended_older"}
    assert all(not t["pr_line"] for t in truth if t["noise_kind"] == "amended_older")
    seen = {}
    for amd, base in ORIGINAL_OF.items():
        no_f, ono_f = {"b2ba": ("inum", "oinum"), "ecoma": ("inum", "oinum"),
                       "impga": ("boenum", "oboenum"), "impgseza": ("boenum", "oboenum")}.get(
            amd, ("nt_num", "ont_num"))
        who = "portcode" if amd == "impga" else "stin"
        originals = {(r[who], r[no_f]): r for r in ims[base]}
        for r in ims[amd]:
            o = originals.get((r[who], r[ono_f]))
            if o is None:
                continue
            assert (base, o[who], o[no_f], o["rtnprd"]) in older
            assert o["srcfilstatus"] == "Filed" if "srcfilstatus" in o else True
            assert (int(o["rtnprd"][2:]), int(o["rtnprd"][:2])) <= (int(r["rtnprd"][2:]), int(r["rtnprd"][:2]))
            assert o["isItcRedReqBlocked"] == ("N" if base == "b2bcn" and o["rtnprd"] not in ("082025", "092025")
                                               else "Y"), o
            same = r[no_f] == r[ono_f]
            direction = "down" if r["txval"] < o["txval"] else "up" if r["txval"] > o["txval"] else "same"
            seen.setdefault(amd, set()).update({("same" if same else "new"), direction})
    for amd in ("b2ba", "b2bcna"):
        assert seen[amd] >= {"same", "new", "down", "up"}, (amd, seen.get(amd))
    assert "b2bdna" in seen and "impga" in seen and "impgseza" in seen, seen
    assert any(t["noise_kind"] == "original_values" for t in truth)
