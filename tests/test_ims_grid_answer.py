"""The IMS Invoices grid through Streamlit's AppTest on a real DuckDB file: the ITC-reduction
answer (Full / Partial with amounts / No), the remark to the supplier and the internal note are
edited and saved; a bad answer is refused with a plain message and nothing is written; the
side-by-side view and the download show the two texts apart."""
from __future__ import annotations

import io
from decimal import Decimal

import polars as pl
from streamlit.testing.v1 import AppTest

from core.export import to_csv_bytes
from core.ims.view import ImsFilter, export_frame, record_with_counterpart
from tests.fixtures import BUSINESSES, ROOT, opened_actions_editor, rows, seed_demo

GSTINS = [g for g, _ in BUSINESSES]
FIRST_ROWS = ("SELECT record_id FROM ims_records WHERE removed_at IS NULL "
              "AND coalesce(portal_action, 'N') = 'N' "
              "ORDER BY doc_date DESC NULLS LAST, record_id LIMIT 3")


def credit_notes_on_top() -> list[int]:
    """Turn the grid's first three rows into Oct-2025 credit notes the portal asks about
    (intra-state: CGST 90 + SGST 90); the third blocks remarks. The portal asks about no
    other record."""
    ids = [r[0] for r in rows(FIRST_ROWS)]
    rows("UPDATE ims_records SET section = 'b2bcn', doc_type = 'CRN', rtnprd = '102025', "
         "igst = 0, cgst = 90, sgst = 90, cess = 0, is_itc_red_req_blocked = 'N', "
         "is_remarks_blocked = CASE WHEN record_id = ? THEN 'Y' ELSE 'N' END, "
         "ispendactblocked = 'N' WHERE list_contains(?, record_id)", [ids[2], ids])
    rows("UPDATE ims_records SET is_itc_red_req_blocked = 'Y' WHERE NOT list_contains(?, "
         "record_id)", [ids])
    return ids


def open_grid() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/ims_invoices.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    opened_actions_editor(at)        # drawn only once its expander is opened
    return at


def save(at: AppTest, edits: dict) -> None:
    grid = at.data_editor[0]
    at.session_state[grid.key] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}
    next(b for b in at.button if b.label == "Save changes").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def user_columns(record_id: int) -> tuple:
    return rows("SELECT user_action, user_itc_red_req, user_decl_igst, user_decl_cgst, "
                "user_decl_sgst, user_decl_cess, user_supplier_remark, internal_note "
                "FROM ims_records WHERE record_id = ?", [record_id])[0]


def test_the_answer_and_both_texts_are_edited_and_saved(db_file):
    seed_demo(n_per_business=20, with_jobs=False)
    first, second, blocked = credit_notes_on_top()
    at = open_grid()
    shown = at.data_editor[0].value
    assert list(shown["itc_answer"].iloc[:3]) == ["Full", "Full", "Full"]  # the default
    assert list(shown["remarks_allowed"].iloc[:3]) == [True, True, False]
    assert shown["itc_answer"].iloc[3:].isna().all()       # not asked: left empty
    save(at, {0: {"user_action": "Accept", "itc_answer": "Partial", "reduce_cgst": 40,
                  "reduce_sgst": 40, "supplier_remark": "ITC claimed: CGST 50, SGST 50",
                  "internal_note": "AP ledger 4471, keep to ourselves"},
              1: {"user_action": "Accept", "itc_answer": "No",
                  "supplier_remark": "ITC not claimed on this credit note"},
              2: {"user_action": "Accept", "itc_answer": "No", "internal_note": "no remark here"}})
    assert not at.error, [e.value for e in at.error]
    assert any("3 record(s) saved" in s.value for s in at.success)
    assert user_columns(first) == ("A", "Y", Decimal(0), Decimal(40), Decimal(40), Decimal(0),
                                   "ITC claimed: CGST 50, SGST 50",
                                   "AP ledger 4471, keep to ourselves")
    assert user_columns(second) == ("A", "N", None, None, None, None,
                                    "ITC not claimed on this credit note", None)
    assert user_columns(blocked) == ("A", "N", None, None, None, None, None, "no remark here")
    again = at.data_editor[0].value     # the grid shows what was saved
    assert list(again["itc_answer"].iloc[:3]) == ["Partial", "No", "No"]
    assert (again["reduce_cgst"].iloc[0], again["reduce_sgst"].iloc[0]) == (40.0, 40.0)
    assert again["internal_note"].iloc[0] == "AP ledger 4471, keep to ourselves"
    log = rows("SELECT note FROM action_log WHERE kind = 'user_action' AND record_id = ?",
               [first])
    assert log == [(("remark to supplier: ITC claimed: CGST 50, SGST 50; ITC to be reduced: "
                    "Partial; internal note changed"),)]

    # the side-by-side view and the download keep the two texts apart
    texts = record_with_counterpart(GSTINS, first)["texts"]
    assert (texts["itc_answer"], texts["reduce_cgst"]) == ("Partial", 40.0)
    assert texts["supplier_remark"] == "ITC claimed: CGST 50, SGST 50"
    assert texts["internal_note"] == "AP ledger 4471, keep to ourselves"
    out = export_frame(GSTINS, ImsFilter(record_ids=(first, second, blocked)), None)
    got = {r["record_id"]: r for r in out.to_dicts()}
    assert got[first]["supplier_remark"] == "ITC claimed: CGST 50, SGST 50"
    assert got[first]["internal_note"] == "AP ledger 4471, keep to ourselves"
    assert (got[first]["itc_to_be_reduced"], got[first]["reduce_sgst"]) == ("Partial", 40.0)
    assert (got[blocked]["supplier_remark"], got[blocked]["itc_to_be_reduced"]) == (None, "No")
    csv = pl.read_csv(io.BytesIO(to_csv_bytes(out)[3:]))   # without the byte-order mark
    assert {"supplier_remark", "internal_note", "itc_to_be_reduced"} <= set(csv.columns)


def test_a_bad_answer_is_refused_with_plain_messages_and_nothing_is_written(db_file):
    seed_demo(n_per_business=20, with_jobs=False)
    credit_notes_on_top()
    at = open_grid()
    save(at, {0: {"user_action": "Accept", "itc_answer": "Partial", "reduce_cgst": 95,
                  "reduce_sgst": 90, "supplier_remark": "part"},
              1: {"user_action": "Accept", "itc_answer": "No"},
              2: {"supplier_remark": "please amend"},
              3: {"itc_answer": "Full"}})
    message = at.error[0].value
    assert message.startswith("Not saved:")
    for part in ("CGST to reduce (₹95.00) is more than this record allows (₹90.00)",
                 "CGST to reduce (₹95.00) must equal SGST to reduce (₹90.00)",
                 "ITC to be reduced 'No' needs a remark to the supplier saying why",
                 "the portal takes no remark for this record",
                 "the ITC-reduction question does not apply to this record"):
        assert part in message, part
    assert "Traceback" not in message
    assert rows("SELECT count(*) FROM ims_records WHERE user_action IS NOT NULL "
                "OR user_itc_red_req IS NOT NULL OR user_supplier_remark IS NOT NULL") == [(0,)]
    assert rows("SELECT count(*) FROM action_log WHERE kind = 'user_action'") == [(0,)]
