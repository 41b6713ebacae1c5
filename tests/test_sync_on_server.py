"""The sync's write on PostgreSQL (docs/store.md, "The sync's write on PostgreSQL"): a first
sync's updates stay on their pages (HOT: no new index entries), and the pieces of a sync that
do not depend on each other run side by side (`core.store.side_by_side`; one after another on
the DuckDB file)."""
from __future__ import annotations

import threading

import pytest

from bench.reco import COMPANY
from bench.sync import fill_store
from core.ims.sync import apply_sync
from core.store import connect, side_by_side

RECORDS = 2_000      # some 130 pages of ims_records: most rows would move at fillfactor 80


def _pages() -> dict[int, int]:
    with connect() as con:
        return dict(con.execute("SELECT record_id, (ctid::text::point)[0]::BIGINT "
                                "FROM ims_records").fetchall())


@pytest.mark.parametrize("store_engine", ["postgres"])
def test_a_first_sync_leaves_every_record_on_its_page(store_engine, db_file):
    fill_store(RECORDS, 1)
    before = _pages()
    counts = apply_sync(COMPANY, actor="test")
    assert counts["changed"] == RECORDS
    after = _pages()
    moved = sum(after[r] != page for r, page in before.items())
    assert len(after) == RECORDS and moved == 0, f"{moved} of {RECORDS} records moved"
    with connect() as con:
        written = con.execute("SELECT count(*) FROM ims_records WHERE recommended_action IS "
                              "NOT NULL AND reco_run_id = ?", [counts["reco_run_id"]]).fetchall()
    assert written == [(RECORDS,)]


@pytest.mark.usefixtures("store_engine")
def test_side_by_side_runs_at_once_on_the_server_and_in_order_on_the_file(db_file):
    on_server = db_file.startswith("postgresql://")
    both_in = threading.Barrier(2, timeout=10)
    steps: list[str] = []

    def call(name: str):
        def run():
            steps.append(f"{name} starts")
            with connect() as con:
                value = con.execute("SELECT ?", [name]).fetchall()[0][0]
            if on_server:
                both_in.wait()          # returns only when the other call is running too
            steps.append(f"{name} ends")
            return value
        return run

    assert side_by_side(call("a"), call("b")) == ["a", "b"]
    if on_server:
        assert sorted(steps[:2]) == ["a starts", "b starts"]
    else:
        assert steps == ["a starts", "a ends", "b starts", "b ends"]


@pytest.mark.usefixtures("store_engine")
def test_side_by_side_raises_an_error_after_the_calls_that_run(db_file):
    """On the server both run (the second one is not stopped half-way); on the file the one
    after the failing one does not start (as before: a sync's records are not written when
    its runs' rows could not be stored)."""
    ended = []

    def fails():
        raise ValueError("the first call failed")

    def finishes():
        with connect() as con:
            ended.append(con.execute("SELECT 1").fetchall())

    with pytest.raises(ValueError, match="the first call failed"):
        side_by_side(fails, finishes)
    assert ended == ([[(1,)]] if db_file.startswith("postgresql://") else [])
