"""`python -m core.reco` on the sample files, run as a user would (a real subprocess)."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.reco.recommend import itc_reduction_applies
from tests.fixtures import ROOT, SAMPLE_EXPECTED, SAMPLES

CONTRACT = ["match_status", "recommended_action", "reasons", "company_gstin", "supplier_gstin", "doc_type", "portal_doc_no", "portal_doc_date", "pr_doc_no", "pr_doc_date", "pr_line", "portal_txval", "pr_txval", "portal_tax", "pr_tax", "diff_txval", "diff_tax"]
PR = str(SAMPLES / "purchase_register_sample.csv")
IMS = str(SAMPLES / "ims_getinv_sample.json")


def reco(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.reco", *args], cwd=ROOT,
                          check=False, capture_output=True, text=True, timeout=120)


def read_out(path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_sample_files_give_the_readme_table(tmp_path):
    out = tmp_path / "out.csv"
    done = reco("--purchase", PR, "--portal", IMS, "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = read_out(out)
    assert list(rows[0])[:len(CONTRACT)] == CONTRACT
    got = [(r["portal_doc_no"] or None, r["pr_doc_no"] or None, r["match_status"], r["reasons"],
            r["recommended_action"] or None) for r in rows]
    assert got == SAMPLE_EXPECTED
    by_no = {r["portal_doc_no"] or r["pr_doc_no"]: r for r in rows}
    r103 = by_no["SI/2025-26/0103"]
    assert (r103["portal_txval"], r103["pr_txval"], r103["diff_txval"]) == ("12000.50", "12000.00", "0.50")
    assert by_no["KA-7781"]["diff_tax"] == "900.00" and by_no["KA-7781"]["pr_line"] == "4"
    assert by_no["RP-88"]["pr_line"] == "8" and by_no["RP-88"]["company_gstin"] == "27AAACW1234K1ZD"
    assert by_no["CN/25-26/007"]["itc_red_req"] == "Y"


def test_strict_policy_and_tolerance_options(tmp_path):
    out = tmp_path / "out.csv"
    done = reco("--purchase", PR, "--portal", IMS, "--out", str(out), "--policy", "strict",
                "--tolerance", "0.10", "--date-window", "0")
    assert done.returncode == 0, done.stderr
    by_no = {r["portal_doc_no"] or r["pr_doc_no"]: r for r in read_out(out)}
    assert by_no["KA-7781"]["recommended_action"] == "R"
    assert by_no["SI/2025-26/0103"]["match_status"] == "mismatch"   # Rs 0.50 > Rs 0.10
    assert by_no["KA-7795"]["match_status"] == "probable"           # same day, window 0


def test_gstr2a_file_is_recognised(tmp_path):
    out = tmp_path / "out.csv"
    done = reco("--purchase", PR, "--portal", str(SAMPLES / "gstr2a_b2b_sample.json"),
                "--out", str(out))
    assert done.returncode == 0, done.stderr
    statuses = {r["portal_doc_no"]: r["match_status"] for r in read_out(out) if r["portal_doc_no"]}
    assert statuses == {"SI/2025-26/0101": "exact", "si-102": "partial",
                        "SI/2025-26/0103": "exact", "KA-7781": "mismatch", "GJ/555": "missing_in_pr"}


def test_formula_like_numbers_are_written_safely(tmp_path):
    pr = tmp_path / "pr.csv"
    text = (SAMPLES / "purchase_register_sample.csv").read_text()
    pr.write_text(text.replace("RP-88", "=1+2"))
    out = tmp_path / "out.csv"
    assert reco("--purchase", str(pr), "--portal", IMS, "--out", str(out)).returncode == 0
    rows = read_out(out)
    assert any(r["pr_doc_no"] == "'=1+2" for r in rows)
    assert all(not r["diff_txval"].startswith("'") for r in rows)


@pytest.mark.parametrize("case, needle", [
    ("bad_date", "line 3 of the file, field doc_date"),
    ("bad_json", "line 3, column 1"),
    ("bad_record", "b2b record 4: field 'idt'"),
    ("bad_gstin", "--gstin"),
    ("no_file", "no such file"),
])
def test_unusable_input_exits_2_naming_the_place(tmp_path, case, needle):
    pr, portal, extra = PR, IMS, []
    if case == "bad_date":
        pr = tmp_path / "pr.csv"
        pr.write_text((SAMPLES / "purchase_register_sample.csv").read_text()
                      .replace("2025-10-05", "2025-13-45"))
    elif case == "bad_json":
        portal = tmp_path / "p.json"
        portal.write_text('{"b2b": [\n {"stin": 5,\n')
    elif case == "bad_record":
        data = json.loads((SAMPLES / "ims_getinv_sample.json").read_text())
        data["b2b"][3]["idt"] = "31-02-2025"
        portal = tmp_path / "p.json"
        portal.write_text(json.dumps(data))
    elif case == "bad_gstin":
        extra = ["--gstin", "27AAPFU0939F1ZO"]
    else:
        pr = tmp_path / "missing.csv"
    out = tmp_path / "out.csv"
    done = reco("--purchase", str(pr), "--portal", str(portal), "--out", str(out), *extra)
    assert done.returncode == 2
    assert needle in done.stderr
    assert not out.exists()


# ---------------------------------------------------------------- the ITC-reduction answer (2026-12)

DECLARATION = ["itc_red_req", "decl_igst", "decl_cgst", "decl_sgst", "decl_cess", "supplier_remark"]


def test_sample_output_carries_the_declaration_columns(tmp_path):
    out = tmp_path / "out.csv"
    assert reco("--purchase", PR, "--portal", IMS, "--out", str(out)).returncode == 0
    rows = read_out(out)
    assert list(rows[0])[len(CONTRACT):len(CONTRACT) + len(DECLARATION)] == DECLARATION
    by_no = {r["portal_doc_no"] or r["pr_doc_no"]: r for r in rows}
    assert [by_no["CN/25-26/007"][c] for c in DECLARATION] == ["Y", "", "", "", "", ""]
    assert all(by_no[n]["itc_red_req"] == "" for n in by_no if n != "CN/25-26/007")


@pytest.mark.parametrize("claims, want", [
    ("N,,,,", ["N", "", "", "", "", "ITC not claimed on this credit note"]),
    (",,-90.00,-90.00,", ["Y", "0.00", "90.00", "90.00", "0.00",
                          "ITC claimed: CGST 90.00, SGST 90.00"]),
    (",,-180,-150,", ["Y", "0.00", "150.00", "150.00", "0.00",
                      "ITC claimed: CGST 150.00, SGST 150.00"]),
    (",,,,", ["Y", "", "", "", "", ""]),
])
def test_claimed_columns_give_the_proposed_answer(tmp_path, claims, want):
    lines = (SAMPLES / "purchase_register_sample.csv").read_text().splitlines()
    header = lines[0] + ",itc_claimed,itc_claimed_igst,itc_claimed_cgst,itc_claimed_sgst,itc_claimed_cess"
    body = [ln + ("," + claims if ",CN/25-26/007," in ln else ",,,,,") for ln in lines[1:]]
    pr = tmp_path / "pr.csv"
    pr.write_text("\n".join([header, *body]) + "\n")
    out = tmp_path / "out.csv"
    done = reco("--purchase", str(pr), "--portal", IMS, "--out", str(out))
    assert done.returncode == 0, done.stderr
    by_no = {r["portal_doc_no"] or r["pr_doc_no"]: r for r in read_out(out)}
    assert [by_no["CN/25-26/007"][c] for c in DECLARATION] == want


def test_flags_in_the_portal_file_decide_and_remarks_blocked_drop_the_remark(tmp_path):
    data = json.loads(Path(IMS).read_text())
    data["b2bcn"][0].update(isItcRedReqBlocked="N", isRemarksBlocked="Y")
    data["b2b"][0].update(isItcRedReqBlocked="N")      # e.g. a downward amendment's flag
    portal = tmp_path / "p.json"
    portal.write_text(json.dumps(data))
    pr = tmp_path / "pr.csv"
    lines = (SAMPLES / "purchase_register_sample.csv").read_text().splitlines()
    pr.write_text("\n".join([lines[0] + ",itc_claimed"]
                            + [ln + (",N" if ",CN/25-26/007," in ln else ",") for ln in lines[1:]]))
    out = tmp_path / "out.csv"
    assert reco("--purchase", str(pr), "--portal", str(portal), "--out", str(out)).returncode == 0
    by_no = {r["portal_doc_no"] or r["pr_doc_no"]: r for r in read_out(out)}
    assert [by_no["CN/25-26/007"][c] for c in DECLARATION] == ["N", "", "", "", "", ""]
    assert by_no["SI/2025-26/0101"]["itc_red_req"] == "Y"
    data["b2bcn"][0].update(isItcRedReqBlocked="Y")
    portal.write_text(json.dumps(data))
    assert reco("--purchase", str(pr), "--portal", str(portal), "--out", str(out)).returncode == 0
    by_no = {r["portal_doc_no"] or r["pr_doc_no"]: r for r in read_out(out)}
    assert by_no["CN/25-26/007"]["itc_red_req"] == ""


def test_generated_data_with_the_flags(tmp_path):
    gen = subprocess.run([sys.executable, "-m", "sandbox", "generate", "--out", str(tmp_path),
                          "--records", "1500", "--seed", "11"], cwd=ROOT, check=False,
                         capture_output=True, text=True, timeout=300)
    assert gen.returncode == 0, gen.stderr
    ims = json.loads((tmp_path / "ims.json").read_text())
    assert {"impg", "impga", "impgsez", "impgseza"} <= set(ims)
    out = tmp_path / "out.csv"
    for policy in ("balanced", "strict"):
        done = reco("--purchase", str(tmp_path / "purchase_register.csv"),
                    "--portal", str(tmp_path / "ims.json"), "--out", str(out), "--policy", policy)
        assert done.returncode == 0, done.stderr
        rows = [r for r in read_out(out) if r["portal_id"]]
        tokens = {t for r in rows for t in r["reasons"].split(";")}
        assert {"NOT_FILED", "PENDING_BLOCKED"} <= tokens
        for r in rows:
            assert not (r["doc_type"] == "CRN" and r["recommended_action"] == "R"
                        and r["match_status"] != "duplicate"), r
            assert not (r["doc_type"] == "BOE" and r["recommended_action"] == "R"), r
            applies = itc_reduction_applies(r["section"], r["rtnprd"], r["is_itc_red_req_blocked"])
            assert (r["itc_red_req"] != "") == (applies and r["recommended_action"] == "A"), r
            if r["decl_cgst"]:
                assert r["decl_cgst"] == r["decl_sgst"] and r["itc_red_req"] == "Y"
            if r["itc_red_req"] == "N" or r["decl_igst"]:
                assert (r["supplier_remark"] != "") == (r["is_remarks_blocked"] != "Y"), r
        boe = [r for r in rows if r["doc_type"] == "BOE" and r["pr_doc_no"]]
        assert boe and all(r["supplier_gstin"] == r["pr_supplier_gstin"] for r in boe)
        answers = {r["itc_red_req"] for r in rows}
        assert {"Y", "N"} <= answers
