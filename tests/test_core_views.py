"""core.ims.view, core.ims.actions, core.ims.dashboard, core.business.registry against a real store file."""
from __future__ import annotations

import os

import pytest

from core.business import registry as business
from core.ims import actions, dashboard
from core.ims import view as ims_view
from core.ims.view import ImsFilter
from tests.fixtures import BOTH_ENGINES, BUSINESSES, ROOT, rows, seed_demo

GSTINS = [g for g, _ in BUSINESSES]


def test_buckets_partition_by_portal_action(db_file):
    seed_demo()
    counts = ims_view.bucket_counts(GSTINS, ImsFilter())
    assert counts["no_action"] + counts["accepted"] + counts["rejected"] + counts["pending"] == counts["all"] == 120


@BOTH_ENGINES
def test_visibility_limits_every_query(db_file):
    seed_demo()
    mine = [GSTINS[0]]
    assert ims_view.bucket_counts(mine, ImsFilter())["all"] == 60
    assert ims_view.bucket_counts(mine, ImsFilter(businesses=(GSTINS[1],)))["all"] == 0
    other = rows("SELECT record_id FROM ims_records WHERE rtin = ? LIMIT 1", [GSTINS[1]])[0][0]
    assert ims_view.record_with_counterpart(mine, other) is None
    result = actions.save_user_actions(mine, {other: {"action": "A"}}, "t")
    assert result.saved == 0 and result.skipped == [(other, "not found or not visible to you")]


def test_search_text_is_a_parameter_not_sql(db_file):
    seed_demo()
    for text in ["' OR 1=1 --", "%", "_", "INV-27-00'); DROP TABLE ims_records; --"]:
        assert ims_view.bucket_counts(GSTINS, ImsFilter(doc_search=text, supplier=text))["all"] == 0
    assert rows("SELECT count(*) FROM ims_records")[0][0] == 120


def test_pages_are_disjoint_and_cover_the_bucket(db_file):
    seed_demo(n_per_business=45)
    total = ims_view.bucket_counts(GSTINS, ImsFilter())["no_action"]
    seen = []
    for page in range(1, ims_view.page_count(total, 10) + 1):
        seen += ims_view.records_page(GSTINS, ImsFilter(), "no_action", page, 10)["record_id"].to_list()
    assert len(seen) == len(set(seen)) == total


@BOTH_ENGINES
def test_portal_rules_refuse_pending_when_blocked_and_reject_on_import(db_file):
    seed_demo()
    blocked = rows("SELECT record_id FROM ims_records WHERE ispendactblocked = 'Y' AND doc_type <> 'BOE' LIMIT 1")[0][0]
    boe = rows("SELECT record_id FROM ims_records WHERE doc_type = 'BOE' LIMIT 1")[0][0]
    result = actions.save_user_actions(GSTINS, {blocked: {"action": "P"}, boe: {"action": "R"}}, "t")
    assert result.saved == 0
    assert dict(result.skipped) == {
        blocked: "the portal does not allow Pending for this document; accept or reject it",
        boe: "import of goods cannot be rejected"}
    assert rows("SELECT count(*) FROM action_log")[0][0] == 0


@BOTH_ENGINES
def test_bulk_apply_recommendation_never_touches_unsynced_records_and_logs_each(db_file):
    seed_demo()
    result = actions.bulk_action(GSTINS, ImsFilter(), "no_action", "apply_recommendation", "ana")
    assert rows("SELECT count(*) FROM ims_records WHERE user_action IS NOT NULL AND recommended_action IS NULL") == [(0,)]
    assert rows("SELECT count(*) FROM ims_records WHERE user_action IS NOT NULL") == [(result.saved,)]
    assert rows("SELECT count(*) FROM action_log WHERE actor = 'ana' AND kind = 'user_action'") == [(result.saved,)]
    again = actions.bulk_action(GSTINS, ImsFilter(), "no_action", "apply_recommendation", "ana")
    assert again.saved == 0  # nothing changed, nothing logged twice


def test_unknown_action_is_refused_with_the_record(db_file):
    seed_demo()
    with pytest.raises(actions.ActionError, match="Record 1: action 'X'"):
        actions.save_user_actions(GSTINS, {1: {"action": "X"}}, "t")


def test_business_settings_validate_and_persist(db_file):
    with pytest.raises(business.SettingsError, match="check character"):
        business.save_business("27AAPFU0939F1ZO", "X", "t")
    business.save_business("27AAPFU0939F1ZV", "Acme", "t")
    with pytest.raises(business.SettingsError, match="25:00"):
        business.save_ims_settings(["27AAPFU0939F1ZV"], "25:00", "ims_vs_pr", "t")
    with pytest.raises(business.SettingsError, match="Unknown business"):
        business.save_ims_settings(["29AAGCB7383J1Z4"], "07:00", "ims_vs_pr", "t")
    business.save_ims_settings([], "7:05", "2a_vs_pr", "t")
    assert rows("SELECT enabled, fetch_time, sync_source FROM businesses") == [(False, "07:05", "2a_vs_pr")]
    assert business.save_reco_settings(2.5, 7, "strict", "t") == business.RecoSettings(2.5, 7, "strict")


def hold_worker_lock():
    """A separate process that takes the worker's lock the way `python worker.py` does."""
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-c", ("import sys, worker; h = worker.acquire_lock(); "
                             "print('locked', flush=True); sys.stdin.read()")],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def release(proc) -> None:
    proc.stdin.close()
    proc.wait(timeout=10)


def test_worker_running_follows_the_workers_lock(db_file):
    import worker
    assert dashboard.worker_running() is False           # no lock file: never started here
    proc = hold_worker_lock()
    try:
        assert dashboard.worker_running() is True
        assert dashboard.worker_running() is True         # asking twice changes nothing
    finally:
        release(proc)
    assert dashboard.worker_running() is False            # file left behind, nobody holds it
    os.close(worker.acquire_lock())                       # the check let its shared lock go


def test_the_dashboards_refresh_is_30_s_unless_set_and_a_bad_value_is_named(monkeypatch):
    monkeypatch.delenv("IMS_DASHBOARD_REFRESH_S", raising=False)
    assert dashboard.job_health_refresh_seconds() == 30
    monkeypatch.setenv("IMS_DASHBOARD_REFRESH_S", "5")
    assert dashboard.job_health_refresh_seconds() == 5
    for bad in ("0", "2.5", "soon"):
        monkeypatch.setenv("IMS_DASHBOARD_REFRESH_S", bad)
        with pytest.raises(ValueError, match=f"IMS_DASHBOARD_REFRESH_S must be a whole number "
                                             f".*'{bad}'"):
            dashboard.job_health_refresh_seconds()
