"""The revised (2026-12) recommendation rules: each portal step with its reason token, strict
policy and credit notes, import of goods, and the proposed ITC-reduction answer
(docs/reconciliation.md, "Recommended action" and "ITC-reduction declaration")."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.reco import reconcile
from core.reco.declare import indian_amount, reduction_cap
from core.reco.recommend import itc_reduction_applies, recommend, recommendation
from tests.fixtures import (
    BOOKS_SCHEMA,
    PORTAL_SCHEMA,
    S1,
    books_row,
    portal_row,
    reconcile_rows,
    row_of,
)

STATUSES = ["exact", "partial", "mismatch", "probable", "missing_in_pr", "duplicate",
            "not_in_2a", "missing_in_portal"]
DOC_TYPES = ["INV", "CRN", "DBN", "BOE"]
FLAGS = [None, "Y", "N", "y"]
FILED = [None, "Filed", "Not Filed", "not filed"]


# ---------------------------------------------------------------- the steps, one rule each

@pytest.mark.parametrize("status, kw, want", [
    # nothing changed: no token
    ("exact", {}, ("A", ())),
    ("missing_in_pr", {"ispendactblocked": "N"}, ("P", ())),
    ("duplicate", {"doc_type": "INV"}, ("R", ())),
    # 1. supplier not filed: A -> P
    ("exact", {"srcfilstatus": "Not Filed"}, ("P", ("NOT_FILED",))),
    ("partial", {"srcfilstatus": "not filed", "doc_type": "CRN"}, ("P", ("NOT_FILED",))),
    ("mismatch", {"srcfilstatus": "Not Filed"}, ("P", ())),   # not an A: step 1 does nothing
    # 2. Pending blocked: credit notes, BOE and "only not filed" -> A; other invoices -> R
    ("missing_in_pr", {"doc_type": "CRN", "ispendactblocked": "Y"}, ("A", ("PENDING_BLOCKED",))),
    ("mismatch", {"doc_type": "CRN", "ispendactblocked": "Y"}, ("A", ("PENDING_BLOCKED",))),
    ("probable", {"doc_type": "BOE", "ispendactblocked": "Y"}, ("A", ("PENDING_BLOCKED",))),
    ("exact", {"srcfilstatus": "Not Filed", "ispendactblocked": "Y"},
     ("A", ("NOT_FILED", "PENDING_BLOCKED"))),
    ("not_in_2a", {"ispendactblocked": "Y"}, ("A", ("PENDING_BLOCKED",))),
    ("missing_in_pr", {"ispendactblocked": "Y"}, ("R", ("PENDING_BLOCKED",))),
    ("mismatch", {"doc_type": "DBN", "ispendactblocked": "y"}, ("R", ("PENDING_BLOCKED",))),
    ("missing_in_pr", {"srcfilstatus": "Not Filed", "ispendactblocked": "Y"},
     ("R", ("PENDING_BLOCKED",))),   # not filed was not its only objection
    # 3. import of goods is never R
    ("duplicate", {"doc_type": "BOE"}, ("P", ("BOE_NO_REJECT",))),
    ("duplicate", {"doc_type": "BOE", "ispendactblocked": "Y"}, ("A", ("BOE_NO_REJECT",))),
    # a credit note is R only as a portal duplicate
    ("duplicate", {"doc_type": "CRN", "ispendactblocked": "Y"}, ("R", ())),
    ("missing_in_portal", {"doc_type": "CRN"}, (None, ())),
])
def test_each_step_and_its_token(status, kw, want):
    assert recommendation(status, **kw) == want


@pytest.mark.parametrize("status, kw, want", [
    ("mismatch", {}, ("R", ())),
    ("probable", {"doc_type": "DBN"}, ("R", ())),
    ("mismatch", {"doc_type": "CRN"}, ("P", ())),       # credit notes stay P under strict
    ("probable", {"doc_type": "CRN"}, ("P", ())),
    ("mismatch", {"doc_type": "CRN", "ispendactblocked": "Y"}, ("A", ("PENDING_BLOCKED",))),
    ("duplicate", {"doc_type": "CRN"}, ("R", ())),
    ("mismatch", {"doc_type": "BOE"}, ("P", ("BOE_NO_REJECT",))),
    ("probable", {"doc_type": "BOE", "ispendactblocked": "Y"}, ("A", ("BOE_NO_REJECT",))),
])
def test_strict_policy(status, kw, want):
    assert recommendation(status, policy="strict", **kw) == want


def test_frame_recommend_adds_the_same_tokens_after_the_matching_ones():
    rows = [{"portal_id": 1, "match_status": s, "doc_type": t, "srcfilstatus": f,
             "ispendactblocked": b, "reasons": r}
            for s in STATUSES for t in DOC_TYPES for f in FILED for b in FLAGS
            for r in ("", "DOC_NO;IGST")]
    frame = pl.DataFrame(rows)
    for policy in ("balanced", "strict"):
        out = recommend(frame, policy)
        for row, got in zip(rows, out.iter_rows(named=True)):
            action, tokens = recommendation(row["match_status"], policy=policy,
                                            doc_type=row["doc_type"],
                                            srcfilstatus=row["srcfilstatus"],
                                            ispendactblocked=row["ispendactblocked"])
            want = ";".join([t for t in [row["reasons"], *tokens] if t])
            assert (got["recommended_action"], got["reasons"]) == (action, want), row


def test_tokens_follow_the_matching_tokens_through_reconcile():
    p = [portal_row(1, "si-102", stin=S1, srcfilstatus="Not Filed", ispendactblocked="Y"),
         portal_row(2, "B-1", doc_type="BOE", section="impg", stin="INNSA1"),
         portal_row(3, "B-1", doc_type="BOE", section="impg", stin="INNSA1"),
         portal_row(4, "B-9", doc_type="BOE", section="impg", stin="INNSA1", txval=900_000)]
    b = [books_row(1, "SI/2025-26/0102", stin=S1),
         books_row(2, "B-1", doc_type="BOE", stin="INNSA1"),
         books_row(3, "B-9", doc_type="BOE", stin="INNSA1")]
    out = reconcile_rows(p, b, policy="strict")
    got = {r["portal_id"]: (r["match_status"], r["recommended_action"], r["reasons"])
           for r in out.filter(pl.col("portal_id").is_not_null()).iter_rows(named=True)}
    assert got == {1: ("partial", "A", "DOC_NO;NOT_FILED;PENDING_BLOCKED"),
                   2: ("exact", "A", ""),
                   3: ("duplicate", "P", "BOE_NO_REJECT"),
                   4: ("mismatch", "P", "TAXABLE_VALUE;IGST;BOE_NO_REJECT")}


def test_bill_of_entry_matches_on_port_code_and_number():
    p = [portal_row(1, "4001235", doc_type="BOE", section="impg", stin="INNSA1", igst=180_000),
         portal_row(2, "4001235", doc_type="BOE", section="impgsez", stin=S1, igst=180_000)]
    b = [books_row(1, "4001235", doc_type="BOE", stin="INMAA1", igst=180_000),  # another port
         books_row(2, "4001235", doc_type="BOE", stin="INNSA1", igst=180_000),
         books_row(3, "4001235", doc_type="BOE", stin=S1, igst=180_000)]
    out = reconcile_rows(p, b)
    assert (row_of(out, 1)["pr_id"], row_of(out, 1)["match_status"]) == (2, "exact")
    assert (row_of(out, 2)["pr_id"], row_of(out, 2)["match_status"]) == (3, "exact")
    assert row_of(out, pr_id=1)["match_status"] == "missing_in_portal"


# ---------------------------------------------------------------- does the question apply?

@pytest.mark.parametrize("section, rtnprd, flag, want", [
    ("b2b", "092025", "N", True), ("b2ba", "112025", "N", True),       # the flag decides
    ("b2bcn", "112025", "Y", False), ("b2bcna", "112025", "y", False),
    ("b2bcn", "092025", None, False), ("b2bcn", "102025", None, True),  # no flag: from 10/2025
    ("b2bcna", "012026", None, True), ("b2bcn", "122024", None, False),
    ("b2bcn", "", None, False), ("b2bcn", None, "", False),
    ("b2ba", "102025", None, False), ("b2bdna", "112025", None, False),
    ("impg", "102025", None, False),
])
def test_itc_reduction_applies(section, rtnprd, flag, want):
    assert itc_reduction_applies(section, rtnprd, flag) is want


# ---------------------------------------------------------------- the proposed answer

CN = {"doc_type": "CRN", "stin": S1, "txval": 200_000, "igst": 0, "cgst": 18_000, "sgst": 18_000}


def declared(portal_extra: dict | None = None, books_extra: dict | None = None, *,
             portal_kw: dict | None = None, books_kw: dict | None = None, books: bool = True,
             tolerance_paise: int = 100) -> dict:
    """Reconcile one credit note (b2bcn 102025 unless told) with its books document."""
    prow = {**portal_row(1, "CN-7", **{**CN, "section": "b2bcn", **(portal_kw or {})}),
            **(portal_extra or {})}
    brow = {**books_row(1, "CN-7", **{**CN, **(books_kw or {})}), **(books_extra or {})}
    p = pl.DataFrame([prow], schema={**PORTAL_SCHEMA, **{k: _dtype(k) for k in portal_extra or {}}})
    b = pl.DataFrame([brow] if books else [],
                     schema={**BOOKS_SCHEMA, **{k: _dtype(k) for k in books_extra or {}}})
    return row_of(reconcile(p, b, tolerance_paise=tolerance_paise), 1)


def _dtype(column: str):
    return pl.Int64 if column.startswith(("orig_", "itc_claimed_")) else pl.Utf8


def answer(row: dict) -> tuple:
    return (row["recommended_action"], row["itc_red_req"], row["decl_igst"], row["decl_cgst"],
            row["decl_sgst"], row["decl_cess"], row["supplier_remark"])


def test_full_is_the_default():
    assert answer(declared()) == ("A", "Y", None, None, None, None, None)
    assert answer(declared(books=False, portal_kw={"ispendactblocked": "Y"}))[:2] == ("A", "Y")


def test_none_when_the_books_say_itc_not_claimed():
    want = ("A", "N", None, None, None, None, "ITC not claimed on this credit note")
    assert answer(declared(books_extra={"itc_claimed": "N"})) == want
    assert answer(declared(books_extra={"itc_claimed": "n"})) == want
    zero = {"itc_claimed_cgst": 0, "itc_claimed_sgst": 0}   # claimed amounts of zero
    assert answer(declared(books_extra=zero)) == want


def test_partial_from_claimed_amounts():
    row = declared(books_extra={"itc_claimed_cgst": 9_000, "itc_claimed_sgst": 9_000})
    assert answer(row) == ("A", "Y", 0, 9_000, 9_000, 0, "ITC claimed: CGST 90.00, SGST 90.00")


def test_partial_igst_remark_and_indian_grouping():
    kw = {"igst": 45_000, "cgst": 0, "sgst": 0}
    row = declared(books_extra={"itc_claimed_igst": 30_000}, portal_kw=kw, books_kw=kw)
    assert answer(row) == ("A", "Y", 30_000, 0, 0, 0, "ITC claimed: IGST 300.00")
    assert indian_amount(12_345_678) == "1,23,456.78" and indian_amount(45_000) == "450.00"
    assert indian_amount(1_00_00_000_00) == "1,00,00,000.00"


def test_partial_from_the_books_own_tax_when_no_claimed_columns():
    # books hold less tax: a mismatch (P), Accepted because Pending is blocked
    row = declared(portal_kw={"ispendactblocked": "Y"}, books_kw={"cgst": 10_000, "sgst": 10_000})
    assert row["match_status"] == "mismatch" and row["reasons"].endswith("PENDING_BLOCKED")
    assert answer(row) == ("A", "Y", 0, 10_000, 10_000, 0,
                           "ITC claimed: CGST 100.00, SGST 100.00")


def test_within_tolerance_stays_full():
    row = declared(books_extra={"itc_claimed_cgst": 17_950, "itc_claimed_sgst": 17_950})
    assert answer(row)[:3] == ("A", "Y", None)
    row = declared(books_extra={"itc_claimed_cgst": 17_950, "itc_claimed_sgst": 17_950},
                   tolerance_paise=10)
    assert answer(row)[1:5] == ("Y", 0, 17_950, 17_950)


def test_cgst_equals_sgst_at_the_lower_of_the_two():
    row = declared(books_extra={"itc_claimed_cgst": 9_000, "itc_claimed_sgst": 7_000})
    assert (row["decl_cgst"], row["decl_sgst"]) == (7_000, 7_000)


def test_caps_the_record_own_amount():
    kw = {"igst": 45_000, "cgst": 0, "sgst": 0, "cess": 1_000}
    row = declared(books_extra={"itc_claimed_igst": 90_000, "itc_claimed_cess": 0},
                   portal_kw=kw, books_kw=kw)
    assert answer(row)[1:6] == ("Y", 45_000, 0, 0, 0)
    assert row["supplier_remark"] == "ITC claimed: IGST 450.00, Cess 0.00"


def test_caps_an_amendment_at_the_drop_from_the_original():
    orig = {"orig_igst": 0, "orig_cgst": 30_000, "orig_sgst": 30_000, "orig_cess": 0}
    amended = {"section": "b2bcna", "orig_doc_no": "CN-6", "orig_doc_date": "2025-09-20"}
    row = declared(orig, {"itc_claimed_cgst": 10_000, "itc_claimed_sgst": 10_000},
                   portal_kw=amended)
    assert answer(row)[1:6] == ("Y", 0, 10_000, 10_000, 0)     # below the cap of 12,000 each
    row = declared(orig, {"itc_claimed_cgst": 15_000, "itc_claimed_sgst": 15_000},
                   portal_kw=amended)
    assert answer(row)[1:7] == ("Y", None, None, None, None, None)  # the cap itself: full
    assert (reduction_cap(18_000, 30_000), reduction_cap(18_000, 10_000),
            reduction_cap(18_000)) == (12_000, 0, 18_000)


def test_remarks_blocked_gives_no_default_remark():
    blocked = {"is_remarks_blocked": "Y"}
    row = declared(blocked, {"itc_claimed": "N"})
    assert answer(row) == ("A", "N", None, None, None, None, None)
    row = declared(blocked, {"itc_claimed_cgst": 9_000, "itc_claimed_sgst": 9_000})
    assert answer(row) == ("A", "Y", 0, 9_000, 9_000, 0, None)
    row = declared({"is_remarks_blocked": "N"}, {"itc_claimed": "N"})
    assert row["supplier_remark"] == "ITC not claimed on this credit note"


def test_only_where_the_question_applies_and_only_on_accept():
    assert declared({"is_itc_red_req_blocked": "Y"})["itc_red_req"] is None
    assert declared(portal_kw={"rtnprd": "092025"})["itc_red_req"] is None     # no flag, Sept
    assert declared(portal_kw={"rtnprd": "102025"})["itc_red_req"] == "Y"      # no flag, Oct
    assert declared({"is_itc_red_req_blocked": "N"},
                    portal_kw={"rtnprd": "092025"})["itc_red_req"] == "Y"      # the flag rules
    pending = declared(books_kw={"cgst": 10_000, "sgst": 10_000})              # mismatch -> P
    assert answer(pending) == ("P", None, None, None, None, None, None)
    # a downward amendment of an invoice: only when the portal says the question applies
    inv = {"doc_type": "INV", "section": "b2ba", "orig_doc_no": "I-0",
           "orig_doc_date": "2025-09-01"}
    inv_books = {"doc_type": "INV"}
    assert declared(portal_kw=inv, books_kw=inv_books)["itc_red_req"] is None
    down = declared({"is_itc_red_req_blocked": "N", "orig_cgst": 20_000, "orig_sgst": 20_000},
                    {"itc_claimed": "N"}, portal_kw=inv, books_kw=inv_books)
    assert answer(down) == ("A", "N", None, None, None, None, "ITC not claimed on this invoice")


# ---------------------------------------------------------------- the property

@settings(max_examples=300, deadline=None)
@given(st.sampled_from(STATUSES), st.sampled_from(["CRN", "crn", "CRN "]),
       st.sampled_from(FILED), st.sampled_from(FLAGS), st.sampled_from(["balanced", "strict"]))
def test_a_credit_note_is_never_rejected_unless_a_duplicate(status, doc_type, filed, blocked,
                                                            policy):
    action, _ = recommendation(status, policy=policy, doc_type=doc_type, srcfilstatus=filed,
                               ispendactblocked=blocked)
    assert action != "R" or status == "duplicate"


cn_doc = st.fixed_dictionaries({
    "no": st.sampled_from(["CN-1", "cn/1", "CN-2", "CN-12", "X"]),
    "tax": st.sampled_from([18_000, 18_040, 9_000]), "day": st.integers(-12, 12),
    "blocked": st.sampled_from(["Y", "N", None]),
    "filed": st.sampled_from(["Filed", "Not Filed"]),
    "red": st.sampled_from(["Y", "N", None]), "rem": st.sampled_from(["Y", "N", None]),
    "period": st.sampled_from(["092025", "102025", "112025"]),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(cn_doc, max_size=8), st.lists(cn_doc, max_size=8),
       st.sampled_from(["balanced", "strict"]))
def test_reconciled_credit_notes_are_never_rejected_unless_duplicates(pdocs, bdocs, policy):
    base = dt.date(2025, 10, 10)
    p = pl.DataFrame([{**portal_row(i + 1, d["no"], (base + dt.timedelta(d["day"])).isoformat(),
                                    doc_type="CRN", section="b2bcn", igst=d["tax"],
                                    srcfilstatus=d["filed"], ispendactblocked=d["blocked"],
                                    rtnprd=d["period"]),
                       "is_itc_red_req_blocked": d["red"], "is_remarks_blocked": d["rem"]}
                      for i, d in enumerate(pdocs)],
                     schema={**PORTAL_SCHEMA, "is_itc_red_req_blocked": pl.Utf8,
                             "is_remarks_blocked": pl.Utf8})
    b = pl.DataFrame([books_row(i + 1, d["no"], (base + dt.timedelta(d["day"])).isoformat(),
                                doc_type="CRN", igst=d["tax"]) for i, d in enumerate(bdocs)],
                     schema=BOOKS_SCHEMA)
    out = reconcile(p, b, policy=policy)
    rejected = out.filter(pl.col("recommended_action") == "R")
    assert (rejected["match_status"] == "duplicate").all()
    # the answer is only ever proposed on an Accept, and partial amounts keep CGST = SGST
    asked = out.filter(pl.col("itc_red_req").is_not_null())
    assert (asked["recommended_action"] == "A").all()
    assert (asked["decl_cgst"].fill_null(0) == asked["decl_sgst"].fill_null(0)).all()
