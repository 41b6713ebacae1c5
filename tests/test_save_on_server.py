"""A save on PostgreSQL (team mode) is sent in few round trips (psycopg's pipeline mode,
core.store.sent_together) and stays all-or-nothing: a write the server refuses after the log
row was sent leaves neither, and the pooled connection serves the next save. A real server
(tests/pg.py)."""
from __future__ import annotations

import psycopg
import pytest

from core.ims import actions
from core.store import DatabaseBusy, database
from tests.fixtures import BUSINESSES, rows, seed_demo

GSTINS = [g for g, *_ in BUSINESSES]


@pytest.fixture
def team_store(pg_database, tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("IMS_DB_PATH", str(tmp_path / "unused.duckdb"))
    monkeypatch.setenv("IMS_DB_URL", pg_database)
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 1.0)   # a row lock waited for 1 s
    seed_demo(n_per_business=5, with_jobs=False)
    return pg_database


def test_a_save_refused_by_a_row_lock_writes_nothing_and_the_next_one_saves(team_store):
    rid, before = rows("SELECT record_id, user_action FROM ims_records WHERE doc_type = 'INV' "
                       "AND ispendactblocked = 'N' ORDER BY record_id LIMIT 1")[0]
    action = "R" if before != "R" else "A"
    with psycopg.connect(team_store, autocommit=True) as other:
        other.execute("BEGIN")
        other.execute("UPDATE ims_records SET internal_note = 'held' WHERE record_id = %s",
                      [rid])
        with pytest.raises(DatabaseBusy, match="busy"):
            actions.save_user_actions(GSTINS, {rid: {"action": action}}, "ana")
        other.execute("ROLLBACK")
    assert rows("SELECT user_action FROM ims_records WHERE record_id = ?", [rid]) == [(before,)]
    assert rows("SELECT count(*) FROM action_log WHERE actor = 'ana'") == [(0,)]
    saved = actions.save_user_actions(GSTINS, {rid: {"action": action,
                                                     "supplier_remark": "checked"}}, "ana")
    assert saved.saved == 1 and saved.lines[0].startswith("Saved: ")
    assert rows("SELECT user_action, user_supplier_remark FROM ims_records WHERE record_id = ?",
                [rid]) == [(action, "checked")]
    assert rows("SELECT kind, old_value, new_value FROM action_log WHERE actor = 'ana'") == [
        ("user_action", before, action)]
