"""The whole-frame answer view (core/reco/answer_columns.py) gives, row for row, what the
one-record rules of core/reco/itc_answer.py give (`shown_answer` of the record view), over
every combination that changes the outcome; and a page's worth is built without a Python
call per row (issue 29)."""
from __future__ import annotations

import itertools
import random
from decimal import Decimal

import polars as pl

from core.ims.view import ANSWER_VIEW, answer_view, shown_answer
from core.reco import HEADS


def records() -> list[dict]:
    """Every combination of flag, section, period, answers, amounts, actions and remarks that
    the rules look at (amounts drawn for a sample of heads, fixed seed)."""
    rng = random.Random(29)
    amounts = (None, Decimal("0.00"), Decimal("450.00"), Decimal("450.004"))
    rows = []
    for (flag, section, period, user_req, rec_req, user_action, rec_action, own, proposed,
         blocked) in itertools.product(
            (None, "Y", "N", " y "), ("b2bcn", "B2BCNA ", "b2b"),
            ("102025", "092025", "132025", None), (None, "Y", "N"), (None, "Y", "N"),
            (None, "", "A", "R"), ("A", "P"), (None, "  ", " mine "),
            (None, "proposed"), (None, "Y", "n")):
        if rng.random() > 0.05:      # about 3,000 of the 62,208 combinations
            continue
        row = {"section": section, "rtnprd": period, "is_itc_red_req_blocked": flag,
               "is_remarks_blocked": blocked, "user_action": user_action,
               "recommended_action": rec_action, "user_itc_red_req": user_req,
               "rec_itc_red_req": rec_req, "user_supplier_remark": own,
               "rec_supplier_remark": proposed}
        for h in HEADS:
            row[f"rec_decl_{h}"] = rng.choice(amounts)
            row[f"user_decl_{h}"] = rng.choice((*amounts, row[f"rec_decl_{h}"]))
        rows.append(row)
    return rows


def frame_of(rows: list[dict]) -> pl.DataFrame:
    schema = {c: pl.Utf8 for c in rows[0]}
    schema.update({c: pl.Decimal(18, 2) for c in rows[0] if "_decl_" in c})
    return pl.DataFrame([{c: (v.quantize(Decimal("0.01")) if isinstance(v, Decimal) else v)
                          for c, v in r.items()} for r in rows], schema=schema)


def test_the_frame_view_says_what_the_one_record_rules_say():
    rows = records()
    frame = frame_of(rows)
    got = answer_view(frame)
    assert got.columns == frame.columns + list(ANSWER_VIEW)
    want = pl.DataFrame([shown_answer(r) for r in frame.iter_rows(named=True)],
                        schema=ANSWER_VIEW)
    assert len(rows) > 700
    for name in ANSWER_VIEW:
        differ = [(i, a, b) for i, (a, b) in enumerate(zip(got[name].to_list(),
                                                             want[name].to_list())) if a != b]
        assert not differ, (name, differ[:3], [rows[i] for i, *_ in differ[:1]])
    # each outcome is reached (the comparison above is not over one kind of row only)
    assert set(want["itc_answer"].to_list()) == {None, "Full", "Partial", "No"}
    assert want["supplier_remark"].drop_nulls().unique().sort().to_list() == ["mine",
                                                                                "proposed"]


def test_a_frame_without_the_answer_columns_reads_as_no_question_and_no_remark():
    got = answer_view(pl.DataFrame({"record_id": [1, 2]}))
    assert got["itc_applies"].to_list() == [False, False]
    assert got["remarks_allowed"].to_list() == [True, True]
    assert got["supplier_remark"].to_list() == [None, None]
