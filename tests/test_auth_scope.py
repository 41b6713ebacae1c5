"""Per-GSTIN access: a user granted one GSTIN sees only it, through the very core query,
action and download functions the pages call with `user_gstins(user)`."""
from __future__ import annotations

import io

import polars as pl
import pytest

from core import auth
from core.business.registry import list_businesses
from core.export import to_csv_bytes, to_excel_bytes
from core.ims import actions, dashboard
from core.ims import view as ims_view
from core.ims.view import ImsFilter
from core.reco import view as reco_view
from core.store.database import connect
from tests.fixtures import BUSINESSES, seed_demo

PW = "correct horse battery"
G1, G2 = BUSINESSES[0][0], BUSINESSES[1][0]


@pytest.fixture
def people(db_file):
    seed_demo(n_per_business=30)
    admin = auth.create_user("boss@example.com", PW, "admin")
    ana = auth.create_user("ana@example.com", PW, "analyst", [G1])
    aud = auth.create_user("audrey@example.com", PW, "auditor", [G2])
    return {"admin": admin, "analyst": ana, "auditor": aud}


def record_ids(gstin: str) -> list[int]:
    with connect() as con:
        return [r[0] for r in con.execute("SELECT record_id FROM ims_records WHERE rtin = ? "
                                          "ORDER BY record_id", [gstin]).fetchall()]


def test_grid_counts_options_and_detail_show_only_granted_gstins(people):
    scope = auth.user_gstins(people["analyst"])
    assert scope == [G1]
    page = ims_view.records_page(scope, ImsFilter(), None, 1, page_size=500)
    assert page.height == 30 and set(page["rtin"]) == {G1}
    assert ims_view.bucket_counts(scope, ImsFilter())["all"] == 30
    # a filter may narrow the scope, never widen it
    assert ims_view.records_page(scope, ImsFilter(businesses=(G2,)), None, 1).height == 0
    assert ims_view.record_with_counterpart(scope, record_ids(G2)[0]) is None
    assert ims_view.record_with_counterpart(scope, record_ids(G1)[0]) is not None
    assert set(list_businesses(scope)["gstin"]) == {G1}


def test_dashboard_and_reconciliation_views_are_scoped(people):
    scope = auth.user_gstins(people["auditor"])
    assert scope == [G2]
    for frame in (dashboard.action_counts(scope), dashboard.itc_by_status(scope)):
        assert frame.height > 0
        assert G1 not in frame.write_csv()
    runs = reco_view.list_runs(scope)
    assert set(runs["rtin"]) == {G2}
    other_run = reco_view.list_runs(auth.user_gstins(people["admin"])).filter(pl.col("rtin") == G1)
    assert reco_view.results_export(other_run["run_id"][0], scope).height == 0
    assert reco_view.status_summary(other_run["run_id"][0], scope).height == 0


def test_downloads_hold_only_granted_gstins(people):
    scope = auth.user_gstins(people["analyst"])
    csv = to_csv_bytes(ims_view.export_frame(scope, ImsFilter(), None)).decode("utf-8-sig")
    assert G1 in csv and G2 not in csv
    assert len(csv.strip().splitlines()) == 31
    run = reco_view.list_runs(scope)["run_id"][0]
    xlsx = pl.read_excel(io.BytesIO(to_excel_bytes(reco_view.results_export(run, scope))))
    assert set(xlsx["company_gstin"]) == {G1}
    everything = to_csv_bytes(ims_view.export_frame(auth.user_gstins(people["admin"]), ImsFilter(), None))
    assert G2.encode() in everything


def test_actions_on_ungranted_gstin_are_refused(people):
    ana = people["analyst"]
    scope = auth.user_gstins(ana)
    mine, theirs = record_ids(G1)[0], record_ids(G2)[0]
    result = actions.save_user_actions(scope, {mine: {"action": "A"}, theirs: {"action": "R"}}, ana.email)
    assert result.saved == 1
    assert (theirs, "not found or not visible to you") in result.skipped
    bulk = actions.bulk_action(scope, ImsFilter(businesses=(G2,)), None, "A", ana.email)
    assert bulk.saved == 0
    with connect() as con:
        assert con.execute("SELECT count(*) FROM ims_records WHERE rtin = ? AND user_action IS NOT NULL",
                           [G2]).fetchone()[0] == 0


def test_auditor_may_download_but_not_act(people):
    aud = people["auditor"]
    auth.require(aud, "download")
    for permission in ("act", "upload", "import", "reconcile", "settings", "users"):
        with pytest.raises(auth.PermissionDenied):
            auth.require(aud, permission)


def test_revoking_a_grant_takes_effect_at_once(people):
    ana = people["analyst"]
    auth.grant_gstins(ana.email, [], people["admin"])
    scope = auth.user_gstins(ana)
    assert scope == []
    assert ims_view.bucket_counts(scope, ImsFilter())["all"] == 0
    assert ims_view.export_frame(scope, ImsFilter(), None).height == 0
