"""Faults injected by the real sandbox during fetch and upload: HTTP 5xx, timeouts, expired
sessions and IMSSAV0015. Each gives retries and a clear state; the store never loses or
duplicates data (identity keys stay unique; counts equal the portal's; one request per batch)."""
from __future__ import annotations

import re

import pytest
import requests

from core.ims import actions, upload
from core.ims.fetch import fetch_ims
from core.portal.client import GstnClient
from core.portal.gsp import GstnError
from tests.fixtures import add_business, rows

RTIN = "27AAACW1234K1ZD"


def client(**kw) -> GstnClient:
    opts = {"timeout": 5, "attempts": 4, "backoff": 0.02, "backoff_cap": 0.2, "queue_first": 0.1,
            "queue_poll": 0.2, "busy_attempts": 2}
    return GstnClient(**{**opts, **kw})   # keep-alive connections, as in production


def assert_store_matches_portal(sb) -> None:
    """Exactly the portal's records, each once."""
    (held, distinct), = rows("SELECT count(*), count(DISTINCT (section, stin, doc_no_key, fy, occurrence)) "
                             "FROM ims_records WHERE removed_at IS NULL")
    assert held == distinct == sb.total(RTIN)


def store_snapshot() -> list:
    return rows("SELECT * EXCLUDE (last_seen) FROM ims_records ORDER BY record_id")


def last_job() -> tuple:
    return rows("SELECT ok, error, finished_at IS NOT NULL FROM job_runs ORDER BY run_id DESC LIMIT 1")[0]


# ---------------------------------------------------------------- fetch


@pytest.mark.parametrize("fault", [
    {"kind": "5xx", "times": 3, "path_contains": "GETINV"},
    {"kind": "5xx", "times": 2, "status": 502, "path_contains": "GETCNT"},
    {"kind": "slow", "delay": 3, "times": 2, "path_contains": "section=B2B"},   # > 1 s timeout
    {"kind": "expire_session", "times": 1, "path_contains": "section=CN"},
])
def test_fetch_survives_a_transient_fault(db_file, sandbox, fault):
    add_business(RTIN, "Demo")
    c = client(timeout=1.0)
    sandbox.control("fault", **fault)
    counts = fetch_ims(RTIN, c)
    assert counts["total"] == sandbox.total(RTIN)
    assert_store_matches_portal(sandbox)
    assert last_job() == (True, None, True)
    assert c.stats["retries"] + c.stats["logins"] >= 2      # it did retry / log in again


@pytest.mark.parametrize("fault, message", [
    ({"kind": "5xx", "times": 50, "path_contains": "section=DN"}, "after 2 attempts (last: HTTP 503)"),
    ({"kind": "slow", "delay": 2, "times": 50, "path_contains": "section=DN"}, "Timeout"),
    ({"kind": "expire_session", "times": 50, "path_contains": "section=DN"}, "Re-authenticate"),
])
def test_fetch_that_keeps_failing_changes_nothing_and_says_why(db_file, sandbox, fault, message):
    add_business(RTIN, "Demo")
    fetch_ims(RTIN, client())
    sandbox.control("advance_day", days=1)              # new and edited records waiting
    before = store_snapshot()
    sandbox.control("fault", **fault)
    with pytest.raises(GstnError, match=re.escape(message)):
        fetch_ims(RTIN, client(timeout=0.5, attempts=2))
    assert store_snapshot() == before
    ok, error, finished = last_job()
    assert ok is False and finished and message.lower() in error.lower()
    sandbox.control("clear_faults")
    fetch_ims(RTIN, client())                           # the next run completes the work
    assert_store_matches_portal(sandbox)


# ---------------------------------------------------------------- upload


def choose_actions(n: int = 6) -> dict[int, str]:
    """Give n plain invoices a user action different from the portal's."""
    ids = [r[0] for r in rows("SELECT record_id FROM ims_records WHERE section = 'b2b' "
                              "AND coalesce(portal_action, 'N') = 'N' AND ispendactblocked = 'N' "
                              "ORDER BY record_id LIMIT ?", [n])]
    wanted = {rid: "AR"[i % 2] for i, rid in enumerate(ids)}
    saved = actions.save_user_actions([RTIN], {rid: {"action": a} for rid, a in wanted.items()},
                                      "ana@example.com")
    assert saved.saved == n
    return wanted


def portal_actions(sandbox, record_ids) -> dict[int, str]:
    out = {}
    for rid, section, stin, doc_no, rtnprd in rows(
            "SELECT record_id, section, stin, doc_no, rtnprd FROM ims_records "
            "WHERE list_contains(?::BIGINT[], record_id)", [list(record_ids)]):
        rec = requests.get(f"{sandbox.url}/_control/record", timeout=10, params={
            "gstin": RTIN, "section": section, "stin": stin, "doc_no": doc_no, "rtnprd": rtnprd}).json()
        out[rid] = rec["record"]["action"]
    return out


def poll_until_done(c: GstnClient, rounds: int = 5) -> None:
    for _ in range(rounds):
        upload.poll_uploads(RTIN, c)
        if not rows("SELECT 1 FROM upload_requests WHERE status = 'IP'") and \
                not rows("SELECT 1 FROM ims_records WHERE upload_state = 'queued'"):
            return
    raise AssertionError("uploads did not finish")


def assert_uploaded_once(sandbox, wanted: dict[int, str]) -> None:
    assert portal_actions(sandbox, wanted) == wanted
    states = dict(rows("SELECT record_id, upload_state FROM ims_records WHERE upload_state IS NOT NULL"))
    assert states == {rid: "done" for rid in wanted}
    kept = dict(rows("SELECT record_id, user_action FROM ims_records WHERE user_action IS NOT NULL"))
    assert kept == wanted                                   # the user's actions are never lost
    sent = rows("SELECT record_id, count(*) FROM upload_items i JOIN upload_requests q USING (request_id) "
                "WHERE q.status <> 'FAILED' GROUP BY 1")
    assert sorted(sent) == sorted((rid, 1) for rid in wanted)   # each record sent exactly once
    ok_logs = rows("SELECT record_id, count(*) FROM action_log WHERE kind = 'upload' "
                   "AND note LIKE 'saved on the portal%' GROUP BY 1")
    assert sorted(ok_logs) == sorted((rid, 1) for rid in wanted)


@pytest.fixture
def fetched(db_file, sandbox):
    add_business(RTIN, "Demo")
    fetch_ims(RTIN, client())
    return sandbox


@pytest.mark.parametrize("fault", [
    {"kind": "save_in_progress", "times": 5},               # IMSSAV0015 beyond the client's patience
    {"kind": "5xx", "times": 2, "path_contains": "action=SAVE"},
    {"kind": "expire_session", "times": 1, "path_contains": "action=SAVE"},
    {"kind": "5xx", "times": 3, "path_contains": "REQSTS"},
    {"kind": "expire_session", "times": 1, "path_contains": "REQSTS"},
])
def test_upload_survives_a_fault_without_losing_or_duplicating(fetched, fault):
    sandbox = fetched
    wanted = choose_actions()
    c = client()
    sandbox.control("fault", **fault)
    first = upload.upload_actions(RTIN, None, "ana@example.com", c)
    assert first["queued"] == len(wanted)
    if fault["kind"] == "save_in_progress":                 # a clear waiting state, nothing lost
        assert first["sent"] == 0 and first["waiting"]
        assert {s for (s,) in rows("SELECT upload_state FROM ims_records WHERE user_action IS NOT NULL")} \
            == {"queued"}
    poll_until_done(c)
    assert_uploaded_once(sandbox, wanted)


def test_upload_refused_by_a_dead_portal_keeps_actions_and_says_why(fetched):
    sandbox = fetched
    wanted = choose_actions(4)
    sandbox.control("fault", kind="5xx", times=50, path_contains="action=SAVE")
    result = upload.upload_actions(RTIN, None, "ana@example.com", client(attempts=2))
    assert result["sent"] == 0 and "HTTP 503" in result["error"]
    errors = rows("SELECT record_id, user_action, upload_state, upload_error FROM ims_records "
                  "WHERE user_action IS NOT NULL ORDER BY record_id")
    assert [(r[0], r[1], r[2]) for r in errors] == [(rid, a, "error") for rid, a in sorted(wanted.items())]
    assert all("HTTP 503" in r[3] for r in errors)
    assert set(portal_actions(sandbox, wanted).values()) == {"N"}
    sandbox.control("clear_faults")
    c = client()
    upload.upload_actions(RTIN, None, "ana@example.com", c)   # the user tries again
    poll_until_done(c)
    assert_uploaded_once(sandbox, wanted)


def test_upload_answer_lost_to_a_timeout_is_not_sent_twice(fetched):
    """The portal takes the SAVE but its answer comes after our timeout: the retry meets
    IMSSAV0015 or a second reference; either way each record ends saved once on our side."""
    sandbox = fetched
    wanted = choose_actions(4)
    sandbox.control("fault", kind="slow", delay=2, times=1, path_contains="action=SAVE")
    c = client(timeout=1.0)
    upload.upload_actions(RTIN, None, "ana@example.com", c)
    poll_until_done(c, rounds=8)
    assert portal_actions(sandbox, wanted) == wanted
    assert dict(rows("SELECT record_id, user_action FROM ims_records WHERE user_action IS NOT NULL")) == wanted
    assert {s for (s,) in rows("SELECT upload_state FROM ims_records WHERE user_action IS NOT NULL")} == {"done"}


def test_fetch_while_an_upload_is_in_flight_keeps_it(fetched):
    sandbox = fetched
    wanted = choose_actions(4)
    c = client()
    assert upload.upload_actions(RTIN, None, "ana@example.com", c)["sent"] == 4
    fetch_ims(RTIN, c)                                        # the daily fetch lands meanwhile
    assert {s for (s,) in rows("SELECT upload_state FROM ims_records WHERE user_action IS NOT NULL")} == {"sent"}
    poll_until_done(c)
    fetch_ims(RTIN, c)
    assert_uploaded_once(sandbox, wanted)
    assert dict(rows("SELECT record_id, portal_action FROM ims_records WHERE user_action IS NOT NULL")) == wanted
    assert_store_matches_portal(sandbox)
