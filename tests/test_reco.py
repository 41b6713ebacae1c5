"""Reconciliation rules (docs/reconciliation.md), on frames built in the tests."""
from __future__ import annotations

import polars as pl
import pytest

from core.reco import OUTPUT_COLUMNS, reconcile
from core.reco.keys import norm_no
from tests.fixtures import (
    S3,
    S3_MH,
    SAMPLE_BOOKS,
    SAMPLE_EXPECTED,
    SAMPLE_PORTAL,
    books_frame,
    books_row,
    portal_frame,
    portal_row,
    reconcile_rows,
    row_of,
)


def test_sample_table_from_the_samples_readme():
    out = reconcile_rows(SAMPLE_PORTAL, SAMPLE_BOOKS)
    got = [(r["portal_doc_no"], r["pr_doc_no"], r["match_status"], r["reasons"],
            r["recommended_action"]) for r in out.iter_rows(named=True)]
    assert got == SAMPLE_EXPECTED
    cn = row_of(out, portal_id=10)
    assert cn["itc_red_req"] == "Y" and cn["decl_igst"] is None
    assert out.columns[:len(OUTPUT_COLUMNS)] == OUTPUT_COLUMNS


@pytest.mark.parametrize("raw, fy, expected", [
    ("INV/2024-25/0045", 2024, "INV45"), ("inv-45", 2024, "INV45"),
    ("BILL-2324-50", 2023, "BILL50"), ("BILL-23-24-50", 2023, "BILL50"),
    ("INV2425001", 2024, "INV2425001"), ("2024/25-INV-7", 2024, "INV7"),
    ("INV-7-2024-2025", 2024, "INV7"), ("INV/24/25/8", 2024, "INV8"),
    ("INV/2023-24/5", 2024, "INV2023245"),  # another year's token stays
    ("A00B007", 2025, "A0B7"),  # a run of zeros keeps one
])
def test_norm_no_examples(raw, fy, expected):
    assert norm_no(raw, fy) == expected


def test_exact_needs_pass_one_and_equal_dates():
    out = reconcile_rows([portal_row(1, "A-1"), portal_row(2, "A-2", "2025-10-10")],
              [books_row(1, "a-1 "), books_row(2, "A-2", "2025-10-12")])
    assert row_of(out, 1)["match_status"] == "exact"
    two = row_of(out, 2)
    assert (two["match_status"], two["reasons"], two["match_pass"]) == ("partial", "DOC_DATE", "key")


def test_pass_two_is_never_exact():
    out = reconcile_rows([portal_row(1, "INV/2025-26/0045")], [books_row(1, "inv-45")])
    r = row_of(out, 1)
    assert (r["match_status"], r["match_pass"], r["reasons"]) == ("partial", "normalised", "DOC_NO")


def test_mismatch_on_pos_and_rcm_where_both_sides_know():
    out = reconcile_rows([portal_row(1, "A-1", pos="29"), portal_row(2, "A-2", rcm="Y"),
               portal_row(3, "A-3", rcm=None)],
              [books_row(1, "A-1"), books_row(2, "A-2", rcm="N"), books_row(3, "A-3", rcm="N")],
              source="gstr2a")
    assert (row_of(out, 1)["match_status"], row_of(out, 1)["reasons"]) == ("mismatch", "POS")
    assert (row_of(out, 2)["match_status"], row_of(out, 2)["reasons"]) == ("mismatch", "RCM")
    assert row_of(out, 3)["match_status"] == "exact"


def test_tolerance_per_field_and_rounding_token():
    p = [portal_row(1, "T-1", txval=1_000_100), portal_row(2, "T-2", txval=1_000_101),
         portal_row(3, "T-3", txval=1_000_001), portal_row(4, "T-4", txval=1_000_002)]
    b = [books_row(i, f"T-{i}", txval=1_000_000, igst=p[i - 1]["igst"]) for i in range(1, 5)]
    out = reconcile_rows(p, b)
    assert (row_of(out, 1)["match_status"], row_of(out, 1)["reasons"]) == ("exact", "ROUNDING")
    assert (row_of(out, 2)["match_status"], row_of(out, 2)["reasons"]) == ("mismatch", "TAXABLE_VALUE")
    assert row_of(out, 3)["reasons"] == ""          # Rs 0.01 is not rounding
    assert row_of(out, 4)["reasons"] == "ROUNDING"
    assert row_of(reconcile_rows(p[1:2], b[1:2], tolerance_paise=200), 2)["match_status"] == "exact"


def test_reasons_in_documented_order_and_differences_portal_minus_books():
    p = [portal_row(1, "R-1", "2025-10-10", pos="29", rcm="N", txval=2_000_000, igst=0,
                    cgst=180_050, sgst=180_000, cess=500)]
    b = [books_row(1, "R-1", "2025-10-11", pos="27", rcm="Y", txval=1_000_000, igst=0,
                   cgst=180_000, sgst=170_000, cess=0)]
    r = row_of(reconcile_rows(p, b, source="gstr2a"), 1)
    assert r["reasons"] == "DOC_DATE;POS;RCM;TAXABLE_VALUE;SGST;CESS;ROUNDING"
    assert (r["diff_txval"], r["diff_cgst"], r["diff_sgst"], r["diff_cess"]) == (1_000_000, 50, 10_000, 500)
    assert r["diff_tax"] == r["portal_tax"] - r["pr_tax"] == 50 + 10_000 + 500


def test_fuzzy_across_financial_year_boundary():
    out = reconcile_rows([portal_row(1, "INV/2024-25/0045", "2025-03-30")],
              [books_row(1, "INV-45", "2025-04-02")])
    r = row_of(out, 1)
    assert (r["match_status"], r["match_pass"]) == ("probable", "fuzzy")
    assert r["reasons"] == "DOC_NO;DOC_DATE;FY"


@pytest.mark.parametrize("p_no, b_no, linked", [
    ("KA-7795", "KA-7759", True),     # Jaro-Winkler
    ("ABCD-118", "ABCD-119", True),   # one edit
    ("X-12", "X-13", False),          # "X12" is shorter than 4 characters
    ("PQ-5501", "ZZ-9", False),       # not similar
])
def test_fuzzy_needs_similar_numbers(p_no, b_no, linked):
    r = row_of(reconcile_rows([portal_row(1, p_no)], [books_row(1, b_no), books_row(2, "OTHER-1")]), 1)
    assert (r["match_status"] == "probable") is linked


def test_no_fuzzy_or_amount_only_pair_when_amounts_disagree_or_dates_apart():
    out = reconcile_rows([portal_row(1, "ABCD-118", txval=1_000_000), portal_row(2, "ZZZ-8", "2025-10-01")],
              [books_row(1, "ABCD-119", txval=1_000_500), books_row(2, "ZZZ-9", "2025-10-21")])
    assert row_of(out, 1)["match_status"] == "missing_in_pr"
    assert row_of(out, 2)["match_status"] == "missing_in_pr"
    assert row_of(out, 1)["nearest_doc_no"] == "ABCD-119"
    assert "amounts differ: TAXABLE_VALUE" in row_of(out, 1)["nearest_reason"]
    assert row_of(out, 2)["nearest_doc_no"] == "ZZZ-9"
    assert row_of(out, 2)["nearest_reason"] == "dates 20 days apart"


def test_amount_only_pair_must_be_the_only_candidate_for_both():
    alone = reconcile_rows([portal_row(1, "Q1")], [books_row(1, "ZX-99")])
    assert (row_of(alone, 1)["match_status"], row_of(alone, 1)["match_pass"]) == ("probable", "amount_only")
    two = reconcile_rows([portal_row(1, "Q1")], [books_row(1, "ZX-99"), books_row(2, "YY-77", "2025-10-12")])
    assert row_of(two, 1)["match_status"] == "missing_in_pr"


def test_pan_pass_links_another_gstin_of_the_same_pan():
    out = reconcile_rows([portal_row(1, "GJ/555", stin=S3, txval=3_000_000, igst=540_000)],
              [books_row(1, "GJ/555", "2025-12-20", stin=S3_MH, txval=3_000_000, igst=0,
                         cgst=270_000, sgst=270_000)])
    r = row_of(out, 1)
    assert (r["match_status"], r["match_pass"], r["pr_supplier_gstin"]) == ("probable", "pan", S3_MH)
    assert r["reasons"].startswith("DOC_DATE;SUPPLIER_GSTIN;")
    far = reconcile_rows([portal_row(1, "GJ/555", stin=S3)], [books_row(1, "GJ/555", stin=S3_MH, txval=2_000_000)])
    assert row_of(far, 1)["match_status"] == "missing_in_pr"


def test_best_score_wins_not_first_come():
    p = [portal_row(1, "INV-0045", txval=1_000_000)]
    b = [books_row(1, "INV/45", txval=1_500_000), books_row(2, "INV_45", txval=1_000_000)]
    assert row_of(reconcile_rows(p, b), 1)["pr_id"] == 2
    p2 = [portal_row(1, "INV-0045", txval=1_500_000), portal_row(2, "inv 45", txval=1_000_000)]
    out = reconcile_rows(p2, [books_row(1, "INV/45", txval=1_000_000)])
    assert row_of(out, 2)["pr_id"] == 1 and row_of(out, 1)["match_status"] == "missing_in_pr"


def test_duplicates_keep_the_first_and_books_by_earliest_line():
    p = [portal_row(5, "D-1"), portal_row(3, "d-1")]
    b = [books_row(1, "D-1", line_no=9), books_row(2, "D-1 ", line_no=4)]
    out = reconcile_rows(p, b)
    assert row_of(out, 3)["pr_id"] == 2 and row_of(out, 3)["match_status"] == "exact"
    dp = row_of(out, 5)
    assert (dp["match_status"], dp["recommended_action"]) == ("duplicate", "R")
    db = row_of(out, pr_id=1)
    assert (db["match_status"], db["recommended_action"]) == ("duplicate", None)


def test_amendment_tries_current_then_original_within_each_pass():
    p = [portal_row(1, "INV-9A", orig_doc_no="INV-9", orig_doc_date="2025-10-01", section="b2ba"),
         portal_row(2, "NEW-77", orig_doc_no="OLD/0077", orig_doc_date="2025-10-02")]
    b = [books_row(1, "INV-9", "2025-10-01"), books_row(2, "NEW/77", "2025-10-12"),
         books_row(3, "OLD-77", "2025-10-02")]
    out = reconcile_rows(p, b)
    one = row_of(out, 1)
    assert (one["pr_id"], one["match_pass"], one["matched_on"]) == (1, "key", "original")
    assert one["match_status"] == "partial" and one["reasons"] == "DOC_NO;DOC_DATE"
    two = row_of(out, 2)   # pass 2 on the current number beats pass 2 on the original
    assert (two["pr_id"], two["match_pass"], two["matched_on"]) == (2, "normalised", "current")


def test_no_tax_and_reverse_charge_books_documents():
    b = [books_row(1, "EX-1", txval=500_000, igst=0, no_tax=True), books_row(2, "RC-1", rcm="Y")]
    ims = reconcile_rows([], b)
    assert ims.height == 1
    r = row_of(ims, pr_id=1)
    assert (r["match_status"], r["reasons"], r["recommended_action"]) == ("missing_in_portal", "NO_TAX", None)
    twoa = reconcile_rows([portal_row(1, "RC-1", rcm="Y")], b, source="gstr2a")
    assert row_of(twoa, 1)["match_status"] == "exact"


def test_nearest_candidate_says_it_was_taken():
    out = reconcile_rows([portal_row(1, "INV/2025-26/0045", "2025-10-13"), portal_row(2, "INV-45")],
              [books_row(1, "INV/45")])
    lone = row_of(out, 1)
    assert lone["match_status"] == "missing_in_pr"
    assert lone["nearest_doc_no"] == "INV/45" and "matched to INV-45" in lone["nearest_reason"]


def test_output_is_sorted_and_independent_of_input_order():
    p, b = portal_frame(SAMPLE_PORTAL), books_frame(SAMPLE_BOOKS)
    first = reconcile(p, b)
    for seed in range(3):
        again = reconcile(p.sample(fraction=1, shuffle=True, seed=seed),
                          b.sample(fraction=1, shuffle=True, seed=seed))
        assert again.equals(first)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="policy"):
        reconcile_rows([], [], policy="lenient")
    with pytest.raises(ValueError, match="source"):
        reconcile_rows([], [], source="gstr2b")


def test_empty_inputs_give_an_empty_result_with_all_columns():
    out = reconcile_rows([], [])
    assert out.height == 0 and out.columns == OUTPUT_COLUMNS
    assert reconcile_rows([portal_row(1, "A")], [])["match_status"].to_list() == ["missing_in_pr"]


def test_money_columns_stay_integer_paise():
    out = reconcile_rows(SAMPLE_PORTAL, SAMPLE_BOOKS)
    for c in ("portal_txval", "pr_tax", "diff_txval", "diff_tax", "decl_igst"):
        assert out.schema[c] == pl.Int64, c
