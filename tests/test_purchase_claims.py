"""The optional ITC-claimed columns of the purchase register: read in the `standard` and
`tally` templates and in user mappings, validated, summed per document, stored."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from core.purchase import import_purchase_file, read_purchase_documents, save_template
from core.store.database import connect
from tests.fixtures import COMPANY, HEADER, SAHYADRI, line, write_csv

TODAY = dt.date(2025, 11, 1)
CLAIM_HEADER = HEADER + ",itc_claimed,itc_claimed_igst,itc_claimed_cgst,itc_claimed_sgst,itc_claimed_cess"


def claim_line(claimed: str = "", c_igst: str = "", c_cgst: str = "", c_sgst: str = "",
               c_cess: str = "", **kw) -> str:
    """A standard line (fixtures.line) with the five claim cells after it."""
    return ",".join([line(**kw), claimed, c_igst, c_cgst, c_sgst, c_cess])


def read(path, **kw):
    return read_purchase_documents(path, today=TODAY, **kw)


def claims(v) -> dict:
    return {r["doc_no"]: (r["itc_claimed"], r["itc_claimed_igst"], r["itc_claimed_cgst"],
                          r["itc_claimed_sgst"], r["itc_claimed_cess"])
            for r in v.docs.iter_rows(named=True)}


def test_claims_are_summed_per_document(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [
        claim_line(doc_no="A-1"),                                      # nothing said
        claim_line("N", doc_no="B-1"),                                 # not claimed
        claim_line("no", doc_no="C-1"), claim_line("Y", doc_no="C-1"),  # one line of two claimed
        claim_line("N", doc_no="D-1"), claim_line("n", doc_no="D-1"),   # every line N
        claim_line("", "", "40", "40.50", doc_no="E-1"),               # partly claimed
        claim_line("", "", "40", "", doc_no="F-1", txval="-1000", cgst="-90", sgst="-90",
                   doc_type="CRN"),                                    # a credit note, negative
    ], header=CLAIM_HEADER)
    v = read(path)
    assert v.ok, v.messages()
    assert claims(v) == {
        "A-1": ("Y", None, None, None, None),
        "B-1": ("N", 0, 0, 0, 0),
        "C-1": ("Y", 0, 9000, 9000, 0),
        "D-1": ("N", 0, 0, 0, 0),
        "E-1": ("Y", None, 4000, 4050, None),
        "F-1": ("Y", None, 4000, None, None)}


def test_without_the_columns_nothing_is_said(tmp_path):
    v = read(write_csv(tmp_path, "pr.csv", [line()]))
    assert v.ok and claims(v) == {"INV-1": (None, None, None, None, None)}


def test_blank_claim_columns_on_every_line_say_claimed_in_full(tmp_path):
    """The columns there but blank (a register's usual case): Y, no amount, no reason, as the
    lines summed would say; one cell filled anywhere and the lines are summed."""
    lines = [claim_line(doc_no="A-1"), claim_line(" ", doc_no="A-1"),
             claim_line("", " ", doc_no="B-1", doc_type="CRN")]
    v = read(write_csv(tmp_path, "pr.csv", lines, header=CLAIM_HEADER))
    assert v.ok, v.messages()
    assert claims(v) == {"A-1": ("Y", None, None, None, None),
                         "B-1": ("Y", None, None, None, None)}
    assert v.docs.select("itc_claimed", "itc_claimed_igst", "itc_ineligible_reason").schema == {
        "itc_claimed": pl.Utf8, "itc_claimed_igst": pl.Int64, "itc_ineligible_reason": pl.Utf8}
    summed = read(write_csv(tmp_path, "pr2.csv", [*lines, claim_line("N", doc_no="C-1")],
                            header=CLAIM_HEADER))
    assert claims(summed) == {**claims(v), "C-1": ("N", 0, 0, 0, 0)}


def test_bad_claims_name_file_line_and_field(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [
        claim_line("maybe", doc_no="A-1"),
        claim_line("", "", "95", "", doc_no="B-1"),                   # above the line's CGST 90
        claim_line("", "5", "", "", doc_no="C-1"),                    # IGST claimed, none charged
        claim_line("", "", "abc", "", doc_no="D-1"),
        claim_line("Y", "", "90", "90", doc_no="E-1")], header=CLAIM_HEADER)
    v = read(path)
    assert v.problems.select("line", "field", "message", "severity").rows() == [
        (1, "itc_claimed", "ITC claimed 'maybe' is not Y or N (blank means Y)", "error"),
        (2, "itc_claimed_cgst", "ITC claimed CGST 95.00 is more than the line's CGST 90.00",
         "error"),
        (3, "itc_claimed_igst", "ITC claimed IGST 5.00 is more than the line's IGST 0.00",
         "error"),
        (4, "itc_claimed_cgst", "'abc' is not a number", "error")]
    assert v.messages()[1].startswith("pr.csv, line 3 of the file, field itc_claimed_cgst: error:")
    assert v.docs["doc_no"].to_list() == ["E-1"]


def test_claims_are_stored_on_the_documents(store, tmp_path):
    path = write_csv(tmp_path, "pr.csv", [claim_line("N", doc_no="B-1"),
                                          claim_line("", "", "40.25", "40.25", doc_no="E-1"),
                                          line(doc_no="Z-1") + ",,,,,"], header=CLAIM_HEADER)
    result = import_purchase_file(path, today=TODAY)
    assert result.ok, result.summary()
    with connect() as con:
        rows = con.execute("SELECT doc_no, itc_claimed, itc_claimed_igst, itc_claimed_cgst, "
                           "itc_claimed_sgst, itc_claimed_cess FROM current_purchase_docs "
                           "ORDER BY line_no").fetchall()
    zero = Decimal("0.00")
    assert rows == [("B-1", "N", zero, zero, zero, zero),
                    ("E-1", "Y", None, Decimal("40.25"), Decimal("40.25"), None),
                    ("Z-1", "Y", None, None, None, None)]


TALLY_HEADER = ("Date,Particulars,Party GSTIN/UIN,Voucher Type,Supplier Invoice No.,"
                "Taxable Amount,Integrated Tax Amount,Central Tax Amount,State Tax Amount,"
                "Cess Amount,Gross Total,ITC Claimed,ITC Claimed Central Tax,"
                "ITC Claimed State Tax")


def test_tally_template_reads_the_claims(tmp_path):
    path = write_csv(tmp_path, "tally.csv", [
        f"03-Oct-25,Sahyadri Steel,{SAHYADRI},Debit Note,CN-7,-2000,0,-180,-180,0,-2360,Y,90,90",
        f"04-Oct-25,Sahyadri Steel,{SAHYADRI},Purchase,SI-8,1000,0,90,90,0,1180,No,,"],
        header=TALLY_HEADER)
    v = read(path, template="tally", company_gstin=COMPANY)
    assert v.ok, v.messages()
    assert claims(v) == {"CN-7": ("Y", None, 9000, 9000, None), "SI-8": ("N", 0, 0, 0, 0)}


def test_user_mapping_may_map_the_claims(store, tmp_path):
    mapping = {f: f for f in ("company_gstin", "supplier_gstin", "doc_type", "doc_no",
                              "doc_date", "taxable_value", "igst", "cgst", "sgst")}
    save_template("erp", {**mapping, "itc_claimed": "Claimed?", "itc_claimed_igst": "ITC IGST"})
    header = ("company_gstin,supplier_gstin,doc_type,doc_no,doc_date,taxable_value,igst,cgst,"
              "sgst,Claimed?,ITC IGST")
    path = write_csv(tmp_path, "erp.csv", [
        f"{COMPANY},29AAFCK4321M1ZA,INV,K-1,2025-10-03,1000,180,0,0,Y,100",
        f"{COMPANY},29AAFCK4321M1ZA,INV,K-2,2025-10-03,1000,180,0,0,N,"], header=header)
    v = read(path, template="erp")
    assert v.ok, v.messages()
    assert claims(v) == {"K-1": ("Y", 10000, None, None, None), "K-2": ("N", 0, 0, 0, 0)}
    assert v.docs.schema["itc_claimed_igst"] == pl.Int64
