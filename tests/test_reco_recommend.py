"""Recommended actions, portal limits, credit-note declaration and the 2A -> IMS mapping."""
from __future__ import annotations

import polars as pl
import pytest

from core.reco import project_2a_onto_ims, reconcile
from core.reco.recommend import recommend, recommended_action
from tests.fixtures import (
    S1,
    books_frame,
    books_row,
    portal_frame,
    portal_row,
    reconcile_rows,
    row_of,
)

BALANCED = {"exact": "A", "partial": "A", "mismatch": "P", "probable": "P",
            "missing_in_pr": "P", "duplicate": "R", "missing_in_portal": None, "not_in_2a": "P"}


@pytest.mark.parametrize("status, action", BALANCED.items())
def test_balanced_table(status, action):
    assert recommended_action(status) == action


@pytest.mark.parametrize("status, action", {**BALANCED, "mismatch": "R", "probable": "R"}.items())
def test_strict_table(status, action):
    assert recommended_action(status, policy="strict") == action


@pytest.mark.parametrize("status, kw, action", [
    ("exact", {"srcfilstatus": "Not Filed"}, "P"),
    ("partial", {"srcfilstatus": "not filed"}, "P"),
    ("missing_in_pr", {"ispendactblocked": "Y"}, "R"),
    ("exact", {"srcfilstatus": "Not Filed", "ispendactblocked": "Y"}, "A"),
    ("missing_in_pr", {"ispendactblocked": "Y", "doc_type": "BOE"}, "A"),
    ("duplicate", {"doc_type": "BOE"}, "P"),
    ("mismatch", {"doc_type": "BOE"}, "P"),
])
def test_portal_limits_in_order(status, kw, action):
    assert recommended_action(status, **kw) == action


def test_strict_import_of_goods_is_never_rejected():
    assert recommended_action("mismatch", policy="strict", doc_type="BOE") == "P"


def test_frame_recommend_agrees_with_the_scalar_rule():
    statuses = list(BALANCED)
    rows = []
    for s in statuses:
        for dt_ in ("INV", "CRN", "BOE"):
            for fs in ("Filed", "Not Filed", None):
                for bl in ("Y", "N", None):
                    rows.append({"portal_id": None if s == "missing_in_portal" else 1,
                                 "match_status": s, "doc_type": dt_, "srcfilstatus": fs,
                                 "ispendactblocked": bl, "portal_tax": 100, "pr_tax": 100})
    frame = pl.DataFrame(rows, schema_overrides={"portal_id": pl.Int64})
    for policy in ("balanced", "strict"):
        got = recommend(frame, policy)["recommended_action"].to_list()
        want = [recommended_action(r["match_status"], policy=policy, doc_type=r["doc_type"],
                                   srcfilstatus=r["srcfilstatus"],
                                   ispendactblocked=r["ispendactblocked"]) for r in rows]
        assert got == want


def test_strict_policy_through_reconcile():
    p = [portal_row(1, "KA-1", txval=5_000_000, igst=900_000), portal_row(2, "KA-7795")]
    b = [books_row(1, "KA-1", txval=4_500_000, igst=810_000), books_row(2, "KA-7759")]
    out = reconcile_rows(p, b, policy="strict")
    assert [row_of(out, i)["recommended_action"] for i in (1, 2)] == ["R", "R"]


def cn_pair(books_cgst: int, books_sgst: int, **portal_kw):
    p = [portal_row(1, "CN-7", doc_type="CRN", stin=S1, txval=200_000, igst=0, cgst=18_000,
                    sgst=18_000, section="b2bcn", **portal_kw)]
    b = [books_row(1, "CN-7", doc_type="CRN", stin=S1, txval=200_000, igst=0, cgst=books_cgst,
                   sgst=books_sgst)]
    return row_of(reconcile_rows(p, b), 1)


def test_accepted_credit_note_declares_itc_reduction():
    same = cn_pair(18_000, 18_000)
    assert (same["recommended_action"], same["itc_red_req"]) == ("A", "Y")
    assert same["decl_cgst"] is None and same["decl_sgst"] is None
    less = cn_pair(17_950, 17_950)   # within tolerance: still the full reduction
    assert (less["recommended_action"], less["itc_red_req"]) == ("A", "Y")
    assert (less["decl_igst"], less["decl_cgst"], less["decl_sgst"], less["decl_cess"]) == (
        None, None, None, None)
    pending = cn_pair(10_000, 10_000)   # mismatch -> P: nothing declared
    assert pending["recommended_action"] == "P" and pending["itc_red_req"] is None
    invoice = row_of(reconcile_rows([portal_row(1, "I-1")], [books_row(1, "I-1")]), 1)
    assert invoice["itc_red_req"] is None


def test_2a_statuses_carry_onto_ims_records():
    twoa = portal_frame([portal_row(1, "SI/2025-26/0101", stin=S1),
                         portal_row(2, "KA-1", txval=5_000_000, igst=900_000),
                         portal_row(3, "OLD-5")])
    ims = portal_frame([portal_row(11, "si/2025-26/101", stin=S1),   # same norm_no as 2A #1
                        portal_row(12, "KA-1", txval=5_000_000, igst=900_000),
                        portal_row(13, "GJ-9"),                       # not in 2A
                        portal_row(14, "GJ-10", ispendactblocked="Y"),
                        portal_row(15, "NEW-5", orig_doc_no="OLD-5", orig_doc_date="2025-10-10"),
                        portal_row(16, "KA-1", txval=5_000_000, igst=900_000)])
    books = books_frame([books_row(1, "SI/2025-26/0101", stin=S1),
                         books_row(2, "KA-1", txval=4_000_000, igst=720_000),
                         books_row(3, "OLD-5")])
    res_2a = reconcile(twoa, books, source="gstr2a")
    out = project_2a_onto_ims(ims, res_2a, "balanced")
    got = {r["portal_id"]: (r["match_status"], r["recommended_action"], r["pr_id"])
           for r in out.iter_rows(named=True)}
    assert got == {11: ("exact", "A", 1), 12: ("mismatch", "P", 2), 13: ("not_in_2a", "P", None),
                   14: ("not_in_2a", "A", None), 15: ("exact", "A", 3),
                   16: ("duplicate", "R", None)}
    assert row_of(out, 14)["reasons"] == "PENDING_BLOCKED"
    assert out.height == ims.height
    strict = project_2a_onto_ims(ims, res_2a, "strict")
    assert row_of(strict, 12)["recommended_action"] == "R"
