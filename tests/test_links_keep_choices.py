"""A refresh or a shared link keeps the choices (issue 24, item 8): Reconciliation's business,
kind and periods and the ITC Summary's business and period live in the address (in words), so
F5 opens the same view; a link to a business the user is not granted says so instead of
silently dropping the filter. Streamlit's AppTest against a real DuckDB file."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core import auth
from tests.fixtures import BUSINESSES, ROOT, seed_demo

PW = "correct horse battery"
G1, G2 = BUSINESSES[0][0], BUSINESSES[1][0]


def opened(page: str, user=None, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    if user is not None:
        at.session_state["auth_user_id"] = user.user_id
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def address(at: AppTest) -> dict[str, str]:
    return {k: (v[0] if isinstance(v, list) else v)
            for k, v in ((k, at.query_params[k]) for k in at.query_params)}


def test_reconciliation_choices_survive_a_refresh(db_file):
    seed_demo()
    at = opened("reconciliation")
    at.selectbox(key="reco_business").set_value(G1)
    at.radio(key="reco_kind").set_value("2a_vs_pr")
    at.run()
    link = address(at)
    assert link["business"] == G1 and link["kind"] == "gstr-2a" and link["periods"] == "all"
    again = opened("reconciliation", **link)               # F5: a new session, same address
    assert again.selectbox(key="reco_business").value == G1
    assert again.radio(key="reco_kind").value == "2a_vs_pr"
    assert again.subheader[0].value.startswith("GSTR-2A vs Purchase Register · ")


def test_itc_summary_period_survives_a_refresh(db_file):
    seed_demo()
    at = opened("itc_summary")
    at.selectbox(key="itc_business").set_value(G2)
    at.run()
    period_box = next(s for s in at.selectbox if s.label == "Tax period")
    assert period_box.value != period_box.options[-1]
    period_box.set_value(period_box.options[-1])         # an older period than the default
    at.run()
    link = address(at)
    assert link["business"] == G2 and "-" in link["period"] and "_" not in link["period"]
    again = opened("itc_summary", **link)
    assert again.selectbox(key="itc_business").value == G2
    assert next(s for s in again.selectbox if s.label == "Tax period").value == \
        next(s for s in at.selectbox if s.label == "Tax period").value


def test_a_link_to_a_business_not_granted_says_so(db_file):
    seed_demo(n_per_business=20)
    auth.create_user("boss@example.com", PW, "admin")
    ana = auth.create_user("ana@example.com", PW, "analyst", [G1])
    at = opened("ims_invoices", user=ana, business=G2)
    assert any(G2 in w.value and "not among the businesses you may see" in w.value
               for w in at.warning), [w.value for w in at.warning]
    for page in ("reconciliation", "itc_summary"):
        at = opened(page, user=ana, business=G2)
        assert any(G2 in w.value for w in at.warning), (page, [w.value for w in at.warning])
