"""A 2B just fetched, stored, counted and reconciled from the frame as read
(core/month_close/fresh_2b.py): the same rows and count as storing it, reading it back and
reconciling the stored 2B; a store that fails raises its own error, leaves the stored 2B as it
was and gives no rows."""
from __future__ import annotations

import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.gstr2b import late_actions, store_2b, stored_2b, stored_2b_documents
from core.ims import books_frame, read_settings
from core.month_close import store_and_reconcile_2b
from core.portal import read_2b_frame
from core.purchase import import_purchase_file
from core.reco import portal_frame_2b, reconcile_2b
from core.store import connect
from tests.fixtures import COMPANY, SAMPLES

PERIOD = "102025"


@pytest.fixture
def sample(store):
    payload = json.loads((SAMPLES / "gstr2b_sample.json").read_text())
    assert import_purchase_file(SAMPLES / "purchase_register_sample.csv", actor="test").ok
    return read_2b_frame(payload)


def reconciled_as_stored() -> pl.DataFrame:
    """The old way: the stored 2B read back, then reconciled."""
    with connect(read_only=True) as con:
        settings, books = read_settings(con), books_frame(con, COMPANY)
    portal = portal_frame_2b(stored_2b_documents(COMPANY, PERIOD), COMPANY, PERIOD)
    return reconcile_2b(portal, books, **settings)


@pytest.mark.parametrize("order", ["as read", "another order"])
def test_the_same_rows_as_reconciling_the_stored_2b(sample, order):
    head, frame = sample
    if order == "another order":   # e.g. a 2B whose sections are not in the store's order
        frame = frame.reverse()
    fresh = store_and_reconcile_2b(COMPANY, PERIOD, head, frame)
    assert fresh.stored == frame.height == stored_2b(COMPANY, PERIOD)["documents"]
    assert fresh.late == late_actions([COMPANY])[(COMPANY, PERIOD)]
    assert fresh.results.height > frame.height // 2
    assert {"exact", "missing_in_pr", "rejected_in_ims"} <= set(fresh.results["match_status"])
    assert_frame_equal(fresh.results, reconciled_as_stored())


def test_a_store_that_fails_keeps_the_old_2b_and_gives_no_rows(sample):
    head, frame = sample
    store_2b(COMPANY, PERIOD, head, frame)
    before = stored_2b_documents(COMPANY, PERIOD)
    huge = frame.with_columns(pl.when(pl.int_range(pl.len()) == frame.height - 1)
                              .then(pl.lit(10 ** 18)).otherwise(pl.col("txval")).alias("txval"))
    with pytest.raises(Exception, match="(?i)decimal|out of range|overflow"):
        store_and_reconcile_2b(COMPANY, PERIOD, {**head, "version": 99}, huge)
    assert stored_2b(COMPANY, PERIOD)["version"] == str(head["version"])
    assert_frame_equal(stored_2b_documents(COMPANY, PERIOD), before)
