"""Reading and validating purchase registers: layouts, encodings, bad files (no database)."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from core.purchase import FileProblem, read_purchase_documents, suggest_mapping
from core.purchase.templates import TALLY
from tests.fixtures import (
    COMPANY,
    HEADER,
    KAVERI,
    SAHYADRI,
    STANDARD_SAMPLE,
    TALLY_SAMPLE,
    line,
    many_lines,
    write_csv,
)

TODAY = dt.date(2025, 11, 1)


def read(path, **kw):
    return read_purchase_documents(path, today=kw.pop("today", TODAY), **kw)


def problems(v, severity=None):
    rows = v.problems if severity is None else v.problems.filter(pl.col("severity") == severity)
    return rows.select("line", "field", "message").rows()


def test_sample_layouts_give_the_same_documents():
    standard = read(STANDARD_SAMPLE)
    tally = read(TALLY_SAMPLE, template="tally", company_gstin=COMPANY)
    assert standard.ok and tally.ok and standard.problems.height == 0
    assert standard.docs.height == 8
    assert tally.docs.equals(standard.docs)
    crn = standard.docs.filter(pl.col("doc_type") == "CRN").row(0, named=True)
    assert (crn["doc_no"], crn["txval"], crn["cgst"], crn["doc_value"]) == ("CN/25-26/007", 200000, 18000, 236000)
    assert crn["line_no"] == 7 and crn["pos"] == "27" and crn["rcm"] == "N"


def test_lines_of_one_document_are_summed_and_untaxed_lines_left_out(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [
        line(doc_no="A-1", txval="1000", cgst="90", sgst="90"),
        line(doc_no="B-1", txval="500", cgst="0", sgst="0", stin=KAVERI, name="Kaveri"),
        line(doc_no="a-1 ", txval="200", cgst="0", sgst="0"),            # exempt line of A-1
        line(doc_no="A-1", txval="300.505", cgst="27.05", sgst="27.05"),
    ])
    v = read(path)
    assert v.ok, v.messages()
    a = v.docs.filter(pl.col("doc_no_key") == "A-1").row(0, named=True)
    assert (a["txval"], a["cgst"], a["line_no"], a["line_count"], a["no_tax"]) == (130051, 11705, 1, 3, False)
    assert a["doc_value"] == 130051 + 20000 + 2 * 11705          # blank doc_value = lines' txval + tax
    b = v.docs.filter(pl.col("doc_no") == "B-1").row(0, named=True)
    assert b["no_tax"] is True and b["txval"] == 50000


@pytest.mark.parametrize("sep,bom", [(";", False), ("\t", False), (",", True)])
def test_delimiters_and_bom_are_detected(tmp_path, sep, bom):
    text = "\n".join([HEADER.replace(",", sep), line(sep=sep), line(doc_no="INV-2", sep=sep)]) + "\n"
    path = tmp_path / "pr.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    v = read(path)
    assert v.ok and v.docs["doc_no"].to_list() == ["INV-1", "INV-2"]


def test_windows_1252_file_keeps_its_names(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [line(name="Café Süd Traders")], encoding="cp1252")
    v = read(path)
    assert v.ok and v.docs["supplier_name"].to_list() == ["Café Süd Traders"]


def test_bytes_with_a_file_name_read_like_a_path(tmp_path):
    v = read_purchase_documents(STANDARD_SAMPLE.read_bytes(), file_name="upload.csv", today=TODAY)
    assert v.file == "upload.csv" and v.docs.equals(read(STANDARD_SAMPLE).docs)


@pytest.mark.parametrize("content,expected", [
    (b"", "the file is empty"),
    (b"  \n\n", "the file is empty"),
    (b"\xef\xbb\xbf", "the file is empty"),             # nothing but a UTF-8 byte-order mark
    (b"\xef\xbb\xbf \r\n\r\n", "the file is empty"),
    ((HEADER + "\n").encode(), "has a header but no data lines"),
    (b"a|b|c\n1|2|3\n", "It looks separated by '|'"),
])
def test_unusable_files_say_why(tmp_path, content, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(FileProblem, match="bad.csv") as info:
        read(path)
    assert expected in str(info.value)


def test_unknown_columns_name_the_missing_fields(tmp_path):
    path = write_csv(tmp_path, "other.csv", ["1,2,3"], header="Vendor,Amount,Remarks")
    with pytest.raises(FileProblem) as info:
        read(path)
    text = str(info.value)
    assert "other.csv" in text and "supplier_gstin" in text and "doc_no" in text and "Vendor, Amount, Remarks" in text


def test_extra_field_on_a_line_is_reported_with_its_line(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [line(), line(doc_no="INV-2", name="A, B and Co")])
    with pytest.raises(FileProblem) as info:
        read(path)
    assert info.value.line == 3 and "15 fields where the header has 14" in str(info.value)


def test_ragged_line_with_a_lone_carriage_return_names_its_line(tmp_path):
    cr_line = line(doc_no="INV-2", name="A, B and Co").replace("INV-2", "INV\r2")
    path = tmp_path / "pr.csv"
    path.write_bytes(f"{HEADER}\n{line()}\n{line(doc_no='INV-3')}\n{cr_line}\n".encode())
    with pytest.raises(FileProblem, match="pr.csv") as info:
        read(path)
    assert info.value.line == 4 and "15 fields where the header has 14" in str(info.value)


def test_unreadable_csv_record_in_a_ragged_file_names_its_line(tmp_path):
    huge = line(doc_no="INV-2", name="A, B and Co").replace("A, B and Co", "A, " + "B" * 200_000)
    path = tmp_path / "pr.csv"
    path.write_bytes(f"{HEADER}\n{line()}\n{huge}\n".encode())
    with pytest.raises(FileProblem, match="pr.csv") as info:
        read(path)
    assert info.value.line == 3                     # the file's own line: the header is 1


def test_bad_check_character_is_an_error_on_its_line(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [line(), line(doc_no="X-2", stin="27AAPFU0939F1ZO")])
    v = read(path)
    assert not v.ok
    assert problems(v, "error") == [(2, "supplier_gstin", "GSTIN '27AAPFU0939F1ZO' has check character O, expected V")]
    assert v.docs["doc_no"].to_list() == ["INV-1"]
    assert v.problems.row(0, named=True)["row"] == 3 and v.problems.row(0, named=True)["file"] == "pr.csv"


def test_seventeen_character_number_is_a_warning_and_the_document_stays(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [line(doc_no="ABCDEFGHIJ1234567"), line(doc_no="INV 9")])
    v = read(path)
    assert v.ok and v.docs.height == 2
    found = problems(v, "warning")
    assert found[0] == (1, "doc_no", "document number 'ABCDEFGHIJ1234567' has 17 characters; GSTN allows 16")
    assert found[1][:2] == (2, "doc_no") and "characters GSTN does not allow" in found[1][2]


def test_text_in_amount_columns_is_an_error_naming_the_field(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [line(), line(doc_no="INV-2", cgst="nine hundred"), line(doc_no="INV-3", txval="")])
    v = read(path)
    assert problems(v, "error") == [(2, "cgst", "'nine hundred' is not a number"),
                                    (3, "taxable_value", "taxable value is empty")]


def test_indian_digit_grouping_brackets_and_blanks_parse(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [line(txval='"1,00,000.50"', cgst="(90)", sgst="-", cess="")])
    v = read(path)
    d = v.docs.row(0, named=True)
    assert (d["txval"], d["cgst"], d["sgst"], d["cess"]) == (10000050, 9000, 0, 0)


def test_dates_are_parsed_or_reported(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [
        line(doc_no="A", date="03/10/2025"), line(doc_no="B", date="03-10-2025"),
        line(doc_no="C", date="31-02-2025"), line(doc_no="D", date="2025-12-01"), line(doc_no="E", date="2021-01-05")])
    v = read(path)
    assert v.docs["doc_date"].to_list()[:2] == [dt.date(2025, 10, 3)] * 2
    assert problems(v) == [
        (3, "doc_date", "date '31-02-2025' does not exist (no such day in that month)"),
        (4, "doc_date", "date 2025-12-01 is in the future"),
        (5, "doc_date", "date 2021-01-05 is more than 3 years old")]


def test_tax_heads_against_place_of_supply_warn(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [
        line(doc_no="A", igst="180", cgst="0", sgst="0"),                    # intra-state with IGST
        line(doc_no="B", stin=KAVERI, igst="0", cgst="90", sgst="90"),       # inter-state with CGST
        line(doc_no="C", stin=KAVERI, igst="180", cgst="0", sgst="0"),       # fine
        line(doc_no="D", pos="99")])
    v = read(path)
    assert [(line_, field) for line_, field, _ in problems(v)] == [
        (1, "igst"), (2, "cgst"), (4, "place_of_supply")]
    assert not v.ok


def test_unknown_document_type_and_reverse_charge(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [line(doc_type="Credit Note", doc_no="C-1"),
                                          line(doc_type="Bill"), line(doc_no="R-1", rcm="maybe")])
    v = read(path)
    assert v.docs["doc_type"].to_list() == ["CRN"]
    assert [(a, b) for a, b, _ in problems(v, "error")] == [(2, "doc_type"), (3, "reverse_charge")]


def test_company_must_be_a_configured_business(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [line(), line(doc_no="X", company="29AAGCB7383J1Z4")])
    v = read(path, company_gstins=[COMPANY])
    assert problems(v, "error") == [(2, "company_gstin", (f"company GSTIN 29AAGCB7383J1Z4 is not a configured "
                                                         f"business (configured: {COMPANY})"))]
    assert read(path).ok          # company_gstins=None: no such check (file CLI of core.reco)


def test_same_number_twice_in_the_file_is_a_duplicate(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [line(doc_no="SI/1"), line(doc_no="si/1", date="2025-10-09"),
                                          line(doc_no="SI/1", date="2025-04-02"), line(doc_no="SI/1", date="2025-03-31")])
    v = read(path)
    assert v.docs["line_no"].to_list() == [1, 4]          # FY 2025-26 and FY 2024-25
    assert v.duplicates["line_no"].to_list() == [2, 3]
    assert v.duplicates["reason"][0] == "same supplier, type and number in FY 2025-26 as the document at line 2 of the file"


def test_tally_needs_the_company_gstin(tmp_path):
    with pytest.raises(FileProblem, match="--company-gstin"):
        read(TALLY_SAMPLE, template="tally")
    v = read(TALLY_SAMPLE, template="tally", company_gstins=[COMPANY])     # the only business
    assert v.ok and v.docs["rtin"].unique().to_list() == [COMPANY]


def test_title_rows_above_the_header_are_skipped(tmp_path):
    text = "Purchase Register\nOctober 2025\n" + HEADER + "\n" + line() + "\n"
    (tmp_path / "pr.csv").write_text(text)
    v = read(tmp_path / "pr.csv")
    assert v.ok and v.docs["line_no"].to_list() == [1]
    assert v.problems.height == 0


def test_error_on_the_last_line_of_a_long_file(tmp_path):
    rows = many_lines(2000) + [line(doc_no="LAST", date="2025-13-40")]
    v = read(write_csv(tmp_path, "pr.csv", rows))
    assert not v.ok and problems(v, "error")[0][:2] == (2001, "doc_date")
    assert v.docs.height == 2000


def test_suggest_mapping_reads_tally_headers():
    headers = TALLY_SAMPLE.read_text().splitlines()[0].split(",")
    assert suggest_mapping(headers) == {f: h for f, h in TALLY.mapping.items() if h in headers}


def test_header_and_data_with_different_delimiters(tmp_path):
    path = write_csv(tmp_path, "mixed.csv", [line(sep=";"), line(doc_no="INV-2", sep=";")])
    with pytest.raises(FileProblem) as info:
        read(path)
    assert str(info.value) == ("mixed.csv, line 2 of the file: the header is separated by commas but the data lines are not: "
                               "they look separated by semicolon. Use one delimiter throughout.")


def test_a_tally_file_read_as_standard_points_at_the_tally_template():
    with pytest.raises(FileProblem, match=r"It looks like the 'tally' layout: use template 'tally' \(--template tally\)"):
        read(TALLY_SAMPLE)


def boe(doc_no: str, port: str = "", doc_type: str = "BOE", **kw) -> str:
    return line(doc_type=doc_type, stin=port, doc_no=doc_no, name="Customs", igst="180", cgst="0", sgst="0", **kw)


NO_PORT = ("a bill of entry without its port code (e.g. INNSA1) or SEZ unit GSTIN cannot be "
           "matched to the portal's record")


def test_bills_of_entry_take_a_port_code_or_sez_gstin_and_warn_when_blank(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [
        boe("4001234"),                                         # blank supplier GSTIN
        boe("4001235", port="innsa1", doc_type="Bill of Entry"),  # port code, the IMS key
        boe("4001236", port=SAHYADRI, doc_type="bill-of-entry"),  # import from an SEZ unit
        line(doc_no="INV-1")])
    v = read(path)
    assert v.ok and problems(v) == [(1, "supplier_gstin", NO_PORT)]
    assert v.docs.select("stin", "doc_type", "doc_no", "igst").rows() == [
        ("", "BOE", "4001234", 18000), ("INNSA1", "BOE", "4001235", 18000),
        (SAHYADRI, "BOE", "4001236", 18000), (SAHYADRI, "INV", "INV-1", 0)]


def test_bill_of_entry_problems_name_line_and_field(tmp_path):
    path = write_csv(tmp_path, "pr.csv", [
        boe("4001234", port="MUMBAI PORT"),
        line(doc_type="BOE", stin="", doc_no="4001235"),       # CGST + SGST on an import
        line(doc_no="X1", stin=""),                            # an invoice still needs its supplier
        boe("4001236"), boe("4001236", date="2025-10-09")])    # same BOE number twice in one FY
    v = read(path)
    assert problems(v) == [
        (1, "supplier_gstin", ("supplier GSTIN 'MUMBAI PORT' of a bill of entry is neither a port code (e.g. INNSA1), "
                              "a GSTIN nor blank")),
        (2, "cgst", "CGST/SGST on a bill of entry (imports of goods carry IGST)"),
        (2, "supplier_gstin", NO_PORT),
        (3, "supplier_gstin", "GSTIN is empty"),
        (4, "supplier_gstin", NO_PORT), (5, "supplier_gstin", NO_PORT)]
    assert v.docs["doc_no"].to_list() == ["4001235", "4001236"]
    assert v.duplicates["line_no"].to_list() == [5]
    assert "Bill of Entry" in problems(read(write_csv(tmp_path, "t.csv", [line(doc_type="Import")])))[0][2]
