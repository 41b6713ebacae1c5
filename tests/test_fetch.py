"""The GSTN client and ingestion, against the real sandbox over HTTP and a real DuckDB file."""
from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from core import portal
from core.db import connect, transaction
from core.fetch import (CountMismatch, GstnClient, GstnError, ReauthenticationNeeded, UnknownBusiness,
                        check_counts, fetch_businesses, fetch_gstr2a, fetch_ims, incoming_frame,
                        recent_periods, store_ims, utc_now)
from tests.conftest import SAMPLES

RTIN = "27AAACW1234K1ZD"
OTHER = "29AAACW1234K1Z9"


def add_business(gstin: str = RTIN, enabled: bool = True) -> None:
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code, enabled) VALUES (?, ?, ?, ?)",
                    [gstin, f"Demo {gstin[:2]}", gstin[:2], enabled])


def snapshot(tables=("ims_records", "gstr2a_docs", "action_log")) -> dict:
    with connect() as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def rows(sql: str, params=None) -> list[tuple]:
    with connect() as con:
        return con.execute(sql, params or []).fetchall()


def sample_payload() -> dict:
    return json.loads((SAMPLES / "ims_getinv_sample.json").read_text())


def store_payload(payload: dict) -> dict:
    frame = incoming_frame(RTIN, portal.flatten_ims(payload))
    with connect() as con, transaction(con):
        return store_ims(con, RTIN, frame, utc_now(), "test")


# ---------------------------------------------------------------- the write, without HTTP


def test_store_keeps_paise_exact_and_counts_duplicates_as_occurrences(db_file):
    counts = store_payload(sample_payload())
    assert counts["new"] == 10 and counts["total"] == 10
    got = rows("SELECT doc_no, occurrence, txval, cgst FROM ims_records WHERE doc_no_key IN ('GJ/555', 'SI/2025-26/0103') ORDER BY 1, 2")
    assert got == [("GJ/555", 0, Decimal("30000.00"), Decimal("0.00")),
                   ("GJ/555", 1, Decimal("30000.00"), Decimal("0.00")),
                   ("SI/2025-26/0103", 0, Decimal("12000.50"), Decimal("1080.05"))]
    assert rows("SELECT DISTINCT fy FROM ims_records") == [("2025-26",)]


def test_store_again_changes_nothing_but_last_seen(db_file):
    store_payload(sample_payload())
    before = rows("SELECT record_id, first_seen, txval, changed_at, removed_at FROM ims_records ORDER BY 1")
    counts = store_payload(sample_payload())
    assert (counts["new"], counts["changed"], counts["removed"], counts["unchanged"]) == (0, 0, 0, 10)
    assert rows("SELECT record_id, first_seen, txval, changed_at, removed_at FROM ims_records ORDER BY 1") == before


def test_supplier_edit_resets_only_pending_actions_and_logs(db_file):
    store_payload(sample_payload())
    with connect() as con:
        con.execute("UPDATE ims_records SET user_action = 'A', user_action_by = 'asha' WHERE doc_no = 'KA-7781'")
        con.execute("UPDATE ims_records SET user_action = 'R', upload_state = 'done' WHERE doc_no = 'KA-7790'")
    edited = sample_payload()
    edited["b2b"][3]["txval"] = 51000
    edited["b2b"][4]["iamt"] = 1500
    counts = store_payload(edited)
    assert counts["changed"] == 2 and counts["actions_reset"] == 1
    got = dict(rows("SELECT doc_no, user_action FROM ims_records WHERE doc_no IN ('KA-7781', 'KA-7790')"))
    assert got == {"KA-7781": None, "KA-7790": "R"}
    log = rows("SELECT r.doc_no, l.kind, l.old_value, l.note FROM action_log l JOIN ims_records r USING (record_id) ORDER BY 1")
    assert log[0][:3] == ("KA-7781", "supplier_edit", "A")
    assert log[0][3].startswith("edited by supplier") and "txval 50000.00 -> 51000.00" in log[0][3]
    assert log[1][:3] == ("KA-7790", "supplier_edit", None)
    assert rows("SELECT count(*) FROM ims_records WHERE changed_at IS NOT NULL") == [(2,)]


def test_records_gone_get_removed_at_and_come_back(db_file):
    store_payload(sample_payload())
    fewer = sample_payload()
    del fewer["b2b"][0]
    assert store_payload(fewer)["removed"] == 1
    assert rows("SELECT doc_no FROM ims_records WHERE removed_at IS NOT NULL") == [("SI/2025-26/0101",)]
    assert rows("SELECT kind, note FROM action_log") == [("removed", "no longer on the portal")]
    back = store_payload(sample_payload())
    assert back["returned"] == 1 and back["new"] == 0
    assert rows("SELECT count(*) FROM ims_records WHERE removed_at IS NOT NULL") == [(0,)]
    assert rows("SELECT count(*) FROM ims_records") == [(10,)]


def test_portal_action_never_touches_user_action(db_file):
    store_payload(sample_payload())
    with connect() as con:
        con.execute("UPDATE ims_records SET user_action = 'P' WHERE doc_no = 'GJ/560'")
    acted = sample_payload()
    acted["b2b"][7]["action"] = "A"
    counts = store_payload(acted)
    assert counts["changed"] == 0
    assert rows("SELECT portal_action, user_action FROM ims_records WHERE doc_no = 'GJ/560'") == [("A", "P")]


def test_check_counts_names_the_section_that_disagrees():
    records = portal.flatten_ims(sample_payload())
    check_counts({"all_oth": {"ttl_cnt": 10, "b2b": {"noaction": 9}, "b2bcn": {"noaction": 1}}}, "all_oth", records)
    with pytest.raises(CountMismatch, match=r"total: counted 11, read 10; b2b: counted 10, read 9"):
        check_counts({"all_oth": {"ttl_cnt": 11, "b2b": {"noaction": 8, "accept": 2}}}, "all_oth", records)
    with pytest.raises(CountMismatch, match="b2bcn: counted 2, read 1"):
        check_counts({"all_oth": {"cn": {"noaction": 2}}}, "all_oth", records)


def test_recent_periods_cross_the_year():
    import datetime as dt
    assert recent_periods(dt.date(2026, 2, 10)) == ["022026", "012026", "122025"]


def test_unconfigured_gstin_is_named(db_file):
    add_business(RTIN)
    with pytest.raises(UnknownBusiness, match=f"GSTIN {OTHER} is not configured"):
        fetch_businesses([RTIN, OTHER])
    assert rows("SELECT count(*) FROM job_runs") == [(0,)]
