"""A record's history in words, on a real store: the user's actions in order, who and when,
scoped to the GSTINs a user may see, and the audit workbook of a business's period; still
there after the record has left the portal."""
from __future__ import annotations

import io

import openpyxl
import pytest

from core.ims.actions import save_user_actions
from core.ims.history import history_workbook, period_history, record_history
from tests.fixtures import BUSINESSES, rows

A, B = BUSINESSES[0][0], BUSINESSES[1][0]


def an_invoice(gstin: str) -> tuple[int, str, str]:
    (found,) = rows("SELECT record_id, doc_no, rtnprd FROM ims_records WHERE rtin = ? AND "
                    "doc_type = 'INV' AND coalesce(portal_action, 'N') = 'N' "
                    "AND coalesce(ispendactblocked, 'N') = 'N' ORDER BY record_id LIMIT 1",
                    [gstin])
    return found


def test_a_records_actions_read_in_words_oldest_first(demo_store):
    record, _, _ = an_invoice(A)
    assert save_user_actions([A], {record: {"action": "A"}}, "asha@firm.in").saved == 1
    assert save_user_actions([A], {record: {"action": "R", "supplier_remark": "wrong rate"}},
                             "ravi@firm.in").saved == 1
    history = record_history([A], record)
    assert history.columns == ["When", "Who", "What", "Before", "After", "Details"]
    assert history.select("Who", "What", "Before", "After").rows() == [
        ("asha@firm.in", "Action saved by a person", "", "Accept"),
        ("ravi@firm.in", "Action saved by a person", "Accept", "Reject")]
    assert "remark to supplier: wrong rate" in history["Details"][1]
    assert all(when.endswith(("IST", "+0530")) or "IST" in when for when in history["When"])


def test_a_user_sees_only_the_history_of_gstins_granted(demo_store):
    record, _, _ = an_invoice(A)
    save_user_actions([A], {record: {"action": "A"}}, "asha@firm.in")
    assert record_history([B], record).is_empty()
    assert record_history([A, B], record).height == 1


def test_the_audit_workbook_of_a_period_outlives_the_portal(demo_store):
    record, doc_no, period = an_invoice(A)
    save_user_actions([A], {record: {"action": "P"}}, "asha@firm.in")
    rows("UPDATE ims_records SET removed_at = current_timestamp WHERE record_id = ?", [record])
    table = period_history(A, period)
    assert table.filter(table["Document"].str.ends_with(doc_no)).height == 1
    sheet = openpyxl.load_workbook(io.BytesIO(history_workbook(A, period))).active
    head = [c.value for c in sheet[1]]
    assert head == ["Supplier GSTIN", "Document", "When", "Who", "What", "Before", "After",
                    "Details"]
    found = [[c.value for c in line] for line in sheet.iter_rows(min_row=2)]
    assert any(r[1].endswith(doc_no) and r[6] == "Pending" for r in found)


def test_a_period_that_is_no_period_is_refused_in_words(demo_store):
    with pytest.raises(ValueError, match="not a return period"):
        period_history(A, "2025-10")
