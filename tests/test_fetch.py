"""The GSTN client and ingestion, against the real sandbox over HTTP and a real DuckDB file."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from polars.testing import assert_frame_equal

from core.business.registry import UnknownBusiness
from core.clock import utc_now
from core.ims.fetch import (
    CountMismatch,
    check_counts,
    fetch_businesses,
    fetch_gstr2a,
    fetch_ims,
    read_gstr2a_section,
    read_section,
    recent_periods,
)
from core.ims.store import incoming_frame, store_ims
from core.portal import payload as portal
from core.portal.client import GstnClient
from core.portal.gsp import GspConfig, GstnError, ReauthenticationNeeded
from core.store.database import connect, transaction
from tests.fixtures import BOTH_ENGINES, SAMPLES, add_business, rows

RTIN = "27AAACW1234K1ZD"
OTHER = "29AAACW1234K1Z9"


def snapshot(tables=("ims_records", "gstr2a_docs", "action_log")) -> dict:
    with connect() as con:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in tables}


def sample_payload() -> dict:
    return json.loads((SAMPLES / "ims_getinv_sample.json").read_text())


def store_payload(payload: dict) -> dict:
    frame = incoming_frame(RTIN, portal.flatten_ims(payload))
    with connect() as con, transaction(con):
        return store_ims(con, RTIN, frame, utc_now(), "test")


# ---------------------------------------------------------------- the write, without HTTP


@BOTH_ENGINES
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


@BOTH_ENGINES
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


@BOTH_ENGINES
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
    with pytest.raises(UnknownBusiness, match=f"unknown business GSTIN {OTHER}"):
        fetch_businesses([RTIN, OTHER])
    assert rows("SELECT count(*) FROM job_runs") == [(0,)]


# ---------------------------------------------------------------- against the sandbox


def client(**kw) -> GstnClient:
    """A client with short waits so that retry tests stay fast."""
    opts = {"timeout": 5, "attempts": 4, "backoff": 0.02, "backoff_cap": 0.2, "queue_first": 0.1, "queue_poll": 0.2}
    return GstnClient(**{**opts, **kw})


def held_counts() -> dict:
    return dict(rows("SELECT section, count(*) FROM ims_records WHERE removed_at IS NULL GROUP BY 1"))


def last_job() -> tuple:
    return rows("SELECT job, ok, error, counts, finished_at IS NOT NULL FROM job_runs ORDER BY run_id DESC LIMIT 1")[0]


def test_fetch_stores_exactly_what_getcnt_counts(db_file, sandbox):
    add_business(RTIN)
    c = client()
    counts = fetch_ims(RTIN, c)
    getcnt = c.get_counts(RTIN)["all_oth"]
    imports = c.get_counts(RTIN, "IMP_GDS")["imp_gds"]
    impg = imports["ttl_cnt"]
    assert counts["new"] == counts["total"] == getcnt["ttl_cnt"] + impg == sandbox.total(RTIN)
    held = held_counts()
    for section, by_action in getcnt.items():
        if section != "ttl_cnt":
            assert held.get(section, 0) == sum(by_action.values()), section
    # import of goods: all four sections, each as GETCNT IMP_GDS counts it
    assert {s for s in imports if s != "ttl_cnt"} == {"impg", "impga", "impgsez", "impgseza"}
    for section in ("impg", "impga", "impgsez", "impgseza"):
        assert held.get(section, 0) == sum(imports[section].values()) > 0, section
    job, ok, error, job_counts, finished = last_job()
    assert (job, ok, error, finished) == ("fetch_ims", True, None, True)
    assert json.loads(job_counts)["new"] == counts["total"]
    assert rows("SELECT count(*) FROM ims_records WHERE (stin_valid IS NULL AND section NOT IN ('impg', 'impga')) OR first_seen IS NULL") == [(0,)]


@BOTH_ENGINES
def test_second_fetch_adds_nothing(db_file, sandbox):
    add_business(RTIN)
    first = fetch_ims(RTIN, client())
    before = snapshot(("action_log",))
    ids = rows("SELECT record_id, first_seen, hash FROM ims_records ORDER BY 1")
    second = fetch_ims(RTIN, client())
    assert (second["new"], second["changed"], second["removed"], second["returned"]) == (0, 0, 0, 0)
    assert second["unchanged"] == second["total"] == first["total"]
    assert rows("SELECT record_id, first_seen, hash FROM ims_records ORDER BY 1") == ids
    assert snapshot(("action_log",)) == before


def test_supplier_edit_resets_pending_user_action_with_log(db_file, sandbox):
    add_business(RTIN)
    fetch_ims(RTIN, client())
    record_id, stin, doc_no, rtnprd = rows(
        "SELECT record_id, stin, doc_no, rtnprd FROM ims_records WHERE section = 'b2b' ORDER BY record_id LIMIT 1")[0]
    with connect() as con:
        con.execute("UPDATE ims_records SET user_action = 'R', user_action_by = 'asha@x.in', upload_state = 'held' "
                    "WHERE record_id = ?", [record_id])
    edited = sandbox.control("edit_record", gstin=RTIN, section="B2B", stin=stin, doc_no=doc_no, rtnprd=rtnprd)
    counts = fetch_ims(RTIN, client())
    assert counts["changed"] == 1 and counts["actions_reset"] == 1 and counts["new"] == 0
    got = rows("SELECT user_action, user_action_by, upload_state, hash, changed_at IS NOT NULL FROM ims_records "
               "WHERE record_id = ?", [record_id])
    assert got == [(None, None, None, edited["record"]["hash"], True)]
    (log,) = rows("SELECT actor, kind, old_value, new_value, note FROM action_log WHERE record_id = ?", [record_id])
    assert log[:4] == ("worker", "supplier_edit", "R", None)
    assert log[4].startswith("edited by supplier") and "txval" in log[4]


def test_5xx_429_and_slow_answers_are_retried(db_file, sandbox):
    add_business(RTIN)
    sandbox.control("fault", kind="5xx", times=2, path_contains="GETCNT")
    sandbox.control("fault", kind="429", times=1, path_contains="section=CN")
    sandbox.control("fault", kind="slow", delay=2, times=1, path_contains="section=DN")
    c = client(timeout=0.7)
    counts = fetch_ims(RTIN, c)
    assert counts["total"] == sandbox.total(RTIN)
    assert c.stats["retries"] >= 4
    assert last_job()[1] is True


def test_session_expiry_is_renewed_once_then_needs_reauthentication(db_file, sandbox):
    add_business(RTIN)
    c = client()
    sandbox.control("expire_tokens")
    sandbox.control("fault", kind="expire_session", times=1, path_contains="GETCNT")
    assert fetch_ims(RTIN, c)["total"] == sandbox.total(RTIN)      # a fresh login is enough
    before = snapshot()
    sandbox.control("fault", kind="expire_session", times=2, path_contains="GETCNT")
    with pytest.raises(ReauthenticationNeeded, match="Re-authenticate with the GSP"):
        fetch_ims(RTIN, c)
    assert snapshot() == before
    job, ok, error, counts, finished = last_job()
    assert (job, ok, counts, finished) == ("fetch_ims", False, None, True)
    assert error.startswith("Re-authenticate with the GSP") and "AUTH4038" in error


def test_wrong_otp_needs_reauthentication(db_file, sandbox):
    add_business(RTIN)
    c = client(config=GspConfig(url=sandbox.url, username="demo", otp="000000"))
    with pytest.raises(ReauthenticationNeeded, match="refused the login"):
        fetch_ims(RTIN, c)
    assert "000000" not in last_job()[2]


@BOTH_ENGINES
def test_fetch_failing_halfway_leaves_the_store_as_it_was(db_file, sandbox):
    add_business(RTIN)
    fetch_ims(RTIN, client())
    with connect() as con:
        con.execute("UPDATE ims_records SET user_action = 'A' WHERE section = 'b2b'")
    sandbox.control("advance_day", days=1)                      # new and edited records waiting
    before = snapshot()
    sandbox.control("fault", kind="5xx", times=4, path_contains="section=DNA")
    with pytest.raises(GstnError, match="after 4 attempts"):
        fetch_ims(RTIN, client())
    assert snapshot() == before
    _job, ok, error, _counts, finished = last_job()
    assert ok is False and "HTTP 503" in error and finished
    after = fetch_ims(RTIN, client())                           # and the next fetch does it all
    assert after["new"] > 0 and after["changed"] > 0


def test_queued_answers_are_waited_for(db_file, sandbox):
    add_business(RTIN)
    sandbox.control("config", queue_delay=0.3)
    sandbox.control("fault", kind="queue", times=2, path_contains="GETINV")
    c = client()
    counts = fetch_ims(RTIN, c)
    assert counts["total"] == sandbox.total(RTIN)
    assert c.stats["queued_waits"] >= 2


def test_large_sections_come_through_filedet(db_file, sandbox):
    add_business(RTIN)
    sandbox.control("config", queue_threshold=50, queue_delay=0.2)
    c = client()
    assert fetch_ims(RTIN, c)["total"] == sandbox.total(RTIN)
    assert c.stats["queued_waits"] >= 1


def test_a_file_based_answer_is_read_file_by_file(db_file, sandbox):
    """FILEDET answering `urls`: each file is downloaded only when the one before has been
    read (never all held at once), and reading them in turn gives what one answer would."""
    add_business(RTIN)
    sandbox.control("config", queue_threshold=50, queue_delay=0.1, file_records=40)
    c = client()
    files = []
    c.session.hooks["response"].append(
        lambda resp, *args, **kwargs: files.append(resp.url) if "/ims-files/" in resp.url else None)
    parts = c.ims_section_parts(RTIN, "B2B")
    first = next(parts)
    assert len(first["b2b"]) == 40 and len(files) == 1    # the second file is not fetched yet
    rest = list(parts)
    assert len(rest) >= 2 and len(files) == 1 + len(rest)
    whole = portal.ims_frame(c.get_ims_section(RTIN, "B2B"))   # the files merged: one answer
    assert whole.height == 40 + sum(len(p["b2b"]) for p in rest)
    assert_frame_equal(read_section(c, RTIN, "B2B"), whole)
    assert whole["line"].to_list() == list(range(1, whole.height + 1))
    assert fetch_ims(RTIN, c)["total"] == sandbox.total(RTIN)


def test_a_large_gstr2a_section_comes_as_files_and_reads_as_one_answer(db_file, sandbox):
    """GSTR-2A above the queue threshold: a token, then FILEDET's urls of files of at most
    3 documents, each downloaded only when the one before has been read; read in turn they
    give the frame of the one answer, and the fetch stores the same documents."""
    add_business(RTIN)
    c = client()
    period = "092025"
    whole = read_gstr2a_section(c, RTIN, period, "B2B")
    one_answer = fetch_gstr2a(RTIN, [period], c)["total"]
    sandbox.control("config", queue_threshold=5, queue_delay=0.05, file_records=3)
    files = []
    c.session.hooks["response"].append(
        lambda resp, *args, **kwargs: files.append(resp.url) if "/ims-files/" in resp.url else None)
    parts = c.gstr2a_answers(RTIN, period, "B2B")
    first = next(parts)
    assert sum(len(g["inv"]) for g in first["b2b"]) == 3 and len(files) == 1
    rest = list(parts)
    assert len(rest) >= 2 and len(files) == 1 + len(rest)
    assert c.stats["queued_waits"] >= 1
    by_files = read_gstr2a_section(c, RTIN, period, "B2B")
    assert whole.height > 6 and whole["line"].to_list() == list(range(1, whole.height + 1))
    assert_frame_equal(by_files, whole)
    assert fetch_gstr2a(RTIN, [period], c)["total"] == one_answer
    assert rows("SELECT count(*) FROM gstr2a_docs") == [(one_answer,)]


def test_a_later_gstr2a_files_records_are_numbered_on():
    doc = {"b2b": [{"ctin": "27AABCS5678L1ZQ", "inv": [
        {"inum": "A-1", "idt": "01-10-2025", "val": 1, "itms": []},
        {"inum": "A-2", "idt": "1-10-2025", "val": 1, "itms": []}]}]}
    with pytest.raises(portal.PayloadError, match=r"^b2b record 5: field 'idt'"):
        portal.gstr2a_frame(doc, first=4, first_group=2)
    doc["b2b"][0]["inv"][1]["idt"] = "02-10-2025"
    assert portal.gstr2a_frame(doc, first=4)["line"].to_list() == [4, 5]
    doc["b2b"].append(7)
    with pytest.raises(portal.PayloadError, match=r"^b2b supplier group 3: expected an object"):
        portal.gstr2a_frame(doc, first=4, first_group=2)


def test_records_no_longer_on_the_portal_get_removed_at(db_file, sandbox):
    add_business(RTIN)
    sandbox.control("advance_day", days=1, new_per_day=5, edits_per_day=0)
    first = fetch_ims(RTIN, client())
    sandbox.control("reset")                                    # the five new records are gone
    second = fetch_ims(RTIN, client())
    assert second["removed"] == 5 and second["total"] == first["total"] - 5
    assert rows("SELECT count(*) FROM ims_records WHERE removed_at IS NOT NULL") == [(5,)]
    assert rows("SELECT count(*) FROM action_log WHERE kind = 'removed'") == [(5,)]
    assert held_counts() and sum(held_counts().values()) == sandbox.total(RTIN)


@BOTH_ENGINES
def test_gstr2a_is_replaced_per_period(db_file, sandbox):
    add_business(RTIN)
    c = client()
    periods = ["092025", "102025"]
    counts = fetch_gstr2a(RTIN, periods, c)
    assert counts["total"] > 0 and set(counts["periods"]) == set(periods)
    expected = sum(len(portal.flatten_gstr2a(c.get_gstr2a(RTIN, p, a)))
                   for p in periods for a in ("B2B", "B2BA", "CDN", "CDNA"))
    assert counts["total"] == expected
    again = fetch_gstr2a(RTIN, periods, c)
    assert again["total"] == counts["total"]
    assert rows("SELECT count(*) FROM gstr2a_docs") == [(expected,)]
    assert rows("SELECT count(*) FROM gstr2a_docs WHERE doc_type NOT IN ('INV', 'CRN', 'DBN')") == [(0,)]
    assert rows("SELECT count(*) FROM gstr2a_docs WHERE rcm = 'Y'")[0][0] > 0
    assert last_job()[:2] == ("fetch_2a", True)


def test_fetch_businesses_does_every_enabled_business(db_file, sandbox):
    add_business(RTIN)
    add_business(OTHER, enabled=False)
    results = fetch_businesses(client=client())
    assert list(results) == [RTIN]
    assert results[RTIN]["ok"] and results[RTIN]["ims"]["total"] == sandbox.total(RTIN)
    assert results[RTIN]["gstr2a"]["total"] > 0
    periods = {p for (p,) in rows("SELECT DISTINCT rtnprd FROM ims_records")}
    assert set(results[RTIN]["gstr2a"]["periods"]) == periods
    named = fetch_businesses([OTHER], client=client())         # asked for by name: fetched
    assert named[OTHER]["ok"] and named[OTHER]["ims"]["total"] == sandbox.total(OTHER)


def test_fetch_businesses_reports_a_failure_and_goes_on(db_file, sandbox):
    add_business(RTIN)
    add_business(OTHER)
    sandbox.control("fault", kind="5xx", times=4, path_contains=f"gstin={RTIN}")
    results = fetch_businesses(client=client())
    assert results[RTIN]["ok"] is False and "HTTP 503" in results[RTIN]["error"]
    assert results[OTHER]["ok"] is True
