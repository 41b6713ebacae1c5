"""Reconciliation shows the run chosen (issue 24, item 2): the kind, business and periods
picked are the run shown, and its title says so; a newer run of another kind is not shown in
its place. Through Streamlit's AppTest against a real DuckDB file."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.ims.sync import run_reconciliation
from core.reco.view import default_periods
from tests.fixtures import BUSINESSES, ROOT, rows, seed_demo


def open_reconciliation() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/reconciliation.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_run_shown_is_the_kind_business_and_periods_chosen(db_file):
    seed_demo()                                   # IMS vs PR runs over all periods
    gstin = BUSINESSES[1][0]
    other = run_reconciliation(gstin, "2a_vs_pr", None, "test")     # newer, another kind
    ims = rows("SELECT max(run_id) FROM reco_runs WHERE rtin = ? AND kind = 'ims_vs_pr'",
               [gstin])[0][0]
    at = open_reconciliation()
    at.selectbox(key="reco_business").set_value(gstin)
    at.run()
    run = next(s for s in at.selectbox if s.label == "Run")
    assert run.value == ims and other not in run.options
    assert all("IMS vs Purchase Register · all periods" in o for o in run.options)
    title = at.subheader[0].value
    assert title.startswith("IMS vs Purchase Register · ") and title.endswith("· all periods")
    at.radio(key="reco_kind").set_value("2a_vs_pr")
    at.run()
    run = next(s for s in at.selectbox if s.label == "Run")
    assert run.value == other and at.subheader[0].value.startswith("GSTR-2A vs Purchase Register")
    at.radio(key="reco_kind").set_value("2b_vs_pr")     # no GSTR-2B stored: nothing to show
    at.run()
    assert not at.exception and not [s for s in at.selectbox if s.label == "Run"]
    assert any("No reconciliation of GSTR-2B vs Purchase Register" in i.value for i in at.info)


def test_gstr2b_vs_books_starts_at_the_latest_2b_period():
    assert default_periods("2b_vs_pr", ["102025", "092025"]) == ["102025"]
    assert default_periods("ims_vs_pr", ["102025", "092025"]) == []
    assert default_periods("2b_vs_pr", []) == []
