"""Feedback where the user looks, in words (issue 24, item 4): a save that holds a Pending the
portal refuses and a valid Reject saves the Reject and says, record by record in the user's
words (supplier name, document number), what was saved and what was not and why; no record
id or store field name; on IMS Invoices the outcome shows by the Save button, not at the top
of the page. A real DuckDB file; the page through Streamlit's AppTest."""
from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from core.business import supplier_names
from core.ims import actions
from tests.fixtures import BOTH_ENGINES, BUSINESSES, ROOT, opened_actions_editor, rows, seed_demo

GSTINS = [g for g, *_ in BUSINESSES]


def blocked_and_plain() -> tuple[tuple, tuple]:
    """(record_id, rtin, stin, doc_no) of a record where Pending is refused, and of another."""
    blocked = rows("SELECT record_id, rtin, stin, doc_no FROM ims_records WHERE "
                   "ispendactblocked = 'Y' AND doc_type = 'INV' ORDER BY record_id LIMIT 1")[0]
    plain = rows("SELECT record_id, rtin, stin, doc_no FROM ims_records WHERE doc_type = 'INV' "
                 "AND record_id <> ? AND user_action IS NULL ORDER BY record_id LIMIT 1",
                 [blocked[0]])[0]
    return blocked, plain


def no_codes(text: str, ids: list[int]) -> None:
    assert "ispendactblocked" not in text and "=Y" not in text, text
    for rid in ids:
        assert not re.search(rf"\brecord {rid}\b", text), text


@BOTH_ENGINES
def test_a_refused_pending_does_not_drop_a_valid_reject_and_both_are_said(db_file):
    seed_demo()
    blocked, plain = blocked_and_plain()
    result = actions.save_user_actions(GSTINS, {blocked[0]: {"action": "P"},
                                                plain[0]: {"action": "R"}}, "ana")
    assert result.saved == 1 and result.not_saved == 1
    assert rows("SELECT user_action FROM ims_records WHERE record_id = ?", [plain[0]]) == [("R",)]
    name = supplier_names(plain[1], [plain[2]]).get(plain[2], f"supplier {plain[2]}")
    assert f"Saved: {name}, invoice {plain[3]}, rejected" in result.lines
    refused = next(line for line in result.lines if line.startswith("Not saved: "))
    assert f"invoice {blocked[3]}: the portal does not allow Pending" in refused
    assert result.summary() == "1 record(s) saved; 1 not saved"
    no_codes("\n".join(result.lines), [blocked[0], plain[0]])
    again = actions.save_user_actions(GSTINS, {plain[0]: {"action": "R"}}, "ana")
    assert again.summary() == "0 record(s) saved; 1 already so, nothing to change"


def test_the_grid_says_what_was_saved_by_its_buttons(db_file):
    seed_demo()
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/ims_invoices.py")
    at.run()
    grid = opened_actions_editor(at)
    ids = rows("SELECT record_id, doc_no FROM ims_records")
    invoices = {d for (d,) in rows("SELECT doc_no FROM ims_records WHERE doc_type = 'INV'")}
    first, second = [i for i, d in enumerate(grid.value["doc_no"]) if d in invoices][:2]
    docs = {0: grid.value["doc_no"].iloc[first], 1: grid.value["doc_no"].iloc[second]}
    at.session_state[grid.key] = {"edited_rows": {first: {"user_action": "Reject"},
                                                  second: {"user_action": "Accept"}},
                                  "added_rows": [], "deleted_rows": []}
    next(b for b in at.button if b.label == "Save changes").click()
    at.run()
    assert not at.exception
    said = [s.value for s in at.success]
    assert len(said) == 1 and said[0].startswith("**Saved changes**: 2 record(s) saved."), said
    assert f"invoice {docs[0]}, rejected" in said[0] and f"invoice {docs[1]}, accepted" in said[0]
    no_codes(said[0], [rid for rid, _ in ids])
    # next to the buttons: after the grid's Save button in the page, not above the filters
    order = [getattr(e, "label", None) or getattr(e, "value", None)
             for e in at.main if hasattr(e, "value") or hasattr(e, "label")]
    flat = [str(x) for x in order]
    assert flat.index(said[0]) > flat.index("Save changes")


def test_the_record_view_names_supplier_document_period_and_value(db_file):
    seed_demo()
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/ims_invoices.py")
    at.run()
    box = next(s for s in at.selectbox if s.label == "Record")
    first = box.options[0]
    assert re.match(r"^Supplier \w+ · (invoice|credit note|debit note|bill of entry) \S+ · "
                    r"[A-Z][a-z]{2} \d{4} · ₹[\d,]+\.\d\d · \w", first), first


def test_check_upload_status_is_a_recorded_job_said_by_its_button(db_file):
    seed_demo(n_per_business=20, with_jobs=False)
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/ims_invoices.py")
    at.run()
    next(b for b in at.button if b.label == "Check upload status").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    runs = rows("SELECT gstin, ok, triggered_by FROM job_runs WHERE job = 'poll' ORDER BY gstin")
    assert runs == [(g, True, "local") for g in sorted(GSTINS)], runs
    said = [s.value for s in at.success if "Upload status checked" in s.value]
    assert len(said) == 1 and "nothing waiting for the portal's answer" in said[0], said
