"""IMS Invoices' records list and actions editor through Streamlit's AppTest on a real DuckDB
file (the clicks themselves: tests/test_ims_rowclick_browser.py): the list shows every amount in
Indian grouping, the Partial amounts too; the grids are as tall as their rows; a row added at
the editor's foot is left out with a warning while the edits beside it are saved."""
from __future__ import annotations

import polars as pl

from app.ims_grid import BROWSE_CONFIG, MAX_ROWS_SHOWN, ROW_PX, browse_frame, grid_height
from core.ims import view as ims_view
from tests.fixtures import BUSINESSES, rows, seed_demo
from tests.test_ims_grid_answer import open_grid

GSTINS = [g for g, _ in BUSINESSES]


def test_the_list_shows_every_amount_in_indian_grouping(db_file):
    seed_demo(n_per_business=10, with_jobs=False)
    page = ims_view.records_page(GSTINS, ims_view.ImsFilter(), None, 1, 5)
    page = page.with_columns(pl.lit(1234567.5).alias("reduce_cgst"),
                             pl.lit(123456.0).alias("txval"))
    shown = browse_frame(page, list(BROWSE_CONFIG))
    assert list(shown["reduce_cgst"]) == ["12,34,567.50"] * 5
    assert list(shown["txval"]) == ["1,23,456.00"] * 5
    assert set(shown["reduce_igst"]) == {""}          # not Partial: empty, not None


def test_grids_are_as_tall_as_their_rows_up_to_a_limit():
    assert grid_height(2) == ROW_PX * 3 + 3                      # heading + 2 rows
    assert grid_height(2, extra_rows=1) == ROW_PX * 4 + 3        # + the editor's empty row
    assert grid_height(50) == grid_height(MAX_ROWS_SHOWN) < grid_height(2) * 5


def test_the_list_comes_first_and_the_editor_keeps_its_rows(db_file):
    seed_demo(n_per_business=20, with_jobs=False)
    at = open_grid()
    listed = at.dataframe[0].value
    assert list(listed["doc_no"]) == list(at.data_editor[0].value["doc_no"])
    assert "reasons" in listed.columns and "select" not in listed.columns
    assert any("Record and its books counterpart" in m.value for m in at.markdown)


def test_a_row_added_in_the_editor_is_left_out_and_said_so(db_file):
    seed_demo(n_per_business=20, with_jobs=False)
    at = open_grid()
    grid = at.data_editor[0]
    first = grid.value["doc_no"].iloc[0]
    before = rows("SELECT count(*) FROM ims_records")[0][0]
    at.session_state[grid.key] = {"edited_rows": {0: {"user_action": "Accept"}},
                                  "added_rows": [{"doc_no": "MADE-UP-1"}], "deleted_rows": []}
    next(b for b in at.button if b.label == "Save changes").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("1 row(s) added at the foot of the editor were left out" in w.value
               for w in at.warning)
    assert rows("SELECT count(*) FROM ims_records")[0][0] == before
    assert rows("SELECT user_action FROM ims_records WHERE doc_no = ?", [first]) == [("A",)]
